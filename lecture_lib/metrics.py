"""The lecture's quality measures: Dice and IoU, PSNR and (MS-)SSIM, landmark errors, the cardiothoracic ratio, AUC.

Tensor functions are written in `keras.ops`, so they run on every Keras backend and work inside `model.fit`;
each has a stateful Keras metric beside it for `model.compile(metrics=[...])`:

| slide            | function                                   | Keras metric       |
|------------------|--------------------------------------------|--------------------|
| Segmentation DSC | `dice_coefficient` (2|X∩Y| / (|X| + |Y|))  | `DiceCoefficient`  |
| Segmentation IoU | `iou_score` (|X∩Y| / |X∪Y|)                 | `IoUScore`         |
| Generation       | `psnr`, `ssim`, `ms_ssim`                  | `PSNRMetric`, `SSIMMetric` |

Evaluation helpers that work on whole NumPy datasets (not inside a graph) live in `lecture_lib.evaluation`, which
imports NumPy only (the data modules use it without starting Keras), and are re-exported here:
`radial_errors`, `mean_radial_error`, `successful_detection_rate`, `cardiothoracic_ratio`, `roc_auc_per_class`,
`macro_auc`.
Detection metrics (IoU of boxes, NMS, average precision) live in `lecture_lib.boxes`.

Example:
    >>> import numpy as np
    >>> from lecture_lib import metrics
    >>> mask = np.zeros((1, 4, 4, 1), "float32"); mask[0, :2, :2] = 1   # |X| = 4
    >>> pred = np.zeros((1, 4, 4, 1), "float32"); pred[0, :2, :1] = 1   # |Y| = 2, |X∩Y| = 2
    >>> float(metrics.dice_coefficient(mask, pred)[0])                    # 2·2 / (4 + 2)
    0.6666666865348877
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from lecture_lib.checks import (
    check_array_like,
    check_choice,
    check_fraction,
    check_min_rank,
    check_positive,
    check_same_shape,
    check_span,
    check_ssim_options,
    check_values_in,
    static_shape,
)
from lecture_lib.evaluation import (  # noqa: F401  (re-exported: the metrics of every task in one namespace)
    CTR_LANDMARKS,
    cardiothoracic_ratio,
    macro_auc,
    mean_radial_error,
    radial_errors,
    roc_auc_per_class,
    successful_detection_rate,
)

MS_SSIM_POWER_FACTORS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""The five per-scale exponents of Wang, Simoncelli & Bovik (2003), the same as `tf.image.ssim_multiscale`."""


# --------------------------------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------------------------------


def _float_tensor(x, argument: str):
    """Convert `argument` to a backend tensor, casting integer and boolean inputs to the Keras float type."""
    x = ops.convert_to_tensor(check_array_like(x, argument))
    if not keras.backend.is_float_dtype(x.dtype):
        x = ops.cast(x, keras.backend.floatx())
    return x


def _check_probabilities(y_true, y_pred) -> None:
    """Refuse masks or predictions outside [0, 1] when their values are known (eager calls, not inside fit)."""
    check_values_in(y_true, "y_true", 0.0, 1.0, "pass 0/1 masks: divide 8-bit masks by 255 (or use mask > 0)")
    check_values_in(
        y_pred,
        "y_pred",
        0.0,
        1.0,
        "these look like logits; apply a sigmoid or softmax first (keras.ops.sigmoid(y_pred))",
    )


def _check_threshold(threshold) -> float | None:
    return check_fraction(threshold, "threshold", allow_none=True, fix="None computes the soft score")


# --------------------------------------------------------------------------------------------------------------------
# Segmentation: Dice and IoU
# --------------------------------------------------------------------------------------------------------------------


