"""Bounding boxes for the detection section: the slide's `y = [Pc, Bx, By, Bh, Bw, c]`, IoU, NMS and AP.

Two box layouts meet here:

- **xyxy pixels** — `(x_min, y_min, x_max, y_max)`, how datasets store boxes (CXRSet `boxes`, padded with -1, and
  `box_classes`, padded with -1).
- **the slide's normalized centre form** — `(Bx, By, Bh, Bw)`: centre x and y, then **height before width** (the
  slide's order, kept on purpose), each divided by the image width (x, w) or height (y, h), so in [0, 1].

A single-object detector predicts one vector `y = [Pc, Bx, By, Bh, Bw, c_1 … c_C]` per image (`encode_target`,
`decode_prediction`); a multi-lesion detector predicts one such vector per cell of an S×S grid, as YOLO does
(`encode_grid_target`, `decode_grid_predictions`). Evaluation: `pairwise_iou`, `non_max_suppression` and
`average_precision` (PASCAL VOC all-point interpolation).

`xyxy_to_center`, `center_to_xyxy` and `pairwise_iou` accept NumPy arrays (and return NumPy) or backend tensors
(and return tensors, computed with `keras.ops`, so they can sit inside a model or a loss). The rest is
post-processing and evaluation on NumPy arrays.

Example:
    >>> from lecture_lib import boxes
    >>> boxes.xyxy_to_center([[20, 10, 60, 50]], image_size=(100, 200))   # (height, width)
    array([[0.2, 0.3, 0.4, 0.2]], dtype=float32)
"""

from __future__ import annotations

import warnings

import numpy as np
from keras import ops

from lecture_lib.checks import (
    MAX_CLASSES,
    check_array,
    check_count,
    check_fraction,
    check_number,
    is_number,
    known_values,
)

MAX_IMAGE_SIDE = 100_000
"""Largest image side (px) the box functions accept: radiographs are at most a few thousand pixels, and larger values
overflow float32 box coordinates."""


def _xp(x):
    """Return NumPy for array-likes, `keras.ops` for backend tensors."""
    is_tensor = hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray | np.generic)
    return ops if is_tensor else np


def _as_boxes(boxes, argument: str = "boxes"):
    xp = _xp(boxes)
    if xp is np:
        boxes = check_array(boxes, argument, dtype="float32")
    if len(boxes.shape) == 0 or boxes.shape[-1] != 4:
        raise ValueError(f"{argument} must have 4 coordinates in the last axis, `(..., 4)`, got shape {boxes.shape}")
    return xp, boxes


def _image_hw(image_size) -> tuple[float, float]:
    """Return `(height, width)` from an int (square image) or a `(height, width)` pair."""
    if is_number(image_size):
        image_size = (image_size, image_size)
    try:
        size = tuple(image_size)
    except TypeError:
        size = ()
    if len(size) != 2 or not all(is_number(s) and 0 < s <= MAX_IMAGE_SIDE for s in size):
        raise ValueError(
            f"image_size must be a positive int or a (height, width) pair of at most {MAX_IMAGE_SIDE} px, "
            f"got {image_size!r}"
        )
    return float(size[0]), float(size[1])


def _check_box_values(boxes, argument: str) -> None:
    """Refuse known NaN coordinates and inverted boxes (x_max < x_min or y_max < y_min); symbolic tensors pass."""
    values = known_values(boxes)
    if values is None or values.size == 0:
        return
    values = values.reshape(-1, 4)
    if np.isnan(values).any():
        raise ValueError(f"{argument} holds NaN coordinates, e.g. {values[np.isnan(values).any(axis=1)][0].tolist()}")
    inverted = (values[:, 2] < values[:, 0]) | (values[:, 3] < values[:, 1])
    if inverted.any():
        raise ValueError(
            f"{argument} must be xyxy boxes with x_max >= x_min and y_max >= y_min, got {values[inverted][:3].tolist()}"
            "; are they yxyx or (x, y, width, height)? keras.utils.bounding_boxes.convert_format converts them"
        )


