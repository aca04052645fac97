"""Landmark detection (lecture section 4): v1 coordinate regression and v2 heatmaps with the slide's "SoftMax 2D".

v1 (`build_landmark_regressor`): image → `(num_landmarks, 2)` coordinates directly, with the slide's activations.
With `"sigmoid"` the coordinates are normalized to `[0, 1]` (`normalize_landmarks`); `"relu"` and `"linear"` can
regress pixels; `"tanh"` needs targets in `[-1, 1]` (`2 · normalized − 1`).

v2 (`build_heatmap_landmark_net`): image → `(H, W, num_landmarks)` heatmaps, one per landmark, through
`SpatialSoftmax2D` (each sums to 1), and `SoftArgmax2D` reads the expected `(x, y)` off each heatmap. The model has
two named outputs, so it trains on heatmap targets (`landmark_heatmaps`), on coordinates (MAE / MSE / Wing loss),
or on both: `model.compile(loss={"coordinates": WingLoss()})` or `loss={"heatmaps": ..., "coordinates": ...}`.

Coordinates follow `CXRSet.landmarks`: `(x, y)` pixels, pixel centres at integer positions.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from lecture_lib.checks import check_choice, check_count, check_rate
from lecture_lib.layers import SoftArgmax2D, SpatialSoftmax2D
from lecture_lib.models._blocks import (
    check_input_shape,
    conv_backbone,
    unet_body,
)

__all__ = [
    "COORDINATE_ACTIVATIONS",
    "build_landmark_regressor",
    "build_heatmap_landmark_net",
    "landmark_heatmaps",
    "normalize_landmarks",
    "denormalize_landmarks",
]

COORDINATE_ACTIVATIONS = ("sigmoid", "relu", "tanh", "linear")
"""The slide's activations for v1 coordinates (plus `"linear"`)."""


def build_landmark_regressor(
    input_shape=(128, 128, 1),
    num_landmarks: int = 6,
    filters: int = 16,
    depth: int = 4,
    activation: str = "sigmoid",
    hidden_units: int = 128,
    dropout: float = 0.1,
    batch_norm: bool = True,
    name: str = "landmark_regressor",
) -> keras.Model:
    """Build the v1 landmark network: a CNN that regresses `(num_landmarks, 2)` coordinates.

    Backbone (`depth` × conv-BN-ReLU + max pool), flatten (keeping where features are), a hidden dense layer, a
    dense layer of `2 · num_landmarks` units with `activation`, reshaped to `(num_landmarks, 2)`.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_landmarks: points per image.
        filters: filters of the first level (doubling at every level).
        depth: backbone levels.
        activation: `"sigmoid"` (targets normalized to `[0, 1]`), `"relu"`, `"tanh"` or `"linear"`.
        hidden_units: width of the hidden dense layer.
        dropout: dropout rate before the output layer.
        batch_norm: batch normalization in the backbone.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to `(batch, num_landmarks, 2)` `(x, y)` pairs.

    Raises:
        ValueError: for an invalid shape, knob or activation.
    """
    depth = check_count(depth, "depth")
    input_shape = check_input_shape(input_shape, 2**depth)
    num_landmarks = check_count(num_landmarks, "num_landmarks")
    filters = check_count(filters, "filters")
    hidden_units = check_count(hidden_units, "hidden_units")
    dropout = check_rate(dropout, "dropout")
    check_choice(activation, "activation", COORDINATE_ACTIVATIONS)
    inputs = keras.Input(input_shape, name="image")
    x = conv_backbone(inputs, filters, depth, batch_norm)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    if dropout:
        x = layers.Dropout(dropout, name="hidden_dropout")(x)
    x = layers.Dense(2 * num_landmarks, activation=activation, name="coordinates_flat")(x)
    outputs = layers.Reshape((num_landmarks, 2), name="coordinates")(x)
    return keras.Model(inputs, outputs, name=name)


