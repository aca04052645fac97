"""JSRT (247 radiographs, 154 with a lung nodule) with the SCR masks and landmarks of van Ginneken et al.

Formats handled here:

- `All247images/*.IMG`: raw pixels, no header: 2048 x 2048, 16-bit **big-endian** words holding 12-bit values
  (0..4095), 0.175 mm per pixel. High values are dark on film, so the image is inverted for the display
  convention: `image = 1 - value / 4095`.
- `CLNDAT_EN.txt` (nodule cases), tab-separated: file, subtlety (1-5), nodule size in mm, age, sex, x, y (nodule
  centre in the 2048-pixel image), malignant / benign, then position and diagnosis text. `CNNDAT_EN.TXT`
  (non-nodule cases): file, age, sex, `non-nodule`. Ages may be `?`.
- The nodule becomes a circle of the given diameter around `(x, y)`, and its bounding box `(x - r, y - r, x + r,
  y + r)`; the class is Nodule (code 11) up to 30 mm and Mass (code 9) above, the radiological definition.
- SCR masks: `scr/masks/<organ>/<case>.gif`, one 1024 x 1024 GIF per organ, in folders whose names contain
  spaces (`right lung`, `left lung`, `heart`, `right clavicle`, `left clavicle`); "left" is the patient's left.
- SCR landmark files (optional) `scr/landmarks/<case>.pfs`: sections headed by a `[Label=<structure>]` line followed
  by one point per line (`x y` or `{ x, y }`) in the 1024-pixel mask grid. Names are `<structure>_<index>`.

Labels: Nodule / Mass from the clinical tables (1 for the case's class, 0 for the other; both 0 for non-nodule
cases); the other 13 codes are not annotated (NaN).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from lecture_lib import labels as slide_labels
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.imageio import load_images, shrink_masks
from lecture_lib.datasets.loader_options import (
    DEFAULT_IMAGE_SIZE,
    choose_rows,
    resolve_num_images,
    resolve_seed,
    resolve_split,
)
from lecture_lib.datasets.registry import JSRT
from lecture_lib.datasets.schema import PAD, CXRSet

IMG_SIZE = 2048
MASK_SIZE = 1024
PIXEL_SPACING_MM = 0.175
MAX_VALUE = 4095
MASS_ABOVE_MM = 30.0
ORGANS = ("right lung", "left lung", "heart", "right clavicle", "left clavicle")
"""SCR mask folders, in channel order; channel names replace the space with `_`."""


def read_img(path: Path | str) -> np.ndarray:
    """Read a JSRT `.IMG` file: `(2048, 2048)` float32 in [0, 1], inverted for display (bone bright).

    Raises:
        ValueError: if the file is not exactly 2048 * 2048 * 2 bytes (the format has no header to check).
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=">u2")
    if raw.size != IMG_SIZE * IMG_SIZE:
        raise ValueError(
            f"{path} holds {raw.size * 2} bytes, expected {IMG_SIZE * IMG_SIZE * 2} (2048 x 2048 big-endian 16-bit "
            "words, no header); the file is truncated or not a JSRT image"
        )
    values = raw.reshape(IMG_SIZE, IMG_SIZE).astype(np.float32)
    return 1.0 - np.clip(values, 0, MAX_VALUE) / MAX_VALUE


def _rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        fields = [field.strip() for field in re.split(r"\t+", line.strip())]
        if len(fields) < 4 or not fields[0].upper().endswith(".IMG"):
            fields = line.split()
        if fields and fields[0].upper().endswith(".IMG"):
            rows.append(fields)
    return rows


def _age_sex(age: str, sex: str) -> dict:
    """`{"age": years or NaN (the tables write "?"), "sex": "M", "F" or ""}` from two clinical-table fields."""
    sex = sex.strip().lower()
    return {
        "age": float(age) if age.strip().isdigit() else float("nan"),
        "sex": {"male": "M", "female": "F"}.get(sex, ""),
    }


