"""Tests of `datasets.stream`: the same (x, y) as `CXRSet.xy`, seeded per-epoch shuffles, a never-repeating phantom,
bounded memory on a 20,000-image cache, and clear argument errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import psutil
import pytest
from loader_fixtures import make_chexpert, make_mimic, make_nih

from lecture_lib import datasets
from lecture_lib.datasets import chexpert, mimic, nih
from lecture_lib.datasets.arraycache import FORMAT, SCALE, ArrayCache, file_stamp
from lecture_lib.datasets.download import DatasetNotFoundError
from lecture_lib.datasets.phantom import generate
from lecture_lib.datasets.stream import fill_cache

NIH_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
    "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]"
)


def _all_batches(data) -> tuple[np.ndarray, np.ndarray]:
    batches = [data[index] for index in range(len(data))]
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def make_cached_nih(folder, num_images: int, image_size: int = 256):
    """An NIH folder of `num_images` rows whose images are empty files but are all in the cache at `image_size`.

    Image i is cached with the value `(i + 1) / 65535` in its top row and 0 below, so a batch tells which rows it
    holds; its findings cycle through `Cardiomegaly`, `No Finding`, `Effusion|Mass`. The cache is one shard in the
    format of `arraycache` with the stamps of the files, so `stream` finds every image fresh. The array is a sparse
    file with only the top rows written: 20,000 images of 256 x 256 (2.6 GB) cost seconds, not a disk's minute.
    """
    (folder / "images").mkdir(parents=True)
    findings = ["Cardiomegaly", "No Finding", "Effusion|Mass"]
    names = [f"{i:08d}_000.png" for i in range(num_images)]
    rows = [f"{name},{findings[i % 3]},0,{i},50,F,PA,2048,2048,0.14,0.14" for i, name in enumerate(names)]
    (folder / "Data_Entry_2017_v2020.csv").write_text("\n".join([NIH_HEADER, *rows]) + "\n")
    stamps = []
    for name in names:
        (folder / "images" / name).touch()
        stamps.append(list(file_stamp(folder / "images" / name)))
    shard = folder / "cache" / f"{image_size}px" / "synthetic"
    shard.parent.mkdir(parents=True)
    shape = (num_images, image_size, image_size)
    images = np.lib.format.open_memmap(shard.with_suffix(".npy"), mode="w+", dtype=np.uint16, shape=shape)
    images[:, 0, :] = np.arange(1, num_images + 1, dtype=np.uint16)[:, None]
    images.flush()
    del images
    index = {"format": FORMAT, "shape": list(shape), "keys": [f"images__{name}" for name in names],
             "heights": [1024] * num_images, "widths": [1024] * num_images, "stamps": stamps}  # fmt: skip
    shard.with_suffix(".json").write_text(json.dumps(index))
    assert len(ArrayCache(shard.parent, image_size)) == num_images  # the cache reads the shard as its own
    return folder


def _row_of(x: np.ndarray) -> np.ndarray:
    """The row each image of a `make_cached_nih` batch is: its top-left value times 65535, minus 1."""
    return np.rint(x[:, 0, 0, 0] * SCALE).astype(np.int64) - 1


# ------------------------------------------------------------------------------------------ same (x, y) as load


def test_nih_stream_equals_load_xy(tmp_path):
    folder = make_nih(tmp_path / "nih")
    data = datasets.stream("nih", image_size=64, batch_size=3, split="all", shuffle=False, data_dir=folder,
                           progress=False)  # fmt: skip
    assert len(data) == 2 and data[1][0].shape == (1, 64, 64, 1)
    x, y = _all_batches(data)
    expected_x, expected_y = nih.load_nih(folder, image_size=64, progress=False).xy("classification")
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_allclose(x[2], 124 / 255.0, atol=1e-6)  # the RGBA file, grey by BT.601 as load_nih says
    # NIH's split list and the task's options go through as load_nih / xy take them.
    train = datasets.stream("nih", image_size=64, batch_size=8, split="train", shuffle=False, data_dir=folder,
                            findings=["Cardiomegaly", "Nodule"], progress=False)  # fmt: skip
    expected = nih.load_nih(folder, image_size=64, split="train_val", progress=False)
    np.testing.assert_array_equal(train[0][1], expected.xy("classification", findings=["Cardiomegaly", "Nodule"])[1])
    assert train[0][1].tolist() == [[1, 0], [1, 0], [0, 1]]


def test_chexpert_and_mimic_streams_equal_load_xy_with_nan(tmp_path):
    folder = make_chexpert(tmp_path / "chexpert")
    data = datasets.stream("chexpert", image_size=32, batch_size=2, shuffle=False, data_dir=folder,
                           source_options={"uncertain": "ones"}, progress=False)  # fmt: skip
    x, y = _all_batches(data)
    expected_x, expected_y = chexpert.load_chexpert(folder, image_size=32, uncertain="ones", progress=False).xy(
        "classification"
    )
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)  # NaN where CheXpert has no column, in the same places
    assert np.isnan(y).any() and len(y) == 3

    folder = make_mimic(tmp_path / "mimic", unlabelled_study=True)
    data = datasets.stream("mimic", image_size=32, batch_size=4, split="all", shuffle=False, data_dir=folder,
                           nan_to=0.5, progress=False)  # fmt: skip
    x, y = _all_batches(data)
    expected = mimic.load_mimic(folder, image_size=32, split="all", progress=False).xy("classification", nan_to=0.5)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(y, expected[1])
    assert len(y) == 3 and (y[-1] == 0.5).all()  # d4's study has no label row: NaN everywhere, then nan_to


def test_stream_fills_the_loaders_cache_once_and_decodes_a_changed_file(tmp_path):
    from PIL import Image

    folder = make_nih(tmp_path / "nih")
    datasets.stream("nih", image_size=64, batch_size=4, split="all", data_dir=folder, progress=False)
    cache = ArrayCache(folder / "cache" / "64px", 64)
    assert len(cache) == 4  # the folder load_nih reads: a later load_nih decodes nothing

    paths = sorted((folder / "images").glob("*.png"))
    keys = [f"images__{path.name}" for path in paths]

    def refuse(path):
        raise AssertionError(f"{path} was decoded although it is cached")

    entries = fill_cache(paths, 64, cache, keys, reader=refuse, progress=False)
    assert [entry.height for entry in entries] == [128] * 4
    Image.fromarray(np.full((128, 128), 255, np.uint8)).save(paths[0])  # same size, new content and stamp
    data = datasets.stream("nih", image_size=64, batch_size=4, split="all", shuffle=False, data_dir=folder,
                           progress=False)  # fmt: skip
    np.testing.assert_array_equal(data[0][0][0], 1.0)


# ------------------------------------------------------------------------------------------------ shuffling


def test_each_epoch_is_a_permutation_drawn_from_seed_and_epoch(tmp_path):
    folder = make_cached_nih(tmp_path / "nih", 200, image_size=32)
    options = dict(image_size=32, batch_size=64, split="all", data_dir=folder, seed=7, progress=False)
    first = datasets.stream("nih", **options)
    assert len(first) == 4
    orders = []
    for epoch in range(3):
        x, y = _all_batches(first)
        rows = _row_of(x)
        expected = np.random.default_rng(np.random.SeedSequence([7, epoch])).permutation(200)
        np.testing.assert_array_equal(rows, expected)
        # y follows x: row i's findings are the (i mod 3)-th of Cardiomegaly, No Finding, Effusion|Mass
        np.testing.assert_array_equal(y[:, 1], rows % 3 == 0)
        np.testing.assert_array_equal(y[:, 4], rows % 3 == 2)
        orders.append(rows)
        first.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    # A new stream resumed at epoch 2 serves epoch 2's order; another seed serves another one.
    resumed = datasets.stream("nih", **options)
    resumed.epoch = 2
    np.testing.assert_array_equal(_row_of(_all_batches(resumed)[0]), orders[2])
    other = datasets.stream("nih", **{**options, "seed": 8})
    assert not np.array_equal(_row_of(_all_batches(other)[0]), orders[0])
    unshuffled = datasets.stream("nih", **options, shuffle=False, drop_remainder=True)
    assert len(unshuffled) == 3
    np.testing.assert_array_equal(_row_of(_all_batches(unshuffled)[0]), np.arange(192))


def test_fit_advances_the_epoch_and_augment_is_applied(tmp_path):
    folder = make_cached_nih(tmp_path / "nih", 40, image_size=32)
    data = datasets.stream("nih", image_size=32, batch_size=16, split="all", data_dir=folder, workers=2,
                           progress=False)  # fmt: skip
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(15, "sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(data.epoch))
    model.fit(data, epochs=2, verbose=0, shuffle=False, callbacks=[data.epoch_callback(), record])
    assert seen == [0, 0, 0, 1, 1, 1]
    seen.clear()
    model.fit(data, initial_epoch=4, epochs=6, verbose=0, shuffle=False, callbacks=[data.epoch_callback(), record])
    assert seen == [4, 4, 4, 5, 5, 5]

    def invert(images, training=False):
        return 1.0 - images

    plain = datasets.stream("nih", image_size=32, batch_size=16, split="all", data_dir=folder, progress=False)
    inverted = datasets.stream("nih", image_size=32, batch_size=16, split="all", data_dir=folder, augment=invert,
                               progress=False)  # fmt: skip
    np.testing.assert_allclose(inverted[1][0], 1.0 - plain[1][0])
    np.testing.assert_array_equal(inverted[1][1], plain[1][1])


# --------------------------------------------------------------------------------------------------- phantom


def _phantom_seed(seed: int, split_code: int, epoch: int, index: int) -> int:
    state = np.random.SeedSequence([seed, split_code, epoch, index]).generate_state(2)
    return int(state[0]) << 32 | int(state[1])


def test_phantom_batches_are_generate_with_a_seed_per_batch_and_never_repeat():
    data = datasets.stream("phantom", image_size=32, batch_size=4, num_images=12, seed=3)
    assert len(data) == 3
    x, y = data[1]
    expected_x, expected_y = generate(4, image_size=32, seed=_phantom_seed(3, 0, 0, 1)).xy("classification")
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)
    seen = []
    for _ in range(3):
        seen += [data[index][0] for index in range(len(data))]
        data.on_epoch_end()
    images = np.concatenate(seen).reshape(36, -1)
    assert len(np.unique(images, axis=0)) == 36  # 3 epochs x 12 images, no two alike
    # Validation images are the same at every epoch; the segmentation task gets the masks it names.
    validation = datasets.stream("phantom", image_size=32, batch_size=4, num_images=8, split="validation",
                                 task="segmentation", mask_names=["heart"], seed=3)  # fmt: skip
    before = validation[0]
    validation.on_epoch_end()
    np.testing.assert_array_equal(validation[0][0], before[0])
    reference = generate(4, image_size=32, seed=_phantom_seed(3, 1, 0, 0), mask_names=["heart"])
    np.testing.assert_array_equal(before[1], reference.xy("segmentation", mask_names=["heart"])[1])
    assert not {image.tobytes() for image in before[0]} & {image.tobytes() for image in images.reshape(36, 32, 32, 1)}


# ------------------------------------------------------------------------------------------------------ memory


def test_streaming_20000_images_of_256_pixels_grows_the_process_by_less_than_500_mb(tmp_path):
    folder = make_cached_nih(tmp_path / "nih", 20_000)
    process = psutil.Process()
    data = datasets.stream("nih", image_size=256, batch_size=128, split="all", data_dir=folder, progress=False)
    data[0]
    baseline = peak = process.memory_info().rss
    served = np.zeros(20_000, dtype=np.int64)
    for index in range(len(data)):
        x, y = data[index]
        np.add.at(served, _row_of(x), 1)
        peak = max(peak, process.memory_info().rss)
    assert (served == 1).all()  # every image once: 20,000 x 256 x 256 float32 = 5.2 GB went through
    assert peak - baseline < 500 * 2**20, f"RSS grew by {(peak - baseline) / 2**20:.0f} MB"


# ------------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"source": "nhi"}, ValueError, "did you mean 'nih'"),
        ({"source": "jsrt"}, ValueError, "unknown streamed source 'jsrt'"),
        ({"image_size": "256"}, TypeError, "image_size must be an integer >= 32, got str '256'"),
        ({"image_size": 16}, ValueError, "image_size must be an integer >= 32, got 16"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be a positive integer, got float 2.0"),
        ({"task": "segmentaton"}, ValueError, "did you mean 'segmentation'"),
        ({"split": "valid"}, ValueError, "split must be one of 'train', 'validation', 'test', got 'valid'"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer, got -1"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be True or False, got str 'yes'"),
        ({"augment": 3}, TypeError, "augment must be a layer or function"),
        ({"augment": abs, "task": "detection"}, ValueError, "not 'detection'"),
        ({"workers": 0}, ValueError, "workers must be a positive integer, got 0"),
        ({"num_images": None}, ValueError, "pass num_images, the images per epoch"),
        ({"data_dir": "data"}, ValueError, "leave data_dir out"),
        ({"source_options": {"views": ["PA"]}}, ValueError, r"unknown source_options \['views'\]"),
        ({"findings": ["Cardiomegaly"], "task": "landmarks"}, ValueError, r"unknown options \['findings'\]"),
        ({"num_images": 3, "drop_remainder": True}, ValueError, "no whole batch of 4"),
    ],
)
def test_phantom_argument_errors(arguments, error, match):
    call = {"source": "phantom", "image_size": 32, "batch_size": 4, "num_images": 8, **arguments}
    with pytest.raises(error, match=match):
        datasets.stream(**call)


def test_real_source_argument_errors(tmp_path):
    folder = make_nih(tmp_path / "nih")
    with pytest.raises(ValueError, match="image_size must be an integer >= 2, got 0"):
        datasets.stream("nih", image_size=0, batch_size=2, data_dir=folder)
    with pytest.raises(ValueError, match="did you mean 'test'"):
        datasets.stream("nih", image_size=64, batch_size=2, split="tset", data_dir=folder)
    with pytest.raises(ValueError, match="serves task='classification'"):
        datasets.stream("nih", image_size=64, batch_size=2, task="detection", data_dir=folder)
    with pytest.raises(ValueError, match="NIH views are 'PA' and 'AP'"):
        datasets.stream("nih", image_size=64, batch_size=2, data_dir=folder, source_options={"views": "LL"})
    with pytest.raises(DatasetNotFoundError, match="Data_Entry_2017"):
        datasets.stream("nih", image_size=64, batch_size=2, data_dir=tmp_path / "empty")
    data = datasets.stream("nih", image_size=64, batch_size=2, split="all", data_dir=folder, progress=False)
    with pytest.raises(IndexError, match="batch index 2 is out of range for a stream of 2 batches"):
        data[2]
    with pytest.raises(ValueError, match="epoch must be a non-negative integer, got -1"):
        data.epoch = -1
