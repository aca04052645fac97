"""Chest X-ray datasets: the `CXRSet` container, the synthetic phantom, and loaders for the slides' real datasets.

`load(name, ...)` is the one entry point the notebooks use (`DATASET = "phantom"` or `"nih"`, ...). The real
loaders are imported on first use, so `import lecture_lib.datasets` stays light.

Example:
    >>> from lecture_lib import datasets
    >>> data = datasets.load("phantom", image_size=64, num_images=16)
    >>> isinstance(data, datasets.CXRSet)
    True
"""

import importlib

from lecture_lib.datasets.catalog import SOURCES, load
from lecture_lib.datasets.phantom import generate
from lecture_lib.datasets.schema import CXRSet
from lecture_lib.datasets.stream import stream

_LAZY = {
    "read_dicom": "lecture_lib.datasets.dicom",
    "write_dicom": "lecture_lib.datasets.dicom",
    "load_nih": "lecture_lib.datasets.nih",
    "load_chexpert": "lecture_lib.datasets.chexpert",
    "load_mimic": "lecture_lib.datasets.mimic",
    "load_padchest": "lecture_lib.datasets.padchest",
    "load_jsrt": "lecture_lib.datasets.jsrt",
    "load_siim": "lecture_lib.datasets.siim",
    "rle_decode": "lecture_lib.datasets.siim",
    "rle_encode": "lecture_lib.datasets.siim",
    "load_rsna": "lecture_lib.datasets.rsna",
    "load_samples": "lecture_lib.datasets.samples",
    "load_montgomery": "lecture_lib.datasets.montgomery",
    "load_mask_folder": "lecture_lib.datasets.montgomery",
    "load_shenzhen": "lecture_lib.datasets.shenzhen",
    "load_chestmnist": "lecture_lib.datasets.medmnist",
    "load_pneumoniamnist": "lecture_lib.datasets.medmnist",
    "DatasetNotFoundError": "lecture_lib.datasets.download",
    "DownloadError": "lecture_lib.datasets.download",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lecture_lib.datasets' has no attribute {name!r}")


__all__ = ["CXRSet", "SOURCES", "generate", "load", "stream", *_LAZY]
