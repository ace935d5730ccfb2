"""Acceptance: the official e6data connectors 3.0.2 and 2.3.15, unmodified, against the local engine.

Each connector runs in a subprocess (tests/peers.py). What 2.3.15 cannot do is left out on purpose:
INTERVAL columns (its decoder has no INTERVAL_DAY_SECOND and fails with IndexError), fetchone (returns the row
wrapped in a list), non-scalar parameters (collections.Iterable on Python >= 3.10); see wire §5.5. 2.3.15 also
renders pre-1970 DATETIME values wrongly; the demo's DATETIME/TIMESTAMP_TZ values are all >= 1970 (its 1969 value
is a DATE, which both read right), so no row needs leaving out. Both connectors decode DECIMAL128 under Python's
default 28-digit context: a 38-digit value comes back rounded to 28 significant digits, and the expected values
are rounded the same way (their documented behaviour, not ours: the engine sends all 38 digits).
"""
from __future__ import annotations

import datetime
import decimal
import os
import pathlib
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from e6magic.engine import catalog
from cli_process import running, stop
from peers import VERSIONS, run_peer

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALL_TYPES_SQL = "SELECT * FROM all_types ORDER BY id"


def _peer(engine, snippet: str, version: str, timeout: float = 300):
    return run_peer(snippet, version=version, host=engine.host, port=engine.port, token=engine.token.reveal(),
                    timeout=timeout)


def _duckdb_answer(sql: str) -> tuple[list[str], list[tuple]]:
    db = duckdb.connect()
    catalog.build_demo(db)
    db.execute("USE demo.main")
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchall()


