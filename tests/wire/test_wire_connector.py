"""Cross-check: the official connector (in a subprocess) reads our bytes as we do, and we read its kind.

3.0.2 is the venv's connector. 2.3.15 runs from `.peers/e6data-2.3.15` (or $E6DATA_2315_PATH) when
installed there; its data avoids what 2.3.15 cannot read (INTERVAL_DAY_SECOND, negative times: wire §3.3).
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import pathlib
import struct
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

import wire_thrift_build as tb
from e6magic.wire import (
    Column, ResultMetadata, VectorType, decode_chunk, decode_metadata, encode_chunk, encode_metadata,
    metadata_for, vector_type_for,
)

PEER = pathlib.Path(__file__).with_name("connector_peer.py")
LEGACY_PATH = pathlib.Path(
    os.environ.get("E6DATA_2315_PATH", pathlib.Path(__file__).resolve().parents[2] / ".peers" / "e6data-2.3.15")
)
CONNECTOR_PRECISION = decimal.Context(prec=28)  # the connector divides in the default 28-digit context
ROWS = 600


def mixed_batch(legacy: bool) -> tuple[pa.RecordBatch, list[VectorType]]:
    rng = np.random.default_rng(7)
    low = 0 if legacy else 1  # legacy: no negative epoch values
    nulls = rng.random(ROWS) < 0.1
    words = np.array(["", "plain", "héllo wörld", "a\x00b", "日本語", "emoji 🎉", "x" * 300])
    unscaled38 = [int(v) * 10**18 + int(w) for v, w in zip(rng.integers(-(10**18), 10**18, ROWS),
                                                            rng.integers(0, 10**18, ROWS))]
    unscaled38[:2] = [10**38 - 1, -(10**38 - 1)]
    columns = {
        "long": pa.array(rng.integers(-(2**62), 2**62, ROWS), mask=nulls),
        "int": pa.array(rng.integers(-(2**31), 2**31, ROWS).astype(np.int32), mask=nulls),
        "small": pa.array(rng.integers(-128, 128, ROWS).astype(np.int8), mask=nulls),
        "double": pa.array(rng.normal(size=ROWS) * 1e6, mask=nulls),
        "float": pa.array(rng.normal(size=ROWS).astype(np.float32), mask=nulls),
        "bool": pa.array(rng.random(ROWS) < 0.5, mask=nulls),
        "text": pa.array(words[rng.integers(0, len(words), ROWS)], mask=nulls),
        "blob": pa.array([None if n else bytes(rng.integers(0, 256, 5, dtype=np.uint8)) for n in nulls], pa.binary()),
        "arr": pa.array(["[1, 2]", None, "[]"] * (ROWS // 3)),
        "date": pa.array(rng.integers(-200_000, 200_000, ROWS).astype(np.int32), mask=nulls).cast(pa.date32()),
        "ts": pa.array(rng.integers(-(2**55) * low, 2**55, ROWS), mask=nulls).cast(pa.timestamp("us")),
        "ts_offset": pa.array(rng.integers(-(2**45) * low, 2**45, ROWS), mask=nulls).cast(
            pa.timestamp("ms", "+05:30")),
        "ts_named": pa.array(rng.integers(0, 2**50, ROWS), mask=nulls).cast(pa.timestamp("us", "Asia/Kolkata")),
        "dec38": pa.array([None if n else decimal.Decimal(f"{u}E-10") for u, n in zip(unscaled38, nulls)],
                          pa.decimal128(38, 10)),
        "dec18": pa.array([None if n else decimal.Decimal(f"{int(u)}E-2")
                           for u, n in zip(rng.integers(-(10**17), 10**17, ROWS), nulls)], pa.decimal128(18, 2)),
        "nothing": pa.nulls(ROWS),
        "interval": pa.array(rng.integers(-(2**50), 2**50, ROWS), mask=nulls).cast(pa.duration("us")),
    }
    if legacy:
        del columns["interval"]
    batch = pa.record_batch(columns)
    types = [VectorType.ARRAY if name == "arr" else None for name in batch.schema.names]
    return batch, [t or vector_type_for(f.type) for t, f in zip(types, batch.schema)]


def constants_chunk(legacy: bool) -> tuple[bytes, ResultMetadata]:
    """Engine-style shapes our encoder never sends: constants, decimal text, per-row zones."""
    def const(vtype: VectorType, member: bytes, null: bool = False) -> bytes:
        return tb.vector(3, int(vtype), [null], member, constant=True)

    vectors = [
        const(VectorType.LONG, tb.struct_(11, tb.i64(1, -5))),
        const(VectorType.INTEGER, tb.struct_(11, tb.i64(1, 9))),
        const(VectorType.DOUBLE, tb.struct_(12, tb.double(1, 2.5))),
        const(VectorType.FLOAT, tb.struct_(12, tb.double(1, 0.1))),
        const(VectorType.BOOLEAN, tb.struct_(8, tb.boolean(1, True))),
        const(VectorType.STRING, tb.struct_(15, tb.string(1, "constant ✓"))),
        const(VectorType.MAP, tb.struct_(15, tb.string(1, "{a=1}"))),
        const(VectorType.DATE, tb.struct_(9, tb.i64(1, -86_400_000_000 * 400))),
        const(VectorType.DATETIME, tb.struct_(14, tb.i64(1, 1_700_000_000_123_456))),
        const(VectorType.TIMESTAMP_TZ, tb.struct_(14, tb.i64(1, 10**15 if legacy else 0), tb.string(2, "-05:00"))),
        const(VectorType.DECIMAL128, tb.struct_(18, tb.string(1, (-12345).to_bytes(16, "big", signed=True)),
                                                tb.i32(2, 3))),
        const(VectorType.DECIMAL128, tb.struct_(18, tb.string(1, b""), tb.i32(2, 3)), null=True),
        const(VectorType.NULL, tb.struct_(10, tb.byte(1, 0))),
        tb.vector(3, int(VectorType.DECIMAL128), [False, True, False], tb.struct_(
            17, tb.list_(1, tb.STRING, [tb.elem_string("12.5"), tb.elem_string(b""), tb.elem_string("-0.001")]),
            tb.i32(2, 1))),
        tb.vector(3, int(VectorType.TIMESTAMP_TZ), [False, False, True], tb.struct_(
            16, tb.list_(1, tb.I64, [struct.pack(">q", v + (10**15 if legacy else 0)) for v in (0, -1_000, 5)]),
            tb.list_(2, tb.STRING, [tb.elem_string(z) for z in ("+01:00", "America/New_York", "Z")]))),
    ]
    if not legacy:
        vectors.append(const(VectorType.INTERVAL_DAY_SECOND, tb.struct_(11, tb.i64(1, 86_400_000_001))))
    meta = ResultMetadata(3, tuple(Column(f"k{i}", "CONST") for i in range(len(vectors))))
    return tb.chunk(3, vectors), meta


def connector_value(value, atype: pa.DataType):
    """Our decoded value as the connector represents it (wire §3.3), tagged like connector_peer.py."""
    if value is None:
        return None
    if pa.types.is_boolean(atype):
        return ["bool", value]
    if pa.types.is_integer(atype):
        return ["int", str(value)]
    if pa.types.is_float32(atype):
        # FLOAT travels as a double; our float32 column holds it rounded to float32.
        return ["float32", float(value)]
    if pa.types.is_floating(atype):
        return ["float", float(value).hex()]
    if pa.types.is_string(atype):
        return ["str", value]
    if pa.types.is_date32(atype):
        return ["str", f"{value.year:04d}-{value.month:02d}-{value.day:02d}"]
    if pa.types.is_timestamp(atype):
        return ["instant-ms", _epoch_ms(value)]
    if pa.types.is_decimal(atype):
        return ["dec", value]
    if pa.types.is_duration(atype):
        return ["td", str(value // dt.timedelta(microseconds=1))]
    raise AssertionError(f"unexpected type {atype}")


def _epoch_ms(value: dt.datetime) -> int:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return (aware - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)


def normalise_peer(tagged):
    """The connector's DATETIME/TIMESTAMP_TZ strings as instants in ms, decimals as Decimal."""
    if tagged is None:
        return None
    kind, text = tagged
    if kind == "dec":
        return ["dec", decimal.Decimal(text)]
    if kind == "str" and len(text) >= 23 and text[10] == "T" and text[-6] in "+-":
        return ["instant-ms", _epoch_ms(dt.datetime.fromisoformat(text))]
    return tagged


