"""Object detection (lecture section 3): the slide's `y = [Pc, Bx, By, Bh, Bw, c…]` for one lesion, and a grid.

Single lesion: the network outputs one vector `y` of length `5 + num_classes`:

- `Pc` — probability that a lesion is present (sigmoid, binary cross-entropy);
- `Bx, By` — the box centre, `Bh, Bw` — its height and width, all normalized by the image size, so `(0.5, 0.5)` is
  the image centre and `Bw = 1` the full width (the slide's order: height before width);
- `c…` — class probabilities (softmax, cross-entropy), meaningful only where `Pc = 1`.

The box activation is one of the slide's choices: `"sigmoid"` keeps the box in `[0, 1]` (the default and the
natural match for normalized targets), `"relu"` only non-negative, `"tanh"` gives `[-1, 1]` (then train on
`2 · b − 1` and map back with `(b + 1) / 2`), `"linear"` is unbounded.

Grid (YOLO-style, Redmon et al., 2016): the image is cut into `S × S` cells and each cell predicts its own
`[Pc, Bx, By, Bh, Bw, c…]` for the lesion whose centre falls in it — `Bx, By` relative to the cell (0 to 1 across
the cell), `Bh, Bw` relative to the image — so one image can hold several lesions. `decode_grid_predictions` turns
the `(S, S, 5 + C)` output into boxes, scores and classes with non-maximum suppression.

Boxes in `CXRSet` are `xyxy` pixels; the `encode_*` helpers build the training targets from them.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

from lecture_lib import boxes as box_utils
from lecture_lib.models._blocks import (
    check_choice,
    check_input_shape,
    check_positive_int,
    check_rate,
    conv_backbone,
    conv_bn_relu,
)

__all__ = [
    "BOX_ACTIVATIONS",
    "build_lesion_detector",
    "build_grid_detector",
    "encode_lesion_targets",
    "decode_lesion_predictions",
    "encode_grid_targets",
    "decode_grid_predictions",
]

BOX_ACTIVATIONS = ("sigmoid", "relu", "tanh", "linear")
"""The slide's activations for box coordinates (plus `"linear"`)."""


def _outputs(x, num_classes: int, box_activation: str, make):
    """`[Pc (sigmoid), box (box_activation), classes (softmax)]` concatenated on the last axis as `y`."""
    check_choice("box_activation", box_activation, BOX_ACTIVATIONS)
    parts = [make(1, "sigmoid", "pc"), make(4, box_activation, "box")]
    if num_classes:
        parts.append(make(num_classes, "softmax", "class"))
    return layers.Concatenate(axis=-1, name="y")([part(x) for part in parts])


def build_lesion_detector(
    input_shape=(128, 128, 1),
    num_classes: int = 3,
    filters: int = 16,
    depth: int = 4,
    box_activation: str = "sigmoid",
    hidden_units: int = 128,
    dropout: float = 0.25,
    batch_norm: bool = True,
    name: str = "lesion_detector",
) -> keras.Model:
    """Build a single-lesion detector that outputs the slide's `y = [Pc, Bx, By, Bh, Bw, c…]`.

    A CNN backbone (`depth` × conv-BN-ReLU + max pool), flattened — not average-pooled, so the position of the
    lesion survives — a hidden dense layer, and three dense heads: `Pc` (sigmoid), the box (`box_activation`) and
    the classes (softmax), concatenated.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_classes: lesion classes (e.g. 3 for nodule, mass, pneumonia); 0 leaves out the class part.
        filters: filters of the first backbone level (doubling at every level).
        depth: backbone levels.
        box_activation: `"sigmoid"`, `"relu"`, `"tanh"` or `"linear"`; see the module docstring.
        hidden_units: width of the hidden dense layer.
        dropout: dropout rate before and after the hidden layer.
        batch_norm: batch normalization in the backbone.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to `y` of shape `(batch, 5 + num_classes)`.

    Raises:
        ValueError: for an invalid shape, knob or activation.
    """
    depth = check_positive_int("depth", depth)
    input_shape = check_input_shape(input_shape, 2**depth)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise ValueError(f"num_classes must be a non-negative integer, got {num_classes!r}")
    filters = check_positive_int("filters", filters)
    hidden_units = check_positive_int("hidden_units", hidden_units)
    dropout = check_rate("dropout", dropout)
    inputs = keras.Input(input_shape, name="image")
    x = conv_backbone(inputs, filters, depth, batch_norm)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="flatten_dropout")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    if dropout:
        x = layers.Dropout(dropout, name="hidden_dropout")(x)

    def dense(units, activation, part):
        return layers.Dense(units, activation=activation, name=part)

    return keras.Model(inputs, _outputs(x, num_classes, box_activation, dense), name=name)


