"""Tests of the NLM tuberculosis sets: Montgomery (12-bit PNGs, left/right lung masks) and Shenzhen (optional masks).

The fixtures are small files in the real formats and folder names. The clinical readings were written from the
documented format (Montgomery: `Patient's Sex: M` / `Patient's Age: 044Y` / reading; Shenzhen: `male 35yrs` /
reading), not copied from the real files. Every expected value below is computed by hand in the comments.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from loader_fixtures import another_seed, faulty_server, seeded_sample
from PIL import Image

from lecture_lib import labels
from lecture_lib.datasets import catalog, download, montgomery, registry, shenzhen

C = labels.code_of
REAL_MONTGOMERY = Path(__file__).parents[2] / "shared" / "realdata" / "montgomery"

# ------------------------------------------------------------------------------------------------------ fixtures

# Masks drawn by hand as (first row, last row, first column, last column), inclusive. A portrait image is 20 wide and
# 24 high (like 4020 x 4892), a landscape one 24 x 20. The patient's right lung is on the image's left (PA view).
PORTRAIT_RIGHT, PORTRAIT_LEFT = (4, 15, 1, 8), (6, 17, 11, 18)
LANDSCAPE_RIGHT, LANDSCAPE_LEFT = (5, 14, 0, 11), (5, 14, 12, 23)
MONTGOMERY_READINGS = {
    "MCUCXR_0001_0": "Patient's Sex: M\nPatient's Age: 044Y\nnormal\n",
    "MCUCXR_0002_1": "Patient's Sex: F\nPatient's Age: 039Y\nright upper lobe cavity and infiltrate, TB\n",
    "MCUCXR_0004_0": "Patient's Sex: F\nPatient's Age: 018M\nnormal\n",
}  # MCUCXR_0005_1 has no reading file: readings are optional


def box_mask(height, width, box, value=255):
    top, bottom, left, right = box
    mask = np.zeros((height, width), np.uint8)
    mask[top : bottom + 1, left : right + 1] = value
    return mask


def save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def make_montgomery(folder: Path) -> Path:
    """NLM's layout under folder/MontgomerySet/: four images (16-bit and 8-bit), readings, leftMask / rightMask."""
    root = folder / "MontgomerySet"
    ramp = np.tile((100 * np.arange(20)).astype(np.uint16), (24, 1))  # 12-bit values 0..1900 along the columns
    images = {
        "MCUCXR_0001_0": (ramp, "portrait"),
        "MCUCXR_0002_1": (np.full((20, 24), 2048, np.uint16), "landscape"),
        "MCUCXR_0004_0": (np.full((24, 20), 51, np.uint8), "portrait"),  # an 8-bit file
        "MCUCXR_0005_1": (np.full((24, 20), 4095, np.uint16), "portrait"),
    }
    for name, (pixels, shape) in images.items():
        save(root / "CXR_png" / f"{name}.png", pixels)
        height, width = pixels.shape
        right, left = (PORTRAIT_RIGHT, PORTRAIT_LEFT) if shape == "portrait" else (LANDSCAPE_RIGHT, LANDSCAPE_LEFT)
        value = 1 if name == "MCUCXR_0005_1" else 255  # NLM's masks are 0/255 or 0/1
        save(root / "ManualMask" / "rightMask" / f"{name}.png", box_mask(height, width, right, value))
        save(root / "ManualMask" / "leftMask" / f"{name}.png", box_mask(height, width, left, value))
    (root / "ClinicalReadings").mkdir()
    for name, text in MONTGOMERY_READINGS.items():
        (root / "ClinicalReadings" / f"{name}.txt").write_text(text)
    return folder


