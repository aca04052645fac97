"""RSNA Pneumonia Detection Challenge (Kaggle 2018): 26,684 NIH radiographs as DICOMs with pneumonia boxes.

Quirks handled here:

- `stage_2_train_labels.csv` (`patientId,x,y,width,height,Target`) has one row per box, up to 4 rows per patient;
  patients without pneumonia have one row with `Target` 0 and empty coordinates. Boxes are given by their top-left
  corner and size in the 1024-pixel image; here they become `xyxy` scaled to `image_size`.
- `stage_2_detailed_class_info.csv` (`patientId,class`) repeats the class on every row of a patient; its classes are
  `Lung Opacity`, `Normal` and `No Lung Opacity / Not Normal`.

Label mapping (one table): `Target` 1 -> Pneumonia (13) = 1, else 0; class `Normal` -> No Finding (10) = 1, the
other two classes -> No Finding = 0; the remaining 13 codes are not annotated (NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, select_dicoms
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
)
from lecture_lib.datasets.registry import RSNA
from lecture_lib.datasets.schema import PAD, CXRSet

LABEL_FILE = "stage_2_train_labels.csv"
CLASS_FILE = "stage_2_detailed_class_info.csv"
IMAGE_FOLDERS = ("stage_2_train_images", "stage_1_train_images")
CLASSES = ("Lung Opacity", "Normal", "No Lung Opacity / Not Normal")


def read_labels(path: Path | str) -> pd.DataFrame:
    """Read `stage_2_train_labels.csv` and check it: boxes only on `Target` 1 rows, at most one empty row each.

    Returns:
        The table with `x, y, width, height` as float (NaN on `Target` 0 rows) and `Target` as int.

    Raises:
        ValueError: for missing columns or a `Target` 1 row without a box.
    """
    frame = pd.read_csv(path)
    expected = ["patientId", "x", "y", "width", "height", "Target"]
    if list(frame.columns) != expected:
        raise ValueError(f"{path} has columns {list(frame.columns)}, expected {expected}")
    frame["Target"] = frame["Target"].astype(int)
    boxes = frame.loc[frame["Target"] == 1, ["x", "y", "width", "height"]]
    if boxes.isna().any().any():
        raise ValueError(f"{path}: a Target 1 row has no box; rows with Target 1 need x, y, width, height")
    return frame


def load_rsna(
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
    """Load RSNA pneumonia images with their boxes (class Pneumonia).

    Args:
        data_dir: the dataset folder; default `data/rsna/`.
        image_size: output side in pixels.
        num_images: keep `num_images` of the patients (in CSV order) whose DICOM is on disk; `None` keeps all.
        split: `"all"`: the challenge's labelled images, with no official split (split by patient with
            `CXRSet.split`).
        views: keep these DICOM View Positions, `("PA",)` or `("AP",)`; `None` keeps both (the headers of every
            candidate image are read first when given).
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: RSNA is a Kaggle competition: `True` raises the instructions (accept the rules first).
        progress: show a progress bar.
        only_positive: keep only patients with pneumonia boxes.
        num_workers: decoding threads.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `boxes (N, 4, 4)` xyxy pixels (padded with -1), `box_classes` 13 or -1, `labels` as in the
        module's table, `patient_ids`, `views`, `pixel_spacing_mm` from the DICOM headers, `meta` (`file`, and `age`, `sex`, `study_id` from the headers
        where they are filled), `source="rsna"`.

    Raises:
        DatasetNotFoundError: when the CSVs or DICOMs are missing, with where to get them.
    """
    folder = dl.dataset_folder("rsna", data_dir)
    resolve_split(split, "rsna", {})
    num_images = resolve_num_images(num_images, max_images, "rsna")
    seed = resolve_seed(seed)
    views = resolve_views(views, "rsna", ("PA", "AP"))
    if download:
        dl.download_dataset(RSNA, folder)
    found = dl.require(RSNA, folder, [LABEL_FILE])
    table = read_labels(found[LABEL_FILE])
    classes = {}
    if (folder / CLASS_FILE).exists():
        info = pd.read_csv(folder / CLASS_FILE)
        classes = dict(zip(info["patientId"], info["class"].str.strip(), strict=True))
    on_disk = {}
    for name in IMAGE_FOLDERS:
        on_disk.update({path.stem: path for path in (folder / name).glob("*.dcm")})
    groups = {pid: group for pid, group in table.groupby("patientId", sort=False)}
    ids = [pid for pid in groups if pid in on_disk and (groups[pid]["Target"].max() == 1 or not only_positive)]
    if not ids:
        raise dl.DatasetNotFoundError(
            f"no DICOM listed in {LABEL_FILE} was found in {folder}/stage_2_train_images/.\n{RSNA.instructions(folder)}"
        )
    ids, paths, headers = select_dicoms(ids, on_disk, views, num_images, num_workers, "rsna", seed=seed)
    images, sizes = load_images(paths, image_size, cache_dir=folder / "cache", root=folder, tag="dicom-",
                                num_workers=num_workers, progress=progress, desc="RSNA")  # fmt: skip
    width = max(1, max(int((groups[pid]["Target"] == 1).sum()) for pid in ids))
    boxes = np.full((len(ids), width, 4), PAD, dtype=np.float32)
    box_classes = np.full((len(ids), width), PAD, dtype=np.int32)
    label_rows = np.full((len(ids), slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    pneumonia, no_finding = slide_labels.code_of("Pneumonia"), slide_labels.NO_FINDING
    for row, pid in enumerate(ids):
        positive = groups[pid][groups[pid]["Target"] == 1]
        sy, sx = image_size / sizes[row]
        xywh = positive[["x", "y", "width", "height"]].to_numpy(np.float64)
        boxes[row, : len(xywh)] = np.stack(
            [xywh[:, 0] * sx, xywh[:, 1] * sy, (xywh[:, 0] + xywh[:, 2]) * sx, (xywh[:, 1] + xywh[:, 3]) * sy], 1
        )
        box_classes[row, : len(xywh)] = pneumonia
        label_rows[row, pneumonia] = float(len(xywh) > 0)
        if pid in classes:
            label_rows[row, no_finding] = float(classes[pid] == "Normal")
    spacing = np.array([header["spacing_mm"] for header in headers], dtype=np.float64) * sizes / image_size
    return CXRSet(
        images=images,
        labels=label_rows,
        boxes=boxes,
        box_classes=box_classes,
        patient_ids=np.array(ids, dtype=object),
        views=np.array([header["view"] or "PA" for header in headers], dtype=object),
        pixel_spacing_mm=spacing.astype(np.float32),
        source="rsna",
        meta=pd.DataFrame(
            {
                "file": [path.relative_to(folder).as_posix() for path in paths],
                "age": [header["age"] for header in headers],
                "sex": [header["sex"] for header in headers],
                "study_id": [header["study_id"] for header in headers],
            }
        ),
    )
