"""The lecture's losses, one per task, each a pure `keras.ops` function plus a thin serializable `Loss` class.

Each class is the function with its options (`LossFunctionWrapper`, as Keras builds its own losses): the options are
checked once in the constructor, kept in `loss.options` and saved by `get_config`.

Classification (slide "DL formalization"). Keras already has both losses; this is how they map to the slide:

- Multiple pathologies → sigmoid → binary cross-entropy. The slide's
  `Loss = Y(-log Ŷ) + (1 - Y)(-log(1 - Ŷ))` is computed for each of the 15 outputs and
  `keras.losses.BinaryCrossentropy()` returns its mean over the 15 classes (then over the batch). With
  `from_logits=True` it takes the pre-sigmoid outputs and computes the same value in a numerically stable way.
- Unique pathology → softmax → cross-entropy. The slide's `L = -Σ_i y_i log ŷ_i` over the 15 classes is
  `keras.losses.CategoricalCrossentropy()` for one-hot `y`, or `SparseCategoricalCrossentropy()` for an integer code.

Real chest X-ray labels are imbalanced (Hernia ≈ 0.2 % of NIH images) and partly missing (CheXpert's uncertain
labels), so `binary_crossentropy_masked` / `WeightedBinaryCrossentropy` weight positives and negatives per class
(`class_weights_from_labels` derives the weights from the training labels) and skip NaN labels.

Segmentation: `dice_loss` / `DiceLoss` (soft Dice per class) and `CombinedCrossentropyDiceLoss`.
Detection and landmarks: `wing_loss` / `WingLoss`, `detection_loss` / `DetectionLoss` for the slide's
`y = [Pc, Bx, By, Bh, Bw, c_1 … c_C]`, and `grid_detection_loss` / `GridDetectionLoss` for an S×S grid.
Generation: `ssim_loss` / `SSIMLoss` and `ms_ssim_loss` / `MSSSIMLoss` (MSE and MAE are Keras' own).

Every class is registered under the package name `"lecture_lib"`, so a model compiled with it saves to `.keras`
and loads back with `keras.saving.load_model(path)` once `lecture_lib.losses` is imported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from lecture_lib.checks import (
    check_array,
    check_array_like,
    check_choice,
    check_flag,
    check_min_rank,
    check_non_negative,
    check_positive,
    check_same_shape,
    check_ssim_options,
    check_values_in,
    known_values,
    static_shape,
)
from lecture_lib.metrics import MS_SSIM_POWER_FACTORS, ms_ssim, ssim

BOX_LOSSES = ("mae", "mse", "wing")
"""Box regression losses accepted by `detection_loss`."""

SEGMENTATION_MODES = ("sigmoid", "softmax")
"""Output activations of a segmentation model: independent channels (sigmoid) or one class per pixel (softmax)."""


_LOGITS_HINT = (
    "these look like logits: pass from_logits=True (or end the model with a sigmoid / softmax so that it outputs "
    "probabilities)"
)


def _pair(y_true, y_pred, fix: str):
    y_true, y_pred = check_array_like(y_true, "y_true"), check_array_like(y_pred, "y_pred")
    y_pred = ops.convert_to_tensor(y_pred)
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, keras.backend.floatx())
    y_true = ops.cast(y_true, y_pred.dtype)
    check_same_shape(y_true, y_pred, fix)
    return y_true, y_pred


def _check_probabilities(y_pred, from_logits: bool) -> None:
    """Refuse known predictions outside [0, 1] unless they are declared logits."""
    from_logits = check_flag(from_logits, "from_logits")
    if not from_logits:
        check_values_in(y_pred, "y_pred", 0.0, 1.0, _LOGITS_HINT)


def _masked_mean_per_sample(values, mask):
    """Mean of `values` over all non-batch axes where `mask` is true; 0 for a sample with nothing to average."""
    values = ops.where(mask, values, ops.zeros_like(values))
    mask = ops.cast(mask, values.dtype)
    axes = tuple(range(1, len(ops.shape(values))))
    if not axes:
        return values
    return ops.sum(values, axis=axes) / ops.maximum(ops.sum(mask, axis=axes), 1.0)


# --------------------------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------------------------


def _class_weight_vector(weights, argument: str):
    if weights is None:
        return None
    array = check_array(weights, argument)
    if array.ndim > 1 or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(
            f"{argument} must be a non-negative number or a `(num_classes,)` sequence of them, got {weights!r}; "
            "class_weights_from_labels(train_labels) computes them from the label frequencies"
        )
    return array


def binary_crossentropy_masked(y_true, y_pred, pos_weights=None, neg_weights=None, from_logits: bool = False):
    """Compute the slide's binary cross-entropy per image, weighted per class, skipping NaN labels.

    For each class c with a known label y (NaN means uncertain or not annotated):
    `loss_c = pos_weights[c] · y · (-log ŷ) + neg_weights[c] · (1 - y) · (-log(1 - ŷ))`, and the image's loss
    is the mean over its known labels. An image with no known label contributes 0. With no weights and no NaN,
    this equals `keras.losses.binary_crossentropy`.

    Args:
        y_true: `(batch, num_classes)` multi-hot labels in [0, 1], NaN where unknown (the CXRSet `labels` field).
        y_pred: `(batch, num_classes)` sigmoid probabilities, or logits when `from_logits=True`.
        pos_weights: weight of the positive term, a number or `(num_classes,)`; `None` means 1.
        neg_weights: weight of the negative term, a number or `(num_classes,)`; `None` means 1.
        from_logits: whether `y_pred` holds logits (pre-sigmoid) rather than probabilities.

    Returns:
        `(batch,)` per-image losses.

    Raises:
        ValueError: if the shapes differ, a weight vector is negative, non-finite or has the wrong length, or (when
            the values are known, outside a traced function) a label lies outside [0, 1] or a probability outside
            [0, 1] without `from_logits`.
    """
    y_true, y_pred = _pair(y_true, y_pred, "pass one multi-hot label vector per image, `(batch, num_classes)`")
    check_min_rank(y_pred, 2, "y_pred", "`(batch, num_classes)`")
    check_values_in(
        y_true, "y_true", 0.0, 1.0, "labels are 0, 1 or NaN (unknown); map CheXpert's -1 to NaN, 0 or 1 first"
    )
    _check_probabilities(y_pred, from_logits)
    num_classes = static_shape(y_pred)[-1]
    weights = []
    for value, argument in ((pos_weights, "pos_weights"), (neg_weights, "neg_weights")):
        vector = _class_weight_vector(value, argument)
        if vector is not None and vector.ndim == 1 and num_classes is not None and vector.shape[0] != num_classes:
            raise ValueError(
                f"{argument} has {vector.shape[0]} entries but y_pred has {num_classes} classes; "
                "pass one weight per class (or a single number)"
            )
        weights.append(1.0 if vector is None else ops.convert_to_tensor(vector, dtype=y_pred.dtype))
    known = ops.logical_not(ops.isnan(y_true))
    y_true = ops.where(known, y_true, ops.zeros_like(y_true))
    # ops.binary_crossentropy(1, ŷ) = -log ŷ and (0, ŷ) = -log(1 - ŷ), with Keras' clipping / stable logit form.
    neg_log_p = ops.binary_crossentropy(ops.ones_like(y_pred), y_pred, from_logits=from_logits)
    neg_log_not_p = ops.binary_crossentropy(ops.zeros_like(y_pred), y_pred, from_logits=from_logits)
    per_class = weights[0] * y_true * neg_log_p + weights[1] * (1.0 - y_true) * neg_log_not_p
    return _masked_mean_per_sample(per_class, known)


def class_weights_from_labels(labels, method: str = "ratio", max_weight: float | None = None):
    """Derive per-class positive and negative weights from the label frequencies of a training set.

    With N_pos and N_neg the numbers of known positive and negative labels of a class (NaN labels are not
    counted):

    - `"ratio"`: w_pos = N_neg / N_pos, w_neg = 1: each positive counts as much as N_neg / N_pos negatives, so all
      positives together weigh as much as all negatives together (N_pos · w_pos = N_neg; PyTorch's `pos_weight` recipe).
    - `"balanced"`: w_pos = N / (2 N_pos), w_neg = N / (2 N_neg) with N = N_pos + N_neg, so both labels carry half
      the total weight (scikit-learn's `compute_class_weight("balanced")`, per class).

    A class with no known positive or no known negative gets weights 1 (and a warning).

    Args:
        labels: `(num_images, num_classes)` 0/1 labels, NaN where unknown (the CXRSet `labels` field).
        method: `"ratio"` or `"balanced"`.
        max_weight: optional cap on every weight; rare classes can otherwise get weights in the hundreds.

    Returns:
        `(pos_weights, neg_weights)`, two `(num_classes,)` float32 arrays for `WeightedBinaryCrossentropy`.

    Raises:
        ValueError: if `labels` is not 2-D, holds values other than 0, 1 and NaN, or `method` is unknown.
    """
    labels = check_array(labels, "labels")
    if labels.ndim != 2:
        raise ValueError(f"labels must be `(num_images, num_classes)`, got shape {labels.shape}")
    known_labels = labels[~np.isnan(labels)]
    if not np.all((known_labels == 0) | (known_labels == 1)):
        raise ValueError(
            f"labels must be 0, 1 or NaN, got values {np.unique(known_labels)[:10].tolist()}; "
            "map uncertain labels (e.g. CheXpert's -1) to NaN, 0 or 1 first"
        )
    method = check_choice(method, "method", ("ratio", "balanced"))
    if max_weight is not None:
        max_weight = check_positive(max_weight, "max_weight", "e.g. 50.0, or None for no cap")
    num_pos = np.sum(labels == 1, axis=0).astype("float64")
    num_neg = np.sum(labels == 0, axis=0).astype("float64")
    degenerate = (num_pos == 0) | (num_neg == 0)
    safe_pos, safe_neg = np.maximum(num_pos, 1.0), np.maximum(num_neg, 1.0)
    if method == "ratio":
        pos_weights, neg_weights = num_neg / safe_pos, np.ones_like(num_pos)
    else:
        total = num_pos + num_neg
        pos_weights, neg_weights = total / (2.0 * safe_pos), total / (2.0 * safe_neg)
    pos_weights[degenerate], neg_weights[degenerate] = 1.0, 1.0
    if degenerate.any():
        warnings.warn(
            f"classes {np.flatnonzero(degenerate).tolist()} have no known positive or no known negative label; "
            "their weights are set to 1",
            stacklevel=2,
        )
    if max_weight is not None:
        pos_weights, neg_weights = np.minimum(pos_weights, max_weight), np.minimum(neg_weights, max_weight)
    return pos_weights.astype("float32"), neg_weights.astype("float32")


class LossFunctionWrapper(keras.losses.Loss):
    """A `keras.losses.Loss` made of a pure loss function and its options, as Keras builds its own losses.

    The options are checked once by the subclass, stored in `options`, passed to `fn(y_true, y_pred, **options)` on
    every call and written by `get_config` (so they must be plain numbers, strings, booleans or lists), which
    `from_config` passes back to the subclass's constructor. Keras' `LossFunctionWrapper`
    (`keras/src/losses/losses.py`) is the model; it is not public API, and it reshapes `y_true` to `y_pred`'s rank,
    which the detection and landmark targets must not undergo.

    Args:
        fn: `fn(y_true, y_pred, **options)` returning one loss per sample.
        reduction: how the per-sample losses are reduced (Keras' reductions).
        name: loss name.
        dtype: dtype of the loss computation.
        **options: the options of `fn`, already checked.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **options):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self.options = options

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.options)

    def get_config(self):
        return {**super().get_config(), **self.options}


def _weights_to_config(weights):
    if weights is None:
        return None
    array = _class_weight_vector(weights, "weights")
    return float(array) if array.ndim == 0 else array.tolist()


@keras.saving.register_keras_serializable(package="lecture_lib")
class WeightedBinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy with per-class positive/negative weights that ignores NaN labels.

    See `binary_crossentropy_masked` for the formula.

    Args:
        pos_weights: a number or `(num_classes,)` weights of the positive term (e.g. from
            `class_weights_from_labels`); `None` means 1.
        neg_weights: a number or `(num_classes,)` weights of the negative term; `None` means 1.
        from_logits: whether the model outputs logits instead of sigmoid probabilities.
        reduction: how the per-image losses are reduced (Keras' reductions).
        name: loss name.
        dtype: dtype of the loss computation.

    Example:
        >>> pos, neg = class_weights_from_labels(train.labels)
        >>> model.compile(optimizer="adam", loss=WeightedBinaryCrossentropy(pos_weights=pos, neg_weights=neg))
    """

    def __init__(
        self,
        pos_weights=None,
        neg_weights=None,
        from_logits: bool = False,
        reduction="sum_over_batch_size",
        name="weighted_binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy_masked,
            reduction=reduction,
            name=name,
            dtype=dtype,
            pos_weights=_weights_to_config(pos_weights),
            neg_weights=_weights_to_config(neg_weights),
            from_logits=check_flag(from_logits, "from_logits"),
        )


# --------------------------------------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------------------------------------


def _check_mode(mode: str) -> str:
    return check_choice(mode, "mode", SEGMENTATION_MODES, fix="the activation of the model's last layer")


def _segmentation_pair(y_true, y_pred, from_logits: bool):
    y_true, y_pred = _pair(
        y_true,
        y_pred,
        "pass one-hot (softmax) or multi-hot (sigmoid) masks with one channel per class, "
        "`(batch, height, width, num_classes)`; for one structure add a channel axis with mask[..., None]",
    )
    check_min_rank(y_pred, 3, "y_pred", "`(batch, height, width, num_classes)`")
    check_values_in(y_true, "y_true", 0.0, 1.0, "pass 0/1 masks: divide 8-bit masks by 255 (or use mask > 0)")
    _check_probabilities(y_pred, from_logits)
    return y_true, y_pred


def _probabilities(y_pred, from_logits: bool, mode: str):
    if not from_logits:
        return y_pred
    return ops.sigmoid(y_pred) if mode == "sigmoid" else ops.softmax(y_pred, axis=-1)


def dice_loss(
    y_true,
    y_pred,
    smooth: float = 1.0,
    from_logits: bool = False,
    mode: str = "sigmoid",
    include_background: bool = True,
):
    """Compute the soft Dice loss 1 - mean_c DSC_c per image, with DSC_c = (2 Σ y·ŷ + s) / (Σ y + Σ ŷ + s).

    Sums run over the spatial axes of each image, separately for each class channel c, and the classes are
    averaged with equal weight, so a small structure (a nodule) counts as much as a large one (a lung). The
    smoothing term s keeps the loss defined and smooth on empty masks: an empty ground truth with an empty
    prediction gives DSC = 1 (loss 0), and any predicted foreground there raises the loss towards 1. With
    `smooth=0` an empty-vs-empty class still scores DSC = 1 (the slide's 0/0 defined as a perfect match).

    Args:
        y_true: `(batch, height, width, num_classes)` one-hot (softmax) or multi-hot (sigmoid) masks; any number
            of spatial axes works.
        y_pred: `(batch, height, width, num_classes)` probabilities, or logits when `from_logits=True`.
        smooth: the smoothing term s (≥ 0), added to numerator and denominator.
        from_logits: whether `y_pred` holds logits; they are turned into probabilities with `mode`.
        mode: `"sigmoid"` (independent channels) or `"softmax"` (one class per pixel); only used with logits.
        include_background: when False, channel 0 (the background of a softmax model) is left out of the average.

    Returns:
        `(batch,)` losses in [0, 1].

    Raises:
        ValueError: if the shapes differ, the rank is below 3, `smooth` is negative, `mode` is unknown, the
            background is excluded from a single-channel mask, or (when the values are known, outside a traced
            function) a mask lies outside [0, 1] or a prediction outside [0, 1] without `from_logits`.
    """
    smooth = check_non_negative(smooth, "smooth")
    mode = _check_mode(mode)
    y_true, y_pred = _segmentation_pair(y_true, y_pred, from_logits)
    return _soft_dice_loss(y_true, y_pred, smooth, from_logits, mode, include_background)


def _dice_options(smooth, from_logits, mode, include_background) -> dict:
    """The checked options that every Dice-based loss class stores."""
    return {
        "smooth": check_non_negative(smooth, "smooth"),
        "from_logits": check_flag(from_logits, "from_logits"),
        "mode": _check_mode(mode),
        "include_background": check_flag(include_background, "include_background"),
    }


def _soft_dice_loss(y_true, y_pred, smooth, from_logits, mode, include_background):
    """`dice_loss` on checked tensors."""
    y_pred = _probabilities(y_pred, from_logits, mode)
    if not check_flag(include_background, "include_background"):
        if static_shape(y_pred)[-1] == 1:
            raise ValueError(
                "include_background=False drops channel 0, but the masks have a single channel; "
                "keep include_background=True for one-structure (sigmoid) masks"
            )
        y_true, y_pred = y_true[..., 1:], y_pred[..., 1:]
    spatial_axes = tuple(range(1, len(ops.shape(y_pred)) - 1))
    intersection = ops.sum(y_true * y_pred, axis=spatial_axes)
    denominator = ops.sum(y_true, axis=spatial_axes) + ops.sum(y_pred, axis=spatial_axes)
    numerator = 2.0 * intersection + smooth
    denominator = denominator + smooth
    empty = ops.equal(denominator, 0.0)
    dice = ops.where(empty, 1.0, numerator / ops.where(empty, 1.0, denominator))
    return 1.0 - ops.mean(dice, axis=-1)


@keras.saving.register_keras_serializable(package="lecture_lib")
class DiceLoss(LossFunctionWrapper):
    """Soft Dice loss, averaged over classes; see `dice_loss`.

    Args:
        smooth: smoothing term added to the numerator and denominator of each class's Dice.
        from_logits: whether the model outputs logits.
        mode: `"sigmoid"` or `"softmax"`, the activation applied to logits.
        include_background: whether channel 0 counts in the class average.
        reduction: how the per-image losses are reduced.
        name: loss name.
        dtype: dtype of the loss computation.
    """

    def __init__(
        self,
        smooth: float = 1.0,
        from_logits: bool = False,
        mode: str = "sigmoid",
        include_background: bool = True,
        reduction="sum_over_batch_size",
        name="dice_loss",
        dtype=None,
    ):
        super().__init__(
            dice_loss,
            reduction=reduction,
            name=name,
            dtype=dtype,
            **_dice_options(smooth, from_logits, mode, include_background),
        )


def crossentropy_dice_loss(
    y_true,
    y_pred,
    crossentropy_weight: float = 1.0,
    dice_weight: float = 1.0,
    smooth: float = 1.0,
    from_logits: bool = False,
    mode: str = "sigmoid",
    include_background: bool = True,
):
    """Compute `crossentropy_weight · CE + dice_weight · Dice` per image, the usual U-Net segmentation loss.

    The cross-entropy is pixel-wise, averaged over pixels: binary cross-entropy averaged over channels for
    `mode="sigmoid"`, categorical cross-entropy over the channel axis for `mode="softmax"`. Cross-entropy gives
    smooth, well-scaled gradients early in training; Dice counters the imbalance between a small structure and
    the background.

    Args:
        y_true: `(batch, height, width, num_classes)` one-hot or multi-hot masks.
        y_pred: `(batch, height, width, num_classes)` probabilities, or logits when `from_logits=True`.
        crossentropy_weight: weight of the cross-entropy term (≥ 0).
        dice_weight: weight of the Dice term (≥ 0).
        smooth: Dice smoothing term.
        from_logits: whether `y_pred` holds logits.
        mode: `"sigmoid"` (BCE) or `"softmax"` (categorical CE).
        include_background: whether channel 0 counts in the Dice average (the cross-entropy always uses it).

    Returns:
        `(batch,)` losses.

    Raises:
        ValueError: as `dice_loss`, or if a weight is negative.
    """
    crossentropy_weight = check_non_negative(crossentropy_weight, "crossentropy_weight")
    dice_weight = check_non_negative(dice_weight, "dice_weight")
    smooth = check_non_negative(smooth, "smooth")
    mode = _check_mode(mode)
    y_true, y_pred = _segmentation_pair(y_true, y_pred, from_logits)
    if mode == "sigmoid":
        pixel_ce = ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)
    else:
        pixel_ce = ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=-1)
    crossentropy = ops.mean(pixel_ce, axis=tuple(range(1, len(ops.shape(pixel_ce)))))
    dice = _soft_dice_loss(y_true, y_pred, smooth, from_logits, mode, include_background)
    return crossentropy_weight * crossentropy + dice_weight * dice


@keras.saving.register_keras_serializable(package="lecture_lib")
class CombinedCrossentropyDiceLoss(LossFunctionWrapper):
    """Cross-entropy (BCE for sigmoid, CE for softmax) plus soft Dice; see `crossentropy_dice_loss`.

    Args:
        crossentropy_weight: weight of the cross-entropy term.
        dice_weight: weight of the Dice term.
        smooth: Dice smoothing term.
        from_logits: whether the model outputs logits.
        mode: `"sigmoid"` or `"softmax"`, matching the model's last activation.
        include_background: whether channel 0 counts in the Dice average.
        reduction: how the per-image losses are reduced.
        name: loss name.
        dtype: dtype of the loss computation.
    """

    def __init__(
        self,
        crossentropy_weight: float = 1.0,
        dice_weight: float = 1.0,
        smooth: float = 1.0,
        from_logits: bool = False,
        mode: str = "sigmoid",
        include_background: bool = True,
        reduction="sum_over_batch_size",
        name="crossentropy_dice_loss",
        dtype=None,
    ):
        super().__init__(
            crossentropy_dice_loss,
            reduction=reduction,
            name=name,
            dtype=dtype,
            crossentropy_weight=check_non_negative(crossentropy_weight, "crossentropy_weight"),
            dice_weight=check_non_negative(dice_weight, "dice_weight"),
            **_dice_options(smooth, from_logits, mode, include_background),
        )


# --------------------------------------------------------------------------------------------------------------------
# Detection and landmarks
# --------------------------------------------------------------------------------------------------------------------


def _check_wing(width, curvature) -> tuple[float, float]:
    return check_positive(width, "width"), check_positive(curvature, "curvature")


def _wing(diff, width: float, curvature: float):
    """Element-wise Wing function of an error `diff`."""
    abs_diff = ops.abs(diff)
    # C joins the two pieces continuously at |x| = w: w·ln(1 + w/ε) = w - C.
    offset = width - width * math.log1p(width / curvature)
    return ops.where(abs_diff < width, width * ops.log1p(abs_diff / curvature), abs_diff - offset)


def wing_loss(y_true, y_pred, width: float = 10.0, curvature: float = 2.0):
    """Compute the Wing loss (Feng et al., CVPR 2018) per sample, skipping NaN (absent) targets.

    `wing(x) = w · ln(1 + |x|/ε)` if `|x| < w`, else `|x| - C`, with `C = w - w · ln(1 + w/ε)`, `w = width`,
    `ε = curvature` and `x = ŷ - y`. Small and medium errors get a log-shaped loss whose gradient grows as the error
    shrinks (unlike L1/L2), large errors a linear one (like L1). The paper's w = 10, ε = 2 assume coordinates in
    pixels; for normalized [0, 1] coordinates scale `width` down accordingly (e.g. w = 0.05 of the image side).

    Args:
        y_true: `(batch, num_landmarks, 2)` target coordinates, or any `(batch, ...)` regression target; NaN marks
            an absent landmark (CXRSet convention), which contributes nothing.
        y_pred: predictions of the same shape.
        width: w, the range of the non-linear part (> 0).
        curvature: ε, the curvature of the non-linear part (> 0); smaller is sharper.

    Returns:
        `(batch,)` per-sample mean Wing loss over the present coordinates (0 if none is present).

    Raises:
        ValueError: if the shapes differ or `width`/`curvature` is not positive.
    """
    width, curvature = _check_wing(width, curvature)
    y_true, y_pred = _pair(y_true, y_pred, "pass predictions with the same layout as the targets")
    present = ops.logical_not(ops.isnan(y_true))
    y_true = ops.where(present, y_true, ops.zeros_like(y_true))
    return _masked_mean_per_sample(_wing(y_pred - y_true, width, curvature), present)


@keras.saving.register_keras_serializable(package="lecture_lib")
class WingLoss(LossFunctionWrapper):
    """Wing loss for landmark or box regression; see `wing_loss`.

    Args:
        width: w, the range of the non-linear part.
        curvature: ε, the curvature of the non-linear part.
        reduction: how the per-sample losses are reduced.
        name: loss name.
        dtype: dtype of the loss computation.
    """

    def __init__(
        self, width: float = 10.0, curvature: float = 2.0, reduction="sum_over_batch_size", name="wing_loss", dtype=None
    ):
        width, curvature = _check_wing(width, curvature)
        super().__init__(wing_loss, reduction=reduction, name=name, dtype=dtype, width=width, curvature=curvature)


def _check_detection_options(
    box_loss, presence_weight, box_weight, class_weight, no_object_weight, width, curvature
) -> dict:
    """Check the options of the detection losses and return them as plain Python values (for `get_config`)."""
    width, curvature = _check_wing(width, curvature)
    return {
        "box_loss": check_choice(box_loss, "box_loss", BOX_LOSSES, fix="the slide's MAE, MSE or Wing loss"),
        "presence_weight": check_non_negative(presence_weight, "presence_weight"),
        "box_weight": check_non_negative(box_weight, "box_weight"),
        "class_weight": check_non_negative(class_weight, "class_weight"),
        "no_object_weight": check_non_negative(no_object_weight, "no_object_weight"),
        "width": width,
        "curvature": curvature,
    }


def _check_detection_values(y_true, y_pred, from_logits: bool) -> None:
    """Refuse a known Pc target outside [0, 1] and, without `from_logits`, known Pc or class outputs outside [0, 1]."""
    check_values_in(y_true[..., 0], "y_true's Pc", 0.0, 1.0, "Pc is 1 with an object and 0 without")
    values = None if from_logits else known_values(y_pred)
    if values is not None:
        check_values_in(values[..., 0], "y_pred's Pc", 0.0, 1.0, _LOGITS_HINT)
        check_values_in(values[..., 5:], "y_pred's class part", 0.0, 1.0, _LOGITS_HINT)


def _detection_cell_loss(
    y_true, y_pred, box_loss, presence_weight, box_weight, class_weight, no_object_weight, from_logits, width, curvature
):
    """Loss of each `[Pc, Bx, By, Bh, Bw, c…]` vector; returns the leading shape of the inputs."""
    if static_shape(y_pred)[-1] is not None and static_shape(y_pred)[-1] < 5:
        raise ValueError(
            f"the last axis must hold [Pc, Bx, By, Bh, Bw, c_1 … c_C] (at least 5 values), got shape "
            f"{static_shape(y_pred)}; boxes.encode_target builds such targets"
        )
    _check_detection_values(y_true, y_pred, from_logits)
    present_true, present_pred = y_true[..., 0], y_pred[..., 0]
    presence = ops.binary_crossentropy(present_true, present_pred, from_logits=from_logits)
    presence = presence * ops.where(
        present_true > 0.5, ops.ones_like(presence), ops.full_like(presence, no_object_weight)
    )
    box_error = y_pred[..., 1:5] - y_true[..., 1:5]
    if box_loss == "mae":
        box = ops.mean(ops.abs(box_error), axis=-1)
    elif box_loss == "mse":
        box = ops.mean(ops.square(box_error), axis=-1)
    else:
        box = ops.mean(_wing(box_error, width, curvature), axis=-1)
    total = presence_weight * presence + box_weight * present_true * box
    if static_shape(y_pred)[-1] != 5:
        # The slide's -Σ y_i log ŷ_i without Keras' renormalization of ŷ, so that an empty cell whose class
        # outputs are all zero gives 0 rather than 0/0.
        if from_logits:
            log_probabilities = ops.log_softmax(y_pred[..., 5:], axis=-1)
        else:
            epsilon = keras.backend.epsilon()
            log_probabilities = ops.log(ops.clip(y_pred[..., 5:], epsilon, 1.0 - epsilon))
        classes = -ops.sum(y_true[..., 5:] * log_probabilities, axis=-1)
        total = total + class_weight * present_true * classes
    return total


def detection_loss(
    y_true,
    y_pred,
    box_loss: str = "mse",
    presence_weight: float = 1.0,
    box_weight: float = 1.0,
    class_weight: float = 1.0,
    no_object_weight: float = 1.0,
    from_logits: bool = False,
    width: float = 0.05,
    curvature: float = 0.01,
):
    """Compute the single-object detection loss for the slide's `y = [Pc, Bx, By, Bh, Bw, c_1 … c_C]`.

    The slide's order is kept: centre x, centre y, then **height before width**, all normalized to [0, 1] by the
    image size (`boxes.encode_target` builds these targets). Per image:

    `presence_weight · w_obj · BCE(Pc, P̂c) + Pc · (box_weight · box(B, B̂) + class_weight · CE(c, ĉ))`

    where `w_obj` is 1 for an image with an object and `no_object_weight` without one, `box` is the mean over the 4
    box values of the MAE, MSE or Wing loss, and CE is the categorical cross-entropy of the classes. When Pc = 0
    there is nothing to localize or classify, so the box and class outputs get no gradient.

    Args:
        y_true: `(batch, 5 + num_classes)` targets; Pc is 0 or 1 and the class part one-hot (any values when Pc = 0).
        y_pred: `(batch, 5 + num_classes)` predictions: Pc a sigmoid probability, boxes in [0, 1] (e.g. sigmoid),
            classes softmax probabilities; with `from_logits=True`, Pc and classes are logits (boxes unchanged).
        box_loss: `"mae"`, `"mse"` or `"wing"`.
        presence_weight: weight of the Pc term.
        box_weight: weight of the box term.
        class_weight: weight of the class term (ignored when `num_classes = 0`).
        no_object_weight: extra factor on the Pc term of images without an object (YOLO's λ_noobj).
        from_logits: whether Pc and the class outputs are logits.
        width: Wing w, in normalized units (0.05 = 5 % of the image side).
        curvature: Wing ε, in normalized units.

    Returns:
        `(batch,)` per-image losses.

    Raises:
        ValueError: if the shapes differ or are not `(batch, ≥ 5)`, an option is invalid, or (when the values are
            known, outside a traced function) Pc or a class output lies outside [0, 1] without `from_logits`.
    """
    options = _check_detection_options(
        box_loss, presence_weight, box_weight, class_weight, no_object_weight, width, curvature
    )
    y_true, y_pred = _pair(y_true, y_pred, "both must be `(batch, 5 + num_classes)` vectors [Pc, Bx, By, Bh, Bw, c…]")
    if len(static_shape(y_pred)) != 2:
        raise ValueError(
            f"detection_loss expects `(batch, 5 + num_classes)`, got shape {static_shape(y_pred)}; "
            "use grid_detection_loss for `(batch, S, S, 5 + num_classes)` grids"
        )
    return _detection_cell_loss(y_true, y_pred, from_logits=from_logits, **options)


def grid_detection_loss(
    y_true,
    y_pred,
    box_loss: str = "mse",
    presence_weight: float = 1.0,
    box_weight: float = 5.0,
    class_weight: float = 1.0,
    no_object_weight: float = 0.5,
    from_logits: bool = False,
    width: float = 0.05,
    curvature: float = 0.01,
):
    """Compute a YOLO-style detection loss over an S×S grid of `[Pc, Bx, By, Bh, Bw, c…]` cells.

    Each cell holds the slide's vector for the object whose centre falls in it (`boxes.encode_grid_target`):
    Bx, By are the centre's offset inside the cell (0-1), Bh, Bw the box size relative to the image. The per-cell
    loss is `detection_loss`'s, and the cells are **summed** per image as in YOLO v1 (Redmon et al., 2016), whose
    λ_coord = 5 and λ_noobj = 0.5 are the defaults of `box_weight` and `no_object_weight`: most cells are empty,
    and without down-weighting them the model learns to predict Pc = 0 everywhere.

    Args:
        y_true: `(batch, S, S, 5 + num_classes)` targets.
        y_pred: `(batch, S, S, 5 + num_classes)` predictions (see `detection_loss` for activations).
        box_loss: `"mae"`, `"mse"` or `"wing"`.
        presence_weight: weight of the Pc term.
        box_weight: weight of the box term.
        class_weight: weight of the class term.
        no_object_weight: factor on the Pc term of empty cells.
        from_logits: whether Pc and the class outputs are logits.
        width: Wing w in normalized units.
        curvature: Wing ε in normalized units.

    Returns:
        `(batch,)` per-image losses (sums over the S×S cells).

    Raises:
        ValueError: if the shapes differ or are not `(batch, S, S, ≥ 5)`, an option is invalid, or (when the values
            are known) Pc or a class output lies outside [0, 1] without `from_logits`.
    """
    options = _check_detection_options(
        box_loss, presence_weight, box_weight, class_weight, no_object_weight, width, curvature
    )
    y_true, y_pred = _pair(y_true, y_pred, "both must be `(batch, S, S, 5 + num_classes)` grids")
    if len(static_shape(y_pred)) != 4:
        raise ValueError(
            f"grid_detection_loss expects `(batch, S, S, 5 + num_classes)`, got shape {static_shape(y_pred)}; "
            "use detection_loss for one `(batch, 5 + num_classes)` vector per image"
        )
    cells = _detection_cell_loss(y_true, y_pred, from_logits=from_logits, **options)
    return ops.sum(cells, axis=(1, 2))


@keras.saving.register_keras_serializable(package="lecture_lib")
class DetectionLoss(LossFunctionWrapper):
    """Single-object detection loss on `y = [Pc, Bx, By, Bh, Bw, c…]`; see `detection_loss` for the arguments."""

    def __init__(
        self,
        box_loss: str = "mse",
        presence_weight: float = 1.0,
        box_weight: float = 1.0,
        class_weight: float = 1.0,
        no_object_weight: float = 1.0,
        from_logits: bool = False,
        width: float = 0.05,
        curvature: float = 0.01,
        reduction="sum_over_batch_size",
        name="detection_loss",
        dtype=None,
    ):
        options = _check_detection_options(
            box_loss, presence_weight, box_weight, class_weight, no_object_weight, width, curvature
        )
        from_logits = check_flag(from_logits, "from_logits")
        super().__init__(
            detection_loss, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, **options
        )


@keras.saving.register_keras_serializable(package="lecture_lib")
class GridDetectionLoss(LossFunctionWrapper):
    """YOLO-style S×S grid detection loss; see `grid_detection_loss` for the arguments."""

    def __init__(
        self,
        box_loss: str = "mse",
        presence_weight: float = 1.0,
        box_weight: float = 5.0,
        class_weight: float = 1.0,
        no_object_weight: float = 0.5,
        from_logits: bool = False,
        width: float = 0.05,
        curvature: float = 0.01,
        reduction="sum_over_batch_size",
        name="grid_detection_loss",
        dtype=None,
    ):
        options = _check_detection_options(
            box_loss, presence_weight, box_weight, class_weight, no_object_weight, width, curvature
        )
        from_logits = check_flag(from_logits, "from_logits")
        super().__init__(
            grid_detection_loss, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits, **options
        )


# --------------------------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------------------------


def _image_pair(y_true, y_pred):
    """Check the kinds, ranks and shapes of a target and a generated batch, naming `y_true` and `y_pred`."""
    y_true, y_pred = check_array_like(y_true, "y_true"), check_array_like(y_pred, "y_pred")
    for images, argument in ((y_true, "y_true"), (y_pred, "y_pred")):
        check_min_rank(images, 4, argument, "`(batch, height, width, channels)`")
    check_same_shape(y_true, y_pred, "the generated images must have the targets' `(batch, height, width, channels)`")
    return y_true, y_pred


def ssim_loss(y_true, y_pred, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Compute 1 - SSIM per image (0 for identical images); see `lecture_lib.metrics.ssim`.

    Args:
        y_true: target images `(batch, height, width, channels)`, at least `filter_size` pixels high and wide.
        y_pred: generated images of the same shape.
        max_val: the dynamic range of the images.
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.

    Returns:
        `(batch,)` losses in [0, 2].

    Raises:
        ValueError: if the shapes differ, the images are smaller than the window, or an argument is invalid.
    """
    y_true, y_pred = _image_pair(y_true, y_pred)
    return 1.0 - ssim(y_true, y_pred, max_val, filter_size, filter_sigma, k1, k2)


def ms_ssim_loss(
    y_true, y_pred, max_val=1.0, power_factors=MS_SSIM_POWER_FACTORS, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03
):
    """Compute 1 - MS-SSIM per image; see `lecture_lib.metrics.ms_ssim` (and its minimum image size).

    Args:
        y_true: target images `(batch, height, width, channels)`; the side must be at least
            `metrics.ms_ssim_min_size(len(power_factors), filter_size)` (161 px for 5 scales).
        y_pred: generated images of the same shape.
        max_val: the dynamic range of the images.
        power_factors: one exponent per scale, finest first; fewer scales allow smaller images.
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.

    Returns:
        `(batch,)` losses in [0, 1].

    Raises:
        ValueError: if the shapes differ, the images are too small, or an argument is invalid.
    """
    y_true, y_pred = _image_pair(y_true, y_pred)
    return 1.0 - ms_ssim(y_true, y_pred, max_val, power_factors, filter_size, filter_sigma, k1, k2)


@keras.saving.register_keras_serializable(package="lecture_lib")
class SSIMLoss(LossFunctionWrapper):
    """1 - SSIM as a training loss; see `ssim_loss`.

    Args:
        max_val: the dynamic range of the images.
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.
        reduction: how the per-image losses are reduced.
        name: loss name.
        dtype: dtype of the loss computation.
    """

    def __init__(
        self,
        max_val: float = 1.0,
        filter_size: int = 11,
        filter_sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
        reduction="sum_over_batch_size",
        name="ssim_loss",
        dtype=None,
    ):
        options = check_ssim_options(max_val, filter_size, filter_sigma, k1, k2)
        super().__init__(ssim_loss, reduction=reduction, name=name, dtype=dtype, **options)


@keras.saving.register_keras_serializable(package="lecture_lib")
class MSSSIMLoss(LossFunctionWrapper):
    """1 - MS-SSIM as a training loss; see `ms_ssim_loss`.

    Args:
        max_val: the dynamic range of the images.
        power_factors: one exponent per scale, finest first (the 5 of Wang et al. by default).
        filter_size: side of the Gaussian window.
        filter_sigma: standard deviation of the Gaussian window.
        k1: luminance stabilizer.
        k2: contrast stabilizer.
        reduction: how the per-image losses are reduced.
        name: loss name.
        dtype: dtype of the loss computation.
    """

    def __init__(
        self,
        max_val: float = 1.0,
        power_factors: Sequence[float] = MS_SSIM_POWER_FACTORS,
        filter_size: int = 11,
        filter_sigma: float = 1.5,
        k1: float = 0.01,
        k2: float = 0.03,
        reduction="sum_over_batch_size",
        name="ms_ssim_loss",
        dtype=None,
    ):
        options = check_ssim_options(max_val, filter_size, filter_sigma, k1, k2, power_factors)
        super().__init__(ms_ssim_loss, reduction=reduction, name=name, dtype=dtype, **options)
