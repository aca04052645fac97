"""Fixtures for the dataset loader tests: a faulty local HTTP server and small files in each real format.

Imported by `tests/test_download.py` and `tests/test_loaders_*.py` (kept out of the shared `conftest.py`).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALDATA = REPO.parent / "shared" / "realdata"


class FaultyServer:
    """A threaded HTTP server on 127.0.0.1 that serves `routes` and misbehaves on request.

    `routes` maps a path such as `"/good.bin"` to `(bytes, fault)` where fault is `None`, `"drop"` (send the
    Content-Length of the whole body, half the bytes, then close), `"stall"` (send a little, then hang), `"gate"`
    (send half, set `half_sent`, wait until `release` is set, send the rest) or `"404"`. `hits` counts requests
    per path.
    """

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str | None]] = {}
        self.hits: dict[str, int] = {}
        self.stall_seconds = 5.0
        self.half_sent = threading.Event()
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body, fault = server.routes.get(self.path, (b"", "404"))
                if fault == "404":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if fault == "gate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    server.half_sent.set()
                    server.release.wait(10.0)
                    self.wfile.write(body[len(body) // 2 :])
                    return
                if fault == "stall":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    time.sleep(server.stall_seconds)
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def faulty_server() -> Iterator[FaultyServer]:
    server = FaultyServer().start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------ NIH ChestX-ray14

NIH_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
    "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]"
)
NIH_ROWS = [
    # image, findings, follow-up, patient, age, sex, view, width, height, spacing x, spacing y
    ("00000001_000.png", "Cardiomegaly", 0, 1, 57, "M", "PA", 2682, 2749, 0.143, 0.143),
    ("00000001_001.png", "Cardiomegaly|Emphysema", 1, 1, 58, "M", "PA", 2894, 2729, 0.143, 0.143),
    ("00000002_000.png", "No Finding", 0, 2, 80, "M", "AP", 2500, 2048, 0.171, 0.168),
    ("00000003_000.png", "Infiltration|Nodule", 0, 3, 74, "F", "PA", 2048, 2500, 0.168, 0.168),
]
NIH_BOXES = (
    "Image Index,Finding Label,Bbox [x,y,w,h],,,\n00000003_000.png,Infiltrate,10,20,30,40\n"
    "00000003_000.png,Nodule,64,64,8,16\n00000001_000.png,Cardiomegaly,32,48,60,50\n"
)


def make_nih(folder: Path, png_size: int = 128, rgba_pixel=(200, 100, 50, 255)) -> Path:
    """Write a small NIH ChestX-ray14 folder: label file, 9-field-header box file, split lists, PNGs.

    Image i is filled with grey level 40 * (i + 1); 00000002_000.png is RGBA filled with `rgba_pixel`.
    """
    import numpy as np
    from PIL import Image

    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = [NIH_HEADER] + [",".join(str(value) for value in row) for row in NIH_ROWS]
    (folder / "Data_Entry_2017_v2020.csv").write_text("\n".join(lines) + "\n")
    (folder / "BBox_List_2017.csv").write_text(NIH_BOXES)
    (folder / "train_val_list.txt").write_text("00000001_000.png\n00000001_001.png\n00000003_000.png\n")
    (folder / "test_list.txt").write_text("00000002_000.png\n")
    for index, row in enumerate(NIH_ROWS):
        if row[0] == "00000002_000.png":
            pixels = np.zeros((png_size, png_size, 4), np.uint8) + np.array(rgba_pixel, np.uint8)
            Image.fromarray(pixels, mode="RGBA").save(folder / "images" / row[0])
        else:
            Image.fromarray(np.full((png_size, png_size), 40 * (index + 1), np.uint8)).save(folder / "images" / row[0])
    return folder


# ----------------------------------------------------------------------------------------------- SIIM / RSNA


def rle2mask(rle, width, height):
    """The SIIM-ACR challenge's own reference decoder (`mask_functions.py`), used as the test reference."""
    import numpy as np

    mask = np.zeros(width * height)
    array = np.asarray([int(x) for x in rle.split()])
    starts = array[0::2]
    lengths = array[1::2]
    current_position = 0
    for index, start in enumerate(starts):
        current_position += start
        mask[current_position : current_position + lengths[index]] = 255
        current_position += lengths[index]
    return mask.reshape(width, height)


