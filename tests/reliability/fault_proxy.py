"""A TCP proxy on 127.0.0.1 that puts faults between client and engine: resets, stalls, blackholes, slow bytes."""
from __future__ import annotations

import select
import socket
import struct
import threading
import time
from types import TracebackType

PASS, STALL, BLACKHOLE, SLOW, REFUSE = "pass", "stall", "blackhole", "slow", "refuse"
_TICK = 0.02  # how often an idle pump looks at the mode; every loop here ends when the proxy stops


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `target`; `mode` decides what happens to the bytes.

    - pass: forwarded as they come;
    - stall: nothing is read on either side (the bytes wait in the kernel's buffers and go on, intact,
      when the mode is back to pass): an engine that hangs mid-call;
    - blackhole: everything is read and dropped, new connections are accepted and never answered;
    - slow: forwarded `slow_bytes` at a time with `slow_delay` seconds between pieces;
    - refuse: new connections are reset at once.
    `reset()` tears every open connection down with a TCP RST (both sides see a reset, mid-call).
    """

    def __init__(self, target: tuple[str, int], *, slow_bytes: int = 64, slow_delay: float = 0.01) -> None:
        self.target = target
        self.mode = PASS
        self.slow_bytes, self.slow_delay = slow_bytes, slow_delay
        self.connections = 0  # accepted so far
        self.bytes_forwarded = 0  # both ways, so a test can land a fault mid-transfer
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_TICK * 5)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept, "fault-proxy-accept")

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def connect(self, engine, **options):
        """A client connection to `engine` through this proxy (the demo catalog, as the client tests use)."""
        from e6magic.client import connect

        options.setdefault("catalog", "demo")
        options.setdefault("database", "main")
        return connect(host=self.host, port=self.port, username="tester", password=engine.token, **options)

    def set(self, mode: str) -> None:
        if mode not in (PASS, STALL, BLACKHOLE, SLOW, REFUSE):
            raise ValueError(f"unknown fault mode {mode!r}")
        self.mode = mode
        time.sleep(2 * _TICK)  # every pump has looked at the new mode before the caller goes on

    def reset(self) -> int:
        """Reset every open connection (RST to both ends); returns how many were torn down."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _hard_close(sock)
        return len(pairs)

    def reset_after(self, more_bytes: int, timeout: float = 30.0, times: int = 1) -> threading.Thread:
        """Reset every connection each time `more_bytes` more have gone through, `times` times (in a thread;
        bounded by `timeout`)."""

        def wait_then_reset() -> None:
            give_up = time.monotonic() + timeout
            for _ in range(times):
                start = self.bytes_forwarded
                while self.bytes_forwarded - start < more_bytes and time.monotonic() < give_up:
                    time.sleep(0.002)
                if time.monotonic() >= give_up:
                    return
                self.reset()

        thread = threading.Thread(target=wait_then_reset, name="fault-proxy-reset-after", daemon=True)
        thread.start()
        return thread

    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self.reset()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- the threads ---------------------------------------------------------------------------------------
    def _spawn(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.mode == REFUSE:
                _hard_close(client)
                continue
            if self.mode == BLACKHOLE:
                self._spawn(self._swallow, "fault-proxy-blackhole", client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _hard_close(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            self._spawn(self._pump, "fault-proxy-up", client, upstream)
            self._spawn(self._pump, "fault-proxy-down", upstream, client)

    def _swallow(self, sock: socket.socket) -> None:
        """A new connection while blackholed: read and drop until the proxy closes or the mode changes."""
        try:
            while not self._closed.is_set() and self.mode == BLACKHOLE:
                readable, _, _ = select.select([sock], [], [], _TICK)
                if readable and not sock.recv(65536):
                    return
        except (OSError, ValueError):
            return
        finally:
            _hard_close(sock)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                if self.mode == STALL:
                    time.sleep(_TICK)
                    continue
                readable, _, _ = select.select([source], [], [], _TICK)
                if not readable or self.mode == STALL:  # stalled while it waited: leave the bytes unread
                    continue
                data = source.recv(65536)
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                if self.mode == BLACKHOLE:
                    continue
                self.bytes_forwarded += len(data)
                if self.mode == SLOW:
                    for start in range(0, len(data), self.slow_bytes):
                        sink.sendall(data[start:start + self.slow_bytes])
                        time.sleep(self.slow_delay)
                else:
                    sink.sendall(data)
        except (OSError, ValueError):
            pass  # the other side went away, or reset() closed it under us (select then sees fd -1)
        finally:
            self._drop(source, sink)

    def _drop(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if a not in p]
        _hard_close(a)
        _hard_close(b)


def _hard_close(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
