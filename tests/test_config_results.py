"""Seeding, the data directory and the results recorder."""

import json
import random

import numpy as np
import pytest

from lecture_lib import config, results


def test_set_seed_makes_numpy_and_python_repeat():
    config.set_seed(7)
    first = (random.random(), np.random.rand())  # noqa: NPY002 - set_seed seeds the global generator
    config.set_seed(7)
    assert (random.random(), np.random.rand()) == first  # noqa: NPY002


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        config.set_seed(bad)


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_DATA_DIR", str(tmp_path / "cxr"))
    assert config.data_dir() == (tmp_path / "cxr").resolve()
    assert (tmp_path / "cxr").is_dir()
    monkeypatch.delenv("LECTURE_DATA_DIR")
    assert config.data_dir() == (config.REPO_ROOT / "data").resolve()


def test_record_results_merges_and_converts(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_RESULTS_DIR", str(tmp_path))
    path = results.record_results("segmentation", dice=np.float32(0.96875), epochs=np.int64(8))
    results.record_results("segmentation", passed=np.bool_(True), model="unet")
    stored = json.loads(path.read_text())
    assert stored == {"dice": 0.96875, "epochs": 8, "passed": True, "model": "unet"}
    assert results.load_results() == {"segmentation": stored}


def test_record_results_rejects_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="notebook name"):
        results.record_results("../escape", dice=1.0)
    with pytest.raises(ValueError, match="at least one metric"):
        results.record_results("segmentation")
    with pytest.raises(ValueError, match="metric 'dice' is nan"):
        results.record_results("segmentation", dice=float("nan"))
    with pytest.raises(TypeError, match="metric 'curve' must be a number"):
        results.record_results("segmentation", curve=[1, 2])
