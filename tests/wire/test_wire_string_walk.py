"""The guessed-and-proved string walk finds exactly what the one-prefix-at-a-time walk finds, on any bytes."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e6magic.wire import ChunkDecodeError
from e6magic.wire import thrift_binary
from e6magic.wire.thrift_binary import OVERHEAD, WALK_BLOCK, WalkWork, string_lengths, walk_string_lengths

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def body(values: list[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(v)) + v for v in values)


def outcome(walk, buf: bytes, pos: int, count: int):
    try:
        return [int(n) for n in walk(buf, pos, count)]
    except (ChunkDecodeError, struct.error) as exc:
        return type(exc)


# Strings chosen to break the guesses: NULs anywhere, empty runs, lengths whose low bytes are zero.
AWKWARD = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=30).map(str.encode),
    st.sampled_from([b"", b"\x00", b"\x00\x00\x00\x00", b"x" * 256, b"y" * 512, b"\x00" * 255]),
)


@SETTINGS
@given(values=st.lists(AWKWARD, max_size=300), lead=st.binary(max_size=8), tail=st.binary(max_size=64))
def test_same_lengths_as_the_walk_whatever_the_bytes(values, lead, tail):
    buf = lead + body(values) + tail
    assert outcome(string_lengths, buf, len(lead), len(values)) == [len(v) for v in values]


@SETTINGS
@given(buf=st.binary(min_size=0, max_size=400), pos=st.integers(0, 40), count=st.integers(0, 120))
def test_corrupt_bytes_fail_or_pass_as_the_walk_does(buf, pos, count):
    assert outcome(string_lengths, buf, pos, count) == outcome(walk_string_lengths, buf, pos, count)


def test_strings_across_blocks_and_longer_than_a_block():
    rng = np.random.default_rng(7)
    values = [b"customer %d" % i for i in range(20000)]
    values[5000] = b"z" * (WALK_BLOCK + 17)  # one string longer than a whole block
    values[9000:9010] = [b""] * 10  # a run of empty strings (nulls travel as these)
    values[12000] = bytes(rng.integers(0, 3, 3000, dtype=np.uint8))  # binary, mostly NULs
    buf = body(values) + b"\x00" * 100
    assert string_lengths(buf, 0, len(values)).tolist() == [len(v) for v in values]


def test_text_is_walked_without_the_loop(monkeypatch):
    """Ordinary text (short strings, empty ones for nulls) is proved block by block, never walked one by one."""
    def loop(*args):
        raise AssertionError("fell back to the one-prefix-at-a-time walk")

    monkeypatch.setattr(thrift_binary, "walk_string_lengths", loop)
    values = [b"" if i % 10 == 4 else b"customer %d" % (i % 50000) for i in range(16384)]
    buf = body(values) + struct.pack(">q", 0) * 1000  # followed by zero-heavy data, as the next column would be
    assert string_lengths(buf, 0, len(values)).tolist() == [len(v) for v in values]


@pytest.mark.parametrize("length", [-1, 2**24, 2**31 - 1])
def test_lengths_the_guess_cannot_see_still_fail_as_the_walk_does(length):
    buf = body([b"ab", b"cd"]) + struct.pack(">i", length) + b"tail"
    assert outcome(string_lengths, buf, 0, 3) == outcome(walk_string_lengths, buf, 0, 3)


@pytest.mark.parametrize("length", [-1, -(2**31), 2**24, 2**31 - 1])
def test_a_bad_length_right_after_an_empty_string_fails_as_the_walk_does(length):
    """The 4 bytes after an empty string's prefix are guessed to be a prefix: not when they cannot be one."""
    buf = body([b"ab", b""]) + struct.pack(">i", length) + b"tail"
    assert outcome(string_lengths, buf, 0, 3) == outcome(walk_string_lengths, buf, 0, 3)


@SETTINGS
@given(values=st.lists(AWKWARD, min_size=1, max_size=200), data=st.data(),
       length=st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-4, 300)))
def test_one_corrupt_prefix_anywhere_fails_or_passes_as_the_walk_does(values, data, length):
    index = data.draw(st.integers(0, len(values) - 1))
    at = sum(4 + len(v) for v in values[:index])
    buf = bytearray(body(values) + b"\x0f\x00\x01")
    buf[at:at + 4] = struct.pack(">i", length)
    buf = bytes(buf)
    assert outcome(string_lengths, buf, 0, len(values)) == outcome(walk_string_lengths, buf, 0, len(values))


