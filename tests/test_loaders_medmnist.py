"""Tests of the MedMNIST loaders: npz keys, CheXNet label order mapped to the slide's codes, Zenodo-style download."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from loader_fixtures import another_seed, faulty_server, seeded_sample

from lecture_lib import labels
from lecture_lib.datasets import download, medmnist, registry

C = labels.code_of


def npz_bytes(num=4, size=28, columns=14, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, (num, size, size), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 2, (num, columns), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue(), arrays


def test_chestmnist_columns_map_to_slide_codes():
    row = np.zeros((1, 14), np.uint8)
    row[0, 2] = row[0, 12] = row[0, 13] = 1  # effusion, pleural thickening, hernia in CheXNet order
    mapped = medmnist.chestmnist_labels(row)[0]
    assert labels.decode(mapped) == ["Effusion", "Hernia", "Pleural_Thickening"]
    assert medmnist.chestmnist_labels(np.zeros((1, 14)))[0, labels.NO_FINDING] == 1
    with pytest.raises(ValueError, match="shape \\(N, 14\\), got \\(2, 3\\)"):
        medmnist.chestmnist_labels(np.zeros((2, 3)))


def test_pneumoniamnist_labels():
    mapped = medmnist.pneumoniamnist_labels(np.array([[0], [1]]))
    assert labels.decode(mapped[0]) == ["No Finding"] and np.nansum(mapped[0]) == 1 and not np.isnan(mapped[0]).any()
    assert mapped[1, C("Pneumonia")] == 1 and mapped[1, labels.NO_FINDING] == 0 and np.isnan(mapped[1, 0])


def test_load_chestmnist_from_disk_native_and_resized(tmp_path):
    body, arrays = npz_bytes()
    (tmp_path / "chestmnist.npz").write_bytes(body)
    data = medmnist.load_chestmnist(tmp_path, image_size=28, split="val", progress=False)
    np.testing.assert_allclose(data.images[..., 0], arrays["val_images"] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(data.labels[:, medmnist.CHESTMNIST_TO_SLIDE], arrays["val_labels"])
    small = medmnist.load_chestmnist(tmp_path, image_size=14, num_images=2, seed=None, progress=False)
    assert small.images.shape == (2, 14, 14, 1)
    image = arrays["train_images"][0] / 255.0
    np.testing.assert_allclose(small.images[0, 0, 0, 0], image[:2, :2].mean(), atol=1e-6)  # area average


def test_chestmnist_all_is_train_val_then_test_and_max_images_still_works(tmp_path):
    body, arrays = npz_bytes()
    (tmp_path / "chestmnist.npz").write_bytes(body)
    data = medmnist.load_chestmnist(tmp_path, image_size=28, progress=False)  # split="all", the default
    expected = np.concatenate([arrays[f"{name}_images"] for name in ("train", "val", "test")]) / 255.0
    np.testing.assert_allclose(data.images[..., 0], expected, atol=1e-7)
    counts = [len(arrays[f"{name}_images"]) for name in ("train", "val", "test")]
    assert data.patient_ids[counts[0]] == "chestmnist-val-0" and len(set(data.patient_ids)) == sum(counts)
    with pytest.warns(DeprecationWarning, match="max_images"):
        assert len(medmnist.load_chestmnist(tmp_path, image_size=28, max_images=2)) == 2


def test_load_pneumoniamnist_downloads_from_the_registry_url(tmp_path, monkeypatch):
    body, arrays = npz_bytes(columns=1, size=64)
    with faulty_server() as server:
        server.routes["/pneumoniamnist_64.npz"] = (body, None)
        info = registry.DatasetInfo(
            **{**registry.MEDMNIST.__dict__, "files": (registry.RemoteFile(
                "pneumoniamnist_64.npz", server.url("/pneumoniamnist_64.npz"), hashlib.md5(body).hexdigest()),)}
        )  # fmt: skip
        monkeypatch.setattr(medmnist, "MEDMNIST", info)
        data = medmnist.load_pneumoniamnist(tmp_path, image_size=64, download=True, split="test", progress=False)
    assert (Path(tmp_path) / "pneumoniamnist_64.npz").read_bytes() == body
    assert data.source == "pneumoniamnist" and data.images.shape == (4, 64, 64, 1)
    np.testing.assert_array_equal(data.labels[:, C("Pneumonia")] == 1, arrays["test_labels"][:, 0] == 1)


def test_missing_medmnist_file_suggests_download(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)chestmnist_64.npz.*download=True"):
        medmnist.load_chestmnist(tmp_path, image_size=50)
    with pytest.raises(ValueError, match="split must be one of"):
        medmnist.load_chestmnist(tmp_path, split="validation")


# ------------------------------------------------------------------------------------------ bad input (issue 16)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_images": -1}, ValueError, "num_images must be None or a positive integer, got -1"),  # dropped one image
        ({"num_images": 0}, ValueError, "got 0"),
        ({"num_images": 2.5}, TypeError, "num_images must be None or a positive integer, got float 2.5"),
        ({"image_size": 0}, ValueError, "image_size must be a positive integer, got 0"),  # was "missing chestmnist.npz"
        ({"image_size": "28"}, TypeError, "got str '28'"),
        ({"split": "validation"}, ValueError, r"split must be one of 'train', 'val', 'test', 'all', got 'validation'"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, error, match):
    (tmp_path / "chestmnist.npz").write_bytes(npz_bytes()[0])
    with pytest.raises(error, match=match):
        medmnist.load_chestmnist(tmp_path, **{"image_size": 28, **kwargs})


def test_numpy_integers_are_accepted(tmp_path):
    (tmp_path / "chestmnist.npz").write_bytes(npz_bytes()[0])
    data = medmnist.load_chestmnist(tmp_path, image_size=np.int64(28), num_images=np.int64(3))
    assert data.images.shape == (3, 28, 28, 1)


def test_a_damaged_npz_is_named_with_the_fix(tmp_path):
    (tmp_path / "chestmnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"chestmnist\.npz is not a readable npz archive.*download=True"):
        medmnist.load_chestmnist(tmp_path, image_size=28)
    # A file that does not even start like a zip: NumPy would call it pickled data.
    (tmp_path / "chestmnist.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"chestmnist\.npz is not a readable npz archive.*download=True"):
        medmnist.load_chestmnist(tmp_path, image_size=28)
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((1, 28, 28), np.uint8))
    (tmp_path / "chestmnist.npz").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match=r"not a MedMNIST file: it lacks \['train_images', 'train_labels'\]"):
        medmnist.load_chestmnist(tmp_path, image_size=28)


# ------------------------------------------------------------------------------------------ num_images and seed


def test_chestmnist_num_images_takes_the_first_images_or_a_seeded_sample(tmp_path):
    body, arrays = npz_bytes()
    (tmp_path / "chestmnist.npz").write_bytes(body)
    parts = ("train", "val", "test")
    ids = [f"chestmnist-{part}-{index}" for part in parts for index in range(4)]
    images = np.concatenate([arrays[f"{part}_images"] for part in parts]) / 255.0
    columns = np.concatenate([arrays[f"{part}_labels"] for part in parts])
    first = medmnist.load_chestmnist(tmp_path, image_size=28, num_images=5, seed=None, progress=False)
    assert first.patient_ids.tolist() == ids[:5]  # seed=None: train, then val
    for seed in (0, another_seed(ids, 5, 0)):
        drawn = medmnist.load_chestmnist(tmp_path, image_size=28, num_images=5, seed=seed, progress=False)
        expected = seeded_sample(ids, 5, seed)
        rows = [ids.index(name) for name in expected]
        assert drawn.patient_ids.tolist() == expected
        np.testing.assert_allclose(drawn.images[..., 0], images[rows], atol=1e-7)
        np.testing.assert_array_equal(drawn.labels[:, medmnist.CHESTMNIST_TO_SLIDE], columns[rows])
    test_ids = [f"chestmnist-test-{index}" for index in range(4)]
    drawn = medmnist.load_chestmnist(tmp_path, image_size=28, num_images=2, split="test", seed=3, progress=False)
    assert drawn.patient_ids.tolist() == seeded_sample(test_ids, 2, 3)
    assert len(medmnist.load_chestmnist(tmp_path, image_size=28, num_images=12, seed=3, progress=False)) == 12


def test_pneumoniamnist_takes_seed_too(tmp_path):
    body, _ = npz_bytes(columns=1)
    (tmp_path / "pneumoniamnist.npz").write_bytes(body)
    ids = [f"pneumoniamnist-val-{index}" for index in range(4)]
    drawn = medmnist.load_pneumoniamnist(tmp_path, image_size=28, num_images=3, split="val", seed=8, progress=False)
    assert drawn.patient_ids.tolist() == seeded_sample(ids, 3, 8)
