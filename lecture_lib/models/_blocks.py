"""Building blocks and argument checks shared by the model builders (not part of the public API)."""

from __future__ import annotations

import numbers

from keras import layers

BN_MOMENTUM = 0.9
"""Batch-norm momentum of every builder: 0.9 lets the moving statistics settle within a one-minute CPU training."""


def check_input_shape(input_shape, divisible_by: int = 1, knob: str = "depth") -> tuple[int, int, int]:
    """Validate `(height, width, channels)`; height and width must be divisible by `divisible_by` (2**depth)."""
    shape = tuple(input_shape) if isinstance(input_shape, list | tuple) else None
    if (
        shape is None
        or len(shape) != 3
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in shape)
    ):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive integers, got {input_shape!r}; "
            "e.g. (128, 128, 1) for a grayscale chest X-ray"
        )
    height, width, _ = shape
    if height % divisible_by or width % divisible_by:
        raise ValueError(
            f"input_shape {shape} has height and width that are not multiples of {divisible_by}, which this "
            f"{knob} needs; resize the images (e.g. to 128 x 128) or lower {knob}"
        )
    return tuple(int(s) for s in shape)


def conv_bn_relu(x, filters: int, batch_norm: bool, name: str, kernel_size: int = 3, strides: int = 1):
    """`Conv2D` (no bias when batch norm follows) → optional `BatchNormalization` → ReLU."""
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=not batch_norm,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_backbone(x, filters: int, depth: int, batch_norm: bool, prefix: str = "level"):
    """`depth` levels of conv-BN-ReLU + 2×2 max pooling, doubling the filters: `(H, W, C)` → `(H/2^d, W/2^d, F·2^(d-1))`."""
    for level in range(depth):
        x = conv_bn_relu(x, filters * 2**level, batch_norm, name=f"{prefix}{level}")
        x = layers.MaxPooling2D(2, name=f"{prefix}{level}_pool")(x)
    return x


def unet_body(x, filters: int, depth: int, batch_norm: bool, dropout: float, output_level: int = 0):
    """The U-Net of Ronneberger et al. (2015) without its output layer: `(H, W, C)` → `(H, W, filters)` features.

    With `output_level = l > 0` the decoder stops `l` levels early: `(H / 2^l, W / 2^l, filters · 2^l)` features.

    Each encoder level is two 3×3 conv-BN-ReLU and a 2×2 max pool; the bottleneck has `filters·2^depth` channels
    and dropout; each decoder level is a 2×2 transposed convolution, concatenation with the encoder's skip
    connection, dropout and two 3×3 conv-BN-ReLU.
    """
    skips = []
    for level in range(depth):
        x = conv_bn_relu(x, filters * 2**level, batch_norm, name=f"encoder{level}_a")
        x = conv_bn_relu(x, filters * 2**level, batch_norm, name=f"encoder{level}_b")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
    x = conv_bn_relu(x, filters * 2**depth, batch_norm, name="bottleneck_a")
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)
    x = conv_bn_relu(x, filters * 2**depth, batch_norm, name="bottleneck_b")
    for level in reversed(range(output_level, depth)):
        x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2, padding="same", name=f"decoder{level}_up")(x)
        x = layers.Concatenate(name=f"decoder{level}_concat")([x, skips[level]])
        if dropout:
            x = layers.Dropout(dropout, name=f"decoder{level}_dropout")(x)
        x = conv_bn_relu(x, filters * 2**level, batch_norm, name=f"decoder{level}_a")
        x = conv_bn_relu(x, filters * 2**level, batch_norm, name=f"decoder{level}_b")
    return x
