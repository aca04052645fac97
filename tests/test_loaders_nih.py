"""Tests of the NIH ChestX-ray14 loader on fixtures in the real format, and on the real label files when present."""

from __future__ import annotations

import csv
import gzip
import shutil

import numpy as np
import pytest
from loader_fixtures import NIH_ROWS, REALDATA, another_seed, make_nih, seeded_sample

from lecture_lib import labels
from lecture_lib.datasets import download, nih
from lecture_lib.datasets.arraycache import ArrayCache


@pytest.fixture()
def nih_folder(tmp_path):
    return make_nih(tmp_path / "nih")


def test_load_nih_labels_images_spacing_and_rgba(nih_folder):
    data = nih.load_nih(nih_folder, image_size=64, progress=False)
    assert len(data) == 4 and data.images.shape == (4, 64, 64, 1) and data.source == "nih"
    assert labels.decode(data.labels) == [["Cardiomegaly"], ["Cardiomegaly", "Emphysema"], ["No Finding"],
                                          ["Infiltration", "Nodule"]]  # fmt: skip
    assert not np.isnan(data.labels).any()
    assert data.patient_ids.tolist() == ["00000001", "00000001", "00000002", "00000003"]
    assert data.views.tolist() == ["PA", "PA", "AP", "PA"]
    np.testing.assert_allclose(data.images[0], 40 / 255.0, atol=1e-6)
    np.testing.assert_allclose(data.images[2], 124 / 255.0, atol=1e-6)  # RGBA (200, 100, 50) -> BT.601 grey 124
    # spacing at 64 px = original spacing * original size / 64, (row, column) = (y, x)
    np.testing.assert_allclose(data.pixel_spacing_mm[2], [0.168 * 2048 / 64, 0.171 * 2500 / 64], rtol=1e-6)


def test_load_nih_boxes_infiltrate_and_scaling(nih_folder):
    data = nih.load_nih(nih_folder, image_size=64, with_boxes=True, progress=False)
    # PNGs are 128 px: boxes (x, y, w, h) are halved and become xyxy.
    np.testing.assert_allclose(data.boxes[3], [[5, 10, 20, 30], [32, 32, 36, 40]])
    assert data.box_classes[3].tolist() == [labels.code_of("Infiltration"), labels.code_of("Nodule")]
    np.testing.assert_allclose(data.boxes[0], [[16, 24, 46, 49], [-1, -1, -1, -1]])
    assert data.box_classes[1].tolist() == [-1, -1]
    boxed = nih.load_nih(nih_folder, image_size=64, only_boxed=True, progress=False)
    assert boxed.patient_ids.tolist() == ["00000001", "00000003"]


def test_load_nih_only_boxed_names_every_archive_when_boxed_images_are_missing(nih_folder):
    # The 880 boxed images are spread over all 12 archives: with only some unpacked, say which call fetches the rest.
    (nih_folder / "images" / "00000003_000.png").unlink()
    with pytest.warns(UserWarning, match=r"only 1 of the 2 NIH images with boxes .*archives=range\(1, 13\)"):
        boxed = nih.load_nih(nih_folder, image_size=32, only_boxed=True, progress=False)
    assert boxed.patient_ids.tolist() == ["00000001"]
    (nih_folder / "images" / "00000001_000.png").unlink()
    with pytest.raises(download.DatasetNotFoundError, match=r"archives=range\(1, 13\) to fetch all 12 archives"):
        nih.load_nih(nih_folder, image_size=32, only_boxed=True, progress=False)


def test_load_nih_split_views_and_num_images(nih_folder):
    assert nih.load_nih(nih_folder, image_size=32, split="test", progress=False).patient_ids.tolist() == ["00000002"]
    assert len(nih.load_nih(nih_folder, image_size=32, split="train", progress=False)) == 3  # train_val_list.txt
    assert nih.load_nih(nih_folder, image_size=32, views=["ap"], progress=False).views.tolist() == ["AP"]
    assert nih.load_nih(nih_folder, image_size=32, views="pa", progress=False).views.tolist() == ["PA"] * 3
    assert len(nih.load_nih(nih_folder, image_size=32, num_images=2, progress=False)) == 2
    with pytest.raises(ValueError, match=r"nih publishes no 'val' split; choose from \['train', 'test', 'all'\]"):
        nih.load_nih(nih_folder, split="val")
    with pytest.raises(ValueError, match=r"nih views are \['PA', 'AP'\], got \['LATERAL'\]"):
        nih.load_nih(nih_folder, views=["LATERAL"])


NIH_FILES = [row[0] for row in NIH_ROWS]
NIH_GREY = {name: (124 if name == "00000002_000.png" else 40 * (index + 1)) for index, name in enumerate(NIH_FILES)}
"""Grey level of each fixture PNG (`make_nih`: 40 (i + 1), the RGBA one 124)."""


