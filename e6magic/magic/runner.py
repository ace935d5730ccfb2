"""Run blocking work on a worker thread while the cell waits in 100 ms slices; an interrupt cancels it.

A query is written once as a generator that yields `Work` (a blocking call plus how to cancel it)
and is driven either synchronously (a plain magic: Ctrl-C / Kernel > Interrupt arrives as
``KeyboardInterrupt``) or as a coroutine (the rewritten top-level cell: widget clicks are handled
while it awaits, and Interrupt arrives as ``asyncio.CancelledError``).
"""
from __future__ import annotations

import concurrent.futures
import contextvars
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

TICK = 0.1  # the wake-up: without it an awaiting cell acts on Interrupt only when the query ends
WIND_DOWN = 2.0  # how long an interrupted cell waits for its worker, so late output stays in the cell



class WorkerPool(concurrent.futures.Executor):
    """A thread pool whose workers are daemon threads, kept alive between calls; one per kernel session, so
    one shell's shutdown ends only its own workers.

    Not a ThreadPoolExecutor: Python joins those workers at exit *before* atexit hooks run,
    so a kernel shutting down mid-query would hang on the fetch and never reach the hook
    that cancels the query on the engine.
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # workers that finished a task and will take the next one
        self._started = 0
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the e6sql worker pool is shut down")
            self._tasks.put((future, fn, args, kwargs))
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1
            else:
                self._started += 1
        if not reuse:
            threading.Thread(target=self._work, name="e6sql-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = False) -> None:
        """Workers end once the tasks already queued are done; nothing new is taken. Never waits."""
        with self._lock:
            self._closed, started = True, self._started
        for _ in range(started):
            self._tasks.put(None)

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, fn, args, kwargs = task
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del task, future, fn, args, kwargs  # drop references (a result table) before waiting again
            with self._lock:
                self._idle += 1


@dataclass
class Work:
    """A blocking call for the worker; ``cancel`` stops it from another thread.

    ``cancel_result`` cancels what the call returned, for a call interrupted before it returned
    its handle (a submit that was still waiting for prepare).
    """

    call: Callable[[], Any]
    cancel: Callable[[], None] | None = None
    tick: Callable[[], None] | None = None
    cancel_result: bool = False


Plan = Generator[Work, Any, T]


def _submit(pool: WorkerPool, work: Work) -> concurrent.futures.Future[Any]:
    return pool.submit(contextvars.copy_context().run, work.call)


def _abandon(work: Work, future: concurrent.futures.Future[Any]) -> None:
    if work.cancel is not None:
        work.cancel()
    concurrent.futures.wait([future], timeout=WIND_DOWN)
    _cancel_late_result(work, future)


def _cancel_late_result(work: Work, future: Any) -> None:
    if work.cancel_result and future.done() and not future.cancelled() and future.exception() is None:
        late = future.result()
        if hasattr(late, "cancel"):
            late.cancel()


def drive(plan: Plan[T], pool: WorkerPool) -> T:
    """Run ``plan`` in this thread, its work on a worker; Ctrl-C cancels the work and re-raises."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            work = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        future = _submit(pool, work)
        try:
            while True:
                try:
                    value = future.result(timeout=TICK)
                    break
                except concurrent.futures.TimeoutError:
                    if work.tick is not None:
                        work.tick()
        except KeyboardInterrupt:
            _abandon(work, future)
            error = KeyboardInterrupt()
        except Exception as exc:  # noqa: BLE001 - handed to the plan, which decides
            error = exc


async def drive_async(plan: Plan[T], pool: WorkerPool) -> T:
    """Await ``plan`` in the kernel's loop; Interrupt (CancelledError) cancels the work.

    Re-raised as ``KeyboardInterrupt`` so the cell ends as a sync cell's interrupt does (two
    frames, queued cells aborted). Only for the top-level rewritten cell: a general async API
    must not turn a cancellation into KeyboardInterrupt.
    """
    import asyncio  # here, not at load: a kernel has it already, a terminal IPython never awaits a cell (~80 ms)

    loop = asyncio.get_running_loop()
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            work = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        future = loop.run_in_executor(pool, contextvars.copy_context().run, work.call)
        try:
            while not future.done():
                await asyncio.wait([future], timeout=TICK)
                if work.tick is not None and not future.done():
                    work.tick()
            value = future.result()
        except (KeyboardInterrupt, asyncio.CancelledError):
            if work.cancel is not None:
                # the cancel RPC goes to a worker: this is the kernel's event loop, which must stay free
                await asyncio.wait([loop.run_in_executor(pool, work.cancel)], timeout=WIND_DOWN)
            await asyncio.wait([future], timeout=WIND_DOWN)
            _cancel_late_result(work, future)
            error = KeyboardInterrupt()
        except Exception as exc:  # noqa: BLE001
            error = exc
        if isinstance(error, KeyboardInterrupt):
            # the plan gets one chance to mark its widgets and word the interrupt; then the cell ends
            try:
                plan.throw(error)
            except KeyboardInterrupt as stopped:
                raise stopped.with_traceback(None) from None
            raise KeyboardInterrupt() from None


def run_in_background(pool: WorkerPool, call: Callable[[], T],
                      done: Callable[[concurrent.futures.Future[T]], None]) -> concurrent.futures.Future[T]:
    """Start ``call`` on a worker and return at once; ``done`` runs on the worker when it ends."""
    future = pool.submit(contextvars.copy_context().run, call)
    future.add_done_callback(done)
    return future


def in_background(pool: WorkerPool, call: Callable[[], Any]) -> None:
    """Fire and forget on the worker pool (clean-up work nobody waits for)."""
    pool.submit(call)