def _overlap_counts(y_true, y_pred, threshold):
    """Return per-sample, per-class |X∩Y|, |X| and |Y| as `(batch, num_classes)` tensors."""
    threshold = _check_threshold(threshold)
    y_pred = _float_tensor(y_pred, "y_pred")
    y_true = ops.cast(check_array_like(y_true, "y_true"), y_pred.dtype)
    check_min_rank(y_pred, 3, "y_pred", "`(batch, height, width, num_classes)`")
    check_same_shape(
        y_true,
        y_pred,
        "pass one-hot (or multi-hot) masks with one channel per class, e.g. keras.ops.one_hot(labels, num_classes)",
    )
    _check_probabilities(y_true, y_pred)
    if threshold is not None:
        # Same convention as keras.metrics.BinaryIoU and BinaryAccuracy: strictly greater than the threshold.
        y_pred = ops.cast(ops.greater(y_pred, threshold), y_pred.dtype)
        y_true = ops.cast(ops.greater(y_true, 0.5), y_pred.dtype)
    spatial_axes = tuple(range(1, len(ops.shape(y_pred)) - 1))
    intersection = ops.sum(y_true * y_pred, axis=spatial_axes)
    return intersection, ops.sum(y_true, axis=spatial_axes), ops.sum(y_pred, axis=spatial_axes)


def _average_classes(scores, average):
    average = check_choice(average, "average", ("macro", None), fix='"macro" averages the classes, None keeps each')
    return ops.mean(scores, axis=-1) if average == "macro" else scores


def dice_coefficient(y_true, y_pred, threshold: float | None = 0.5, average: str | None = "macro"):
    """Compute the slide's Dice similarity coefficient DSC = 2|X∩Y| / (|X| + |Y|) per image and class.

    `X` is the ground-truth mask and `Y` the predicted mask after thresholding. A class that is empty in both
    masks scores 1 (nothing to find, nothing found): the formula's 0/0 is defined that way.

    Args:
        y_true: ground-truth one-hot or multi-hot masks, `(batch, height, width, num_classes)` (any number of
            spatial axes between batch and classes works, e.g. `(batch, depth, height, width, num_classes)`).
        y_pred: predicted probabilities of the same shape (sigmoid or softmax outputs).
        threshold: a pixel belongs to `Y` when its probability is strictly greater than `threshold`; `None`
            computes the soft Dice on the probabilities (and on `y_true` as given).
        average: `"macro"` averages the classes of each image; `None` keeps one score per class.

    Returns:
        `(batch,)` scores in [0, 1] (or `(batch, num_classes)` when `average=None`).

    Raises:
        ValueError: if the shapes differ, the rank is below 3, `threshold`/`average` is invalid, or (when the values
            are known, outside a traced function) a mask or a prediction lies outside [0, 1].
    """
    intersection, true_sum, pred_sum = _overlap_counts(y_true, y_pred, threshold)
    denominator = true_sum + pred_sum
    scores = ops.where(ops.equal(denominator, 0), 1.0, ops.divide_no_nan(2.0 * intersection, denominator))
    return _average_classes(scores, average)


def iou_score(y_true, y_pred, threshold: float | None = 0.5, average: str | None = "macro"):
    """Compute the intersection over union (Jaccard index) |X∩Y| / |X∪Y| per image and class.

    IoU and Dice are monotonically related (IoU = DSC / (2 - DSC)); a class empty in both masks scores 1.

    Args:
        y_true: ground-truth masks, `(batch, height, width, num_classes)`.
        y_pred: predicted probabilities of the same shape.
        threshold: binarization threshold for `y_pred` (strictly greater); `None` for the soft IoU.
        average: `"macro"` averages the classes of each image; `None` keeps one score per class.

    Returns:
        `(batch,)` scores in [0, 1] (or `(batch, num_classes)` when `average=None`).

    Raises:
        ValueError: if the shapes differ, the rank is below 3, `threshold`/`average` is invalid, or a known mask or
            prediction lies outside [0, 1].
    """
    intersection, true_sum, pred_sum = _overlap_counts(y_true, y_pred, threshold)
    union = true_sum + pred_sum - intersection
    scores = ops.where(ops.equal(union, 0), 1.0, ops.divide_no_nan(intersection, union))
    return _average_classes(scores, average)


@keras.saving.register_keras_serializable(package="lecture_lib")
class DiceCoefficient(keras.metrics.MeanMetricWrapper):
    """Mean per-image Dice coefficient over everything seen since the last reset (higher is better).

    Each image contributes the mean of its per-class DSC, and the metric averages those image scores. This is how
    segmentation papers report Dice; it differs from pooling all pixels of the dataset into one confusion matrix,
    which is what `keras.metrics.IoU` does.

    Args:
        threshold: binarization threshold for the predicted probabilities (strictly greater); `None` for soft Dice.
        name: metric name shown in the training log.
        dtype: dtype of the metric's state.

    Example:
        >>> model.compile(optimizer="adam", loss=losses.DiceLoss(), metrics=[metrics.DiceCoefficient()])
    """

    def __init__(self, threshold: float | None = 0.5, name: str = "dice_coefficient", dtype=None):
        threshold = _check_threshold(threshold)
        super().__init__(fn=dice_coefficient, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="lecture_lib")
