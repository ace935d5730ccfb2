"""A result is served while the engine still produces it: metadata with rowCount -1 first, every row, then the
exact count; with the raw wire, the e6magic client and the official connectors 3.0.2 and 2.3.15."""
from __future__ import annotations

import time

import duckdb
import pytest
from peers import VERSIONS, run_peer
from raw_client import Raw, wait_for
from shapes import BY_NAME

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import connect
from e6magic.engine.queries import CHUNK_BYTES
from e6magic.wire import decode_metadata

# ~1M rows picked from 200M: the engine produces it for a while (the first chunks long before the last)
ROWS, STEP = 1_000_000, 200
STREAMED = f"SELECT i, i % 7 AS m FROM range({ROWS * STEP}) t(i) WHERE i % {STEP} = 0"
EXPECTED_SUM = STEP * ROWS * (ROWS - 1) // 2


def _metadata(raw: Raw, qid: str):
    return decode_metadata(raw.stub.getResultMetadata(
        pb.GetResultMetadataRequest(sessionId=raw.sid, queryId=qid)).resultMetaData)


def _finished(raw: Raw, qid: str) -> bool:
    return raw.stub.status(pb.StatusRequest(sessionId=raw.sid, queryId=qid)).status


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_metadata_comes_before_the_result_is_produced_and_the_count_after(engine, version):
    raw = Raw(engine)
    try:
        qid = raw.submit(STREAMED)
        meta = _metadata(raw, qid)
        assert meta.row_count == -1 and [c.name for c in meta.columns] == ["i", "m"]
        assert not _finished(raw, qid)  # answered while the engine was still producing
        table = raw.rows_v1(qid) if version == "v1" else raw.rows_v2(qid)
        assert table.num_rows == ROWS and table.column("i").to_pylist()[:3] == [0, STEP, 2 * STEP]
        assert sum(table.column("i").to_pylist()) == EXPECTED_SUM
        assert _metadata(raw, qid).row_count == ROWS  # the exact count once the stream has ended
        assert wait_for(lambda: _finished(raw, qid))
        raw.clear(qid)
    finally:
        raw.close()


def test_a_result_of_one_chunk_still_has_its_exact_count_up_front(engine):
    raw = Raw(engine)
    try:
        qid = raw.submit("SELECT * FROM range(1000)")
        assert _metadata(raw, qid).row_count == 1000
        raw.clear(qid)
    finally:
        raw.close()


def test_an_error_after_the_first_chunks_fails_the_fetch_not_a_short_result(engine):
    raw = Raw(engine)
    try:
        # the cast fails at row 100,000: after the metadata went out
        qid = raw.submit("SELECT CASE WHEN i < 100000 THEN 'x' ELSE error('boom at the end') END AS v "
                         "FROM range(200000) t(i)")
        with pytest.raises(Exception) as caught:
            raw.rows_v2(qid)
        assert "boom at the end" in str(caught.value)
        raw.clear(qid)
    finally:
        raw.close()


def test_clear_and_cancel_mid_stream_free_the_cursor_and_the_bytes(engine_factory):
    running = engine_factory(workers=2)
    raw = Raw(running)
    try:
        for index in range(6):  # three times the workers: a cursor kept by a dropped stream would hang this
            qid = raw.submit(STREAMED)
            assert _metadata(raw, qid).row_count == -1
            raw.stub.getNextResultBatchV2(pb.GetNextResultBatchRequest(sessionId=raw.sid, queryId=qid))
            (raw.cancel if index % 2 else raw.clear)(qid)
            raw.clear(qid)
        assert wait_for(lambda: running._registry.memory.held == 0)
        qid = raw.submit("SELECT 42 AS answer")
        assert raw.rows_v2(qid).column("answer").to_pylist() == [42]
        raw.clear(qid)
        cursor = running._registry._cursors.get()  # the pooled cursor was cleaned after the streamed query
        try:
            assert cursor.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)
        finally:
            running._registry._cursors.put(cursor)
    finally:
        raw.close()


def test_streamed_but_unfetched_rows_are_bounded_by_the_result_memory(engine_factory):
    running = engine_factory(max_result_memory=4 << 20)  # the whole result takes ~16 MiB as Arrow
    raw = Raw(running)
    try:
        qid = raw.submit(STREAMED)
        assert _metadata(raw, qid).row_count == -1
        # nobody fetches: the batches produced and not sent pass the bound, and the query fails
        assert wait_for(lambda: running.query_state(qid) == "failed", timeout=60)
        with pytest.raises(Exception) as caught:
            raw.rows_v2(qid)
        assert "result memory" in str(caught.value)
        raw.clear(qid)
        assert wait_for(lambda: running._registry.memory.held == 0)
    finally:
        raw.close()


def test_e6magic_reads_every_row_and_rowcount_is_minus_one_until_the_end(engine):
    with connect(host=engine.host, port=engine.port, username="tester", password=engine.token, catalog="demo",
                 database="main") as conn:
        cursor = conn.cursor()
        cursor.execute(STREAMED)
        first = cursor.fetchmany(1000)
        assert cursor.rowcount == -1 and len(first) == 1000  # PEP 249: -1 while not known
        frame = cursor.fetch_df()
        assert len(first) + len(frame) == ROWS
        assert int(frame["i"].sum()) + sum(row[0] for row in first) == EXPECTED_SUM
        assert cursor.rowcount == ROWS
        cursor.execute(STREAMED)
        assert len(cursor.fetch_df()) == ROWS and cursor.rowcount == ROWS
        cursor.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_official_connectors_read_every_streamed_row_and_the_count_at_the_end(engine, version):
    started = time.monotonic()
    got = run_peer(f'''
        c = connect(); cur = c.cursor(); cur.execute({STREAMED!r})
        before = cur.rowcount; n = s = 0
        while True:
            part = cur.fetchmany(200_000)
            if not part:
                break
            n += len(part); s += sum(r[0] for r in part)
        after = cur.rowcount; cur.clear(); c.close()
        emit({{"before": before, "after": after, "n": n, "sum": s}})
    ''', version=version, host=engine.host, port=engine.port, token=engine.token.reveal(), timeout=600)
    assert got == {"before": -1, "after": ROWS, "n": ROWS, "sum": EXPECTED_SUM}, time.monotonic() - started


def test_duckdb_agrees_on_the_streamed_query():
    assert duckdb.connect().execute(f"SELECT count(*), sum(i) FROM ({STREAMED})").fetchone() == (ROWS, EXPECTED_SUM)


def test_a_wide_rows_chunks_are_cut_by_bytes_and_lose_nothing(engine):
    # 64 numeric columns: 16,384 rows a chunk (the row bound alone) made one 8 MiB chunk and V2 response, past
    # gRPC's default 4 MiB receive limit of a plain client, and a client's peak memory grew with it
    sql = BY_NAME["wide"].query(40_000)
    raw = Raw(engine)
    try:
        qid = raw.submit(sql)
        chunks = [c for envelope in raw.envelopes_v2(qid) for c in envelope.resultBatches if c]
        raw.clear(qid)
        assert len(chunks) >= 8 and max(len(c) for c in chunks) <= 1.25 * CHUNK_BYTES
        qid = raw.submit(sql)
        got = raw.rows_v2(qid)
        raw.clear(qid)
    finally:
        raw.close()
    want = duckdb.sql(sql).to_arrow_table()
    assert got.num_rows == 40_000 and got.column_names == want.column_names
    assert all(got.column(i).to_pylist() == want.column(i).to_pylist() for i in (0, 1, 2, 31, 62, 63))
