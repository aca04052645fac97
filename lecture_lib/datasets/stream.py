"""Feed `model.fit` from the on-disk image cache, batch by batch: training on sets larger than memory.

`load(...)` materializes a whole set as one float32 array, which suits the notebooks but not the slides' full sets
(NIH ChestX-ray14 at 256 px is 29 GB as float32, at 512 px 117 GB). `stream(...)` returns a
`keras.utils.PyDataset` that holds only the list of files, their labels and where each image sits in the cache
(`arraycache`), and reads one batch at a time through the cache's memory maps:

1. **index**: the source's label table, read and filtered with the loader's own functions (`nih.read_labels`,
   `chexpert.map_labels`, ...), so a row streams exactly as `load(...)` would load it;
2. **fill**: images missing from the cache (or whose file changed) are decoded and resized with `imageio`'s
   functions and cached in shards of `FILL_BYTES`, once; nothing else is kept in memory;
3. **batches**: every epoch visits the rows in a permutation drawn from `(seed, epoch)`, so an epoch's order is
   the same whatever happened before it (a run resumed at epoch 5 sees the order an uninterrupted run saw), and
   each batch is one memory-mapped gather, `(x, y)` exactly as `CXRSet.xy(task)` gives them.

`stream("phantom", ...)` renders every batch on the fly: batch `i` of epoch `e` is `phantom.generate` with a seed
drawn from `(seed, split, e, i)`, so the training set never repeats; the `"validation"` and `"test"` splits leave
the epoch out and are the same images at every epoch.

Memory stays bounded by the batches in flight (`max_queue_size` of them while `fit` prefetches): streaming
20,000 images of 256 x 256 from the cache grows a process by less than 500 MB (`tests/test_stream.py`).

Example:
    >>> from lecture_lib import datasets
    >>> train = datasets.stream("nih", image_size=256, batch_size=64, task="classification", split="train")
    >>> x, y = train[0]
    >>> x.shape, y.shape
    ((64, 256, 256, 1), (64, 15))
    >>> model.fit(train, epochs=10, shuffle=False, callbacks=[train.epoch_callback()])

`fit(shuffle=False)` because the stream shuffles (Keras would only reorder whole batches, with Python's `random`);
`epoch_callback()` makes the stream's epoch follow `fit`'s, also after `fit(initial_epoch=...)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lecture_lib.checks import check_choice, check_count
from lecture_lib.datasets import download as dl
from lecture_lib.datasets.arraycache import ArrayCache, Entry, file_stamp, quantize
from lecture_lib.datasets.imageio import _cache_keys, default_reader, read_image, resize
from lecture_lib.datasets.schema import TASKS

if TYPE_CHECKING:
    from lecture_lib.datasets.batches import StreamBatches

SPLITS: dict[str, tuple[str, ...]] = {
    "phantom": ("train", "validation", "test"),
    "nih": ("train", "test", "all"),
    "chexpert": ("train", "valid"),
    "mimic": ("train", "validate", "test", "all"),
}
"""The splits each source streams. NIH's `"train"` is its `train_val_list.txt`; `"all"` ignores the split files."""

SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "phantom": ("studies_per_patient", "prevalence", "findings", "acquisition"),
    "nih": ("views",),
    "chexpert": ("uncertain", "blank", "views"),
    "mimic": ("labeler", "uncertain", "blank", "views"),
}
"""`source_options` each source takes: the same-named arguments of `phantom.generate` and of the `load_*` loaders."""

FILL_BYTES = 1 << 27
"""Filling the cache writes a shard every this many bytes of uint16 images (1,024 images at 256 px), so a cold
first pass over a full set holds no more than this and an interrupted one keeps its work."""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


# ------------------------------------------------------------------------------------------------------ indexes
@dataclass(frozen=True)
class _Index:
    """The rows of a real source: image files, their labels and how to decode them."""

    paths: list[Path]
    labels: np.ndarray
    reader: Callable
    desc: str