def read_clinical(nodule_file: Path | str, non_nodule_file: Path | str | None = None) -> dict[str, dict]:
    """Read `CLNDAT_EN.txt` (and `CNNDAT_EN.TXT`): case name (without `.IMG`) -> dict.

    Each dict has `nodule` (bool), `age` (years, NaN where the table says `?`), `sex` (`"M"`, `"F"` or `""`), and
    for nodule cases `size_mm`, `x`, `y` (2048-pixel grid), `subtlety`, `malignant` (bool or None).

    Raises:
        ValueError: for a nodule row whose size or coordinates are not numbers.
    """
    cases: dict[str, dict] = {}
    for fields in _rows(Path(nodule_file)):
        try:
            size_mm, x, y = float(fields[2]), float(fields[5]), float(fields[6])
        except (IndexError, ValueError) as error:
            raise ValueError(
                f"{nodule_file}: row {fields!r} needs file, subtlety, size mm, age, sex, x, y (tab-separated)"
            ) from error
        kind = fields[7].lower() if len(fields) > 7 else ""
        cases[Path(fields[0]).stem.upper()] = {
            "nodule": True,
            **_age_sex(fields[3], fields[4]),
            "size_mm": size_mm,
            "x": x,
            "y": y,
            "subtlety": int(fields[1]) if fields[1].isdigit() else None,
            "malignant": True if kind == "malignant" else False if kind == "benign" else None,
        }
    if non_nodule_file is not None and Path(non_nodule_file).exists():
        for fields in _rows(Path(non_nodule_file)):
            age, sex = (fields + ["", ""])[1:3]
            cases.setdefault(Path(fields[0]).stem.upper(), {"nodule": False, **_age_sex(age, sex)})
    return cases


def nodule_box(case: dict, image_size: int) -> tuple[np.ndarray, int]:
    """Return the `xyxy` box (in `image_size` pixels) and slide code of a nodule case's circle."""
    radius = case["size_mm"] / 2.0 / PIXEL_SPACING_MM
    scale = image_size / IMG_SIZE
    box = np.array([case["x"] - radius, case["y"] - radius, case["x"] + radius, case["y"] + radius]) * scale
    code = slide_labels.code_of("Mass" if case["size_mm"] > MASS_ABOVE_MM else "Nodule")
    return np.clip(box, 0, image_size), code


def read_landmarks(path: Path | str) -> dict[str, np.ndarray]:
    """Read an SCR landmark file: structure name -> `(K, 2)` float32 points `(x, y)` in the 1024-pixel grid."""
    sections: dict[str, list[tuple[float, float]]] = {}
    current = None
    for line in Path(path).read_text(errors="replace").splitlines():
        label = re.search(r"Label\s*=\s*([^\]]+)", line)
        if label:
            current = label.group(1).strip().replace(" ", "_")
            sections.setdefault(current, [])
            continue
        numbers = re.findall(r"-?\d+(?:\.\d+)?", line)
        if current is not None and len(numbers) == 2 and "=" not in line:
            sections[current].append((float(numbers[0]), float(numbers[1])))
    return {name: np.array(points, dtype=np.float32).reshape(-1, 2) for name, points in sections.items()}


