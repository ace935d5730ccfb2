"""UTF-8 text for byte strings: invalid bytes rendered as DuckDB-style `\\xAB` escapes."""
from __future__ import annotations

import codecs

import pyarrow as pa

_ERROR_HANDLER = "e6magic-hex-escape"


def _hex_escape(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    return "".join(f"\\x{byte:02X}" for byte in bad), error.end


codecs.register_error(_ERROR_HANDLER, _hex_escape)


def bytes_to_text(raw: bytes) -> str:
    """Decode UTF-8, rendering each invalid byte as `\\xAB` (upper-case hex, as DuckDB renders BLOBs)."""
    return raw.decode("utf-8", _ERROR_HANDLER)


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
