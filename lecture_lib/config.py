"""Seeds, paths and other settings shared by the notebooks and the library."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder that holds `lecture_lib/`, `notebooks/` and `data/`)."""

DEFAULT_SEED = 42


def set_seed(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and the Keras backend so a notebook gives the same numbers on every run.

    Args:
        seed: a non-negative integer.

    Returns:
        The seed that was set.

    Raises:
        ValueError: if `seed` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras  # here, not at the top: the data modules use this file and need not start a backend

    keras.utils.set_random_seed(seed)
    return seed


def data_dir() -> Path:
    """Return the folder where datasets are downloaded to or placed by hand.

    The environment variable `LECTURE_DATA_DIR` wins; otherwise `<repo>/data`. The folder is created if needed.

    Returns:
        An absolute `Path`.
    """
    path = Path(os.environ.get("LECTURE_DATA_DIR") or REPO_ROOT / "data").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    """Return the folder where notebooks record their metrics (`LECTURE_RESULTS_DIR`, default `<repo>/build/metrics`)."""
    path = Path(os.environ.get("LECTURE_RESULTS_DIR") or REPO_ROOT / "build" / "metrics").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
