"""Execute every course notebook headlessly and tabulate wall times and recorded metrics.

Writes, under `build/` (or `--build-dir`):
- `notebooks/<name>.ipynb`: the executed copy of each notebook;
- `html/<name>.html`: the same rendered to HTML;
- `metrics/<notebook>.json`: what each notebook recorded with `lecture_lib.results.record_results`;
- `results.json` and `results.md`: one row per notebook with its wall seconds, status and metrics.

Usage: `python scripts/run_course.py [NOTEBOOK ...] [--build-dir build] [--timeout 900]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from lecture_lib.results import load_results  # noqa: E402


def execute_notebook(path: Path, build_dir: Path, timeout: int) -> dict:
    """Execute one notebook in its own folder; save the executed copy and its HTML; return its row."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    seconds = time.perf_counter() - start
    (build_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    (build_dir / "html").mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, build_dir / "notebooks" / path.name)
    body, _ = HTMLExporter().from_notebook_node(notebook)
    (build_dir / "html" / f"{path.stem}.html").write_text(body, encoding="utf-8")
    return {
        "notebook": path.name,
        "seconds": round(seconds, 1),
        "status": "ok" if error is None else "failed",
        "error": error,
    }


def markdown_table(rows: list[dict]) -> str:
    """Render the results rows as a Markdown table, metrics as `name=value` pairs."""
    lines = ["| notebook | wall s | status | metrics |", "|---|---:|---|---|"]
    for row in rows:
        metrics = ", ".join(
            f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
            for name, value in row["metrics"].items()
        )
        status = row["status"] if row["error"] is None else f"failed: {row['error']}"
        lines.append(f"| {row['notebook']} | {row['seconds']:.1f} | {status} | {metrics} |")
    total = sum(row["seconds"] for row in rows)
    lines.append(f"| **total** | {total:.1f} | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    paths = [p.resolve() for p in args.notebooks] or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    build_dir = args.build_dir.resolve()
    metrics_dir = build_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["LECTURE_RESULTS_DIR"] = str(metrics_dir)

    rows = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        row = execute_notebook(path, build_dir, args.timeout)
        print(
            f"  {row['status']} in {row['seconds']:.1f} s" + (f": {row['error']}" if row["error"] else ""), flush=True
        )
        rows.append(row)

    recorded = load_results(metrics_dir)
    for row in rows:
        stem = Path(row["notebook"]).stem
        # Notebooks record under a short name ("segmentation" for 02_segmentation.ipynb).
        short = stem.split("_", 1)[-1]
        row["metrics"] = recorded.get(stem) or recorded.get(short) or {}
    (build_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown_table(rows)
    (build_dir / "results.md").write_text(table)
    print(table)
    return 0 if all(row["error"] is None for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
