"""NIH ChestX-ray14: 112,120 frontal radiographs of 30,805 patients with 14 text-mined findings and 984 boxes.

The files and their quirks (all handled here):

- `Data_Entry_2017_v2020.csv`: one row per image; `Finding Labels` joins titles with `|` (`"No Finding"` when
  none of the 14 is present), exactly the slide's 15 codes, so every label is known (no NaN). The header splits
  `OriginalImage[Width,Height]` and `OriginalImagePixelSpacing[x,y]` across two columns each; the 2017 edition
  has one more, empty, trailing column. Columns are therefore read by position.
- `BBox_List_2017.csv`: the header has 9 comma-separated fields (`Bbox [x,y,w,h]` contains commas, then three
  empty ones) but every row has 6; boxes are `x, y, w, h` (top-left corner) in the 1024-pixel PNG, and the file
  says `Infiltrate` where the labels say `Infiltration`.
- `train_val_list.txt` / `test_list.txt`: NIH's patient-level split, one image name per line.
- `images/*.png`: 1024 x 1024 8-bit grey, a few RGBA (made grey here). The PNGs are resampled originals, so the
  spacing of a PNG pixel is the original spacing times `original size / 1024`.

Mapping to the slide's codes (`lecture_lib.labels`): identity; NIH's 14 titles plus No Finding are the slide's 15.

| NIH title | slide code | | NIH title | slide code |
|---|---|---|---|---|
| Atelectasis | 0 | | Infiltration (boxes: Infiltrate) | 8 |
| Cardiomegaly | 1 | | Mass | 9 |
| Consolidation | 2 | | No Finding | 10 |
| Edema | 3 | | Nodule | 11 |
| Effusion | 4 | | Pleural_Thickening | 12 |
| Emphysema | 5 | | Pneumonia | 13 |
| Fibrosis | 6 | | Pneumothorax | 14 |
| Hernia | 7 | | | |

Example:
    >>> from lecture_lib.datasets.nih import load_nih
    >>> data = load_nih(image_size=256, num_images=500, download=True)   # fetches images_001.tar.gz (about 2 GB)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    choose_rows,
    resolve_num_images,
    resolve_seed,
    resolve_split,
    resolve_views,
)
from lecture_lib.datasets.registry import NIH
from lecture_lib.datasets.schema import PAD, CXRSet

LABEL_FILES = ("Data_Entry_2017_v2020.csv", "Data_Entry_2017_v2020.csv.gz", "Data_Entry_2017.csv")
BOX_FILES = ("BBox_List_2017.csv", "BBox_List_2017.csv.gz")
SPLIT_FILES = {"train_val": "train_val_list.txt", "test": "test_list.txt"}
PNG_SIZE = 1024
"""Side of the PNGs NIH distributes; box coordinates refer to it."""

BOX_TITLES = {"Infiltrate": "Infiltration"}
"""Titles of `BBox_List_2017.csv` that differ from the label file's."""

LABEL_COLUMNS = (
    "image",
    "findings",
    "follow_up",
    "patient_id",
    "age",
    "sex",
    "view",
    "original_width",
    "original_height",
    "spacing_x_mm",
    "spacing_y_mm",
)


def read_labels(path: Path | str) -> pd.DataFrame:
    """Read `Data_Entry_2017_v2020.csv` (or the 2017 edition, plain or gzipped).

    Args:
        path: the CSV file.

    Returns:
        A DataFrame with the columns `LABEL_COLUMNS` (`patient_id` as a zero-padded 8-digit string like the file
        names, `follow_up` and `age` as int, sizes as int, spacings as float mm) in file order.

    Raises:
        ValueError: if the file has fewer than 11 columns or an unknown finding title (named, with a suggestion).
    """
    raw = pd.read_csv(path, header=0, dtype=str, keep_default_na=False)
    if raw.shape[1] < len(LABEL_COLUMNS):
        raise ValueError(
            f"{path} has {raw.shape[1]} columns {list(raw.columns)}, expected the 11 of NIH's Data_Entry_2017 file "
            "(Image Index, Finding Labels, Follow-up #, Patient ID, ...)"
        )
    frame = raw.iloc[:, : len(LABEL_COLUMNS)].copy()
    frame.columns = list(LABEL_COLUMNS)
    for column in ("follow_up", "age", "original_width", "original_height"):
        frame[column] = frame[column].astype(int)
    for column in ("spacing_x_mm", "spacing_y_mm"):
        frame[column] = frame[column].astype(float)
    frame["patient_id"] = frame["patient_id"].str.zfill(8)
    frame["findings"] = frame["findings"].str.strip()
    return frame


def label_matrix(findings: Sequence[str]) -> np.ndarray:
    """Turn `Finding Labels` strings into `(N, 15)` float32 multi-hot rows over the slide's codes (no NaN)."""
    return slide_labels.multi_hot_batch(findings)