# The work the walk does, counted (never timed): at most 1 + OVERHEAD times walking every string.
def counted(buf: bytes, count: int) -> WalkWork:
    work = WalkWork()
    assert string_lengths(buf, 0, count, work).tolist() == walk_string_lengths(buf, 0, count)
    assert work.walked + work.proved == count
    return work


def dates(count: int) -> bytes:
    """What a DATE vector's values look like on the wire after a VARCHAR list: i64 micros, zero-heavy."""
    return ((np.arange(count) % 3000 + 18262) * 86_400_000_000).astype(">i8").tobytes()


RNG = np.random.default_rng(11)
HOSTILE = {  # what may follow or fill a list: each one broke a guess, or made the old walk loop
    "text then dates": (body([b"name_%d" % (i % 5000) for i in range(65536)]) + dates(65536), 65536),
    "text then zeros": (body([b"name_%d" % i for i in range(30000)]) + bytes(400_000), 30000),
    "empty strings then zeros": (body([b""] * 30000) + bytes(400_000), 30000),
    "NUL-rich text": (body([b"a\x00b\x00" * (i % 4) for i in range(30000)]), 30000),
    "binary, mostly NULs": (body([RNG.integers(0, 3, i % 40, dtype=np.uint8).tobytes() for i in range(20000)]), 20000),
    "binary": (body([RNG.integers(0, 256, i % 40, dtype=np.uint8).tobytes() for i in range(20000)]), 20000),
    "~200 byte text then zeros": (body([b"z" * (190 + i % 20) for i in range(20000)]) + bytes(100_000), 20000),
    "one 2**24 string, then text": (body([b"L" * 2**24] + [b"name_%d" % i for i in range(30000)]), 30001),
    "lengths of 256 and up": (body([b"w" * (256 + i % 45) for i in range(8000)]), 8000),
    "a few strings": (body([b"s%d" % i for i in range(100)]) + bytes(1000), 100),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_no_bytes_make_the_walk_cost_more_than_walking_every_string(name):
    buf, count = HOSTILE[name]
    work = counted(buf, count)
    assert work.cost() <= (1 + OVERHEAD) * count
    assert work.scanned <= len(buf)


def test_a_varchar_before_a_date_column_is_proved_not_walked():
    """The cliff: the zeros of the next vector cost a numpy round per 4 bytes, and a whole-window copy each."""
    buf, count = HOSTILE["text then dates"]
    work = counted(buf, count)
    assert work.walked == 0
    assert work.cost() <= 0.4 * count  # blocks of ~64 KiB, each one pass over its bytes
    assert work.scanned <= 1.1 * len(body([b"name_%d" % (i % 5000) for i in range(count)]))


@pytest.mark.parametrize("name", ["text then zeros", "empty strings then zeros", "one 2**24 string, then text"])
def test_ordinary_text_is_mostly_proved(name):
    buf, count = HOSTILE[name]
    work = counted(buf, count)
    assert work.walked <= 0.15 * count
    assert work.cost() <= 0.5 * count


@SETTINGS
@given(values=st.lists(AWKWARD, min_size=1, max_size=3000), copies=st.integers(1, 20),
       tail=st.sampled_from([b"", bytes(20000), b"\x00\x01" * 10000, dates(2500)]))
def test_adversarial_lists_never_cost_more_than_the_walk(values, copies, tail):
    values = values * copies
    work = counted(body(values) + tail, len(values))
    assert work.cost() <= (1 + OVERHEAD) * len(values)


def _escaped_by_decoder_errors(raw: bytes) -> str:
    """The reference: each byte the UTF-8 decoder rejects, as `\\xAB`, found through UnicodeDecodeError itself."""
    out, pos = [], 0
    while True:
        try:
            out.append(raw[pos:].decode("utf-8"))
            return "".join(out)
        except UnicodeDecodeError as error:
            out.append(raw[pos:pos + error.start].decode("utf-8"))
            out.append("".join(f"\\x{byte:02X}" for byte in raw[pos + error.start:pos + error.end]))
            pos += error.end


@given(st.binary(max_size=64) | st.text(max_size=16).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_invalid_bytes_read_as_hex_escapes_whatever_the_bytes(raw):
    from e6magic.wire.text import bytes_to_text

    assert bytes_to_text(raw) == _escaped_by_decoder_errors(raw)