def make_simple(folder: Path, mask_suffix: str = "") -> Path:
    """The simple layout: 8-bit 12 x 12 images (value 40 * (i + 1)) and union masks (0/255) of the same names."""
    for index, name in enumerate(["MCUCXR_0001_0", "MCUCXR_0003_1", "MCUCXR_0007_0"]):
        save(folder / "images" / f"{name}.png", np.full((12, 12), 40 * (index + 1), np.uint8))
        lungs = box_mask(12, 12, (3, 8, 0, 4)) | box_mask(12, 12, (3, 8, 8, 11))
        save(folder / "masks" / f"{name}{mask_suffix}.png", lungs)
    return folder


SHENZHEN_READINGS = {
    "CHNCXR_0001_0": "male 35yrs\nnormal\n",
    "CHNCXR_0002_1": "female 50yrs\nPTB in the left upper field\n",
    "CHNCXR_0003_0": "Male 27yrs\n\nnormal\n",
}


def make_shenzhen(folder: Path, masks: str | None = "mask") -> Path:
    """ChinaSet_AllFiles/ with three 8-bit 16 x 16 images and readings; lung masks for two of them in `masks`."""
    root = folder / "ChinaSet_AllFiles"
    ramp = np.tile((10 * np.arange(16)).astype(np.uint8), (16, 1))
    for index, (name, text) in enumerate(SHENZHEN_READINGS.items()):
        save(root / "CXR_png" / f"{name}.png", ramp if index == 0 else np.full((16, 16), 60 * index, np.uint8))
        (root / "ClinicalReadings").mkdir(exist_ok=True)
        (root / "ClinicalReadings" / f"{name}.txt").write_text(text)
    if masks is not None:
        lungs = box_mask(16, 16, (4, 11, 2, 5)) | box_mask(16, 16, (4, 11, 10, 13))
        for name in ("CHNCXR_0001_0", "CHNCXR_0002_1"):
            save(folder / masks / f"{name}_mask.png", lungs)
    return folder


# --------------------------------------------------------------------------------------------- readers / helpers


def test_read_cxr_png_scales_12_bit_16_bit_and_8_bit(tmp_path):
    save(tmp_path / "twelve.png", np.array([[0, 4095, 1000]], np.uint16))
    save(tmp_path / "sixteen.png", np.array([[0, 65535, 4096]], np.uint16))  # above 4095: a full 16-bit image
    save(tmp_path / "eight.png", np.array([[0, 255, 51]], np.uint8))
    np.testing.assert_allclose(montgomery.read_cxr_png(tmp_path / "twelve.png"), [[0, 1, 1000 / 4095]], atol=1e-6)
    np.testing.assert_allclose(montgomery.read_cxr_png(tmp_path / "sixteen.png"), [[0, 1, 4096 / 65535]], atol=1e-6)
    np.testing.assert_allclose(montgomery.read_cxr_png(tmp_path / "eight.png"), [[0, 1, 0.2]], atol=1e-6)


def test_names_ages_and_readings(tmp_path):
    assert montgomery.parse_name("MCUCXR_0042_1") == ("MCUCXR_0042", 1.0)
    assert montgomery.parse_name("CHNCXR_0662_0") == ("CHNCXR_0662", 0.0)
    patient, flag = montgomery.parse_name("scan_7")
    assert patient == "scan_7" and np.isnan(flag)
    assert montgomery.parse_age("044Y") == 44.0 and montgomery.parse_age("018M") == 1.5
    assert montgomery.parse_age("35yrs") == 35.0 and np.isnan(montgomery.parse_age("unknown"))
    (tmp_path / "m.txt").write_text(MONTGOMERY_READINGS["MCUCXR_0002_1"])
    assert montgomery.read_montgomery_reading(tmp_path / "m.txt") == {
        "sex": "F", "age_years": 39.0, "reading": "right upper lobe cavity and infiltrate, TB"}  # fmt: skip
    (tmp_path / "s.txt").write_text(SHENZHEN_READINGS["CHNCXR_0002_1"])
    assert shenzhen.read_shenzhen_reading(tmp_path / "s.txt") == {
        "sex": "F", "age_years": 50.0, "reading": "PTB in the left upper field"}  # fmt: skip
    (tmp_path / "one_line.txt").write_text("male35yrs normal")
    assert shenzhen.read_shenzhen_reading(tmp_path / "one_line.txt") == {"sex": "M", "age_years": 35.0,
                                                                          "reading": "normal"}  # fmt: skip


