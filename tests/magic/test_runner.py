"""The driver of `%%e6sql` plans (`magic/runner.py`), on fake work: both routes, the blocking magic's and the
awaited cell's, run the same loop and must agree on results, errors, ticks, threads and interrupts.

No engine here: the driver only moves `Work` between a plan and a worker, so plain callables stand in for the
client. The real queries through it are `test_magic_shell.py`, `test_notebooks.py` and the browser tests.
"""
from __future__ import annotations

import _thread
import asyncio
import contextvars
import threading

import pytest

from e6magic.magic import runner
from e6magic.magic.runner import Work

BOUND = 10.0  # every wait below is bounded: a broken driver fails the test instead of hanging it


class Stopped(KeyboardInterrupt):
    """What a plan raises for an interrupt it has seen (as `display.Interrupted` does)."""


@pytest.fixture
def pool():
    workers = runner.WorkerPool()
    yield workers
    workers.shutdown()


def _blocking(plan, pool):
    return runner.drive(plan, pool)


def _awaited(plan, pool):
    return asyncio.run(runner.drive_async(plan, pool))


ROUTES = pytest.mark.parametrize("route", [_blocking, _awaited], ids=["blocking", "awaited"])


def _interrupt_blocking(plan, pool, waiting):
    """Ctrl-C / Kernel > Interrupt on a blocking cell: SIGINT's KeyboardInterrupt in the waiting thread."""
    def press():
        if waiting.wait(BOUND):
            _thread.interrupt_main()

    threading.Thread(target=press, daemon=True).start()
    return runner.drive(plan, pool)


def _interrupt_awaited(plan, pool, waiting):
    """Kernel > Interrupt on an awaited cell: ipykernel cancels the cell's task."""
    async def cell():
        task = asyncio.ensure_future(runner.drive_async(plan, pool))
        for _ in range(int(BOUND / 0.01)):
            if waiting.is_set():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        return await task

    return asyncio.run(cell())


INTERRUPTS = pytest.mark.parametrize("interrupt", [_interrupt_blocking, _interrupt_awaited],
                                     ids=["blocking", "awaited"])


class Blocker:
    """Work that blocks until it is released (its `cancel`), noting the threads things ran on."""

    def __init__(self, result=None):
        self.released = threading.Event()
        self.ended = threading.Event()
        self.result = result
        self.threads = {}

    def call(self):
        self.threads["call"] = threading.current_thread().name
        try:
            return self.result if self.released.wait(BOUND) else "never released"
        finally:
            self.ended.set()

    def cancel(self):
        self.threads["cancel"] = threading.current_thread().name
        self.released.set()


@ROUTES
def test_each_result_goes_back_into_the_plan_and_its_return_value_ends_the_run(route, pool):
    seen = []

    def plan():
        seen.append((yield Work(lambda: 2)))
        seen.append((yield Work(lambda: threading.current_thread().name)))
        return "done"

    assert route(plan(), pool) == "done"
    assert seen == [2, "e6sql-worker"]


@ROUTES
def test_a_works_error_is_thrown_into_the_plan_which_decides(route, pool):
    def fails():
        raise ValueError("no such table")

    def plan():
        try:
            yield Work(fails)
        except ValueError as exc:
            caught = str(exc)
        yield Work(fails)  # not caught this time: the run ends with it
        return caught

    with pytest.raises(ValueError, match="no such table"):
        route(plan(), pool)


@ROUTES
def test_ticks_run_on_the_plans_thread_between_waits(route, pool):
    work = Blocker()
    ticks = []

    def tick():
        ticks.append(threading.current_thread().name)
        if len(ticks) == 3:
            work.released.set()

    def plan():
        yield Work(work.call, tick=tick)
        return work.released.is_set()

    assert route(plan(), pool) is True, "the work was never released: no tick ran while it waited"
    assert ticks == [threading.current_thread().name] * 3
    assert work.threads["call"] == "e6sql-worker"


@ROUTES
def test_the_work_runs_in_a_copy_of_the_callers_context(route, pool):
    cell = contextvars.ContextVar("cell", default="none")
    cell.set("cell 7")  # ipykernel marks the cell's output this way: the worker's prints must land there

    def plan():
        return (yield Work(cell.get))

    assert route(plan(), pool) == "cell 7"


def test_the_awaited_route_leaves_the_kernels_loop_free_while_the_work_runs(pool):
    """What makes the Cancel button work: a comm message (here a coroutine) is handled while the cell waits."""
    work = Blocker("released")

    def plan():
        return (yield Work(work.call))

    async def cell():
        async def click():
            await asyncio.sleep(0)
            work.released.set()

        clicked = asyncio.ensure_future(click())
        value = await runner.drive_async(plan(), pool)
        await clicked
        return value

    assert asyncio.run(cell()) == "released"
    assert work.ended.is_set()


@INTERRUPTS
def test_an_interrupt_cancels_the_work_waits_for_it_and_ends_with_the_plans_own_interrupt(interrupt, pool,
                                                                                          monkeypatch):
    monkeypatch.setattr(runner, "WIND_DOWN", BOUND)  # the worker's wind-down, bounded but never the test's limit
    work, waiting = Blocker(), threading.Event()
    seen = []

    def plan():
        try:
            yield Work(work.call, cancel=work.cancel, tick=waiting.set)
        except KeyboardInterrupt:
            seen.append("interrupt")
            raise Stopped("cancelled after 0.1 s") from None
        seen.append("not reached")

    with pytest.raises(Stopped, match="cancelled after"):
        interrupt(plan(), pool, waiting)
    assert seen == ["interrupt"]
    assert work.ended.is_set(), "the run ended before its worker did: late output would go to the next cell"
    assert work.threads["cancel"] == "e6sql-worker", "the cancel RPC ran on the cell's thread"


@INTERRUPTS
def test_a_plan_that_goes_on_after_an_interrupt_gets_no_more_work(interrupt, pool, monkeypatch):
    monkeypatch.setattr(runner, "WIND_DOWN", BOUND)
    work, waiting = Blocker(), threading.Event()
    ran, closed = [], []

    def plan():
        try:
            yield Work(work.call, cancel=work.cancel, tick=waiting.set)
        except KeyboardInterrupt:
            pass
        try:
            yield Work(lambda: ran.append("more"))
        finally:
            closed.append(True)

    with pytest.raises(KeyboardInterrupt):
        interrupt(plan(), pool, waiting)
    assert ran == [] and closed == [True]


@INTERRUPTS
def test_a_submit_interrupted_before_it_returned_has_its_late_handle_cancelled(interrupt, pool, monkeypatch):
    monkeypatch.setattr(runner, "WIND_DOWN", BOUND)

    class Handle:
        cancelled = False

        def cancel(self):
            self.cancelled = True

    handle = Handle()
    work, waiting = Blocker(handle), threading.Event()

    def plan():
        # cancel_result: the call may return its handle after the interrupt (a submit waiting for prepare)
        yield Work(work.call, cancel=work.cancel, tick=waiting.set, cancel_result=True)

    with pytest.raises(KeyboardInterrupt):
        interrupt(plan(), pool, waiting)
    assert handle.cancelled


@ROUTES
def test_an_interrupt_in_the_plans_own_code_ends_the_run_there(route, pool):
    def plan():
        yield Work(lambda: None)
        raise Stopped("stopped while showing")

    with pytest.raises(Stopped, match="while showing"):
        route(plan(), pool)
