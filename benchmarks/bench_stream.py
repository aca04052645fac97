"""Throughput of `datasets.stream`: batches read from the on-disk cache, and `fit` fed by it vs by numpy arrays.

A synthetic NIH folder is written in a temporary folder: a label file, one empty file per image (never decoded)
and a cache of `NUM_IMAGES` random 256 x 256 images written with `ArrayCache.add`, whose stamps make every image
fresh, so the rows measure reading, not decoding (`bench_loaders.py` measures that). The files sit in the OS page
cache, as a second epoch over a set that fits in RAM does; a set larger than RAM reads at the disk's speed.

Rows:
- streaming from the cache at 256 px: shuffled batches of `BATCH_SIZE` through `stream(...)[i]`, in one thread
  (the issue's floor: 5,000 img/s on the 2-core course machine; TorchXRayVision's `NIH_Dataset` + `DataLoader`
  decodes the PNGs at 17 img/s in one process and 29 img/s with 2 workers there);
- the phantom rendered by `stream("phantom")` at 256 px, for comparison;
- `fit` of the course's small CNN classifier at `FIT_SIZE` px, fed by `stream` vs by the same images as numpy
  arrays in memory (`fit(x, y)`), in training steps per second after a warm-up epoch (the better of `REPEATS`
  alternated runs each), and their ratio (stream / numpy: 1.0 means the stream keeps up with the training step;
  on a CPU the stream's reads take cycles from the step, on a GPU they overlap with it).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from lecture_lib import datasets
from lecture_lib.datasets.arraycache import ArrayCache, file_stamp
from lecture_lib.models import build_cnn_classifier

NUM_IMAGES = int(os.environ.get("BENCH_STREAM_IMAGES", "4096"))
BATCH_SIZE = 64
SIZE = 256
FIT_SIZE = 128
FIT_IMAGES = 512
EPOCHS = 2
REPEATS = 2
NIH_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
    "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]"
)


def write_cached_nih(folder: Path, num_images: int, image_size: int, rng: np.random.Generator) -> Path:
    """An NIH folder of `num_images` empty image files, each cached as a random image at `image_size`."""
    (folder / "images").mkdir(parents=True)
    findings = ["Cardiomegaly", "No Finding", "Effusion|Mass", "Nodule"]
    names = [f"{i:08d}_000.png" for i in range(num_images)]
    rows = [f"{name},{findings[i % 4]},0,{i},50,F,PA,2048,2048,0.14,0.14" for i, name in enumerate(names)]
    (folder / "Data_Entry_2017_v2020.csv").write_text("\n".join([NIH_HEADER, *rows]) + "\n")
    cache = ArrayCache(folder / "cache" / f"{image_size}px", image_size)
    for start in range(0, num_images, 1024):
        chunk = names[start : start + 1024]
        for name in chunk:
            (folder / "images" / name).touch()
        images = rng.integers(0, 65536, size=(len(chunk), image_size, image_size), dtype=np.uint16)
        cache.add(images, [f"images__{name}" for name in chunk], np.full((len(chunk), 2), 1024),
                  [file_stamp(folder / "images" / name) for name in chunk])  # fmt: skip
    return folder


def _images_per_second(data, passes: int = 2) -> float:
    """Read every batch `passes` times after one warm-up pass (which brings the files into the page cache)."""
    for index in range(len(data)):
        data[index]
    start, count = time.perf_counter(), 0
    for _ in range(passes):
        data.on_epoch_end()
        for index in range(len(data)):
            count += len(data[index][0])
    return count / (time.perf_counter() - start)


def _fit_steps_per_second(model, *fit_args, **fit_kwargs) -> float:
    """Training steps per second of the epochs after the first (tracing, compilation)."""
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: times.append([time.perf_counter()]),
        on_epoch_end=lambda epoch, logs: times[-1].append(time.perf_counter()),
    )
    steps = []
    counter = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: steps.append(0),
                                             on_train_batch_end=lambda batch, logs: steps.__setitem__(-1, steps[-1] + 1))  # fmt: skip
    model.fit(*fit_args, epochs=1 + EPOCHS, verbose=0, callbacks=[timer, counter], **fit_kwargs)
    return sum(steps[1:]) / sum(end - begin for begin, end in times[1:])


def run() -> list[tuple[str, float, str]]:
    """Return the rows described in the module docstring."""
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = write_cached_nih(Path(temporary) / "nih", NUM_IMAGES, SIZE, rng)
        data = datasets.stream("nih", image_size=SIZE, batch_size=BATCH_SIZE, split="all", data_dir=folder,
                               progress=False)  # fmt: skip
        rows.append((f"stream from cache, {SIZE} px, shuffled batches of {BATCH_SIZE}", _images_per_second(data),
                     "images/s"))  # fmt: skip
        phantom = datasets.stream("phantom", image_size=SIZE, batch_size=16, num_images=64)
        rows.append((f"stream('phantom'), {SIZE} px, rendered", _images_per_second(phantom, passes=1), "images/s"))

        folder = write_cached_nih(Path(temporary) / "nih-fit", FIT_IMAGES, FIT_SIZE, rng)
        data = datasets.stream("nih", image_size=FIT_SIZE, batch_size=BATCH_SIZE, split="all", data_dir=folder,
                               progress=False, workers=2)  # fmt: skip
        x = np.concatenate([data[index][0] for index in range(len(data))])
        y = np.concatenate([data[index][1] for index in range(len(data))])
        # Alternate the two feeds and keep each one's best run: on a shared machine the load of the moment
        # otherwise decides the ratio.
        best = {"numpy": 0.0, "stream": 0.0}
        for _ in range(REPEATS):
            for feed in best:
                keras.utils.set_random_seed(0)
                model = build_cnn_classifier((FIT_SIZE, FIT_SIZE, 1))
                model.compile("adam", "binary_crossentropy")
                if feed == "numpy":
                    rate = _fit_steps_per_second(model, x, y, batch_size=BATCH_SIZE, shuffle=True)
                else:
                    rate = _fit_steps_per_second(model, data, shuffle=False)
                best[feed] = max(best[feed], rate)
        in_memory, streamed = best["numpy"], best["stream"]
        rows += [
            (f"fit cnn_classifier {FIT_SIZE} px, numpy arrays", in_memory, "steps/s"),
            (f"fit cnn_classifier {FIT_SIZE} px, stream (2 workers)", streamed, "steps/s"),
            ("fit: stream / numpy", streamed / in_memory, "ratio"),
        ]
    return rows


if __name__ == "__main__":
    for name, figure, unit in run():
        print(f"{name:50s} {figure:10.1f} {unit}")
