"""Short errors: a failed query becomes one line (engine text, query id, a hint) that still fails the cell.

IPython renders an exception through its ``_render_traceback_`` when it has one, so the short
error prints one line, and the cell still counts as failed: Run All, nbclient and papermill
stop. Each short error is an instance of the client's own exception class (same name), so
``except QueryCancelled`` in user code still works.
"""
from __future__ import annotations

import re
from typing import Any

from IPython.core.error import UsageError


_CLASSES: dict[type, type] = {}
_UNKNOWN_TABLE = re.compile(r"Table with name \S+ does not exist|table .* (?:not found|does not exist)", re.IGNORECASE)
_SYNTAX = re.compile(r"Parser Error|syntax error", re.IGNORECASE)  # INVALID_ARGUMENT also covers binder errors
_SECRETS = re.compile(r"(?i)(token|password|secret)=\S+")

HINT_TABLE = "hint: check the name and --catalog/--database; Tab completes table names in %%e6sql cells"
HINT_SYNTAX = "hint: `:name` is a bound parameter, write `::` for a cast; -j for {{ }} templates"


def _short_class(original: type) -> type:
    cls = _CLASSES.get(original)
    if cls is None:
        name = original.__name__
        cls = type(name, (original,), {
            "__str__": lambda self: self.args[0] if self.args else name,
            "_render_traceback_": lambda self: [f"\x1b[0;31m{name}\x1b[0m: {self}"],
            "__module__": original.__module__,
            "__qualname__": original.__qualname__,
            "e6_short": True,
        })
        _CLASSES[original] = cls
    return cls


def message(exc: BaseException) -> str:
    """One line for ``exc``: what the engine said, the query id, and a hint where one helps."""
    # imported here, not at the top: %load_ext must not load grpc (an error means the client is loaded already)
    from e6magic.client.exceptions import ObjectNotFound, OperationalError, SqlSyntaxError

    # the client's own line for the link and the engine's state (it names the call, the endpoint, the deadline)
    text = str(exc if isinstance(exc, OperationalError) else getattr(exc, "engine_message", "") or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = _SECRETS.sub(r"\1=***", first)
    qid = getattr(exc, "query_id", None)
    parts = [first]
    if qid and str(qid) not in first:
        parts.append(f"(query id: {qid})")
    code = getattr(getattr(exc, "grpc_code", None), "name", "")
    if isinstance(exc, ObjectNotFound) or (code == "" and _UNKNOWN_TABLE.search(first)):
        parts.append(f"- {HINT_TABLE}")
    elif isinstance(exc, SqlSyntaxError) or _SYNTAX.search(first):
        parts.append(f"- {HINT_SYNTAX}")
    return " ".join(parts)


def shorten(exc: BaseException) -> BaseException:
    """An instance of ``type(exc)`` (a subclass) with a one-line message and no traceback shown."""
    if isinstance(exc, UsageError) or getattr(exc, "e6_short", False):
        return exc
    cls = _short_class(type(exc))
    short: Any = cls.__new__(cls)
    BaseException.__init__(short, message(exc))
    short.__dict__.update(getattr(exc, "__dict__", {}))
    return short
