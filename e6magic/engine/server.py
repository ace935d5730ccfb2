"""LocalEngine: the gRPC server over an in-memory DuckDB, started in-process or by the CLI."""
from __future__ import annotations

import ipaddress
import pathlib
import threading
from concurrent.futures import ThreadPoolExecutor

import duckdb
import grpc

from e6magic._proto import cluster_pb2_grpc, e6x_engine_pb2_grpc
from e6magic.engine import catalog, functions
from e6magic.engine.allocator import give_back_freed_memory, open_duckdb
from e6magic.engine.cluster import ClusterService
from e6magic.engine.queries import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_RESULT_IDLE_SECONDS,
    DEFAULT_SESSION_IDLE_SECONDS,
    MAX_SQL_BYTES,
    QueryRegistry,
)
from e6magic.engine.service import QueryEngineService
from e6magic.engine.sessions import Gatekeeper
from e6magic.secret import Secret, masked

_SERVER_OPTIONS = [
    # room for a too-long query to arrive, so it gets our clear error instead of a transport one
    ("grpc.max_receive_message_length", 4 * MAX_SQL_BYTES),
    ("grpc.max_send_message_length", -1),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10000),
    # the port is ours alone: with SO_REUSEPORT a second engine on it took 40 % of new connections
    ("grpc.so_reuseport", 0),
]
_GIVE_BACK_BYTES = 16 << 20  # freed result memory worth handing back to the system (malloc_trim: about 1 ms)


