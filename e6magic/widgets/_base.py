"""The base every e6magic widget shares: file-backed ESM/CSS, and a static twin that outlives the kernel.

A widget output whose model is gone (the notebook reopened without its kernel) shows "Error displaying
widget: model not found" in JupyterLab 4 and Notebook 7: they never fall back to the output's text/html.
So each widget is shown as two outputs: first its *twin*, plain HTML of its current state (what a saved
notebook, nbconvert and GitHub show), then the live widget. While the widget lives, e6.css (loaded with
it) hides the twin; once it cannot render, a rule carried in the twin hides the dead widget's error text.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget

STATIC = Path(__file__).parent / "static"


# The output right after a twin is its widget. Until that widget has drawn itself (loading, or never:
# JupyterLab's "Error displaying widget: model not found" once the kernel is gone) hide that output, so
# the twin alone shows; e6.css, loaded with a live widget, hides the twin once the widget is there.
# A `:has()` inside `:has()` is not allowed, hence the sibling-then-child shape.
_HIDE_DEAD_WIDGET = ("<style>.jp-OutputArea-child:has(.e6-twin) + .jp-OutputArea-child"
                     " > .jp-OutputArea-output:not(:has(.e6-widget)) { display: none; }</style>")


class Twin:
    """The static twin of a widget: its fallback HTML and text, no widget mime type."""

    def __init__(self, widget: E6Widget | None) -> None:
        self.html = "" if widget is None else widget.fallback_html()
        self.text = "" if widget is None else widget.fallback_text()

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, str]:
        if not self.html:
            return {"text/html": "", "text/plain": ""}
        return {"text/html": f'<div class="e6-twin">{self.html}</div>{_HIDE_DEAD_WIDGET}', "text/plain": self.text}


class E6Widget(anywidget.AnyWidget):
    """An anywidget shown after its static twin (see the module docstring).

    Its own MIME bundle carries no text/html: readers that cannot draw widgets (GitHub, nbconvert's
    markdown) read the twin instead, so they do not show the same table twice.
    """

    _css = STATIC / "e6.css"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._display_handle: Any = None
        self._twin_handle: Any = None
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
        data = {k: v for k, v in data.items() if k != "text/html"}
        data["text/plain"] = self.fallback_text()
        return data, metadata

    def show(self) -> None:
        """Display the twin, then the widget, and remember both outputs."""
        from IPython.display import display

        self._twin_handle = display(Twin(self), display_id=True)  # type: ignore[no-untyped-call]
        self._display_handle = display(self, display_id=True)  # type: ignore[no-untyped-call]

    def show_in(self, twin_handle: Any, live_handle: Any) -> None:
        """Fill two outputs displayed earlier (a place kept above a result) with the twin and the widget."""
        self._twin_handle, self._display_handle = twin_handle, live_handle
        twin_handle.update(Twin(self))
        live_handle.update(self)

    def withdraw(self) -> None:
        """Empty both outputs and close the widget (a result that was discarded)."""
        for handle in (self._twin_handle, self._display_handle):
            if handle is not None:
                handle.update(Twin(None))
        self.close()

    def _refresh_fallback(self) -> None:
        # A final state (all rows in, a window kept) rewrites the twin, so a saved notebook shows the
        # outcome; the live widget is left alone (updating its output would redraw it from scratch).
        if self._twin_handle is not None:
            self._twin_handle.update(Twin(self))


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def one_line(exc: BaseException, limit: int | None = None) -> str:
    """An error as one line for a message (its first line, or its class name when it has no text), cut to
    `limit` characters; the magic's messages use it too."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]
