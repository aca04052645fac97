"""Object detection (lecture section 3): the slide's `y = [Pc, Bx, By, Bh, Bw, c…]` for one lesion, and a grid.

Single lesion (`build_lesion_detector`): the network outputs one vector `y` of length `5 + num_classes`:

- `Pc` — probability that a lesion is present (sigmoid, binary cross-entropy);
- `Bx, By` — the box centre, `Bh, Bw` — its height and width, all normalized by the image size, so `(0.5, 0.5)` is
  the image centre and `Bw = 1` the full width (the slide's order: height before width);
- `c…` — class probabilities (softmax, cross-entropy), meaningful only where `Pc = 1`.

The single-lesion detector is fully convolutional: a centre heatmap (the slide's "SoftMax 2D", `SpatialSoftmax2D`)
gives `Bx, By` by soft-argmax, and the same heatmap reads the box size and the class off per-position maps
(`HeatmapPooling`); `Pc` comes from the heatmap's logits (`LogMeanExp2D`). Its output is still the vector `y`, so
the slide's losses (`lecture_lib.losses.DetectionLoss`) train it unchanged.

The box activation is one of the slide's choices: `"sigmoid"` keeps the box in `[0, 1]` (the default and the
natural match for normalized targets), `"relu"` only non-negative, `"tanh"` gives `[-1, 1]` (then train on
`2 · b − 1` and map back with `(b + 1) / 2`), `"linear"` is unbounded. In the single-lesion detector it acts on
`Bh, Bw`; `Bx, By` come from the soft-argmax, which lies in `[0, 1]` by construction.

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
from keras import layers, ops

from lecture_lib import boxes as box_utils
from lecture_lib.boxes import decode_grid_predictions  # the one grid decoder, re-exported with the models
from lecture_lib.checks import check_choice, check_count
from lecture_lib.layers import SoftArgmax2D, SpatialSoftmax2D
from lecture_lib.models._blocks import (
    BN_MOMENTUM,
    check_input_shape,
    conv_backbone,
    conv_bn_relu,
)

__all__ = [
    "BOX_ACTIVATIONS",
    "HeatmapPooling",
    "LogMeanExp2D",
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
    check_choice(box_activation, "box_activation", BOX_ACTIVATIONS)
    parts = [make(1, "sigmoid", "pc"), make(4, box_activation, "box")]
    if num_classes:
        parts.append(make(num_classes, "softmax", "class"))
    return layers.Concatenate(axis=-1, name="y")([part(x) for part in parts])


def _dilated_conv_bn_relu(x, filters: int, batch_norm: bool, name: str, dilation_rate: int = 2):
    """3×3 convolution with dilation (a 5×5 view for 9 weights) → optional batch norm → ReLU."""
    x = layers.Conv2D(
        filters,
        3,
        padding="same",
        dilation_rate=dilation_rate,
        use_bias=not batch_norm,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


@keras.saving.register_keras_serializable(package="lecture_lib")
class HeatmapPooling(layers.Layer):
    """Pool feature maps with a heatmap: `out[b, k] = Σ_ij p[b, i, j] · m[b, i, j, k]`.

    With `p` the spatial softmax of a centre map (it sums to 1 over the pixels), this reads the value of each map
    `m` where the network believes the lesion's centre is — the soft counterpart of "look up the box size and
    class at the argmax", and differentiable in both `p` and `m`.

    Input shape:
        `[heatmap, maps]`: `(batch, height, width, 1)` weights summing to 1 and `(batch, height, width, k)` maps.

    Output shape:
        `(batch, k)`.

    Raises:
        ValueError: if the inputs are not two 4-D tensors with one heatmap channel and the same height and width.
    """

    def build(self, input_shape):
        if not (isinstance(input_shape, list | tuple) and len(input_shape) == 2):
            raise ValueError(f"HeatmapPooling takes [heatmap, maps], got input shape {input_shape!r}")
        heatmap, maps = input_shape
        if len(heatmap) != 4 or len(maps) != 4 or heatmap[-1] != 1 or tuple(heatmap[1:3]) != tuple(maps[1:3]):
            raise ValueError(
                f"HeatmapPooling expects a (batch, H, W, 1) heatmap and (batch, H, W, k) maps, got {tuple(heatmap)} "
                f"and {tuple(maps)}; give the heatmap one channel and the maps the same height and width"
            )
        self.built = True

    def call(self, inputs):
        heatmap, maps = inputs
        return ops.sum(heatmap * maps, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0], input_shape[1][-1])


@keras.saving.register_keras_serializable(package="lecture_lib")
class LogMeanExp2D(layers.Layer):
    """A smooth maximum over the pixels of each channel: `log(mean_ij exp(z[b, i, j, c]))`.

    It lies between the mean and the maximum of the logits (equal to both for a flat map), so a single strong peak
    of the centre map raises it: the detector's evidence that a lesion is present somewhere.

    Input shape:
        `(batch, height, width, channels)` logits.

    Output shape:
        `(batch, channels)`.
    """

    def call(self, inputs):
        shape = ops.shape(inputs)
        pixels = ops.cast(shape[1] * shape[2], inputs.dtype)
        return ops.logsumexp(inputs, axis=(1, 2)) - ops.log(pixels)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def build_lesion_detector(
    input_shape=(128, 128, 1),
    num_classes: int = 3,
    filters: int = 16,
    depth: int = 3,
    box_activation: str = "sigmoid",
    head_filters: int | None = None,
    batch_norm: bool = True,
    temperature: float = 1.0,
    name: str = "lesion_detector",
) -> keras.Model:
    """Build a fully convolutional single-lesion detector whose output is the slide's `y = [Pc, Bx, By, Bh, Bw, c…]`.

    The image goes through a CNN backbone (`depth` × conv-BN-ReLU + 2×2 max pool, to an `(H/2^depth, W/2^depth)`
    feature map) and two 3×3 conv-BN-ReLU (the second dilated by 2, to see a whole lesion). Three 1×1 convolutions
    then give, at every position of the map, a **centre logit** (is the lesion's centre here?), the box **size**
    `Bh, Bw` (`box_activation`) and **class logits**. From these maps:

    - `SpatialSoftmax2D` turns the centre logits into a heatmap `p` that sums to 1;
    - `SoftArgmax2D(normalized=True)` reads the centre `(Bx, By) = Σ p · (x, y)` off it, in `[0, 1]`;
    - `HeatmapPooling` reads the size and the class logits where `p` is: `Σ p · map` (classes then softmax);
    - `Pc` is a sigmoid of a learned scale and bias of `LogMeanExp2D` (a smooth maximum) of the centre logits.

    Unlike a flattened dense head, every weight is shared across positions (translation equivariance), so a lesion
    learned in the left lung is found in the right one too, and there are few parameters to fit. The softmax is
    unchanged by adding a constant to all centre logits, so their overall level is free to carry `Pc`.

    The slide's losses (`lecture_lib.losses.DetectionLoss`: BCE on `Pc`, MAE / MSE / Wing on the box where `Pc = 1`,
    cross-entropy on the classes) apply unchanged to `y`.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_classes: lesion classes (e.g. 3 for mass, pneumonia, consolidation); 0 leaves out the class part.
        filters: filters of the first backbone level (doubling at every level).
        depth: backbone levels; the maps have `2**depth` pixels per cell (3: 12 × 12 cells for 96 px images).
        box_activation: for `Bh, Bw`: `"sigmoid"` (default, `[0, 1]`), `"relu"` (non-negative), `"tanh"`
            (`[-1, 1]`; then `Bx, By` are also mapped to `2 · b − 1`, so train on `2 · B − 1` and map predictions
            back with `(b + 1) / 2`) or `"linear"`.
        head_filters: filters of the two 3×3 head convolutions; default the backbone's last width.
        batch_norm: batch normalization in the backbone and head.
        temperature: temperature of the spatial softmax over the centre logits.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to `y` of shape `(batch, 5 + num_classes)`:
        `Pc` (sigmoid), `Bx, By, Bh, Bw` and the class probabilities (softmax).

    Raises:
        ValueError: for an invalid shape, knob or activation.
    """
    depth = check_count(depth, "depth")
    input_shape = check_input_shape(input_shape, 2**depth)
    num_classes = check_count(num_classes, "num_classes", minimum=0, fix="0 for presence and box only")
    filters = check_count(filters, "filters")
    head_filters = check_count(filters * 2 ** (depth - 1) if head_filters is None else head_filters, "head_filters")
    check_choice(box_activation, "box_activation", BOX_ACTIVATIONS)
    inputs = keras.Input(input_shape, name="image")
    x = conv_backbone(inputs, filters, depth, batch_norm)
    x = conv_bn_relu(x, head_filters, batch_norm, name="head0")
    x = _dilated_conv_bn_relu(x, head_filters, batch_norm, name="head1")
    centre_logits = layers.Conv2D(1, 1, name="centre_logits")(x)
    heatmap = SpatialSoftmax2D(temperature=temperature, name="centre_heatmap")(centre_logits)
    centre = layers.Reshape((2,), name="centre")(SoftArgmax2D(normalized=True, name="soft_argmax")(heatmap))
    if box_activation == "tanh":
        centre = layers.Rescaling(2.0, offset=-1.0, name="centre_tanh_range")(centre)
    size_maps = layers.Conv2D(2, 1, activation=box_activation, name="size_maps")(x)
    size = HeatmapPooling(name="size")([heatmap, size_maps])
    presence = LogMeanExp2D(name="centre_evidence")(centre_logits)
    parts = [layers.Dense(1, activation="sigmoid", name="pc")(presence), centre, size]
    if num_classes:
        class_maps = layers.Conv2D(num_classes, 1, name="class_maps")(x)
        class_logits = HeatmapPooling(name="class_logits")([heatmap, class_maps])
        parts.append(layers.Activation("softmax", name="class")(class_logits))
    return keras.Model(inputs, layers.Concatenate(axis=-1, name="y")(parts), name=name)


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
    grid_size = check_count(grid_size, "grid_size")
    num_classes = check_count(num_classes, "num_classes", fix="a grid detector needs at least one class")
    filters = check_count(filters, "filters")
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
    x = _dilated_conv_bn_relu(x, filters * 2**depth, batch_norm, name="grid_context")

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
