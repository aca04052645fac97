"""Montgomery County chest X-ray set (NLM): 138 PA radiographs, 58 with tuberculosis, with manual lung masks.

This module also holds what the Shenzhen loader shares (NLM file names, PNG decoding, labels, the seeded split) and
`load_mask_folder`, a reader of the simple layout `images/*.png` + `masks/*.png` (both lungs in one mask).

Formats handled here:

- `CXR_png/MCUCXR_0001_0.png`: the last digit of the name is the label, 0 normal (80 images), 1 tuberculosis (58).
  4020 x 4892 or 4892 x 4020 pixels of 0.0875 mm, display convention (bone bright), 12 bits of grey according to
  NLM: a 16-bit PNG whose values stay within 0..4095 is divided by 4095, any other 16-bit PNG by 65535 and an
  8-bit PNG by 255 (`read_cxr_png`). Images are stretched to `S x S` like every loader's.
- `ClinicalReadings/MCUCXR_0001_0.txt`: `Patient's Sex: M`, `Patient's Age: 044Y` (a DICOM age string: Y, M, W
  or D), then the reading in free text (`normal`, or the TB findings). Optional.
- `ManualMask/leftMask/` and `ManualMask/rightMask/`: one binary PNG (0/255 or 0/1) per image and lung, with the
  image's name and size. NLM does not say whose left it means. `MASK_FOLDERS` reads the folders in the anatomical
  sense (the patient's left, as the SCR masks of JSRT do), and `check_sides` verifies that on every image: on a PA
  radiograph the patient's right lung lies on the viewer's left, so its mean column must be the smaller one. A
  disagreement raises, so a wrong reading of NLM's convention cannot pass silently.

Labels (`tb_labels`): tuberculosis is not one of the slide's 15 codes. A normal image gets No Finding = 1 and 0 for
the 14 findings (a radiologist read it as normal); a TB image gets No Finding = 0 and NaN for the 14 findings: the
free-text readings are not mapped to codes, as they describe TB-specific signs (cavities, apical scarring) and mix
in negations. The TB flag itself is `targets["tuberculosis"]`, `(N,)` float32 (NaN for a file name without the
label digit). `targets` also holds, from the clinical readings, `age_years` `(N,)` float32 (NaN if unknown),
`sex` `(N,)` str (`"M"`, `"F"` or `""`) and `reading` `(N,)` str (the free text, `""` if absent).

Masks: `mask_names` picks channels among `right_lung`, `left_lung` (the patient's sides) and `lungs` (their union).
Each mask is area-averaged to the output size and then thresholded at `>= 0.5`, the method of
`imageio.shrink_masks`, through the on-disk cache. The union is the sum of the two averaged lungs, which equals the
average of the union because the two masks do not overlap.

Split: NLM publishes none. `split="train"`, `"val"` or `"test"` deals the patients 70 / 15 / 15 % exactly as
`CXRSet.split(SPLIT_FRACTIONS, seed=seed)` does on the whole set, so `load_montgomery(split="train", seed=s)` holds
the images of `load_montgomery().split(seed=s)[0]`, in the same order. `num_images` then keeps a random sample of
that many drawn with the same seed (`loader_options.choose_rows`), in name order, as the other loaders do with an
integer `seed`; as every loader does, a larger `num_images` with the same seed keeps the images of a smaller one.

Example:
    >>> from lecture_lib.datasets.montgomery import load_montgomery
    >>> data = load_montgomery(image_size=256, download=True)     # NLM-MontgomeryCXRSet.zip, about 600 MB
    >>> data.mask_names
    ('right_lung', 'left_lung')
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lecture_lib import labels as slide_labels
from lecture_lib.checks import check_choice, check_count, check_number
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, read_image
from lecture_lib.datasets.loader_options import DEFAULT_IMAGE_SIZE, choose_rows, resolve_num_images
from lecture_lib.datasets.registry import MONTGOMERY
from lecture_lib.datasets.schema import CXRSet

ARCHIVE = "NLM-MontgomeryCXRSet.zip"
PIXEL_SPACING_MM = 0.0875
"""Spacing of a pixel of the full-size images, in both directions (NLM's description of the set)."""

TWELVE_BIT_MAX = 4095
NAME_PATTERN = re.compile(r"^(?P<patient>(?P<prefix>MCUCXR|CHNCXR)_\d+)_(?P<label>[01])$")
"""NLM file stems: `MCUCXR_0001_0` (Montgomery) or `CHNCXR_0001_0` (Shenzhen); the last digit 1 means TB."""

MASK_NAMES = ("right_lung", "left_lung", "lungs")
"""Mask channels this module can return: the patient's right and left lung, and both lungs in one channel."""

MASK_FOLDERS = {"right_lung": "ManualMask/rightMask", "left_lung": "ManualMask/leftMask"}
"""NLM's folder for each of the patient's lungs. NLM does not define its "left"; this reads it as the patient's left
(the lung on the viewer's right of a PA image). `check_sides` tests the assumption on every image loaded."""

SPLITS = ("all", "train", "val", "test")
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
"""Shares of patients in the `"train"`, `"val"` and `"test"` parts (NLM publishes no split)."""

SIMPLE_LAYOUT = ("images", "masks")
"""Sub-folders of the simple layout: `images/<name>.png` and `masks/<name>.png` (both lungs, 0/255)."""

AGE_PATTERN = re.compile(r"(\d+(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|m|weeks?|w|days?|d)\b", re.IGNORECASE)
_YEARS_PER_UNIT = {"y": 1.0, "m": 1.0 / 12.0, "w": 7.0 / 365.25, "d": 1.0 / 365.25}
"""An age with its unit, as in `044Y` (Montgomery, a DICOM age string) or `35yrs` (Shenzhen)."""
NO_READING = {"sex": "", "age_years": math.nan, "reading": ""}
"""What a missing clinical reading gives."""
_SOURCES = {"MCUCXR": "montgomery", "CHNCXR": "shenzhen"}


# ------------------------------------------------------------------------------------- shared with shenzhen.py


def check_options(image_size, num_images, split, seed) -> None:
    """Validate the arguments every NLM loader takes (`lecture_lib.checks`): `TypeError` for a wrong kind,
    `ValueError` for a value out of range, each naming the value received."""
    check_number(image_size, "image_size", low=2, high=8192, integer=True, fix="e.g. 256")
    check_count(num_images, "num_images", allow_none=True, fix="None reads every image")
    shares = "/".join(str(round(100 * share)) for share in SPLIT_FRACTIONS)
    fix = f"NLM publishes no split, so 'train', 'val' and 'test' are a seeded {shares} % split of the patients"
    check_choice(split, "split", SPLITS, fix=fix)
    check_count(seed, "seed", minimum=0, fix="it seeds the patient split and the sample of num_images")


def parse_name(stem: str) -> tuple[str, float]:
    """Return `(patient_id, tuberculosis)` of an NLM file stem: `"MCUCXR_0001_1"` gives `("MCUCXR_0001", 1.0)`.

    Any other stem is its own patient with an unknown label: `(stem, nan)`.
    """
    match = NAME_PATTERN.match(stem)
    if match is None:
        return stem, math.nan
    return match.group("patient"), float(match.group("label"))


def read_cxr_png(path: Path | str) -> np.ndarray:
    """Decode an NLM radiograph PNG into a `(height, width)` float32 image in [0, 1], display convention.

    16-bit files whose values stay within 0..4095 (NLM's 12-bit images) are divided by 4095, other 16-bit files by
    65535, 8-bit files by 255; colour files become grey (see `imageio.to_grey`).

    Raises:
        FileNotFoundError, ValueError: for a missing or undecodable file (see `imageio.read_image`).
    """
    image = read_image(path)
    values = np.asarray(image, dtype=np.float32)
    if image.mode != "F":
        return values / np.float32(255.0)
    # `read_image` already divided 16-bit values by 65535; a maximum of 4095 or less marks a 12-bit image.
    if values.size and float(values.max()) * 65535.0 <= TWELVE_BIT_MAX + 0.5:
        values = values * np.float32(65535.0 / TWELVE_BIT_MAX)
    return np.clip(values, 0.0, 1.0)


def read_mask_png(path: Path | str) -> Image.Image:
    """Decode a binary mask PNG (0/255, 0/1, any grey or colour) into an 8-bit image: 255 where the file is not 0."""
    values = np.asarray(read_image(path))
    return Image.fromarray(np.where(values > 0, 255, 0).astype(np.uint8))


def parse_age(text: str) -> float:
    """Return the first age in `text` in years (`"044Y"` -> 44.0, `"35yrs"` -> 35.0, `"018M"` -> 1.5), or NaN."""
    match = AGE_PATTERN.search(text)
    if match is None:
        return math.nan
    return float(match.group(1)) * _YEARS_PER_UNIT[match.group(2)[0].lower()]


def parse_sex(text: str) -> str:
    """Return `"M"` or `"F"` from `"M"`, `"male"`, `"F"`, `"Female"` ...; `""` for anything else."""
    value = text.strip().upper()
    return "F" if value.startswith("F") else "M" if value.startswith("M") else ""


def tb_labels(tuberculosis: np.ndarray) -> np.ndarray:
    """Map TB flags `(N,)` (0 normal, 1 TB, NaN unknown) to `(N, 15)` float32 slide rows.

    Normal: No Finding 1 and the 14 findings 0. TB: No Finding 0, the 14 findings NaN (not read). Unknown: all NaN.
    """
    flags = np.asarray(tuberculosis, dtype=np.float32).reshape(-1)
    rows = np.full((flags.size, slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    normal = flags == 0
    rows[normal] = 0.0
    rows[normal, slide_labels.NO_FINDING] = 1.0
    rows[flags == 1, slide_labels.NO_FINDING] = 0.0
    return rows


def nlm_targets(tuberculosis: Sequence[float], readings: Sequence[dict]) -> dict[str, np.ndarray]:
    """Build the `targets` of an NLM set: `tuberculosis`, `age_years`, `sex` and `reading`, one row per image."""
    return {
        "tuberculosis": np.asarray(tuberculosis, dtype=np.float32),
        "age_years": np.array([reading["age_years"] for reading in readings], dtype=np.float32),
        "sex": np.array([reading["sex"] for reading in readings], dtype=object),
        "reading": np.array([reading["reading"] for reading in readings], dtype=object),
    }


def nlm_set(root: Path, names: Sequence[str], images: np.ndarray, masks: np.ndarray | None,
            mask_names: Sequence[str], read_reading, source: str,
            pixel_spacing_mm: np.ndarray | None = None, image_folder: str = "CXR_png") -> CXRSet:  # fmt: skip
    """Assemble one NLM set as a `CXRSet`: TB labels and patient ids from the file names, `targets` from the
    clinical readings in `root/ClinicalReadings/<name>.txt` (read by `read_reading`; `NO_READING` where absent, and
    for every image when `read_reading` is None), and `meta` (`file` in `image_folder`, `age`, `sex` of the reading)."""
    readings = [
        read_reading(path) if read_reading is not None and path.is_file() else NO_READING
        for path in (root / "ClinicalReadings" / f"{name}.txt" for name in names)
    ]
    parsed = [parse_name(name) for name in names]
    tuberculosis = [flag for _, flag in parsed]
    targets = nlm_targets(tuberculosis, readings)
    return CXRSet(
        images=images,
        labels=tb_labels(np.array(tuberculosis)),
        masks=masks,
        mask_names=tuple(mask_names),
        targets=targets,
        patient_ids=np.array([patient for patient, _ in parsed], dtype=object),
        views=np.array(["PA"] * len(names), dtype=object),
        pixel_spacing_mm=pixel_spacing_mm,
        source=source,
        meta=pd.DataFrame(
            {
                "file": [f"{image_folder}/{name}.png" for name in names],
                "age": targets["age_years"].astype(float),
                "sex": targets["sex"],
            }
        ),
    )


def split_mask(patient_ids: Sequence[str], split: str, seed: int) -> np.ndarray:
    """Return the `(N,)` bool mask of the images in `split`, dealt as `CXRSet.split(SPLIT_FRACTIONS, seed)` does.

    Raises:
        ValueError: for fewer than 3 patients with a split other than `"all"`.
    """
    ids = np.asarray(list(patient_ids), dtype=object)
    if split == "all":
        return np.ones(ids.size, dtype=bool)
    # A stand-in set of 1-pixel images runs the very same deal as CXRSet.split, without decoding any image.
    stand_in = CXRSet(images=np.zeros((ids.size, 1, 1, 1), np.float32), patient_ids=ids)
    part = stand_in.split(SPLIT_FRACTIONS, seed=seed, by="patient")[SPLITS.index(split) - 1]
    return np.isin(ids, part.patient_ids)


def find_set_root(folder: Path, prefix: str) -> Path | None:
    """Return the folder holding `CXR_png/<prefix>_*.png` (the folder itself or up to two levels down), or None."""
    for pattern in ("CXR_png", "*/CXR_png", "*/*/CXR_png"):
        for images in sorted(folder.glob(pattern)):
            if images.is_dir() and any(images.glob(f"{prefix}_*.png")):
                return images.parent
    return None


def list_images(images_dir: Path, prefix: str) -> dict[str, Path]:
    """Index the PNGs of `images_dir` whose stem is an NLM name with `prefix` (other files are ignored) by stem."""
    return {
        path.stem: path
        for path in images_dir.glob(f"{prefix}_*.png")
        if (match := NAME_PATTERN.match(path.stem)) and match.group("prefix") == prefix
    }


def mask_file(masks_dir: Path, stem: str) -> Path | None:
    """Return `masks_dir/<stem>.png` or `masks_dir/<stem>_mask.png` (the Shenzhen masks' naming), or None."""
    for name in (f"{stem}.png", f"{stem}_mask.png"):
        if (masks_dir / name).is_file():
            return masks_dir / name
    return None


def select_split(names: list[str], split: str, seed: int) -> list[str]:
    """Keep the sorted NLM stems of `split` (see `split_mask`)."""
    keep = split_mask([parse_name(name)[0] for name in names], split, seed)
    return [name for name, kept in zip(names, keep, strict=True) if kept]


# ---------------------------------------------------------------------------------------------------- Montgomery


def read_montgomery_reading(path: Path | str) -> dict:
    """Read a Montgomery clinical reading: `Patient's Sex: M`, `Patient's Age: 044Y`, then free text.

    Returns:
        A dict with `sex` (`"M"`, `"F"` or `""`), `age_years` (float, NaN if absent) and `reading` (the other
        non-empty lines joined by spaces, e.g. `"normal"`).
    """
    sex, age, lines = "", math.nan, []
    for line in Path(path).read_text(errors="replace").splitlines():
        key, colon, value = line.partition(":")
        key = " ".join(key.lower().split())
        if colon and re.fullmatch(r"patient\W?s sex", key):
            sex = parse_sex(value)
        elif colon and re.fullmatch(r"patient\W?s age", key):
            age = parse_age(value)
        elif line.strip():
            lines.append(line.strip())
    return {"sex": sex, "age_years": age, "reading": " ".join(lines)}


def check_sides(right_lung: np.ndarray, left_lung: np.ndarray, names: Sequence[str]) -> None:
    """Check on every PA image that the patient's right lung lies on the viewer's left of the patient's left lung.

    The mean column of each mask (pixel centres `col + 0.5`, weighted by the mask) is compared.

    Args:
        right_lung: `(N, H, W)` masks (0/1 or area fractions) read as the patient's right lung.
        left_lung: `(N, H, W)` masks read as the patient's left lung.
        names: `N` image names, for the messages.

    Raises:
        ValueError: for arrays of different shapes, or naming the images whose right lung does not have the smaller
            mean column (a swapped file, a flipped image, or a wrong `MASK_FOLDERS` if every image disagrees).

    Warns:
        UserWarning: for images with an empty mask, whose sides cannot be checked.
    """
    right_lung, left_lung = np.asarray(right_lung), np.asarray(left_lung)
    if right_lung.ndim != 3 or right_lung.shape != left_lung.shape or len(names) != right_lung.shape[0]:
        raise ValueError(
            f"check_sides needs two (N, H, W) arrays of one shape and N names, got {right_lung.shape}, "
            f"{left_lung.shape} and {len(names)} names"
        )
    columns = np.arange(right_lung.shape[2], dtype=np.float64) + 0.5
    right_mass = right_lung.sum(axis=1, dtype=np.float64)
    left_mass = left_lung.sum(axis=1, dtype=np.float64)
    right_total, left_total = right_mass.sum(axis=1), left_mass.sum(axis=1)
    empty = (right_total == 0) | (left_total == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        right_x, left_x = right_mass @ columns / right_total, left_mass @ columns / left_total
    if empty.any():
        blank = [names[index] for index in np.flatnonzero(empty)]
        warnings.warn(
            f"{len(blank)} image(s) have an empty lung mask, so their sides were not checked: {blank[:5]}", stacklevel=2
        )
    wrong = np.flatnonzero(~empty & (right_x >= left_x))
    if wrong.size:
        examples = "; ".join(
            f"{names[index]}: right_lung at column {right_x[index]:.1f}, left_lung at {left_x[index]:.1f}"
            for index in wrong[:3]
        )
        raise ValueError(
            f"{wrong.size} of {len(names)} mask pairs put the patient's right lung (from {MASK_FOLDERS['right_lung']}) "
            f"at or right of the left lung (from {MASK_FOLDERS['left_lung']}) in images {right_lung.shape[2]} pixels "
            f"wide ({examples}). On a PA radiograph the patient's right lung is on the viewer's left. If every image "
            "disagrees, NLM's folders name the image side and MASK_FOLDERS in lecture_lib/datasets/montgomery.py must "
            "be swapped; if only some do, those files are swapped or their images flipped. mask_names=('lungs',) "
            "loads the union of both lungs, which needs no side."
        )


def _check_mask_names(mask_names) -> tuple[str, ...] | None:
    if mask_names is None:
        return None
    try:
        names = (mask_names,) if isinstance(mask_names, str) else tuple(mask_names)
    except TypeError:
        names = None
    if names is None or any(name not in MASK_NAMES for name in names) or len(set(names)) != len(names):
        raise ValueError(
            f"mask_names must be None (every mask the files have) or distinct names among {MASK_NAMES}, "
            f"got {mask_names!r}; e.g. ('lungs',)"
        )
    return names


def _read_mask_folder(
    folder: Path,
    image_size: int,
    max_images: int | None,
    split: str,
    seed: int,
    with_masks: bool,
    num_workers: int | None,
    progress: bool,
) -> CXRSet:
    images_dir, masks_dir = (folder / name for name in SIMPLE_LAYOUT)
    if not images_dir.is_dir() or (with_masks and not masks_dir.is_dir()):
        raise dl.DatasetNotFoundError(
            f"{folder} lacks {images_dir.name}/ or {masks_dir.name}/: the simple layout is images/<name>.png (8-bit "
            "grey radiographs) with masks/<name>.png (both lungs in one 0/255 mask, same name)"
        )
    paths = {path.stem: path for path in images_dir.glob("*.png")}
    if not paths:
        raise dl.DatasetNotFoundError(
            f"{images_dir} holds no .png image; the simple layout is images/<name>.png with masks/<name>.png"
        )
    names = choose_rows(select_split(sorted(paths), split, seed), max_images, seed)
    images, _ = load_images(
        [paths[name] for name in names],
        image_size,
        reader=read_cxr_png,
        num_workers=num_workers,
        progress=progress,
        desc=folder.name,
    )
    masks = None
    if with_masks:
        mask_paths = [mask_file(masks_dir, name) for name in names]
        missing = [name for name, path in zip(names, mask_paths, strict=True) if path is None]
        if missing:
            raise dl.DatasetNotFoundError(
                f"{len(missing)} image(s) have no mask in {masks_dir}, e.g. {missing[:3]} (looked for <name>.png and "
                "<name>_mask.png); every image of the simple layout needs its mask"
            )
        fractions, _ = load_images(
            mask_paths, image_size, reader=read_mask_png, num_workers=num_workers, progress=progress, desc="masks"
        )
        masks = (fractions >= 0.5).astype(np.uint8)
    sources = {_SOURCES.get(match.group("prefix")) if (match := NAME_PATTERN.match(name)) else None for name in names}
    source = sources.pop() if len(sources) == 1 and None not in sources else "mask_folder"
    return nlm_set(folder, names, images, masks, ("lungs",) if with_masks else (), None, source, image_folder="images")


def load_mask_folder(
    folder: Path | str, *, image_size: int = 64, progress: bool = False, num_workers: int | None = None
) -> CXRSet:
    """Load the simple layout `folder/images/*.png` + `folder/masks/*.png` (same names, both lungs in one mask).

    This is the layout of downsized copies such as `../shared/realdata/montgomery/`. Nothing is written to `folder`
    (no cache), so it may be read-only. NLM names (`MCUCXR_0001_0`, `CHNCXR_0001_1`) give the TB label and the patient
    id; other names are their own patient with unknown labels. A mask may also be called `<name>_mask.png`.

    Args:
        folder: the folder holding `images/` and `masks/`.
        image_size: output side `S` in pixels.
        progress: show progress bars.
        num_workers: decoding threads; default the number of cores.

    Returns:
        `CXRSet` with `images (N, S, S, 1)`, `masks (N, S, S, 1)` named `("lungs",)`, labels and `targets` as in the
        module docstring (no readings, so `age_years` NaN and `sex`, `reading` empty), `views "PA"`,
        `pixel_spacing_mm` NaN (the original size is lost), and `source` `"montgomery"` / `"shenzhen"` when every
        name is of that set, else `"mask_folder"`.

    Raises:
        DatasetNotFoundError: when `images/` or `masks/` is missing or empty, or an image has no mask.
        TypeError, ValueError: for a bad `image_size`.
    """
    check_options(image_size, None, "all", 0)
    return _read_mask_folder(Path(folder).expanduser(), image_size, None, "all", 0, True, num_workers, progress)


def _official_masks(
    root: Path,
    folder: Path,
    names: list[str],
    sizes: np.ndarray,
    wanted: tuple[str, ...] | None,
    image_size: int,
    num_workers: int | None,
    progress: bool,
) -> tuple[np.ndarray | None, tuple[str, ...]]:
    present = all((root / sub).is_dir() for sub in MASK_FOLDERS.values())
    if wanted is None:
        wanted = ("right_lung", "left_lung") if present else ()
    if not wanted:
        return None, ()
    if not present:
        raise dl.DatasetNotFoundError(
            f"mask_names={wanted} needs the folders {root / MASK_FOLDERS['right_lung']} and "
            f"{root / MASK_FOLDERS['left_lung']}, which are missing; they come with {ARCHIVE}.\n"
            f"{MONTGOMERY.instructions(folder)}"
        )
    fractions = {}
    for side, sub in MASK_FOLDERS.items():
        paths = [root / sub / f"{name}.png" for name in names]
        missing = [path for path in paths if not path.is_file()]
        if missing:
            raise dl.DatasetNotFoundError(
                f"{len(missing)} Montgomery mask(s) are missing, e.g. {missing[0]}; every image of CXR_png/ needs a "
                "mask of the same name in ManualMask/leftMask/ and in ManualMask/rightMask/ (or pass mask_names=())"
            )
        fractions[side], mask_sizes = load_images(
            paths,
            image_size,
            reader=read_mask_png,
            cache_dir=folder / "cache",
            root=folder,
            tag="mask-",
            num_workers=num_workers,
            progress=progress,
            desc=f"masks {side}",
        )
        odd = np.flatnonzero(np.any(mask_sizes != sizes, axis=1))
        if odd.size:
            (mask_h, mask_w), (image_h, image_w) = mask_sizes[odd[0]], sizes[odd[0]]
            raise ValueError(
                f"{paths[odd[0]]} is {mask_w}x{mask_h} pixels but its image is {image_w}x{image_h}; NLM's masks have "
                "their image's size, so this file does not belong to that image"
            )
    if "right_lung" in wanted or "left_lung" in wanted:
        check_sides(fractions["right_lung"][..., 0], fractions["left_lung"][..., 0], names)
    fractions["lungs"] = np.minimum(fractions["right_lung"] + fractions["left_lung"], 1.0)
    masks = np.concatenate([fractions[name] >= 0.5 for name in wanted], axis=-1).astype(np.uint8)
    return masks, wanted


def load_montgomery(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    seed: int = 0,
    download: bool = False,
    progress: bool = True,
    mask_names: Sequence[str] | str | None = None,
    num_workers: int | None = None,
    timeout: float = dl.DEFAULT_TIMEOUT,
    max_images: int | None = None,
) -> CXRSet:
    """Load the Montgomery County set with TB labels, clinical readings and the manual lung masks.

    Reads NLM's layout (`CXR_png/`, `ClinicalReadings/`, `ManualMask/`), or, when that is absent, the simple layout
    `images/` + `masks/` (see `load_mask_folder`; read without a cache, its masks give only `lungs`).

    Args:
        data_dir: the dataset folder; default `data/montgomery/`.
        image_size: output side `S` in pixels.
        num_images: keep `num_images` images of the split (a random sample drawn with `seed`, in name order);
            `None` keeps all.
        split: `"all"`, or `"train"`, `"val"`, `"test"`: a seeded 70 / 15 / 15 % patient split (module docstring).
        seed: a non-negative integer, the seed of that split and of the sample of `num_images` (the same seed, the
            same images; `loader_options.choose_rows`).
        download: fetch and unpack `NLM-MontgomeryCXRSet.zip` (about 600 MB, no published hash) first. Every image
            is PA: there is no `views` argument.
        mask_names: channels among `"right_lung"`, `"left_lung"` (the patient's sides) and `"lungs"` (the union), in
            the order wanted; `None` gives `("right_lung", "left_lung")` for NLM's layout (none if `ManualMask/` is
            absent) and `("lungs",)` for the simple layout; `()` loads no mask.
        num_workers: decoding threads; default the number of cores.
        progress: show progress bars.
        timeout: download timeout in seconds.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `images (N, S, S, 1)`, `labels (N, 15)` (normal: No Finding 1, the rest 0; TB: No Finding 0,
        the rest NaN), `targets` `tuberculosis`, `age_years`, `sex`, `reading`, `meta` (`file`, `age`, `sex`),
        `masks (N, S, S, M)`, `patient_ids`
        like `"MCUCXR_0001"`, `views "PA"`, `pixel_spacing_mm` `0.0875 * (height, width) / S` (NaN for the simple
        layout), `source="montgomery"`.

    Raises:
        DatasetNotFoundError: when neither layout is found (with what to download and where to put it), or masks
            are missing.
        TypeError: for an argument of the wrong kind (a float `seed`, a string `num_images`, ...).
        ValueError: for a bad argument value, `right_lung` / `left_lung` asked of the simple layout, a mask whose size
            differs from its image, or a mask pair whose sides disagree with `MASK_FOLDERS` (see `check_sides`).
    """
    num_images = resolve_num_images(num_images, max_images, "montgomery")
    check_options(image_size, num_images, split, seed)
    wanted = _check_mask_names(mask_names)
    folder = dl.dataset_folder("montgomery", data_dir)
    if download:
        dl.download_dataset(MONTGOMERY, folder, files=[ARCHIVE], timeout=timeout, progress=progress)
    root = find_set_root(folder, "MCUCXR") if folder.is_dir() else None
    if root is None:
        if not all((folder / name).is_dir() for name in SIMPLE_LAYOUT):
            raise dl.DatasetNotFoundError(
                f"no Montgomery images in {folder}: found neither CXR_png/MCUCXR_*.png (NLM's layout) nor the simple "
                f"layout images/ + masks/.\n{MONTGOMERY.instructions(folder)}"
            )
        sides = [name for name in wanted or () if name != "lungs"]
        if sides:
            raise ValueError(
                f"mask_names asks for {sides}, but {folder} has the simple layout images/ + masks/, whose masks hold "
                "both lungs in one image, so the sides cannot be told apart; pass mask_names=('lungs',), or use NLM's "
                "layout with ManualMask/leftMask/ and ManualMask/rightMask/ to get each lung"
            )
        return _read_mask_folder(folder, image_size, num_images, split, seed, wanted != (), num_workers, progress)
    files = list_images(root / "CXR_png", "MCUCXR")
    names = choose_rows(select_split(sorted(files), split, seed), num_images, seed)
    images, sizes = load_images(
        [files[name] for name in names],
        image_size,
        reader=read_cxr_png,
        cache_dir=folder / "cache",
        root=folder,
        num_workers=num_workers,
        progress=progress,
        desc="Montgomery",
    )
    masks, channel_names = _official_masks(root, folder, names, sizes, wanted, image_size, num_workers, progress)
    spacing = (PIXEL_SPACING_MM * sizes / image_size).astype(np.float32)
    return nlm_set(root, names, images, masks, channel_names, read_montgomery_reading, "montgomery", spacing)
