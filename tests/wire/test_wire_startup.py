"""The codec never loads pandas: a first BLOB result on a fresh engine paid over a second importing it."""
from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import pyarrow as pa
from e6magic.wire import decode_chunk, encode_chunk, metadata_for, VectorType
from e6magic.wire.metadata import decode_metadata, encode_metadata
raw = pa.Array.from_buffers(pa.binary(), 3, [None, pa.py_buffer(bytes([0] * 4 + [4, 0, 0, 0] * 2 + [5, 0, 0, 0])),
                                             pa.py_buffer(b"\\x00\\xffab\\xfe")])
batch = pa.record_batch([raw], names=["b"])
chunk = encode_chunk(batch)
meta = decode_metadata(encode_metadata(metadata_for(batch.schema, 3)))
print(decode_chunk(chunk, meta).column(0).to_pylist())
print("pandas" in sys.modules)
"""


def test_escaping_non_utf8_bytes_leaves_pandas_unloaded():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    values, loaded = out.stdout.splitlines()[-2:]
    assert values == repr(["\x00\\xFFab", "", "\\xFE"])
    assert loaded == "False"
