"""MIMIC-CXR-JPG v2.0.0 (PhysioNet, credentialed): 377,110 JPEGs of 65,379 patients with CheXpert / NegBio labels.

Files: `mimic-cxr-2.0.0-metadata.csv.gz` (one row per image: `dicom_id, subject_id, study_id, ViewPosition, Rows,
Columns, ...`), `mimic-cxr-2.0.0-chexpert.csv.gz` and `mimic-cxr-2.0.0-negbio.csv.gz` (one row per *study*:
`subject_id, study_id` and the 14 CheXpert observations with 1 / 0 / -1 / blank), `mimic-cxr-2.0.0-split.csv.gz`
(`dicom_id, study_id, subject_id, split` with train / validate / test). Images live at
`files/p{first two digits of subject_id}/p{subject_id}/s{study_id}/{dicom_id}.jpg`, e.g.
`files/p10/p10000032/s50414267/02aa804e-....jpg` (`image_path`).

Labels are per study and are joined to each image by `(subject_id, study_id)`, then mapped exactly like CheXpert
(`lecture_lib.datasets.chexpert.CHEXPERT_TO_SLIDE`, same uncertain / blank policies). An image whose study has no
row in the label file gets NaN for every code whatever the blank policy: a blank cell means "not mentioned in the
report", a missing row means the labeller says nothing at all.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib.datasets import download as dl
from lecture_lib.datasets.chexpert import load_table_images, map_labels
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
)
from lecture_lib.datasets.registry import MIMIC
from lecture_lib.datasets.schema import CXRSet

PREFIX = "mimic-cxr-2.0.0-"
SPLITS = ("train", "validate", "test")


def _csv(name: str) -> tuple[str, str]:
    return (f"{PREFIX}{name}.csv.gz", f"{PREFIX}{name}.csv")


def image_path(subject_id: int, study_id: int, dicom_id: str) -> str:
    """Return the relative path of one JPEG: `files/p10/p10000032/s50414267/<dicom_id>.jpg`."""
    subject = str(int(subject_id))
    return f"files/p{subject[:2]}/p{subject}/s{int(study_id)}/{dicom_id}.jpg"


def load_mimic(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str | None = "all",
    views: Sequence[str] | str | None = None,
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    labeler: str = "chexpert",
    uncertain: str = "nan",
    blank: str = "zeros",
    num_workers: int | None = None,
    max_images: int | None = None,
) -> CXRSet:
    """Load MIMIC-CXR-JPG images with study labels mapped to the slide's codes.

    Args:
        data_dir: the dataset folder; default `data/mimic/`.
        image_size: output side in pixels.
        num_images: keep `num_images` of the images on disk that match the request; `None` keeps all.
        split: `"all"`, or the official `"train"`, `"val"` (the file's `"validate"`) or `"test"`; the former
            `"validate"` and `None` (all) still work, with a `DeprecationWarning`.
        views: keep these `ViewPosition`s, e.g. `("PA",)` or `("LATERAL", "LL")`; `None` keeps PA and AP.
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: MIMIC-CXR-JPG is credentialed: `True` raises the instructions.
        progress: show a progress bar.
        labeler: `"chexpert"` or `"negbio"`.
        uncertain: -1 policy, see `lecture_lib.datasets.chexpert.map_labels`.
        blank: blank policy, see `map_labels`; it applies to blank cells, not to studies without a label row
            (those images are NaN everywhere).
        num_workers: decoding threads.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `labels (N, 15)`, `patient_ids` (subject ids as str), `views`, `meta` (`file`, `study_id`;
        age and sex are in MIMIC-IV, not here), `source="mimic"`.

    Raises:
        DatasetNotFoundError: when files are missing, with where to apply and the layout.
        TypeError: for a `num_images` or `seed` that is not an integer.
        ValueError: for a bad split or labeler, or a negative `seed`.
    """
    folder = dl.dataset_folder("mimic", data_dir)
    if split is None:
        warnings.warn("load_mimic(split=None) is now split='all'", DeprecationWarning, stacklevel=2)
        split = "all"
    own = {"train": "train", "val": "validate", "test": "test"}
    split = resolve_split(split, "mimic", own, old_names={"validate": "val"})
    split = None if split == "all" else split
    num_images = resolve_num_images(num_images, max_images, "mimic")
    seed = resolve_seed(seed)
    views = resolve_views(views, "mimic", None) or ("PA", "AP")
    if labeler not in ("chexpert", "negbio"):
        raise ValueError(f"labeler must be 'chexpert' or 'negbio', got {labeler!r}")
    if download:
        dl.download_dataset(MIMIC, folder)
    needed = [_csv("metadata"), _csv(labeler)] + ([_csv("split")] if split else [])
    found = dl.require(MIMIC, folder, needed)
    meta = pd.read_csv(found[_csv("metadata")[0]], dtype={"dicom_id": str})
    study_labels = pd.read_csv(found[_csv(labeler)[0]])
    if split:
        split_table = pd.read_csv(found[_csv("split")[0]], dtype={"dicom_id": str})
        meta = meta[meta["dicom_id"].isin(split_table.loc[split_table["split"] == split, "dicom_id"])]
    meta = meta[meta["ViewPosition"].isin(views)]
    table = meta.merge(study_labels, on=["subject_id", "study_id"], how="left", validate="many_to_one",
                       indicator="_labelled")  # fmt: skip
    table["path"] = [image_path(s, t, d) for s, t, d in zip(table["subject_id"], table["study_id"], table["dicom_id"],
                                                            strict=True)]  # fmt: skip
    table, images = load_table_images(
        table, "path", folder, image_size,
        not_found=f"no MIMIC-CXR-JPG image of the metadata file exists under {folder}/files/.\n"
                  f"{MIMIC.instructions(folder)}",
        max_images=num_images, seed=seed, num_workers=num_workers, progress=progress, desc="MIMIC-CXR",
    )  # fmt: skip
    labels = map_labels(table, uncertain, blank)
    labels[(table["_labelled"] == "left_only").to_numpy()] = np.nan  # no label row: unknown, not "not mentioned"
    return CXRSet(
        images=images,
        labels=labels,
        patient_ids=table["subject_id"].astype(str).to_numpy(dtype=object),
        views=table["ViewPosition"].fillna("").astype(str).to_numpy(dtype=object),
        source="mimic",
        meta=pd.DataFrame(
            {
                "file": table["path"].to_numpy(dtype=object),
                "study_id": table["study_id"].astype(str).to_numpy(dtype=object),
            }
        ),
    )
