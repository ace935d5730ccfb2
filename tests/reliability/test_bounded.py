"""Nothing kept forever, from outside: idle sessions expire, dropped and idle results go, a result store bounded in
memory, and a served engine's memory comes back after clients walk away."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
from types import SimpleNamespace

import grpc
import pytest
from cli_process import running, stop
from raw_client import Raw, rpc_error, wait_for

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.engine.cli import byte_size
from e6magic.secret import Secret

ROOT = pathlib.Path(__file__).resolve().parents[2]
LONG_SQL = "SELECT sum(a.range * b.range) AS s FROM range(100000) a, range(100000) b"  # minutes of work
TOKEN = "reliability-token-0123456789"


def _fetch_one_chunk(client: Raw, qid: str) -> bytes:
    client.stub.getResultMetadata(pb.GetResultMetadataRequest(sessionId=client.sid, queryId=qid))
    return client.stub.getNextResultBatch(pb.GetNextResultBatchRequest(sessionId=client.sid, queryId=qid)).resultBatch


def test_an_idle_session_expires_and_its_running_query_is_cancelled(engine_factory):
    eng = engine_factory(session_idle=0.5)
    client = Raw(eng)
    qid = client.submit(LONG_SQL)
    assert wait_for(lambda: eng.query_state(qid) == "running")
    client.close()  # the client is killed: no clear, no cancel, no further call
    assert wait_for(lambda: eng.session_count == 0 and eng.queries() == {}, timeout=15)
    assert eng.query_state(qid) == "cancelled"


def test_a_session_busy_in_a_long_call_does_not_expire(engine_factory):
    eng = engine_factory(session_idle=0.3)
    client = Raw(eng)
    try:
        qid = client.submit("SELECT count(*) AS n FROM range(30000) a, range(3000) b WHERE a.range % 7 = b.range % 5")
        assert list(client.rows_v1(qid).to_pydict()) == ["n"]  # one call waits past the idle time
        assert eng.session_count == 1
    finally:
        client.close()


def test_a_late_fetch_of_a_dropped_result_is_not_found_naming_the_query(engine_factory):
    eng = engine_factory(result_idle=1.5, session_idle=60)
    client = Raw(eng)
    try:
        idle = client.submit("SELECT * FROM demo.main.orders")
        assert _fetch_one_chunk(client, idle)
        cleared = client.submit("SELECT 1")
        client.clear(cleared)
        never_run = client.prepare("SELECT 2")  # its execute (or the prepare's reply) was lost
        assert wait_for(lambda: eng.queries() == {} and eng.result_memory == 0, timeout=10)
        for qid, why in ((idle, "nobody asked for it in 1.5 s"), (cleared, "cleared"), (never_run, "nobody asked")):
            error = rpc_error(lambda: client.stub.getNextResultBatch(
                pb.GetNextResultBatchRequest(sessionId=client.sid, queryId=qid)))
            assert error.code() == grpc.StatusCode.NOT_FOUND
            assert qid in error.details() and why in error.details()
        assert eng.session_count == 1  # the session itself was busy recently enough
    finally:
        client.close()


def test_expiring_a_session_drops_its_results(engine_factory):
    eng = engine_factory()
    client = Raw(eng)
    try:
        qid = client.submit("SELECT * FROM demo.main.orders")
        assert _fetch_one_chunk(client, qid) and eng.result_memory > 0
        eng.expire_sessions()
        assert eng.queries() == {} and eng.result_memory == 0
    finally:
        client.close()


def test_a_result_over_the_memory_bound_fails_clearly_and_others_still_run(engine_factory):
    eng = engine_factory(max_result_memory=byte_size("16MiB"))
    client = Raw(eng)
    try:
        big = client.submit("SELECT * FROM demo.main.orders")  # about 60 MiB as Arrow
        error = rpc_error(lambda: client.rows_v1(big))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert big in error.details() and "16.0 MiB" in error.details() and "max-result-memory" in error.details()
        assert eng.result_memory == 0
        held = client.submit("SELECT * FROM demo.main.orders LIMIT 150000")  # about 9 MiB, held unfetched
        assert wait_for(lambda: eng.query_state(held) == "finished")
        # would pass the bound beside it (each result's first chunk is encoded at once and no longer counted)
        second = client.submit("SELECT * FROM demo.main.orders LIMIT 200000")
        # results stream: what counts is what is produced and not yet fetched, so it fails while nobody reads it
        assert wait_for(lambda: eng.query_state(second) == "failed")
        assert rpc_error(lambda: client.rows_v1(second)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert client.rows_v1(held).num_rows == 150000
        assert eng.result_memory == 0  # a result read to its end holds nothing
        third = client.submit("SELECT * FROM demo.main.orders LIMIT 150000")
        assert client.rows_v1(third).num_rows == 150000
        for qid in (big, held, second, third):
            client.clear(qid)
    finally:
        client.close()


def _rss_mib(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _serve(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["E6MAGIC_ENGINE_TOKEN"] = TOKEN
    return subprocess.Popen([sys.executable, "-m", "e6magic.engine.cli", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


def dropped_clients_memory(clients: int = 20, rows: int = 1_000_000, idle: float = 8.0) -> dict[str, float]:
    """Start a served engine, let `clients` raw clients each read one chunk of a `rows`-row result and vanish;
    the engine's RSS (MiB) before, with the results held, and after the idle times passed."""
    with running(_serve("--session-idle", str(idle), "--result-idle", str(idle))) as proc:
        first = proc.stdout.readline()
        if not first.startswith("e6magic engine listening on 127.0.0.1:"):
            proc.kill()  # first: reading the stderr of an engine still running never ends
            raise AssertionError(first + proc.communicate(timeout=30)[1])
        eng = SimpleNamespace(address=first.rsplit(" ", 1)[1].strip(), token=Secret(TOKEN))
        warm = Raw(eng)
        warm_qid = warm.submit("SELECT * FROM demo.main.orders LIMIT 1000")
        warm.rows_v1(warm_qid)
        warm.clear(warm_qid)
        warm.close()
        before = _rss_mib(proc.pid)
        for _ in range(clients):
            client = Raw(eng)
            assert _fetch_one_chunk(client, client.submit(f"SELECT * FROM demo.main.orders LIMIT {rows}"))
            client.close()  # walks away: no clear, no further call
        held = _rss_mib(proc.pid)
        after = held
        deadline = time.monotonic() + idle * 4 + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            after = _rss_mib(proc.pid)
            if after < before + 0.3 * (held - before):
                break
        stop(proc)
    return {"before": before, "held": held, "after": after}


@pytest.mark.slow
def test_a_served_engine_gives_memory_back_after_clients_walk_away():
    mib = dropped_clients_memory(clients=20, rows=250_000)
    assert mib["held"] - mib["before"] > 100, mib  # the 20 results were really held
    assert mib["after"] < mib["before"] + 0.3 * (mib["held"] - mib["before"]), mib


if __name__ == "__main__":  # the figure in docs/reliability.md
    print(dropped_clients_memory(idle=30.0))  # long enough that all 20 results are held at once