def _nih_index(folder: Path, split: str, views=None) -> _Index:
    from lecture_lib.datasets import nih
    from lecture_lib.datasets.registry import NIH

    needed: list = [nih.LABEL_FILES]
    if split != "all":
        needed.append(nih.SPLIT_FILES["train_val" if split == "train" else "test"])
    found = dl.require(NIH, folder, needed)
    table = nih.read_labels(found[nih.LABEL_FILES[0]])
    if split != "all":
        table = table[table["image"].isin(nih.read_split(found[needed[1]]))]
    wanted = ("PA", "AP") if views is None else tuple(str(view).upper() for view in views)
    unknown = set(wanted) - {"PA", "AP"}
    if unknown:
        raise ValueError(f"NIH views are 'PA' and 'AP', got {sorted(unknown)}")
    table = table[table["view"].isin(wanted)]
    on_disk = nih.find_images(folder)
    table = table[table["image"].isin(on_disk.keys())]
    if table.empty:
        raise dl.DatasetNotFoundError(
            f"no NIH image of split {split!r} was found under {folder} (looked in images/ and images_*/images/).\n"
            f"{NIH.instructions(folder)}"
        )
    paths = [on_disk[name] for name in table["image"]]
    return _Index(paths, nih.label_matrix(table["findings"]), default_reader, "NIH")


def _jpeg_reader(image_size: int) -> Callable:
    def reader(path: Path):
        return read_image(path, draft_size=image_size)

    return reader


def _chexpert_index(folder: Path, split: str, image_size: int, uncertain="nan", blank="zeros", views=None) -> _Index:
    from lecture_lib.datasets import chexpert
    from lecture_lib.datasets.registry import CHEXPERT

    wanted = None if views is None else [str(view).upper() for view in views]
    if wanted is not None and not set(wanted) <= {"PA", "AP"}:
        raise ValueError(f"streamed CheXpert views are 'PA' and 'AP' (frontal films), got {list(views)!r}")
    found = dl.require(CHEXPERT, folder, [tuple(f"{name}/{split}.csv" for name in chexpert.FOLDERS)])
    table = chexpert.read_csv(found[f"{chexpert.FOLDERS[0]}/{split}.csv"])
    table = table.assign(view=chexpert.view_of(table))
    table = table[(table["Frontal/Lateral"] == "Frontal") & (table["view"] != "LATERAL")]
    if wanted is not None:
        table = table[table["view"].isin(wanted)]
    table = table[[(folder / path).exists() for path in table["Path"]]]
    if table.empty:
        raise dl.DatasetNotFoundError(
            f"no CheXpert image listed in {split}.csv exists under {folder}.\n{CHEXPERT.instructions(folder)}"
        )
    labels = chexpert.map_labels(table, uncertain, blank)
    return _Index([folder / path for path in table["Path"]], labels, _jpeg_reader(image_size), "CheXpert")