def _check_scores(scores, argument: str = "scores") -> None:
    if np.isnan(scores).any():
        raise ValueError(
            f"{argument} holds NaN at positions {np.flatnonzero(np.isnan(scores.reshape(-1)))[:5].tolist()}; "
            "a NaN score cannot be ranked: check the model's outputs (a diverged training gives NaN)"
        )


def xyxy_to_center(boxes, image_size):
    """Convert xyxy pixel boxes to the slide's normalized `(Bx, By, Bh, Bw)`.

    `Bx = (x_min + x_max) / 2 / width`, `By = (y_min + y_max) / 2 / height`, `Bh = (y_max - y_min) / height`,
    `Bw = (x_max - x_min) / width`. Padding rows (all coordinates negative, e.g. CXRSet's -1) stay -1.

    Args:
        boxes: `(..., 4)` boxes `(x_min, y_min, x_max, y_max)` in pixels.
        image_size: `(height, width)` in pixels, or one int for a square image.

    Returns:
        `(..., 4)` boxes `(Bx, By, Bh, Bw)` in [0, 1]; NumPy float32 for NumPy input, a tensor for a tensor.

    Raises:
        ValueError: if the last axis is not 4 or `image_size` is invalid.
    """
    height, width = _image_hw(image_size)
    xp, boxes = _as_boxes(boxes)
    x_min, y_min, x_max, y_max = (boxes[..., i] for i in range(4))
    centers = xp.stack(
        [(x_min + x_max) / (2.0 * width), (y_min + y_max) / (2.0 * height), (y_max - y_min) / height,
         (x_max - x_min) / width],
        axis=-1,
    )  # fmt: skip
    padded = xp.all(boxes < 0, axis=-1)[..., None]
    return xp.where(padded, -xp.ones_like(centers), centers)


def center_to_xyxy(centers, image_size):
    """Convert the slide's normalized `(Bx, By, Bh, Bw)` to xyxy pixel boxes (the inverse of `xyxy_to_center`).

    Args:
        centers: `(..., 4)` boxes `(Bx, By, Bh, Bw)` normalized by the image size; rows of -1 are padding.
        image_size: `(height, width)` in pixels, or one int for a square image.

    Returns:
        `(..., 4)` boxes `(x_min, y_min, x_max, y_max)` in pixels; padding rows stay -1.

    Raises:
        ValueError: if the last axis is not 4 or `image_size` is invalid.
    """
    height, width = _image_hw(image_size)
    xp, centers = _as_boxes(centers, "centers")
    center_x, center_y = centers[..., 0] * width, centers[..., 1] * height
    half_h, half_w = centers[..., 2] * height / 2.0, centers[..., 3] * width / 2.0
    boxes = xp.stack([center_x - half_w, center_y - half_h, center_x + half_w, center_y + half_h], axis=-1)
    padded = xp.all(centers < 0, axis=-1)[..., None]
    return xp.where(padded, -xp.ones_like(boxes), boxes)


