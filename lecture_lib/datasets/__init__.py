"""Chest X-ray datasets: the `CXRSet` container and the synthetic phantom every notebook can train on offline.

Example:
    >>> from lecture_lib import datasets
    >>> data = datasets.generate(16, image_size=64, seed=0)
    >>> isinstance(data, datasets.CXRSet)
    True
"""

from lecture_lib.datasets.phantom import generate
from lecture_lib.datasets.schema import CXRSet

__all__ = ["CXRSet", "generate"]