def build_grid_detector(
    input_shape=(128, 128, 1),
    num_classes: int = 3,
    grid_size: int = 8,
    filters: int = 16,
    box_activation: str = "sigmoid",
    batch_norm: bool = True,
    name: str = "grid_detector",
) -> keras.Model:
    """Build a YOLO-style grid detector: `grid_size × grid_size` cells, each predicting `[Pc, Bx, By, Bh, Bw, c…]`.

    The backbone halves the resolution `log2(height / grid_size)` times (4 for 128 px and an 8 × 8 grid), adds one
    more 3×3 conv-BN-ReLU at grid resolution, and three 1×1 convolutions give per cell `Pc` (sigmoid), the box
    (`box_activation`) and the classes (softmax).

    Args:
        input_shape: `(height, width, channels)`; `height / grid_size` and `width / grid_size` must be equal powers
            of two.
        num_classes: lesion classes (at least 1).
        grid_size: cells per side, `S`.
        filters: filters of the first backbone level (doubling at every level).
        box_activation: `"sigmoid"` (default; the targets of `encode_grid_targets` are in `[0, 1]`), `"relu"`,
            `"tanh"` or `"linear"`.
        batch_norm: batch normalization in the backbone.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to `(batch, S, S, 5 + num_classes)`.

    Raises:
        ValueError: for an image size that is not `grid_size` times a power of two, or an invalid knob.
    """
    grid_size = check_positive_int("grid_size", grid_size)
    num_classes = check_positive_int("num_classes", num_classes, "a grid detector needs at least one class")
    filters = check_positive_int("filters", filters)
    input_shape = check_input_shape(input_shape, grid_size, knob="grid_size")
    ratio = input_shape[0] // grid_size
    depth = int(round(math.log2(ratio)))
    if input_shape[0] != input_shape[1] or 2**depth != ratio:
        raise ValueError(
            f"input_shape {input_shape} with grid_size={grid_size} gives a stride of {input_shape[0] / grid_size} "
            f"x {input_shape[1] / grid_size}; use square images whose side is grid_size times a power of two, "
            "e.g. 128 x 128 with grid_size=8"
        )
    inputs = keras.Input(input_shape, name="image")
    x = conv_backbone(inputs, filters, depth, batch_norm)
    x = conv_bn_relu(x, filters * 2**depth, batch_norm, name="grid")

    def conv(units, activation, part):
        return layers.Conv2D(units, 1, activation=activation, name=part)

    return keras.Model(inputs, _outputs(x, num_classes, box_activation, conv), name=name)


# The targets are the library's box encoders (lecture_lib.boxes), re-exported under the names the detector uses.
encode_lesion_targets = box_utils.encode_target
encode_grid_targets = box_utils.encode_grid_target