def pairwise_iou(boxes_a, boxes_b):
    """Compute the intersection over union of every box in `boxes_a` with every box in `boxes_b`.

    `IoU = area(A ∩ B) / area(A ∪ B)` on continuous pixel coordinates; boxes of zero area have IoU 0 with all.
    Agrees with `keras.utils.bounding_boxes.compute_iou(a, b, "xyxy")`.

    Args:
        boxes_a: `(N, 4)` xyxy boxes (or `(batch, N, 4)`).
        boxes_b: `(M, 4)` xyxy boxes (or `(batch, M, 4)`).

    Returns:
        `(N, M)` (or `(batch, N, M)`) IoUs in [0, 1]; NumPy for NumPy input, a tensor for tensors.

    Raises:
        ValueError: if a last axis is not 4, a set of boxes is a single `(4,)` box, or (when the values are known,
            outside a traced function) a box has NaN coordinates or is inverted (x_max < x_min or y_max < y_min).
    """
    xp, boxes_a = _as_boxes(boxes_a, "boxes_a")
    _, boxes_b = _as_boxes(boxes_b, "boxes_b")
    for argument, boxes in (("boxes_a", boxes_a), ("boxes_b", boxes_b)):
        if len(boxes.shape) < 2:
            raise ValueError(
                f"{argument} must be `(num_boxes, 4)` (or `(batch, num_boxes, 4)`), got shape {tuple(boxes.shape)}; "
                "for a single box pass [box] or box[None]"
            )
        _check_box_values(boxes, argument)
    if xp is not np:
        boxes_b = ops.cast(boxes_b, boxes_a.dtype)
    a = boxes_a[..., :, None, :]
    b = boxes_b[..., None, :, :]
    inter_w = xp.maximum(xp.minimum(a[..., 2], b[..., 2]) - xp.maximum(a[..., 0], b[..., 0]), 0.0)
    inter_h = xp.maximum(xp.minimum(a[..., 3], b[..., 3]) - xp.maximum(a[..., 1], b[..., 1]), 0.0)
    intersection = inter_w * inter_h
    area_a = xp.maximum(a[..., 2] - a[..., 0], 0.0) * xp.maximum(a[..., 3] - a[..., 1], 0.0)
    area_b = xp.maximum(b[..., 2] - b[..., 0], 0.0) * xp.maximum(b[..., 3] - b[..., 1], 0.0)
    union = area_a + area_b - intersection
    return xp.where(union > 0, intersection / xp.where(union > 0, union, 1.0), 0.0 * union)


def _valid_rows(boxes: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
    valid = ~np.all(boxes < 0, axis=-1)
    if classes is not None:
        valid &= classes >= 0
    return valid


def _check_boxes_and_classes(boxes, classes, num_classes: int):
    boxes = check_array(boxes, "boxes", dtype="float32")
    classes = check_array(classes, "classes")
    if np.any(classes != np.round(classes)):
        raise ValueError(f"classes must be integer class indices (padding -1), got {classes.tolist()}")
    classes = classes.astype("int64")
    if boxes.ndim not in (2, 3) or boxes.shape[-1] != 4 or classes.shape != boxes.shape[:-1]:
        raise ValueError(
            f"boxes must be `(num_boxes, 4)` or `(num_images, num_boxes, 4)` xyxy pixels and classes the same "
            f"shape without the last axis; got boxes {boxes.shape} and classes {classes.shape}"
        )
    num_classes = check_count(
        num_classes, "num_classes", minimum=0, maximum=MAX_CLASSES, fix="0 for a presence-and-box-only detector"
    )
    valid = _valid_rows(boxes, classes)
    bad_class = valid & ((classes < 0) | (classes >= max(num_classes, 1)))
    if num_classes and bad_class.any():
        raise ValueError(
            f"box classes must be in [0, {num_classes}) (padding is -1), got {np.unique(classes[bad_class]).tolist()}; "
            "remap slide codes to your detector's class indices first"
        )
    bad_box = valid & ((boxes[..., 2] <= boxes[..., 0]) | (boxes[..., 3] <= boxes[..., 1]))
    if bad_box.any():
        raise ValueError(
            f"boxes need x_max > x_min and y_max > y_min, got {boxes[bad_box][:3].tolist()}; are they yxyx or xywh?"
        )
    _check_box_values(boxes[valid], "boxes")
    return boxes, classes.astype("int64"), valid


def encode_target(boxes, classes, image_size, num_classes: int) -> np.ndarray:
    """Build the slide's target vector `y = [Pc, Bx, By, Bh, Bw, c_1 … c_C]` for a single-object detector.

    An image without a (non-padding) box gets `Pc = 0` and zeros elsewhere (the loss ignores them). An image
    with several boxes keeps the largest one, with a warning: a single-object detector can report only one; use
    `encode_grid_target` for several lesions.

    Args:
        boxes: `(num_boxes, 4)` xyxy pixel boxes of one image, or `(num_images, num_boxes, 4)`; padded with -1.
        classes: `(num_boxes,)` or `(num_images, num_boxes)` class indices in `[0, num_classes)`, padded with -1.
        image_size: `(height, width)` in pixels, or one int.
        num_classes: C, the number of class entries in `y` (0 for a presence-and-box-only detector).

    Returns:
        `(5 + num_classes,)` float32, or `(num_images, 5 + num_classes)` for batched input.

    Raises:
        ValueError: if the shapes disagree, a class is out of range, or a box is not xyxy.
    """
    boxes, classes, valid = _check_boxes_and_classes(boxes, classes, num_classes)
    if boxes.ndim == 2:
        return encode_target(boxes[None], classes[None], image_size, num_classes)[0]
    targets = np.zeros((boxes.shape[0], 5 + num_classes), dtype="float32")
    areas = np.where(valid, (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1]), -1.0)
    centers = xyxy_to_center(boxes, image_size)
    crowded = int(np.sum(valid.sum(axis=1) > 1))
    if crowded:
        warnings.warn(
            f"{crowded} image(s) have several boxes; the single-object target keeps the largest. "
            "Use encode_grid_target for multi-lesion detection.",
            stacklevel=2,
        )
    for image in np.flatnonzero(valid.any(axis=1)):
        largest = int(np.argmax(areas[image]))
        targets[image, 0] = 1.0
        targets[image, 1:5] = centers[image, largest]
        if num_classes:
            targets[image, 5 + classes[image, largest]] = 1.0
    return targets


