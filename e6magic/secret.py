"""A secret (token, password) whose repr and str are masked, revealed only where it is used; every layer's one type."""
from __future__ import annotations

from typing import Any


class Secret:
    """Holds a token so that no repr, str, `vars()` or verbose traceback shows it.

    The value sits in a slot (no `__dict__`), so a frame's locals and an object's `vars()` show only
    `Secret('***')`; `reveal()` is called inside the expression that uses the value (a request being built,
    a token being compared), never into a local.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | None) -> None:
        object.__setattr__(self, "_value", value or "")

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # never pickled with the value (a copied frame, a sent object)
        raise TypeError("a Secret cannot be pickled")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Secret is read-only")


def masked(value: str | Secret | None) -> Secret | None:
    """`value` as a Secret (None stays None): the first thing done with a token a caller passed as text."""
    return value if value is None or isinstance(value, Secret) else Secret(value)