def test_tb_labels_normal_is_no_finding_and_tb_leaves_findings_unknown():
    rows = montgomery.tb_labels(np.array([0.0, 1.0, np.nan]))
    assert rows.shape == (3, 15) and rows.dtype == np.float32
    assert rows[0, C("No Finding")] == 1 and np.nansum(rows[0]) == 1 and not np.isnan(rows[0]).any()
    assert rows[1, C("No Finding")] == 0 and np.isnan(np.delete(rows[1], C("No Finding"))).all()
    assert np.isnan(rows[2]).all()


def test_check_sides_accepts_pa_sides_and_catches_a_swap():
    right = np.zeros((2, 4, 6), np.float32)
    left = np.zeros((2, 4, 6), np.float32)
    right[:, 1:3, 0:2] = 1  # mean column 1.0 (pixel centres 0.5 and 1.5)
    left[:, 1:3, 4:6] = 1  # mean column 5.0
    montgomery.check_sides(right, left, ["a", "b"])
    swapped_right, swapped_left = np.stack([right[0], left[1]]), np.stack([left[0], right[1]])  # image b swapped
    with pytest.raises(ValueError, match=r"1 of 2 mask pairs .*b: right_lung at column 5\.0, left_lung at 1\.0"):
        montgomery.check_sides(swapped_right, swapped_left, ["a", "b"])
    with pytest.warns(UserWarning, match=r"empty lung mask.*\['b'\]"):
        montgomery.check_sides(right, np.stack([left[0], np.zeros((4, 6))]), ["a", "b"])


# ---------------------------------------------------------------------------------------------------- Montgomery


def test_load_montgomery_images_labels_readings_and_spacing(tmp_path):
    data = montgomery.load_montgomery(make_montgomery(tmp_path), image_size=4, progress=False)
    assert data.source == "montgomery" and data.images.shape == (4, 4, 4, 1) and data.images.dtype == np.float32
    assert data.patient_ids.tolist() == ["MCUCXR_0001", "MCUCXR_0002", "MCUCXR_0004", "MCUCXR_0005"]
    assert data.views.tolist() == ["PA"] * 4
    # 0001: column c holds 100 c; output column j averages columns 5j..5j+4, i.e. 100 (5j + 2), over 4095
    np.testing.assert_allclose(data.images[0, :, :, 0], np.tile([200, 700, 1200, 1700], (4, 1)) / 4095, atol=1e-5)
    np.testing.assert_allclose(data.images[1], 2048 / 4095, atol=1e-5)  # 16-bit constant
    np.testing.assert_allclose(data.images[2], 51 / 255, atol=1e-5)  # 8-bit constant
    np.testing.assert_allclose(data.images[3], 1.0, atol=1e-5)  # 4095 is white
    np.testing.assert_array_equal(data.targets["tuberculosis"], [0, 1, 0, 1])
    assert data.labels[:, C("No Finding")].tolist() == [1, 0, 1, 0]
    assert np.nansum(data.labels[0]) == 1 and not np.isnan(data.labels[0]).any()
    assert np.isnan(data.labels[1, C("Infiltration")])  # a TB reading is not mapped to the 14 findings
    np.testing.assert_array_equal(data.targets["age_years"], [44, 39, 1.5, np.nan])
    assert data.targets["sex"].tolist() == ["M", "F", "F", ""]
    assert data.targets["reading"].tolist()[::2] == ["normal", "normal"] and data.targets["reading"][3] == ""
    # 0.0875 mm times (height, width) / 4: portrait 24 x 20 -> (0.525, 0.4375); landscape 20 x 24 -> swapped
    np.testing.assert_allclose(data.pixel_spacing_mm[0], [0.525, 0.4375], rtol=1e-6)
    np.testing.assert_allclose(data.pixel_spacing_mm[1], [0.4375, 0.525], rtol=1e-6)


