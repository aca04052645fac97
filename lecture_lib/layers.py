"""Layers the lecture names: the slide's "SoftMax 2D", a soft-argmax to read coordinates off heatmaps, a residual block.

All three are written in `keras.ops` (they run on TensorFlow, JAX and PyTorch), registered for `.keras` saving under
the package name `lecture_lib`, and take channels-last tensors.

Example:
    >>> import numpy as np
    >>> from lecture_lib.layers import SpatialSoftmax2D, SoftArgmax2D
    >>> heatmaps = SpatialSoftmax2D()(np.zeros((1, 4, 4, 2), "float32"))
    >>> SoftArgmax2D()(heatmaps).shape   # (batch, num_landmarks, 2), the centre of a flat map is (1.5, 1.5)
    (1, 2, 2)
"""

from __future__ import annotations

import keras
from keras import layers, ops

from lecture_lib.checks import check_count, check_non_negative, check_number, check_positive, known_values

__all__ = ["SpatialSoftmax2D", "SoftArgmax2D", "ResidualBlock"]


def _check_rank4(layer_name: str, input_shape, what: str) -> None:
    if len(input_shape) != 4:
        raise ValueError(
            f"{layer_name} expects {what} of shape (batch, height, width, channels), got shape {tuple(input_shape)}; "
            "add a channel axis (e.g. x[..., None]) or batch axis as needed"
        )


def _spatial_softmax(inputs, temperature: float):
    """Softmax over height × width, separately for every sample and channel; `(b, H, W, C)` -> same shape."""
    shape = ops.shape(inputs)
    flat = ops.reshape(inputs, (shape[0], shape[1] * shape[2], shape[3]))
    probabilities = ops.softmax(flat / temperature, axis=1)
    return ops.reshape(probabilities, shape)


@keras.saving.register_keras_serializable(package="lecture_lib")
class SpatialSoftmax2D(layers.Layer):
    """The slide's "SoftMax 2D": a softmax over all pixels of each channel, so every channel becomes a heatmap.

    For logits `z` of one channel, `p[i, j] = exp(z[i, j] / T) / Σ_kl exp(z[k, l] / T)`: the values of each channel
    are positive and sum to 1 over height × width, i.e. a probability distribution of where that landmark is.
    A lower temperature `T` sharpens the peaks.

    Input shape:
        `(batch, height, width, channels)` logits.

    Output shape:
        `(batch, height, width, channels)`, each channel summing to 1 over `(height, width)`.

    Args:
        temperature: positive divisor of the logits before the softmax (1 is the plain softmax).
        **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Raises:
        ValueError: if `temperature` is not positive, or the input is not 4-D.
    """

    def __init__(self, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = check_positive(temperature, "temperature", "use e.g. 1.0 (plain softmax) or 0.1 (sharper)")

    def build(self, input_shape):
        _check_rank4("SpatialSoftmax2D", input_shape, "logits")
        self.built = True

    def call(self, inputs):
        return _spatial_softmax(inputs, self.temperature)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="lecture_lib")
