"""PADChest (Hospital San Juan, Alicante): 160,868 16-bit PNG radiographs of 67,625 patients, 174 report labels.

Quirks handled here:

- `Labels` and `Localizations` are Python list text whose items after the first carry a leading space:
  `"['pleural effusion', ' cardiomegaly']"`; missing values are empty or `nan`.
- `labelCUIS` / `LocalizationsCUIS` are numpy arrays printed without commas: `"['C0032227' 'C0018800']"`.
- Images are 16-bit PNGs of varying bit depth (12 to 16 bits used), found at `{ImageDir}/{ImageID}`; each image
  is stretched to its own minimum and maximum after decoding so that 12-bit and 16-bit files look alike.
- `Projection` is `PA`, `L` (lateral), `AP`, `AP_horizontal` (supine), or `COSTAL` / `EXCLUDE` / `UNK`.
- The images come in one zip per `ImageDir`; a folder that is not there was not downloaded and its rows are left
  out. About 21 of the 160,868 PNGs listed are missing from their folder, truncated or undecodable: they are
  skipped with a warning and listed in the result's `unreadable` (a `CXRSet` field), instead of ending the load.

Label mapping (`PADCHEST_TO_SLIDE`): each PADChest term below sets its slide code to 1; `normal` is the slide's
No Finding. The labels were extracted from full reports, so a mapped code whose term is absent is 0 (the report
does not describe it); an image labelled `exclude` or `suboptimal study` gets NaN everywhere.

| slide code | PADChest terms |
|---|---|
| 0 Atelectasis | atelectasis, laminar atelectasis, lobar atelectasis, segmental atelectasis, round atelectasis, total atelectasis |
| 1 Cardiomegaly | cardiomegaly |
| 2 Consolidation | consolidation |
| 3 Edema | pulmonary edema |
| 4 Effusion | pleural effusion, loculated pleural effusion |
| 5 Emphysema | emphysema |
| 6 Fibrosis | pulmonary fibrosis |
| 7 Hernia | hiatal hernia |
| 8 Infiltration | infiltrates |
| 9 Mass | mass, pulmonary mass |
| 10 No Finding | normal |
| 11 Nodule | nodule, multiple nodules |
| 12 Pleural_Thickening | pleural thickening, apical pleural thickening |
| 13 Pneumonia | pneumonia |
| 14 Pneumothorax | pneumothorax |
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, read_image
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    renamed,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
    sample_order,
)
from lecture_lib.datasets.registry import PADCHEST
from lecture_lib.datasets.schema import CXRSet

LABEL_FILES = (
    "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz",
    "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv",
)
_TERMS = {
    "Atelectasis": ("atelectasis", "laminar atelectasis", "lobar atelectasis", "segmental atelectasis",
                    "round atelectasis", "total atelectasis"),
    "Cardiomegaly": ("cardiomegaly",),
    "Consolidation": ("consolidation",),
    "Edema": ("pulmonary edema",),
    "Effusion": ("pleural effusion", "loculated pleural effusion"),
    "Emphysema": ("emphysema",),
    "Fibrosis": ("pulmonary fibrosis",),
    "Hernia": ("hiatal hernia",),
    "Infiltration": ("infiltrates",),
    "Mass": ("mass", "pulmonary mass"),
    "No Finding": ("normal",),
    "Nodule": ("nodule", "multiple nodules"),
    "Pleural_Thickening": ("pleural thickening", "apical pleural thickening"),
    "Pneumonia": ("pneumonia",),
    "Pneumothorax": ("pneumothorax",),
}  # fmt: skip
PADCHEST_TO_SLIDE = {term: title for title, terms in _TERMS.items() for term in terms}
"""PADChest label (lower case) -> slide title."""

UNUSABLE = ("exclude", "suboptimal study")
FRONTAL = ("PA", "AP", "AP_horizontal")
PROJECTIONS = ("PA", "L", "AP", "AP_horizontal", "COSTAL", "EXCLUDE", "UNK")
"""The `Projection` values of the CSV."""


def parse_list(text) -> list[str]:
    """Parse a `Labels` / `Localizations` cell: Python list text with leading spaces -> stripped items.

    `"['pleural effusion', ' cardiomegaly']"` -> `['pleural effusion', 'cardiomegaly']`; empty or `nan` -> `[]`.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    text = str(text).strip()
    if text in ("", "nan", "[]"):
        return []
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        raise ValueError(f"cannot parse the PADChest list {text[:60]!r}; expected text like \"['a', ' b']\"") from error
    return [str(item).strip() for item in items if str(item).strip()]