def test_montgomery_masks_are_the_patients_sides_and_their_union(tmp_path):
    folder = make_montgomery(tmp_path)
    data = montgomery.load_montgomery(folder, image_size=4, progress=False)
    assert data.mask_names == ("right_lung", "left_lung") and data.masks.dtype == np.uint8
    # Portrait right lung rows 4-15, columns 1-8; blocks are 6 rows x 5 columns. Output row 0 holds 2/6 of it
    # (x 4/5 of the columns = 0.27 < 0.5: out), rows 1 and 2 hold 6/6 and 4/6 (x 4/5 = 0.8 and 0.53: in);
    # columns 0 and 1 hold 4/5 each. So the patient's right lung is rows 1-2, columns 0-1: the image's left.
    right = np.zeros((4, 4), np.uint8)
    right[1:3, 0:2] = 1
    left = np.zeros((4, 4), np.uint8)
    left[1:3, 2:4] = 1  # rows 6-17 -> rows 1-2 fully; columns 11-18 -> 4/5 of columns 2 and 3
    for index in range(4):  # the landscape image (index 1) lands on the same cells; 0/1 masks (index 3) too
        np.testing.assert_array_equal(data.masks[index, :, :, 0], right, err_msg=data.patient_ids[index])
        np.testing.assert_array_equal(data.masks[index, :, :, 1], left, err_msg=data.patient_ids[index])
    union = montgomery.load_montgomery(folder, image_size=4, mask_names=("lungs", "right_lung"), progress=False)
    assert union.mask_names == ("lungs", "right_lung")
    np.testing.assert_array_equal(union.masks[0, :, :, 0], right | left)
    again = montgomery.load_montgomery(folder, image_size=4, progress=False)  # from the cache this time
    np.testing.assert_array_equal(again.masks, data.masks)
    assert montgomery.load_montgomery(folder, image_size=4, mask_names=(), progress=False).masks is None


def test_montgomery_side_check_catches_a_swapped_mask(tmp_path):
    folder = make_montgomery(tmp_path)
    masks = folder / "MontgomerySet" / "ManualMask"
    right, left = (masks / side / "MCUCXR_0004_0.png" for side in ("rightMask", "leftMask"))
    right_bytes = right.read_bytes()
    right.write_bytes(left.read_bytes())
    left.write_bytes(right_bytes)
    with pytest.raises(ValueError, match=r"1 of 4 mask pairs.*MCUCXR_0004_0.*MASK_FOLDERS.*mask_names=\('lungs',\)"):
        montgomery.load_montgomery(folder, image_size=4, progress=False)
    lungs = montgomery.load_montgomery(folder, image_size=4, mask_names="lungs", progress=False)
    assert lungs.mask_names == ("lungs",) and lungs.masks[2, 1:3].all()  # the union needs no side


def test_montgomery_mask_of_another_size_is_refused(tmp_path):
    folder = make_montgomery(tmp_path)
    save(folder / "MontgomerySet" / "ManualMask" / "leftMask" / "MCUCXR_0001_0.png", np.zeros((12, 10), np.uint8))
    with pytest.raises(ValueError, match="MCUCXR_0001_0.png is 10x12 pixels but its image is 20x24"):
        montgomery.load_montgomery(folder, image_size=4, progress=False)