def decode_lesion_predictions(predictions, image_size, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Turn single-lesion outputs `y` into pixel boxes, one per image whatever its `Pc`.

    Unlike `lecture_lib.boxes.decode_prediction` (which blanks boxes below the threshold, as a detector's final
    output), this keeps every image's box so that localization can be scored on the images that truly have a lesion.

    Args:
        predictions: `(N, 5 + C)` outputs of `build_lesion_detector` (box in `[0, 1]`; map tanh outputs first).
        image_size: `(height, width)` in pixels, or one int.
        threshold: `Pc` at or above which a lesion is reported in `present`.

    Returns:
        `{"boxes": (N, 4) xyxy pixels, "scores": (N,) Pc, "classes": (N,) int (-1 without classes),
        "present": (N,) bool}`.

    Raises:
        ValueError: if `predictions` is not `(N, 5 + num_classes)`.
    """
    y = np.asarray(keras.ops.convert_to_numpy(predictions), dtype="float32")
    if y.ndim != 2 or y.shape[1] < 5:
        raise ValueError(f"predictions must have shape (N, 5 + num_classes), got {y.shape}")
    classes = y[:, 5:].argmax(axis=1) if y.shape[1] > 5 else np.full(len(y), -1)
    return {
        "boxes": box_utils.center_to_xyxy(y[:, 1:5], image_size).astype("float32"),
        "scores": y[:, 0],
        "classes": classes.astype("int64"),
        "present": y[:, 0] >= threshold,
    }


def decode_grid_predictions(
    predictions,
    image_size,
    score_threshold: float = 0.5,
    iou_threshold: float = 0.5,
    max_outputs: int = 20,
    class_agnostic: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Decode grid outputs to boxes, scores and classes, then apply non-maximum suppression.

    A cell's score is `Pc · max_c p(c)` (YOLO's class-specific confidence). Cells scoring at least
    `score_threshold` become boxes; `lecture_lib.boxes.non_max_suppression` then removes boxes overlapping a
    higher-scoring one by more than `iou_threshold` (separately per class unless `class_agnostic`).

    Args:
        predictions: `(N, S, S, 5 + C)` outputs of `build_grid_detector`.
        image_size: `(height, width)` of the input images in pixels.
        score_threshold: minimum score of a reported box.
        iou_threshold: IoU above which the lower-scoring of two boxes is suppressed.
        max_outputs: most boxes per image.
        class_agnostic: suppress across classes, not only within a class.

    Returns:
        One dict per image: `{"boxes": (n, 4) float32 xyxy pixels, "scores": (n,) float32, "classes": (n,) int64}`,
        sorted by decreasing score.

    Raises:
        ValueError: for predictions that are not `(N, S, S, 5 + C)`.
    """
    y = np.asarray(predictions, dtype="float32")
    if y.ndim != 4 or y.shape[1] != y.shape[2] or y.shape[-1] < 6:
        raise ValueError(f"predictions must have shape (N, S, S, 5 + num_classes) with C >= 1, got {y.shape}")
    grid_size = y.shape[1]
    rows, cols = np.meshgrid(np.arange(grid_size), np.arange(grid_size), indexing="ij")
    results = []
    for cells in y:
        scores = (cells[..., 0] * cells[..., 5:].max(axis=-1)).reshape(-1)
        classes = cells[..., 5:].argmax(axis=-1).reshape(-1).astype("int64")
        bx = ((cells[..., 1] + cols) / grid_size).reshape(-1)
        by = ((cells[..., 2] + rows) / grid_size).reshape(-1)
        centres = np.stack([bx, by, cells[..., 3].reshape(-1), cells[..., 4].reshape(-1)], axis=-1)
        candidates = box_utils.center_to_xyxy(centres, image_size).astype("float32")
        groups = (
            [np.arange(len(scores))] if class_agnostic else [np.flatnonzero(classes == c) for c in np.unique(classes)]
        )
        kept = []
        for group in groups:
            keep = box_utils.non_max_suppression(
                candidates[group], scores[group], iou_threshold, score_threshold, max_outputs
            )
            kept.extend(group[np.asarray(keep, dtype="int64")])
        kept = np.asarray(kept, dtype="int64")
        kept = kept[np.argsort(-scores[kept], kind="stable")][:max_outputs]
        results.append({"boxes": candidates[kept], "scores": scores[kept], "classes": classes[kept]})
    return results
