"""Random columns of every supported type survive encode_chunk -> decode_chunk unchanged."""
from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e6magic.wire import Column, ResultMetadata, VectorType, decode_chunk, encode_chunk, metadata_for

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INT64 = 2**63 - 1


def optional(values: st.SearchStrategy, max_size: int = 40) -> st.SearchStrategy:
    return st.lists(st.one_of(st.none(), values), max_size=max_size)


def roundtrip(array: pa.Array, vector_types=None) -> pa.Array:
    batch = pa.record_batch({"x": array})
    out = decode_chunk(encode_chunk(batch, vector_types), ResultMetadata(len(array), (Column("x", "?"),)))
    assert out.num_rows == len(array)
    assert out.schema.names == ["x"]
    return out.column(0)


@st.composite
def sliced(draw, values: list, atype: pa.DataType) -> pa.Array:
    """The array, sometimes sliced so its Arrow offset is not zero."""
    array = pa.array(values, type=atype)
    start = draw(st.integers(0, min(3, len(array))))
    return array.slice(start)


INTEGER_CASES = [
    (pa.int8(), pa.int32(), -(2**7), 2**7 - 1),
    (pa.int16(), pa.int32(), -(2**15), 2**15 - 1),
    (pa.int32(), pa.int32(), -(2**31), 2**31 - 1),
    (pa.uint8(), pa.int32(), 0, 2**8 - 1),
    (pa.uint16(), pa.int32(), 0, 2**16 - 1),
    (pa.uint32(), pa.int64(), 0, 2**32 - 1),
    (pa.int64(), pa.int64(), -(2**63), INT64),
]


@pytest.mark.parametrize(("source", "decoded", "low", "high"), INTEGER_CASES, ids=lambda c: str(c))
@SETTINGS
@given(data=st.data())
def test_integers(source, decoded, low, high, data):
    array = data.draw(sliced(data.draw(optional(st.integers(low, high))), source))
    out = roundtrip(array)
    assert out.type == decoded
    assert out.to_pylist() == array.to_pylist()


@pytest.mark.parametrize(("source", "width"), [(pa.float32(), 32), (pa.float64(), 64)])
@SETTINGS
@given(data=st.data())
def test_floats_keep_every_bit(source, width, data):
    values = data.draw(optional(st.floats(width=width, allow_nan=True, allow_infinity=True)))
    array = data.draw(sliced(values, source))
    out = roundtrip(array)
    assert out.type == source
    assert out.is_null().equals(array.is_null())
    dtype = np.float32 if width == 32 else np.float64
    got = out.fill_null(0).to_numpy().astype(dtype)
    want = array.fill_null(0).to_numpy().astype(dtype)
    assert got.tobytes() == want.tobytes()


@SETTINGS
@given(data=st.data())
def test_booleans(data):
    array = data.draw(sliced(data.draw(optional(st.booleans(), 100)), pa.bool_()))
    assert roundtrip(array).to_pylist() == array.to_pylist()


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@pytest.mark.parametrize("source", [pa.string(), pa.large_string(), pa.string_view()])
@SETTINGS
@given(data=st.data())
def test_strings_unicode_empty_and_nul(source, data):
    values = data.draw(optional(st.one_of(TEXT, st.just(""), st.just("\x00"), st.just("a\x00b"))))
    array = data.draw(sliced(values, source))
    out = roundtrip(array)
    assert out.type == pa.string()
    assert out.to_pylist() == array.to_pylist()


@pytest.mark.parametrize("tag", [VectorType.ARRAY, VectorType.MAP, VectorType.STRUCT, VectorType.BINARY])
@SETTINGS
@given(values=optional(TEXT))
def test_text_tagged_as_complex_types(tag, values):
    out = roundtrip(pa.array(values, pa.string()), [tag])
    assert out.to_pylist() == values


@SETTINGS
@given(values=optional(st.binary(max_size=20).filter(lambda b: _is_utf8(b))))
def test_valid_utf8_binary_travels_as_the_same_text(values):
    out = roundtrip(pa.array(values, pa.binary()))
    assert out.to_pylist() == [None if v is None else v.decode() for v in values]


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


@SETTINGS
@given(data=st.data())
def test_dates_including_pre_1970(data):
    values = data.draw(optional(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))))
    array = data.draw(sliced(values, pa.date32()))
    assert roundtrip(array).to_pylist() == array.to_pylist()


@SETTINGS
@given(data=st.data())
def test_date32_extremes_within_int64_micros(data):
    days = data.draw(optional(st.integers(-106_751_991, 106_751_991)))
    array = pa.array(days, pa.int32()).cast(pa.date32())
    out = roundtrip(array)
    assert out.cast(pa.int32()).to_pylist() == days


