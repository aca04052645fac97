"""Tests of `lecture_lib.datasets.samples`: the two real NIH ChestX-ray14 radiographs shipped inside the package.

Expected values come from outside the loader: the shipped PNG read and resized with Pillow alone, the CSV parsed with
the `csv` module, and numbers written down by hand from NIH's label file (00000001_000.png: Cardiomegaly, patient 1,
57 M PA, original 2682 x 2749 pixels of 0.143 mm; 00027426_000.png: No Finding, patient 27426, 53 M PA,
2992 x 2991 pixels).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lecture_lib import datasets, labels
from lecture_lib.datasets import samples

REPO = Path(__file__).resolve().parent.parent
REALDATA = REPO.parent / "shared" / "realdata"
NAMES = ["00000001_000.png", "00027426_000.png"]
needs_realdata = pytest.mark.skipif(
    not (REALDATA / "Data_Entry_2017_v2020.csv.gz").is_file(), reason=f"real reference files absent ({REALDATA})"
)


@pytest.fixture(scope="module")
def at_256():
    return samples.load_samples(256)


def csv_rows() -> list[dict[str, str]]:
    with open(samples.SAMPLES_DIR / samples.LABEL_FILE, newline="") as file:
        reader = csv.reader(file)
        next(reader)  # NIH's header splits "OriginalImage[Width,Height]" in two: use positions, not names
        return [
            {"image": row[0], "findings": row[1], "patient": row[3], "age": row[4], "sex": row[5], "view": row[6]}
            for row in reader
        ]


def pillow_resize(name: str, size: int) -> np.ndarray:
    """The shipped file read by Pillow and box-averaged to `size` (what area resampling means), in [0, 1]."""
    with Image.open(samples.SAMPLES_DIR / name) as image:
        grey = np.asarray(image.convert("F").resize((size, size), Image.Resampling.BOX), dtype=np.float32)
    return grey / 255.0


def test_shipped_files_are_8_bit_512_pixel_pngs_named_as_in_the_csv():
    files = sorted(path.name for path in samples.SAMPLES_DIR.iterdir())
    assert files == [*NAMES, "README.md", "samples.csv"]
    assert [row["image"] for row in csv_rows()] == NAMES
    for name in NAMES:
        with Image.open(samples.SAMPLES_DIR / name) as image:
            assert (image.format, image.mode, image.size) == ("PNG", "L", (512, 512))


def test_shapes_fields_and_metadata(at_256):
    assert isinstance(at_256, datasets.CXRSet)
    assert at_256.source == "nih-samples"
    assert at_256.images.shape == (2, 256, 256, 1) and at_256.images.dtype == np.float32
    assert 0.0 <= at_256.images.min() and at_256.images.max() <= 1.0
    assert at_256.labels.shape == (2, 15) and at_256.labels.dtype == np.float32
    assert list(at_256.patient_ids) == ["00000001", "00027426"]
    assert list(at_256.views) == ["PA", "PA"]
    np.testing.assert_array_equal(at_256.targets["age_years"], [57.0, 53.0])
    assert list(at_256.targets["sex"]) == ["M", "M"]
    assert at_256.masks is None and at_256.boxes is None and at_256.landmarks is None


@pytest.mark.parametrize("size", [512, 256, 128, 100, 37])
def test_images_equal_an_independent_pillow_read_and_resize(size):
    real = samples.load_samples(size)
    assert real.images.shape == (2, size, size, 1)
    for row, name in enumerate(NAMES):
        np.testing.assert_allclose(real.images[row, ..., 0], pillow_resize(name, size), atol=1e-5)


def test_at_256_each_pixel_is_the_mean_of_a_2x2_block_of_the_file(at_256):
    with Image.open(samples.SAMPLES_DIR / NAMES[1]) as image:
        pixels = np.asarray(image, dtype=np.float64) / 255.0
    blocks = pixels.reshape(256, 2, 256, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(at_256.images[1, ..., 0], blocks, atol=1e-6)


def test_display_convention_lungs_darker_than_the_spine(at_256):
    # The upper lung fields (rows 60-110 of 256, columns 60-100 and 156-196) are air, the upper mediastinum over the
    # spine (columns 120-136) is bone and soft tissue: bright, as in the phantom.
    for image in at_256.images[..., 0]:
        lungs = np.concatenate([image[60:110, 60:100].ravel(), image[60:110, 156:196].ravel()])
        assert lungs.mean() + 0.1 < image[60:110, 120:136].mean()


def test_labels_equal_the_csv_rows_parsed_independently(at_256):
    expected = np.zeros((2, 15), np.float32)
    for row, entry in enumerate(csv_rows()):
        for title in entry["findings"].split("|"):
            expected[row, labels.PATHOLOGIES.index(title)] = 1.0
    np.testing.assert_array_equal(at_256.labels, expected)
    # and by hand: Cardiomegaly is code 1, No Finding code 10
    assert np.flatnonzero(at_256.labels[0]).tolist() == [1]
    assert np.flatnonzero(at_256.labels[1]).tolist() == [10]
    assert [entry["view"] for entry in csv_rows()] == list(at_256.views)


@pytest.mark.parametrize(
    ("size", "first_row", "first_column"),
    [
        (256, 0.143 * 2749 / 256, 0.143 * 2682 / 256),  # 1.5356 mm tall, 1.4981 mm wide
        (100, 0.143 * 2749 / 100, 0.143 * 2682 / 100),  # 3.9311, 3.8353
    ],
)
def test_pixel_spacing_is_the_original_spacing_scaled_per_axis(size, first_row, first_column):
    spacing = samples.load_samples(size).pixel_spacing_mm
    assert spacing.shape == (2, 2) and spacing.dtype == np.float32
    np.testing.assert_allclose(spacing[0], [first_row, first_column], rtol=1e-6)
    np.testing.assert_allclose(spacing[1], [0.143 * 2991 / size, 0.143 * 2992 / size], rtol=1e-6)


@pytest.mark.parametrize("bad", [0, 1, -256, 8193, 2.5, 256.0, True, "256", None])
def test_bad_image_size_raises_naming_the_value(bad):
    with pytest.raises(ValueError, match="image_size must be an integer between 2 and 8192") as error:
        samples.load_samples(bad)
    assert repr(bad) in str(error.value)


def test_numpy_integer_size_is_accepted():
    assert samples.load_samples(np.int64(64)).images.shape == (2, 64, 64, 1)


def test_exported_from_datasets():
    assert datasets.load_samples is samples.load_samples


def test_every_shipped_file_is_package_data():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["lecture_lib"]
    for path in samples.SAMPLES_DIR.iterdir():
        relative = path.relative_to(REPO / "lecture_lib").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


@needs_realdata
@pytest.mark.realdata
def test_shipped_files_are_the_nih_reference_files():
    for name in NAMES:
        assert (samples.SAMPLES_DIR / name).read_bytes() == (REALDATA / name).read_bytes()
    with gzip.open(REALDATA / "Data_Entry_2017_v2020.csv.gz", "rt", newline="") as file:
        lines = file.read().splitlines()
    wanted = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in NAMES]
    assert (samples.SAMPLES_DIR / samples.LABEL_FILE).read_text().splitlines() == wanted