class IoUScore(keras.metrics.MeanMetricWrapper):
    """Mean per-image intersection over union, averaged over classes within each image (higher is better).

    Args:
        threshold: binarization threshold for the predicted probabilities (strictly greater); `None` for soft IoU.
        name: metric name shown in the training log.
        dtype: dtype of the metric's state.
    """

    def __init__(self, threshold: float | None = 0.5, name: str = "iou_score", dtype=None):
        threshold = _check_threshold(threshold)
        super().__init__(fn=iou_score, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


# --------------------------------------------------------------------------------------------------------------------
# Generation: PSNR, SSIM, MS-SSIM
# --------------------------------------------------------------------------------------------------------------------


def _image_pair(x, y, max_val: float):
    """Convert and check two image batches; refuse known values spanning more than `max_val`."""
    x = _float_tensor(x, "x")
    y = ops.cast(check_array_like(y, "y"), x.dtype)
    for image, argument in ((x, "x"), (y, "y")):
        if len(static_shape(image)) != 4:
            raise ValueError(
                f"{argument} must be `(batch, height, width, channels)` images, got shape {static_shape(image)}; "
                "add a batch axis (image[None]) or a channel axis (image[..., None])"
            )
    check_same_shape(x, y, "both image batches must have the same `(batch, height, width, channels)` shape", ("x", "y"))
    check_span(
        (x, y),
        "the images",
        max_val,
        "max_val is the images' dynamic range: pass max_val=255.0 for 8-bit images, or scale them to [0, 1]",
    )
    return x, y


def psnr(x, y, max_val: float = 1.0):
    """Compute the peak signal-to-noise ratio 10·log10(max_val² / MSE) of each image pair, in dB.

    Identical images have MSE = 0 and PSNR = +inf (as `tf.image.psnr`).

    Args:
        x: images `(batch, height, width, channels)`.
        y: images of the same shape.
        max_val: the dynamic range of the images (1.0 for [0, 1] images, 255 for 8-bit).

    Returns:
        `(batch,)` PSNR values in dB.

    Raises:
        ValueError: if the shapes differ, `max_val` is not positive, or the (known) image values span more than
            `max_val`.
    """
    max_val = check_positive(max_val, "max_val", "1.0 for images in [0, 1], 255.0 for 8-bit images")
    x, y = _image_pair(x, y, max_val)
    mse = ops.mean(ops.square(x - y), axis=(1, 2, 3))
    return 10.0 * ops.log10(ops.cast(max_val, x.dtype) ** 2 / mse)


def _gaussian_kernel_1d(size: int, sigma: float, dtype):
    coords = np.arange(size, dtype="float64") - (size - 1) / 2.0
    kernel = np.exp(-0.5 * (coords / sigma) ** 2)
    return (kernel / kernel.sum()).astype(keras.backend.standardize_dtype(dtype))


def _banded_matrix(kernel: np.ndarray, size: int) -> np.ndarray:
    """Return the `(size - k + 1, size)` matrix whose product with a signal is its "valid" correlation with `kernel`."""
    rows = size - len(kernel) + 1
    matrix = np.zeros((rows, size))
    for row in range(rows):
        matrix[row, row : row + len(kernel)] = kernel
    return matrix


def _ssim_components(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """Return per-channel mean SSIM and mean contrast-structure term, each `(batch, channels)`."""
    height, width, channels = static_shape(x)[1:]
    if (height is not None and height < filter_size) or (width is not None and width < filter_size):
        raise ValueError(
            f"SSIM needs images at least filter_size={filter_size} pixels high and wide, got {height}×{width}; "
            "pass larger images or a smaller filter_size"
        )
    kernel = _gaussian_kernel_1d(filter_size, filter_sigma, "float64")
    dtype = keras.backend.standardize_dtype(x.dtype)
    # The 2-D Gaussian window is separable: a column pass then a row pass equals one 2-D "valid" convolution.
    if keras.backend.backend() == "jax" and height is not None and width is not None:
        # XLA's CPU convolution is slow for this; as banded matrices the two passes are two matrix products,
        # about 10× faster on JAX (benchmarks/bench_losses.py). TensorFlow's convolution is faster than both.
        rows_matrix = ops.convert_to_tensor(_banded_matrix(kernel, height).astype(dtype))
        cols_matrix = ops.convert_to_tensor(_banded_matrix(kernel, width).astype(dtype))

        def local_mean(image):
            return ops.einsum("ih,bhwc,jw->bijc", rows_matrix, image, cols_matrix)

    else:
        kernel = ops.cast(kernel, dtype)
        kernel_rows = ops.tile(ops.reshape(kernel, (filter_size, 1, 1, 1)), (1, 1, channels, 1))
        kernel_cols = ops.tile(ops.reshape(kernel, (1, filter_size, 1, 1)), (1, 1, channels, 1))

        def local_mean(image):
            rows_done = ops.depthwise_conv(image, kernel_rows, padding="valid")
            return ops.depthwise_conv(rows_done, kernel_cols, padding="valid")

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean_x, mean_y = local_mean(x), local_mean(y)
    luminance_num = 2.0 * mean_x * mean_y
    luminance_den = ops.square(mean_x) + ops.square(mean_y)
    luminance = (luminance_num + c1) / (luminance_den + c1)
    # 2σxy = 2E[xy] - 2μxμy and σx² + σy² = E[x² + y²] - (μx² + μy²), as in Wang et al. (2004).
    contrast_structure = (2.0 * local_mean(x * y) - luminance_num + c2) / (
        local_mean(ops.square(x) + ops.square(y)) - luminance_den + c2
    )
    return ops.mean(luminance * contrast_structure, axis=(1, 2)), ops.mean(contrast_structure, axis=(1, 2))


def ssim(
    x, y, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03
):
    """Compute the structural similarity index (Wang et al., 2004) of each image pair.

    Local means, variances and covariance are taken under a Gaussian window (`filter_size` × `filter_size`,
    standard deviation `filter_sigma`) at every position where the window fits (no padding), then
    SSIM = mean over positions and channels of ((2μxμy + C1)(2σxy + C2)) / ((μx² + μy² + C1)(σx² + σy² + C2))
    with C1 = (k1·max_val)² and C2 = (k2·max_val)². This matches `tf.image.ssim` and
    `skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`.

    Args:
        x: images `(batch, height, width, channels)`, height and width at least `filter_size`.
        y: images of the same shape.
        max_val: the dynamic range of the images (1.0 for [0, 1] images).
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window in pixels.
        k1: luminance stabilizer.
        k2: contrast stabilizer.

    Returns:
        `(batch,)` SSIM values in [-1, 1]; 1 means identical images.

    Raises:
        ValueError: if the shapes differ, the images are smaller than the window, an argument is not positive, or
            the (known) image values span more than `max_val`.
    """
    options = check_ssim_options(max_val, filter_size, filter_sigma, k1, k2)
    x, y = _image_pair(x, y, options["max_val"])
    ssim_per_channel, _ = _ssim_components(x, y, **options)
    return ops.mean(ssim_per_channel, axis=-1)


def ms_ssim_min_size(num_scales: int = len(MS_SSIM_POWER_FACTORS), filter_size: int = 11) -> int:
    """Return the smallest image side that MS-SSIM with `num_scales` scales accepts.

    Each scale halves the image (rounding up), and the coarsest must still hold the window, so the minimum is
    `(filter_size - 1) · 2^(num_scales - 1) + 1`: 161 pixels for the standard 5 scales and an 11-pixel window,
    81 for 4 scales, 41 for 3.

    Args:
        num_scales: number of scales (`len(power_factors)`).
        filter_size: side of the Gaussian window.

    Returns:
        The minimum height and width in pixels.
    """
    return (filter_size - 1) * 2 ** (num_scales - 1) + 1


def ms_ssim(
    x,
    y,
    max_val: float = 1.0,
    power_factors: Sequence[float] = MS_SSIM_POWER_FACTORS,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
):
    """Compute the multi-scale SSIM (Wang, Simoncelli & Bovik, 2003) of each image pair.

    At scale j the contrast-structure term cs_j is measured; between scales the images are 2×2 average-pooled
    (an odd side is first padded by repeating its last row/column). MS-SSIM = Π_{j<M} relu(cs_j)^β_j ·
    relu(SSIM_M)^β_M, averaged over channels, exactly as `tf.image.ssim_multiscale`.

    Small images: the coarsest scale must hold the window, so the image side must be at least
    `ms_ssim_min_size(len(power_factors), filter_size)` (161 px for the standard 5 scales). For smaller images pass
    fewer `power_factors`, e.g. `MS_SSIM_POWER_FACTORS[:3]` for 41-160 px (renormalize them to sum to 1 if you
    want a score on the same scale).

    Args:
        x: images `(batch, height, width, channels)`.
        y: images of the same shape.
        max_val: the dynamic range of the images.
        power_factors: one exponent per scale, finest first.
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.

    Returns:
        `(batch,)` MS-SSIM values in [0, 1].

    Raises:
        ValueError: if the shapes differ, the images are too small for the number of scales, an argument is
            invalid, or the (known) image values span more than `max_val`.
    """
    options = check_ssim_options(max_val, filter_size, filter_sigma, k1, k2, power_factors)
    power_factors = options.pop("power_factors")
    x, y = _image_pair(x, y, options["max_val"])
    height, width = static_shape(x)[1:3]
    min_size = ms_ssim_min_size(len(power_factors), filter_size)
    if (height is not None and height < min_size) or (width is not None and width < min_size):
        raise ValueError(
            f"MS-SSIM with {len(power_factors)} scales and filter_size={filter_size} needs images of at least "
            f"{min_size}×{min_size} pixels, got {height}×{width}; pass fewer power_factors "
            f"(e.g. MS_SSIM_POWER_FACTORS[:3] needs {ms_ssim_min_size(3, filter_size)} px) or a smaller filter_size"
        )
    factors = []
    for scale in range(len(power_factors)):
        if scale > 0:
            h, w = static_shape(x)[1:3]
            pad = [[0, 0], [0, h % 2], [0, w % 2], [0, 0]]
            if h % 2 or w % 2:
                x, y = ops.pad(x, pad, mode="symmetric"), ops.pad(y, pad, mode="symmetric")
            x = ops.average_pool(x, pool_size=2, strides=2, padding="valid")
            y = ops.average_pool(y, pool_size=2, strides=2, padding="valid")
        ssim_per_channel, contrast_structure = _ssim_components(x, y, **options)
        is_last = scale == len(power_factors) - 1
        factors.append(ops.relu(ssim_per_channel if is_last else contrast_structure) ** power_factors[scale])
    return ops.mean(math.prod(factors), axis=-1)


@keras.saving.register_keras_serializable(package="lecture_lib")
class PSNRMetric(keras.metrics.MeanMetricWrapper):
    """Mean per-image PSNR in dB (higher is better). Identical images give +inf, as `tf.image.psnr`.

    Args:
        max_val: the dynamic range of the images.
        name: metric name shown in the training log.
        dtype: dtype of the metric's state.
    """

    def __init__(self, max_val: float = 1.0, name: str = "psnr", dtype=None):
        max_val = check_positive(max_val, "max_val", "1.0 for images in [0, 1], 255.0 for 8-bit images")
        super().__init__(fn=psnr, name=name, dtype=dtype, max_val=max_val)
        self.max_val = max_val
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "max_val": self.max_val}


@keras.saving.register_keras_serializable(package="lecture_lib")
class SSIMMetric(keras.metrics.MeanMetricWrapper):
    """Mean per-image SSIM (higher is better); see `ssim` for the formula and arguments.

    Args:
        max_val: the dynamic range of the images.
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.
        name: metric name shown in the training log.
        dtype: dtype of the metric's state.
    """

    def __init__(
        self,
        max_val: float = 1.0,
        filter_size: int = 11,
        filter_sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
        name: str = "ssim",
        dtype=None,
    ):
        options = check_ssim_options(max_val, filter_size, filter_sigma, k1, k2)
        super().__init__(fn=ssim, name=name, dtype=dtype, **options)
        self.options = options
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self.options}
