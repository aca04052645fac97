"""MedMNIST v3 ChestMNIST and PneumoniaMNIST: small, public, pre-split chest X-ray sets on Zenodo.

Each `.npz` holds `train_images`, `train_labels`, `val_images`, `val_labels`, `test_images`, `test_labels`; images
are `(N, S, S)` uint8 with `S` 28 (`chestmnist.npz`), 64, 128 or 224 (`chestmnist_64.npz` ...).

- **ChestMNIST** is NIH ChestX-ray14; its 14 label columns follow the CheXNet order, not the slide's:

  | ChestMNIST column | finding | slide code |  | ChestMNIST column | finding | slide code |
  |---|---|---|---|---|---|---|
  | 0 | atelectasis | 0 | | 7 | pneumothorax | 14 |
  | 1 | cardiomegaly | 1 | | 8 | consolidation | 2 |
  | 2 | effusion | 4 | | 9 | edema | 3 |
  | 3 | infiltration | 8 | | 10 | emphysema | 5 |
  | 4 | mass | 9 | | 11 | fibrosis | 6 |
  | 5 | nodule | 11 | | 12 | pleural (thickening) | 12 |
  | 6 | pneumonia | 13 | | 13 | hernia | 7 |

  No Finding (10) is 1 exactly when all 14 are 0, as in NIH's labels.
- **PneumoniaMNIST** (pediatric, Guangzhou): label 0 normal -> No Finding 1 and every finding 0; label 1 pneumonia
  -> Pneumonia 1, No Finding 0, the other findings unknown (NaN).

Images are resized from the native size closest above `image_size` (224 if larger); pass `image_size=28` or 64 for
the small files.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from lecture_lib import labels as slide_labels
from lecture_lib.checks import check_count
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import resize
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    choose_positions,
    resolve_num_images,
    resolve_seed,
    resolve_split,
)
from lecture_lib.datasets.registry import MEDMNIST
from lecture_lib.datasets.schema import CXRSet

NATIVE_SIZES = (28, 64, 128, 224)
CHESTMNIST_ORDER = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)
"""ChestMNIST's label columns (CheXNet order) as slide titles."""
CHESTMNIST_TO_SLIDE = np.array([slide_labels.code_of(title) for title in CHESTMNIST_ORDER])
"""Slide code of each ChestMNIST column."""
SPLITS = ("train", "val", "test")


def file_name(flag: str, native_size: int) -> str:
    """Return the npz name, e.g. `chestmnist.npz` (28 px) or `chestmnist_64.npz`."""
    return f"{flag}.npz" if native_size == 28 else f"{flag}_{native_size}.npz"


def native_size_for(image_size: int) -> int:
    """Smallest native MedMNIST size >= `image_size` (224 when larger)."""
    return next((size for size in NATIVE_SIZES if size >= image_size), NATIVE_SIZES[-1])


def chestmnist_labels(columns: np.ndarray) -> np.ndarray:
    """Map ChestMNIST `(N, 14)` labels (CheXNet order) to `(N, 15)` float32 slide rows with No Finding."""
    columns = np.asarray(columns)
    if columns.ndim != 2 or columns.shape[1] != len(CHESTMNIST_ORDER):
        raise ValueError(f"ChestMNIST labels must have shape (N, 14), got {columns.shape}")
    result = np.zeros((columns.shape[0], slide_labels.NUM_PATHOLOGIES), dtype=np.float32)
    result[:, CHESTMNIST_TO_SLIDE] = columns
    result[:, slide_labels.NO_FINDING] = (columns.sum(axis=1) == 0).astype(np.float32)
    return result