def test_montgomery_num_images_split_and_seed(tmp_path):
    folder = make_montgomery(tmp_path)
    names = ["MCUCXR_0001", "MCUCXR_0002", "MCUCXR_0004", "MCUCXR_0005"]
    first = montgomery.load_montgomery(folder, image_size=4, num_images=2, progress=False)
    assert first.patient_ids.tolist() == seeded_sample(names, 2, 0)  # the default seed=0 draws the sample too
    other = another_seed(names, 2, 0)
    drawn = montgomery.load_montgomery(folder, image_size=4, num_images=2, seed=other, progress=False)
    assert drawn.patient_ids.tolist() == seeded_sample(names, 2, other)
    # each image (four different fills) keeps its masks and labels
    every = montgomery.load_montgomery(folder, image_size=4, progress=False)
    rows = [names.index(name) for name in drawn.patient_ids]
    np.testing.assert_allclose(drawn.images, every.images[rows], atol=1 / 65535)
    np.testing.assert_array_equal(drawn.masks, every.masks[rows])
    np.testing.assert_array_equal(drawn.targets["tuberculosis"], every.targets["tuberculosis"][rows])
    whole = montgomery.load_montgomery(folder, image_size=4, progress=False)
    parts = [montgomery.load_montgomery(folder, image_size=4, split=name, seed=5, progress=False)
             for name in ("train", "val", "test")]  # fmt: skip
    ids = [part.patient_ids.tolist() for part in parts]
    assert sorted(sum(ids, [])) == whole.patient_ids.tolist() and all(ids)  # disjoint, covering, none empty
    assert ids == [part.patient_ids.tolist() for part in whole.split((0.7, 0.15, 0.15), seed=5)]
    again = montgomery.load_montgomery(folder, image_size=4, split="train", seed=5, progress=False)
    assert again.patient_ids.tolist() == ids[0]
    np.testing.assert_array_equal(again.masks, parts[0].masks)
    via_catalog = catalog.load("montgomery", data_dir=folder, image_size=4, num_images=1, seed=5, split="train",
                               progress=False)  # fmt: skip
    assert via_catalog.patient_ids.tolist() == seeded_sample(ids[0], 1, 5)  # the split's patients, then the sample


def test_montgomery_arguments_are_checked(tmp_path):
    folder = make_montgomery(tmp_path)
    for options, error, message in [
        ({"image_size": 1}, ValueError, r"image_size must be an integer in \[2, 8192\], got 1"),
        ({"num_images": 0}, ValueError, "num_images must be None or a positive integer, got 0"),
        ({"split": "validation"}, ValueError, "split must be one of .*'val'.*, got 'validation'"),
        ({"seed": 1.5}, TypeError, "seed must be a non-negative integer, got float 1.5; it seeds the patient split"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer, got -1; it seeds the patient split"),
        ({"seed": None}, TypeError, "seed must be a non-negative integer, got NoneType None"),
        ({"mask_names": ("heart",)}, ValueError, r"mask_names must be None .*'lungs'.*, got \('heart',\)"),
        ({"mask_names": 3}, ValueError, "mask_names must be None .*, got 3"),
    ]:
        with pytest.raises(error, match=message):
            montgomery.load_montgomery(folder, progress=False, **options)


def test_montgomery_missing_folder_says_what_to_download_and_where(tmp_path):
    with pytest.raises(download.DatasetNotFoundError) as caught:
        montgomery.load_montgomery(tmp_path / "nothing", progress=False)
    message = str(caught.value)
    assert "no Montgomery images" in message and "download=True" in message
    assert "NLM-MontgomeryCXRSet.zip" in message and "data.lhncbc.nlm.nih.gov" in message
    assert f"Expected layout under {tmp_path / 'nothing'}" in message and "ManualMask/leftMask/" in message
    folder = make_montgomery(tmp_path / "no_masks")
    (folder / "MontgomerySet" / "ManualMask" / "leftMask" / "MCUCXR_0002_1.png").unlink()
    with pytest.raises(download.DatasetNotFoundError, match="1 Montgomery mask.*MCUCXR_0002_1.png"):
        montgomery.load_montgomery(folder, image_size=4, progress=False)


def test_montgomery_downloads_and_unpacks_the_archive(tmp_path, monkeypatch):
    source = make_montgomery(tmp_path / "source")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source).as_posix())
    with faulty_server() as server:
        server.routes["/" + montgomery.ARCHIVE] = (buffer.getvalue(), None)
        remote = registry.RemoteFile(montgomery.ARCHIVE, server.url("/" + montgomery.ARCHIVE), extract=".")
        monkeypatch.setattr(montgomery, "MONTGOMERY", registry.DatasetInfo(
            **{**registry.MONTGOMERY.__dict__, "files": (remote,)}))  # fmt: skip
        data = montgomery.load_montgomery(tmp_path / "data", image_size=4, download=True, progress=False)
    assert (tmp_path / "data" / "MontgomerySet" / "CXR_png" / "MCUCXR_0001_0.png").is_file()
    assert len(data) == 4 and data.mask_names == ("right_lung", "left_lung")


