"""Builds a pandas DataFrame batch by batch into preallocated columns: never the result as Arrow and pandas at once."""
from __future__ import annotations

import mmap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

# The options of the one-shot `Table.to_pandas` this builder must agree with, column for column.
PANDAS_OPTIONS: dict[str, Any] = {"date_as_object": False, "split_blocks": True}


def to_pandas(table: pa.Table, *, exact_decimals: bool = False, keep_table: bool = False) -> pd.DataFrame:
    """A whole Arrow table as pandas; decimals become float64 (as DuckDB's `.df()`) unless `exact_decimals`.

    The table is consumed column by column while converting unless `keep_table`."""
    if not exact_decimals and any(pa.types.is_decimal(f.type) for f in table.schema):
        columns = [pa.chunked_array([decimal_to_float64(c) for c in col.chunks], pa.float64())
                   if pa.types.is_decimal(col.type) else col for col in table.columns]
        table = pa.Table.from_arrays(columns, schema=pa.schema([_float_field(f) for f in table.schema]))
    # integers and booleans with nulls become pandas' masked dtypes (as DuckDB's `.df()`): pyarrow's float64
    # would round a BIGINT above 2**53, and its object booleans cost a Python object a row
    names, rows = table.schema.names, table.num_rows
    # (converted before the rest: a self-destructing conversion must own every buffer it frees)
    masked = {i: table.column(i).to_pandas(types_mapper=_masked_dtype).array for i, f in enumerate(table.schema)
              if _masked_dtype(f.type) is not None and table.column(i).null_count}
    if not masked:
        return table.to_pandas(**PANDAS_OPTIONS, self_destruct=not keep_table)
    import pandas as pd

    rest = table.select([i for i in range(table.num_columns) if i not in masked])
    del table
    frame = rest.to_pandas(**PANDAS_OPTIONS, self_destruct=False) if rest.num_columns else pd.DataFrame(
        index=pd.RangeIndex(rows))
    for i, values in masked.items():
        frame.insert(i, names[i], values, allow_duplicates=True)
    return frame


def _masked_dtype(atype: pa.DataType) -> Any:
    """pandas' masked dtype for an integer or boolean Arrow type (None for any other)."""
    import pandas as pd

    if pa.types.is_boolean(atype):
        return pd.BooleanDtype()
    if pa.types.is_integer(atype):
        return pd.api.types.pandas_dtype(("Int" if pa.types.is_signed_integer(atype) else "UInt")
                                         + str(atype.bit_width))
    return None


def decimal_to_float64(array: pa.Array) -> pa.Array:
    """Each decimal as the float64 nearest to it (what DuckDB's `.df()` gives); see `decimal_floats`."""
    mask = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    return pa.array(decimal_floats(array), pa.float64(), mask=mask)


def decimal_floats(array: pa.Array) -> np.ndarray:
    """Each decimal as the float64 nearest to it, NaN where null, as numpy.

    pyarrow's own cast scales in floating point and can land one unit in the last place off
    (2999.99 became 2999.9900000000002): here an unscaled value below 2**53 and a power of ten up to
    10**22 are both exact doubles, so one IEEE division rounds correctly; wider values go through
    their exact text. Which path a value takes depends on its size, not on the declared precision
    (the wire always declares 38 digits).
    """
    atype = array.type
    scale = atype.scale
    if not pa.types.is_decimal128(atype) or not -22 <= scale <= 22:
        return _numpy(_decimal_via_text(array))
    # each value is two little-endian 64-bit words; it is its low word when the high word only extends its sign
    words = np.frombuffer(array.buffers()[1], dtype="<i8", count=2 * (array.offset + len(array)))
    low, high = words[2 * array.offset::2], words[2 * array.offset + 1::2]
    values: np.ndarray = low / 10.0**scale if scale >= 0 else low * 10.0**-scale
    wide = (high != (low >> 63)) | (np.abs(low) >= 2**53)  # abs(-2**63) wraps, but -2**63 is an exact double
    if wide.any():
        values[wide] = _wide_decimal_floats(array, low, high, wide, scale)
    if array.null_count:
        values[array.is_null().to_numpy(zero_copy_only=False)] = np.nan
    return values


