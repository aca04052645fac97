"""Every `DATASET` value a notebook names runs that notebook top to bottom.

Each notebook is executed (nbclient, as `scripts/run_course.py` does) with its `DATASET` line swapped to each real
source its comment names, on small folders in that source's real file formats (built here with the headers, column
lists and helpers of `tests/loader_fixtures.py`, 48 images each) under `LECTURE_DATA_DIR`. The notebook's size constants are scaled down by substituting
their values in its constants cell, so the notebook runs its own code, only on fewer, smaller images for one epoch.
Quality floors are asserted on the phantom only (nbval of the committed notebooks); here a notebook must only run.
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from loader_fixtures import (
    CHEXPERT_HEADER,
    JSRT_NON_NODULE,
    NIH_HEADER,
    OBSERVATIONS,
    PADCHEST_COLUMNS,
    ramp,
)
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

NUM_PATIENTS = 24  # two follow-ups each: 48 images, enough for a 70 / 15 / 15 % patient split with positives
FIXTURE_PIXELS = 64

# What each notebook's constants become here: tiny images, few of them, one epoch.
SMALL = {
    "01_classification": {"IMAGE_SIZE": 32, "NUM_IMAGES": 2 * NUM_PATIENTS, "EPOCHS": 1, "UNIQUE_EPOCHS": 1,
                          "BATCH_SIZE": 16, "MODEL_FILTERS": 4},
    "02_segmentation": {"IMAGE_SIZE": 32, "NUM_IMAGES": 2 * NUM_PATIENTS, "COMPARE_EPOCHS": 1, "EPOCHS": 2,
                        "FILTERS": 4, "BATCH_SIZE": 8},
    "03_detection": {"IMAGE_SIZE": 48, "NUM_IMAGES": 2 * NUM_PATIENTS, "NUM_GRID_IMAGES": 2 * NUM_PATIENTS,
                     "COMPARE_EPOCHS": 1, "EPOCHS": 1, "GRID_EPOCHS": 1, "GRID_SIZE": 6, "BATCH_SIZE": 16},
    "04_landmarks": {"IMAGE_SIZE": 32, "NUM_IMAGES": 2 * NUM_PATIENTS, "EPOCHS_V1": 1, "EPOCHS": 1,
                     "V1_FILTERS": 4, "V2_FILTERS": 4},
    "05_generation": {"IMAGE_SIZE": 32, "NUM_IMAGES": 2 * NUM_PATIENTS, "EPOCHS": 1, "GEN_IMAGE_SIZE": 32,
                      "NUM_GEN_IMAGES": 2 * NUM_PATIENTS, "GEN_EPOCHS": 1, "CLASSIFIER_EPOCHS": 1, "NUM_SAMPLES": 8},
}  # fmt: skip

CASES = [
    ("01_classification", "nih"),
    ("01_classification", "chexpert"),
    ("01_classification", "mimic"),
    ("01_classification", "padchest"),
    ("02_segmentation", "jsrt"),
    ("03_detection", "rsna"),
    ("03_detection", "nih"),
    ("04_landmarks", "jsrt"),
    ("05_generation", "nih"),
]


# ------------------------------------------------------------------------------- fixtures in the real formats


def _grey(rng: np.random.Generator, size: int = FIXTURE_PIXELS, dtype=np.uint8, high: int = 255) -> np.ndarray:
    """A smooth random radiograph-like image: a bright mediastinum band over noise."""
    columns = np.abs(np.linspace(-1.0, 1.0, size))
    base = (1.0 - columns)[None, :] * 0.6 + rng.uniform(0.0, 0.4, (size, size))
    return (base / base.max() * high).astype(dtype)


def _draw(rng: np.random.Generator, names: list[str], probability: float = 0.3) -> list[str]:
    return [name for name in names if rng.uniform() < probability]


def make_nih_cohort(folder: Path, rng: np.random.Generator) -> None:
    """NIH ChestX-ray14: label file, box file (boxes on half the images), split lists, 8-bit PNGs."""
    titles = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Effusion", "Emphysema", "Fibrosis",
              "Hernia", "Infiltration", "Mass", "Nodule", "Pleural_Thickening", "Pneumonia", "Pneumothorax"]  # fmt: skip
    box_titles = {"Mass": "Mass", "Nodule": "Nodule", "Pneumonia": "Pneumonia", "Atelectasis": "Atelectasis",
                  "Cardiomegaly": "Cardiomegaly", "Effusion": "Effusion", "Infiltration": "Infiltrate",
                  "Pneumothorax": "Pneumothorax"}  # fmt: skip
    (folder / "images").mkdir(parents=True)
    rows, box_rows, names = [NIH_HEADER], ["Image Index,Finding Label,Bbox [x,y,w,h],,,"], []
    for patient in range(1, NUM_PATIENTS + 1):
        for follow_up in range(2):
            name = f"{patient:08d}_{follow_up:03d}.png"
            found = _draw(rng, titles, 0.2)
            if follow_up == 0 and patient % 2 == 0 and not set(found) & set(box_titles):
                found.append(["Mass", "Pneumonia", "Nodule"][patient % 3])
            rows.append(f"{name},{'|'.join(found) or 'No Finding'},{follow_up},{patient},{40 + patient},"
                        f"{'MF'[patient % 2]},{'PA' if patient % 3 else 'AP'},1024,1024,0.143,0.143")  # fmt: skip
            for title in found:
                if title in box_titles and follow_up == 0:
                    x, y = rng.uniform(100, 600, 2)
                    box_rows.append(f"{name},{box_titles[title]},{x:.1f},{y:.1f},{rng.uniform(60, 300):.1f},"
                                    f"{rng.uniform(60, 300):.1f}")  # fmt: skip
            Image.fromarray(_grey(rng)).save(folder / "images" / name)
            names.append(name)
    (folder / "Data_Entry_2017_v2020.csv").write_text("\n".join(rows) + "\n")
    (folder / "BBox_List_2017.csv").write_text("\n".join(box_rows) + "\n")
    (folder / "train_val_list.txt").write_text("\n".join(names[: 3 * len(names) // 4]) + "\n")
    (folder / "test_list.txt").write_text("\n".join(names[3 * len(names) // 4 :]) + "\n")


def make_chexpert_cohort(folder: Path, rng: np.random.Generator) -> None:
    """CheXpert-v1.0-small: `train.csv` (1 / 0 / -1 / blank) and JPEGs, a frontal and a lateral per study."""
    root = folder / "CheXpert-v1.0-small"
    lines = [CHEXPERT_HEADER]
    for patient in range(1, NUM_PATIENTS + 1):
        for study in (1, 2):
            path = f"patient{patient:05d}/study{study}/view1_frontal.jpg"
            found = _draw(rng, OBSERVATIONS[1:], 0.2)
            cells = [("1.0" if name in found else rng.choice(["", "0.0", "-1.0"])) for name in OBSERVATIONS]
            cells[0] = "" if found else "1.0"
            lines.append(",".join([f"CheXpert-v1.0-small/train/{path}", "Female", str(30 + patient), "Frontal",
                                   "PA" if study == 1 else "AP", *cells]))  # fmt: skip
            (root / "train" / path).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_grey(rng)).save(root / "train" / path, quality=90)
    (root / "train.csv").write_text("\n".join(lines) + "\n")


def make_mimic_cohort(folder: Path, rng: np.random.Generator) -> None:
    """MIMIC-CXR-JPG: the four gzipped tables (study labels, official split) and JPEGs under `files/`."""
    names = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
             "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
             "Pneumothorax", "Support Devices"]  # fmt: skip
    meta = ["dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns"]
    study_rows, split_rows = ["subject_id,study_id," + ",".join(names)], ["dicom_id,study_id,subject_id,split"]
    for patient in range(NUM_PATIENTS):
        subject = 10000000 + patient
        for study in range(2):
            study_id, dicom_id = 50000000 + 2 * patient + study, f"d{patient}x{study}"
            meta.append(f"{dicom_id},{subject},{study_id},CHEST (PA AND LAT),{'PA' if study else 'AP'},64,64")
            found = _draw(rng, names, 0.2)
            values = ["1.0" if name in found else rng.choice(["", "0.0", "-1.0"]) for name in names]
            values[names.index("No Finding")] = "" if found else "1.0"
            study_rows.append(f"{subject},{study_id}," + ",".join(values))
            split_rows.append(f"{dicom_id},{study_id},{subject},train")
            path = folder / "files" / f"p{str(subject)[:2]}" / f"p{subject}" / f"s{study_id}" / f"{dicom_id}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_grey(rng)).save(path, quality=90)
    for name, lines in (("metadata", meta), ("chexpert", study_rows), ("negbio", study_rows), ("split", split_rows)):
        with gzip.open(folder / f"mimic-cxr-2.0.0-{name}.csv.gz", "wt") as stream:
            stream.write("\n".join(lines) + "\n")


def make_padchest_cohort(folder: Path, rng: np.random.Generator) -> None:
    """PADChest: the 35-column CSV (list-text label cells) and 16-bit PNGs in numbered folders."""
    from lecture_lib.datasets.padchest import PADCHEST_TO_SLIDE

    terms = sorted(term for term, title in PADCHEST_TO_SLIDE.items() if title)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(PADCHEST_COLUMNS)
        for patient in range(NUM_PATIENTS):
            for study in range(2):
                image, directory = f"img{patient}_{study}.png", str(patient % 3)
                found = _draw(rng, terms, 0.05) or ["normal"]
                row = dict.fromkeys(PADCHEST_COLUMNS, "")
                row.update(ImageID=image, ImageDir=directory, PatientID=f"p{patient}", StudyID=f"s{patient}_{study}",
                           PatientBirth=str(1930 + patient), PatientSex_DICOM="MF"[patient % 2],
                           Projection="PA" if study else "AP", Labels=str(found), Localizations="[]",
                           labelCUIS="[]", BitsStored_DICOM="12")  # fmt: skip
                writer.writerow([row[column] for column in PADCHEST_COLUMNS])
                (folder / directory).mkdir(exist_ok=True)
                Image.fromarray(_grey(rng, dtype=np.uint16, high=4095)).save(folder / directory / image)


def make_jsrt_cohort(folder: Path, rng: np.random.Generator) -> None:
    """JSRT + SCR: raw 2048² big-endian `.IMG` files, the clinical tables, lung and heart GIF masks, landmarks."""
    (folder / "All247images").mkdir(parents=True)
    cases, clinical = [f"JPCLN{i:03d}" for i in range(1, 2 * NUM_PATIENTS + 1)], []
    column = np.abs(np.linspace(-1.0, 1.0, 2048))
    for index, case in enumerate(cases):
        values = (column * 3000 + 500 + 40 * (index % 7)).astype(">u2")
        np.tile(values, (2048, 1)).tofile(folder / "All247images" / f"{case}.IMG")
        x, y = rng.uniform(500, 1500, 2)
        clinical.append(f"{case}.IMG\t3\t{rng.uniform(8, 40):.0f}\t{40 + index}\tmale\t{x:.0f}\t{y:.0f}\tbenign\t"
                        "r.lower lobe\thamartoma")  # fmt: skip
    (folder / "CLNDAT_EN.txt").write_text("\n".join(clinical) + "\n")
    (folder / "CNNDAT_EN.TXT").write_text(JSRT_NON_NODULE)
    for organ in ("right lung", "left lung", "heart"):
        (folder / "scr" / "masks" / organ).mkdir(parents=True)
    (folder / "scr" / "landmarks").mkdir(parents=True)
    for case in cases:
        # Disjoint, as SCR draws the lung fields beside the heart; borders on multiples of 32 source pixels, so no
        # pixel of the 32 or 64 px masks is half lung, half heart (area-resizing sets both at exactly 0.5).
        shift = 32 * int(rng.integers(-1, 2))
        boxes = {"right lung": (200, 800, 96 + shift, 416), "left lung": (200, 800, 640 + shift, 928),
                 "heart": (512, 800, 416, 640 + shift)}  # fmt: skip
        for organ, (top, bottom, left, right) in boxes.items():
            mask = np.zeros((1024, 1024), np.uint8)
            mask[top:bottom, left:right] = 255
            Image.fromarray(mask).save(folder / "scr" / "masks" / organ / f"{case}.gif")
        (folder / "scr" / "landmarks" / f"{case}.pfs").write_text(
            f"[Label=right lung]\n[Number of points=2]\n{{ {96 + shift}, 200 }}\n{{ 416, 800 }}\n"
            f"[Label=heart]\n[Number of points=2]\n{{ 416, 512 }}\n{{ {640 + shift}, 800 }}\n"
        )


def make_rsna_cohort(folder: Path, rng: np.random.Generator) -> None:
    """RSNA pneumonia: DICOMs, box rows (Target 1) and empty rows (Target 0), the class table."""
    from lecture_lib.datasets.dicom import write_dicom

    labels, classes = ["patientId,x,y,width,height,Target"], ["patientId,class"]
    for patient in range(2 * NUM_PATIENTS):
        pid = f"rsna{patient:04d}"
        image = ramp(FIXTURE_PIXELS) * 0.5 + rng.uniform(0, 0.5, (FIXTURE_PIXELS, FIXTURE_PIXELS)).astype(np.float32)
        write_dicom(folder / "stage_2_train_images" / f"{pid}.dcm", image, patient_id=pid, bits_stored=8,
                    pixel_spacing_mm=(0.14, 0.14), view_position="PA" if patient % 2 else "AP")  # fmt: skip
        if patient % 2:
            for _ in range(1 + patient % 3 // 2):
                x, y = rng.uniform(2, 40, 2)
                labels.append(f"{pid},{x:.1f},{y:.1f},{rng.uniform(8, 20):.1f},{rng.uniform(8, 20):.1f},1")
                classes.append(f"{pid},Lung Opacity")
        else:
            labels.append(f"{pid},,,,,0")
            classes.append(f"{pid},Normal")
    (folder / "stage_2_train_labels.csv").write_text("\n".join(labels) + "\n")
    (folder / "stage_2_detailed_class_info.csv").write_text("\n".join(classes) + "\n")


BUILDERS = {
    "nih": make_nih_cohort,
    "chexpert": make_chexpert_cohort,
    "mimic": make_mimic_cohort,
    "padchest": make_padchest_cohort,
    "jsrt": make_jsrt_cohort,
    "rsna": make_rsna_cohort,
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """One folder per source used below, in the layout `data/<name>/` that `LECTURE_DATA_DIR` points at."""
    root = tmp_path_factory.mktemp("data")
    for index, (name, build) in enumerate(BUILDERS.items()):
        build(root / name, np.random.default_rng(index))
    return root


# -------------------------------------------------------------------------------------------- the notebooks


def scaled_notebook(stem: str, dataset: str) -> nbformat.NotebookNode:
    """The notebook with `DATASET = dataset` and the constants of `SMALL[stem]` substituted in its constants cell."""
    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    cells = [
        cell for cell in notebook.cells if cell.cell_type == "code" and re.search(r"^DATASET = ", cell.source, re.M)
    ]
    assert len(cells) == 1, f"{stem}: expected one constants cell with `DATASET = ...`, found {len(cells)}"
    source = cells[0].source
    for name, value in {"DATASET": dataset, **SMALL[stem]}.items():
        source, count = re.subn(rf"^{name} = [^#\n]*", f"{name} = {value!r}  ", source, flags=re.M)
        assert count == 1, f"{stem}: constant {name} is not assigned once in the constants cell"
    cells[0].source = source
    return notebook


def test_scaled_notebook_substitutes_only_the_constants():
    notebook = scaled_notebook("01_classification", "nih")
    source = next(cell.source for cell in notebook.cells if "DATASET = " in cell.source)
    assert re.search(r"^DATASET = 'nih'", source, re.M) and re.search(r"^EPOCHS = 1 ", source, re.M)
    assert re.search(r"^UNIQUE_EPOCHS = 1 ", source, re.M) and "SEED = 42" in source
    assert '# or "nih"' in source  # the comment after the value stays


@pytest.mark.slow
@pytest.mark.parametrize("stem, dataset", CASES, ids=[f"{stem[:2]}-{dataset}" for stem, dataset in CASES])
def test_notebook_runs_on_dataset(stem, dataset, data_root, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    assert re.search(rf"\b{dataset}\b", _constants_comment(stem)), f"{stem} does not name {dataset!r}"
    monkeypatch.setenv("LECTURE_DATA_DIR", str(data_root))
    monkeypatch.setenv("LECTURE_RESULTS_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = scaled_notebook(stem, dataset)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "Traceback" not in printed
    # one switch, no noise: no phantom option left loose for catalog.load to drop, no former loader argument
    assert f"load({dataset!r}) ignores" not in printed and "DeprecationWarning" not in printed, printed[-2000:]


def _constants_comment(stem: str) -> str:
    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return next(line for cell in notebook.cells for line in cell.source.splitlines() if line.startswith("DATASET = "))