class LocalEngine:
    """A local e6data engine on `host:port` (loopback by default) that requires a token.

    Nothing is kept forever: a session with no call for `session_idle` seconds expires and its queries are
    dropped (a running one cancelled); a query nobody asked for in `result_idle` seconds is dropped; all held
    results together stay under `max_result_memory` bytes (default: a quarter of the machine's memory), and a
    query whose result would pass it fails with RESOURCE_EXHAUSTED.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | Secret | None = None,
                 data_dir: str | pathlib.Path | None = None, demo: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 bluegreen_interval: float | None = None, workers: int = 8, allow_host_files: bool = False,
                 session_idle: float = DEFAULT_SESSION_IDLE_SECONDS, result_idle: float = DEFAULT_RESULT_IDLE_SECONDS,
                 max_result_memory: int | None = None, tls_cert: str | pathlib.Path | None = None,
                 tls_key: str | pathlib.Path | None = None, insecure_bind: bool = False) -> None:
        token = masked(token)  # first: no frame of a failing start shows the text (`%xmode Verbose`)
        for name, value in (("session_idle", session_idle), ("result_idle", result_idle)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if max_result_memory is not None and max_result_memory < 1:
            raise ValueError(f"max_result_memory must be a positive number of bytes, not {max_result_memory!r}")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("TLS needs both a certificate and its private key (tls_cert and tls_key)")
        if tls_cert is None and not insecure_bind and not is_loopback(host):
            raise ValueError(f"refusing to serve {host} without TLS: the token and every result would cross the "
                             "network in plain text; give a certificate (--tls-cert/--tls-key), or say "
                             "--insecure-bind (insecure_bind=True) on a network you trust")
        self._tls = None
        if tls_cert is not None and tls_key is not None:  # both or neither, checked above
            self._tls = (pathlib.Path(tls_key).read_bytes(), pathlib.Path(tls_cert).read_bytes())
        self.host = host
        self._requested_port = port
        self._gate = Gatekeeper(token)
        self._data_dir = pathlib.Path(data_dir) if data_dir else None
        self._demo = demo
        self._chunk_rows = chunk_rows
        self._workers = workers
        self._bluegreen_interval = bluegreen_interval
        self._allow_host_files = allow_host_files
        self._session_idle = session_idle
        self._result_idle = result_idle
        self._max_result_memory = max_result_memory
        self._stopping = threading.Event()
        self._server: grpc.Server | None = None
        self._db: duckdb.DuckDBPyConnection | None = None
        self._registry: QueryRegistry | None = None
        self.port = 0
        self.tables: list[str] = []

    def __repr__(self) -> str:  # the token stays out of reprs; a half-built engine (a failed start's frame) too
        gate = getattr(self, "_gate", None)
        address = f"{getattr(self, 'host', '?')}:{getattr(self, 'port', 0)}"
        return f"LocalEngine(address={address!r}, serving={gate.serving if gate else None!r})"

    @property
    def secure(self) -> bool:
        """Whether the engine serves TLS (clients connect with secure=True)."""
        return self._tls is not None

    @property
    def token(self) -> Secret:
        """The token clients send as password, masked: `e6magic.connect(password=engine.token)` takes it as it
        is; `engine.token.reveal()` is its text (for another client, or to show it once)."""
        return self._gate.token

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LocalEngine:
        self._db = open_duckdb()  # without ICU (not bundled), TIMESTAMPTZ is UTC
        if self._demo:
            catalog.build_demo(self._db)
        if self._data_dir is not None:
            self.tables = catalog.attach_data_dir(self._db, self._data_dir)
        functions.install(self._db)  # e6data's TIMESTAMP_ADD, DATE_FORMAT, ... in every catalog
        # without the demo catalog, a query that names no catalog runs in DuckDB's own (empty) "memory" one
        default_catalog = catalog.DEMO_CATALOG if self._demo else "memory"
        self._registry = QueryRegistry(self._db, chunk_rows=self._chunk_rows, workers=self._workers,
                                       default_catalog=default_catalog, max_result_memory=self._max_result_memory)
        if not self._allow_host_files:  # after the catalogs and the registry's cursors are set up
            catalog.lock_host_access(self._db, self._data_dir)
        server = grpc.server(ThreadPoolExecutor(max_workers=4 * self._workers + 8, thread_name_prefix="e6-rpc"),
                             options=_SERVER_OPTIONS)
        e6x_engine_pb2_grpc.add_QueryEngineServiceServicer_to_server(
            QueryEngineService(self._db, self._gate, self._registry), server)
        cluster_pb2_grpc.add_ClusterServiceServicer_to_server(ClusterService(self._gate), server)
        address = f"{self.host}:{self._requested_port}"
        try:
            if self._tls is not None:
                self.port = server.add_secure_port(address, grpc.ssl_server_credentials([self._tls]))
            else:
                self.port = server.add_insecure_port(address)
        except RuntimeError:
            self.port = 0
        if self.port == 0:
            self._registry.close()
            raise OSError(f"cannot listen on {address}: the port is in use (another engine?) or the address is "
                          "not this machine's")
        server.start()
        self._server = server
        # Stop serving before concurrent.futures refuses new work at interpreter exit: otherwise a client's
        # last clear/cancel call crashes gRPC's serving thread instead of failing fast as "unavailable".
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(self.stop, 0.2)
        threading.Thread(target=self._sweep_on_timer, name="e6-sweeper", daemon=True).start()
        if self._bluegreen_interval:
            threading.Thread(target=self._flip_on_timer, name="e6-bluegreen", daemon=True).start()
        return self

    def stop(self, grace: float = 1.0) -> None:
        """Stop serving and free DuckDB; safe to call more than once."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
        if self._registry is not None:
            self._registry.close()
        self._gate.close()
        if self._db is not None:
            try:
                self._db.close()
            except duckdb.Error:
                pass  # a cursor still winding down (e.g. at interpreter exit): DuckDB frees it with the object
            self._db = None

    def wait(self) -> None:
        """Block until stop() is called (the CLI's main thread waits here)."""
        self._stopping.wait()

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sweep_on_timer(self) -> None:
        every = min(max(min(self._session_idle, self._result_idle) / 4, 0.05), 10.0)
        while not self._stopping.wait(every):
            self.sweep()

    def sweep(self) -> None:
        """Expire idle sessions (dropping their queries) and drop idle queries; runs on a timer."""
        registry = self._registry
        if registry is None:
            return
        for session_id in self._gate.pop_idle(self._session_idle):
            registry.drop_session(session_id)
        registry.drop_idle(self._result_idle)
        if registry.memory.take_freed(_GIVE_BACK_BYTES):
            give_back_freed_memory()

    def _flip_on_timer(self) -> None:
        while not self._stopping.wait(self._bluegreen_interval):
            self._gate.flip()

    # --- what tests and the magic may look at and steer -------------------------------------------
    def queries(self) -> dict[str, str]:
        """Query id -> state, for every query not yet cleared."""
        return self._registry.states() if self._registry else {}

    def query_state(self, query_id: str) -> str | None:
        """The state of a query, or the last state of a recently cleared one."""
        return self._registry.state_of(query_id) if self._registry else None

    @property
    def serving_strategy(self) -> str:
        return self._gate.serving

    def flip_strategy(self) -> str:
        return self._gate.flip()

    def set_strategy(self, colour: str) -> None:
        self._gate.set_strategy(colour)

    def suspend(self) -> None:
        self._gate.suspend()

    def resume(self) -> None:
        self._gate.resume()

    @property
    def cluster_status(self) -> str:
        return self._gate.cluster_status

    def expire_sessions(self) -> None:
        """Expire every session now, as if each had been idle too long (their queries are dropped)."""
        for session_id in self._gate.expire_sessions():
            if self._registry is not None:
                self._registry.drop_session(session_id)

    @property
    def session_count(self) -> int:
        return self._gate.session_count

    @property
    def result_memory(self) -> int:
        """Bytes held by results not yet fetched, dropped or cleared."""
        return self._registry.memory.held if self._registry else 0


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
