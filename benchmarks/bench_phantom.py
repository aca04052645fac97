"""Throughput of the chest X-ray phantom on one CPU thread, at 64, 128 and 256 pixels.

Timed in process CPU seconds (`time.process_time`), which other processes on a shared machine do not inflate the way
they inflate wall-clock time; the renderer is single-threaded numpy, so CPU time is the one-core cost.
CPU time still varies by about 5 % from run to run on a shared virtual machine, so the best of five runs is reported.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import time

from lecture_lib.datasets.phantom import generate

IMAGES = {64: 256, 128: 128, 256: 32}


def run() -> list[tuple[str, float, str]]:
    """Return rows `(name, images per CPU second, "images/s")` for each image size (best of 5 runs)."""
    rows = []
    for size, count in IMAGES.items():
        generate(4, image_size=size, seed=0)
        best = float("inf")
        for repeat in range(5):
            start = time.process_time()
            generate(count, image_size=size, seed=repeat)
            best = min(best, time.process_time() - start)
        rows.append((f"phantom.generate {size}x{size}", count / best, "images/s"))
    return rows


if __name__ == "__main__":
    for name, figure, unit in run():
        print(f"{name:32s} {figure:10.1f} {unit}")
