"""Lecture 6 helper library."""
