"""The arguments every real loader shares, checked in one place.

Every `load_<name>` takes `data_dir=None, *, image_size=DEFAULT_IMAGE_SIZE, num_images=None, split="all",
seed=0, download=False, progress=True` (and `views=None` where the source records views), with the defaults of
`catalog.load` (which passes its `seed`, the notebooks' `SEED`, to every loader). Splits use one
vocabulary, `SPLITS`, mapped here to each source's own names (CheXpert's `"valid"`, MIMIC-CXR's `"validate"`, NIH's
`"train_val"`); the old spellings and arguments keep working for one release with a `DeprecationWarning`.

`num_images` and `seed` pick the images the same way in every loader (`choose_rows`, called once the table holds
only the images on disk): an integer seed (0 by default) draws a random sample of `num_images`, returned in the
source's order; `seed=None` keeps the first `num_images` in the source's order. The first rows of a label file are seldom a fair sample:
NIH's first 1,500 images are 391 consecutive patients (one with 66 follow-ups), a sample of 1,500 drawn with seed 42
has 1,364. Montgomery and Shenzhen, which publish no split, also use the seed for their patient split.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from lecture_lib.checks import check_choice, check_count

Rows = TypeVar("Rows", pd.DataFrame, np.ndarray, list, tuple)

DEFAULT_IMAGE_SIZE = 128
"""Side of the returned images when none is asked for: the same default as `catalog.load`."""

SPLITS: tuple[str, ...] = ("train", "val", "test", "all")
"""The split names every loader takes; `"all"` is every image, the default."""


def resolve_split(
    split: str, source: str, own: Mapping[str, str | None], old_names: Mapping[str, str] | None = None
) -> str:
    """Return the source's own name of `split` (one of `SPLITS`), or raise naming what the source offers.

    Args:
        split: `"train"`, `"val"`, `"test"` or `"all"`; an old spelling in `old_names` is accepted with a
            `DeprecationWarning`.
        source: the dataset's name, for messages.
        own: split name -> the source's own name (`None` for a split the source does not publish). `"all"` is always
            available and maps to itself unless given.
        old_names: the source's former spellings -> split names, e.g. `{"valid": "val"}`.

    Returns:
        The source's name of the split (what its files call it).

    Raises:
        ValueError: for an unknown split, or one the source does not publish.
    """
    old_names = old_names or {}
    if isinstance(split, str) and split in old_names:
        warnings.warn(
            f"split={split!r} is now split={old_names[split]!r}: every loader names its splits {SPLITS}",
            DeprecationWarning,
            stacklevel=3,
        )
        split = old_names[split]
    split = check_choice(split, "split", SPLITS)
    table = {"all": "all", **own}
    if table.get(split) is None:
        offered = [name for name in SPLITS if table.get(name) is not None]
        raise ValueError(
            f"{source} publishes no {split!r} split; choose from {offered} and split by patient with "
            "CXRSet.split(...)" + (" (the phantom and the notebooks do so)" if offered == ["all"] else "")
        )
    return table[split]


def resolve_num_images(num_images: int | None, max_images: int | None, source: str) -> int | None:
    """Return the checked image count, taking the former `max_images` with a `DeprecationWarning`.

    Raises:
        ValueError: when both are given, or for a count that is not a positive integer.
    """
    if max_images is not None:
        if num_images is not None:
            raise ValueError(f"load_{source} got num_images={num_images!r} and max_images={max_images!r}: pass one")
        warnings.warn(
            f"load_{source}(max_images=...) is now num_images=..., as in catalog.load", DeprecationWarning, stacklevel=3
        )
        num_images = max_images
    return check_count(num_images, "num_images", allow_none=True, fix="None reads every image")


def resolve_views(
    views: Sequence[str] | str | None, source: str, allowed: Sequence[str] | None
) -> tuple[str, ...] | None:
    """Return `views` upper-cased as a tuple (a single string is one view), or `None`; raise for a view not in
    `allowed` (`None`: any name, for sources with many view names such as MIMIC-CXR).

    Raises:
        ValueError: naming the unknown views and the source's views.
    """
    if views is None:
        return None
    if isinstance(views, str):
        views = [views]
    wanted = tuple(str(view).strip().upper() for view in views)
    unknown = [] if allowed is None else sorted(set(wanted) - {view.upper() for view in allowed})
    if unknown or not wanted:
        raise ValueError(f"{source} views are {list(allowed or ['...'])}, got {list(views)!r}")
    return wanted


def renamed(old: str, new: str, source: str) -> None:
    """Warn that `load_<source>(old=...)` is now `new=...` (`DeprecationWarning`, for one release)."""
    warnings.warn(f"load_{source}({old}=...) is now {new}=...", DeprecationWarning, stacklevel=3)


SEED_FIX = "None keeps the first num_images in the source's order, an integer draws a random sample of them"
"""How to fix a bad `seed`, the end of its error message."""


def resolve_seed(seed: int | None) -> int | None:
    """Return the checked `seed` of a loader's sample (`None` or a non-negative integer), before any file is read.

    Raises:
        TypeError: if `seed` is not `None` or an integer.
        ValueError: for a negative `seed`.
    """
    return check_count(seed, "seed", minimum=0, allow_none=True, fix=SEED_FIX)


def sample_order(count: int, seed: int | None) -> np.ndarray:
    """Return the order in which the rows of a table of `count` rows are taken.

    Args:
        count: the number of rows, at least 0.
        seed: `None` for the source's order; a non-negative integer for a random one.

    Returns:
        `(count,)` int64 positions: `0, 1, ..., count - 1` for `seed=None`, else
        `np.random.default_rng(seed).permutation(count)`. `choose_positions` keeps the first `num_images`, so a
        larger `num_images` with the same seed keeps every image of a smaller one (and reads them from the cache).

    Raises:
        TypeError: if `seed` is not `None` or an integer.
        ValueError: for a negative `seed`.
    """
    seed = resolve_seed(seed)
    if seed is None:
        return np.arange(count, dtype=np.int64)
    return np.random.default_rng(seed).permutation(count).astype(np.int64)


def choose_positions(count: int, num_images: int | None, seed: int | None) -> np.ndarray:
    """Return the sorted positions of the rows that `num_images` and `seed` keep out of `count` rows.

    Args:
        count: the number of rows on offer (the images on disk that match the request).
        num_images: how many to keep; `None`, or a number at least `count`, keeps every row whatever `seed` is.
        seed: `None` keeps the first `num_images` rows; an integer keeps the first `num_images` positions of
            `sample_order(count, seed)`, a sample drawn uniformly without replacement, the same for the same seed.

    Returns:
        `(min(count, num_images),)` int64 positions in increasing order, so the rows keep the source's order (its
        patients' follow-ups in sequence, its files in the order the cache and a partial download hold them).

    Raises:
        TypeError: if `num_images` or `seed` is not an integer (or `None`).
        ValueError: for a `num_images` below 1 or a negative `seed`.
    """
    num_images = check_count(num_images, "num_images", allow_none=True, fix="None reads every image")
    seed = resolve_seed(seed)
    if num_images is None or num_images >= count:
        return np.arange(count, dtype=np.int64)
    return np.sort(sample_order(count, seed)[:num_images])


def choose_rows(rows: Rows, num_images: int | None, seed: int | None) -> Rows:
    """Keep `num_images` of `rows`: the first ones (`seed=None`) or a seeded random sample, in the rows' order.

    Every loader calls this once its table holds only the images on disk (see `choose_positions` for the rule).

    Args:
        rows: a `pandas.DataFrame` (rows by position), a NumPy array (along its first axis), a list or a tuple.
        num_images: how many to keep; `None` keeps all.
        seed: `None`, or a non-negative integer that draws the sample.

    Returns:
        The kept rows, of the same type as `rows`.

    Raises:
        TypeError: if `num_images` or `seed` is not an integer (or `None`), or `rows` is of another type.
        ValueError: for a `num_images` below 1 or a negative `seed`.
    """
    if not isinstance(rows, pd.DataFrame | np.ndarray | list | tuple):
        raise TypeError(f"rows must be a DataFrame, an array, a list or a tuple, got {type(rows).__name__}")
    positions = choose_positions(len(rows), num_images, seed)
    if isinstance(rows, pd.DataFrame):
        return rows.iloc[positions]
    if isinstance(rows, np.ndarray):
        return rows[positions]
    return type(rows)(rows[position] for position in positions)
