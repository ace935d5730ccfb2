"""UTF-8 text for byte strings: invalid bytes rendered as DuckDB-style `\\xAB` escapes."""
from __future__ import annotations

import re

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
    values = [None if raw is None else bytes_to_text(raw) for raw in array.to_pylist()]
    return pa.array(values, type=target)