def test_simple_layout_gives_only_the_union(tmp_path):
    folder = make_simple(tmp_path / "simple")
    data = montgomery.load_mask_folder(folder, image_size=4)
    # 3 x 3 blocks: rows 3-8 -> rows 1-2; columns 0-4 -> column 0 (3/3) and 1 (2/3: in); columns 8-11 -> column 2
    # (1/3: out) and 3 (3/3)
    expected = np.zeros((4, 4), np.uint8)
    expected[1:3, [0, 1, 3]] = 1
    assert data.mask_names == ("lungs",) and data.masks.shape == (3, 4, 4, 1)
    np.testing.assert_array_equal(data.masks[0, :, :, 0], expected)
    np.testing.assert_allclose(data.images[:, 0, 0, 0], np.array([40, 80, 120]) / 255, atol=1e-6)
    assert data.targets["tuberculosis"].tolist() == [0, 1, 0] and data.source == "montgomery"
    assert np.isnan(data.pixel_spacing_mm).all() and np.isnan(data.targets["age_years"]).all()
    through_loader = montgomery.load_montgomery(folder, image_size=4, split="all", progress=False)
    np.testing.assert_array_equal(through_loader.masks, data.masks)
    with pytest.raises(ValueError, match=r"asks for \['right_lung'\].*both lungs in one image.*\('lungs',\)"):
        montgomery.load_montgomery(folder, image_size=4, mask_names=("right_lung", "lungs"), progress=False)
    for seed in (0, 1, 2):  # num_images draws its sample with seed in this layout too
        drawn = montgomery.load_montgomery(folder, image_size=4, num_images=2, seed=seed, progress=False)
        expected = seeded_sample(["MCUCXR_0001", "MCUCXR_0003", "MCUCXR_0007"], 2, seed)
        assert drawn.patient_ids.tolist() == expected
        grey = {"MCUCXR_0001": 40, "MCUCXR_0003": 80, "MCUCXR_0007": 120}
        np.testing.assert_allclose(drawn.images[:, 0, 0, 0], [grey[name] / 255 for name in expected], atol=1e-6)
    suffixed = montgomery.load_mask_folder(make_simple(tmp_path / "suffixed", mask_suffix="_mask"), image_size=4)
    np.testing.assert_array_equal(suffixed.masks, data.masks)
    (folder / "masks" / "MCUCXR_0003_1.png").unlink()
    with pytest.raises(download.DatasetNotFoundError, match=r"1 image\(s\) have no mask.*MCUCXR_0003_1"):
        montgomery.load_mask_folder(folder)


