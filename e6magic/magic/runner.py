"""Run blocking work on a worker thread while the cell waits in 100 ms slices; an interrupt cancels it.

A query is written once as a generator (a `Plan`) that yields `Work` (a blocking call plus how to cancel it).
One driver loop, `run`, runs every plan. Only its waits differ by route: `Blocking` for a plain magic
(Ctrl-C / Kernel > Interrupt arrives as ``KeyboardInterrupt``; `drive`), `Awaited` for the rewritten top-level
cell (widget clicks are handled while it awaits, and Interrupt arrives as ``asyncio.CancelledError``;
`drive_async`). The plan's own code runs on the calling thread (the kernel's main thread); only `Work.call`
and `Work.cancel` run on a worker.
"""
from __future__ import annotations

import concurrent.futures
import contextvars
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    import asyncio

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


class Blocking:
    """The plain magic's waits: this thread blocks, and Ctrl-C / Kernel > Interrupt arrives as KeyboardInterrupt."""

    interrupts: tuple[type[BaseException], ...] = (KeyboardInterrupt,)

    async def wait(self, future: concurrent.futures.Future[Any], timeout: float) -> None:
        try:  # never suspends: see `drive`
            future.exception(timeout=timeout)  # a condition wait, as `result` does, that raises no work error
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            pass


class Awaited:
    """The rewritten cell's waits: the kernel's loop runs meanwhile, so comm messages (a Cancel click) are handled,
    and Kernel > Interrupt arrives as asyncio.CancelledError."""

    def __init__(self) -> None:
        import asyncio  # here, not at load: a kernel has it already, a terminal IPython never awaits a cell (~80 ms)

        self._asyncio = asyncio
        self.interrupts: tuple[type[BaseException], ...] = (KeyboardInterrupt, asyncio.CancelledError)
        self._watched: tuple[concurrent.futures.Future[Any], asyncio.Future[Any]] | None = None

    async def wait(self, future: concurrent.futures.Future[Any], timeout: float) -> None:
        if self._watched is None or self._watched[0] is not future:
            self._watched = future, self._asyncio.wrap_future(future)  # one loop-side twin per future, not per tick
        await self._asyncio.wait([self._watched[1]], timeout=timeout)


Waiter = Blocking | Awaited


async def run(plan: Plan[T], pool: WorkerPool, waiter: Waiter) -> T:
    """The one driver loop: send each `Work`'s result (or throw its error) back into ``plan``, its call run on a
    worker while this thread waits in `TICK` slices, calling ``work.tick`` between them.

    An interrupt (either kind) cancels the work, waits a bounded time for the worker, and throws
    ``KeyboardInterrupt`` into the plan once, so it can mark its widgets and word the interrupt; then the run
    ends with the plan's ``KeyboardInterrupt`` (a subclass such as ``display.Interrupted``) or a plain one.
    """
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            work = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]  # a generator's return value is untyped here
        value, error = None, None
        future = _submit(pool, work.call)
        try:
            value = await _result(waiter, future, work.tick)
        except waiter.interrupts:
            await _abandon(pool, waiter, work, future)
            _end_interrupted(plan)
        except Exception as exc:  # noqa: BLE001 - handed to the plan, which decides
            error = exc


def drive(plan: Plan[T], pool: WorkerPool) -> T:
    """Run ``plan`` in this thread, blocking; Ctrl-C / Interrupt cancels its work and ends it.

    `run` is a coroutine, but with `Blocking` waits it never suspends, so one `send` runs it to its end.
    """
    coroutine = run(plan, pool, Blocking())
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]  # the coroutine's own value, `T`
    coroutine.close()
    raise RuntimeError("a blocking e6sql run suspended")  # pragma: no cover - Blocking waits never suspend


async def drive_async(plan: Plan[T], pool: WorkerPool) -> T:
    """Await ``plan`` in the kernel's loop; Interrupt (CancelledError) cancels its work and ends it.

    Ends as ``KeyboardInterrupt``, as a sync cell's interrupt does (two frames, queued cells aborted). Only for
    the top-level rewritten cell: a general async API must not turn a cancellation into KeyboardInterrupt.
    """
    return await run(plan, pool, Awaited())


def _submit(pool: WorkerPool, call: Callable[[], T]) -> concurrent.futures.Future[T]:
    """``call`` on a worker, in a copy of this context (so its output lands in the cell that started it)."""
    return pool.submit(contextvars.copy_context().run, call)


async def _result(waiter: Waiter, future: concurrent.futures.Future[Any], tick: Callable[[], None] | None) -> Any:
    while not future.done():
        await waiter.wait(future, TICK)
        if tick is not None and not future.done():
            tick()
    return future.result()


async def _abandon(pool: WorkerPool, waiter: Waiter, work: Work, future: concurrent.futures.Future[Any]) -> None:
    """Cancel interrupted work; wait (bounded) for its worker, so late output stays in the cell."""
    if work.cancel is not None:
        # the cancel RPC goes to a worker: in the awaited route this is the kernel's loop, which must stay free
        await waiter.wait(_submit(pool, work.cancel), WIND_DOWN)
    await waiter.wait(future, WIND_DOWN)
    if work.cancel_result and future.done() and not future.cancelled() and future.exception() is None:
        late = future.result()  # the call returned after all (a submit that was still waiting for prepare)
        if hasattr(late, "cancel"):
            late.cancel()


def _end_interrupted(plan: Plan[Any]) -> NoReturn:
    """Throw the interrupt into ``plan`` once, then end with the interrupt it raised (or a plain one)."""
    try:
        plan.throw(KeyboardInterrupt())
    except KeyboardInterrupt as stopped:
        raise stopped.with_traceback(None) from None
    except StopIteration:
        pass  # the plan caught it and ended: the run still ends interrupted
    else:
        plan.close()  # the plan caught it and went on: it gets no more work
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