def _to_numpy(y, argument: str) -> np.ndarray:
    if y is not None and hasattr(y, "shape") and not isinstance(y, np.ndarray):
        y = ops.convert_to_numpy(y)  # a backend tensor
    return check_array(y, argument, dtype="float32")


def _clip_to_image(boxes: np.ndarray, image_size) -> np.ndarray:
    height, width = _image_hw(image_size)
    clipped = boxes.copy()
    clipped[..., 0::2] = np.clip(clipped[..., 0::2], 0.0, width)
    clipped[..., 1::2] = np.clip(clipped[..., 1::2], 0.0, height)
    return clipped


def decode_prediction(y, image_size, threshold: float = 0.5):
    """Turn single-object predictions `[Pc, Bx, By, Bh, Bw, c…]` into CXRSet-style padded boxes.

    Args:
        y: `(5 + num_classes,)` or `(num_images, 5 + num_classes)` model outputs (Pc and classes as
            probabilities; apply sigmoid/softmax first if the model outputs logits).
        image_size: `(height, width)` in pixels, or one int.
        threshold: a box is reported when `Pc ≥ threshold`.

    Returns:
        `(boxes, scores, classes)`: `(num_images, 1, 4)` xyxy pixels clipped to the image, `(num_images, 1)`
        scores (Pc), `(num_images, 1)` int class indices (argmax of the class part, 0 when there are no classes);
        images below the threshold hold -1 boxes, score 0 and class -1. Unbatched input drops the image axis.

    Raises:
        ValueError: if the last axis has fewer than 5 values, a Pc is NaN, or `threshold` is not in [0, 1].
    """
    threshold = check_fraction(threshold, "threshold")
    y = _to_numpy(y, "y")
    if y.ndim == 1:
        boxes, scores, classes = decode_prediction(y[None], image_size, threshold)
        return boxes[0], scores[0], classes[0]
    if y.ndim != 2 or y.shape[-1] < 5:
        raise ValueError(f"y must be `(num_images, 5 + num_classes)` [Pc, Bx, By, Bh, Bw, c…], got shape {y.shape}")
    _check_scores(y[:, 0], "y's Pc")
    keep = y[:, 0] >= threshold
    boxes = np.where(keep[:, None], _clip_to_image(center_to_xyxy(y[:, 1:5], image_size), image_size), -1.0)
    scores = np.where(keep, y[:, 0], 0.0)
    predicted = np.argmax(y[:, 5:], axis=-1) if y.shape[-1] > 5 else np.zeros(len(y), dtype="int64")
    classes = np.where(keep, predicted, -1)
    return boxes[:, None].astype("float32"), scores[:, None].astype("float32"), classes[:, None].astype("int32")


