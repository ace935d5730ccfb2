"""Short errors: a failed query becomes its engine text (its own line breaks kept), the query id once and a
hint where one fits; no traceback, and the cell still fails.

IPython renders an exception through its ``_render_traceback_`` when it has one, so the short
error prints one line, and the cell still counts as failed: Run All, nbclient and papermill
stop. The short error is the very exception raised, its message replaced, so ``except QueryCancelled``,
``type(e) is OperationalError`` and pickling all work as for the client's own error.
"""
from __future__ import annotations

import re

from IPython.core.error import UsageError

# The client's class says what kind of error it is. Among syntax errors, the `:name` / `{{ }}` hint fits only
# where the parser stopped at one of those characters (the token it quotes): a reserved word used as a name is
# a syntax error too, and the hint would mislead there.
_STOPPED_AT_PARAMETER = re.compile(r'at or near "(?::|::|\{|\}|\{\{|\}\})"|at end of input.*:', re.I)
_SECRETS = re.compile(r"(?i)(token|password|secret)=\S+")
_QUERY_ID = re.compile(r"\s*\(query id: [^)]*\)")

HINT_TABLE = "hint: check the name and --catalog/--database; Tab completes table names in %%e6sql cells"
HINT_SYNTAX = "hint: `:name` is a bound parameter, write `::` for a cast; -j for {{ }} templates"


class OneLine:
    """An exception's ``_render_traceback_``: its class name and its short message, one string so the
    message's own line breaks (a caret under the word) are kept. A plain object, so the exception pickles."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def __call__(self) -> list[str]:
        return [f"\x1b[0;31m{self.name}\x1b[0m: {self.text}"]


def message(exc: BaseException) -> str:
    """What the engine said (its line breaks kept, so caret lines point right), the query id once on the
    first line, and a hint where one fits the error."""
    # imported here, not at the top: %load_ext must not load grpc (an error means the client is loaded already)
    from e6magic.client.exceptions import OperationalError

    # the client's own line for the link and the engine's state (it names the call, the endpoint, the deadline)
    text = str(exc if isinstance(exc, OperationalError) else getattr(exc, "engine_message", "") or exc).strip()
    lines = [_SECRETS.sub(r"\1=***", line.rstrip()) for line in _QUERY_ID.sub("", text).splitlines() if line.strip()]
    if not lines:
        lines = [type(exc).__name__]
    qid = getattr(exc, "query_id", None)
    if qid:
        lines[0] += f" (query id: {qid})"
    hint = _hint(exc, text)
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def _hint(exc: BaseException, text: str) -> str:
    from e6magic.client.exceptions import ObjectNotFound, SqlSyntaxError

    if isinstance(exc, ObjectNotFound):
        return HINT_TABLE
    if isinstance(exc, SqlSyntaxError) and _STOPPED_AT_PARAMETER.search(text):
        return HINT_SYNTAX
    return ""


def shorten(exc: BaseException, text: str | None = None) -> BaseException:
    """``exc`` itself with a short message (``text`` or ``message(exc)``), shown without a traceback."""
    if isinstance(exc, UsageError) or (getattr(exc, "e6_short", False) and text is None):
        return exc
    short = message(exc) if text is None else text
    exc.args = (short,)
    vars(exc).update(e6_short=True, _render_traceback_=OneLine(type(exc).__name__, short))
    return exc