def ramp(size: int = 64):
    import numpy as np

    return np.tile(np.linspace(0.0, 1.0, size, dtype=np.float32), (size, 1))


def make_siim(folder: Path, size: int = 64) -> Path:
    """SIIM-ACR folder: 3 JPEG-compressed DICOMs in nested study/series folders; the RLE CSV with its quirks.

    img1: two rows (union); img2: ' -1'; img3: one row. The header has a space: `ImageId, EncodedPixels`.
    """
    from lecture_lib.datasets.dicom import write_dicom

    for index, image_id in enumerate(["1.2.3.1", "1.2.3.2", "1.2.3.3"]):
        path = folder / "dicom-images-train" / f"1.2.study{index}" / f"1.2.series{index}" / f"{image_id}.dcm"
        write_dicom(path, ramp(size), patient_id=f"pat-{index}", bits_stored=8, compression="jpeg_baseline",
                    pixel_spacing_mm=(0.168, 0.168), view_position="PA" if index else "AP")  # fmt: skip
    # column-major runs on a 64 x 64 image (each row starts at pixel 0): column 0 rows 0-31; column 2 rows 0-31
    lines = ["ImageId, EncodedPixels", "1.2.3.1, 0 32", "1.2.3.1, 128 32", "1.2.3.2, -1", "1.2.3.3, 2080 64",
             "1.2.3.9, -1"]  # fmt: skip
    (folder / "train-rle.csv").write_text("\n".join(lines) + "\n")
    return folder


def make_rsna(folder: Path, size: int = 64) -> Path:
    """RSNA folder: 3 DICOMs; labels with 2 boxes for one patient, Target 0 rows for the others; class info."""
    from lecture_lib.datasets.dicom import write_dicom

    for pid in ("aaa", "bbb", "ccc"):
        write_dicom(folder / "stage_2_train_images" / f"{pid}.dcm", ramp(size), patient_id=pid, bits_stored=8,
                    pixel_spacing_mm=(0.14, 0.14), view_position="AP" if pid == "aaa" else "PA")  # fmt: skip
    (folder / "stage_2_train_labels.csv").write_text(
        "patientId,x,y,width,height,Target\naaa,8.0,16.0,10.0,20.0,1\naaa,40.0,16.0,12.0,24.0,1\n"
        "bbb,,,,,0\nccc,,,,,0\nmissing,,,,,0\n"
    )
    (folder / "stage_2_detailed_class_info.csv").write_text(
        "patientId,class\naaa,Lung Opacity\naaa,Lung Opacity\nbbb,Normal\nccc,No Lung Opacity / Not Normal\n"
    )
    return folder


# ------------------------------------------------------------------------------------------ CheXpert / MIMIC

CHEXPERT_HEADER = (
    "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,"
    "Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,"
    "Support Devices"
)
OBSERVATIONS = CHEXPERT_HEADER.split(",")[5:]


def _jpeg(path: Path, value: int, shape=(80, 64)) -> None:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path, quality=95)


def make_chexpert(folder: Path, decubitus: bool = False) -> Path:
    """CheXpert-v1.0-small with 3 frontal and 1 lateral image; labels 1, 0, -1 and blanks.

    `decubitus=True` adds two rows that the real `train.csv` also has: `Frontal` with `AP/PA` = `LL` and `RL`.
    """
    root = folder / "CheXpert-v1.0-small"
    rows = [
        # path, sex, age, frontal/lateral, AP/PA, then values per observation (blank = "")
        ("patient00001/study1/view1_frontal.jpg", "Frontal", "AP", {"Cardiomegaly": "1.0", "Edema": "-1.0",
                                                                    "Pleural Effusion": "0.0"}),
        ("patient00002/study1/view1_frontal.jpg", "Frontal", "PA", {"No Finding": "1.0", "Support Devices": "1.0"}),
        ("patient00002/study1/view2_lateral.jpg", "Lateral", "", {"No Finding": "1.0"}),
        ("patient00003/study2/view1_frontal.jpg", "Frontal", "AP", {"Lung Lesion": "1.0", "Pneumonia": "-1.0"}),
    ]  # fmt: skip
    if decubitus:
        rows += [("patient00004/study1/view1_frontal.jpg", "Frontal", "LL", {"Pleural Effusion": "1.0"}),
                 ("patient00005/study1/view1_frontal.jpg", "Frontal", "RL", {"No Finding": "1.0"})]  # fmt: skip
    lines = [CHEXPERT_HEADER]
    for index, (path, frontal, view, values) in enumerate(rows):
        cells = [values.get(name, "") for name in OBSERVATIONS]
        lines.append(",".join([f"CheXpert-v1.0-small/train/{path}", "Female", "68", frontal, view, *cells]))
        _jpeg(root / "train" / path, min(50 * (index + 1), 255))
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    return folder


