"""Rewrite a top-level `%%e6sql` cell into an awaited coroutine, so its Cancel button works while it runs.

Only a top-level cell that ipykernel awaits in its running loop (autoawait on) is rewritten;
everywhere else (terminal, `run_cell`, `%%time` around it, `%autoawait off`) the plain blocking
magic runs, where Interrupt / Ctrl-C still cancels the query.
"""
from __future__ import annotations

import re
import sys
import threading
from typing import Any

from IPython import get_ipython

_HEAD = re.compile(r"%%e6sql(?:[ \t]+(?P<line>[^\n]*))?\n?")
_depth = threading.local()  # > 0 while a cell runs in this thread: a transform now is nested (%%time)
RUNNER = "get_ipython().magics_manager.registry['E6SqlMagics'].run_async"


def can_await(shell: Any) -> bool:
    """True only for a top-level cell that ipykernel will await in its running loop."""
    # terminal or run_cell: no running loop, so no button to click, and Ctrl-C would skip the cleanup
    asyncio = sys.modules.get("asyncio")  # never imported: no loop runs (and loading it costs ~80 ms)
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return bool(shell is not None and shell.autoawait and getattr(shell, "kernel", None) is not None
                and not getattr(_depth, "n", 0))


def rewrite(lines: list[str]) -> list[str]:
    """Input transformer (in `input_transformers_cleanup`, before IPython's own `%%` one)."""
    if not lines or not lines[0].startswith("%%e6sql"):
        return lines
    m = _HEAD.fullmatch(lines[0])
    if not m or not can_await(get_ipython()):
        return lines
    line, body = (m["line"] or "").strip(), "".join(lines[1:])
    return [f"await {RUNNER}({line!r}, {body!r})\n"]


rewrite.has_side_effects = True  # type: ignore[attr-defined]  # keeps check_complete waiting for the body


def enter_cell(*_: Any) -> None:
    _depth.n = getattr(_depth, "n", 0) + 1


def leave_cell(*_: Any) -> None:
    _depth.n = max(0, getattr(_depth, "n", 0) - 1)  # an empty cell fires post_execute alone


def install(shell: Any) -> None:
    if rewrite not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.append(rewrite)
        shell.events.register("pre_execute", enter_cell)
        shell.events.register("post_execute", leave_cell)


def uninstall(shell: Any) -> None:
    if rewrite in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(rewrite)
        shell.events.unregister("pre_execute", enter_cell)
        shell.events.unregister("post_execute", leave_cell)
