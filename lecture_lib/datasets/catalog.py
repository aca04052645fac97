"""One entry point for every data source: `load("phantom")`, `load("nih")`, ...

Notebooks write `DATASET = "phantom"` in their hyperparameter block and call `load(DATASET, ...)`; changing that
one line to a real dataset's name goes through its loader (which downloads public files or explains where to put
registered ones).
"""

from __future__ import annotations

import difflib
import importlib
import inspect

SOURCES: dict[str, str] = {
    "phantom": "lecture_lib.datasets.phantom:generate",
    "nih": "lecture_lib.datasets.nih:load_nih",
    "chexpert": "lecture_lib.datasets.chexpert:load_chexpert",
    "mimic": "lecture_lib.datasets.mimic:load_mimic",
    "padchest": "lecture_lib.datasets.padchest:load_padchest",
    "jsrt": "lecture_lib.datasets.jsrt:load_jsrt",
    "siim": "lecture_lib.datasets.siim:load_siim",
    "rsna": "lecture_lib.datasets.rsna:load_rsna",
    "chestmnist": "lecture_lib.datasets.medmnist:load_chestmnist",
    "pneumoniamnist": "lecture_lib.datasets.medmnist:load_pneumoniamnist",
    "montgomery": "lecture_lib.datasets.montgomery:load_montgomery",
    "shenzhen": "lecture_lib.datasets.shenzhen:load_shenzhen",
}
"""Source name -> `module:function` returning a `CXRSet`."""


def _resolve(name: str):
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key not in SOURCES:
        close = difflib.get_close_matches(key, list(SOURCES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(SOURCES)}.{hint}")
    module_name, function_name = SOURCES[key].split(":")
    return key, getattr(importlib.import_module(module_name), function_name)


def load(name: str, *, image_size: int = 128, num_images: int | None = None, seed: int = 0, **options):
    """Load a dataset by name as a `CXRSet`.

    Args:
        name: `"phantom"` or a real dataset (`"nih"`, `"chexpert"`, `"mimic"`, `"padchest"`, `"jsrt"`, `"siim"`,
            `"rsna"`, `"chestmnist"`, `"pneumoniamnist"`, `"montgomery"`, `"shenzhen"`).
        image_size: side of the square images returned, in pixels.
        num_images: how many images: the phantom renders exactly this many (required for it); a real loader reads
            at most this many (`None`: all).
        seed: the phantom's seed, and the split seed of the real loaders that take one (`"montgomery"`,
            `"shenzhen"`); the other real loaders ignore it.
        **options: passed on to the source's function, e.g. `prevalence=` for the phantom or `download=True`.

    Returns:
        A `CXRSet` with `images` `(num_images, image_size, image_size, 1)` and whatever ground truth the source has.

    Raises:
        ValueError: for an unknown name (with the closest valid one), or the phantom without `num_images`.
    """
    key, function = _resolve(name)
    if key == "phantom":
        if num_images is None:
            raise ValueError("the phantom renders as many images as you ask for: pass num_images, e.g. 600")
        return function(num_images, image_size=image_size, seed=seed, **options)
    if "seed" in inspect.signature(function).parameters:
        options["seed"] = seed
    return function(image_size=image_size, max_images=num_images, **options)