def _wide_decimal_floats(array: pa.Array, low: np.ndarray, high: np.ndarray, wide: np.ndarray,
                         scale: int) -> np.ndarray:
    """The nearest doubles of the values too wide for the int64 path, in double-double arithmetic: the 128-bit
    value is summed exactly from three 43-bit parts into a pair (S + E, within 2**-96 of it), divided by the
    exact double 10**scale with the remainder computed exactly (Dekker's product), and the quotient's double
    moved one step where the remainder passes half a unit in the last place. A remainder within the error of
    that halfway point (about one value in 2**40), and scales past 10**22, go through their exact text."""
    if not 0 <= scale <= 22:
        return _numpy(_decimal_via_text(array.filter(pa.array(wide))))
    lo, hi = low[wide].view(np.uint64), high[wide].view(np.uint64)
    negative = high[wide] < 0
    # magnitude of the two's complement value: |v| < 10**38 < 2**127
    lo_m = np.where(negative, ~lo + np.uint64(1), lo)
    hi_m = np.where(negative, ~hi + (lo == 0).astype(np.uint64), hi)
    mask43 = np.uint64(2**43 - 1)
    part_c = (lo_m & mask43).astype(np.float64)
    part_b = ((lo_m >> np.uint64(43)) | ((hi_m & np.uint64(2**22 - 1)) << np.uint64(21))).astype(np.float64)
    part_a = (hi_m >> np.uint64(22)).astype(np.float64)
    big, mid = part_a * 2.0**86, part_b * 2.0**43
    s, e = _fast_two_sum(big, mid)  # parts in decreasing order, so |big| >= |mid| or big == 0
    high_part, low_part = _fast_two_sum(s, e + part_c)
    divisor = 10.0**scale
    q1 = high_part / divisor
    product, product_err = _two_product(q1, divisor)
    rest = ((high_part - product) - product_err) + low_part  # high_part - product is exact (Sterbenz)
    q2 = rest / divisor
    up = np.nextafter(q1, np.inf)
    down = np.nextafter(q1, -np.inf)
    toward = np.where(q2 >= 0, up, down)
    boundary = np.abs(toward - q1) / 2
    tolerance = np.abs(q1) * 2.0**-88
    result = np.where(np.abs(q2) > boundary, toward, q1)
    unsure = np.abs(np.abs(q2) - boundary) <= tolerance
    result = np.where(negative, -result, result)
    if unsure.any():
        where = np.flatnonzero(wide)[unsure]
        result[unsure] = _numpy(_decimal_via_text(array.take(pa.array(where))))
    return result


def _fast_two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = a + b
    return total, b - (total - a)


