"""Benchmark the VARCHAR length walk on hostile bytes: `string_lengths` against the sequential walk, and its work model.

Run: .venv/bin/python bench/bench_walk.py [--repeats 7]
For each list shape it times the sequential walk (into the same int64 array the decoder needs) and
`string_lengths`, interleaved, medians; then fits the model's block, byte and guess costs (in units of
one walked string) to timed `_prove_block` calls over text, zeros, binary and NUL-rich bytes. The
constants in `e6magic/wire/thrift_binary.py` are this fit rounded up.
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import struct
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e6magic.wire import thrift_binary as tb  # noqa: E402


def body(values: list[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(v)) + v for v in values)


def shapes(n: int) -> dict[str, tuple[bytes, int]]:
    rng = np.random.default_rng(3)
    dates = ((np.arange(n) % 3000 + 18262) * 86_400_000_000).astype(">i8").tobytes()
    return {
        "text, then a DATE vector (the issue's cliff)": (body([b"name_%d" % (i % 5000) for i in range(n)]) + dates, n),
        "text, then zeros": (body([b"name_%d" % (i % 5000) for i in range(n)]) + bytes(8 * n), n),
        "empty strings, then zeros": (body([b""] * n) + bytes(8 * n), n),
        "every other string empty": (body([b"" if i % 2 else b"abc" for i in range(n)]) + dates, n),
        "NUL-rich text": (body([b"a\x00b\x00" * (i % 4) for i in range(n)]) + bytes(1000), n),
        "binary, mostly NULs": (body([rng.integers(0, 3, i % 40, dtype=np.uint8).tobytes() for i in range(n)]), n),
        "binary": (body([rng.integers(0, 256, i % 40, dtype=np.uint8).tobytes() for i in range(n)]), n),
        "~60 byte text": (body([b"y" * (50 + i % 20) for i in range(n)]), n),
        "~200 byte text, then zeros": (body([b"z" * (190 + i % 20) for i in range(n // 3)]) + bytes(8 * n), n // 3),
        "10 KB strings": (body([b"q" * (10000 + i % 7) for i in range(500)]), 500),
        "one 2**24 string, then text": (body([b"L" * 2**24] + [b"name_%d" % i for i in range(n)]), n + 1),
        "lengths 256-300": (body([b"w" * (256 + i % 45) for i in range(n // 8)]), n // 8),
        "100 strings": (body([b"s%d" % i for i in range(100)]) + bytes(1000), 100),
    }


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(buf: bytes, count: int, repeats: int) -> tuple[float, float]:
    walk, ours = [], []
    for _ in range(repeats):  # interleaved: the machine's noise falls on both
        walk.append(timed(lambda: np.array(tb.walk_string_lengths(buf, 0, count), dtype=np.int64)))
        ours.append(timed(lambda: tb.string_lengths(buf, 0, count)))
    work = tb.WalkWork()
    tb.string_lengths(buf, 0, count, work)
    return statistics.median(ours) / statistics.median(walk), work.cost() / count


def fit_model(repeats: int) -> tuple[float, np.ndarray]:
    text = body([b"name_%d" % (i % 5000) for i in range(65536)])
    per_string = min(timed(lambda: tb.walk_string_lengths(text, 0, 65536)) for _ in range(repeats)) / 65536
    rng = np.random.default_rng(1)
    head = struct.pack(">i", 3) + b"abc"
    bufs = [text, head + bytes(200_000), head + b"\x00\x01" * 100_000, head + b"\x00\x00\x01" * 70_000,
            head + rng.integers(0, 3, 200_000, dtype=np.uint8).tobytes(),
            head + rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes()]
    out = np.empty(200_000, np.int64)
    rows, costs = [], []
    for buf in bufs:
        for window in (1024, 4096, 16384, 65536):
            seconds = statistics.median(timed(lambda: tb._prove_block(buf, 0, window, out)) for _ in range(repeats))
            rows.append([1, window, tb._prove_block(buf, 0, window, out)[1]])
            costs.append(seconds / per_string)
    coef, *_ = np.linalg.lstsq(np.array(rows, float), np.array(costs), rcond=None)
    return per_string, coef


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=65536)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| list | string_lengths / sequential walk (time, median) | model cost / walking every string |")
    print("|---|---|---|")
    for name, (buf, count) in shapes(args.rows).items():
        ratio, model = compare(buf, count, args.repeats)
        print(f"| {name} ({count:,} strings) | {ratio:.2f}x | {model:.2f} |")
    per_string, (block, byte, guess) = fit_model(args.repeats)
    print(f"\nFitted (units of one walked string, {per_string * 1e9:.0f} ns): block {block:.0f}, byte {byte:.4f}, "
          f"guess {guess:.3f}; used: block {tb.BLOCK_COST:.0f}, byte {tb.BYTE_COST}, guess {tb.GUESS_COST}")


if __name__ == "__main__":
    main()