def load_jsrt(
    data_dir: Path | str | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    num_images: int | None = None,
    split: str = "all",
    seed: int | None = 0,
    download: bool = False,
    progress: bool = True,
    with_masks: bool = True,
    num_workers: int | None = None,
    max_images: int | None = None,
) -> CXRSet:
    """Load JSRT images with nodule boxes and, when the SCR files are present, organ masks and landmarks.

    Args:
        data_dir: the dataset folder; default `data/jsrt/`.
        image_size: output side in pixels.
        num_images: keep `num_images` of the cases on disk (sorted by name); `None` keeps all.
        split: `"all"`: JSRT publishes no split (split by patient with `CXRSet.split`). Every image is PA, so
            there is no `views` argument.
        seed: an integer (default 0, as in `datasets.load`): a random sample of `num_images`, the same for the
            same seed; `None`: the first `num_images` in the source's order (`loader_options.choose_rows`; either
            way returned in the source's order).
        download: JSRT and SCR need registration: `True` raises the instructions.
        progress: show a progress bar.
        with_masks: attach the SCR masks found under `scr/masks/` (an error if some case lacks one).
        num_workers: decoding threads.
        max_images: the former name of `num_images` (`DeprecationWarning`).

    Returns:
        `CXRSet` with `boxes (N, 1, 4)` / `box_classes` (padding for non-nodule cases), `labels` (Nodule, Mass),
        `masks (N, S, S, M)` named like `right_lung` when present, `landmarks` when `.pfs` files are present,
        `pixel_spacing_mm` `0.175 * 2048 / S`, `meta` (`file`, `age`, `sex` from the clinical tables),
        `source="jsrt"`.

    Raises:
        DatasetNotFoundError: when the images or the clinical table are missing, with where to register.
        TypeError: for a `num_images` or `seed` that is not an integer.
        ValueError: for a split other than `"all"`, a `num_images` below 1 or a negative `seed`.
    """
    folder = dl.dataset_folder("jsrt", data_dir)
    resolve_split(split, "jsrt", {})
    num_images = resolve_num_images(num_images, max_images, "jsrt")
    seed = resolve_seed(seed)
    if download:
        dl.download_dataset(JSRT, folder)
    found = dl.require(JSRT, folder, [("CLNDAT_EN.txt", "CLNDAT_EN.TXT"), "All247images"])
    cases = read_clinical(found["CLNDAT_EN.txt"], next(folder.glob("CNNDAT_EN.*"), None))
    files = {path.stem.upper(): path for path in found["All247images"].glob("*") if path.suffix.upper() == ".IMG"}
    names = sorted(name for name in files if name in cases)
    if not names:
        raise dl.DatasetNotFoundError(f"no .IMG file of the clinical tables is in {found['All247images']}.\n"
                                      f"{JSRT.instructions(folder)}")  # fmt: skip
    names = choose_rows(names, num_images, seed)
    images, _ = load_images([files[name] for name in names], image_size, reader=read_img, cache_dir=folder / "cache",
                            root=folder, num_workers=num_workers, progress=progress, desc="JSRT")  # fmt: skip
    boxes = np.full((len(names), 1, 4), PAD, dtype=np.float32)
    box_classes = np.full((len(names), 1), PAD, dtype=np.int32)
    label_rows = np.full((len(names), slide_labels.NUM_PATHOLOGIES), np.nan, dtype=np.float32)
    nodule, mass = slide_labels.code_of("Nodule"), slide_labels.code_of("Mass")
    for row, name in enumerate(names):
        label_rows[row, [nodule, mass]] = 0.0
        if cases[name]["nodule"]:
            boxes[row, 0], box_classes[row, 0] = nodule_box(cases[name], image_size)
            label_rows[row, box_classes[row, 0]] = 1.0
    masks, mask_names = None, ()
    organs = [organ for organ in ORGANS if (folder / "scr" / "masks" / organ).is_dir()] if with_masks else []
    if organs:
        full = np.zeros((len(names), MASK_SIZE, MASK_SIZE, len(organs)), dtype=np.uint8)
        for channel, organ in enumerate(organs):
            for row, name in enumerate(names):
                path = folder / "scr" / "masks" / organ / f"{name}.gif"
                if not path.exists():
                    raise dl.DatasetNotFoundError(f"SCR mask {path} is missing; every case needs one GIF per organ")
                with Image.open(path) as gif:
                    full[row, :, :, channel] = np.asarray(gif.convert("L").resize((MASK_SIZE, MASK_SIZE))) > 0
        masks, mask_names = shrink_masks(full, image_size), tuple(organ.replace(" ", "_") for organ in organs)
    landmarks, landmark_names = None, ()
    landmark_files = [folder / "scr" / "landmarks" / f"{name}.pfs" for name in names]
    if all(path.exists() for path in landmark_files) and landmark_files:
        parsed = [read_landmarks(path) for path in landmark_files]
        template = {structure: len(points) for structure, points in parsed[0].items()}
        landmark_names = tuple(
            f"{structure}_{index}" for structure, count in template.items() for index in range(count)
        )
        landmarks = np.full((len(names), len(landmark_names), 2), np.nan, dtype=np.float32)
        for row, sections in enumerate(parsed):
            column = 0
            for structure, count in template.items():
                points = sections.get(structure, np.zeros((0, 2), np.float32))[:count]
                landmarks[row, column : column + len(points)] = points * (image_size / MASK_SIZE)
                column += count
    return CXRSet(
        images=images,
        labels=label_rows,
        masks=masks,
        mask_names=mask_names,
        boxes=boxes,
        box_classes=box_classes,
        landmarks=landmarks,
        landmark_names=landmark_names,
        patient_ids=np.array(names, dtype=object),
        views=np.array(["PA"] * len(names), dtype=object),
        pixel_spacing_mm=np.full((len(names), 2), PIXEL_SPACING_MM * IMG_SIZE / image_size, dtype=np.float32),
        source="jsrt",
        meta=pd.DataFrame(
            {
                "file": [files[name].relative_to(folder).as_posix() for name in names],
                "age": [cases[name]["age"] for name in names],
                "sex": [cases[name]["sex"] for name in names],
            }
        ),
    )
