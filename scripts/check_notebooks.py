"""Fail when a committed notebook carries outputs or execution counts (strip them with `nbstripout`)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def dirty_cells(path: Path) -> list[int]:
    """Return the indices of code cells in `path` that have outputs or an execution count."""
    notebook = nbformat.read(path, as_version=4)
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def main(folders: list[str]) -> int:
    paths = sorted(p for folder in folders or ["notebooks"] for p in Path(folder).glob("*.ipynb"))
    bad = {path: cells for path in paths if (cells := dirty_cells(path))}
    for path, cells in bad.items():
        print(f"{path}: code cells {cells} have outputs or execution counts; run `.venv/bin/nbstripout {path}`")
    print(f"checked {len(paths)} notebooks: {len(paths) - len(bad)} clean, {len(bad)} with outputs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
