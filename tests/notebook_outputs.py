"""What a reader sees of an executed notebook cell, as one string (stream text, plain and HTML data, errors)."""
from __future__ import annotations

from typing import Any


def cell_text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
        parts.append(out.get("data", {}).get("text/html", ""))
        if out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(parts)
