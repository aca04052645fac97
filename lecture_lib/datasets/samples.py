"""Two real NIH ChestX-ray14 radiographs shipped with the course: try a phantom-trained model on real films.

The files live in `lecture_lib/samples/` (package data, so they come with every install): two 512 x 512 8-bit PNGs
with NIH's own names, and `samples.csv`, their rows of NIH's `Data_Entry_2017_v2020.csv` unchanged. The README
there names the source, the licence terms, the acknowledgement and the citation (Wang et al., CVPR 2017).

| file | NIH Finding Labels | patient | age, sex | view |
|---|---|---|---|---|
| `00000001_000.png` | Cardiomegaly | 00000001 | 57, M | PA |
| `00027426_000.png` | No Finding | 00027426 | 53, M | PA |

Example:
    >>> from lecture_lib.datasets.samples import load_samples
    >>> real = load_samples(image_size=128)
    >>> real.images.shape, list(real.views)
    ((2, 128, 128, 1), ['PA', 'PA'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lecture_lib.datasets.imageio import load_images
from lecture_lib.datasets.nih import label_matrix, read_labels
from lecture_lib.datasets.schema import CXRSet

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
"""The folder of the shipped radiographs, `lecture_lib/samples/`."""

LABEL_FILE = "samples.csv"
"""The samples' rows of NIH's label file, in NIH's format (`nih.read_labels` reads it)."""


def load_samples(image_size: int = 256) -> CXRSet:
    """Load the course's real NIH sample radiographs, resized to `image_size`, with their NIH labels.

    Args:
        image_size: output side `S` in pixels (the files are 512 x 512; larger sizes are upsampled).

    Returns:
        A `CXRSet` with `images` `(N, S, S, 1)` float32 in [0, 1] (display convention: bone bright, air dark;
        antialiased area averaging like every loader), `labels` `(N, 15)` multi-hot over the slide's codes (never
        NaN), `patient_ids` (NIH's 8-digit ids), `views` (`"PA"` / `"AP"`), `pixel_spacing_mm` `(N, 2)` (row,
        column) at the output size, `targets` `age_years` `(N,)` float32 and `sex` `(N,)` str, and
        `source="nih-samples"`. The rows follow `samples.csv`.

    Raises:
        ValueError: for an `image_size` that is not an integer between 2 and 8192.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer) or not 2 <= image_size <= 8192:
        raise ValueError(f"image_size must be an integer between 2 and 8192 pixels, got {image_size!r}; e.g. 256")
    size = int(image_size)
    table = read_labels(SAMPLES_DIR / LABEL_FILE)
    images, _ = load_images(
        [SAMPLES_DIR / name for name in table["image"]], size, cache_dir=None, num_workers=1, progress=False
    )
    # NIH's spacing is that of the original image; its PNGs stretch it to a square, so each axis scales on its own.
    spacing = np.stack(
        [
            table["spacing_y_mm"].to_numpy() * table["original_height"].to_numpy() / size,
            table["spacing_x_mm"].to_numpy() * table["original_width"].to_numpy() / size,
        ],
        axis=1,
    ).astype(np.float32)
    return CXRSet(
        images=images,
        labels=label_matrix(table["findings"]),
        targets={
            "age_years": table["age"].to_numpy(dtype=np.float32),
            "sex": table["sex"].to_numpy(dtype=object),
        },
        patient_ids=table["patient_id"].to_numpy(dtype=object),
        views=table["view"].to_numpy(dtype=object),
        pixel_spacing_mm=spacing,
        source="nih-samples",
    )
