"""Segmentation (lecture section 2): the U-Net, with the slide's sigmoid or pixel-wise softmax output."""

from __future__ import annotations

import keras
from keras import layers

from lecture_lib.checks import check_choice, check_count, check_rate
from lecture_lib.models._blocks import check_input_shape, unet_body

__all__ = ["FINAL_ACTIVATIONS", "build_unet"]

FINAL_ACTIVATIONS = ("sigmoid", "softmax", "linear")
"""`sigmoid`: independent (possibly overlapping) structures, BCE / Dice; `softmax`: one class per pixel, CE / Dice;
`linear`: logits for `from_logits=True` losses."""


def build_unet(
    input_shape=(128, 128, 1),
    num_classes: int = 1,
    filters: int = 16,
    depth: int = 4,
    final_activation: str = "sigmoid",
    batch_norm: bool = True,
    dropout: float = 0.0,
    name: str = "unet",
) -> keras.Model:
    """Build a U-Net (Ronneberger et al., 2015): an encoder, a decoder and skip connections at every level.

    Each of the `depth` encoder levels applies two 3×3 conv(-BN)-ReLU and halves the resolution with a 2×2 max pool
    while the filters double (16, 32, 64, 128, bottleneck 256 by default); each decoder level doubles the resolution
    with a 2×2 transposed convolution, concatenates the encoder features of the same size and applies two 3×3
    conv(-BN)-ReLU; a 1×1 convolution gives one channel per class. The default has about 1.9 M parameters.

    Args:
        input_shape: `(height, width, channels)`; height and width must be multiples of `2**depth`.
        num_classes: output channels, one per structure (e.g. right lung, left lung, heart). With `"softmax"` it
            must be at least 2 (include a background channel).
        filters: filters of the first level.
        depth: number of down-sampling levels.
        final_activation: `"sigmoid"` (a channel per structure, overlaps allowed), `"softmax"` (the slide's
            pixel-wise softmax, exactly one class per pixel) or `"linear"` (logits).
        batch_norm: batch normalization after every convolution.
        dropout: dropout rate in the bottleneck and after each decoder concatenation (0 switches it off).
        name: the model's name.

    Returns:
        A `keras.Model` mapping `(batch, height, width, channels)` images to `(batch, height, width, num_classes)`
        masks (probabilities, or logits with `"linear"`).

    Raises:
        ValueError: for an invalid shape or knob, or `"softmax"` with fewer than 2 classes.
    """
    depth = check_count(depth, "depth")
    input_shape = check_input_shape(input_shape, 2**depth)
    num_classes = check_count(num_classes, "num_classes")
    filters = check_count(filters, "filters")
    dropout = check_rate(dropout, "dropout")
    check_choice(final_activation, "final_activation", FINAL_ACTIVATIONS)
    if final_activation == "softmax" and num_classes < 2:
        raise ValueError(
            f"final_activation='softmax' needs num_classes >= 2, got {num_classes}; a softmax over one channel is "
            "always 1. Add a background channel or use final_activation='sigmoid'"
        )
    inputs = keras.Input(input_shape, name="image")
    x = unet_body(inputs, filters, depth, batch_norm, dropout)
    outputs = layers.Conv2D(num_classes, 1, activation=final_activation, name="masks")(x)
    return keras.Model(inputs, outputs, name=name)
