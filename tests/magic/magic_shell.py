"""A real IPython shell for magic tests that re-raises a cell's error instead of printing it."""
from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell


class TestingShell(InteractiveShell):
    """Runs cells like a notebook does, but a failed cell raises, so tests can assert on it."""

    def run_cell(self, *args, **kwargs):
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result
