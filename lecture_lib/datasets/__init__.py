"""Chest X-ray datasets: the `CXRSet` container and the synthetic phantom every notebook can train on offline."""

from lecture_lib.datasets.schema import CXRSet

__all__ = ["CXRSet"]