def same(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    if ours[0] == "float32":
        return theirs[0] == "float" and np.float32(float.fromhex(theirs[1])) == np.float32(ours[1])
    if ours[0] == "dec":
        return theirs[0] == "dec" and CONNECTOR_PRECISION.plus(ours[1]) == theirs[1]
    return ours == theirs


@pytest.fixture(scope="module", params=["3.0.2", "2.3.15"])
def peer(request, tmp_path_factory):
    legacy = request.param == "2.3.15"
    env = dict(os.environ)
    if legacy:
        if not (LEGACY_PATH / "e6data_python_connector").is_dir():
            pytest.skip(f"official connector 2.3.15 is not installed in {LEGACY_PATH}")
        env["PYTHONPATH"] = str(LEGACY_PATH)
    batch, types = mixed_batch(legacy)
    meta = metadata_for(batch.schema, ROWS, types)
    halves = [batch.slice(0, ROWS // 2), batch.slice(ROWS // 2)]
    chunks = [encode_chunk(half, types) for half in halves]
    const_chunk, const_meta = constants_chunk(legacy)
    job = {"strict": True, "cases": [
        {"metadata": encode_metadata(meta).hex(), "chunks": [c.hex() for c in chunks]},
        {"metadata": encode_metadata(const_meta).hex(), "chunks": [const_chunk.hex()]},
    ]}
    path = tmp_path_factory.mktemp("peer") / "job.json"
    path.write_text(json.dumps(job))
    done = subprocess.run([sys.executable, str(PEER), str(path)], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    output = json.loads(done.stdout)
    expected_home = LEGACY_PATH if legacy else pathlib.Path(sys.prefix)
    assert output["module"].startswith(str(expected_home)), output["module"]
    ours = [
        pa.Table.from_batches([decode_chunk(c, decode_metadata(encode_metadata(meta))) for c in chunks]),
        pa.Table.from_batches([decode_chunk(const_chunk, const_meta)]),
    ]
    return {"meta": meta, "results": output["cases"], "ours": ours}


def assert_tables_agree(table: pa.Table, peer_rows: list) -> None:
    assert len(peer_rows) == table.num_rows
    for col_index, (name, column) in enumerate(zip(table.column_names, table.columns)):
        mismatches = []
        for row, value in enumerate(column.to_pylist()):
            ours = connector_value(value, column.type)
            theirs = normalise_peer(peer_rows[row][col_index])
            if not same(ours, theirs):
                mismatches.append((row, ours, theirs))
        assert not mismatches, f"column {name}: {mismatches[:3]}"


def test_connector_reads_our_metadata(peer):
    result = peer["results"][0]
    meta = peer["meta"]
    assert result["row_count"] == ROWS
    assert result["fields"] == [[c.name, c.type_name, c.zone, c.date_format] for c in meta.columns]


def test_connector_reads_our_chunks_like_we_do(peer):
    assert_tables_agree(peer["ours"][0], peer["results"][0]["rows"])


def test_we_read_engine_style_constants_like_the_connector(peer):
    assert_tables_agree(peer["ours"][1], peer["results"][1]["rows"])


def test_the_cross_check_sees_values(peer):
    # Guard against a vacuous comparison: real values reached both sides.
    rows = peer["results"][0]["rows"]
    assert sum(v is not None for row in rows for v in row) > ROWS * 10
    assert ["str", "1970-01-01T00:00:00.000+05:30"] not in rows[0]
