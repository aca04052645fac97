"""CheXpert (Stanford): 224,316 radiographs of 65,240 patients, 14 observations labelled 1 / 0 / -1 / blank.

`train.csv` / `valid.csv` columns: `Path, Sex, Age, Frontal/Lateral, AP/PA, No Finding, Enlarged Cardiomediastinum,
Cardiomegaly, Lung Opacity, Lung Lesion, Edema, Consolidation, Pneumonia, Atelectasis, Pneumothorax,
Pleural Effusion, Pleural Other, Fracture, Support Devices`. `Path` starts with the folder name
(`CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg`). Values: 1 positive, 0 negative, -1 uncertain,
blank not mentioned. `No Finding` is 1 only when no pathology is positive (Support Devices aside), else blank.

Label mapping to the slide's codes (`CHEXPERT_TO_SLIDE`, also used by MIMIC-CXR whose labeller is the same):

| CheXpert | slide code | | CheXpert | slide code |
|---|---|---|---|---|
| Atelectasis | 0 Atelectasis | | Pleural Effusion | 4 Effusion |
| Cardiomegaly | 1 Cardiomegaly | | Pneumonia | 13 Pneumonia |
| Consolidation | 2 Consolidation | | Pneumothorax | 14 Pneumothorax |
| Edema | 3 Edema | | No Finding | 10 No Finding |

Not mapped (no slide code with the same meaning): Enlarged Cardiomediastinum, Lung Opacity, Lung Lesion (covers both
nodule and mass), Pleural Other, Fracture, Support Devices. The slide's Emphysema, Fibrosis, Hernia, Infiltration,
Mass, Nodule and Pleural_Thickening are therefore NaN.

Uncertain (-1): `uncertain="nan"` (default, "the source does not say"), `"ones"` (U-Ones) or `"zeros"` (U-Zeros), the
policies compared by Irvin et al. Blank: `blank="zeros"` (default; not mentioned in the report, the paper's
baseline treatment) or `"nan"`. A row with `No Finding` = 1 has every mapped finding 0 unless the file says 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, read_image
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    choose_rows,
    renamed,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
)
from lecture_lib.datasets.registry import CHEXPERT
from lecture_lib.datasets.schema import CXRSet

CHEXPERT_TO_SLIDE = {
    "Atelectasis": "Atelectasis",
    "Cardiomegaly": "Cardiomegaly",
    "Consolidation": "Consolidation",
    "Edema": "Edema",
    "Pleural Effusion": "Effusion",
    "Pneumonia": "Pneumonia",
    "Pneumothorax": "Pneumothorax",
    "No Finding": "No Finding",
}
"""CheXpert column -> slide title. Columns not listed have no slide code."""

FOLDERS = ("CheXpert-v1.0-small", "CheXpert-v1.0")
VIEWS = ("PA", "AP", "LATERAL")
"""The views `load_chexpert` reports (`""` where the file gives none)."""
UNCERTAIN_POLICIES = {"nan": np.nan, "ones": 1.0, "zeros": 0.0}
BLANK_POLICIES = {"zeros": 0.0, "nan": np.nan}


def map_labels(table: pd.DataFrame, uncertain: str = "nan", blank: str = "zeros") -> np.ndarray:
    """Map CheXpert-style label columns to `(N, 15)` float32 rows over the slide's codes.

    Args:
        table: a DataFrame with (some of) the columns of `CHEXPERT_TO_SLIDE`, values 1, 0, -1 or NaN (blank).
        uncertain: what -1 becomes: `"nan"`, `"ones"` or `"zeros"`.
        blank: what a blank becomes: `"zeros"` or `"nan"`.

    Returns:
        `(N, 15)` float32; codes with no CheXpert column are NaN.

    Raises:
        ValueError: for an unknown policy or a value other than 1, 0, -1, blank.
    """
    if uncertain not in UNCERTAIN_POLICIES:
        raise ValueError(f"uncertain must be one of {list(UNCERTAIN_POLICIES)}, got {uncertain!r}")
    if blank not in BLANK_POLICIES:
        raise ValueError(f"blank must be one of {list(BLANK_POLICIES)}, got {blank!r}")
    result = np.full((len(table), slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    no_finding = (
        pd.to_numeric(table["No Finding"], errors="coerce").to_numpy() == 1
        if "No Finding" in table
        else np.zeros(len(table), bool)
    )
    for column, title in CHEXPERT_TO_SLIDE.items():
        if column not in table:
            continue
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isnan(values) & ~np.isin(values, (1.0, 0.0, -1.0))
        if bad.any():
            raise ValueError(
                f"column {column!r} holds {values[bad][:3].tolist()}; CheXpert labels are 1, 0, -1 or blank"
            )
        mapped = values.copy()
        mapped[values == -1] = UNCERTAIN_POLICIES[uncertain]
        blanks = np.isnan(values)
        mapped[blanks] = BLANK_POLICIES[blank]
        if column == "No Finding":
            mapped[blanks] = 0.0  # No Finding is 1 or blank: blank means some pathology was found
        else:
            mapped[blanks & no_finding] = 0.0
        result[:, slide_labels.code_of(title)] = mapped
    return result


def view_of(table: pd.DataFrame) -> np.ndarray:
    """Return each row's view, `"PA"`, `"AP"` or `"LATERAL"` (`""` where the file gives none), as an object array.

    `Frontal/Lateral` = `Lateral` is a lateral. A few rows of the real `train.csv` are `Frontal` with `AP/PA` = `LL`
    or `RL`: left and right lateral, as DICOM's View Position spells them (lateral decubitus films), so they are
    laterals too.
    """
    ap_pa = table["AP/PA"].fillna("").astype(str).str.strip().str.upper()
    lateral = (table["Frontal/Lateral"] == "Lateral").to_numpy() | ap_pa.isin(["LL", "RL"]).to_numpy()
    frontal = np.where(ap_pa.isin(["PA", "AP"]), ap_pa, "")
    return np.where(lateral, "LATERAL", frontal).astype(object)


def read_csv(path: Path | str) -> pd.DataFrame:
    """Read `train.csv` / `valid.csv` with blanks as NaN and `Path` as text."""
    return pd.read_csv(path, dtype={"Path": str, "Sex": str, "Frontal/Lateral": str, "AP/PA": str})


def load_table_images(
    table: pd.DataFrame,
    path_column: str,
    folder: Path,
    image_size: int,
    *,
    not_found: str,
    max_images: int | None,
    seed: int | None,
    num_workers: int | None,
    progress: bool,
    desc: str,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Keep the rows of a label table whose JPEG/PNG exists under `folder`, then decode them (CheXpert, MIMIC-CXR).

    Args:
        table: one row per image, with relative image paths in `path_column`.
        path_column: the column holding paths relative to `folder`.
        folder: the dataset folder.
        image_size: output side in pixels.
        not_found: the message of the `DatasetNotFoundError` raised when no listed image exists.
        max_images: keep at most this many of the present rows (`None`: all), in table order.
        seed: `None` keeps the first `max_images` present rows, an integer a random sample of them (`choose_rows`).
        num_workers: decoding threads (`None`: one per core).
        progress: show a progress bar.
        desc: the progress bar's label.

    Returns:
        `(table, images)`: the kept rows and their images `(N, image_size, image_size, 1)` float32.

    Raises:
        DatasetNotFoundError: if none of the listed images is on disk.
    """
    table = table[[(folder / path).exists() for path in table[path_column]]]
    if table.empty:
        raise dl.DatasetNotFoundError(not_found)
    table = choose_rows(table, max_images, seed)
    images, _ = load_images(
        [folder / path for path in table[path_column]],
        image_size,
        reader=lambda path: read_image(path, draft_size=image_size),
        cache_dir=folder / "cache",
        root=folder,
        num_workers=num_workers,
        progress=progress,
        desc=desc,
    )
    return table, images