@pytest.mark.realdata
def test_real_montgomery_folder():
    if not REAL_MONTGOMERY.is_dir():
        pytest.skip(f"{REAL_MONTGOMERY} is absent")
    names = sorted(path.stem for path in (REAL_MONTGOMERY / "images").glob("*.png"))
    data = montgomery.load_mask_folder(REAL_MONTGOMERY, image_size=64)
    # NLM's description of the set: 138 images, 80 normal (name ends in _0) and 58 with TB (_1)
    assert len(data) == 138 and data.images.shape == (138, 64, 64, 1) and data.masks.shape == (138, 64, 64, 1)
    assert sum(name.endswith("_0") for name in names) == 80 and sum(name.endswith("_1") for name in names) == 58
    assert data.targets["tuberculosis"].sum() == 58 and data.labels[:, C("No Finding")].sum() == 80
    assert data.patient_ids.tolist() == [name[:-2] for name in names]
    lungs = data.masks[..., 0]
    assert lungs.sum(axis=(1, 2)).min() > 0
    # both lungs: every union mask has lung in the image's left half and in its right half
    assert (lungs[:, :, :32].sum(axis=(1, 2)) > 0).all() and (lungs[:, :, 32:].sum(axis=(1, 2)) > 0).all()
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0 and data.images.std() > 0.1
    with pytest.raises(ValueError, match="simple layout"):
        montgomery.load_montgomery(REAL_MONTGOMERY, image_size=32, mask_names=("right_lung", "left_lung"))


# ------------------------------------------------------------------------------------------------------ Shenzhen


def test_load_shenzhen_with_masks_keeps_the_masked_images(tmp_path):
    folder = make_shenzhen(tmp_path)
    with pytest.warns(UserWarning, match="1 of 3 Shenzhen images have no lung mask"):
        data = shenzhen.load_shenzhen(folder, image_size=8, progress=False)
    assert data.source == "shenzhen" and data.patient_ids.tolist() == ["CHNCXR_0001", "CHNCXR_0002"]
    assert data.mask_names == ("lungs",) and data.masks.shape == (2, 8, 8, 1)
    lungs = np.zeros((8, 8), np.uint8)
    lungs[2:6, 1:3] = lungs[2:6, 5:7] = 1  # rows 4-11, columns 2-5 and 10-13, halved
    np.testing.assert_array_equal(data.masks[0, :, :, 0], lungs)
    # 8-bit ramp 10 c: output column j averages 20 j and 20 j + 10
    np.testing.assert_allclose(data.images[0, 3, :, 0], (20 * np.arange(8) + 5) / 255, atol=1e-5)
    np.testing.assert_allclose(data.images[1], 60 / 255, atol=1e-5)
    assert data.targets["tuberculosis"].tolist() == [0, 1] and data.labels[:, C("No Finding")].tolist() == [1, 0]
    assert data.targets["sex"].tolist() == ["M", "F"] and data.targets["age_years"].tolist() == [35, 50]
    assert data.targets["reading"].tolist() == ["normal", "PTB in the left upper field"]
    assert np.isnan(data.pixel_spacing_mm).all() and data.views.tolist() == ["PA", "PA"]