class SoftArgmax2D(layers.Layer):
    """Turn heatmaps into the expected `(x, y)` coordinate of each landmark, differentiably (soft-argmax).

    For a heatmap `p` that sums to 1, `x = Σ_ij p[i, j] · j` and `y = Σ_ij p[i, j] · i`: pixel centres sit at integer
    positions, so a heatmap whose mass is all on row `i`, column `j` gives exactly `(j, i)` — the same convention as
    the `landmarks` field of `CXRSet` (pixels, `(x, y)`). Unlike `argmax`, this has a gradient, so a network can be
    trained directly on coordinates (v2 of the slide: heatmaps → coordinates → MAE / MSE / Wing loss).

    Heatmaps that do not sum to 1 (e.g. after a sigmoid or ReLU) are divided by their sum first; with
    `apply_softmax=True` the input is treated as logits and passed through the spatial softmax instead.

    Heatmaps must be non-negative: a signed map's sum can be close to 0, and dividing by it sends the "expected"
    coordinate far outside the image. Negative values are refused when they are known (an eager call); inside a
    traced model, where they cannot be checked, they count as 0, so the result is always a point inside the image.
    Pass logits (e.g. a linear 1×1 convolution's output) with `apply_softmax=True`.

    Input shape:
        `(batch, height, width, num_landmarks)` heatmaps (non-negative) or logits (with `apply_softmax=True`).

    Output shape:
        `(batch, num_landmarks, 2)`: `(x, y)` in pixels, or in `[0, 1]` with `normalized=True`, where
        `x_normalized = (x + 0.5) / width` (the image's left edge is 0, its right edge 1) and likewise for `y`.
        With `stride = s` the heatmaps are `s` times smaller than the input image and the pixel coordinates are
        those of the input image: `x_image = (x + 0.5) · s − 0.5` (normalized coordinates do not change).

    Args:
        normalized: return coordinates in `[0, 1]` instead of pixels.
        stride: how many input pixels one heatmap pixel spans (1: heatmaps at the input resolution).
        apply_softmax: apply `SpatialSoftmax2D(temperature)` to the input first.
        temperature: the softmax temperature, used only with `apply_softmax=True`.
        epsilon: added to the heatmap sum before dividing, so an all-zero heatmap gives finite values.
        **kwargs: standard `keras.layers.Layer` arguments.

    Raises:
        ValueError: for a non-positive `temperature` or negative `epsilon`, an input that is not 4-D, or (in an
            eager call without `apply_softmax`) heatmaps with negative values.
    """

    def __init__(
        self,
        normalized: bool = False,
        apply_softmax: bool = False,
        temperature: float = 1.0,
        epsilon: float = 1e-7,
        stride: int = 1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.stride = check_count(stride, "stride", fix="input pixels per heatmap pixel")
        self.normalized = bool(normalized)
        self.apply_softmax = bool(apply_softmax)
        self.temperature = check_positive(temperature, "temperature", "use e.g. 1.0")
        self.epsilon = check_non_negative(epsilon, "epsilon", "the default 1e-7 is fine")

    def build(self, input_shape):
        _check_rank4("SoftArgmax2D", input_shape, "heatmaps")
        self.built = True

    def call(self, inputs):
        if self.apply_softmax:
            heatmaps = _spatial_softmax(inputs, self.temperature)
        else:
            self._check_non_negative(inputs)
            mass = ops.relu(inputs)
            heatmaps = mass / (ops.sum(mass, axis=(1, 2), keepdims=True) + self.epsilon)
        shape = ops.shape(heatmaps)
        height, width = shape[1], shape[2]
        ys = ops.cast(ops.arange(height), heatmaps.dtype)
        xs = ops.cast(ops.arange(width), heatmaps.dtype)
        # Marginals: the mass of each column gives x, the mass of each row gives y.
        x = ops.sum(ops.sum(heatmaps, axis=1) * xs[None, :, None], axis=1)
        y = ops.sum(ops.sum(heatmaps, axis=2) * ys[None, :, None], axis=1)
        if self.normalized:
            x = (x + 0.5) / ops.cast(width, heatmaps.dtype)
            y = (y + 0.5) / ops.cast(height, heatmaps.dtype)
        elif self.stride > 1:
            x = (x + 0.5) * self.stride - 0.5
            y = (y + 0.5) * self.stride - 0.5
        return ops.stack([x, y], axis=-1)

    def _check_non_negative(self, inputs) -> None:
        values = known_values(inputs)
        if values is not None and values.size and values.min() < 0:
            raise ValueError(
                f"{self.name} got heatmaps with negative values (minimum {float(values.min()):.4g}); pass "
                "non-negative heatmaps (after a sigmoid, a ReLU or SpatialSoftmax2D), or logits with "
                "apply_softmax=True"
            )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[3], 2)

    def get_config(self):
        return {
            **super().get_config(),
            "normalized": self.normalized,
            "apply_softmax": self.apply_softmax,
            "temperature": self.temperature,
            "epsilon": self.epsilon,
            "stride": self.stride,
        }


