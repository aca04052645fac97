"""Figures for the lecture: image grids, overlays of masks / boxes / landmarks / heatmaps, ROC, learning curves
and Bland–Altman agreement.

Every function returns a `matplotlib.figure.Figure` and never calls `plt.show()`, so the same code runs in a
notebook (a figure that is the value of a cell is drawn once), in a script, and headless in CI. Functions that draw
on one image also accept `ax=` to draw into an existing axes, e.g. one panel of `plt.subplots(1, 3)`.

Images are `(height, width)` or `(height, width, 1)` floats in `[0, 1]` in the display convention (bright = dense),
shown without rescaling so that brightness means the same in every panel. Coordinates follow the `CXRSet`
contract: `x` is the column and `y` the row, measured in pixels from the top-left corner of the top-left pixel, so
pixel `(row, col)` covers `[col, col + 1) x [row, row + 1)` and its centre is at `(col + 0.5, row + 0.5)`.

Example:
    >>> from lecture_lib import viz
    >>> fig = viz.draw_boxes(image, [[10, 12, 40, 44]], classes=[11], scores=[0.93])  # "Nodule 0.93"
    >>> viz.save_figure(fig, "/tmp/boxes.png")
"""

from __future__ import annotations

import math
import os
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from skimage.measure import find_contours

from lecture_lib import labels as pathology_labels

PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#ffe119",
    "#469990",
    "#6a5acd",
    "#9a6324",
    "#808000",
    "#800000",
    "#000075",
)
"""Fifteen distinct colours (one per slide code), readable on a grey radiograph."""

TRUTH_COLOR = "#3cb44b"
PREDICTION_COLOR = "#e6194b"
LANDMARK_COLOR = "#42d4f4"
# A dark outline keeps white names readable on bright bone and on dark lung alike.
OUTLINED = [patheffects.withStroke(linewidth=2, foreground="black")]


def _color(index: int) -> str:
    return PALETTE[int(index) % len(PALETTE)]


def _to_numpy(array) -> np.ndarray:
    """Accept numpy arrays, lists and backend tensors (TensorFlow, JAX, torch on CPU)."""
    if hasattr(array, "numpy") and not isinstance(array, np.ndarray):
        array = array.numpy()
    return np.asarray(array)


def _as_image(image, name: str = "image") -> np.ndarray:
    array = _to_numpy(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(
            f"{name} has shape {array.shape}; expected one grey image of shape (height, width) or (height, width, 1). "
            f"For a batch, pass one image, e.g. `{name}[0]`"
        )
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} has dtype {array.dtype}; expected floats in [0, 1]")
    return array.astype(np.float32)


def _new_figure(num_panels: int = 1, ncols: int | None = None, size: float = 4.0) -> tuple[Figure, list[Axes]]:
    ncols = num_panels if ncols is None else max(1, min(ncols, num_panels))
    nrows = max(1, math.ceil(num_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, layout="constrained")
    # Closed at once: pyplot keeps no reference (no leak over hundreds of calls, no second copy drawn by a notebook),
    # yet the figure can still be saved, displayed or drawn on.
    plt.close(fig)
    axes = list(axes.ravel())
    for extra in axes[num_panels:]:
        extra.set_axis_off()
    return fig, axes[:num_panels]


def _figure_and_axes(ax: Axes | None, size: float = 5.0) -> tuple[Figure, Axes]:
    if ax is None:
        fig, (ax,) = _new_figure(1, size=size)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from `plt.subplots()`), got {type(ax).__name__}")
    return ax.figure, ax


