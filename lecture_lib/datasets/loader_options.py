"""The arguments every real loader shares, checked in one place.

Every `load_<name>` takes `data_dir=None, *, image_size=DEFAULT_IMAGE_SIZE, num_images=None, split="all",
download=False, progress=True` (and `views=None` where the source records views, `seed=0` where its split is
seeded), with the defaults of `catalog.load`. Splits use one vocabulary, `SPLITS`, mapped here to each source's
own names (CheXpert's `"valid"`, MIMIC-CXR's `"validate"`, NIH's `"train_val"`); the old spellings and arguments
keep working for one release with a `DeprecationWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from lecture_lib.checks import check_choice, check_count

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
