"""Thrift TBinaryProtocol primitives over a bytes buffer, with lists read as big-endian numpy views."""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from e6magic.wire.errors import ChunkDecodeError

STOP = 0
BOOL = 2
BYTE = 3
DOUBLE = 4
I16 = 6
I32 = 8
I64 = 10
STRING = 11
STRUCT = 12
MAP = 13
SET = 14
LIST = 15

TTYPE_NAMES = {
    BOOL: "bool", BYTE: "byte", DOUBLE: "double", I16: "i16", I32: "i32", I64: "i64",
    STRING: "string", STRUCT: "struct", MAP: "map", SET: "set", LIST: "list",
}
# Big-endian numpy dtypes of the fixed-width element types.
FIXED_DTYPES: dict[int, np.dtype[Any]] = {
    BOOL: np.dtype(np.uint8), BYTE: np.dtype(np.int8), I16: np.dtype(">i2"),
    I32: np.dtype(">i4"), I64: np.dtype(">i8"), DOUBLE: np.dtype(">f8"),
}

_FIELD_HEADER = struct.Struct(">bh")
_LIST_HEADER = struct.Struct(">bi")
_MAP_HEADER = struct.Struct(">bbi")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")
_SCALARS = {I16: struct.Struct(">h"), I32: _I32, I64: _I64, DOUBLE: _DOUBLE}
_MAX_DEPTH = 64


class StringList:
    """A Thrift list<string> inside the buffer: where it starts and each element's byte length.

    `uniform` is the common length when every element has the same one (decimals, zones,
    fixed-width text), so the elements form a regular grid of `4 + uniform` bytes.
    """

    __slots__ = ("start", "end", "lengths", "uniform")

    def __init__(self, start: int, end: int, lengths: np.ndarray, uniform: int | None = None) -> None:
        self.start = start
        self.end = end
        self.lengths = lengths
        self.uniform = uniform

    def __len__(self) -> int:
        return len(self.lengths)


def walk_string_lengths(buf: bytes, pos: int, count: int) -> list[int]:
    """The byte lengths of `count` length-prefixed strings starting at `pos`, one prefix at a time.

    The walk is inherently sequential (each prefix says where the next one is); `string_lengths`
    does most of it with numpy and falls back to this loop where its guesses do not hold.
    """
    return _walk(buf, pos, count)[0]


def _walk(buf: bytes, pos: int, count: int) -> tuple[list[int], int]:
    """`walk_string_lengths`, and where the string after the last one starts."""
    unpack = _I32.unpack_from
    lengths = [0] * count
    for index in range(count):  # kept minimal: this loop is the decoder's hot spot (see docs/benchmarks.md)
        length = unpack(buf, pos)[0]
        lengths[index] = length
        pos += 4 + length
    if count and min(lengths) < 0:
        raise ChunkDecodeError(f"negative string length {min(lengths)} in a list of {count} strings")
    return lengths, pos


WALK_BLOCK = 1 << 16  # most bytes proved at a time: past ~64 KiB a block's numpy passes stop getting cheaper per byte

# The work model the walk budgets with, in units of one string walked by `walk_string_lengths`, fitted
# by `python bench/bench_walk.py` over text, zeros, binary and NUL-rich bytes, and rounded up.
BLOCK_COST = 500.0  # one `_prove_block`: a score of numpy calls, ~3 us each here
BYTE_COST = 0.012  # each byte it scans
GUESS_COST = 0.06  # each prefix it guesses (a run of zeros starts one, and every 4 bytes along it)
OVERHEAD = 0.10  # the walk may cost this fraction more than walking every string, and no more
_WALK_STRETCH = 1024  # strings walked one by one after a block that did not pay for itself, at first


class WalkWork:
    """Work one `string_lengths` call did, counted for the tests and the benchmark (not timed).

    `blocks` numpy blocks scanned `scanned` bytes, guessed `guessed` prefixes and proved `proved`
    strings; `walked` strings were read one prefix at a time. `cost()` is that work in the model's units.
    """

    __slots__ = ("blocks", "scanned", "guessed", "proved", "walked")

    def __init__(self) -> None:
        self.blocks = self.scanned = self.guessed = self.proved = self.walked = 0

    def cost(self) -> float:
        return self.walked + self.blocks * BLOCK_COST + self.scanned * BYTE_COST + self.guessed * GUESS_COST