def make_mimic(folder: Path, unlabelled_study: bool = False) -> Path:
    """MIMIC-CXR-JPG: metadata (3 images, 2 studies), chexpert + negbio study labels, split, JPEGs in files/.

    `unlabelled_study=True` adds image d4 (AP, test split) of study 54000002, which has no row in the label files.
    """
    import gzip

    meta = (
        "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns\n"
        "d1,10000032,50414267,CHEST (PA AND LAT),PA,80,64\n"
        "d2,10000032,50414267,CHEST (PA AND LAT),LATERAL,80,64\n"
        "d3,11000011,53000001,CHEST (PORTABLE AP),AP,80,64\n"
    ) + ("d4,12000012,54000002,CHEST (PORTABLE AP),AP,80,64\n" if unlabelled_study else "")
    names = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
             "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
             "Pneumothorax", "Support Devices"]  # fmt: skip
    chexpert = "subject_id,study_id," + ",".join(names) + "\n"
    chexpert += "10000032,50414267,,,,,,,,,1.0,,,,,\n"
    chexpert += "11000011,53000001,-1.0,,,1.0,,,,,,1.0,,,,\n"
    negbio = chexpert.replace("-1.0", "0.0")
    split = "dicom_id,study_id,subject_id,split\nd1,50414267,10000032,train\nd2,50414267,10000032,train\n" \
        "d3,53000001,11000011,test\n" + ("d4,54000002,12000012,test\n" if unlabelled_study else "")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("metadata", meta), ("chexpert", chexpert), ("negbio", negbio), ("split", split)):
        with gzip.open(folder / f"mimic-cxr-2.0.0-{name}.csv.gz", "wt") as stream:
            stream.write(text)
    _jpeg(folder / "files/p10/p10000032/s50414267/d1.jpg", 100)
    _jpeg(folder / "files/p10/p10000032/s50414267/d2.jpg", 150)
    _jpeg(folder / "files/p11/p11000011/s53000001/d3.jpg", 200)
    if unlabelled_study:
        _jpeg(folder / "files/p12/p12000012/s54000002/d4.jpg", 250)
    return folder


# ------------------------------------------------------------------------------------- PADChest / JSRT / MedMNIST

PADCHEST_COLUMNS = [
    "ImageID", "ImageDir", "StudyDate_DICOM", "StudyID", "PatientID", "PatientBirth", "PatientSex_DICOM",
    "ViewPosition_DICOM", "Projection", "MethodProjection", "Pediatric", "Modality_DICOM", "Manufacturer_DICOM",
    "PhotometricInterpretation_DICOM", "PixelRepresentation_DICOM", "PixelAspectRatio_DICOM",
    "SpatialResolution_DICOM", "BitsStored_DICOM", "WindowCenter_DICOM", "WindowWidth_DICOM", "Rows_DICOM",
    "Columns_DICOM", "XRayTubeCurrent_DICOM", "Exposure_DICOM", "ExposureInuAs_DICOM", "ExposureTime",
    "RelativeXRayExposure_DICOM", "ReportID", "Report", "MethodLabel", "Labels", "Localizations",
    "LabelsLocalizationsBySentence", "labelCUIS", "LocalizationsCUIS",
]  # fmt: skip
PADCHEST_ROWS = [
    # image, dir, patient, projection, Labels, Localizations, labelCUIS
    ("a.png", "0", "p1", "PA", "['normal']", "[]", "[]"),
    ("b.png", "0", "p2", "AP_horizontal", "['pleural effusion', ' cardiomegaly', ' pleural thickening']",
     "['loc left', ' loc basal']", "['C0032227' 'C0018800' 'C0264393']"),
    ("c.png", "1", "p2", "L", "['normal']", "[]", "[]"),
    ("d.png", "1", "p3", "AP", "['exclude']", "nan", "nan"),
    ("e.png", "1", "p4", "PA", "['scoliosis', ' nodule']", "[]", "['C0036439' 'C0028259']"),
]  # fmt: skip


