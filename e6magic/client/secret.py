"""The client's side of secrets: the masked `Secret` (defined in `e6magic.secret`) and revealing it into headers."""
from __future__ import annotations

from typing import Any

from e6magic.secret import Secret, masked  # one definition, shared with the engine

__all__ = ["Secret", "masked", "reveal_metadata"]


def reveal_metadata(metadata: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The call's headers as gRPC wants them: a Secret value (the bearer token) turned to text here only."""
    return [(key, value.reveal() if isinstance(value, Secret) else value) for key, value in metadata]