def read_boxes(path: Path | str) -> pd.DataFrame:
    """Read `BBox_List_2017.csv`, whose header has 9 fields but whose rows have 6.

    Returns:
        A DataFrame with `image`, `finding` (the label file's title, so `Infiltrate` becomes `Infiltration`),
        `code` (slide code), and `x1, y1, x2, y2` in pixels of the 1024-pixel PNG.

    Raises:
        ValueError: for a row without 4 numbers or an unknown finding.
    """
    raw = pd.read_csv(path, header=None, skiprows=1, names=list(range(9)), dtype=str, keep_default_na=False)
    raw = raw.iloc[:, :6]
    raw.columns = ["image", "finding", "x", "y", "w", "h"]
    try:
        numbers = raw[["x", "y", "w", "h"]].astype(float)
    except ValueError as error:
        raise ValueError(f"{path}: every row needs Image Index, Finding Label, x, y, w, h ({error})") from error
    finding = raw["finding"].str.strip().replace(BOX_TITLES)
    return pd.DataFrame(
        {
            "image": raw["image"].str.strip(),
            "finding": finding,
            "code": [slide_labels.code_of(title) for title in finding],
            "x1": numbers["x"],
            "y1": numbers["y"],
            "x2": numbers["x"] + numbers["w"],
            "y2": numbers["y"] + numbers["h"],
        }
    )


def read_split(path: Path | str) -> set[str]:
    """Read `train_val_list.txt` or `test_list.txt`: the set of image names listed."""
    return {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}


def find_images(folder: Path) -> dict[str, Path]:
    """Index the PNGs under `folder/images/` or `folder/images_*/images/` (the Kaggle layout) by file name."""
    index: dict[str, Path] = {}
    for pattern in ("images/*.png", "images_*/images/*.png", "images_*/*.png"):
        for path in folder.glob(pattern):
            index.setdefault(path.name, path)
    return index