def pneumoniamnist_labels(column: np.ndarray) -> np.ndarray:
    """Map PneumoniaMNIST `(N, 1)` labels (0 normal, 1 pneumonia) to `(N, 15)` float32 slide rows."""
    column = np.asarray(column).reshape(-1)
    result = np.full((column.size, slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    normal = column == 0
    result[normal] = 0.0
    result[normal, slide_labels.NO_FINDING] = 1.0
    result[~normal, slide_labels.NO_FINDING] = 0.0
    result[~normal, slide_labels.code_of("Pneumonia")] = 1.0
    return result


def _read_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one split's images and labels from a MedMNIST npz, with a clear error for a damaged file."""
    again = f"delete {path.name} and load again with download=True (the download is MD5-checked)"
    unreadable = (zipfile.BadZipFile, EOFError, OSError, ValueError)  # NumPy calls a non-zip file pickled data
    try:
        archive = np.load(path, allow_pickle=False)
    except unreadable as error:
        raise ValueError(
            f"{path} is not a readable npz archive (truncated or not MedMNIST: {error}); {again}"
        ) from error
    with archive:
        missing = [key for key in (f"{split}_images", f"{split}_labels") if key not in archive.files]
        if missing:
            raise ValueError(f"{path} is not a MedMNIST file: it lacks {missing} (it has {archive.files[:6]}); {again}")
        try:
            return archive[f"{split}_images"], archive[f"{split}_labels"]
        except unreadable as error:
            raise ValueError(f"{path} is damaged (a member cannot be read: {error}); {again}") from error


def _load(flag, data_dir, image_size, num_images, split, seed, download, progress, timeout, max_images) -> CXRSet:
    split = resolve_split(split, flag, {name: name for name in SPLITS})
    image_size = check_count(image_size, "image_size", fix="the side of the square images in pixels, e.g. 64")
    num_images = resolve_num_images(num_images, max_images, flag)
    seed = resolve_seed(seed)
    folder = dl.dataset_folder("medmnist", data_dir)
    native = native_size_for(image_size)
    name = file_name(flag, native)
    if download:
        dl.download_dataset(MEDMNIST, folder, files=[name], progress=progress, timeout=timeout)
    path = dl.require(MEDMNIST, folder, [name])[name]
    parts = [(part, *_read_split(path, part)) for part in (SPLITS if split == "all" else (split,))]
    images = np.concatenate([part_images for _, part_images, _ in parts])
    raw_labels = np.concatenate([part_labels for _, _, part_labels in parts])
    ids = [f"{flag}-{part}-{index}" for part, part_images, _ in parts for index in range(len(part_images))]
    positions = choose_positions(len(images), num_images, seed)
    if len(positions) < len(images):  # a sample: index the arrays (keeping all needs no copy)
        images, raw_labels, ids = images[positions], raw_labels[positions], [ids[row] for row in positions]
    if images.ndim == 4:  # MedMNIST+ stores some sets as RGB; these two are grey, but be safe
        images = images.mean(axis=-1)
    scaled = images.astype(np.float32) / 255.0
    if native != image_size:
        scaled = np.stack([resize(image, image_size) for image in scaled]) if len(scaled) else scaled
    label_rows = chestmnist_labels(raw_labels) if flag == "chestmnist" else pneumoniamnist_labels(raw_labels)
    return CXRSet(
        images=scaled.reshape(len(scaled), image_size, image_size, 1).astype(np.float32),
        labels=label_rows,
        patient_ids=np.array(ids, dtype=object),
        source=flag,
    )


def load_chestmnist(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    timeout: float = dl.DEFAULT_TIMEOUT,
    max_images: int | None = None,
) -> CXRSet:
    """Load ChestMNIST (NIH ChestX-ray14 at 28-224 px) with labels in the slide's code order.

    Args:
        data_dir: the folder holding the npz files; default `data/medmnist/`.
        image_size: output side; the native file used is the smallest of 28, 64, 128, 224 that is >= it.
        num_images: keep `num_images` images of the split; `None` keeps all.
        split: `"all"` (train, val, then test), `"train"`, `"val"` or `"test"` (MedMNIST's split; patient ids are
            not published, so each image is its own patient). Every image is PA: there is no `views` argument.
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: fetch the npz from Zenodo (MD5-checked) if missing.
        progress: show a progress bar while downloading.
        timeout: download timeout in seconds.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `images (N, S, S, 1)`, `labels (N, 15)` (no NaN), `source="chestmnist"`.

    Raises:
        DatasetNotFoundError: when the file is missing and `download` is False.
        TypeError: if `image_size`, `num_images` or `seed` is not an integer.
        ValueError: for a non-positive `image_size` or `num_images`, a negative `seed`, an unknown `split`, or a
            damaged npz file.
    """
    return _load("chestmnist", data_dir, image_size, num_images, split, seed, download, progress, timeout, max_images)


def load_pneumoniamnist(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    timeout: float = dl.DEFAULT_TIMEOUT,
    max_images: int | None = None,
) -> CXRSet:
    """Load PneumoniaMNIST (pediatric, normal vs pneumonia); arguments as `load_chestmnist`."""
    return _load(
        "pneumoniamnist", data_dir, image_size, num_images, split, seed, download, progress, timeout, max_images
    )
