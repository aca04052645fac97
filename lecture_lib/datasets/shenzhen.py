"""Shenzhen chest X-ray set (NLM and Shenzhen No.3 People's Hospital): 662 PA radiographs, 336 with tuberculosis.

Formats handled here (the NLM helpers are shared with `montgomery.py`):

- `CXR_png/CHNCXR_0001_0.png`: the last digit of the name is the label, 0 normal (326 images), 1 tuberculosis
  (336). PNGs of about 3000 x 3000 pixels whose size varies, display convention; decoded by
  `montgomery.read_cxr_png` (8-bit files divided by 255, 16-bit ones by 4095 or 65535) and stretched to `S x S`.
- `ClinicalReadings/CHNCXR_0001_0.txt`: sex and age on the first line (`male 35yrs`), then the reading (`normal`,
  or the TB findings in free text). Optional.
- Pixel spacing: NLM's description of this set gives none, so `pixel_spacing_mm` is NaN.
- Lung masks are **not** in NLM's archive. Stirenko et al. (2018) published manual masks of both lungs in one file,
  `CHNCXR_0001_0_mask.png`, for 566 of the 662 images (Kaggle `yoctoman/shcxr-lung-mask`, or Mendeley Data
  doi:10.17632/8gf9vpkhgy.2). When their folder is found (`MASK_DIRS`, or `masks_dir=`) the set is restricted to
  the images that have a mask and gets one channel, `lungs` (area average to `S x S`, then `>= 0.5`). A mask whose
  size differs from its image's is stretched onto the same `S x S` grid.

Labels and `targets` follow `montgomery`: normal images are No Finding = 1 and 0 for the 14 findings, TB images are
No Finding = 0 and NaN for the 14 findings; `targets["tuberculosis"]` holds the flag, plus `age_years`, `sex` and
`reading` from the clinical readings. `split` deals patients 70 / 15 / 15 % like `CXRSet.split` on the whole set
(before images without a mask are left out, so an image's part never depends on the masks); `num_images` then keeps
a random sample drawn with the same seed, as in `montgomery`.

Example:
    >>> from lecture_lib.datasets.shenzhen import load_shenzhen
    >>> data = load_shenzhen(image_size=256, download=True)       # ChinaSet_AllFiles.zip, about 3.8 GB
    >>> data.masks is None                                        # until the masks of Stirenko et al. are added
    True
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np

from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images
from lecture_lib.datasets.loader_options import DEFAULT_IMAGE_SIZE, choose_rows, resolve_num_images
from lecture_lib.datasets.montgomery import (
    AGE_PATTERN,
    NO_READING,
    check_options,
    find_set_root,
    list_images,
    mask_file,
    nlm_set,
    parse_age,
    parse_sex,
    read_cxr_png,
    read_mask_png,
    select_split,
)
from lecture_lib.datasets.registry import SHENZHEN
from lecture_lib.datasets.schema import CXRSet

ARCHIVE = "ChinaSet_AllFiles.zip"
MASK_DIRS = ("mask", "masks", "shcxr-lung-mask/mask", "shcxr-lung-mask/mask/mask")
"""Folders searched for the lung masks, under the dataset folder and then under the set's own folder."""

_SEX = re.compile(r"\b(female|male)", re.IGNORECASE)