def load_chexpert(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    views: Sequence[str] | str | None = None,
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    uncertain: str = "nan",
    blank: str = "zeros",
    num_workers: int | None = None,
    frontal_only: bool | None = None,
    max_images: int | None = None,
) -> CXRSet:
    """Load CheXpert images with labels mapped to the slide's codes.

    Args:
        data_dir: the dataset folder; default `data/chexpert/` (holding `CheXpert-v1.0-small/` or `CheXpert-v1.0/`).
        image_size: output side in pixels.
        num_images: keep `num_images` of the images on disk that match the request; `None` keeps all.
        split: `"all"` (`train.csv`, then `valid.csv` when present), `"train"` or `"val"` (`valid.csv`: 234 images
            labelled by radiologists); the former `"valid"` still works, with a `DeprecationWarning`.
        views: keep only these views, from `VIEWS`: e.g. `("PA",)` or `("LATERAL",)`; `None` keeps the frontal
            images (lateral views look nothing like the slide's PA images; the rows marked `Frontal` whose `AP/PA`
            is `LL` or `RL` are laterals, see `view_of`).
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: CheXpert needs registration: `True` raises the instructions.
        progress: show a progress bar.
        uncertain: -1 policy, `"nan"`, `"ones"` or `"zeros"`.
        blank: blank policy, `"zeros"` or `"nan"`.
        num_workers: decoding threads.
        frontal_only: deprecated: `False` is `views=("PA", "AP", "LATERAL")` plus the frontal rows without AP/PA.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `labels (N, 15)` (NaN for unmapped codes and, by default, uncertain ones), `patient_ids`
        (`patient00001`), `views` (`PA`, `AP` or `LATERAL`; `""` where the file gives none), `meta` (`file`, `age`,
        `sex`, `study_id` such as `patient00001/study1`), `source="chexpert"`.

    Raises:
        DatasetNotFoundError: when the CSV or images are missing, with where to register and the layout.
        TypeError: for a `num_images` or `seed` that is not an integer.
        ValueError: for a bad `split`, policy or view, or a negative `seed`.
    """
    folder = dl.dataset_folder("chexpert", data_dir)
    split = resolve_split(split, "chexpert", {"train": "train", "val": "valid"}, old_names={"valid": "val"})
    num_images = resolve_num_images(num_images, max_images, "chexpert")
    seed = resolve_seed(seed)
    wanted = resolve_views(views, "chexpert", VIEWS)
    if frontal_only is not None:
        renamed("frontal_only", "views", "chexpert")
    if download:
        dl.download_dataset(CHEXPERT, folder)
    names = ("train", "valid") if split == "all" else (split,)
    found = dl.require(CHEXPERT, folder, [tuple(f"{name}/{names[0]}.csv" for name in FOLDERS)])
    csv_folder = found[f"{FOLDERS[0]}/{names[0]}.csv"].parent
    table = pd.concat(
        [read_csv(csv_folder / f"{name}.csv") for name in names if (csv_folder / f"{name}.csv").exists()],
        ignore_index=True,
    )
    table = table.assign(view=view_of(table))
    if wanted is not None:
        table = table[table["view"].isin(wanted)]
    elif frontal_only is not False:
        table = table[(table["Frontal/Lateral"] == "Frontal") & (table["view"] != "LATERAL")]
    table, images = load_table_images(
        table, "Path", folder, image_size,
        not_found=f"no CheXpert image listed in {'/'.join(names)}.csv exists under {folder}.\n"
                  f"{CHEXPERT.instructions(folder)}",
        max_images=num_images, seed=seed, num_workers=num_workers, progress=progress, desc="CheXpert",
    )  # fmt: skip
    return CXRSet(
        images=images,
        labels=map_labels(table, uncertain, blank),
        patient_ids=table["Path"].str.extract(r"(patient\d+)")[0].to_numpy(dtype=object),
        views=table["view"].to_numpy(dtype=object),
        source="chexpert",
        meta=pd.DataFrame(
            {
                "file": table["Path"].to_numpy(dtype=object),
                "age": pd.to_numeric(table["Age"], errors="coerce").to_numpy(dtype=float),
                "sex": table["Sex"].fillna("").str[:1].replace({"U": ""}).to_numpy(dtype=object),
                "study_id": table["Path"].str.extract(r"(patient\d+/study\d+)")[0].to_numpy(dtype=object),
            }
        ),
    )
