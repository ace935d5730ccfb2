"""The error raised for result payloads that do not follow the wire format."""
from __future__ import annotations


class ChunkDecodeError(ValueError):
    """A result chunk or metadata payload is malformed or breaks a wire invariant (wire §3)."""
