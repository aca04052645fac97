"""One entry point for every data source: `load("phantom")`, `load("nih")`, ...

Notebooks write `DATASET = "phantom"` in their hyperparameter block and call `load(DATASET, ...)`; changing that
one line to a real dataset's name goes through its loader (which downloads public files or explains where to put
registered ones).
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Mapping

from lecture_lib.checks import check_choice, check_count

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


PHANTOM_OPTIONS = ("studies_per_patient", "prevalence", "findings", "mask_names", "bone_free", "acquisition")
"""Options that only shape the phantom's rendering: a real source that does not take one ignores it with a warning,
so a notebook's `load(DATASET, ..., findings=..., acquisition=...)` runs unchanged when `DATASET` names a real set."""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


def _resolve(name: str):
    key = check_choice(name, "name", SOURCES, normalize=_key, what="dataset")
    module_name, function_name = SOURCES[key].split(":")
    return key, getattr(importlib.import_module(module_name), function_name)


def load(
    name: str,
    *,
    image_size: int = 128,
    num_images: int | None = None,
    seed: int = 0,
    phantom: Mapping[str, object] | None = None,
    **options,
):
    """Load a dataset by name as a `CXRSet`.

    Args:
        name: `"phantom"` or a real dataset (`"nih"`, `"chexpert"`, `"mimic"`, `"padchest"`, `"jsrt"`, `"siim"`,
            `"rsna"`, `"chestmnist"`, `"pneumoniamnist"`, `"montgomery"`, `"shenzhen"`).
        image_size: side of the square images returned, in pixels.
        num_images: how many images: the phantom renders exactly this many (required for it); a real loader reads
            at most this many (`None`: all). Every real `load_<name>` takes the same `image_size` and `num_images`,
            with these defaults, and `split` (`"train"`, `"val"`, `"test"`, `"all"`; see `loader_options`).
        seed: the phantom's seed; for a real source, the seed of the random sample of `num_images` among the
            images on disk (the notebooks pass their `SEED`), so that a part of a large set is not its first patients
            and their follow-ups; `"montgomery"` and `"shenzhen"` also seed their patient split with it. Every real
            `load_<name>` takes `seed` (default 0, as here) and passes it to `loader_options.choose_rows`; `seed=None`
            reads the first `num_images` in the source's order.
        phantom: options for the phantom only, e.g. `{"findings": [...], "acquisition": "standard"}`: passed to
            `phantom.generate` when `name` is `"phantom"`, left out without a word for a real source (it has the
            findings, masks and acquisitions it has). The one place where a notebook puts its phantom-only settings,
            so that changing `DATASET` changes nothing else.
        **options: passed on to the source's function, e.g. `prevalence=` for the phantom or `download=True`.
            A single view such as `views="PA"` is read as `views=["PA"]`. `PHANTOM_OPTIONS` that a real source
            does not take are left out, with a warning naming them (pass them in `phantom` to leave them out
            silently).

    Returns:
        A `CXRSet` with `images` `(num_images, image_size, image_size, 1)` and whatever ground truth the source has.

    Raises:
        TypeError: if `name` is not a string, `image_size`, `num_images` or `seed` is not an integer, or `phantom` is
            not a mapping.
        ValueError: for an unknown name (with the closest valid one), a non-positive `image_size` or `num_images`,
            a negative `seed`, the phantom without `num_images`, or an option given both in `phantom` and loose.
    """
    key, function = _resolve(name)
    image_size = check_count(image_size, "image_size", fix="the side of the square images in pixels, e.g. 128")
    num_images = check_count(num_images, "num_images", allow_none=True, fix="None reads every image of a real set")
    seed = check_count(seed, "seed", minimum=0)
    if phantom is not None and not isinstance(phantom, Mapping):
        raise TypeError(f"phantom must be a dict of phantom options such as {{'findings': [...]}}, got {phantom!r}")
    phantom = dict(phantom or {})
    twice = sorted(set(phantom) & set(options))
    if twice:
        raise ValueError(f"{', '.join(twice)} given both in phantom= and as a loose option: pass each once")
    if isinstance(options.get("views"), str):
        # A string is a sequence of characters: "PA" would otherwise ask for the views "P" and "A".
        options["views"] = [options["views"]]
    if key == "phantom":
        if num_images is None:
            raise ValueError("the phantom renders as many images as you ask for: pass num_images, e.g. 600")
        return function(num_images, image_size=image_size, seed=seed, **phantom, **options)
    parameters = inspect.signature(function).parameters
    ignored = sorted(name for name in options if name in PHANTOM_OPTIONS and name not in parameters)
    if ignored:
        warnings.warn(
            f"load({key!r}) ignores {', '.join(ignored)}: {'it shapes' if len(ignored) == 1 else 'they shape'} only "
            "the phantom; a real dataset has the findings, masks and acquisitions it has",
            UserWarning,
            stacklevel=2,
        )
        options = {name: value for name, value in options.items() if name not in ignored}
    if "seed" in parameters:
        options["seed"] = seed
    return function(image_size=image_size, num_images=num_images, **options)
