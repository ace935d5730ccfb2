"""Live anywidget widgets for queries: status with Cancel, result grid, plan view, schema browser."""
from __future__ import annotations

from e6magic.widgets._chart import QuickChart
from e6magic.widgets._grid import ResultGrid
from e6magic.widgets._pages import EnginePager
from e6magic.widgets._plan import PlanView
from e6magic.widgets._schema import SchemaBrowser
from e6magic.widgets._status import QueryStatus, cancel_support

__all__ = ["EnginePager", "PlanView", "QueryStatus", "QuickChart", "ResultGrid", "SchemaBrowser", "cancel_support"]