def _mimic_index(
    folder: Path, split: str, image_size: int, labeler="chexpert", uncertain="nan", blank="zeros", views=("PA", "AP")
) -> _Index:
    import pandas as pd

    from lecture_lib.datasets import mimic
    from lecture_lib.datasets.chexpert import map_labels
    from lecture_lib.datasets.registry import MIMIC

    labeler = check_choice(labeler, "labeler", ("chexpert", "negbio"))
    needed = [mimic._csv("metadata"), mimic._csv(labeler)] + ([mimic._csv("split")] if split != "all" else [])
    found = dl.require(MIMIC, folder, needed)
    meta = pd.read_csv(found[mimic._csv("metadata")[0]], dtype={"dicom_id": str})
    study_labels = pd.read_csv(found[mimic._csv(labeler)[0]])
    if split != "all":
        split_table = pd.read_csv(found[mimic._csv("split")[0]], dtype={"dicom_id": str})
        meta = meta[meta["dicom_id"].isin(split_table.loc[split_table["split"] == split, "dicom_id"])]
    if views is not None:
        meta = meta[meta["ViewPosition"].isin([str(view).upper() for view in views])]
    table = meta.merge(
        study_labels, on=["subject_id", "study_id"], how="left", validate="many_to_one", indicator="_labelled"
    )
    paths = [
        mimic.image_path(subject, study, dicom)
        for subject, study, dicom in zip(table["subject_id"], table["study_id"], table["dicom_id"], strict=True)
    ]
    present = np.asarray([(folder / path).exists() for path in paths], dtype=bool)
    table = table[present]
    if table.empty:
        raise dl.DatasetNotFoundError(
            f"no MIMIC-CXR-JPG image of the metadata file exists under {folder}/files/.\n{MIMIC.instructions(folder)}"
        )
    labels = map_labels(table, uncertain, blank)
    labels[(table["_labelled"] == "left_only").to_numpy()] = np.nan  # no label row: unknown, as load_mimic says
    kept = [folder / path for path, keep in zip(paths, present, strict=True) if keep]
    return _Index(kept, labels, _jpeg_reader(image_size), "MIMIC-CXR")