@keras.saving.register_keras_serializable(package="lecture_lib")
class ResidualBlock(layers.Layer):
    """The basic residual block of ResNet-18/34 (He et al., 2016), as on the recap slide.

    `y = ReLU(BN(conv3x3(ReLU(BN(conv3x3(x))))) + shortcut(x))`. The shortcut is the identity when the input already
    has `filters` channels and `strides == 1`; otherwise (the first block of a stage) it is a projection, a 1×1
    convolution with the same stride followed by batch norm. Convolutions have no bias (batch norm supplies it), as in
    the published ResNet, so a block from 64 to 64 channels has `2 · (3·3·64·64 + 2·64)` trainable parameters.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), filters)`.

    Args:
        filters: number of output channels.
        strides: stride of the first 3×3 convolution (and of the projection); 2 halves the resolution.
        kernel_size: size of both convolution kernels (3 in ResNet).
        use_projection: `None` decides from the input shape (projection only when the shape changes);
            `True` forces a projection shortcut, `False` forbids it (then the shapes must match).
        momentum: batch-norm momentum for the moving statistics; 0.9 suits short trainings on a CPU.
        kernel_initializer: initializer of the convolution kernels.
        kernel_regularizer: optional regularizer of the convolution kernels (e.g. `keras.regularizers.L2(1e-4)`).
        **kwargs: standard `keras.layers.Layer` arguments.

    Raises:
        ValueError: for a non-positive `filters`, `strides` or `kernel_size`; when `use_projection=False` but the
            shape changes; for an input that is not 4-D.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        kernel_size: int = 3,
        use_projection: bool | None = None,
        momentum: float = 0.9,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_count(filters, "filters")
        self.strides = check_count(strides, "strides")
        self.kernel_size = check_count(kernel_size, "kernel_size")
        if use_projection is not None and not isinstance(use_projection, bool):
            raise TypeError(f"use_projection must be None (automatic), True or False, got {use_projection!r}")
        self.use_projection = use_projection
        self.momentum = check_number(momentum, "momentum", low=0, high=1, high_open=True, fix="0.9 or 0.99 are usual")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        self.conv1 = self._conv(self.kernel_size, self.strides, "conv1")
        self.bn1 = layers.BatchNormalization(momentum=self.momentum, name="bn1")
        self.conv2 = self._conv(self.kernel_size, 1, "conv2")
        self.bn2 = layers.BatchNormalization(momentum=self.momentum, name="bn2")
        self.projection = None
        self.projection_bn = None

    def _conv(self, kernel_size: int, strides: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(
            self.filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            name=name,
        )

    def build(self, input_shape):
        _check_rank4("ResidualBlock", input_shape, "feature maps")
        channels = input_shape[-1]
        shape_changes = self.strides != 1 or channels != self.filters
        project = shape_changes if self.use_projection is None else self.use_projection
        if shape_changes and not project:
            raise ValueError(
                f"ResidualBlock with use_projection=False needs an unchanged shape, but the input has {channels} "
                f"channels and strides={self.strides} while filters={self.filters}; use use_projection=None"
            )
        self.conv1.build(input_shape)
        mid_shape = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(mid_shape)
        self.conv2.build(mid_shape)
        self.bn2.build(mid_shape)
        if project:
            self.projection = self._conv(1, self.strides, "projection")
            self.projection_bn = layers.BatchNormalization(momentum=self.momentum, name="projection_bn")
            self.projection.build(input_shape)
            self.projection_bn.build(mid_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = ops.relu(self.bn1(self.conv1(inputs), training=training))
        x = self.bn2(self.conv2(x), training=training)
        shortcut = inputs
        if self.projection is not None:
            shortcut = self.projection_bn(self.projection(inputs), training=training)
        return ops.relu(x + shortcut)

    def compute_output_shape(self, input_shape):
        return self.conv1.compute_output_shape(input_shape)

    @property
    def has_projection(self) -> bool:
        """Whether the shortcut is a 1×1 projection (`True`) or the identity (`False`); known after `build`."""
        return self.projection is not None

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "kernel_size": self.kernel_size,
            "use_projection": self.use_projection,
            "momentum": self.momentum,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }
