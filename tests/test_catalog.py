"""The dataset catalog resolves names and passes arguments on."""

import importlib

import numpy as np
import pytest
from loader_fixtures import NIH_ROWS, make_nih, seeded_sample

from lecture_lib.datasets import catalog


def test_every_source_points_at_a_module_path_in_the_package():
    for name, target in catalog.SOURCES.items():
        module_name, function_name = target.split(":")
        assert module_name.startswith("lecture_lib.datasets."), name
        assert function_name.startswith(("load_", "generate")), name


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="unknown dataset 'chexpret'.*did you mean 'chexpert'"):
        catalog.load("chexpret")


def test_phantom_needs_a_count():
    pytest.importorskip("lecture_lib.datasets.phantom")
    with pytest.raises(ValueError, match="pass num_images"):
        catalog.load("phantom")


def test_arguments_are_passed_on(monkeypatch):
    calls = []
    module = importlib.import_module("lecture_lib.datasets.catalog")
    monkeypatch.setattr(module, "_resolve", lambda name: ("nih", lambda **kw: calls.append(kw) or "set"))
    assert catalog.load("NIH", image_size=64, num_images=10, download=True) == "set"
    assert calls == [{"image_size": 64, "num_images": 10, "download": True}]
    monkeypatch.setattr(module, "_resolve", lambda name: ("phantom", lambda n, **kw: calls.append((n, kw)) or "p"))
    assert catalog.load("phantom", image_size=32, num_images=5, seed=3, prevalence={"Mass": 0.5}) == "p"
    assert calls[-1] == (5, {"image_size": 32, "seed": 3, "prevalence": {"Mass": 0.5}})


def test_seed_reaches_real_loaders_that_take_one(monkeypatch):
    calls = []

    def with_seed(*, image_size, num_images, seed):
        calls.append(seed)

    monkeypatch.setattr(catalog, "_resolve", lambda name: ("montgomery", with_seed))
    catalog.load("montgomery", seed=7)
    assert calls == [7]


def test_every_source_resolves_to_a_function():
    for name in catalog.SOURCES:
        key, function = catalog._resolve(name)
        assert key == name and callable(function), name


def test_package_exports_the_loaders_lazily():
    from lecture_lib import datasets

    assert datasets.load_nih.__module__ == "lecture_lib.datasets.nih"
    assert datasets.rle_decode.__module__ == "lecture_lib.datasets.siim"
    with pytest.raises(AttributeError, match="no attribute 'load_everything'"):
        datasets.load_everything  # noqa: B018