def test_shenzhen_without_masks(tmp_path):
    folder = make_shenzhen(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        every = shenzhen.load_shenzhen(folder, image_size=8, with_masks=False, progress=False)
        plain = shenzhen.load_shenzhen(make_shenzhen(tmp_path / "plain", masks=None), image_size=8, progress=False)
    assert len(every) == 3 and every.masks is None and every.mask_names == ()
    assert plain.masks is None and plain.targets["sex"].tolist() == ["M", "F", "M"]
    with pytest.raises(download.DatasetNotFoundError, match="(?s)with_masks=True.*yoctoman/shcxr-lung-mask.*mask"):
        shenzhen.load_shenzhen(tmp_path / "plain", image_size=8, with_masks=True, progress=False)
    with pytest.raises(ValueError, match="with_masks must be None .*, got 'yes'"):
        shenzhen.load_shenzhen(folder, with_masks="yes")


def test_shenzhen_finds_the_kaggle_mask_folder_and_masks_dir(tmp_path):
    nested = make_shenzhen(tmp_path / "kaggle", masks="shcxr-lung-mask/mask/mask")
    data = shenzhen.load_shenzhen(nested, image_size=8, with_masks=True, progress=False)
    assert len(data) == 2 and data.masks[0].sum() == 16
    elsewhere = make_shenzhen(tmp_path / "elsewhere", masks="lung_masks")
    data = shenzhen.load_shenzhen(elsewhere, image_size=8, with_masks=True, masks_dir="lung_masks", progress=False)
    assert data.patient_ids.tolist() == ["CHNCXR_0001", "CHNCXR_0002"]
    with pytest.raises(download.DatasetNotFoundError, match="masks_dir .*nowhere is not a folder"):
        shenzhen.load_shenzhen(elsewhere, masks_dir="nowhere", progress=False)


def test_shenzhen_num_images_draws_its_sample_with_seed_among_the_masked_images(tmp_path):
    folder = make_shenzhen(tmp_path)
    every = ["CHNCXR_0001", "CHNCXR_0002", "CHNCXR_0003"]
    for seed in (0, another_seed(every, 2, 0)):
        plain = shenzhen.load_shenzhen(folder, image_size=8, num_images=2, seed=seed, with_masks=False, progress=False)
        assert plain.patient_ids.tolist() == seeded_sample(every, 2, seed)
    with pytest.warns(UserWarning, match="1 of 3 Shenzhen images have no lung mask"):
        masked = shenzhen.load_shenzhen(folder, image_size=8, num_images=1, seed=4, progress=False)
    assert masked.patient_ids.tolist() == seeded_sample(["CHNCXR_0001", "CHNCXR_0002"], 1, 4)  # 0003 has no mask
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        shenzhen.load_shenzhen(folder, seed=-1)


def test_shenzhen_split_is_made_before_masks_are_applied(tmp_path):
    folder = make_shenzhen(tmp_path)
    whole = shenzhen.load_shenzhen(folder, image_size=8, with_masks=False, progress=False)
    parts = whole.split((0.7, 0.15, 0.15), seed=2)
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        loaded = shenzhen.load_shenzhen(folder, image_size=8, split=name, seed=2, with_masks=False, progress=False)
        assert loaded.patient_ids.tolist() == part.patient_ids.tolist()
    for name, part in zip(("train", "val", "test"), parts, strict=True):  # one patient each; 0003 has no mask
        if part.patient_ids.tolist() == ["CHNCXR_0003"]:
            with pytest.raises(download.DatasetNotFoundError, match="none of the 1 Shenzhen images has a mask"):
                shenzhen.load_shenzhen(folder, image_size=8, split=name, seed=2, progress=False)
        else:
            masked = shenzhen.load_shenzhen(folder, image_size=8, split=name, seed=2, progress=False)
            assert masked.patient_ids.tolist() == part.patient_ids.tolist() and masked.masks is not None


def test_shenzhen_missing_folder_says_what_to_download_and_where(tmp_path):
    with pytest.raises(download.DatasetNotFoundError) as caught:
        shenzhen.load_shenzhen(tmp_path, progress=False)
    message = str(caught.value)
    assert "no Shenzhen images" in message and "download=True" in message and "ChinaSet_AllFiles.zip" in message
    assert f"Expected layout under {tmp_path}" in message and "CXR_png/CHNCXR_0001_0.png" in message


def test_registry_entries_of_the_nlm_sets():
    for name, archive in (("montgomery", "NLM-MontgomeryCXRSet.zip"), ("shenzhen", "ChinaSet_AllFiles.zip")):
        info = registry.get(name)
        assert info.access == "public" and info.register is None and "Jaeger" in info.citation
        item = info.file(archive)
        assert item.md5 is None and item.size_bytes is None and "not verified" in item.note  # none published
    assert registry.SHENZHEN.file("mask/CHNCXR_0001_0_mask.png").url is None  # Kaggle needs an account
    assert "Candemir" in registry.MONTGOMERY.citation and "Stirenko" in registry.SHENZHEN.citation