# ------------------------------------------------------------------------------------------------- cache filling
def fill_cache(
    paths: Sequence[Path],
    image_size: int,
    cache: ArrayCache,
    keys: Sequence[str],
    reader: Callable = default_reader,
    num_workers: int | None = None,
    progress: bool = True,
    desc: str = "images",
) -> list[Entry]:
    """Make sure every file has a fresh cached image, decoding only those missing or changed; return their entries.

    Unlike `imageio.load_images`, nothing is returned in memory: decoded images go to a shard every `FILL_BYTES`
    and are dropped, and shards are not compacted (merging a full set's shards would hold all of it in memory).

    Args:
        paths: the image files.
        image_size: the cache's side `S`.
        cache: the cache folder of that size, e.g. `ArrayCache(folder / "cache" / "256px", 256)`.
        keys: the cache key of each file (`imageio._cache_keys(paths, root)`, as the loaders use).
        reader: `path -> Pillow image or (H, W) float array`; see `imageio.load_images`.
        num_workers: decoding threads; default one per core.
        progress: show a progress bar while decoding.
        desc: the progress bar's label.

    Returns:
        One cache `Entry` per path, in order.

    Raises:
        FileNotFoundError, ValueError: for a missing or undecodable file (named in the message).
    """
    from tqdm.auto import tqdm

    known = cache.entries()
    entries: list[Entry | None] = []
    misses = []
    for index, (path, key) in enumerate(zip(paths, keys, strict=True)):
        entry = known.get(key)
        try:
            fresh = entry is not None and file_stamp(path) == entry.stamp
        except FileNotFoundError:
            fresh = False  # reported when decoding
        entries.append(entry if fresh else None)
        if not fresh:
            misses.append(index)
    if not misses:
        return entries

    def work(index: int):
        stamp = file_stamp(paths[index])  # before decoding: a file rewritten meanwhile is decoded again later
        decoded = reader(paths[index])
        height, width = (decoded.height, decoded.width) if hasattr(decoded, "height") else decoded.shape[:2]
        return index, quantize(resize(decoded, image_size)), (height, width), stamp

    chunk = max(1, FILL_BYTES // (2 * image_size * image_size))
    with (
        tqdm(total=len(misses), desc=f"{desc}: caching", unit="img", disable=not progress, leave=False) as bar,
        ThreadPoolExecutor(max_workers=num_workers or os.cpu_count() or 1) as pool,
    ):
        for start in range(0, len(misses), chunk):
            done = list(pool.map(work, misses[start : start + chunk]))
            bar.update(len(done))
            cache.add(
                np.stack([image for _, image, _, _ in done]),
                [keys[index] for index, _, _, _ in done],
                np.asarray([size for _, _, size, _ in done]),
                [stamp for _, _, _, stamp in done],
            )
    found = cache.entries()
    return [entry if entry is not None else found[keys[index]] for index, entry in enumerate(entries)]


# --------------------------------------------------------------------------------------------------------- entry
def stream(
    source: str,
    *,
    image_size: int,
    batch_size: int,
    task: str = "classification",
    split: str = "train",
    shuffle: bool = True,
    seed: int = 0,
    augment: Callable | None = None,
    workers: int | None = None,
    use_multiprocessing: bool = False,
    max_queue_size: int = 10,
    num_images: int | None = None,
    data_dir: Path | str | None = None,
    drop_remainder: bool = False,
    progress: bool = True,
    source_options: Mapping[str, object] | None = None,
    **options,
) -> StreamBatches:
    """Stream `(x, y)` batches of a dataset for `model.fit`, reading the on-disk cache or rendering the phantom.

    Args:
        source: `"phantom"`, `"nih"`, `"chexpert"` or `"mimic"`.
        image_size: side of the square images in pixels (at least 32 for the phantom).
        batch_size: images per batch.
        task: one of `schema.TASKS`; the real sources stream `"classification"` (their only full-set labels).
        split: one of `SPLITS[source]`: NIH `"train"` (`train_val_list.txt`), `"test"`, `"all"`; CheXpert
            `"train"`, `"valid"`; MIMIC-CXR `"train"`, `"validate"`, `"test"`, `"all"`; the phantom `"train"` (new
            images every epoch), `"validation"`, `"test"` (the same images every epoch).
        shuffle: visit a real source's rows in a new order each epoch, drawn from `(seed, epoch)`; `False` keeps
            the order of `load(source, ...)`. The phantom's batches are random draws either way.
        seed: a non-negative integer, the seed of the shuffle or of the phantom's renderings.
        augment: a layer applied to each batch with `training=True`, e.g. `augment.build_augmentation(seed=0)`
            (images only, or images and masks for `"segmentation"`); `None` for none.
        workers: threads (or processes) preparing batches ahead of `fit`; default the number of cores, at most 8.
        use_multiprocessing: prepare batches in processes instead of threads (see `keras.utils.PyDataset`).
        max_queue_size: batches prepared ahead; with `batch_size` and `image_size` it bounds the memory used.
        num_images: the phantom's images per epoch (required for it); for a real source, stream at most the first
            `num_images` rows (`None`: all).
        data_dir: a real source's folder, as for its loader; default `data/<source>/`.
        drop_remainder: leave out the last, smaller batch (data-parallel training needs equal batches).
        progress: show a progress bar while images missing from the cache are decoded.
        source_options: arguments of the source's own function, from `SOURCE_OPTIONS`: e.g. `{"views": ["PA"]}`
            for NIH, `{"uncertain": "ones"}` for CheXpert, `{"prevalence": ...}` for the phantom.
        **options: the task's options of `CXRSet.xy`, e.g. `findings=[...]`, `nan_to=0.0`.

    Returns:
        A `batches.StreamBatches` (a `keras.utils.PyDataset`) whose item `i` is the `(x, y)` of batch `i`: `x` `(batch, S, S, 1)` float32 in
        [0, 1] and `y` as `CXRSet.xy(task, **options)` returns it (classification: `(batch, C)` float32, NaN where
        the source does not say). It has `len()` batches per epoch and an `epoch` attribute.

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or out of range (named, with what is expected).
        DatasetNotFoundError: when a real source's files are missing (with where to get them).
    """
    key = check_choice(source, "source", SPLITS, normalize=_key, what="streamed source",
                       fix="stream() reads these sets; load() reads every other one into memory")  # fmt: skip
    image_size = check_count(image_size, "image_size", minimum=32 if key == "phantom" else 2,
                             fix="the side of the square images in pixels, e.g. 256")  # fmt: skip
    batch_size = check_count(batch_size, "batch_size", fix="e.g. 64")
    task = check_choice(task, "task", TASKS)
    split = check_choice(split, "split", SPLITS[key], fix=f"the splits of {key!r}")
    seed = check_count(seed, "seed", minimum=0)
    for flag, name in ((shuffle, "shuffle"), (use_multiprocessing, "use_multiprocessing"),
                       (drop_remainder, "drop_remainder"), (progress, "progress")):  # fmt: skip
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be True or False, got {type(flag).__name__} {flag!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a layer or function applied to a batch, or None; got {augment!r}")
    if augment is not None and task not in ("classification", "segmentation"):
        raise ValueError(
            f"augment moves images (and masks) only, so it serves 'classification' and 'segmentation', not {task!r}; "
            "boxes and landmarks would not follow"
        )
    workers = min(os.cpu_count() or 1, 8) if workers is None else check_count(workers, "workers")
    max_queue_size = check_count(max_queue_size, "max_queue_size")
    num_images = check_count(num_images, "num_images", allow_none=True,
                             fix="None streams every image of a real set")  # fmt: skip
    source_options = {} if source_options is None else source_options
    if not isinstance(source_options, Mapping):
        raise TypeError(f"source_options must be a dict of the source's arguments, got {source_options!r}")
    unknown = sorted(set(source_options) - set(SOURCE_OPTIONS[key]))
    if unknown:
        raise ValueError(f"stream({key!r}) got unknown source_options {unknown}; it takes {list(SOURCE_OPTIONS[key])}")
    source_options = dict(source_options)
    if isinstance(source_options.get("views"), str):
        source_options["views"] = [source_options["views"]]
    if data_dir is not None and not isinstance(data_dir, str | os.PathLike):
        raise TypeError(f"data_dir must be a folder path or None, got {data_dir!r}")
    if key == "phantom" and data_dir is not None:
        raise ValueError("the phantom is rendered, not read: leave data_dir out for stream('phantom', ...)")
    if key == "phantom" and num_images is None:
        raise ValueError("the phantom never runs out: pass num_images, the images per epoch, e.g. 6400")
    if key != "phantom" and task != "classification":
        raise ValueError(
            f"stream({key!r}) serves task='classification': labels are the only ground truth of the full set; "
            f"load({key!r}, ...) reads the images that have {task} annotations into memory"
        )
    if drop_remainder and num_images is not None and num_images < batch_size and key == "phantom":
        raise ValueError(f"num_images={num_images} gives no whole batch of {batch_size} with drop_remainder=True")
    from lecture_lib.datasets.batches import CacheBatches, PhantomBatches  # starts Keras

    loader_kwargs = {"workers": workers, "use_multiprocessing": use_multiprocessing, "max_queue_size": max_queue_size}
    if key == "phantom":
        return PhantomBatches(num_images, image_size, batch_size, task, split, seed, augment, drop_remainder,
                             options, source_options, **loader_kwargs)  # fmt: skip

    folder = dl.dataset_folder(key, data_dir)
    if key == "nih":
        index = _nih_index(folder, split, **source_options)
    elif key == "chexpert":
        index = _chexpert_index(folder, split, image_size, **source_options)
    else:
        index = _mimic_index(folder, split, image_size, **source_options)
    paths, labels = index.paths, index.labels
    if num_images is not None:
        paths, labels = paths[:num_images], labels[:num_images]
    if drop_remainder and len(paths) < batch_size:
        raise ValueError(f"{len(paths)} images give no whole batch of {batch_size} with drop_remainder=True")
    cache = ArrayCache(folder / "cache" / f"{image_size}px", image_size)  # the folder load(...) reads and writes
    keys = _cache_keys(paths, folder)
    entries = fill_cache(paths, image_size, cache, keys, index.reader, progress=progress, desc=index.desc)
    return CacheBatches(cache, keys, entries, labels, batch_size, task, shuffle, seed, augment, drop_remainder,
                        options, **loader_kwargs)  # fmt: skip
