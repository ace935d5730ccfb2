"""The base every e6magic widget shares: file-backed ESM/CSS and a static HTML fallback."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget

STATIC = Path(__file__).parent / "static"


class E6Widget(anywidget.AnyWidget):
    """An anywidget whose MIME bundle also carries text/html and text/plain.

    A frontend with widgets shows the live view; nbconvert, GitHub and frontends without
    widgets show the fallback, so a saved notebook still says what happened.
    """

    _css = STATIC / "e6.css"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._display_handle: Any = None
        self.on_msg(self._on_custom_msg)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and isinstance(content.get("kind"), str):
            handler = getattr(self, f"_msg_{content['kind']}", None)
            if handler is not None:
                handler(content)

    def fallback_html(self) -> str:
        """HTML shown where the widget cannot be: must stand alone, no scripts."""
        raise NotImplementedError

    def fallback_text(self) -> str:
        """One or a few lines of plain text for terminals and text/plain readers."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data = dict(data)
        data["text/plain"] = self.fallback_text()
        data["text/html"] = self.fallback_html()
        return data, metadata

    def show(self) -> None:
        """Display the widget and remember where, so the fallback can be refreshed at the end."""
        from IPython.display import display

        self._display_handle = display(self, display_id=True)

    def _refresh_fallback(self) -> None:
        # The fallback is captured when displayed; a final state (finished, cancelled, all rows
        # in) replaces that output so a saved notebook shows the outcome, not "running".
        if self._display_handle is not None:
            self._display_handle.update(self)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def one_line(exc: BaseException, limit: int | None = None) -> str:
    """An error as one line for a message (its first line, or its class name when it has no text), cut to
    `limit` characters; the magic's messages use it too."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]
