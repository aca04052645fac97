"""SIIM-ACR Pneumothorax Segmentation (Kaggle 2019): 12,089 NIH radiographs as JPEG-compressed DICOMs + RLE masks.

Quirks handled here:

- DICOMs sit in nested folders `dicom-images-train/<study UID>/<series UID>/<ImageId>.dcm`; they are found by
  name at any depth. Pixel data is JPEG Baseline (transfer syntax 1.2.840.10008.1.2.4.50), decoded by pydicom
  through pylibjpeg (`lecture_lib.datasets.dicom.read_dicom`).
- `train-rle.csv` has the header `ImageId, EncodedPixels` (with a space) and one row per pneumothorax region:
  several rows for the same image mean the union of their masks; `-1` (written `' -1'` in the file) means none.
- The run-length encoding is the challenge's own: pairs `(start, length)` where each start is *relative* to the end
  of the previous run, over the pixels in *column-major* order (down the first column, then the next). `rle_decode`
  and `rle_encode` implement it; the tests compare with the challenge's `mask_functions.rle2mask`.

Label mapping: Pneumothorax (code 14) = 1 if the image has a mask, else 0; the other 14 codes are not annotated (NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, select_dicoms, shrink_masks
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
)
from lecture_lib.datasets.registry import SIIM
from lecture_lib.datasets.schema import CXRSet

RLE_FILES = ("train-rle.csv", "stage_2_train.csv")
EMPTY = "-1"


def rle_decode(rle: str, height: int = 1024, width: int = 1024) -> np.ndarray:
    """Decode one SIIM-ACR run-length string into a mask.

    Args:
        rle: space-separated integers `start_1 length_1 start_2 length_2 ...`, each start counted from the end of
            the previous run, over pixels in column-major order; `"-1"` (any surrounding spaces) for an empty mask.
        height: image rows.
        width: image columns.

    Returns:
        `(height, width)` uint8 mask with 1 inside the runs.

    Raises:
        ValueError: for an odd number of values, negative values, or runs past the last pixel.
    """
    text = str(rle).strip()
    flat = np.zeros(height * width, dtype=np.uint8)
    if text in (EMPTY, ""):
        return flat.reshape(width, height).T.copy()
    try:
        values = np.array([int(token) for token in text.split()], dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"RLE must be integers separated by spaces or '-1', got {text[:40]!r}...") from error
    if values.size % 2 or np.any(values < 0):
        raise ValueError(
            f"RLE needs non-negative (start, length) pairs, got {values.size} values starting {values[:6].tolist()}"
        )
    position = 0
    for start, length in values.reshape(-1, 2):
        position += start
        if position + length > flat.size:
            raise ValueError(
                f"RLE run at pixel {position} of length {length} passes the end of a {height}x{width} image; "
                "check height and width"
            )
        flat[position : position + length] = 1
        position += length
    return flat.reshape(width, height).T.copy()


def rle_encode(mask: np.ndarray) -> str:
    """Encode a mask in the SIIM-ACR format (relative starts, column-major); `"-1"` for an empty mask.

    Args:
        mask: `(height, width)` array; nonzero pixels are inside.

    Returns:
        The run-length string, the inverse of `rle_decode`.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"rle_encode expects a (height, width) mask, got shape {mask.shape}")
    flat = (mask.T.reshape(-1) > 0).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [0]])))
    if edges.size == 0:
        return EMPTY
    starts, ends = edges[0::2], edges[1::2]
    relative = starts - np.concatenate([[0], ends[:-1]])
    return " ".join(f"{start} {end - begin}" for start, begin, end in zip(relative, starts, ends, strict=True))


def read_rle_csv(path: Path | str) -> dict[str, list[str]]:
    """Read `train-rle.csv`: `ImageId -> [rle, ...]` (empty list for `-1`), in file order.

    Accepts the header with or without the space (`ImageId, EncodedPixels`) and `' -1'` values.
    """
    frame = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    frame.columns = [column.strip() for column in frame.columns]
    if list(frame.columns[:2]) != ["ImageId", "EncodedPixels"]:
        raise ValueError(f"{path} has columns {list(frame.columns)}, expected ImageId, EncodedPixels")
    result: dict[str, list[str]] = {}
    for image_id, rle in zip(frame["ImageId"].str.strip(), frame["EncodedPixels"].str.strip(), strict=True):
        runs = result.setdefault(image_id, [])
        if rle not in (EMPTY, ""):
            runs.append(rle)
    return result


