"""Tunes glibc's allocator for a process that is only an engine: freed result buffers are reused, not returned."""
from __future__ import annotations

import ctypes
import sys

import duckdb

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Keep freed blocks below `mmap_threshold` in the heap (up to `trim_threshold` of free heap) for reuse.

    Every result response is a few fresh MiB (the encoded chunk, protobuf's and gRPC's copies of it).
    glibc's defaults hand such blocks back to the kernel when freed, so the next response takes new pages
    and pays a page fault for each 4 KiB: on this project's machines that was a third of the time a
    response took to send (docs/benchmarks.md, Engine). Process-wide, so only for a process that is an
    engine and nothing else (`e6magic-engine serve`), never the embedded engine inside a kernel.
    Returns whether both settings took (False off glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the allocator this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))


def give_back_freed_memory() -> bool:
    """Hand free heap pages back to the system now (glibc's malloc_trim): after big results are dropped, the
    engine's memory goes back down even where `keep_freed_memory` keeps freed blocks for reuse."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    return bool(trim(0))


def open_duckdb() -> duckdb.DuckDBPyConnection:
    """The engine's in-memory DuckDB: silent, with an allocator that gives dropped results back while it idles.

    A result's Arrow batches are DuckDB's own memory (its bundled jemalloc: pyarrow's pool holds none of
    it), and jemalloc purges freed pages only when that allocator is called again, so an engine left idle
    after clients walked away kept 50-100 MiB of dropped results (tests/reliability/test_bounded.py). With
    its background threads on, they are purged after jemalloc's decay time, busy or idle.
    """
    try:
        db = duckdb.connect(":memory:", config={"allocator_background_threads": True})
    except duckdb.Error:  # a DuckDB without the setting (built without jemalloc): memory comes back on use
        db = duckdb.connect(":memory:")
    # This connection builds the catalogs; past 2 s (a loaded machine) DuckDB drew its progress bar on stdout,
    # before `serve`'s "listening on" line, or in a notebook cell for the embedded engine. (Query cursors
    # start with it off.)
    db.execute("SET enable_progress_bar = false")
    return db