def _two_product(a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """a * b as a rounded product and its exact error (Dekker's split, no FMA needed)."""
    product = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(np.float64(b))
    return product, ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _split(x: np.ndarray | np.float64) -> tuple[Any, Any]:
    c = 134217729.0 * x  # 2**27 + 1
    high = c - (c - x)
    return high, x - high


def _numpy(array: pa.Array) -> np.ndarray:
    values: np.ndarray = array.to_numpy(zero_copy_only=False)
    return values


def _decimal_via_text(array: pa.Array) -> pa.Array:
    return array.cast(pa.string()).cast(pa.float64())  # decimal -> text is exact, text -> double rounds once


def build_frame(batches: Iterable[pa.RecordBatch], schema: pa.Schema, *, rows: int | None = None,
                exact_decimals: bool = False) -> pd.DataFrame:
    """The DataFrame `to_pandas(pa.Table.from_batches(batches))` gives, without ever holding the whole table
    (and with each column's own dtype where pyarrow's one-shot conversion gives a text column's dtype to
    every column of the same name).

    Fixed-width columns are copied into numpy columns as each batch arrives, so the batch can go right
    away; text and nested columns keep their Arrow chunks, which pandas' `str` dtype then wraps without a
    copy. `rows` is the expected row count (the result's metadata), used to allocate once; the columns
    grow if more rows come and are cut to the rows that came. `schema` is used only when no batch arrives.
    """
    builder: _FrameBuilder | None = None
    for batch in batches:
        if builder is None:
            builder = _FrameBuilder(batch.schema, rows, exact_decimals)
        builder.add(batch)
        del batch  # the loop variable would keep the batch alive while the next one is awaited
    return (builder or _FrameBuilder(schema, 0, exact_decimals)).finish()


def _float_field(field: pa.Field) -> pa.Field:
    return pa.field(field.name, pa.float64()) if pa.types.is_decimal(field.type) else field


def _pandas_dtype(atype: pa.DataType) -> Any:
    # Asking pyarrow itself (on an empty array) keeps units and zone objects exactly as its converter has them.
    return pa.array([], atype).to_pandas(**PANDAS_OPTIONS, self_destruct=True).dtype


def _fills_numpy(atype: pa.DataType) -> bool:
    t = pa.types
    return bool(t.is_integer(atype) or t.is_float32(atype) or t.is_float64(atype) or t.is_boolean(atype)
            or t.is_date32(atype) or t.is_timestamp(atype) or t.is_duration(atype))


class _FrameBuilder:
    def __init__(self, schema: pa.Schema, rows: int | None, exact_decimals: bool) -> None:
        self.schema = schema
        self.rows = 0
        self.capacity = max(rows or 0, 0)
        self.columns: list[_Column] = []
        for field in schema:
            atype = field.type
            if pa.types.is_decimal(atype) and not exact_decimals:
                self.columns.append(_Filled(pa.float64(), from_decimal=True))
            elif _fills_numpy(atype):
                self.columns.append(_Filled(atype))
            elif pa.types.is_null(atype):
                self.columns.append(_Nulls())
            else:
                self.columns.append(_Kept(atype))

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.schema != self.schema:
            # as the fetcher does: a later chunk may widen a decimal or change a zone
            batch = pa.RecordBatch.from_arrays(
                [batch.column(i).cast(f.type) for i, f in enumerate(self.schema)], schema=self.schema)
        count = batch.num_rows
        if count == 0:
            return
        end = self.rows + count
        if end > self.capacity:
            # more rows than announced: grow geometrically, so a wrong count costs few reallocations
            self.capacity = max(end, 2 * self.capacity)
            for column in self.columns:
                column.resize(self.capacity, self.rows)
        for index, column in enumerate(self.columns):
            column.put(batch.column(index), self.rows, self.capacity)
        self.rows = end

    def finish(self) -> pd.DataFrame:
        import pandas as pd

        data = {}
        for index, column in enumerate(self.columns):
            data[index] = column.finish(self.rows)
            self.columns[index] = _Nulls()  # drop the builder's hold on what the frame now owns
        frame = pd.DataFrame(data, copy=False)
        frame.columns = pd.Index(self.schema.names)
        return frame


class _Column:
    def resize(self, capacity: int, filled: int) -> None:
        pass

    def put(self, array: pa.Array, start: int, capacity: int) -> None:
        raise NotImplementedError

    def finish(self, rows: int) -> Any:
        raise NotImplementedError


class _Filled(_Column):
    """A fixed-width column written straight into numpy. Integers and booleans keep their own dtype and gain a
    null mask once a null shows up (pandas' masked Int64/boolean at the end, as `to_pandas` gives); floats,
    dates and timestamps carry their nulls as NaN/NaT."""

    def __init__(self, atype: pa.DataType, from_decimal: bool = False) -> None:
        self.atype = atype
        self.from_decimal = from_decimal  # decimals arrive, float64 is kept
        self.target = _pandas_dtype(atype)
        self.masked = _masked_dtype(atype)
        # A zoned timestamp is filled as its UTC instants and given its zone at the end.
        self.zone = getattr(self.target, "tz", None)
        self.values: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        self.growing = False

    def put(self, array: pa.Array, start: int, capacity: int) -> None:
        if self.from_decimal:
            chunk = decimal_floats(array)
        elif self.masked is not None and array.null_count:
            if self.mask is None:
                self.mask = _room(len(self.values) if self.values is not None else capacity, np.dtype(bool),
                                  self.growing, zeroed=True)
            self.mask[start:start + len(array)] = array.is_null().to_numpy(zero_copy_only=False)
            chunk = _masked_values(array)
        else:
            chunk = array.to_numpy(zero_copy_only=False)
        if self.values is None:
            self.values = _room(capacity, chunk.dtype if self.zone else np.dtype(self.target), self.growing)
        self.values[start:start + len(chunk)] = chunk

    def resize(self, capacity: int, filled: int) -> None:
        self.growing = True  # more rows than announced (or none announced): room that grows without copies
        _resize(self, "values", capacity, filled)
        if _resize(self, "mask", capacity, filled):
            self.mask[filled:] = False  # type: ignore[index]

    def finish(self, rows: int) -> Any:
        if self.values is None:  # no rows at all
            self.values = np.empty(0, dtype="datetime64[us]" if self.zone else np.dtype(self.target))
        _resize(self, "values", rows, rows)
        values, self.values = self.values, None
        if self.mask is not None:
            import pandas as pd

            _resize(self, "mask", rows, rows)
            mask, self.mask = self.mask, None
            return (pd.arrays.BooleanArray if values.dtype == bool else pd.arrays.IntegerArray)(values, mask)
        if self.zone is None:
            return values
        import pandas as pd

        return pd.Series(values, copy=False).dt.tz_localize("UTC").dt.tz_convert(self.zone)


def _masked_values(array: pa.Array) -> np.ndarray:
    """The values of an integer or boolean array with nulls, as its own numpy dtype (what is under a null is
    arbitrary: the mask says)."""
    if pa.types.is_boolean(array.type):
        return _numpy(array.fill_null(False))
    dtype = np.dtype(array.type.to_pandas_dtype())
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + len(array))[array.offset:]