def boxes_for(images: Sequence[str], boxes: pd.DataFrame, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gather boxes per image into padded `(N, B, 4)` float32 xyxy and `(N, B)` int32 arrays.

    Args:
        images: image names, one per row of the result.
        boxes: the output of `read_boxes`.
        scale: `(N, 2)` factors `(sx, sy)` from PNG pixels to output pixels.
    """
    groups = {name: group for name, group in boxes.groupby("image", sort=False)}
    width = max([len(groups[name]) for name in images if name in groups], default=0)
    width = max(width, 1)
    out_boxes = np.full((len(images), width, 4), PAD, dtype=np.float32)
    out_classes = np.full((len(images), width), PAD, dtype=np.int32)
    for row, name in enumerate(images):
        group = groups.get(name)
        if group is None:
            continue
        sx, sy = scale[row]
        coordinates = group[["x1", "y1", "x2", "y2"]].to_numpy(np.float64) * np.array([sx, sy, sx, sy])
        out_boxes[row, : len(group)] = coordinates
        out_classes[row, : len(group)] = group["code"].to_numpy()
    return out_boxes, out_classes


def load_nih(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    views: Sequence[str] | str | None = None,
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    with_boxes: bool = False,
    only_boxed: bool = False,
    archives: Sequence[int] = (1,),
    num_workers: int | None = None,
    timeout: float = dl.DEFAULT_TIMEOUT,
    max_images: int | None = None,
) -> CXRSet:
    """Load NIH ChestX-ray14 images with their 15-code labels (and, optionally, the expert boxes).

    Only images present on disk are used, so one archive (about 5,000 images) is enough to start.

    Args:
        data_dir: the dataset folder; default `data/nih/` (see `lecture_lib.config.data_dir`).
        image_size: output side in pixels.
        num_images: keep `num_images` of the images on disk that match the request; `None` keeps all.
        split: `"all"`, `"train"` (NIH's `train_val_list.txt`) or `"test"` (`test_list.txt`), the patient-level
            lists (NIH publishes no validation list: split `"train"` by patient with `CXRSet.split`). The former
            `"train_val"` still works, with a `DeprecationWarning`.
        views: keep only these `View Position`s, e.g. `("PA",)`; `None` keeps PA and AP.
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: fetch the label files and the archives numbered in `archives` first (resumable by restarting,
            extracted safely). The archives are checked against NIH's MD5s; the label files come from a third-party
            mirror with no published hash, so check them as their `registry.NIH` notes say.
        progress: show progress bars.
        with_boxes: attach `BBox_List_2017.csv` boxes (scaled to `image_size`) as `boxes` / `box_classes`.
        only_boxed: keep only the 880 images that have boxes (implies `with_boxes`).
        archives: which of `images_001 ... images_012.tar.gz` to download (1-based); `range(1, 13)` for all 45 GB.
        num_workers: decoding threads; default the number of cores.
        timeout: download timeout in seconds.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        A `CXRSet` with `images (N, S, S, 1)`, `labels (N, 15)` (0/1, never NaN), `patient_ids` (8-digit strings),
        `views`, `pixel_spacing_mm (N, 2)` at the output size, `meta` (`file`, `age`, `sex`, `follow_up`),
        `source="nih"`, and boxes if asked for.

    Raises:
        DatasetNotFoundError: when the label file or all images are missing (with download instructions).
        TypeError: for a `num_images` or `seed` that is not an integer.
        ValueError: for a bad `split`, `views` or `archives`, or a negative `seed`.
    """
    folder = dl.dataset_folder("nih", data_dir)
    split = resolve_split(split, "nih", {"train": "train_val", "test": "test"}, old_names={"train_val": "train"})
    num_images = resolve_num_images(num_images, max_images, "nih")
    seed = resolve_seed(seed)
    wanted_views = resolve_views(views, "nih", ("PA", "AP")) or ("PA", "AP")
    bad = [number for number in archives if not (isinstance(number, int) and 1 <= number <= 12)]
    if bad:
        raise ValueError(f"archives must be numbers 1 to 12 (images_001 ... images_012), got {bad}")
    with_boxes = with_boxes or only_boxed
    if download:
        wanted = [name for name in LABEL_FILES[:1] + BOX_FILES[:1] + tuple(SPLIT_FILES.values())]
        wanted += [f"images_{number:03d}.tar.gz" for number in archives]
        dl.download_dataset(NIH, folder, files=wanted, timeout=timeout, progress=progress)
    needed: list = [LABEL_FILES]
    if with_boxes:
        needed.append(BOX_FILES)
    if split != "all":
        needed.append(SPLIT_FILES[split])
    found = dl.require(NIH, folder, needed)
    table = read_labels(found[LABEL_FILES[0]])
    if split != "all":
        table = table[table["image"].isin(read_split(found[SPLIT_FILES[split]]))]
    table = table[table["view"].isin(wanted_views)]
    boxes = read_boxes(found[BOX_FILES[0]]) if with_boxes else None
    if only_boxed:
        table = table[table["image"].isin(set(boxes["image"]))]
    on_disk = find_images(folder)
    listed = len(table)
    table = table[table["image"].isin(on_disk.keys())]
    # The boxed images are spread over all 12 archives, so the first archive alone holds only some of them.
    fetch = (
        "with archives=range(1, 13) to fetch all 12 archives (45 GB)" if only_boxed else "to fetch images_001.tar.gz"
    )
    if table.empty:
        raise dl.DatasetNotFoundError(
            f"no NIH image matching the request was found under {folder} (looked in images/ and images_*/images/). "
            f"Call load_nih(download=True) {fetch}, or place the PNGs as shown.\n"
            f"{NIH.instructions(folder)}"
        )
    if only_boxed and (num_images is None or num_images > len(table)) and len(table) < listed:
        warnings.warn(
            f"only {len(table)} of the {listed} NIH images with boxes asked for are under {folder}; the "
            f"others are in the archives not unpacked there: call load_nih(download=True, archives=range(1, 13))",
            stacklevel=2,
        )
    table = choose_rows(table, num_images, seed)
    names = table["image"].tolist()
    images, sizes = load_images(
        [on_disk[name] for name in names],
        image_size,
        cache_dir=folder / "cache",
        root=folder,
        num_workers=num_workers,
        progress=progress,
        desc="NIH",
    )
    spacing = np.stack(
        [
            table["spacing_y_mm"].to_numpy() * table["original_height"].to_numpy() / image_size,
            table["spacing_x_mm"].to_numpy() * table["original_width"].to_numpy() / image_size,
        ],
        axis=1,
    ).astype(np.float32)
    box_array = class_array = None
    if with_boxes:
        # Boxes are in the 1024-pixel PNG; the decoded PNG size gives the factor to the output size.
        scale = np.stack([image_size / sizes[:, 1], image_size / sizes[:, 0]], axis=1)
        box_array, class_array = boxes_for(names, boxes, scale)
    return CXRSet(
        images=images,
        labels=label_matrix(table["findings"]),
        boxes=box_array,
        box_classes=class_array,
        patient_ids=table["patient_id"].to_numpy(dtype=object),
        views=table["view"].to_numpy(dtype=object),
        pixel_spacing_mm=spacing,
        source="nih",
        meta=pd.DataFrame(
            {
                "file": names,
                "age": table["age"].to_numpy(dtype=float),
                "sex": table["sex"].to_numpy(dtype=object),
                "follow_up": table["follow_up"].to_numpy(),
            }
        ),
    )