def test_importing_the_datasets_package_does_not_load_keras():
    # Loaders are numpy + PIL; a student reading NIH labels should not wait for TensorFlow to start.
    import subprocess
    import sys

    code = "import sys, lecture_lib.datasets, lecture_lib.datasets.nih; print('keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------ bad input (issue 16)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        (None, {}, TypeError, "name must be a string, one of 'phantom', 'nih'.*got NoneType None"),
        ("nih", {"num_images": 2.5}, TypeError, "num_images must be None or a positive integer, got float 2.5"),
        ("nih", {"num_images": 0}, ValueError, "num_images must be None or a positive integer, got 0"),
        ("nih", {"image_size": -8}, ValueError, "image_size must be a positive integer, got -8"),
        ("phantom", {"num_images": 4, "seed": -1}, ValueError, "seed must be a non-negative integer, got -1"),
    ],
)
def test_bad_arguments_are_named(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        catalog.load(name, **kwargs)


def test_a_single_view_string_is_one_view(monkeypatch):
    calls = []
    monkeypatch.setattr(catalog, "_resolve", lambda name: ("nih", lambda **kw: calls.append(kw)))
    catalog.load("nih", views="PA")  # was read as the views ['A', 'P']
    catalog.load("nih", views=("PA", "AP"), num_images=np.int64(3))
    assert calls[0]["views"] == ["PA"] and calls[1]["views"] == ("PA", "AP") and calls[1]["num_images"] == 3


# ------------------------------------------------------------------------------------ one switch to real data (issue 13)


def test_phantom_only_options_are_left_out_for_a_real_source_with_a_warning(tmp_path):
    # 03 and 05 call load(DATASET, ..., findings=..., bone_free=False, mask_names=(), acquisition=...); with
    # DATASET = "nih" that raised "load_nih() got an unexpected keyword argument 'findings'".
    folder = make_nih(tmp_path / "nih")
    with pytest.warns(UserWarning, match=r"load\('nih'\) ignores acquisition, bone_free, findings, mask_names"):
        data = catalog.load(
            "nih",
            image_size=32,
            num_images=3,
            data_dir=folder,
            findings=[["Mass"]] * 3,
            bone_free=False,
            mask_names=(),
            acquisition="standard",
            progress=False,
        )
    assert data.source == "nih" and data.images.shape == (3, 32, 32, 1)


def test_options_a_real_loader_takes_are_passed_on_even_if_the_phantom_has_them(monkeypatch):
    calls = []

    def with_masks(*, image_size, num_images, mask_names=None):
        calls.append(mask_names)

    monkeypatch.setattr(catalog, "_resolve", lambda name: ("jsrt", with_masks))
    catalog.load("jsrt", mask_names=("heart",))
    assert calls == [("heart",)]


def test_phantom_options_reach_only_the_phantom_and_without_a_warning(monkeypatch, recwarn):
    calls = []
    monkeypatch.setattr(catalog, "_resolve", lambda name: ("nih", lambda **kw: calls.append(kw)))
    catalog.load("nih", num_images=4, phantom={"findings": [["Mass"]], "acquisition": "standard"}, download=True)
    assert calls == [{"image_size": 128, "num_images": 4, "download": True}]
    assert not [warning for warning in recwarn if issubclass(warning.category, UserWarning)]
    monkeypatch.setattr(catalog, "_resolve", lambda name: ("phantom", lambda n, **kw: calls.append((n, kw))))
    catalog.load("phantom", num_images=2, seed=1, phantom={"findings": [["Mass"], []]}, bone_free=False)
    assert calls[-1] == (2, {"image_size": 128, "seed": 1, "findings": [["Mass"], []], "bone_free": False})


def test_phantom_options_must_be_a_mapping_given_once():
    with pytest.raises(TypeError, match=r"phantom must be a dict.*got \['findings'\]"):
        catalog.load("phantom", num_images=2, phantom=["findings"])
    with pytest.raises(ValueError, match="bone_free given both in phantom= and as a loose option"):
        catalog.load("phantom", num_images=2, phantom={"bone_free": False}, bone_free=True)


@pytest.mark.parametrize("name", sorted(set(catalog.SOURCES) - {"phantom"}))
def test_every_real_loader_has_the_common_signature_and_catalog_defaults(name):
    # load_<name>(data_dir=None, *, image_size=128, num_images=None, split="all", ..., download=False, progress=True)
    import inspect

    parameters = inspect.signature(catalog._resolve(name)[1]).parameters
    assert list(parameters)[0] == "data_dir" and parameters["data_dir"].default is None
    common = {"image_size": 128, "num_images": None, "split": "all", "download": False, "progress": True}
    for argument, default in common.items():
        assert parameters[argument].kind is inspect.Parameter.KEYWORD_ONLY, (name, argument)
        assert parameters[argument].default == default, (name, argument)
    assert inspect.signature(catalog.load).parameters["image_size"].default == 128
    if "views" in parameters:
        assert parameters["views"].default is None, name
    assert not {"frontal_only", "projections"} & {p for p in parameters if parameters[p].default is not None}


@pytest.mark.parametrize("name", sorted(set(catalog.SOURCES) - {"phantom"}))
def test_every_real_loader_takes_a_keyword_seed(name):
    # None (the source's order) by default; 0 for the two NLM sets, whose seed also deals their patient split
    import inspect

    seed = inspect.signature(catalog._resolve(name)[1]).parameters["seed"]
    assert seed.kind is inspect.Parameter.KEYWORD_ONLY
    assert seed.default == 0, name


def test_load_draws_a_real_sample_with_its_seed(tmp_path, monkeypatch):
    from lecture_lib.datasets import nih

    files = [row[0] for row in NIH_ROWS]
    folder = make_nih(tmp_path / "nih")
    default = catalog.load("nih", data_dir=folder, image_size=32, num_images=2, progress=False)
    assert default.meta["file"].tolist() == seeded_sample(files, 2, 0) != files[:2]  # seed=0, not the first two
    monkeypatch.setenv("LECTURE_DATA_DIR", str(tmp_path))  # as the notebooks find data/nih/
    for seed in (1, 42):
        drawn = catalog.load("nih", image_size=32, num_images=2, seed=seed, progress=False)
        assert drawn.meta["file"].tolist() == seeded_sample(files, 2, seed)
        direct = nih.load_nih(image_size=32, num_images=2, seed=seed, progress=False)
        np.testing.assert_array_equal(drawn.images, direct.images)
    assert nih.load_nih(image_size=32, num_images=2, seed=None, progress=False).meta["file"].tolist() == files[:2]
    # the loader's own default is catalog.load's: seed 0
    assert nih.load_nih(image_size=32, num_images=2, progress=False).meta["file"].tolist() == seeded_sample(files, 2, 0)


def test_catalog_and_registry_name_the_same_datasets():
    # One list of datasets: every registry entry can be loaded by name, and every real source has a registry entry
    # (its files, licence and citation); the MedMNIST entry serves both of its subsets.
    from lecture_lib.datasets import catalog, registry

    real = {"medmnist" if name.endswith("mnist") else name for name in catalog.SOURCES if name != "phantom"}
    assert real == set(registry.DATASETS)
