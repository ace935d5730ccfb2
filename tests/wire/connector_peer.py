"""Run in a subprocess: decode payloads with the official connector and print tagged values as JSON.

Input (argv[1], a JSON file): {"cases": [{"metadata": hex, "chunks": [hex, ...]}], "strict": bool,
"bench_repeat": int (optional)}. Output: {"module": the decoder's file, "cases": per case the
connector's row count, field infos and rows, each value tagged so floats, decimals and intervals
compare exactly}. Works with 3.0.2 (strict mode) and 2.3.x (no strict mode).
"""
from __future__ import annotations

import datetime
import decimal
import inspect
import io
import json
import sys
import time

from e6data_python_connector.datainputstream import get_query_columns_info, read_rows_from_chunk


def tag(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, decimal.Decimal):
        return ["dec", str(value)]
    if isinstance(value, datetime.timedelta):
        return ["td", str(value // datetime.timedelta(microseconds=1))]
    if isinstance(value, str):
        return ["str", value]
    return ["other", repr(value)]


def main() -> None:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    # 2.3.x has no strict mode; 3.0.2 strict mode adds the invariants of wire §3.4.
    options = {"strict": job.get("strict", True)} if "strict" in inspect.signature(read_rows_from_chunk).parameters else {}
    results = []
    for case in job["cases"]:
        row_count, fields = get_query_columns_info(io.BytesIO(bytes.fromhex(case["metadata"])))
        chunks = [bytes.fromhex(c) for c in case["chunks"]]
        started = time.perf_counter()
        rows = []
        for _ in range(job.get("bench_repeat", 1)):
            rows = []
            for chunk in chunks:
                rows.extend(read_rows_from_chunk(fields, chunk, **options) or [])
        seconds = time.perf_counter() - started
        results.append({
            "row_count": row_count,
            "fields": [[f.name, f.field_type, f.zone, f.date_format] for f in fields],
            "rows": [[tag(v) for v in row] for row in rows] if not job.get("bench_repeat") else len(rows),
            "seconds": seconds,
        })
    json.dump({"module": inspect.getfile(read_rows_from_chunk), "cases": results}, sys.stdout)


if __name__ == "__main__":
    main()
