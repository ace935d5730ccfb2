"""QueryStatus: a live status line (query id, state, elapsed, rows) with a Cancel button."""
from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import traitlets as t

from e6magic.states import FINAL_STATES, QueryState
from e6magic.widgets._base import STATIC, E6Widget, esc

CONFIRM_WAIT = 120.0  # how long the line waits for a late confirmation of a cancel (the client's own bound)
_STATE_WORDS: dict[str, str] = {QueryState.PREPARED: QueryState.RUNNING, QueryState.RUNNING: QueryState.RUNNING,
                               QueryState.FETCHING: QueryState.RUNNING, QueryState.FINISHED: QueryState.FINISHED,
                               QueryState.CANCELLED: QueryState.CANCELLED, QueryState.FAILED: QueryState.FAILED}


class QueryHandle(Protocol):
    """What QueryStatus reads from the client's query handle (``cur.submit(...)``)."""

    query_id: str
    state: str
    rows_fetched: int
    elapsed: float

    def cancel(self) -> None: ...


def cancel_support() -> tuple[bool, str]:
    """Whether a Cancel click can reach this kernel while a cell runs, and a hint when not.

    ipykernel 7.4 dispatches widget messages while an async cell awaits (the ``%%e6sql``
    rewrite); 7.0-7.3 only through JupyterLab's comm subshells; 6.x never.
    """
    try:
        import ipykernel
    except ImportError:
        return True, ""
    version = str(getattr(ipykernel, "__version__", ""))  # not in ipykernel's declared exports
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return True, ""
    if (major, minor) >= (7, 4):
        return True, ""
    stop = "use the kernel's stop button (Interrupt), which always cancels the query"
    if major == 7:
        return True, (f"Cancel needs JupyterLab comm subshells on ipykernel {version}; if it does not respond, "
                      f"{stop}.")
    return False, f"Cancel cannot reach a busy ipykernel {version} (< 7.4); {stop}."