def read_shenzhen_reading(path: Path | str) -> dict:
    """Read a Shenzhen clinical reading: `male 35yrs` on the first line, then free text.

    Returns:
        A dict with `sex` (`"M"`, `"F"` or `""`), `age_years` (float, NaN if absent) and `reading` (the rest of the
        first line and the other non-empty lines, joined by spaces, e.g. `"normal"`).
    """
    lines = [line.strip() for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    if not lines:
        return dict(NO_READING)
    first = lines[0]
    sex, age = _SEX.search(first), AGE_PATTERN.search(first)
    spans = sorted((match.span() for match in (sex, age) if match is not None), reverse=True)
    for start, end in spans:
        first = first[:start] + " " + first[end:]
    return {
        "sex": parse_sex(sex.group(1)) if sex else "",
        "age_years": parse_age(age.group(0)) if age else math.nan,
        "reading": " ".join(" ".join([first, *lines[1:]]).split()),
    }


def find_masks(folder: Path, root: Path) -> Path | None:
    """Return the first of `MASK_DIRS` (under `folder`, then `root`) holding `CHNCXR_*.png` files, or None."""
    for base in dict.fromkeys((folder, root)):
        for name in MASK_DIRS:
            candidate = base / name
            if candidate.is_dir() and any(candidate.glob("CHNCXR_*.png")):
                return candidate
    return None


def _masks_missing(folder: Path) -> str:
    return (
        f"{SHENZHEN.file('mask/CHNCXR_0001_0_mask.png').note}. Unpack them so that "
        f"{folder / 'mask' / 'CHNCXR_0001_0_mask.png'} exists (or pass masks_dir=), or pass with_masks=False."
    )


def load_shenzhen(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    seed: int = 0,
    download: bool = False,
    progress: bool = True,
    with_masks: bool | None = None,
    masks_dir: Path | str | None = None,
    num_workers: int | None = None,
    timeout: float = dl.DEFAULT_TIMEOUT,
    max_images: int | None = None,
) -> CXRSet:
    """Load the Shenzhen set with TB labels, clinical readings and, when present, the lung masks of Stirenko et al.

    Args:
        data_dir: the dataset folder; default `data/shenzhen/`.
        image_size: output side `S` in pixels.
        num_images: keep `num_images` images of the split (a random sample drawn with `seed`, in name order), after
            images without a mask are left out; `None` keeps all.
        download: fetch and unpack `ChinaSet_AllFiles.zip` (about 3.8 GB, no published hash) first; the masks are
            a separate download (see `data/README.md`).
        split: `"all"`, or `"train"`, `"val"`, `"test"`: a seeded 70 / 15 / 15 % patient split.
        seed: a non-negative integer, the seed of that split and of the sample of `num_images` (the same seed, the
            same images; `loader_options.choose_rows`).
        with_masks: `None` attaches the masks when their folder is found (leaving out, with a warning, the images
            that have none); `True` requires them; `False` loads every image without masks.
        masks_dir: the masks' folder, if not one of `MASK_DIRS`; relative paths start at the dataset folder.
        num_workers: decoding threads; default the number of cores.
        progress: show progress bars.
        timeout: download timeout in seconds.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `images (N, S, S, 1)`, `labels (N, 15)`, `targets` `tuberculosis`, `age_years`, `sex`,
        `reading`, `meta` (`file`, `age`, `sex`), `masks (N, S, S, 1)` named `("lungs",)` or None, `patient_ids` like
        `"CHNCXR_0001"`, `views "PA"`,
        `pixel_spacing_mm` NaN (unknown), `source="shenzhen"`.

    Raises:
        DatasetNotFoundError: when the images are missing (with what to download and where to put it), or the masks
            with `with_masks=True` or a `masks_dir` that does not exist.
        TypeError: for an argument of the wrong kind (a float `seed`, a string `num_images`, ...).
        ValueError: for a bad argument value.
    """
    num_images = resolve_num_images(num_images, max_images, "shenzhen")
    check_options(image_size, num_images, split, seed)
    if with_masks is not None and not isinstance(with_masks, bool):
        raise ValueError(f"with_masks must be None (use masks when present), True or False, got {with_masks!r}")
    folder = dl.dataset_folder("shenzhen", data_dir)
    if download:
        dl.download_dataset(SHENZHEN, folder, files=[ARCHIVE], timeout=timeout, progress=progress)
    root = find_set_root(folder, "CHNCXR") if folder.is_dir() else None
    if root is None:
        raise dl.DatasetNotFoundError(
            f"no Shenzhen images in {folder}: CXR_png/CHNCXR_*.png was not found there or up to two folders down.\n"
            f"{SHENZHEN.instructions(folder)}"
        )
    files = list_images(root / "CXR_png", "CHNCXR")
    names = select_split(sorted(files), split, seed)
    masks_folder = None
    if with_masks is False:
        if masks_dir is not None:
            warnings.warn(f"masks_dir={masks_dir!r} is ignored because with_masks=False", stacklevel=2)
    elif masks_dir is not None:
        masks_folder = folder / Path(masks_dir).expanduser()
        if not masks_folder.is_dir():
            raise dl.DatasetNotFoundError(f"masks_dir {masks_folder} is not a folder. {_masks_missing(folder)}")
    else:
        masks_folder = find_masks(folder, root)
        if masks_folder is None and with_masks:
            raise dl.DatasetNotFoundError(
                f"with_masks=True, but no mask folder ({', '.join(MASK_DIRS)}) holds CHNCXR_*.png files under "
                f"{folder}. {_masks_missing(folder)}"
            )
    mask_paths = {}
    if masks_folder is not None:
        found = {name: mask_file(masks_folder, name) for name in names}
        mask_paths = {name: path for name, path in found.items() if path is not None}
        left_out = len(names) - len(mask_paths)
        if not mask_paths:
            raise dl.DatasetNotFoundError(
                f"none of the {len(names)} Shenzhen images has a mask in {masks_folder} (looked for "
                f"<name>_mask.png and <name>.png). {_masks_missing(folder)}"
            )
        if left_out and with_masks is None:
            warnings.warn(
                f"{left_out} of {len(names)} Shenzhen images have no lung mask in {masks_folder} and were left out "
                "(the masks of Stirenko et al. cover 566 of the 662 images); pass with_masks=False to keep every "
                "image, without masks",
                stacklevel=2,
            )
        names = [name for name in names if name in mask_paths]
    names = choose_rows(names, num_images, seed)
    images, _ = load_images(
        [files[name] for name in names],
        image_size,
        reader=read_cxr_png,
        cache_dir=folder / "cache",
        root=folder,
        num_workers=num_workers,
        progress=progress,
        desc="Shenzhen",
    )
    masks = None
    if mask_paths:
        fractions, _ = load_images(
            [mask_paths[name] for name in names],
            image_size,
            reader=read_mask_png,
            cache_dir=folder / "cache",
            root=folder,
            tag="mask-",
            num_workers=num_workers,
            progress=progress,
            desc="Shenzhen masks",
        )
        masks = (fractions >= 0.5).astype(np.uint8)
    mask_names = ("lungs",) if masks is not None else ()
    return nlm_set(root, names, images, masks, mask_names, read_shenzhen_reading, "shenzhen")
