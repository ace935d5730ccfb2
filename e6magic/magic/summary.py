"""The one line a finished `%%e6sql` statement leaves (rows, columns, time, query id), as text and as static HTML.

The HTML is what a saved notebook keeps: it needs no widget, no kernel and no stylesheet (styles are
inline), so JupyterLab, Notebook 7, nbconvert and GitHub-like viewers all show the same line.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from e6magic.states import QueryState

_ID_HEAD, _ID_TAIL = 4, 3  # "5a96…860": enough to tell queries apart on one screen; the full id is one click away


def plural(n: int, word: str, thousands: bool = True) -> str:
    number = f"{n:,}" if thousands else str(n)
    return f"{number} {word}{'' if n == 1 else 's'}"


def duration(seconds: float) -> str:
    """``3.2 ms``, ``420 ms``, ``2.0 s``, ``2 min 5 s``: a fast query never reads ``0.0 s``."""
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    return f"{minutes} min {seconds - 60 * minutes:.0f} s"


def short_id(query_id: str) -> str:
    if len(query_id) <= _ID_HEAD + _ID_TAIL + 2:
        return query_id
    return f"{query_id[:_ID_HEAD]}…{query_id[-_ID_TAIL:]}"


@dataclass(frozen=True)
class Outcome:
    """How one statement ended, in the words the summary line uses.

    ``rows`` is the result's row count (the whole result's, also when the kernel keeps only a window or
    a ``--limit`` cut it), ``kept`` the rows the kernel holds when that is fewer.
    """

    state: str  # finished, cancelled, failed
    seconds: float
    query_id: str | None = None
    rows: int | None = None
    columns: int | None = None
    kept: int | None = None
    thousands: bool = True
    note: str = ""  # why it failed, where no error follows the line (a --background query)

    def parts(self) -> list[str]:
        out: list[str] = []
        if self.state == QueryState.CANCELLED:
            out.append(f"cancelled after {duration(self.seconds)}")
            if self.rows:
                out.append(f"{plural(self.rows, 'row', self.thousands)} read, discarded")
            return out
        if self.state == QueryState.FAILED:
            return [f"failed after {duration(self.seconds)}"] + ([self.note] if self.note else [])
        if self.rows is not None:
            out.append(plural(self.rows, "row", self.thousands))
        if self.columns is not None:
            out.append(plural(self.columns, "column"))
        out.append(duration(self.seconds))
        if self.kept is not None and self.rows is not None and self.kept < self.rows:
            out.append(f"first {plural(self.kept, 'row', self.thousands)} kept, other pages read from the engine")
        return out

    def text(self) -> str:
        """The line for terminals and text/plain readers: the full query id (nothing to click there)."""
        qid = [f"query {self.query_id}"] if self.query_id else []
        return " · ".join(self.parts() + qid)

    def short_text(self) -> str:
        qid = [f"query {short_id(self.query_id)}"] if self.query_id else []
        return " · ".join(self.parts() + qid)

    def html(self) -> str:
        """The saved line: ``e6-status`` with the state in ``data-state``; the id's button copies it whole."""
        color = _COLORS.get(self.state, "inherit")
        qid = ""
        if self.query_id:
            full = html.escape(self.query_id, quote=True)
            qid = (f' · <span class="e6-qid" title="{full}">query {html.escape(short_id(self.query_id))}</span>'
                   f' <button class="e6-copy-id" type="button" title="copy the full query id" data-id="{full}"'
                   ' style="font:inherit;font-size:0.85em;padding:0 4px;cursor:pointer"'
                   ' onclick="navigator.clipboard&&navigator.clipboard.writeText(this.dataset.id)">copy id</button>')
        state = html.escape(self.state)
        return (f'<div class="e6-status e6-final e6-state-{state}" data-state="{state}"'
                f' role="status" style="font-family:var(--jp-code-font-family,monospace);font-size:12px;{color}">'
                f"{html.escape(' · '.join(self.parts()))}{qid}</div>")


# A user's cancel is no error: muted, not red. Inline, because a reopened notebook loads no e6magic stylesheet.
_COLORS: dict[str, str] = {QueryState.FINISHED: "color:var(--jp-ui-font-color1,inherit)",
                           QueryState.CANCELLED: "color:var(--jp-ui-font-color2,#666)",
                           QueryState.FAILED: "color:var(--jp-error-color1,#d32f2f)"}
