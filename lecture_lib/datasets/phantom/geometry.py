"""Closed-form thicknesses and profiles that every part of the phantom is drawn with, in mm."""

from __future__ import annotations

import numpy as np


def chord(radius, distance):
    """Thickness along the beam of a sphere or cylinder of `radius` at `distance` from its centre (axis)."""
    return 2.0 * np.sqrt(np.maximum(radius * radius - distance * distance, 0.0))


def hollow_chord(radius, distance, inner, weight):
    """`chord(radius, d) - weight * chord(inner * radius, d)`: a bone whose cortex is denser than its marrow.

    Written with in-place operations on the squares, since the ribs evaluate it over most of the image.
    """
    squared = distance * distance
    outer = radius * radius
    core = outer * (inner * inner)
    outer -= squared
    core -= squared
    np.sqrt(np.maximum(outer, 0.0, out=outer), out=outer)
    np.sqrt(np.maximum(core, 0.0, out=core), out=core)
    core *= weight
    outer -= core
    outer *= 2.0
    return outer


def clip(x, low, high):
    """`np.clip` without its Python wrapper, which costs more than the arithmetic on small windows."""
    return np.minimum(np.maximum(x, low), high)


def ramp(margin, depth):
    """Depth profile near a rounded surface: 0 just outside the edge, 1 deeper than `depth` mm (circular section).

    The profile starts 1 mm outside the mask border, the partial-volume blur of a surface that is not parallel to
    the beam everywhere, so lung edges are soft without blurring the masks.
    """
    z = clip((margin + 1.0) * (1.0 / depth), 0.0, 1.0)
    return np.sqrt(z * (2.0 - z))


def segment_distance(u, v, x0, y0, x1, y1):
    """Distance from points `(u, v)` to the segment `(x0, y0)-(x1, y1)`."""
    ex, ey = x1 - x0, y1 - y0
    t = clip(((u - x0) * ex + (v - y0) * ey) * (1.0 / (ex * ex + ey * ey)), 0.0, 1.0)
    du, dv = u - x0 - t * ex, v - y0 - t * ey
    return np.sqrt(du * du + dv * dv)