UNIT_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "+05:30", "-03:00", "America/New_York", "Asia/Kolkata"])
@SETTINGS
@given(data=st.data())
def test_timestamps_every_unit_negative_and_zoned(unit, tz, data):
    bound = INT64 // UNIT_MICROS.get(unit, 1)
    raw = data.draw(optional(st.integers(-bound, bound)))
    array = data.draw(sliced(raw, pa.timestamp(unit, tz=tz)))
    out = roundtrip(array)
    assert out.type == pa.timestamp("us", tz=tz)
    expected = [
        None if v is None else (v // 1000 if unit == "ns" else v * UNIT_MICROS[unit])
        for v in array.cast(pa.int64()).to_pylist()
    ]
    assert out.cast(pa.int64()).to_pylist() == expected


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@SETTINGS
@given(data=st.data())
def test_durations_become_interval_micros(unit, data):
    bound = INT64 // UNIT_MICROS.get(unit, 1)
    array = data.draw(sliced(data.draw(optional(st.integers(-bound, bound))), pa.duration(unit)))
    out = roundtrip(array)
    assert out.type == pa.duration("us")
    expected = [
        None if v is None else (v // 1000 if unit == "ns" else v * UNIT_MICROS[unit])
        for v in array.cast(pa.int64()).to_pylist()
    ]
    assert out.cast(pa.int64()).to_pylist() == expected


@st.composite
def decimal_columns(draw):
    precision = draw(st.integers(1, 38))
    scale = draw(st.integers(0, precision))
    limit = 10**precision - 1
    unscaled = draw(optional(st.one_of(st.integers(-limit, limit), st.sampled_from([limit, -limit, 0]))))
    values = [None if u is None else decimal.Decimal(f"{u}E-{scale}") for u in unscaled]
    return values, precision, scale


@SETTINGS
@given(data=st.data(), column=decimal_columns())
def test_decimals_exact_to_38_digits_with_scale_kept(data, column):
    values, precision, scale = column
    array = data.draw(sliced(values, pa.decimal128(precision, scale)))
    out = roundtrip(array)
    assert out.type == pa.decimal128(38, scale)
    got = out.to_pylist()
    want = array.to_pylist()
    assert got == want
    assert [None if v is None else v.as_tuple().exponent for v in got] == [
        None if v is None else -scale for v in want
    ]


@SETTINGS
@given(size=st.integers(0, 30))
def test_null_columns(size):
    out = roundtrip(pa.nulls(size))
    assert out.type == pa.null()
    assert len(out) == size


MIXED_SIZES = [0, 1, 2047, 2048, 2049]


@pytest.mark.parametrize("rows", MIXED_SIZES)
def test_every_type_together_across_batch_sizes(rows):
    rng = np.random.default_rng(rows)
    nulls = rng.random(rows) < 0.1
    words = np.array(["", "a", "héllo", "\x00", "日本語テキスト", "x" * 100])
    unscaled = rng.integers(-(10**18), 10**18, rows)
    columns = {
        "long": pa.array(rng.integers(-(2**62), 2**62, rows), mask=nulls),
        "int": pa.array(rng.integers(-(2**31), 2**31, rows).astype(np.int32), mask=nulls),
        "double": pa.array(rng.normal(size=rows), mask=nulls),
        "float": pa.array(rng.normal(size=rows).astype(np.float32), mask=nulls),
        "bool": pa.array(rng.random(rows) < 0.5, mask=nulls),
        "text": pa.array(words[rng.integers(0, len(words), rows)], mask=nulls),
        "date": pa.array(rng.integers(-800_000, 2_900_000, rows).astype(np.int32), mask=nulls).cast(pa.date32()),
        "ts": pa.array(rng.integers(-(2**60), 2**60, rows), mask=nulls).cast(pa.timestamp("us")),
        "tstz": pa.array(rng.integers(-(2**60), 2**60, rows), mask=nulls).cast(pa.timestamp("us", tz="Europe/Berlin")),
        "dec": pa.array(
            [None if n else decimal.Decimal(f"{int(u)}E-2") for u, n in zip(unscaled, nulls)],
            pa.decimal128(20, 2),
        ),
        "null": pa.nulls(rows),
        "interval": pa.array(rng.integers(-(2**60), 2**60, rows), mask=nulls).cast(pa.duration("us")),
    }
    batch = pa.record_batch(columns)
    out = decode_chunk(encode_chunk(batch), metadata_for(batch.schema, rows))
    assert out.schema.names == batch.schema.names
    for name in batch.schema.names:
        want = batch.column(name)
        got = out.column(name)
        assert got.equals(want), name  # decimals too: DECIMAL128(20,2) in the metadata keeps precision 20