def _show(ax: Axes, image: np.ndarray, cmap: str = "gray", vmin: float | None = 0.0, vmax: float | None = 1.0):
    """Draw an image with pixel (row, col) covering [col, col + 1) x [row, row + 1), the CXRSet coordinates."""
    height, width = image.shape[:2]
    artist = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, extent=(0, width, height, 0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return artist


def _legend(ax: Axes, handles: list) -> None:
    """Put the legend beside the image, where it hides no anatomy."""
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small")


def _class_name(code: int, class_names: Sequence[str] | None) -> str:
    if class_names is not None:
        return str(class_names[code]) if 0 <= code < len(class_names) else f"class {code}"
    if 0 <= code < pathology_labels.NUM_PATHOLOGIES:
        return pathology_labels.PATHOLOGIES[code]
    return f"class {code}"


def _split_batch(images) -> list[np.ndarray]:
    if isinstance(images, list | tuple):
        return [_as_image(image, f"images[{i}]") for i, image in enumerate(images)]
    array = _to_numpy(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    elif array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 1):
        return [_as_image(array, "images")]
    if array.ndim != 3:
        raise ValueError(
            f"images has shape {array.shape}; expected a batch (num_images, height, width[, 1]), one image "
            "(height, width[, 1]) or a list of images"
        )
    return [_as_image(image, f"images[{i}]") for i, image in enumerate(array)]


def show_images(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    cmap: str = "gray",
    size: float = 2.5,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    suptitle: str | None = None,
) -> Figure:
    """Show images in a grid, each with an optional title.

    Args:
        images: `(num_images, height, width, 1)` or `(num_images, height, width)` array, or a list of images of
            any sizes; one `(height, width[, 1])` image is also accepted.
        titles: one title per image, or `None`.
        ncols: number of columns; rows follow.
        cmap: Matplotlib colormap.
        size: edge of one panel in inches.
        vmin: value shown black; `None` for each image's own minimum.
        vmax: value shown white; `None` for each image's own maximum.
        suptitle: a title over the whole grid.

    Returns:
        The figure, one axes per image (spare grid cells are hidden).

    Raises:
        ValueError: if the shapes are not images or the number of titles differs from the number of images.
    """
    panels = _split_batch(images)
    if not panels:
        raise ValueError("images is empty; pass at least one image")
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"got {len(titles)} titles for {len(panels)} images; pass one title per image or None")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    fig, axes = _new_figure(len(panels), ncols=ncols, size=size)
    for index, (ax, image) in enumerate(zip(axes, panels, strict=True)):
        _show(ax, image, cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(textwrap.fill(str(titles[index]), width=max(12, int(size * 11))), fontsize="medium")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _mask_channels(masks, shape: tuple[int, int], names) -> tuple[np.ndarray, list[str]]:
    array = _to_numpy(masks)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[:2] != shape:
        raise ValueError(
            f"masks has shape {array.shape} but the image is {shape}; expected (height, width) or "
            f"(height, width, num_masks) with the image's height and width"
        )
    num_masks = array.shape[-1]
    if names is None:
        names = [f"mask {i}" for i in range(num_masks)]
    names = [str(name) for name in names]
    if len(names) != num_masks:
        raise ValueError(f"got {len(names)} mask names for {num_masks} mask channels; pass one name per channel")
    return array.astype(np.float32), names


def overlay_masks(
    image,
    masks,
    names: Sequence[str] | None = None,
    ax: Axes | None = None,
    threshold: float = 0.5,
    fill_alpha: float = 0.18,
    linewidth: float = 1.5,
    show_empty: bool = True,
    title: str | None = None,
) -> Figure:
    """Outline each mask with a coloured contour (and a light fill) on the image, with a legend.

    Args:
        image: `(height, width)` or `(height, width, 1)` float image in `[0, 1]`.
        masks: `(height, width, num_masks)` binary masks or probabilities, or one `(height, width)` mask.
        names: one name per mask channel for the legend, e.g. `CXRSet.mask_names`.
        ax: draw into this axes instead of a new figure.
        threshold: the contour level; probabilities at or above it are inside.
        fill_alpha: opacity of the fill inside each mask; 0 draws contours only.
        linewidth: contour width in points.
        show_empty: list empty masks in the legend as "name (empty)"; `False` leaves them out.
        title: axes title.

    Returns:
        The figure. Each closed contour is one `Line2D`; the legend has one entry per (non-empty) mask.

    Raises:
        ValueError: if the masks' height and width differ from the image's, or the names do not match the channels.
    """
    picture = _as_image(image)
    channels, names = _mask_channels(masks, picture.shape, names)
    fig, ax = _figure_and_axes(ax)
    _show(ax, picture)
    height, width = picture.shape
    handles = []
    for channel, name in enumerate(names):
        color = _color(channel)
        mask = channels[..., channel]
        inside = mask >= threshold
        if fill_alpha > 0 and inside.any():
            rgba = np.zeros((height, width, 4), dtype=np.float32)
            rgba[inside] = (*to_rgb(color), fill_alpha)
            ax.imshow(rgba, extent=(0, width, height, 0), interpolation="nearest")
        # Padding closes contours that touch the border; +0.5 puts find_contours' pixel indices on pixel centres.
        for contour in find_contours(np.pad(mask, 1), threshold):
            ax.plot(contour[:, 1] - 0.5, contour[:, 0] - 0.5, color=color, linewidth=linewidth)
        if inside.any() or show_empty:
            label = name if inside.any() else f"{name} (empty)"
            handles.append(Line2D([], [], color=color, linewidth=linewidth, label=label))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    _legend(ax, handles)
    if title:
        ax.set_title(title)
    return fig


def draw_boxes(
    image,
    boxes,
    classes=None,
    scores=None,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    score_threshold: float | None = None,
    color: str | None = None,
    linewidth: float = 1.5,
    title: str | None = None,
) -> Figure:
    """Draw `xyxy` boxes with their class name and score on the image.

    Rows padded with -1 (all four coordinates -1, or class -1) are skipped, so `CXRSet.boxes[i]` can be passed as is.

    Args:
        image: `(height, width)` or `(height, width, 1)` float image in `[0, 1]`.
        boxes: `(num_boxes, 4)` `(x1, y1, x2, y2)` in pixels, `x1 <= x2`, `y1 <= y2`.
        classes: `(num_boxes,)` integer classes (the slide's codes unless `class_names` says otherwise), or `None`.
        scores: `(num_boxes,)` confidences in `[0, 1]` (predictions), or `None` (ground truth).
        class_names: names indexed by class; default `lecture_lib.labels.PATHOLOGIES` (code 11 is "Nodule").
        ax: draw into this axes instead of a new figure.
        score_threshold: skip boxes whose score is below it.
        color: one colour for every box; default a colour per class.
        linewidth: box edge width in points.
        title: axes title.

    Returns:
        The figure; each drawn box is one `Rectangle` patch with one text label (when it has a class or score).

    Raises:
        ValueError: for boxes that are not `(num_boxes, 4)`, classes or scores of another length, or a box with
            `x2 < x1` or `y2 < y1` (convert `xywh` boxes with `keras.utils.bounding_boxes.convert_format`).
    """
    picture = _as_image(image)
    array = _to_numpy(boxes).astype(np.float32)
    if array.ndim == 1 and array.size == 4:
        array = array[None]
    if array.ndim != 2 or array.shape[-1] != 4:
        raise ValueError(
            f"boxes has shape {array.shape}; expected (num_boxes, 4) xyxy pixels for one image. "
            "For a CXRSet pass `cxr.boxes[i]`"
        )
    num_boxes = len(array)
    classes_array = None if classes is None else _to_numpy(classes).reshape(-1).astype(np.int64)
    scores_array = None if scores is None else _to_numpy(scores).reshape(-1).astype(np.float32)
    for name, values in (("classes", classes_array), ("scores", scores_array)):
        if values is not None and len(values) != num_boxes:
            raise ValueError(f"{name} has {len(values)} entries for {num_boxes} boxes; pass one per box")
    fig, ax = _figure_and_axes(ax)
    _show(ax, picture)
    _add_boxes(ax, array, classes_array, scores_array, class_names, score_threshold, color, linewidth)
    height, width = picture.shape
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    if title:
        ax.set_title(title)
    return fig


def _add_boxes(
    ax: Axes,
    boxes: np.ndarray,
    classes: np.ndarray | None,
    scores: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    score_threshold: float | None = None,
    color: str | None = None,
    linewidth: float = 1.5,
) -> list:
    """Draw boxes on an axes that already shows the image; return legend handles, one per class drawn."""
    drawn_codes = []
    for row, (x1, y1, x2, y2) in enumerate(boxes):
        if np.all(boxes[row] == -1) or (classes is not None and classes[row] == -1):
            continue
        if x2 < x1 or y2 < y1:
            raise ValueError(
                f"box {row} is {boxes[row].tolist()}; xyxy needs x1 <= x2 and y1 <= y2. If the boxes are "
                "(x, y, width, height), convert them with keras.utils.bounding_boxes.convert_format(boxes, "
                "source='xywh', target='xyxy')"
            )
        score = None if scores is None else float(scores[row])
        if score_threshold is not None and score is not None and score < score_threshold:
            continue
        code = None if classes is None else int(classes[row])
        box_color = color or (_color(code) if code is not None else PREDICTION_COLOR)
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=box_color, linewidth=linewidth))
        parts = [_class_name(code, class_names)] if code is not None else []
        if score is not None:
            parts.append(f"{score:.2f}")
        if parts:
            ax.text(x1, y1, " ".join(parts), color="black", fontsize="x-small", va="bottom", ha="left", clip_on=True,
                    bbox={"facecolor": box_color, "edgecolor": "none", "alpha": 0.8, "pad": 1.0})  # fmt: skip
        if code is not None and code not in drawn_codes:
            drawn_codes.append(code)
    return [
        Patch(edgecolor=color or _color(code), facecolor="none", label=_class_name(code, class_names))
        for code in drawn_codes
    ]


