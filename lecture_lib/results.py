"""Record the metrics a notebook reached, so the course runner can tabulate them.

A notebook ends with one call such as `record_results("segmentation", dice=0.97, epochs=8)`; the values land in
`build/metrics/<notebook>.json` (folder from `LECTURE_RESULTS_DIR`), which `scripts/run_course.py` joins with the
wall time of each notebook into `build/results.json` and `build/results.md`.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

import numpy as np

from lecture_lib.config import results_dir


def _plain(name: str, value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.size == 1):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r} is {value}; record finite numbers only")
        return value
    if isinstance(value, str):
        return value
    raise TypeError(f"metric {name!r} must be a number, bool or string, got {type(value).__name__} {value!r}")


def record_results(notebook: str, **metrics) -> Path:
    """Save a notebook's metrics for the course results table, merging with what it recorded before.

    Args:
        notebook: a short name such as `"segmentation"`; letters, digits, `_` and `-` only.
        **metrics: metric name → number, bool or string, e.g. `dice=0.97`.

    Returns:
        The path of the JSON file written.

    Raises:
        ValueError: for an empty or unsafe notebook name, no metrics, or a non-finite number.
    """
    if not notebook or not all(ch.isalnum() or ch in "_-" for ch in notebook):
        raise ValueError(f"notebook name must use letters, digits, '_' or '-', got {notebook!r}")
    if not metrics:
        raise ValueError("record_results needs at least one metric, e.g. record_results('segmentation', dice=0.97)")
    path = results_dir() / f"{notebook}.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded.update({name: _plain(name, value) for name, value in metrics.items()})
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    return path


def load_results(folder: Path | None = None) -> dict[str, dict]:
    """Read every recorded notebook's metrics: `{notebook: {metric: value}}`."""
    folder = Path(folder) if folder is not None else results_dir()
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