def _blob_text(value: bytes) -> str:
    """The connector shows BINARY as text: valid UTF-8 as is, other bytes as \\xHH (DuckDB's spelling)."""
    out, rest = [], value
    while rest:
        try:
            out.append(rest.decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(rest[:exc.start].decode("utf-8"))
            out.extend(f"\\x{b:02X}" for b in rest[exc.start:exc.end])
            rest = rest[exc.end:]
    return "".join(out)


def _as_connector_value(value):
    """DuckDB's Python value in the connector's representation, as tests/peers.py `plain()` reports it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"float": repr(value + 0.0)}  # -0.0 comes back as 0.0 (equal as numbers)
    if isinstance(value, bytes):
        return _blob_text(value)
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(+value)}  # the connector decodes under Python's default 28-digit context
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return {"timedelta": str(value)}
    raise TypeError(f"no connector representation for {type(value).__name__}")


def _nested_text(sql_column: str) -> list:
    """Nested columns travel as DuckDB's text for them, tagged ARRAY/MAP/STRUCT."""
    return [row[0] for row in _duckdb_answer(f"SELECT CAST({sql_column} AS VARCHAR) FROM all_types ORDER BY id")[1]]


def _fix_float(cell):
    return {"float": repr(float(cell["float"]) + 0.0)} if isinstance(cell, dict) and "float" in cell else cell


@pytest.mark.parametrize("version", VERSIONS)
def test_every_type_matches_duckdb(engine, version):
    names, rows = _duckdb_answer(ALL_TYPES_SQL)
    skip = {"c_interval"} if version == "2.3.15" else set()
    kept = [n for n in names if n not in skip]
    sql = (f"SELECT {', '.join(kept)} FROM demo.main.all_types ORDER BY id" if skip
           else "SELECT * FROM demo.main.all_types ORDER BY id")
    got = _peer(engine, f'''
        c = connect(); cur = c.cursor(); cur.execute({sql!r})
        rows = cur.fetchall(); desc = [list(d[:2]) for d in cur.description]; cur.clear(); c.close()
        emit({{"rows": plain(rows), "desc": desc}})
    ''', version)
    nested = {n: _nested_text(n) for n in ("c_list", "c_map", "c_struct")}
    expected = []
    for index, row in enumerate(rows):
        values = dict(zip(names, row))
        expected.append([nested[n][index] if n in nested else _as_connector_value(values[n]) for n in kept])
    assert [[_fix_float(cell) for cell in row] for row in got["rows"]] == expected
    types = dict(got["desc"])
    assert types["c_bigint"] == "LONG" and types["c_varchar"] == "STRING" and types["c_list"] == "ARRAY"
    assert types["c_map"] == "MAP" and types["c_struct"] == "STRUCT" and types["c_timestamptz"] == "TIMESTAMP_TZ"
    assert types["c_decimal38"] == "DECIMAL128(38,10)" and types["c_decimal"] == "DECIMAL128(18,2)"  # declared
    assert types["c_date"] == "DATE" and types["c_blob"] == "BINARY"
    assert types["c_smallint"] == "SHORT" and types["c_integer"] == "INTEGER"  # the engine's word; an INTEGER vector


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_million_rows_through_fetchall_fetchmany_and_fetchall_buffer(engine, version):
    expected_sum = 1_000_000 * 1_000_001 // 2
    got = _peer(engine, '''
        c = connect(); out = {}
        cur = c.cursor(); cur.execute("SELECT * FROM demo.main.orders ORDER BY order_id"); rows = cur.fetchall()
        out["fetchall"] = [len(rows), sum(r[0] for r in rows), plain(rows[0]), plain(rows[-1])]; cur.clear()
        sql = "SELECT order_id FROM orders ORDER BY order_id"
        cur = c.cursor(); cur.execute(sql); n = s = 0
        while True:
            part = cur.fetchmany(100_000)
            if not part:
                break
            n += len(part); s += sum(r[0] for r in part)
        out["fetchmany"] = [n, s]; cur.clear()
        cur = c.cursor(); qid = cur.execute(sql); n = s = batches = 0
        for batch in cur.fetchall_buffer(qid):
            batches += 1; n += len(batch); s += sum(r[0] for r in batch)
        out["fetchall_buffer"] = [n, s, batches]; cur.clear(); c.close()
        emit(out)
    ''', version)
    _, ends = _duckdb_answer("(SELECT * FROM orders ORDER BY order_id LIMIT 1) "
                             "UNION ALL (SELECT * FROM orders ORDER BY order_id DESC LIMIT 1)")
    first, last = ([_as_connector_value(v) for v in row] for row in ends)
    assert got["fetchall"] == [1_000_000, expected_sum, first, last]
    assert got["fetchmany"] == [1_000_000, expected_sum]
    assert got["fetchall_buffer"][:2] == [1_000_000, expected_sum]
    assert got["fetchall_buffer"][2] > 1  # streamed in chunks, not one blob


@pytest.mark.parametrize("version", VERSIONS)
def test_explain_analyse_returns_the_operator_tree(engine, version):
    got = _peer(engine, '''
        import json
        c = connect(); cur = c.cursor()
        cur.execute("SELECT region, count(*) FROM orders JOIN customers USING (customer_id) GROUP BY region")
        rows = cur.fetchall(); plan = cur.explain_analyse(); cur.clear(); c.close()
        emit({"rows": len(rows), "plan": plan})
    ''', version)
    assert got["rows"] == 5
    planner = __import__("json").loads(got["plan"]["planner"])
    assert {"total_query_time", "executionQueueingTime", "parsingTime"} <= set(planner)
    names = []

    def walk(node):
        names.append(node["name"])
        for child in node.get("children", []):
            walk(child)

    for root in planner["operators"] if isinstance(planner.get("operators"), list) else [planner["operators"]]:
        walk(root)
    assert any("JOIN" in name for name in names), names
    assert any("AGGREGATE" in name or "GROUP" in name for name in names), names


# 100 billion hashes: 1 billion took 6.6 s here (08:43 UTC, 2 shared cores), so this runs ~11 minutes and ends
# only by cancel: the test cannot pass by the query finishing on its own.
LONG_SQL = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_a_running_long_query_from_another_thread(engine, version, tmp_path):
    marker = tmp_path / "cancelled"
    result: dict = {}

    def peer():
        result["got"] = _peer(engine, f'''
            import threading, time
            c = connect(); cur = c.cursor(); box = {{}}

            def run():  # execute blocks until the query ends (3.0.2 waits for metadata; fetchall for 2.3.15)
                try:
                    cur.execute({LONG_SQL!r}); cur.fetchall(); box["outcome"] = "rows"
                except Exception as exc:
                    box["outcome"] = type(exc).__name__

            worker = threading.Thread(target=run); worker.start()
            while not getattr(cur, "_query_id", None):
                time.sleep(0.01)
            qid = cur._query_id
            time.sleep(0.3)
            c.cursor().cancel(qid)
            open({str(marker)!r}, "w").write(qid)
            worker.join(60)
            cur.close()  # the connector clears the cancelled query (clearOrCancelQuery)
            after = c.cursor(); after.execute("SELECT 42"); answer = after.fetchall(); after.clear(); c.close()
            emit({{"qid": qid, "outcome": box.get("outcome", "still running"), "after": answer}})
        ''', version, timeout=120)

    thread = threading.Thread(target=peer)
    thread.start()
    while thread.is_alive() and not marker.exists():
        thread.join(0.01)
    assert marker.exists(), "the connector never reached its cancel call"
    qid = marker.read_text()
    states = []
    deadline = time.monotonic() + 1.0  # the engine shows the cancel within 1 s of the connector's call
    while time.monotonic() < deadline and (not states or states[-1] != "cancelled"):
        states.append(engine.query_state(qid))
        time.sleep(0.02)
    thread.join(120)
    assert states[-1] == "cancelled", states
    got = result["got"]
    assert got["qid"] == qid and got["outcome"] not in ("rows", "still running")
    assert got["after"] == [[42]]
    assert qid not in engine.queries()  # closing the cursor cleared it on the engine


@pytest.mark.parametrize("version", VERSIONS)
def test_schema_calls(engine, version):
    got = _peer(engine, '''
        c = connect()
        catalogs = c.get_catalogs() if hasattr(c, "get_catalogs") else None  # 3.0.2 only
        emit({"schemas": c.get_schema_names("demo"), "tables": c.get_tables("demo", "main"), "catalogs": catalogs,
              "columns": [[col["fieldName"], col["fieldType"]] for col in c.get_columns("demo", "main", "orders")]})
    ''', version)
    if version == "3.0.2":
        assert got["catalogs"] == [{"name": "demo", "isDefault": True}]
    else:
        assert got["catalogs"] is None
    assert "main" in got["schemas"]
    assert {"customers", "products", "orders", "all_types"} <= set(got["tables"])
    # column types use the engine's SQL spelling, which the connector's SQLAlchemy dialect maps
    assert ["order_id", "long"] in got["columns"] and ["amount", "decimal(18,2)"] in got["columns"]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_session_survives_several_blue_green_switches(engine_factory, version):
    flipping = engine_factory(bluegreen_interval=0.3)
    seen = []
    stop = threading.Event()

    def watch():
        while not stop.wait(0.05):
            if not seen or seen[-1] != flipping.serving_strategy:
                seen.append(flipping.serving_strategy)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        got = _peer(flipping, '''
            import time
            c = connect(); answers = []; started = time.monotonic()
            while len(answers) < 15 or time.monotonic() - started < 2.5:
                cur = c.cursor(); cur.execute("SELECT %d AS n, count(*) FROM customers" % len(answers))
                answers.append(cur.fetchall()[0]); cur.clear()
                time.sleep(0.05)
            c.close()
            emit(answers)
        ''', version)
    finally:
        stop.set()
        watcher.join()
    assert got == [[i, 10000] for i in range(len(got))]
    assert len(seen) >= 3  # the colour switched at least twice while the session ran


def test_cli_engine_serves_both_connectors_and_stops_on_sigterm(tmp_path):
    env = dict(os.environ, E6MAGIC_ENGINE_TOKEN="cli-test-token-0123456789")
    env.pop("PYTHONPATH", None)
    serve = str(pathlib.Path(sys.executable).with_name("e6magic-engine"))  # the installed console script
    proc = subprocess.Popen([serve, "serve", "--port", "0", "--chunk-rows", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
    with running(proc):
        first = proc.stdout.readline()
        assert first.startswith("e6magic engine listening on 127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1])
        for version in VERSIONS:
            got = run_peer('''
                c = connect(); cur = c.cursor(); cur.execute("SELECT count(*), CAST(sum(customer_id) AS BIGINT) FROM customers")
                rows = cur.fetchall(); cur.clear(); tables = c.get_tables("demo", "main"); c.close()
                emit([rows, sorted(tables)])
            ''', version=version, host="127.0.0.1", port=port, token="cli-test-token-0123456789")
            assert got == [[[10000, 10000 * 10001 // 2]], ["all_types", "customers", "orders", "products"]]
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "e6magic engine stopped" in out
    assert "cli-test-token-0123456789" not in out + err  # a given token is never printed
