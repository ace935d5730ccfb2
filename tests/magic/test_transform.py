"""The awaited-cell rewrite happens only in ipykernel's loop; elsewhere the blocking magic runs."""
from __future__ import annotations

import asyncio

from e6magic.magic import transform


def test_outside_a_kernel_the_cell_stays_a_blocking_magic(bare_ip):
    code = bare_ip.transform_cell("%%e6sql df <<\nSELECT 1\n")
    assert code.startswith("get_ipython().run_cell_magic('e6sql', 'df <<', 'SELECT 1\\n')")


def test_console_still_waits_for_the_cell_body(bare_ip):
    assert bare_ip.check_complete("%%e6sql\n")[0] == "incomplete"


def test_other_cells_are_untouched(bare_ip):
    assert transform.rewrite(["x = 1\n"]) == ["x = 1\n"]
    assert transform.rewrite(["%%e6sqlx\n", "SELECT 1\n"]) == ["%%e6sqlx\n", "SELECT 1\n"]


def test_can_await_needs_a_running_loop_a_kernel_autoawait_and_top_level(bare_ip):
    class KernelShell:  # the three attributes can_await reads from ipykernel's shell
        autoawait = True
        kernel = object()

    async def inside_loop(shell):
        return transform.can_await(shell)

    assert transform.can_await(KernelShell()) is False  # no running loop: terminal / run_cell
    assert asyncio.run(inside_loop(KernelShell())) is True
    assert asyncio.run(inside_loop(bare_ip)) is False  # a plain shell has no kernel
    transform.enter_cell()
    try:
        assert asyncio.run(inside_loop(KernelShell())) is False  # nested: %%time's body
    finally:
        transform.leave_cell()


def test_depth_counter_never_goes_below_zero():
    transform.leave_cell()
    transform.leave_cell()
    transform.enter_cell()
    assert transform._depth.n == 1
    transform.leave_cell()
    assert transform._depth.n == 0