def make_padchest(folder: Path, low: int = 1000, high: int = 4000) -> Path:
    """PADChest CSV (all 35 columns, list-text and numpy-printed CUI cells) and 16-bit PNGs ramping low..high."""
    import csv

    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(PADCHEST_COLUMNS)
        for image, directory, patient, projection, found, places, cuis in PADCHEST_ROWS:
            row = dict.fromkeys(PADCHEST_COLUMNS, "")
            row.update(ImageID=image, ImageDir=directory, PatientID=patient, Projection=projection, Labels=found,
                       Localizations=places, labelCUIS=cuis, BitsStored_DICOM="12")  # fmt: skip
            writer.writerow([row[column] for column in PADCHEST_COLUMNS])
            (folder / directory).mkdir(exist_ok=True)
            ramp16 = np.tile(np.linspace(low, high, 32), (32, 1)).astype(np.uint16)
            Image.fromarray(ramp16).save(folder / directory / image)
    return folder


JSRT_CLINICAL = (
    "JPCLN001.IMG\t3\t15\t53\tmale\t1024\t700\tmalignant\tl.upper lobe\tlung cancer\n"
    "JPCLN002.IMG\t5\t40\t?\tfemale\t512\t512\tbenign\tr.lower lobe\thamartoma\n"
)
JSRT_NON_NODULE = "JPCNN001.IMG\t46\tmale\tnon-nodule\n"


def make_jsrt(folder: Path, landmarks: bool = True) -> Path:
    """JSRT: raw big-endian 12-bit .IMG files (values = column index * 2), clinical tables, SCR GIF masks
    (folders with spaces; right lung = left half of rows 256-767) and landmark files."""
    import numpy as np
    from PIL import Image

    (folder / "All247images").mkdir(parents=True, exist_ok=True)
    values = np.tile((np.arange(2048) * 2).astype(">u2"), (2048, 1))
    for name in ("JPCLN001", "JPCLN002", "JPCNN001"):
        values.tofile(folder / "All247images" / f"{name}.IMG")
    (folder / "CLNDAT_EN.txt").write_text(JSRT_CLINICAL)
    (folder / "CNNDAT_EN.TXT").write_text(JSRT_NON_NODULE)
    for organ, (top, bottom, left, right) in {"right lung": (256, 768, 0, 512), "heart": (512, 768, 384, 640)}.items():
        (folder / "scr" / "masks" / organ).mkdir(parents=True, exist_ok=True)
        mask = np.zeros((1024, 1024), np.uint8)
        mask[top:bottom, left:right] = 255
        for name in ("JPCLN001", "JPCLN002", "JPCNN001"):
            Image.fromarray(mask).save(folder / "scr" / "masks" / organ / f"{name}.gif")
    if landmarks:
        (folder / "scr" / "landmarks").mkdir(parents=True, exist_ok=True)
        for name in ("JPCLN001", "JPCLN002", "JPCNN001"):
            (folder / "scr" / "landmarks" / f"{name}.pfs").write_text(
                "[Label=right lung]\n[Number of points=2]\n{ 100, 200 }\n{ 300, 400 }\n[Label=heart]\n512 600\n"
            )
    return folder


# ------------------------------------------------------------------------------------------- num_images and seed


def seeded_sample(items: list, num_images: int, seed: int) -> list:
    """The items a loader must keep for `num_images` and an integer `seed`, computed from NumPy alone.

    The rule of `loader_options.choose_rows`, written out again: the first `num_images` positions of
    `np.random.default_rng(seed).permutation(len(items))`, in increasing order (the source's order).
    """
    import numpy as np

    positions = np.sort(np.random.default_rng(seed).permutation(len(items))[:num_images])
    return [items[position] for position in positions]


def another_seed(items: list, num_images: int, seed: int) -> int:
    """The smallest seed above `seed` whose `seeded_sample` differs from that of `seed`."""
    other = seed + 1
    while seeded_sample(items, num_images, other) == seeded_sample(items, num_images, seed):
        other += 1
    return other


BAD_SEEDS = [(-1, ValueError, "seed must be None or a non-negative integer, got -1"),
             (1.5, TypeError, "seed must be None or a non-negative integer, got float 1.5"),
             ("x", TypeError, "seed must be None or a non-negative integer, got str 'x'")]  # fmt: skip
"""`(seed, error, message)` every loader that takes `seed=None` must raise before reading a file."""