def string_lengths(buf: bytes, pos: int, count: int, work: WalkWork | None = None) -> np.ndarray:
    """The byte lengths of `count` length-prefixed strings starting at `pos`, as the walk finds them.

    Guess, then prove, a block of bytes at a time. A length below 2**24 starts with a zero byte, and
    text rarely holds one, so a prefix is guessed at the start of every run of zero bytes and every 4
    bytes along it (an empty string's prefix is 4 zero bytes). The guesses are then proved from the
    first one on: a guess counts only if the one before it, read as a length, points exactly at it, so
    what is kept is exactly what the sequential walk would find. The rest is walked one prefix at a time.

    Walking all `count` strings costs `count` in the model's units; the blocks may spend OVERHEAD of
    that, plus what the strings they proved would have cost to walk. A block runs only if the most it
    can cost fits what is left, so whatever the bytes (binary, NULs in text, long strings, lengths of
    2**24 and more, zeros or other vectors after the list) `work.cost()` stays within (1 + OVERHEAD) *
    `count` for a list the walk reads to its end.
    """
    work = work if work is not None else WalkWork()
    if OVERHEAD * count < BLOCK_COST:  # too few strings to afford a single block
        work.walked += count
        return np.array(walk_string_lengths(buf, pos, count), dtype=np.int64)
    lengths = np.empty(count, dtype=np.int64)
    done, budget, seen = 0, OVERHEAD * count, 0.0
    block, stretch = WALK_BLOCK // 2, _WALK_STRETCH
    while done < count:
        window = _window(buf, pos, count - done, seen, min(block, _affordable(budget)))
        if window:
            proved, guessed, end = _prove_block(buf, pos, window, lengths[done:])
            work.blocks += 1
            work.scanned += window
            work.guessed += guessed
            work.proved += proved
            cost = BLOCK_COST + BYTE_COST * window + GUESS_COST * guessed
            budget += proved - cost
            seen, pos, done = (end - pos) / proved, end, done + proved
            if proved >= cost or done == count:  # it paid for itself
                block, stretch = min(2 * block, WALK_BLOCK), _WALK_STRETCH
                continue
            block = max(block // 2, 1024)  # bytes that break the proof: smaller tries, further apart
        walk = min(count - done, stretch)
        stretch *= 2
        work.walked += walk
        try:
            lengths[done:done + walk], end = _walk(buf, pos, walk)
            seen, pos = (end - pos) / walk, end
        except ChunkDecodeError:  # a negative length: the walk from here on fails as the whole walk would
            work.walked += count - done - walk
            lengths[done:] = walk_string_lengths(buf, pos, count - done)
            break
        done += walk
    return lengths


def _pays(seen: float) -> bool:
    """Whether a full block proves strings of `seen` bytes (prefix included) for less than walking them."""
    strings = WALK_BLOCK / seen
    return BLOCK_COST + BYTE_COST * WALK_BLOCK + GUESS_COST * strings < 0.8 * strings


def _affordable(budget: float) -> int:
    """The most bytes a block may scan for at most `budget`, at the worst rate of guesses (one every 2 bytes)."""
    return max(0, int((budget - BLOCK_COST) / (BYTE_COST + GUESS_COST / 2)))


def _window(buf: bytes, pos: int, remaining: int, seen: float, most: int) -> int:
    """How many bytes from `pos` the next block scans (0: walk instead); `seen`: bytes a string took lately.

    At most `most`, and sized for the strings left at the lengths seen lately plus a quarter, so a
    block ends near the list's end instead of scanning what follows it. None when the next prefix
    cannot be guessed (a length of 2**24 or more), or when strings are so long that scanning their
    bytes costs more than walking them.
    """
    if pos + 64 > len(buf) or buf[pos] != 0 or (seen and not _pays(seen)):
        return 0
    window = min(len(buf) - pos, most, int(remaining * (seen or 16) * 1.25) + 64)
    return window if window >= 64 else 0


def _prove_block(buf: bytes, pos: int, window: int, out: np.ndarray) -> tuple[int, int, int]:
    """Prove guessed prefixes in `window` bytes from `pos` (a prefix): (proved, guessed, where the next starts).

    One pass finds the runs of zero bytes; a run of n bytes holds a guess every 4 bytes from its
    start (a run of empty strings, or the zeros after the list, is a guess per empty prefix), so the
    guesses cost one pass whatever the bytes, not one round per empty string.
    """
    zero = np.frombuffer(buf, np.uint8, window, pos) == 0
    edges = np.flatnonzero(zero[1:] != zero[:-1]) + 1  # where runs of zeros and of other bytes meet
    run_starts = np.concatenate(([0], edges[1::2]))
    run_ends = edges[::2]
    if len(run_ends) < len(run_starts):
        run_ends = np.append(run_ends, window)
    run_lengths = run_ends - run_starts
    if run_lengths.max() > 4:  # runs of empty strings, or zeros after the list: a guess at 0, 4, 8, ... along each
        per_run = (run_lengths + 3) >> 2
        firsts = np.cumsum(per_run) - per_run
        starts = np.repeat(run_starts - 4 * firsts, per_run) + 4 * np.arange(int(firsts[-1] + per_run[-1]))
    else:
        starts = run_starts
    guessed = len(starts)
    starts = starts[: np.searchsorted(starts, window - 3)]  # a prefix needs its 4 bytes inside the window
    gaps = np.diff(starts)
    if len(gaps) and gaps.min() < 4:  # a zero inside a guessed prefix (a length such as 256) is part of it
        starts = starts[np.concatenate(([True], gaps >= 4))]
    words = np.ndarray((window - 3,), dtype=">u4", buffer=buf, offset=pos, strides=(1,))  # a length at every byte
    lengths = words[starts]
    ends = starts + 4 + lengths
    broken = np.flatnonzero(ends[:-1] != starts[1:])
    proved = min(int(broken[0]) + 1 if len(broken) else len(starts), len(out))
    out[:proved] = lengths[:proved]
    return proved, guessed, pos + int(ends[proved - 1])


class ThriftReader:
    """A forward-only TBinaryProtocol reader; every read is bounds-checked by struct or numpy."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def field_header(self) -> tuple[int, int]:
        """(ttype, field id) of the next field; ttype STOP (0) ends the struct."""
        ttype = self.buf[self.pos]
        if ttype == STOP:
            self.pos += 1
            return STOP, 0
        _, fid = _FIELD_HEADER.unpack_from(self.buf, self.pos)
        self.pos += 3
        return ttype, fid

    def scalar(self, ttype: int) -> Any:
        """Read one bool, byte, i16, i32, i64 or double."""
        if ttype == BOOL or ttype == BYTE:
            value = self.buf[self.pos]
            self.pos += 1
            return value != 0 if ttype == BOOL else (value - 256 if value > 127 else value)
        packer = _SCALARS[ttype]
        (value,) = packer.unpack_from(self.buf, self.pos)
        self.pos += packer.size
        return value

    def binary(self) -> bytes:
        """Read one length-prefixed string/binary value as bytes."""
        (length,) = _I32.unpack_from(self.buf, self.pos)
        start = self.pos + 4
        end = start + length
        if length < 0 or end > len(self.buf):
            raise ChunkDecodeError(f"string of {length} bytes at byte {self.pos} does not fit the chunk")
        self.pos = end
        return bytes(self.buf[start:end])  # a copy, even when reading a memoryview: it may outlive the buffer

    def list_header(self) -> tuple[int, int]:
        etype, count = _LIST_HEADER.unpack_from(self.buf, self.pos)
        # Every element takes at least one byte, so a larger count is corrupt (and must not allocate).
        if count < 0 or count > len(self.buf) - self.pos - 5:
            raise ChunkDecodeError(f"list length {count} at byte {self.pos} does not fit the chunk")
        self.pos += 5
        return etype, count

    def fixed_list(self, etype: int, count: int) -> np.ndarray:
        """A zero-copy big-endian view of `count` fixed-width elements."""
        dtype = FIXED_DTYPES[etype]
        end = self.pos + count * dtype.itemsize
        if end > len(self.buf):
            raise ChunkDecodeError(
                f"list of {count} {TTYPE_NAMES[etype]} at byte {self.pos} does not fit the chunk"
            )
        view = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos = end
        return view

    def string_list(self, count: int) -> StringList:
        start = self.pos
        if 4 * count > len(self.buf) - start:
            raise ChunkDecodeError(f"list of {count} strings at byte {start} does not fit the chunk")
        uniform = self._uniform_length(count)
        if uniform is not None:
            self.pos = start + (4 + uniform) * count
            return StringList(start, self.pos, np.full(count, uniform, dtype=np.int64), uniform)
        lengths = string_lengths(self.buf, start, count)
        end = start + 4 * count + int(lengths.sum())
        if end > len(self.buf):
            raise ChunkDecodeError(f"list of {count} strings at byte {start} does not fit the chunk")
        self.pos = end
        return StringList(start, end, lengths)

    def _uniform_length(self, count: int) -> int | None:
        """The common element length if all `count` prefixes on the grid it implies agree, else None.

        One strided numpy compare replaces the sequential walk for equal-length elements.
        """
        if count == 0 or self.pos + 4 > len(self.buf):
            return None
        (first,) = _I32.unpack_from(self.buf, self.pos)
        stride = 4 + first
        if first < 0 or self.pos + stride * count > len(self.buf):
            return None
        prefixes = np.ndarray((count,), dtype=">i4", buffer=self.buf, offset=self.pos, strides=(stride,))
        if not (prefixes[:16] == first).all():  # text of varied lengths is told apart on its first prefixes
            return None
        return first if bool((prefixes == first).all()) else None

    def skip(self, ttype: int, depth: int = 0) -> None:
        """Skip one value of any TType (unknown fields from a newer engine)."""
        if depth > _MAX_DEPTH:
            raise ChunkDecodeError("Thrift structures nested too deeply")
        if ttype in FIXED_DTYPES:
            size = FIXED_DTYPES[ttype].itemsize
            if self.pos + size > len(self.buf):
                raise ChunkDecodeError(f"value at byte {self.pos} does not fit the chunk")
            self.pos += size
        elif ttype == STRING:
            self.binary()
        elif ttype == STRUCT:
            while True:
                ftype, _ = self.field_header()
                if ftype == STOP:
                    return
                self.skip(ftype, depth + 1)
        elif ttype == LIST or ttype == SET:
            etype, count = self.list_header()
            self._skip_elements(etype, count, depth)
        elif ttype == MAP:
            ktype, vtype, count = _MAP_HEADER.unpack_from(self.buf, self.pos)
            if count < 0:
                raise ChunkDecodeError(f"negative map size {count} at byte {self.pos}")
            self.pos += 6
            for _ in range(count):
                self.skip(ktype, depth + 1)
                self.skip(vtype, depth + 1)
        else:
            raise ChunkDecodeError(f"unknown Thrift type {ttype} at byte {self.pos}")

    def _skip_elements(self, etype: int, count: int, depth: int) -> None:
        if etype in FIXED_DTYPES:
            self.fixed_list(etype, count)
        elif etype == STRING:
            self.string_list(count)
        else:
            for _ in range(count):
                self.skip(etype, depth + 1)


class ThriftWriter:
    """Builds TBinaryProtocol bytes from parts; big payloads are appended as buffers, not copied."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def field(self, ttype: int, fid: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(ttype, fid))

    def stop(self) -> None:
        self.parts.append(b"\x00")

    def i32_field(self, fid: int, value: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(I32, fid) + _I32.pack(value))

    def bool_field(self, fid: int, value: bool) -> None:
        self.parts.append(_FIELD_HEADER.pack(BOOL, fid) + (b"\x01" if value else b"\x00"))

    def byte_field(self, fid: int, value: int) -> None:
        self.parts.append(_FIELD_HEADER.pack(BYTE, fid) + struct.pack(">b", value))

    def binary_field(self, fid: int, value: bytes) -> None:
        self.parts.append(_FIELD_HEADER.pack(STRING, fid) + _I32.pack(len(value)))
        self.parts.append(value)

    def list_field(self, fid: int, etype: int, count: int, body: Any) -> None:
        """A list field whose element bytes (`body`, any buffer) are already encoded."""
        self.parts.append(_FIELD_HEADER.pack(LIST, fid) + _LIST_HEADER.pack(etype, count))
        self.parts.append(body)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)
