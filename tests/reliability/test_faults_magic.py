"""%%e6sql under network faults (a proxy on 127.0.0.1): a one-line error naming the engine, no re-run, nothing left."""
from __future__ import annotations

import pathlib
import sys
import threading
import time

import pytest

from e6magic.client.exceptions import DeadlineExceeded, EngineUnreachable
from e6magic.magic.connections import ENV_KEYS
from tests.client.conftest import settle
from tests.reliability.fault_proxy import PASS, STALL, FaultProxy
from tests.reliability.test_faults import engine, tagged  # noqa: F401 - the counting engine fixture

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "magic"))
import magic_shell


@pytest.fixture
def proxy(engine):  # noqa: F811
    with FaultProxy((engine.host, engine.port)) as running:
        yield running
    assert settle(engine, 15) == {}, "a fault left a query on the engine"


@pytest.fixture
def ip(proxy, engine, monkeypatch, tmp_path):  # noqa: F811
    """A shell whose %%e6sql reaches the engine through the proxy."""
    for var in ENV_KEYS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "no-profiles.toml"))
    for key, value in {"E6DATA_HOST": proxy.host, "E6DATA_PORT": str(proxy.port), "E6DATA_USERNAME": "tester",
                       "E6DATA_PASSWORD": engine.token.reveal(), "E6DATA_CATALOG": "demo",
                       "E6DATA_DATABASE": "main"}.items():
        monkeypatch.setenv(key, value)
    shell = magic_shell.TestingShell.instance()
    shell.config.pop("E6Magic", None)
    shell.user_ns.clear()
    shell.init_user_ns()
    shell.run_cell("%load_ext e6magic")
    shell.run_cell("%config E6Magic.widgets = False")
    yield shell
    shell.run_cell("%unload_ext e6magic")


def test_a_reset_mid_fetch_fails_the_cell_in_one_line(ip, engine, proxy):  # noqa: F811
    """A reset between two batch calls is only a new link (nothing lost); one during a call fails the cell:
    either way the variable holds the whole result or nothing."""
    sql = tagged("SELECT i, i * 2 AS j FROM range(3000000) t(i)")
    ip.run_cell("%%e6sql\nSELECT 1 AS warm")  # signed in: the resets land in the big query's fetch
    resetter = proxy.reset_after(2_000_000, timeout=5, times=4)  # a few batches in, and again
    try:
        ip.run_cell(f"df = %e6sql {sql}")
    except EngineUnreachable as caught:
        text = str(caught)
        assert "\n" not in text and f"127.0.0.1:{proxy.port}" in text
        assert "df" not in ip.user_ns, "a partial result was assigned"
    else:
        df = ip.user_ns["df"]
        assert len(df) == 3_000_000 and df["j"].sum() == 2 * sum(range(3_000_000))
    resetter.join()
    assert engine.prepares[sql] == 1


def test_a_stalled_engine_fails_the_cell_at_the_timeout(ip, engine, proxy):  # noqa: F811
    sql = tagged("SELECT count(*) FROM range(3000000000) t(i) WHERE i % 7 = 3")
    ip.run_cell("%%e6sql\nSELECT 1 AS warm")
    ip.run_cell("%config E6Magic.timeout = 2")
    staller = threading.Timer(0.5, proxy.set, args=(STALL,))
    staller.start()
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded) as caught:
            ip.run_cell(f"%%e6sql\n{sql}")
        took = time.monotonic() - started
    finally:
        staller.join()
        proxy.set(PASS)
    assert took < 2 + 3, f"{took:.1f} s against a 2 s timeout"
    text = str(caught.value)
    assert "\n" not in text and "getResultMetadata" in text and "2 s" in text and f"127.0.0.1:{proxy.port}" in text
    assert engine.prepares[sql] == 1