class QueryStatus(E6Widget):
    """Query id, a state word (running, finished, cancelled, failed), live elapsed time and
    rows fetched so far, with a Cancel button that calls ``handle.cancel()``.

    Parameters
    ----------
    handle
        The client's query handle. ``refresh()`` pulls its state; the magic calls it while it
        waits. The Cancel handler is thread-safe: on ipykernel 7.0-7.3 it may run on a
        subshell thread while the main thread is busy.
    cancel_reachable
        Whether a click can reach the kernel while the cell runs; ``None`` decides from the
        ipykernel version. ``False`` shows a hint pointing at the stop button.
    """

    _esm = STATIC / "status.js"

    query_id = t.Unicode("").tag(sync=True)
    state = t.Unicode("running").tag(sync=True)
    detail = t.Unicode("").tag(sync=True)  # the handle's own word, e.g. "fetching"
    elapsed = t.Float(0.0).tag(sync=True)
    rows = t.Int(0).tag(sync=True)
    message = t.Unicode("").tag(sync=True)  # one line: why it failed or who cancelled
    cancel_enabled = t.Bool(True).tag(sync=True)
    cancel_hint = t.Unicode("").tag(sync=True)

    def __init__(self, handle: QueryHandle, *, cancel_reachable: bool | None = None, **kwargs: Any) -> None:
        reachable, hint = cancel_support()
        if cancel_reachable is not None:
            reachable = cancel_reachable
            hint = "" if reachable else hint or ("Cancel cannot reach the kernel while this cell runs; use the stop "
                                                 "button (Interrupt).")
        super().__init__(query_id=str(handle.query_id), cancel_enabled=reachable, cancel_hint=hint, **kwargs)
        self._handle = handle
        self._canceller: threading.Thread | None = None
        self._lock = threading.Lock()
        self.cancel_requested = False
        self.refresh()

    @property
    def handle(self) -> QueryHandle:
        return self._handle

    def refresh(self) -> None:
        """Pull state, rows and elapsed time from the handle; a final state never goes back."""
        handle = self._handle
        detail = str(handle.state)
        with self._lock:
            if self.state in FINAL_STATES:
                return
            with self.hold_sync():
                self.detail = detail
                self.rows = int(handle.rows_fetched)
                self.elapsed = round(float(handle.elapsed), 3)
                word = _STATE_WORDS.get(detail, QueryState.RUNNING)
                if word in FINAL_STATES:
                    self._set_final(word)

    def finish(self, state: str | None = None, message: str = "") -> None:
        """Set the final state (from the handle when not given) and refresh the fallback."""
        handle = self._handle
        with self._lock:
            if self.state not in FINAL_STATES:
                with self.hold_sync():
                    self.rows = int(handle.rows_fetched)
                    self.elapsed = round(float(handle.elapsed), 3)
                    self.detail = str(handle.state)
                    word = state or _STATE_WORDS.get(self.detail, QueryState.FINISHED)
                    if self.cancel_requested and word == QueryState.FAILED:
                        word = QueryState.CANCELLED
                    self._set_final(word)
            if message and not self.message:
                self.message = message.splitlines()[0][:300]
        self._refresh_fallback()

    def cancel(self) -> None:
        """Cancel the query on the engine and show ``cancelled`` at once (idempotent).

        The state word flips and the cancel RPC goes to a worker thread: the click handler runs on the
        kernel's event loop, which must not wait on an engine that is slow to answer. If the engine does not
        confirm, the line says "cancel not confirmed" until it does (the client keeps asking)."""
        with self._lock:
            if self.state in FINAL_STATES:
                return
            self.cancel_requested = True
            with self.hold_sync():
                self.elapsed = round(float(self._handle.elapsed), 3)
                self.message = "cancelled from the Cancel button"
                self._set_final(QueryState.CANCELLED)
        self._canceller = threading.Thread(target=self._send_cancel, name="e6-status-cancel", daemon=True)
        self._canceller.start()

    def _send_cancel(self) -> None:
        handle = self._handle
        try:
            handle.cancel()
        except Exception as exc:  # noqa: BLE001 - shown in the status line; the stop button still works
            with self._lock, self.hold_sync():
                self.cancel_requested = False
                self.state = QueryState.RUNNING
                self.message = f"cancel failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"[:300]
            self.send({"kind": "cancel_ack", "ok": False, "at": time.time()})  # the view lets the user click again
            return
        if getattr(handle, "cancel_confirmed", True) is not False:
            return
        with self._lock, self.hold_sync():
            self.detail = "cancel not confirmed"
            self.message = str(getattr(handle, "error", "") or "cancel not confirmed").splitlines()[0][:300]
        self._refresh_fallback()
        if handle.wait_cancel_confirmed(CONFIRM_WAIT):  # type: ignore[attr-defined]
            with self._lock, self.hold_sync():
                self.detail = QueryState.CANCELLED
                self.message = "cancelled from the Cancel button (the engine confirmed late)"
            self._refresh_fallback()

    def show(self) -> None:
        """Display the live line alone: its final form replaces it (``conclude``), so it needs no twin."""
        from IPython.display import display

        self._display_handle = display(self, display_id=True)  # type: ignore[no-untyped-call]

    def conclude(self, final: Any) -> None:
        """Replace the live line with ``final`` (a static, kernel-free output) and close the widget.

        The Cancel button goes with it, and a saved notebook keeps only the final line.
        """
        if self._display_handle is not None:
            self._display_handle.update(final)
        self.close()

    def _set_final(self, word: str) -> None:
        self.state = word  # the view disables Cancel once the state is final

    def _msg_cancel(self, _content: dict[str, Any]) -> None:
        # the ack tells the view the click reached the kernel, even if the state had already changed; a cancel
        # that cannot be sent answers with a second ack, ok False, from the worker
        self.send({"kind": "cancel_ack", "ok": True, "at": time.time()})
        self.cancel()

    def fallback_text(self) -> str:
        parts = [f"query {self.query_id}", self.state, f"{self.elapsed:.1f} s", f"{self.rows:,} rows"]
        line = " · ".join(parts)
        return f"{line} · {self.message}" if self.message else line

    def fallback_html(self) -> str:
        return (f'<div class="e6-status e6-state-{esc(self.state)}"><code>{esc(self.fallback_text())}</code></div>')