def load_siim(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    views: Sequence[str] | str | None = None,
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    only_positive: bool = False,
    num_workers: int | None = None,
    max_images: int | None = None,
) -> CXRSet:
    """Load SIIM-ACR images with their pneumothorax masks.

    Args:
        data_dir: the dataset folder; default `data/siim/`.
        image_size: output side in pixels.
        num_images: keep `num_images` of the images (in CSV order) that have a DICOM on disk; `None` keeps all.
        split: `"all"`: the challenge's labelled images, with no official split (split by patient with
            `CXRSet.split`).
        views: keep these DICOM View Positions, `("PA",)` or `("AP",)`; `None` keeps both (the headers of every
            candidate image are read first when given).
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: SIIM-ACR is a Kaggle competition: `True` raises the instructions (accept the rules first).
        progress: show a progress bar.
        only_positive: keep only images with a pneumothorax.
        num_workers: decoding threads.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `masks (N, S, S, 1)` named `("pneumothorax",)`, `labels` (Pneumothorax 0/1, the rest NaN),
        `patient_ids`, `views` and `pixel_spacing_mm` from the DICOM headers, `meta` (`file`, and `age`, `sex`, `study_id` from the headers
        where they are filled), `source="siim"`.

    Raises:
        DatasetNotFoundError: when the CSV or the DICOMs are missing, with where to get them.
    """
    folder = dl.dataset_folder("siim", data_dir)
    resolve_split(split, "siim", {})
    num_images = resolve_num_images(num_images, max_images, "siim")
    seed = resolve_seed(seed)
    views = resolve_views(views, "siim", ("PA", "AP"))
    if download:
        dl.download_dataset(SIIM, folder)
    found = dl.require(SIIM, folder, [RLE_FILES])
    runs = read_rle_csv(found[RLE_FILES[0]])
    on_disk = {path.stem: path for path in folder.rglob("*.dcm")}
    ids = [image_id for image_id in runs if image_id in on_disk and (runs[image_id] or not only_positive)]
    if not ids:
        raise dl.DatasetNotFoundError(f"no DICOM listed in the RLE file was found under {folder}.\n"
                                      f"{SIIM.instructions(folder)}")  # fmt: skip
    ids, paths, headers = select_dicoms(ids, on_disk, views, num_images, num_workers, "siim", seed=seed)
    images, sizes = load_images(paths, image_size, cache_dir=folder / "cache", root=folder, tag="dicom-",
                                num_workers=num_workers, progress=progress, desc="SIIM")  # fmt: skip
    masks = np.zeros((len(ids), image_size, image_size, 1), dtype=np.uint8)
    for row, image_id in enumerate(ids):
        height, width = (int(value) for value in sizes[row])
        full = np.zeros((height, width), dtype=np.uint8)
        for rle in runs[image_id]:
            full |= rle_decode(rle, height, width)
        masks[row] = shrink_masks(full[None, :, :, None], image_size)[0]
    label_rows = np.full((len(ids), slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    label_rows[:, slide_labels.code_of("Pneumothorax")] = [1.0 if runs[image_id] else 0.0 for image_id in ids]
    spacing = np.array([header["spacing_mm"] for header in headers], dtype=np.float64)
    spacing = spacing * sizes / image_size
    return CXRSet(
        images=images,
        labels=label_rows,
        masks=masks,
        mask_names=("pneumothorax",),
        patient_ids=np.array(
            [header["patient_id"] or image_id for header, image_id in zip(headers, ids, strict=True)], dtype=object
        ),  # fmt: skip
        views=np.array([header["view"] or "PA" for header in headers], dtype=object),
        pixel_spacing_mm=spacing.astype(np.float32),
        source="siim",
        meta=pd.DataFrame(
            {
                "file": [path.relative_to(folder).as_posix() for path in paths],
                "age": [header["age"] for header in headers],
                "sex": [header["sex"] for header in headers],
                "study_id": [header["study_id"] for header in headers],
            }
        ),
    )
