"""Tests of the PADChest (list-text labels, 16-bit PNGs) and JSRT + SCR (raw .IMG, GIF masks) loaders."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from loader_fixtures import another_seed, make_jsrt, make_padchest, seeded_sample
from PIL import Image

from lecture_lib import labels
from lecture_lib.datasets import download, jsrt, padchest

C = labels.code_of


def test_padchest_cell_parsers():
    assert padchest.parse_list("['pleural effusion', ' cardiomegaly']") == ["pleural effusion", "cardiomegaly"]
    assert padchest.parse_list("nan") == [] and padchest.parse_list(float("nan")) == []
    assert padchest.parse_cuis("['C0032227' 'C0018800']") == ["C0032227", "C0018800"]
    with pytest.raises(ValueError, match="cannot parse the PADChest list"):
        padchest.parse_list("['unclosed")


def test_load_padchest_labels_projections_and_16_bit(tmp_path):
    folder = make_padchest(tmp_path)
    table = padchest.read_labels(folder / "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv")
    assert table.loc[1, "labelCUIS"] == ["C0032227", "C0018800", "C0264393"]
    assert table.loc[1, "Localizations"] == ["loc left", "loc basal"]
    data = padchest.load_padchest(folder, image_size=16, progress=False)
    assert data.views.tolist() == ["PA", "AP_horizontal", "AP", "PA"]  # lateral 'L' left out by default
    normal, effusion, excluded, nodule = data.labels
    assert normal[C("No Finding")] == 1 and np.nansum(normal) == 1
    assert effusion[[C("Effusion"), C("Cardiomegaly"), C("Pleural_Thickening")]].tolist() == [1, 1, 1]
    assert effusion[C("No Finding")] == 0 and effusion[C("Pneumonia")] == 0
    assert np.isnan(excluded).all()
    assert nodule[C("Nodule")] == 1 and nodule[C("No Finding")] == 0  # scoliosis is not mapped
    # 16-bit ramp 1000..4000 stretched to its own range: columns 0 and 31 of the source -> 0 and 1
    row = data.images[0, 8, :, 0]
    assert row[0] == pytest.approx(1 / 62, abs=1e-3) and row[-1] == pytest.approx(61 / 62, abs=1e-3)
    with_laterals = padchest.load_padchest(folder, image_size=16, views=("L",), progress=False)
    assert with_laterals.patient_ids.tolist() == ["p2"]
    assert padchest.load_padchest(folder, image_size=16, views="ap_horizontal", progress=False).views.tolist() == [
        "AP_horizontal"
    ]
    with pytest.warns(DeprecationWarning, match=r"projections=...\) is now views"):
        assert padchest.load_padchest(folder, image_size=16, projections=("L",), progress=False).views.tolist() == ["L"]
    with pytest.raises(ValueError, match=r"padchest views are \['PA', 'L', 'AP', 'AP_horizontal', .*got \['LAT'\]"):
        padchest.load_padchest(folder, views=["LAT"])
    with pytest.raises(ValueError, match=r"padchest publishes no 'train' split; choose from \['all'\]"):
        padchest.load_padchest(folder, split="train")


def test_padchest_meta_age_at_the_study_sex_and_study(tmp_path):
    folder = make_padchest(tmp_path)
    path = folder / "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[0, ["StudyDate_DICOM", "PatientBirth", "PatientSex_DICOM", "StudyID"]] = ["20140312", "1950", "F", "s7"]
    table.loc[1, ["StudyDate_DICOM", "PatientBirth", "PatientSex_DICOM"]] = ["20090101", "None", "O"]
    table.to_csv(path, index=False)
    data = padchest.load_padchest(folder, image_size=16, progress=False)
    assert data.meta["file"].tolist() == ["0/a.png", "0/b.png", "1/d.png", "1/e.png"]
    assert data.meta["age"].iloc[0] == 2014 - 1950 and data.meta["age"].iloc[1:].isna().all()
    assert data.meta["sex"].tolist() == ["F", "", "", ""] and data.meta["study_id"].iloc[0] == "s7"


def test_padchest_skips_and_lists_unreadable_images_and_keeps_labels_aligned(tmp_path):
    folder = make_padchest(tmp_path)
    (folder / "0" / "b.png").write_bytes((folder / "0" / "b.png").read_bytes()[:60])  # truncated
    (folder / "1" / "c.png").unlink()  # missing, although its folder 1/ is there
    (folder / "1" / "d.png").write_bytes(b"not a png")  # undecodable
    reversed_ramp = np.tile(np.linspace(4000, 1000, 32), (32, 1)).astype(np.uint16)
    Image.fromarray(reversed_ramp).save(folder / "1" / "e.png")  # tells e's image apart from a's
    every_projection = ("PA", "AP", "AP_horizontal", "L")
    with pytest.warns(UserWarning, match=r"(?s)3 of 5 PADChest images could not be read.*0/b\.png.*1/c\.png.*1/d\.png"):
        data = padchest.load_padchest(folder, image_size=16, views=every_projection, progress=False)
    assert sorted(data.unreadable) == ["0/b.png", "1/c.png", "1/d.png"]
    assert "truncated" in data.unreadable["0/b.png"] and data.unreadable["1/c.png"] == "missing"
    assert data.patient_ids.tolist() == ["p1", "p4"] and data.views.tolist() == ["PA", "PA"]
    normal, nodule = data.labels  # 'normal' and ['scoliosis', 'nodule'], by hand
    assert normal[C("No Finding")] == 1 and np.nansum(normal) == 1
    assert nodule[C("Nodule")] == 1 and np.nansum(nodule) == 1
    assert data.images[0, 8, 0, 0] == pytest.approx(1 / 62, abs=1e-3)  # a: rising ramp
    assert data.images[1, 8, 0, 0] == pytest.approx(61 / 62, abs=1e-3)  # e: falling ramp
    with pytest.warns(UserWarning, match="2 of 4 PADChest images"):  # frontal a, b: b unreadable; d: too; then e
        first_two = padchest.load_padchest(folder, image_size=16, num_images=2, progress=False)
    assert first_two.patient_ids.tolist() == ["p1", "p4"] and sorted(first_two.unreadable) == ["0/b.png", "1/d.png"]


def test_keep_rows_moves_the_kept_rows_to_the_front_in_place_like_boolean_indexing():
    rng = np.random.default_rng(0)
    array = rng.random((23, 3, 2))
    keep = rng.random(23) > 0.3
    keep[:2] = False  # the first run moves too
    expected = array[keep]
    kept = padchest._keep_rows(array, keep, chunk=2)  # runs longer than a chunk, overlapping moves
    assert np.shares_memory(kept, array) and np.array_equal(kept, expected)


def test_padchest_with_no_readable_image_says_so(tmp_path):
    folder = make_padchest(tmp_path)
    for path in folder.glob("[01]/*.png"):
        path.write_bytes(b"")
    with pytest.warns(UserWarning), pytest.raises(download.DatasetNotFoundError, match="none of the 4 PADChest"):
        padchest.load_padchest(folder, image_size=16, progress=False)


def test_padchest_rows_of_folders_not_downloaded_are_left_out_without_a_warning(tmp_path):
    folder = make_padchest(tmp_path)
    shutil.rmtree(folder / "1")  # only the zip of ImageDir 0 was downloaded
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = padchest.load_padchest(folder, image_size=16, progress=False)
    assert data.patient_ids.tolist() == ["p1", "p2"] and data.unreadable == {}


def test_padchest_missing(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)bimcv.*ImageDir"):
        padchest.load_padchest(tmp_path, download=True)


def test_read_img_is_big_endian_12_bit_inverted(tmp_path):
    raw = np.zeros((2048, 2048), ">u2")
    raw[0, :3] = (0, 4095, 0x0100)
    (tmp_path / "x.IMG").write_bytes(raw.tobytes())
    assert (tmp_path / "x.IMG").read_bytes()[4:6] == b"\x01\x00"  # big-endian 256
    image = jsrt.read_img(tmp_path / "x.IMG")
    assert image.shape == (2048, 2048) and image[0, :3].tolist() == pytest.approx([1.0, 0.0, 1 - 256 / 4095])
    (tmp_path / "short.IMG").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="holds 100 bytes, expected 8388608"):
        jsrt.read_img(tmp_path / "short.IMG")


def test_read_clinical_tables(tmp_path):
    folder = make_jsrt(tmp_path, landmarks=False)
    cases = jsrt.read_clinical(folder / "CLNDAT_EN.txt", folder / "CNNDAT_EN.TXT")
    assert cases["JPCLN001"] == {"nodule": True, "age": 53.0, "sex": "M", "size_mm": 15.0, "x": 1024.0, "y": 700.0,
                                 "subtlety": 3, "malignant": True}  # fmt: skip
    assert cases["JPCLN002"]["malignant"] is False and np.isnan(cases["JPCLN002"]["age"])  # the table's "?"
    assert cases["JPCLN002"]["sex"] == "F" and cases["JPCNN001"] == {"nodule": False, "age": 46.0, "sex": "M"}


def test_load_jsrt_boxes_masks_landmarks(tmp_path):
    data = jsrt.load_jsrt(make_jsrt(tmp_path), image_size=64, progress=False)
    assert data.patient_ids.tolist() == ["JPCLN001", "JPCLN002", "JPCNN001"]
    # 15 mm nodule at (1024, 700): radius 15 / 2 / 0.175 = 42.857 px in 2048 -> x 64 / 2048
    radius = 15 / 2 / 0.175
    np.testing.assert_allclose(data.boxes[0, 0], np.array([1024 - radius, 700 - radius, 1024 + radius,
                                                           700 + radius]) / 32, rtol=1e-5)  # fmt: skip
    assert data.box_classes[:, 0].tolist() == [C("Nodule"), C("Mass"), -1]  # 40 mm > 30 mm is a mass
    assert data.labels[:, [C("Nodule"), C("Mass")]].tolist() == [[1, 0], [0, 1], [0, 0]]
    assert np.isnan(data.labels[:, C("Effusion")]).all()
    # raw value = 2 * column, inverted: output column c averages source columns 32c..32c+31
    np.testing.assert_allclose(data.images[0, 5, :, 0], 1 - (64 * np.arange(64) + 31) / 4095, atol=1e-4)
    assert data.mask_names == ("right_lung", "heart")
    lung = np.zeros((64, 64), np.uint8)
    lung[16:48, :32] = 1
    np.testing.assert_array_equal(data.masks[0, :, :, 0], lung)
    assert data.masks[0, :, :, 1].sum() == 16 * 16
    assert data.landmark_names == ("right_lung_0", "right_lung_1", "heart_0")
    np.testing.assert_allclose(data.landmarks[2], [[6.25, 12.5], [18.75, 25], [32, 37.5]])
    np.testing.assert_allclose(data.pixel_spacing_mm, 0.175 * 32)
    assert data.meta["file"].tolist() == [f"All247images/{name}.IMG" for name in data.patient_ids]
    assert data.meta["sex"].tolist() == ["M", "F", "M"] and data.meta["age"].tolist()[::2] == [53.0, 46.0]
    assert len(jsrt.load_jsrt(tmp_path, image_size=8, num_images=2, with_masks=False, progress=False)) == 2
    with pytest.raises(ValueError, match="jsrt publishes no 'test' split"):
        jsrt.load_jsrt(tmp_path, split="test")


def test_jsrt_needs_registration(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)db.jsrt.or.jp.*scr/masks/right lung"):
        jsrt.load_jsrt(tmp_path)


# ------------------------------------------------------------------------------------------ num_images and seed

PADCHEST_FRONTAL = ["0/a.png", "0/b.png", "1/d.png", "1/e.png"]
"""The frontal images of `make_padchest` in CSV order (c is a lateral); patients p1, p2, p3, p4."""


def test_padchest_num_images_takes_the_first_images_or_a_seeded_sample(tmp_path):
    folder = make_padchest(tmp_path)
    first = padchest.load_padchest(folder, image_size=16, num_images=2, seed=None, progress=False)
    assert first.meta["file"].tolist() == PADCHEST_FRONTAL[:2]
    for seed in (0, another_seed(PADCHEST_FRONTAL, 2, 0)):
        drawn = padchest.load_padchest(folder, image_size=16, num_images=2, seed=seed, progress=False)
        expected = seeded_sample(PADCHEST_FRONTAL, 2, seed)
        assert drawn.meta["file"].tolist() == expected
        patients = {"0/a.png": "p1", "0/b.png": "p2", "1/d.png": "p3", "1/e.png": "p4"}
        assert drawn.patient_ids.tolist() == [patients[name] for name in expected]
        assert np.isnan(drawn.labels).all(axis=1).tolist() == [name == "1/d.png" for name in expected]  # 'exclude'


def test_padchest_replaces_an_unreadable_sampled_image_by_the_next_draw_and_keeps_csv_order(tmp_path):
    folder = make_padchest(tmp_path)
    (folder / "1" / "d.png").write_bytes(b"not a png")
    bad = PADCHEST_FRONTAL.index("1/d.png")
    # A seed whose first two draws hold d and whose third draw (d's replacement) comes before the other one in the
    # CSV, so that the rows must be put back in order; the expected rows come from NumPy's permutation alone.
    for seed in range(1000):
        order = np.random.default_rng(seed).permutation(len(PADCHEST_FRONTAL)).tolist()
        if bad in order[:2] and order[2] < order[1 - order.index(bad)]:
            break
    else:
        pytest.fail("no seed below 1000 puts d among the first two draws with an earlier replacement")
    expected = [PADCHEST_FRONTAL[position] for position in sorted([order[1 - order.index(bad)], order[2]])]
    with pytest.warns(UserWarning, match="1 of 3 PADChest images could not be read"):
        drawn = padchest.load_padchest(folder, image_size=16, num_images=2, seed=seed, progress=False)
    assert drawn.meta["file"].tolist() == expected and list(drawn.unreadable) == ["1/d.png"]
    assert drawn.labels[:, C("No Finding")].tolist() == [1.0 if name == "0/a.png" else 0.0 for name in expected]


def test_jsrt_num_images_takes_the_first_cases_or_a_seeded_sample(tmp_path):
    folder = make_jsrt(tmp_path, landmarks=False)
    cases = ["JPCLN001", "JPCLN002", "JPCNN001"]
    codes = {"JPCLN001": C("Nodule"), "JPCLN002": C("Mass"), "JPCNN001": -1}  # 15 mm, 40 mm, no nodule
    first = jsrt.load_jsrt(folder, image_size=8, num_images=2, seed=None, with_masks=False, progress=False)
    assert first.patient_ids.tolist() == cases[:2]
    for seed in (0, another_seed(cases, 2, 0)):
        drawn = jsrt.load_jsrt(folder, image_size=8, num_images=2, seed=seed, progress=False)
        expected = seeded_sample(cases, 2, seed)
        assert drawn.patient_ids.tolist() == expected and drawn.masks.shape == (2, 8, 8, 2)
        assert drawn.box_classes[:, 0].tolist() == [codes[name] for name in expected]
