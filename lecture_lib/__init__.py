"""Lecture 6 helper library."""

__version__ = "0.1.0"