def encode_grid_target(boxes, classes, image_size, grid_size: int, num_classes: int) -> np.ndarray:
    """Build YOLO-style S×S grid targets: each box goes to the cell that holds its centre.

    A responsible cell holds `[1, Bx, By, Bh, Bw, one-hot class]` where `Bx, By` are the centre's offset inside the
    cell (0-1, measured in cell units) and `Bh, Bw` the box size relative to the whole image; other cells are zero.
    When two boxes share a cell the larger one is kept (with a warning); a finer grid avoids that.

    Args:
        boxes: `(num_boxes, 4)` or `(num_images, num_boxes, 4)` xyxy pixels, padded with -1.
        classes: `(num_boxes,)` or `(num_images, num_boxes)` class indices in `[0, num_classes)`, padded with -1.
        image_size: `(height, width)` in pixels, or one int.
        grid_size: S.
        num_classes: C.

    Returns:
        `(S, S, 5 + num_classes)` float32, or `(num_images, S, S, 5 + num_classes)`; axis 1 is the grid row (y).

    Raises:
        ValueError: if the shapes disagree, a class is out of range, a box is not xyxy or `grid_size` < 1.
    """
    height, width = _image_hw(image_size)
    grid_size = check_count(
        grid_size, "grid_size", maximum=int(min(height, width)), fix="S, for an S×S grid of cells at least 1 px wide"
    )
    boxes, classes, valid = _check_boxes_and_classes(boxes, classes, num_classes)
    num_classes = int(num_classes)
    if boxes.ndim == 2:
        return encode_grid_target(boxes[None], classes[None], image_size, grid_size, num_classes)[0]
    targets = np.zeros((boxes.shape[0], grid_size, grid_size, 5 + num_classes), dtype="float32")
    best_area = np.zeros((boxes.shape[0], grid_size, grid_size))
    centers = xyxy_to_center(boxes, image_size)
    collisions = 0
    for image, box in zip(*np.nonzero(valid), strict=True):
        center_x, center_y, box_h, box_w = centers[image, box]
        col = min(int(np.floor(center_x * grid_size)), grid_size - 1)
        row = min(int(np.floor(center_y * grid_size)), grid_size - 1)
        area = box_h * box_w
        if targets[image, row, col, 0] == 1:
            collisions += 1
            if area <= best_area[image, row, col]:
                continue
        best_area[image, row, col] = area
        targets[image, row, col] = 0.0
        targets[image, row, col, :5] = (1.0, center_x * grid_size - col, center_y * grid_size - row, box_h, box_w)
        if num_classes:
            targets[image, row, col, 5 + classes[image, box]] = 1.0
    if collisions:
        warnings.warn(
            f"{collisions} box(es) share a grid cell with a larger box and were dropped; use a larger grid_size",
            stacklevel=2,
        )
    return targets