def parse_cuis(text) -> list[str]:
    """Parse a numpy-printed CUI array (`"['C0032227' 'C0018800']"`, no commas) into a list of codes."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return re.findall(r"'\s*([^']*?)\s*'", str(text))


def map_labels(label_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """Map parsed PADChest label lists to `(N, 15)` float32 rows (see the module's table)."""
    result = np.zeros((len(label_lists), slide_labels.NUM_PATHOLOGIES), dtype=np.float32)
    for row, items in enumerate(label_lists):
        terms = {item.lower() for item in items}
        if terms & set(UNUSABLE) or not terms:
            result[row] = np.nan
            continue
        for term in terms:
            if term in PADCHEST_TO_SLIDE:
                result[row, slide_labels.code_of(PADCHEST_TO_SLIDE[term])] = 1.0
        if result[row].sum() > result[row, slide_labels.NO_FINDING]:
            result[row, slide_labels.NO_FINDING] = 0.0  # 'normal' next to a finding: the finding wins
    return result


def read_labels(path: Path | str) -> pd.DataFrame:
    """Read the PADChest CSV with `Labels`, `Localizations`, `labelCUIS` and `LocalizationsCUIS` parsed to lists."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, low_memory=False)
    missing = {"ImageID", "ImageDir", "PatientID", "Projection", "Labels"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks the PADChest columns {sorted(missing)}; is it the 160K labels CSV?")
    frame["Labels"] = frame["Labels"].map(parse_list)
    if "Localizations" in frame:
        frame["Localizations"] = frame["Localizations"].map(parse_list)
    for column in ("labelCUIS", "LocalizationsCUIS"):
        if column in frame:
            frame[column] = frame[column].map(parse_cuis)
    return frame


def read_png16(path: Path) -> np.ndarray:
    """Decode a PADChest PNG and stretch it to its own [min, max] (bit depths vary between 12 and 16)."""
    image = np.asarray(read_image(path), dtype=np.float32)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def _keep_rows(array: np.ndarray, keep: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Move the rows of `array` where `keep` is true to its front, in order, and return that part (a view).

    Done in place, a few rows at a time, so that dropping some rows of a large image array does not copy it whole.
    """
    kept = np.flatnonzero(keep)
    if len(kept) == len(array):
        return array
    target = 0
    for run in np.split(kept, np.flatnonzero(np.diff(kept) != 1) + 1):
        if len(run) and run[0] != target:
            for offset in range(0, len(run), chunk):
                count = min(chunk, len(run) - offset)
                array[target + offset : target + offset + count] = array[run[0] + offset : run[0] + offset + count]
        target += len(run)
    return array[:target]


def load_padchest(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    views: Sequence[str] | str | None = None,
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    num_workers: int | None = None,
    projections: Sequence[str] | None = None,
    max_images: int | None = None,
) -> CXRSet:
    """Load PADChest images with labels mapped to the slide's codes.

    Args:
        data_dir: the dataset folder; default `data/padchest/`.
        image_size: output side in pixels.
        num_images: keep `num_images` readable images of those on disk; `None` keeps all. An image that cannot be
            read is replaced by the next one in `loader_options.sample_order` (the next in the CSV for `seed=None`).
        split: `"all"`: PADChest publishes no split (split by patient with `CXRSet.split`).
        views: `Projection` values to keep, from `PROJECTIONS` (any case); `None` keeps the frontal ones, `FRONTAL`
            = `("PA", "AP", "AP_horizontal")`; add `"L"` for laterals.
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: PADChest needs a request form: `True` raises the instructions.
        progress: show a progress bar.
        num_workers: decoding threads.
        projections: the former name of `views` (`DeprecationWarning`).
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `labels (N, 15)`, `patient_ids`, `views` (the `Projection`), `meta` (`file` as
        `<ImageDir>/<ImageID>`, `age` in years at the study, `sex`, `study_id`), `source="padchest"`, and
        `unreadable`: `{"<ImageDir>/<ImageID>": reason}` for each image that was skipped because it is missing from
        a downloaded folder or cannot be decoded (a warning says how many and which).

    Raises:
        DatasetNotFoundError: when the CSV or the images are missing, or no listed image can be read.
        TypeError: for a `num_images` or `seed` that is not an integer.
        ValueError: for a `num_images` below 1, a negative `seed`, a split other than `"all"` or an unknown view.
    """
    folder = dl.dataset_folder("padchest", data_dir)
    resolve_split(split, "padchest", {})
    num_images = resolve_num_images(num_images, max_images, "padchest")
    seed = resolve_seed(seed)
    if projections is not None:
        renamed("projections", "views", "padchest")
        views = projections if views is None else views
    wanted_views = resolve_views(views, "padchest", PROJECTIONS) or tuple(view.upper() for view in FRONTAL)
    if download:
        dl.download_dataset(PADCHEST, folder)
    found = dl.require(PADCHEST, folder, [LABEL_FILES])
    table = read_labels(found[LABEL_FILES[0]])
    table = table[table["Projection"].str.upper().isin(wanted_views)]
    downloaded = {directory for directory in set(table["ImageDir"]) if (folder / str(directory)).is_dir()}
    table = table[table["ImageDir"].isin(downloaded)]
    if table.empty:
        raise dl.DatasetNotFoundError(f"no PADChest image of the CSV exists under {folder}/<ImageDir>/.\n"
                                      f"{PADCHEST.instructions(folder)}")  # fmt: skip
    unreadable: dict[str, str] = {}

    def skip(path: Path, error: Exception) -> None:
        name = path.relative_to(folder).as_posix()
        unreadable[name] = "missing" if isinstance(error, FileNotFoundError) else str(error.__cause__ or error)

    wanted = len(table) if num_images is None else num_images
    order = sample_order(len(table), seed)  # the first `wanted` of it are choose_rows' sample
    parts: list[tuple[np.ndarray, pd.DataFrame, np.ndarray]] = []
    start = tried = 0
    while wanted > 0 and start < len(table):  # replace unreadable images by the next ones, up to num_images
        positions = np.sort(order[start : start + wanted])
        batch = table.iloc[positions]
        start += len(batch)
        tried += len(batch)
        paths = [folder / str(row.ImageDir) / row.ImageID for row in batch[["ImageDir", "ImageID"]].itertuples()]
        images, sizes = load_images(
            paths,
            image_size,
            reader=read_png16,
            cache_dir=folder / "cache",
            root=folder,
            tag="stretched-",
            num_workers=num_workers,
            progress=progress,
            desc="PADChest",
            on_error=skip,
        )
        readable = sizes[:, 0] > 0
        parts.append((positions[readable], batch[readable], _keep_rows(images, readable)))
        wanted -= int(readable.sum())
    if unreadable:
        shown = ", ".join(f"{name} ({reason})" for name, reason in list(unreadable.items())[:10])
        more = f" and {len(unreadable) - 10} more" if len(unreadable) > 10 else ""
        warnings.warn(
            f"{len(unreadable)} of {tried} PADChest images could not be read and were left out with their labels: "
            f"{shown}{more}. The result's .unreadable lists them all; fetch the zips of their folders again if "
            "these files should be there.",
            stacklevel=2,
        )
    table = pd.concat([rows for _, rows, _ in parts])
    if table.empty:
        raise dl.DatasetNotFoundError(
            f"none of the {tried} PADChest images tried under {folder} could be read (see the warning); fetch the "
            f"zips again.\n{PADCHEST.instructions(folder)}"
        )
    images = parts[0][2] if len(parts) == 1 else np.concatenate([part for _, _, part in parts])
    positions = np.concatenate([kept for kept, _, _ in parts])
    if np.any(np.diff(positions) < 0):  # replacements drawn with a seed: back to the CSV's order
        back = np.argsort(positions)
        table, images = table.iloc[back], images[back]
    return CXRSet(
        images=images,
        labels=map_labels(table["Labels"].tolist()),
        patient_ids=table["PatientID"].to_numpy(dtype=object),
        views=table["Projection"].to_numpy(dtype=object),
        source="padchest",
        unreadable=unreadable,
        meta=_meta(table),
    )


def _meta(table: pd.DataFrame) -> pd.DataFrame:
    """`CXRSet.meta` of PADChest rows: the age is the study's year minus the birth year (the CSV gives no more)."""

    def column(name: str) -> pd.Series:
        return table[name] if name in table else pd.Series("", index=table.index)

    study_year = pd.to_numeric(column("StudyDate_DICOM").str[:4], errors="coerce")
    birth_year = pd.to_numeric(column("PatientBirth").str[:4], errors="coerce")
    sex = column("PatientSex_DICOM").str.strip().str.upper()
    return pd.DataFrame(
        {
            "file": (table["ImageDir"].astype(str) + "/" + table["ImageID"]).to_numpy(dtype=object),
            "age": (study_year - birth_year).to_numpy(dtype=float),
            "sex": sex.where(sex.isin(["M", "F"]), "").to_numpy(dtype=object),
            "study_id": column("StudyID").to_numpy(dtype=object),
        }
    )