def _points(points, name: str, num_points: int | None = None) -> np.ndarray:
    array = _to_numpy(points).astype(np.float32)
    if array.ndim != 2 or array.shape[-1] != 2 or (num_points is not None and len(array) != num_points):
        wanted = "(num_landmarks, 2)" if num_points is None else f"({num_points}, 2)"
        raise ValueError(
            f"{name} has shape {array.shape}; expected {wanted} (x, y) pixels for one image. "
            "For a CXRSet pass `cxr.landmarks[i]`"
        )
    return array


def draw_landmarks(
    image,
    points,
    names: Sequence[str] | None = None,
    ax: Axes | None = None,
    truth=None,
    pixel_spacing_mm: Sequence[float] | None = None,
    show_names: bool = True,
    title: str | None = None,
) -> Figure:
    """Mark named anatomical points; with `truth`, compare predictions to it with error lines.

    Args:
        image: `(height, width)` or `(height, width, 1)` float image in `[0, 1]`.
        points: `(num_landmarks, 2)` `(x, y)` pixels; NaN rows (absent points) are skipped.
        names: one name per point, e.g. `CXRSet.landmark_names`; written next to each point.
        ax: draw into this axes instead of a new figure.
        truth: `(num_landmarks, 2)` ground truth; `points` are then predictions, each joined to its true point by
            an error line, and the mean radial error goes into the title.
        pixel_spacing_mm: `(row, column)` mm per pixel, to state the mean error in mm as well.
        show_names: write the names next to the points.
        title: axes title (the mean error is appended when `truth` is given).

    Returns:
        The figure: one scatter of points (two with `truth`), one `LineCollection` of error lines, one text per
        named point that is present.

    Raises:
        ValueError: if `points` or `truth` are not `(num_landmarks, 2)` or the names do not match.
    """
    picture = _as_image(image)
    predicted = _points(points, "points")
    expected = None if truth is None else _points(truth, "truth", len(predicted))
    if names is not None and len(names) != len(predicted):
        raise ValueError(f"got {len(names)} names for {len(predicted)} points; pass one name per landmark")
    fig, ax = _figure_and_axes(ax)
    _show(ax, picture)
    height, width = picture.shape
    present = ~np.isnan(predicted).any(axis=1)
    handles = []
    if expected is not None:
        both = present & ~np.isnan(expected).any(axis=1)
        segments = np.stack([predicted[both], expected[both]], axis=1)
        ax.add_collection(LineCollection(segments, colors="yellow", linewidths=1.0, label="error"))
        ax.scatter(*expected[~np.isnan(expected).any(axis=1)].T, s=36, marker="o", facecolors="none",
                   edgecolors=TRUTH_COLOR, linewidths=1.5, label="truth")  # fmt: skip
        handles.append(
            Line2D([], [], color=TRUTH_COLOR, marker="o", markerfacecolor="none", linestyle="", label="truth")
        )
        errors = np.linalg.norm(predicted[both] - expected[both], axis=1)
        summary = f"mean error {errors.mean():.1f} px" if len(errors) else "no point pairs"
        if len(errors) and pixel_spacing_mm is not None:
            spacing = np.asarray(pixel_spacing_mm, dtype=np.float64).reshape(2)
            errors_mm = np.linalg.norm((predicted[both] - expected[both]) * spacing[::-1], axis=1)
            summary += f" = {errors_mm.mean():.1f} mm"
        title = f"{title}\n{summary}" if title else summary
    marker_color = PREDICTION_COLOR if expected is not None else LANDMARK_COLOR
    ax.scatter(*predicted[present].T, s=30, marker="x" if expected is not None else "o", color=marker_color,
               linewidths=1.5, label="prediction")  # fmt: skip
    if expected is not None:
        handles.append(Line2D([], [], color=marker_color, marker="x", linestyle="", label="prediction"))
        handles.append(Line2D([], [], color="yellow", label="error"))
    if show_names and names is not None:
        _name_points(ax, predicted, names, width, fontsize="x-small")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    _legend(ax, handles)
    if title:
        ax.set_title(title)
    return fig


