"""Throughput of the dataset image pipeline: 1024 x 1024 PNGs and JPEG DICOMs decoded and resized to 256 x 256.

Inputs are generated in a temporary folder: the two real NIH images in `../shared/realdata/` upsampled to
1024 x 1024 with a little noise per copy (so that PNG compression does real work), or smooth random images when
that folder is absent. Rows per CPU second (all threads summed) show the cost when the machine is shared:
on `k` idle cores the wall-clock rate approaches `k` times that figure. "cold" means no cache of resized arrays (the files themselves are in the OS page cache);
"cache" is the second `load_images` call, which reads the memory-mapped uint16 cache (`arraycache`). All cores are used.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lecture_lib.datasets.dicom import write_dicom
from lecture_lib.datasets.imageio import load_images

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"
NUM_PNG = 200
NUM_DICOM = 60
SIZE = 256


def _sources(rng) -> list[np.ndarray]:
    names = ["00000001_000.png", "00027426_000.png"]
    if all((REALDATA / name).exists() for name in names):
        return [np.asarray(Image.open(REALDATA / name).convert("L").resize((1024, 1024), Image.BICUBIC), np.float32)
                for name in names]  # fmt: skip
    small = rng.random((2, 16, 16)) * 255
    return [
        np.asarray(Image.fromarray(image.astype(np.float32), "F").resize((1024, 1024), Image.BICUBIC))
        for image in small
    ]


def _timed(paths, cache_dir, root) -> tuple[float, float, float, float]:
    """Images per wall second and per CPU second (all threads), cold then from the cache.

    A first uncached load of two of the files warms up what a process does once (imports of tqdm and the
    decoders, the thread pool), so that the rows measure the throughput of a long load.
    """
    load_images(paths[:2], SIZE, progress=False)
    figures = []
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        load_images(paths, SIZE, cache_dir=cache_dir, root=root, progress=False)
        figures += [len(paths) / (time.perf_counter() - wall), len(paths) / (time.process_time() - cpu)]
    return tuple(figures)


def _rows(name: str, figures) -> list[tuple[str, float, str]]:
    cold, cold_cpu, cached, cached_cpu = figures
    return [
        (f"{name}, cold", cold, "images/s"),
        (f"{name}, cold, per CPU second", cold_cpu, "images/CPU-s"),
        (f"{name}, from cache", cached, "images/s"),
        (f"{name}, from cache, per CPU second", cached_cpu, "images/CPU-s"),
    ]


def run() -> list[tuple[str, float, str]]:
    """Return rows `(name, images per second, "images/s")`, cold and from the cache, for PNG and JPEG DICOM."""
    rng = np.random.default_rng(0)
    sources = _sources(rng)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pngs = []
        for index in range(NUM_PNG):
            noisy = sources[index % 2] + rng.normal(0, 2.0, (1024, 1024))
            path = root / "png" / f"{index:05d}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path)
            pngs.append(path)
        rows += _rows("PNG 1024 8-bit -> 256", _timed(pngs, root / "cache", root))
        dicoms = []
        for index in range(NUM_DICOM):
            image = np.clip(sources[index % 2] / 255 + rng.normal(0, 0.01, (1024, 1024)), 0, 1).astype(np.float32)
            dicoms.append(write_dicom(root / "dcm" / f"{index:05d}.dcm", image, patient_id=f"P{index}", bits_stored=8,
                                      compression="jpeg_baseline"))  # fmt: skip
        rows += _rows("JPEG DICOM 1024 -> 256", _timed(dicoms, root / "cache", root))
    return rows


if __name__ == "__main__":
    for name, figure, unit in run():
        print(f"{name:40s} {figure:10.1f} {unit}")