# A result streamed before the engine knew its row count grows its columns as the rows come. Grown by realloc,
# each step copied a column beside its old block, which the C heap then kept: the 64-column shape peaked at
# +109 MiB for a 61 MiB frame (+63 MiB when the count was known). An anonymous mapping of its own grows by
# remapping (no copy), its pages count only once written, and it goes back to the system when the frame dies.
_PRIVATE: int | None = getattr(mmap, "MAP_PRIVATE", None)


def _room(capacity: int, dtype: np.dtype[Any], growing: bool, zeroed: bool = False) -> np.ndarray:
    """An empty column of `capacity` values: from the C heap when its length is known, else in an anonymous
    mapping of its own (zeroed, and grown in place by `_resize`)."""
    if not growing or _PRIVATE is None:
        return np.zeros(capacity, dtype=dtype) if zeroed else np.empty(capacity, dtype=dtype)
    space = mmap.mmap(-1, max(capacity * dtype.itemsize, mmap.PAGESIZE), flags=_PRIVATE)
    return np.frombuffer(space, dtype=dtype, count=capacity)


def _resize(owner: Any, name: str, capacity: int, filled: int) -> bool:
    """Gives `owner.<name>` (a column, or None) room for `capacity` values, its first `filled` kept. True when
    the room past `filled` may hold garbage (the C heap's); a mapping's new pages are zeros."""
    values = getattr(owner, name)
    if values is None or len(values) == capacity:
        return False
    setattr(owner, name, None)
    base = values.base
    space = base.obj if isinstance(base, memoryview) else base  # np.frombuffer's base is a view of the mapping
    if isinstance(space, mmap.mmap):
        dtype = values.dtype
        del values, base  # the mapping resizes only while no view of it is alive
        try:
            space.resize(max(capacity * dtype.itemsize, mmap.PAGESIZE))
            setattr(owner, name, np.frombuffer(space, dtype=dtype, count=capacity))
        except (BufferError, OSError, SystemError, ValueError):  # no mremap on this system, or a view lives on
            moved = _room(capacity, dtype, True)
            moved[:filled] = np.frombuffer(space, dtype=dtype, count=filled)
            setattr(owner, name, moved)
        return False
    if values.dtype != object and values.flags.owndata:
        # realloc in place: a shrink frees the tail (never written, so never resident anyway)
        values.resize(capacity, refcheck=False)
        setattr(owner, name, values)
        return True
    moved = np.empty(capacity, dtype=values.dtype)
    moved[:filled] = values[:filled]
    setattr(owner, name, moved)
    return True


class _Nulls(_Column):
    """A column of the null type: nothing to keep per batch, pyarrow gives an object column of None."""

    def put(self, array: pa.Array, start: int, capacity: int) -> None:
        pass

    def finish(self, rows: int) -> Any:
        return np.full(rows, None, dtype=object)


class _Kept(_Column):
    """Text, nested and exact-decimal columns: their Arrow chunks are kept and converted once at the end
    (pandas' Arrow-backed `str` dtype takes the chunks as they are, once they have 64-bit offsets)."""

    def __init__(self, atype: pa.DataType) -> None:
        self.atype = pa.large_string() if pa.types.is_string(atype) else atype
        self.chunks: list[pa.Array] = []

    def put(self, array: pa.Array, start: int, capacity: int) -> None:
        # pandas widens text offsets to 64 bits; chunk by chunk, the narrow ones never pile up
        self.chunks.append(array.cast(self.atype) if array.type != self.atype else array)

    def finish(self, rows: int) -> Any:
        chunked = pa.chunked_array(self.chunks, type=self.atype)
        self.chunks = []
        return chunked.to_pandas(**PANDAS_OPTIONS, self_destruct=True)