def _name_points(ax: Axes, points: np.ndarray, names: Sequence[str], width: int, fontsize) -> None:
    """Write each present point's name beside it, on the inner side so names near the right edge stay visible."""
    for (x, y), name in zip(points, names, strict=True):
        if np.isnan(x) or np.isnan(y):
            continue
        right_side = x > 0.7 * width
        ax.annotate(str(name), (x, y), xytext=(-4 if right_side else 4, 3), textcoords="offset points",
                    ha="right" if right_side else "left", color="white", fontsize=fontsize, clip_on=True,
                    path_effects=OUTLINED)  # fmt: skip


def overlay_heatmap(
    image,
    heatmap,
    ax: Axes | None = None,
    alpha: float = 0.45,
    cmap: str = "jet",
    normalize: bool = True,
    colorbar: bool = True,
    title: str | None = None,
) -> Figure:
    """Overlay a heatmap (GradCAM, a landmark heatmap, an error map) on the image.

    A heatmap smaller than the image (e.g. GradCAM's `(8, 8)` from the last convolution) is stretched over the whole
    image with bilinear interpolation, each heatmap cell covering the same share of the image.

    Args:
        image: `(height, width)` or `(height, width, 1)` float image in `[0, 1]`.
        heatmap: `(h, w)` or `(h, w, 1)`; `(h, w, num_channels)` (e.g. one heatmap per landmark) is reduced to its
            maximum over channels.
        ax: draw into this axes instead of a new figure.
        alpha: opacity of the heatmap, 0 to 1.
        cmap: Matplotlib colormap of the heatmap.
        normalize: stretch the heatmap to `[0, 1]` (min to max) before colouring; otherwise values are shown as is.
        colorbar: add a colour bar.
        title: axes title.

    Returns:
        The figure with two images (radiograph, heatmap) on the axes.

    Raises:
        ValueError: for a heatmap that is not 2-D (or 3-D with channels), contains NaN, or an alpha outside [0, 1].
    """
    picture = _as_image(image)
    values = _to_numpy(heatmap).astype(np.float32)
    if values.ndim == 3:
        values = values.max(axis=-1)
    if values.ndim != 2:
        raise ValueError(
            f"heatmap has shape {_to_numpy(heatmap).shape}; expected (h, w), (h, w, 1) or (h, w, channels) for one image"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("heatmap contains NaN or infinite values; replace them, e.g. with np.nan_to_num(heatmap)")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if normalize:
        low, high = float(values.min()), float(values.max())
        values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    fig, ax = _figure_and_axes(ax)
    _show(ax, picture)
    height, width = picture.shape
    artist = ax.imshow(values, cmap=cmap, alpha=alpha, extent=(0, width, height, 0), interpolation="bilinear",
                       vmin=0.0 if normalize else None, vmax=1.0 if normalize else None)  # fmt: skip
    if colorbar:
        fig.colorbar(artist, ax=ax, fraction=0.046, pad=0.02)
    if title:
        ax.set_title(title)
    return fig


def before_after(
    before,
    after,
    titles: Sequence[str] = ("before", "after"),
    difference: bool = True,
    size: float = 4.0,
    suptitle: str | None = None,
) -> Figure:
    """Show two images side by side (e.g. radiograph and bone-suppressed twin), with their difference.

    Args:
        before: `(height, width)` or `(height, width, 1)` float image in `[0, 1]`.
        after: the same shape.
        titles: two titles, or three to name the difference panel too.
        difference: add a third panel, `after - before`, on a diverging colormap centred on 0 with a colour bar;
            its title gives the mean absolute difference.
        size: edge of one panel in inches.
        suptitle: a title over the whole figure.

    Returns:
        The figure with two or three axes (plus a colour bar).

    Raises:
        ValueError: if the two images differ in shape or the number of titles is wrong.
    """
    first, second = _as_image(before, "before"), _as_image(after, "after")
    if first.shape != second.shape:
        raise ValueError(f"before has shape {first.shape} but after has {second.shape}; resize one to the other")
    titles = list(titles)
    if len(titles) not in (2, 3):
        raise ValueError(f"titles must hold 2 names (or 3 with the difference panel), got {len(titles)}: {titles}")
    fig, axes = _new_figure(3 if difference else 2, size=size)
    _show(axes[0], first)
    _show(axes[1], second)
    axes[0].set_title(titles[0])
    axes[1].set_title(titles[1])
    if difference:
        delta = second - first
        limit = max(float(np.abs(delta).max()), 1e-6)
        artist = _show(axes[2], delta, cmap="RdBu_r", vmin=-limit, vmax=limit)
        name = titles[2] if len(titles) == 3 else f"{titles[1]} − {titles[0]}"
        axes[2].set_title(f"{name}\nmean |difference| {np.abs(delta).mean():.3f}")
        fig.colorbar(artist, ax=axes[2], fraction=0.046, pad=0.02)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_roc_curves(
    y_true,
    y_score,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = "ROC curves",
) -> Figure:
    """Plot one ROC curve per class with its AUC in the legend (scikit-learn's `roc_curve` and `auc`).

    Labels that are NaN (unknown in the source, e.g. CheXpert's uncertain findings) are left out of that class's
    curve. A class whose known labels are all 0 or all 1 has no ROC curve; it is listed as "n/a" with a warning.

    Args:
        y_true: `(num_images, num_classes)` multi-hot truth (or `(num_images,)` for one binary class).
        y_score: the same shape, predicted probabilities or scores.
        class_names: one name per class; default `lecture_lib.labels.PATHOLOGIES` for 15 classes.
        ax: draw into this axes instead of a new figure.
        title: axes title; the macro-average AUC is appended.

    Returns:
        The figure: one line per class with a curve, plus the dashed chance diagonal.

    Raises:
        ValueError: if the shapes differ or the names do not match the classes.
    """
    from sklearn.metrics import auc, roc_curve

    truth = _to_numpy(y_true).astype(np.float64)
    scores = _to_numpy(y_score).astype(np.float64)
    if truth.ndim == 1:
        truth, scores = truth[:, None], scores.reshape(-1, 1) if scores.ndim == 1 else scores
    if truth.shape != scores.shape or truth.ndim != 2:
        raise ValueError(
            f"y_true has shape {_to_numpy(y_true).shape} but y_score has {_to_numpy(y_score).shape}; expected the "
            "same (num_images, num_classes) shape"
        )
    num_classes = truth.shape[1]
    if class_names is None:
        class_names = (
            pathology_labels.PATHOLOGIES
            if num_classes == pathology_labels.NUM_PATHOLOGIES
            else [f"class {i}" for i in range(num_classes)]
        )
    if len(class_names) != num_classes:
        raise ValueError(f"got {len(class_names)} class names for {num_classes} classes; pass one name per column")
    fig, ax = _figure_and_axes(ax, size=6.0)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance (AUC 0.50)")
    areas, skipped = [], []
    for column, name in enumerate(class_names):
        known = ~np.isnan(truth[:, column])
        positives = truth[known, column]
        if positives.size == 0 or positives.min() == positives.max():
            skipped.append(str(name))
            continue
        fpr, tpr, _ = roc_curve(positives, scores[known, column])
        area = auc(fpr, tpr)
        areas.append(area)
        ax.plot(fpr, tpr, color=_color(column), linewidth=1.5, label=f"{name} (AUC {area:.2f})")
    if skipped:
        warnings.warn(
            f"no ROC curve for {', '.join(skipped)}: their known labels are all one value", UserWarning, stacklevel=2
        )
        for name in skipped:
            ax.plot([], [], color="none", label=f"{name} (AUC n/a)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate (1 − specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    mean = f"mean AUC {np.mean(areas):.3f}" if areas else "no AUC"
    ax.set_title(f"{title} — {mean}" if title else mean)
    return fig


def plot_bland_altman(
    a,
    b,
    ax: Axes | None = None,
    title: str | None = "Bland–Altman",
    unit: str = "",
    names: tuple[str, str] = ("a", "b"),
    color: str = PALETTE[2],
) -> Figure:
    """Plot the agreement of two measurements of the same cases (Bland and Altman, 1986).

    Each case is a point at `((a + b) / 2, a - b)`: the mean of the two measurements on x, their difference on y.
    A solid line marks the bias (the mean difference) and dashed lines the 95 % limits of agreement,
    `bias ± 1.96 SD` (`lecture_lib.evaluation.bland_altman`); their values are written on the lines and in the title.

    Args:
        a: `(num_cases,)` measurements of the new method (e.g. areas from predicted masks); differences are `a - b`.
        b: `(num_cases,)` reference measurements of the same cases (e.g. areas from the true masks).
        ax: draw into this axes instead of a new figure.
        title: axes title; the bias and the limits are appended.
        unit: appended to the numbers and the axis labels, e.g. `"cm²"`; empty for a ratio such as the CTR.
        names: what `a` and `b` are, for the axis labels, e.g. `("predicted", "true")`.
        color: colour of the points.

    Returns:
        The figure.

    Raises:
        ValueError, TypeError: as `evaluation.bland_altman` for inputs that are not two paired, finite arrays.
    """
    from lecture_lib.evaluation import bland_altman

    agreement = bland_altman(a, b)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    fig, ax = _figure_and_axes(ax, size=5.0)
    suffix = f" {unit}" if unit else ""
    # three significant digits on the widest limit, the same decimals for all three numbers
    scale = max(abs(agreement.lower), abs(agreement.upper), 1e-12)
    decimals = max(0, 2 - math.floor(math.log10(scale)))

    def number(value):
        return f"{round(value, decimals) + 0.0:+.{decimals}f}"

    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.scatter((a + b) / 2, a - b, s=14, color=color, alpha=0.8)
    lines = (
        (agreement.upper, "--", f"+1.96 SD {number(agreement.upper)}{suffix}"),
        (agreement.bias, "-", f"bias {number(agreement.bias)}{suffix}"),
        (agreement.lower, "--", f"−1.96 SD {number(agreement.lower)}{suffix}"),
    )
    for value, style, text in lines:
        ax.axhline(value, color="black", linestyle=style, linewidth=1)
        ax.annotate(text, (1.0, value), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize="small")  # fmt: skip
    unit_label = f" ({unit})" if unit else ""
    first, second = names
    ax.set_xlabel(f"mean of {first} and {second}{unit_label}")
    ax.set_ylabel(f"difference {first} − {second}{unit_label}")
    ax.grid(alpha=0.3)
    summary = f"bias {number(agreement.bias)}, limits [{number(agreement.lower)}, {number(agreement.upper)}]{suffix}"
    ax.set_title(f"{title}\n{summary}" if title else summary, fontsize="medium")
    return fig


def _history_dict(history, name: str) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise TypeError(
            f"{name} is a {type(history).__name__}; expected a keras History (from model.fit) or a dict "
            "{'loss': [...], 'val_loss': [...]}"
        )
    return {
        str(key): [float(v) for v in np.asarray(series, dtype=np.float64).reshape(-1)] for key, series in values.items()
    }


def _is_single_run(history) -> bool:
    values = getattr(history, "history", history)
    return isinstance(values, Mapping) and all(
        not isinstance(v, Mapping) and not hasattr(v, "history") for v in values.values()
    )


def plot_learning_curves(
    history_or_dict,
    metrics: Sequence[str] | None = None,
    ncols: int = 3,
    size: float = 4.0,
    log_scale: bool = False,
    title: str | None = None,
) -> Figure:
    """Plot training (solid) and validation (dashed) curves per metric; several runs are overlaid to compare them.

    Args:
        history_or_dict: a keras `History` (from `model.fit`), a dict `{"loss": [...], "val_loss": [...], ...}`, or
            a dict of runs `{"MAE": history_1, "MSE": history_2, "Wing": history_3}` drawn in one colour each.
        metrics: metric names to show, without the `val_` prefix, e.g. `["loss", "mean_absolute_error"]`;
            default every metric, loss first.
        ncols: panels per row.
        size: edge of one panel in inches.
        log_scale: logarithmic y axis (useful when losses differ by orders of magnitude).
        title: a title over the whole figure.

    Returns:
        The figure, one axes per metric with epochs on the x axis.

    Raises:
        TypeError: if a history is neither a keras History nor a dict.
        ValueError: if a requested metric is not recorded in any run.
    """
    if _is_single_run(history_or_dict):
        runs = {"": _history_dict(history_or_dict, "history_or_dict")}
    else:
        runs = {str(name): _history_dict(run, f"run {name!r}") for name, run in history_or_dict.items()}
    available = []
    for run in runs.values():
        for key in run:
            base = key.removeprefix("val_")
            if base not in available:
                available.append(base)
    if not available:
        raise ValueError("the history is empty; train with model.fit first or pass {'loss': [...]} values")
    if metrics is None:
        metrics = sorted(available, key=lambda key: (key != "loss", available.index(key)))
    missing = [metric for metric in metrics if metric not in available]
    if missing:
        raise ValueError(f"metrics {missing} are not recorded; available: {available}")
    fig, axes = _new_figure(len(metrics), ncols=ncols, size=size)
    for ax, metric in zip(axes, metrics, strict=True):
        for run_index, (run_name, run) in enumerate(runs.items()):
            color = _color(run_index + 2)
            for key, style, part in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key in run:
                    epochs = np.arange(1, len(run[key]) + 1)
                    label = f"{run_name} {part}".strip()
                    ax.plot(epochs, run[key], linestyle=style, color=color, marker=".", linewidth=1.5, label=label)
        ax.set_title(metric.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if log_scale:
            ax.set_yscale("log")
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def show_sample(cxr, index: int, size: float = 4.0, show_names: bool = True) -> Figure:
    """Show one record of a `CXRSet` with every kind of ground truth it has.

    Panels: the radiograph with its labels, the same image with mask contours, lesion boxes and named landmarks,
    and the bone-free twin when `cxr.targets["bone_free"]` exists. Works with any object with the `CXRSet` fields
    (`images`, and any of `labels`, `masks` + `mask_names`, `boxes` + `box_classes`, `landmarks` +
    `landmark_names`, `targets`, `patient_ids`, `views`, `pixel_spacing_mm`), missing ones being `None`.

    Args:
        cxr: a `CXRSet` (or an object with the same fields).
        index: which record, `0 <= index < len(cxr.images)`.
        size: edge of one panel in inches.
        show_names: write landmark names next to the points.

    Returns:
        The figure with two or three axes.

    Raises:
        IndexError: if `index` is out of range.
    """
    images = getattr(cxr, "images", None)
    if images is None:
        raise TypeError(f"cxr must have an `images` array like a CXRSet, got {type(cxr).__name__}")
    count = len(images)
    if not -count <= index < count:
        raise IndexError(f"index {index} is out of range for {count} images; pass 0 to {count - 1}")
    image = _as_image(images[index], f"images[{index}]")

    def field(name):
        value = getattr(cxr, name, None)
        return None if value is None else value[index]

    targets = getattr(cxr, "targets", None) or {}
    bone_free = targets.get("bone_free") if isinstance(targets, Mapping) else None
    fig, axes = _new_figure(3 if bone_free is not None else 2, size=size)

    header = [f"#{index}"]
    for name in ("patient_ids", "views"):
        value = field(name)
        if value is not None and str(value):
            header.append(str(value))
    spacing = field("pixel_spacing_mm")
    if spacing is not None and np.all(np.isfinite(spacing)):
        header.append(f"{float(spacing[1]):.3g} mm/px")
    label_vector = field("labels")
    if label_vector is not None:
        vector = np.asarray(label_vector, dtype=np.float32)
        findings = pathology_labels.decode(vector)
        unknown = [pathology_labels.PATHOLOGIES[c] for c in np.flatnonzero(np.isnan(vector))]
        text = ", ".join(findings) or "no label"
        if unknown:
            text += f" (unknown: {len(unknown)})"
        header.append("\n" + text)
    _show(axes[0], image)
    axes[0].set_title(" ".join(header).replace(" \n", "\n"), fontsize="medium")

    overlay_ax = axes[1]
    masks = field("masks")
    if masks is not None:
        names = list(getattr(cxr, "mask_names", ()) or ()) or None
        overlay_masks(image, masks, names=names, ax=overlay_ax, fill_alpha=0.12, show_empty=False)
    else:
        _show(overlay_ax, image)
    legend = overlay_ax.get_legend()
    handles = list(legend.legend_handles) if legend is not None else []
    boxes = field("boxes")
    if boxes is not None:
        classes = field("box_classes")
        classes = None if classes is None else _to_numpy(classes).reshape(-1).astype(np.int64)
        handles += _add_boxes(overlay_ax, _to_numpy(boxes).astype(np.float32).reshape(-1, 4), classes)
    points = field("landmarks")
    if points is not None:
        array = _to_numpy(points).astype(np.float32).reshape(-1, 2)
        present = ~np.isnan(array).any(axis=1)
        overlay_ax.scatter(*array[present].T, s=16, color=LANDMARK_COLOR, edgecolors="black", linewidths=0.5, zorder=3)
        names = list(getattr(cxr, "landmark_names", ()) or ())
        if show_names and len(names) == len(array):
            _name_points(overlay_ax, array, names, image.shape[1], fontsize=6)
        handles.append(Line2D([], [], color=LANDMARK_COLOR, marker="o", linestyle="", label="landmarks"))
    _legend(overlay_ax, handles)
    overlay_ax.set_title("ground truth", fontsize="medium")
    if bone_free is not None:
        _show(axes[2], _as_image(bone_free[index], "targets['bone_free']"))
        axes[2].set_title("bone-free twin", fontsize="medium")
    return fig


def save_figure(fig: Figure | Axes, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Save a figure as an image file (format from the suffix: `.png`, `.pdf`, `.svg` ...), creating folders.

    Args:
        fig: the figure (or any of its axes).
        path: destination file.
        dpi: resolution for raster formats.

    Returns:
        The `Path` written.

    Raises:
        TypeError: if `fig` is not a Matplotlib figure or axes.
    """
    if isinstance(fig, Axes):
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure (as returned by lecture_lib.viz), got {type(fig).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
    return path
