"""UTF-8 text for byte strings: invalid bytes rendered as DuckDB-style `\\xAB` escapes."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

# `surrogateescape` turns each byte that is not UTF-8 into U+DC80..U+DCFF (a strict decode never yields those), so
# escaping them afterwards needs no codec error handler registered process-wide
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def bytes_to_text(raw: bytes) -> str:
    """Decode UTF-8, rendering each invalid byte as `\\xAB` (upper-case hex, as DuckDB renders BLOBs)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
    return _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02X}", text)


def binary_to_string_array(array: pa.Array) -> pa.Array:
    """A string array with the same values: zero-copy when the bytes are valid UTF-8, escaped otherwise."""
    if not (pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)):
        array = array.cast(pa.binary())  # fixed-size and view layouts
    if pa.types.is_large_binary(array.type):
        target = pa.large_string()
    else:
        target = pa.string()
    try:
        return array.cast(target)
    except pa.ArrowInvalid:
        pass
    # built from buffers: `pa.array(list)` would import pandas (over a second, once, in an engine that never
    # needs it) to check whether the list is a pandas object
    encoded = [b"" if raw is None else bytes_to_text(raw).encode("utf-8") for raw in array.to_pylist()]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64 if target == pa.large_string() else np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    validity = array.is_valid().buffers()[1] if array.null_count else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(target, len(encoded), buffers, null_count=array.null_count)