def build_heatmap_landmark_net(
    input_shape=(128, 128, 1),
    num_landmarks: int = 6,
    filters: int = 16,
    depth: int = 3,
    temperature: float = 1.0,
    normalized: bool = False,
    batch_norm: bool = True,
    dropout: float = 0.0,
    output_stride: int = 1,
    name: str = "heatmap_landmark_net",
) -> keras.Model:
    """Build the v2 landmark network: a U-Net whose `num_landmarks` output channels go through "SoftMax 2D".

    A U-Net body (see `build_unet`), a 1×1 convolution to one logit map per landmark, `SpatialSoftmax2D` (output
    `"heatmaps"`, each channel a probability map summing to 1) and `SoftArgmax2D` (output `"coordinates"`, the
    expected `(x, y)` of each map). Both are differentiable, so the net trains on either output.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_landmarks: points per image, `K`.
        filters: filters of the first U-Net level.
        depth: U-Net levels.
        temperature: temperature of the spatial softmax (lower gives sharper heatmaps).
        normalized: coordinates in `[0, 1]` (`(x + 0.5) / width`) instead of pixels.
        batch_norm: batch normalization after each convolution.
        dropout: dropout rate in the U-Net bottleneck and decoder.
        output_stride: 1, 2, 4, … up to `2**depth`: heatmaps `output_stride` times smaller than the image (the
            decoder stops early), which makes training several times cheaper; the soft-argmax still gives sub-pixel
            coordinates in input pixels. Build the targets with `landmark_heatmaps(..., stride=output_stride)`.
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` to a dict
        `{"heatmaps": (batch, height / s, width / s, K), "coordinates": (batch, K, 2)}` with `s = output_stride`.

    Raises:
        ValueError: for an invalid shape or knob.
    """
    depth = check_count(depth, "depth")
    input_shape = check_input_shape(input_shape, 2**depth)
    num_landmarks = check_count(num_landmarks, "num_landmarks")
    filters = check_count(filters, "filters")
    dropout = check_rate(dropout, "dropout")
    output_stride = check_count(output_stride, "output_stride")
    output_level = output_stride.bit_length() - 1
    if output_stride != 2**output_level or output_level > depth:
        raise ValueError(f"output_stride must be a power of 2 up to 2**depth = {2**depth}, got {output_stride}")
    inputs = keras.Input(input_shape, name="image")
    x = unet_body(inputs, filters, depth, batch_norm, dropout, output_level=output_level)
    logits = layers.Conv2D(num_landmarks, 1, name="heatmap_logits")(x)
    heatmaps = SpatialSoftmax2D(temperature=temperature, name="heatmaps")(logits)
    coordinates = SoftArgmax2D(normalized=normalized, stride=output_stride, name="coordinates")(heatmaps)
    return keras.Model(inputs, {"heatmaps": heatmaps, "coordinates": coordinates}, name=name)


def _check_landmarks(landmarks) -> np.ndarray:
    points = np.asarray(landmarks, dtype="float32")
    if points.ndim != 3 or points.shape[-1] != 2:
        raise ValueError(f"landmarks must have shape (N, K, 2) holding (x, y) pixels, got {points.shape}")
    return points


def landmark_heatmaps(landmarks, image_size, sigma: float = 2.0, stride: int = 1) -> np.ndarray:
    """Render heatmap targets: a Gaussian around each landmark, normalized to sum 1 like `SpatialSoftmax2D`'s output.

    Args:
        landmarks: `(N, K, 2)` `(x, y)` pixels of the input image; NaN (absent) landmarks give a uniform map.
        image_size: `(height, width)` of the heatmaps in pixels (the image size divided by `stride`).
        sigma: standard deviation of the Gaussian in heatmap pixels.
        stride: input pixels per heatmap pixel; a landmark at `x` lands at `(x + 0.5) / stride - 0.5`, the inverse
            of `SoftArgmax2D(stride=...)`.

    Returns:
        `float32` `(N, height, width, K)`, each map summing to 1.

    Raises:
        ValueError: for badly shaped landmarks or a non-positive `sigma`.
    """
    points = _check_landmarks(landmarks)
    stride = check_count(stride, "stride")
    points = (points + 0.5) / stride - 0.5
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}; about 1-3 pixels at 128 px works well")
    height, width = image_size
    ys = np.arange(height, dtype="float32")[None, :, None, None]
    xs = np.arange(width, dtype="float32")[None, None, :, None]
    x, y = points[:, None, None, :, 0], points[:, None, None, :, 1]
    maps = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2))
    maps = np.where(np.isnan(maps), 1.0, maps)
    return (maps / maps.sum(axis=(1, 2), keepdims=True)).astype("float32")


def normalize_landmarks(landmarks, image_size) -> np.ndarray:
    """Pixel `(x, y)` → `[0, 1]`: `((x + 0.5) / width, (y + 0.5) / height)`, matching `SoftArgmax2D(normalized=True)`.

    Args:
        landmarks: `(N, K, 2)` `(x, y)` pixels.
        image_size: `(height, width)`.

    Returns:
        `float32` `(N, K, 2)`; NaN stays NaN.
    """
    height, width = image_size
    return ((_check_landmarks(landmarks) + 0.5) / np.array([width, height], "float32")).astype("float32")


def denormalize_landmarks(normalized, image_size) -> np.ndarray:
    """Inverse of `normalize_landmarks`: `[0, 1]` → `(x, y)` pixels, shape `(N, K, 2)`."""
    height, width = image_size
    return (_check_landmarks(normalized) * np.array([width, height], "float32") - 0.5).astype("float32")