def test_load_nih_num_images_takes_the_first_images_or_a_seeded_sample(nih_folder):
    first = nih.load_nih(nih_folder, image_size=32, num_images=2, seed=None, progress=False)
    assert first.meta["file"].tolist() == NIH_FILES[:2]  # seed=None: the label file's order, as before
    sample = nih.load_nih(nih_folder, image_size=32, num_images=2, seed=3, progress=False)
    expected = seeded_sample(NIH_FILES, 2, 3)
    assert sample.meta["file"].tolist() == expected
    # images, labels and ids follow the rows
    np.testing.assert_allclose(sample.images[:, 0, 0, 0], [NIH_GREY[name] / 255 for name in expected], atol=1e-6)
    assert sample.patient_ids.tolist() == [name[:8] for name in expected]
    again = nih.load_nih(nih_folder, image_size=32, num_images=2, seed=3, progress=False)
    assert again.meta["file"].tolist() == expected
    np.testing.assert_allclose(again.images, sample.images, atol=1 / 65535)  # the second load is from the cache
    other = another_seed(NIH_FILES, 2, 3)
    assert nih.load_nih(nih_folder, image_size=32, num_images=2, seed=other, progress=False).meta[
        "file"
    ].tolist() == seeded_sample(NIH_FILES, 2, other)
    # the sample is drawn among the images that pass the filters: the three PA films here
    pa = [name for name, row in zip(NIH_FILES, NIH_ROWS, strict=True) if row[6] == "PA"]
    for seed in (0, 1, 2):
        picked = nih.load_nih(nih_folder, image_size=32, num_images=2, views="PA", seed=seed, progress=False)
        assert picked.meta["file"].tolist() == seeded_sample(pa, 2, seed)
    assert len(nih.load_nih(nih_folder, image_size=32, num_images=9, seed=3, progress=False)) == 4


def test_load_nih_old_argument_names_still_work_with_a_deprecation_warning(nih_folder):
    with pytest.warns(DeprecationWarning, match="split='train_val' is now split='train'"):
        assert len(nih.load_nih(nih_folder, image_size=32, split="train_val", progress=False)) == 3
    with pytest.warns(DeprecationWarning, match=r"max_images=...\) is now num_images"):
        assert len(nih.load_nih(nih_folder, image_size=32, max_images=2, progress=False)) == 2
    with pytest.raises(ValueError, match="got num_images=1 and max_images=2: pass one"):
        nih.load_nih(nih_folder, num_images=1, max_images=2)


def test_load_nih_defaults_match_catalog_load_and_meta_holds_the_label_file_columns(nih_folder):
    data = nih.load_nih(nih_folder, progress=False)
    assert data.image_size == (128, 128)  # catalog.load's default image_size
    # NIH_ROWS of loader_fixtures: file, follow-up, age and sex as the label file gives them
    assert data.meta["file"].tolist() == ["00000001_000.png", "00000001_001.png", "00000002_000.png",
                                          "00000003_000.png"]  # fmt: skip
    assert data.meta["age"].tolist() == [57, 58, 80, 74] and data.meta["sex"].tolist() == ["M", "M", "M", "F"]
    assert data.meta["follow_up"].tolist() == [0, 1, 0, 0]
    assert data[2:].meta["file"].tolist() == ["00000002_000.png", "00000003_000.png"]


def test_load_nih_second_load_comes_from_the_cache(nih_folder):
    first = nih.load_nih(nih_folder, image_size=32, progress=False)
    assert len(ArrayCache(nih_folder / "cache" / "32px", 32)) == 4
    for png in (nih_folder / "images").iterdir():
        png.write_bytes(png.read_bytes())  # same pixels, newer files: the cache is rebuilt, values unchanged
    second = nih.load_nih(nih_folder, image_size=32, progress=False)
    np.testing.assert_allclose(second.images, first.images, atol=1 / 65535)


def test_missing_nih_files_say_how_to_download(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)Data_Entry_2017_v2020.csv.*download=True"):
        nih.load_nih(tmp_path / "empty")
    folder = make_nih(tmp_path / "noimages")
    shutil.rmtree(folder / "images")
    with pytest.raises(download.DatasetNotFoundError, match="no NIH image.*load_nih\\(download=True\\)"):
        nih.load_nih(folder)


# --------------------------------------------------------------------------------------------- real files

needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")


@pytest.mark.realdata
@needs_realdata
def test_real_nih_label_file():
    table = nih.read_labels(REALDATA / "Data_Entry_2017_v2020.csv.gz")
    assert len(table) == 112_120 and table["patient_id"].nunique() == 30_805  # NIH's published totals
    matrix = nih.label_matrix(table["findings"])
    with gzip.open(REALDATA / "Data_Entry_2017_v2020.csv.gz", "rt") as stream:
        rows = list(csv.reader(stream))[1:]
    for code, title in enumerate(labels.PATHOLOGIES):  # independent count: split the raw column with csv
        assert matrix[:, code].sum() == sum(title in row[1].split("|") for row in rows), title
    assert matrix[:, labels.code_of("No Finding")].sum() == 60_361
    assert table.loc[0, "image"] == "00000001_000.png" and table.loc[0, "original_width"] == 2682


@pytest.mark.realdata
@needs_realdata
def test_real_nih_box_file():
    boxes = nih.read_boxes(REALDATA / "BBox_List_2017.csv.gz")
    assert len(boxes) == 984 and boxes["image"].nunique() == 880  # README: 984 boxes on 880 images
    assert "Infiltrate" not in set(boxes["finding"]) and (boxes["finding"] == "Infiltration").sum() == 123
    first = boxes.iloc[0]
    assert first["image"] == "00013118_008.png" and first["finding"] == "Atelectasis"
    assert first["x2"] == pytest.approx(225.084745762712 + 86.7796610169491)


@pytest.mark.realdata
@needs_realdata
def test_real_nih_images_load_through_the_loader(tmp_path):
    folder = tmp_path / "nih"
    (folder / "images").mkdir(parents=True)
    (folder / "Data_Entry_2017_v2020.csv.gz").symlink_to(REALDATA / "Data_Entry_2017_v2020.csv.gz")
    for name in ("00000001_000.png", "00027426_000.png"):
        (folder / "images" / name).symlink_to(REALDATA / name)
    data = nih.load_nih(folder, image_size=128, progress=False)
    assert labels.decode(data.labels) == [["Cardiomegaly"], ["No Finding"]]
    assert data.patient_ids.tolist() == ["00000001", "00027426"]
    assert 0.2 < float(data.images.mean()) < 0.8 and data.images.std() > 0.1