def decode_grid_predictions(
    predictions,
    image_size,
    score_threshold: float = 0.5,
    iou_threshold: float | None = 0.5,
    max_outputs: int | None = 20,
    class_agnostic: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Decode S×S grid outputs into each image's boxes, scores and classes, after non-maximum suppression.

    A cell's score is `Pc · max_c p(c)` (YOLO's class-specific confidence; `Pc` alone when the grid has no class
    channels). Cells scoring at least `score_threshold` become boxes; `non_max_suppression` then removes boxes that
    overlap a higher-scoring one by more than `iou_threshold` (separately per class unless `class_agnostic`).

    Args:
        predictions: `(N, S, S, 5 + C)` outputs (probabilities) of a grid detector, or one image's `(S, S, 5 + C)`.
        image_size: `(height, width)` of the input images in pixels, or one int.
        score_threshold: minimum score of a reported box, in [0, 1].
        iou_threshold: IoU above which the lower-scoring of two boxes is suppressed, in [0, 1]; None (or 1.0)
            keeps every box (no NMS).
        max_outputs: most boxes per image; None for every cell.
        class_agnostic: suppress across classes, not only within a class.

    Returns:
        One dict per image (a list, also for one unbatched image): `{"boxes": (n, 4) float32 xyxy pixels clipped
        to the image, "scores": (n,) float32, "classes": (n,) int64}`, sorted by decreasing score.

    Raises:
        ValueError: if `predictions` is not an `(…, S, S, ≥ 5)` grid, a `Pc` is NaN, or an option is invalid.
    """
    score_threshold = check_fraction(score_threshold, "score_threshold")
    iou_threshold = check_fraction(iou_threshold, "iou_threshold", allow_none=True, fix="None skips NMS")
    max_outputs = check_count(max_outputs, "max_outputs", minimum=0, allow_none=True)
    if not isinstance(class_agnostic, bool | np.bool_):
        raise TypeError(f"class_agnostic must be True or False, got {class_agnostic!r}")
    y = _to_numpy(predictions, "predictions")
    if y.ndim == 3:
        y = y[None]
    if y.ndim != 4 or y.shape[1] != y.shape[2] or y.shape[-1] < 5:
        raise ValueError(f"predictions must be `(num_images, S, S, 5 + num_classes)`, got shape {y.shape}")
    _check_scores(y[..., 0], "y's Pc")
    grid_size = y.shape[1]
    max_outputs = grid_size * grid_size if max_outputs is None else max_outputs
    rows, cols = np.meshgrid(np.arange(grid_size), np.arange(grid_size), indexing="ij")
    results = []
    for cells in y:
        if cells.shape[-1] > 5:
            scores = (cells[..., 0] * cells[..., 5:].max(axis=-1)).reshape(-1)
            classes = cells[..., 5:].argmax(axis=-1).reshape(-1).astype("int64")
        else:
            scores, classes = cells[..., 0].reshape(-1), np.zeros(grid_size * grid_size, "int64")
        centres = np.stack(
            [(cols + cells[..., 1]) / grid_size, (rows + cells[..., 2]) / grid_size, cells[..., 3], cells[..., 4]],
            axis=-1,
        ).reshape(-1, 4)
        candidates = _clip_to_image(center_to_xyxy(centres, image_size), image_size).astype("float32")
        if iou_threshold is None:
            kept = np.flatnonzero(scores >= score_threshold)
        else:
            groups = (
                [np.arange(len(scores))]
                if class_agnostic
                else [np.flatnonzero(classes == c) for c in np.unique(classes)]
            )
            kept = np.concatenate(
                [
                    group[
                        np.asarray(
                            non_max_suppression(
                                candidates[group], scores[group], iou_threshold, score_threshold, max_outputs
                            ),
                            dtype="int64",
                        )
                    ]
                    for group in groups
                ]
            )
        kept = kept[np.argsort(-scores[kept], kind="stable")][:max_outputs]
        results.append({"boxes": candidates[kept], "scores": scores[kept].astype("float32"), "classes": classes[kept]})
    return results


def non_max_suppression(
    boxes, scores, iou_threshold: float = 0.5, score_threshold: float = float("-inf"), max_outputs: int = 100
) -> np.ndarray:
    """Select boxes greedily by score, dropping any box that overlaps an already selected one too much.

    Walk the boxes from the highest score down; keep a box unless its IoU with a kept box is greater than
    `iou_threshold`; stop after `max_outputs`. Same rule as `tf.image.non_max_suppression`.

    Args:
        boxes: `(num_boxes, 4)` xyxy boxes.
        scores: `(num_boxes,)` scores.
        iou_threshold: overlap above which the lower-scoring box is suppressed, in [0, 1].
        score_threshold: boxes scoring below it are dropped first.
        max_outputs: the most boxes to return.

    Returns:
        `(num_selected,)` int indices into `boxes`, highest score first.

    Raises:
        ValueError: if the shapes disagree, a score is NaN, a box scoring at least `score_threshold` is inverted or
            NaN, or a threshold is out of range.
    """
    iou_threshold = check_fraction(iou_threshold, "iou_threshold")
    score_threshold = check_number(score_threshold, "score_threshold", finite=False)
    max_outputs = check_count(max_outputs, "max_outputs", minimum=0)
    boxes = _to_numpy(boxes, "boxes")
    scores = _to_numpy(scores, "scores")
    if boxes.ndim != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1]:
        raise ValueError(
            f"boxes must be `(num_boxes, 4)` and scores `(num_boxes,)`, got {boxes.shape} and {scores.shape}"
        )
    _check_scores(scores)
    candidates = np.flatnonzero(scores >= score_threshold)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
    # Boxes below the score threshold take no part, so only the candidates must be proper boxes.
    _check_box_values(boxes[candidates], "boxes")
    ious = pairwise_iou(boxes[candidates], boxes[candidates])
    suppressed = np.zeros(len(candidates), dtype=bool)
    keep = []
    for position in range(len(candidates)):
        if len(keep) >= max_outputs:
            break
        if suppressed[position]:
            continue
        keep.append(candidates[position])
        suppressed |= ious[position] > iou_threshold
    return np.asarray(keep, dtype="int64")


def _images_of(value, argument: str) -> list:
    """The per-image entries of a padded array or a list of per-image arrays; TypeError naming `argument` else."""
    if value is None or isinstance(value, str | bytes | dict | set) or not hasattr(value, "__len__"):
        raise TypeError(f"{argument} must hold one array per image (a list, or a padded NumPy array), got {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        raise TypeError(f"{argument} must hold one array per image, got a number {value!r}")
    return list(value)


def _per_image(boxes, classes, scores=None, prefix: str = "true"):
    """Split padded `(N, B, 4)` arrays or per-image lists into a list of (boxes, classes, scores) without padding.

    `prefix` (`"true"` or `"pred"`) names the arguments in errors: `true_boxes`, `pred_scores`, ...
    """
    names = {field: f"{prefix}_{field}" for field in ("boxes", "classes", "scores")}
    boxes, classes = _images_of(boxes, names["boxes"]), _images_of(classes, names["classes"])
    if scores is None:
        scores = [np.ones(check_array(c, names["classes"]).size) for c in classes]
    scores = _images_of(scores, names["scores"])
    if not (len(boxes) == len(classes) == len(scores)):
        raise ValueError(
            f"{names['boxes']}, {names['classes']} (and {names['scores']}) must hold the same number of images, "
            f"got {len(boxes)}, {len(classes)} and {len(scores)}"
        )
    images = []
    for image_boxes, image_classes, image_scores in zip(boxes, classes, scores, strict=True):
        image_boxes = check_array(image_boxes, names["boxes"]).reshape(-1, 4) if np.size(image_boxes) % 4 == 0 else None
        if image_boxes is None:
            raise ValueError(f"{names['boxes']} must hold xyxy boxes, 4 numbers each, got {np.shape(image_boxes)}")
        image_classes = check_array(image_classes, names["classes"]).reshape(-1)
        if np.any(image_classes != np.round(image_classes)):
            raise ValueError(f"{names['classes']} must be integer class indices, got {image_classes.tolist()}")
        image_classes = image_classes.astype("int64")
        image_scores = check_array(image_scores, names["scores"]).reshape(-1)
        if not (len(image_boxes) == len(image_classes) == len(image_scores)):
            raise ValueError(
                f"an image has {len(image_boxes)} {names['boxes']} but {len(image_classes)} {names['classes']} and "
                f"{len(image_scores)} {names['scores']}; pass one class (and score) per box"
            )
        valid = _valid_rows(image_boxes, image_classes)
        _check_box_values(image_boxes[valid], names["boxes"])
        _check_scores(image_scores[valid], names["scores"])
        images.append((image_boxes[valid], image_classes[valid], image_scores[valid]))
    return images


def _voc_average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision-recall curve with all-point interpolation (PASCAL VOC 2010+)."""
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    # Interpolate: the precision at recall r is the best precision at any recall ≥ r.
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def average_precision_per_class(
    pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold: float = 0.5
) -> dict[int, float]:
    """Compute the average precision of each class that has ground-truth boxes (PASCAL VOC all-point).

    For each class, predictions of all images are sorted by score; each is a true positive if its IoU with a
    not-yet-matched ground-truth box of the same class in the same image is ≥ `iou_threshold` (the best such box
    is matched), else a false positive (duplicates count as false positives). AP is the area under the
    interpolated precision-recall curve.

    Args:
        pred_boxes: `(num_images, num_preds, 4)` xyxy padded with -1, or a list of `(n_i, 4)` arrays.
        pred_scores: `(num_images, num_preds)` or a list of `(n_i,)` arrays.
        pred_classes: `(num_images, num_preds)` ints padded with -1, or a list of `(n_i,)` arrays.
        true_boxes: `(num_images, num_boxes, 4)` xyxy padded with -1 (CXRSet `boxes`), or a list.
        true_classes: `(num_images, num_boxes)` ints padded with -1 (CXRSet `box_classes`), or a list.
        iou_threshold: the IoU a prediction needs to count as a hit, in (0, 1].

    Returns:
        `{class: AP}` for every class with at least one ground-truth box; AP in [0, 1].

    Raises:
        ValueError: if the number of images or boxes per image disagree, a score is NaN, a box is NaN or inverted,
            or `iou_threshold` is out of range.
    """
    iou_threshold = check_number(iou_threshold, "iou_threshold", low=0, low_open=True, high=1, fix="0.5 for AP50")
    truths = _per_image(true_boxes, true_classes, prefix="true")
    predictions = _per_image(pred_boxes, pred_classes, pred_scores, prefix="pred")
    if len(truths) != len(predictions):
        raise ValueError(f"got {len(predictions)} images of predictions but {len(truths)} of ground truth")
    classes = sorted({int(c) for _, image_classes, _ in truths for c in image_classes})
    result = {}
    for cls in classes:
        num_true = sum(int(np.sum(image_classes == cls)) for _, image_classes, _ in truths)
        detections = [
            (score, image, box)
            for image, (boxes, image_classes, scores) in enumerate(predictions)
            for box, score in zip(boxes[image_classes == cls], scores[image_classes == cls], strict=True)
        ]
        detections.sort(key=lambda item: -item[0])
        matched = {image: np.zeros(int(np.sum(truths[image][1] == cls)), dtype=bool) for image in range(len(truths))}
        hits = np.zeros(len(detections))
        for rank, (_, image, box) in enumerate(detections):
            candidates = truths[image][0][truths[image][1] == cls]
            if len(candidates) == 0:
                continue
            ious = pairwise_iou(box[None], candidates)[0]
            ious[matched[image]] = -1.0
            best = int(np.argmax(ious))
            if ious[best] >= iou_threshold:
                hits[rank] = 1.0
                matched[image][best] = True
        true_positives = np.cumsum(hits)
        recall = true_positives / num_true
        precision = true_positives / np.arange(1, len(detections) + 1)
        result[cls] = _voc_average_precision(recall, precision)
    return result


def average_precision(
    pred_boxes,
    pred_scores,
    pred_classes,
    true_boxes,
    true_classes,
    iou_threshold: float = 0.5,
    class_id: int | None = None,
) -> float:
    """Compute the average precision of one class, or the mean AP over classes (mAP@IoU), VOC all-point.

    See `average_precision_per_class` for the matching rule and the input layouts (padded CXRSet arrays or
    per-image lists).

    Args:
        pred_boxes: predicted xyxy boxes.
        pred_scores: their scores.
        pred_classes: their class indices.
        true_boxes: ground-truth xyxy boxes.
        true_classes: their class indices.
        iou_threshold: the IoU a prediction needs to count as a hit.
        class_id: a class to score alone; `None` averages every class that has ground-truth boxes.

    Returns:
        AP (or mAP) in [0, 1]; NaN when there is no ground-truth box (of `class_id`).
    """
    per_class = average_precision_per_class(
        pred_boxes, pred_scores, pred_classes, true_boxes, true_classes, iou_threshold
    )
    if class_id is not None:
        return per_class.get(int(class_id), float("nan"))
    return float(np.mean(list(per_class.values()))) if per_class else float("nan")
