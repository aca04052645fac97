"""Evaluation on whole NumPy datasets: landmark errors, the cardiothoracic ratio, ROC AUC with missing labels and
the agreement of two measurements (Bland–Altman).

These helpers take and return NumPy values (not tensors) and import NumPy (and scikit-learn for the AUC) only, so
the data modules (the phantom measures each image's CTR) use them without starting Keras; `lecture_lib.metrics`
re-exports them beside the tensor metrics.

| slide                     | function                                                         |
|---------------------------|------------------------------------------------------------------|
| Landmarks: MRE, SDR        | `radial_errors`, `mean_radial_error`, `successful_detection_rate` |
| Cardiothoracic ratio       | `cardiothoracic_ratio`                                            |
| Classification AUC         | `roc_auc_per_class`, `macro_auc`                                  |
| Organ areas, CTR: agreement | `bland_altman`                                                   |
| Operating point            | `threshold_at_specificity`, `sensitivity_specificity`             |
| AUC confidence interval    | `bootstrap_auc` (resampling images or patients)                   |
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from lecture_lib.checks import check_array, check_count, check_number

CTR_LANDMARKS: tuple[str, ...] = ("right_heart", "left_heart", "right_thorax", "left_thorax")
"""Landmark names `cardiothoracic_ratio` looks for: the widest heart borders and the widest inner thoracic borders.

"right" is the patient's right, on the viewer's left of a PA image (smaller x).
"""


# --------------------------------------------------------------------------------------------------------------------
# Landmarks
# --------------------------------------------------------------------------------------------------------------------


def _landmark_arrays(true_points, pred_points):
    true_points = check_array(true_points, "true_points")
    pred_points = check_array(pred_points, "pred_points")
    if true_points.shape != pred_points.shape or true_points.ndim < 2 or true_points.shape[-1] != 2:
        raise ValueError(
            f"true_points {true_points.shape} and pred_points {pred_points.shape} must have the same shape "
            "`(num_images, num_landmarks, 2)` with (x, y) pixel coordinates in the last axis"
        )
    return true_points, pred_points


def _spacing_per_image(pixel_spacing_mm, true_points):
    """Return (row, column) spacing broadcastable to `true_points[..., ::-1]`, or ones for pixels."""
    if pixel_spacing_mm is None:
        return np.ones(2)
    spacing = check_array(pixel_spacing_mm, "pixel_spacing_mm")
    if spacing.ndim == 0:
        spacing = np.full(2, float(spacing))
    if spacing.shape[-1] != 2 or spacing.ndim > 2 or (spacing.ndim == 2 and spacing.shape[0] != true_points.shape[0]):
        raise ValueError(
            f"pixel_spacing_mm must be a number, a (row, column) pair or `(num_images, 2)` as in CXRSet, "
            f"got shape {spacing.shape} for {true_points.shape[0]} images"
        )
    if np.any(~(spacing > 0)):
        raise ValueError(f"pixel_spacing_mm must be positive, got {spacing.tolist()}")
    return spacing[:, None, :] if spacing.ndim == 2 else spacing


def radial_errors(true_points, pred_points, pixel_spacing_mm=None) -> np.ndarray:
    """Return the Euclidean distance between each true and predicted landmark, in pixels or millimetres.

    Args:
        true_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`; NaN marks an absent landmark.
        pred_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`.
        pixel_spacing_mm: `None` for pixel distances; otherwise a number, a `(row, column)` pair or
            `(num_images, 2)` row/column spacings (the CXRSet `pixel_spacing_mm` field) for millimetres.

    Returns:
        `(num_images, num_landmarks)` distances, NaN where the true landmark is absent.

    Raises:
        ValueError: if the shapes differ or the spacing has the wrong shape or is not positive.
    """
    true_points, pred_points = _landmark_arrays(true_points, pred_points)
    spacing = _spacing_per_image(pixel_spacing_mm, true_points)
    # Points are (x, y) = (column, row) but spacings are (row, column): flip the spacing to (column, row).
    offsets_mm = (pred_points - true_points) * spacing[..., ::-1]
    return np.sqrt(np.sum(offsets_mm**2, axis=-1))


def mean_radial_error(true_points, pred_points, pixel_spacing_mm=None) -> float:
    """Compute the mean radial error (MRE): the mean distance between true and predicted landmarks.

    Landmarks absent from the ground truth (NaN) are skipped.

    Args:
        true_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`; NaN marks an absent landmark.
        pred_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`.
        pixel_spacing_mm: `None` for pixels, else a number, a `(row, column)` pair or `(num_images, 2)`.

    Returns:
        The MRE in pixels (or mm); NaN if no landmark is present.

    Raises:
        ValueError: if the shapes differ or the spacing is invalid.
    """
    errors = radial_errors(true_points, pred_points, pixel_spacing_mm)
    valid = ~np.isnan(errors)
    return float(errors[valid].mean()) if valid.any() else float("nan")


def successful_detection_rate(true_points, pred_points, radii=(2.0, 2.5, 3.0, 4.0), pixel_spacing_mm=None) -> dict:
    """Return the fraction of present landmarks found within each radius (the ISBI 2015 landmark challenge's SDR).

    Args:
        true_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`; NaN marks an absent landmark.
        pred_points: `(num_images, num_landmarks, 2)` pixel `(x, y)`.
        radii: radii in the unit of the errors (mm when `pixel_spacing_mm` is given, else pixels).
        pixel_spacing_mm: `None` for pixels, else a number, a `(row, column)` pair or `(num_images, 2)`.

    Returns:
        `{radius: fraction}` with fractions in [0, 1] (NaN if no landmark is present).
    """
    radii = check_array(radii, "radii").reshape(-1)
    if np.any(~(radii > 0)) or np.any(~np.isfinite(radii)):
        raise ValueError(f"radii must be positive finite numbers, got {radii.tolist()}")
    errors = radial_errors(true_points, pred_points, pixel_spacing_mm)
    errors = errors[~np.isnan(errors)]
    return {float(r): float(np.mean(errors <= r)) if errors.size else float("nan") for r in radii}


def cardiothoracic_ratio(landmarks, landmark_names: Sequence[str]):
    """Compute the cardiothoracic ratio (CTR): widest heart width / widest inner thoracic width.

    Widths are horizontal distances between the landmarks named `"right_heart"` and `"left_heart"` (the heart's
    widest borders) and `"right_thorax"` and `"left_thorax"` (the inner rib margins, usually at the diaphragm
    domes) — the names of `lecture_lib.datasets.phantom.LANDMARK_NAMES`, "right" being the patient's right. CTR ≤ 0.5 is normal on a PA film; > 0.5 suggests cardiomegaly. The ratio needs no pixel spacing.

    Args:
        landmarks: `(num_landmarks, 2)` or `(num_images, num_landmarks, 2)` pixel `(x, y)`, e.g. CXRSet.landmarks.
        landmark_names: the name of each landmark, in order (CXRSet.landmark_names); must include the four names.

    Returns:
        A float for one image, or a `(num_images,)` array; NaN where one of the four landmarks is NaN.

    Raises:
        ValueError: if a required name is missing or the shapes do not match the names.
    """
    landmarks = check_array(landmarks, "landmarks")
    if not isinstance(landmark_names, list | tuple | np.ndarray) or not all(
        isinstance(name, str) for name in np.ravel(np.asarray(landmark_names, dtype=object))
    ):
        raise TypeError(f"landmark_names must be a list of landmark names, got {landmark_names!r}")
    names = list(landmark_names)
    if landmarks.ndim not in (2, 3) or landmarks.shape[-2:] != (len(names), 2):
        raise ValueError(
            f"landmarks must be `(num_landmarks, 2)` or `(num_images, num_landmarks, 2)` with num_landmarks = "
            f"{len(names)} (one per entry of landmark_names), got shape {landmarks.shape}"
        )
    missing = [name for name in CTR_LANDMARKS if name not in names]
    if missing:
        raise ValueError(
            f"cardiothoracic_ratio needs landmarks named {list(CTR_LANDMARKS)}; missing {missing} in "
            f"landmark_names={names}. Rename your landmarks or pass the names in the dataset's order."
        )
    x = {name: landmarks[..., names.index(name), 0] for name in CTR_LANDMARKS}
    heart_width = np.abs(x["left_heart"] - x["right_heart"])
    thorax_width = np.abs(x["left_thorax"] - x["right_thorax"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(thorax_width > 0, heart_width / np.where(thorax_width > 0, thorax_width, 1.0), np.nan)
    return float(ratio) if ratio.ndim == 0 else ratio


# --------------------------------------------------------------------------------------------------------------------
# Classification: ROC AUC with missing labels
# --------------------------------------------------------------------------------------------------------------------


_MULTI_CLASS = "`(num_images, num_classes)`; for a single class add an axis with y[:, None]"


def _label_score_pair(y_true, y_score, ndim: int, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """`y_true` and `y_score` as float arrays of `ndim` axes and one shape (`layout` says which), or a ValueError."""
    y_true, y_score = check_array(y_true, "y_true"), check_array(y_score, "y_score")
    if y_true.ndim != ndim or y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must both be {layout}")
    return y_true, y_score


def roc_auc_per_class(y_true, y_score, class_names: Sequence[str] | None = None) -> np.ndarray:
    """Compute the ROC AUC of each class, ignoring missing (NaN) labels.

    Uses `sklearn.metrics.roc_auc_score` on the images whose label for that class is known. A class whose known
    labels are all 0 or all 1 has no ROC curve: its AUC is NaN and a warning names it.

    Args:
        y_true: `(num_images, num_classes)` 0/1 labels, NaN where unknown (the CXRSet `labels` field).
        y_score: `(num_images, num_classes)` predicted scores (probabilities or logits).
        class_names: optional names used in the warning (e.g. `labels.PATHOLOGIES`).

    Returns:
        `(num_classes,)` AUCs in [0, 1], NaN for classes that cannot be scored.

    Raises:
        ValueError: if the shapes differ, are not 2-D, or `y_score` holds NaN where the label is known.
    """
    from sklearn.metrics import roc_auc_score

    y_true, y_score = _label_score_pair(y_true, y_score, 2, _MULTI_CLASS)
    num_classes = y_true.shape[1]
    if class_names is not None and (
        not isinstance(class_names, list | tuple | np.ndarray) or len(class_names) != y_true.shape[-1]
    ):
        raise ValueError(f"class_names must be one name per class ({y_true.shape[-1]}), got {class_names!r}")
    names = list(class_names) if class_names is not None else [f"class {c}" for c in range(num_classes)]
    aucs = np.full(num_classes, np.nan)
    skipped = []
    for c in range(num_classes):
        known = ~np.isnan(y_true[:, c])
        labels = y_true[known, c]
        if np.isnan(y_score[known, c]).any():
            raise ValueError(f"y_score has NaN for {names[c]} where the label is known; check the model's outputs")
        if np.unique(labels).size < 2:
            skipped.append(names[c])
            continue
        aucs[c] = roc_auc_score(labels, y_score[known, c])
    if skipped:
        warnings.warn(f"AUC undefined (only one label value among known labels) for: {skipped}", stacklevel=2)
    return aucs


def macro_auc(y_true, y_score, class_names: Sequence[str] | None = None) -> float:
    """Compute the macro-average ROC AUC: the mean of `roc_auc_per_class` over the classes that can be scored.

    Args:
        y_true: `(num_images, num_classes)` 0/1 labels, NaN where unknown.
        y_score: `(num_images, num_classes)` predicted scores.
        class_names: optional names used in warnings.

    Returns:
        The mean AUC, or NaN (with a warning) when no class can be scored.
    """
    aucs = roc_auc_per_class(y_true, y_score, class_names)
    if np.all(np.isnan(aucs)):
        warnings.warn("no class has both positive and negative known labels; macro AUC is NaN", stacklevel=2)
        return float("nan")
    return float(np.nanmean(aucs))


# --------------------------------------------------------------------------------------------------------------------
# Agreement of two measurements: Bland–Altman
# --------------------------------------------------------------------------------------------------------------------


class Agreement(NamedTuple):
    """The Bland–Altman summary of paired measurements `a` and `b` (see `bland_altman`)."""

    bias: float
    """Mean difference `mean(a - b)`: how much `a` over- (positive) or underestimates `b` on average."""
    sd: float
    """Standard deviation of the differences (sample SD, `ddof=1`)."""
    lower: float
    """Lower 95 % limit of agreement, `bias - 1.96 sd`."""
    upper: float
    """Upper 95 % limit of agreement, `bias + 1.96 sd`."""


def bland_altman(a, b) -> Agreement:
    """Compute the Bland–Altman bias and 95 % limits of agreement of two measurements of the same cases.

    Bland and Altman (Lancet, 1986): a correlation tells whether two methods rise together, not whether they agree.
    Their plot puts the mean of each pair, `(a + b) / 2`, on x and the difference `a - b` on y; the mean difference
    is the **bias** and `bias ± 1.96 SD` are the **limits of agreement**, between which about 95 % of the
    differences fall when they are roughly normal. Whether those limits are narrow enough is a clinical question
    (a heart area within ±5 cm², a CTR within ±0.03), not a statistical one.

    Args:
        a: `(num_cases,)` measurements of the new method, e.g. areas from predicted masks or the CTR from predicted
            landmarks.
        b: `(num_cases,)` measurements of the reference on the same cases, in the same order and unit.

    Returns:
        `Agreement(bias, sd, lower, upper)`, floats in the unit of `a` and `b`.

    Raises:
        TypeError: if `a` or `b` is not an array of numbers.
        ValueError: if the shapes differ, fewer than two pairs are given, or a value is NaN or infinite.
    """
    a = check_array(a, "a")
    b = check_array(b, "b")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"a has shape {a.shape} and b has {b.shape}; expected two `(num_cases,)` arrays of paired measurements "
            "(flatten them, or pick one structure with areas[:, c])"
        )
    if a.size < 2:
        raise ValueError(f"got {a.size} pair(s); limits of agreement need a standard deviation, so at least 2 pairs")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite; drop the cases with NaN (e.g. a CTR without its four landmarks)")
    difference = a - b
    bias = float(np.mean(difference))
    sd = float(np.std(difference, ddof=1))
    return Agreement(bias=bias, sd=sd, lower=bias - 1.96 * sd, upper=bias + 1.96 * sd)


# --------------------------------------------------------------------------------------------------------------------
# Classification: operating point and bootstrap confidence intervals
# --------------------------------------------------------------------------------------------------------------------


def _one_class(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_score = _label_score_pair(y_true, y_score, 1, "`(num_images,)`, one class; pass y[:, c] for class c")
    if np.isnan(y_score).any() or not np.isin(y_true, (0, 1)).all():
        raise ValueError("y_true must hold 0/1 labels (drop unknown ones first) and y_score finite scores")
    if np.unique(y_true).size < 2:
        raise ValueError(f"y_true needs positives and negatives, got only {np.unique(y_true).tolist()}")
    return y_true, y_score


def threshold_at_specificity(y_true, y_score, specificity: float = 0.9) -> float:
    """Return the threshold with the highest sensitivity among those that keep the specificity at least `specificity`.

    Among thresholds with the same sensitivity, the highest (the one with the fewest false alarms) is returned.
    An image is called positive when its score is `>= threshold`. Choose the threshold on the validation split and
    report `sensitivity_specificity` with it on the test split: a threshold chosen on the test split makes the test
    figures optimistic.

    Args:
        y_true: `(num_images,)` 0/1 labels of one class.
        y_score: `(num_images,)` scores of that class.
        specificity: the smallest specificity (true negative rate) allowed, in [0, 1].

    Returns:
        The threshold, one of the scores (`inf` when no threshold but "call nothing positive" reaches the
        specificity, which only happens for `specificity` = 1 with a negative scored highest).

    Raises:
        ValueError: for shapes that are not one class, labels that are not 0/1, a single label value, or a
            specificity outside [0, 1].
    """
    from sklearn.metrics import roc_curve

    y_true, y_score = _one_class(y_true, y_score)
    specificity = check_number(specificity, "specificity", low=0, high=1)
    fpr, tpr, thresholds = roc_curve(y_true, y_score, drop_intermediate=False)
    allowed = np.flatnonzero(fpr <= 1 - specificity + 1e-12)  # fpr grows along the curve: the last one is best
    return float(thresholds[allowed[np.argmax(tpr[allowed])]])


def sensitivity_specificity(y_true, y_score, threshold: float) -> tuple[float, float]:
    """Return `(sensitivity, specificity)` of calling an image positive when its score is `>= threshold`.

    Args:
        y_true: `(num_images,)` 0/1 labels of one class, with positives and negatives.
        y_score: `(num_images,)` scores of that class.
        threshold: the operating point, e.g. from `threshold_at_specificity` on the validation split.

    Returns:
        Sensitivity (recall, true positive rate) and specificity (true negative rate, 1 − false positive rate).

    Raises:
        ValueError: as `threshold_at_specificity`, or for a NaN threshold.
    """
    y_true, y_score = _one_class(y_true, y_score)
    threshold = check_number(threshold, "threshold", finite=False)
    called = y_score >= threshold
    positive = y_true == 1
    return float(called[positive].mean()), float((~called[~positive]).mean())


def _weighted_auc(y_true, y_score, weights) -> np.ndarray:
    """ROC AUC of one class for each row of `weights` `(num_draws, num_images)`: Mann-Whitney with ties as 1/2."""
    order = np.argsort(y_score, kind="stable")
    sorted_scores, sorted_weights = y_score[order], weights[:, order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])  # one block per distinct score
    # (num_draws, num_distinct_scores): the weight of the positives and of the negatives at each score
    positive = np.add.reduceat(sorted_weights * (y_true[order] == 1), starts, axis=1)
    negative = np.add.reduceat(sorted_weights * (y_true[order] == 0), starts, axis=1)
    negative_below = np.cumsum(negative, axis=1) - negative
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, (positive * (negative_below + 0.5 * negative)).sum(axis=1) / pairs, np.nan)


def bootstrap_auc(
    y_true, y_score, *, groups=None, num_draws: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute percentile bootstrap confidence intervals of the ROC AUC of each class.

    Each draw resamples the images with replacement, or, with `groups`, the patients with replacement, every drawn
    patient bringing all of their images (the studies of one patient are not independent, so resampling images
    would give too narrow an interval). A draw is weighted rather than copied, which gives the same AUC as
    `sklearn.metrics.roc_auc_score` on the resampled images and runs all draws at once. A draw without a positive
    or without a negative of a class has no AUC and is left out of that class's interval.

    Args:
        y_true: `(num_images, num_classes)` 0/1 labels, NaN where unknown (left out of that class).
        y_score: `(num_images, num_classes)` predicted scores.
        groups: `None` to resample images, or `(num_images,)` patient ids to resample patients.
        num_draws: bootstrap draws; 1000 gives the 2.5 and 97.5 percentiles to about ±0.005 AUC.
        confidence: the interval's coverage, e.g. 0.95.
        seed: seed of the NumPy generator, so that the interval is reproducible.

    Returns:
        `(low, high, draws)`: `(num_classes,)` interval ends and the `(num_draws, num_classes)` AUCs of the draws
        (NaN where undefined).

    Raises:
        ValueError: for shapes that differ or are not 2-D, NaN scores, `groups` of the wrong length, or a
            confidence outside (0, 1).
    """
    y_true, y_score = _label_score_pair(y_true, y_score, 2, _MULTI_CLASS)
    if np.isnan(y_score).any():
        raise ValueError("y_score holds NaN; check the model's outputs")
    num_draws = check_count(num_draws, "num_draws", maximum=100_000)
    confidence = check_number(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    seed = check_count(seed, "seed", minimum=0)
    num_images = y_true.shape[0]
    rng = np.random.default_rng(seed)
    if groups is None:
        weights = rng.multinomial(num_images, np.full(num_images, 1 / num_images), size=num_draws).astype(float)
    else:
        groups = np.asarray(groups)
        if groups.shape != (num_images,):
            raise ValueError(f"groups must be one patient id per image, shape ({num_images},), got {groups.shape}")
        patients, patient_of_image = np.unique(groups, return_inverse=True)
        counts = rng.multinomial(patients.size, np.full(patients.size, 1 / patients.size), size=num_draws)
        weights = counts[:, patient_of_image].astype(float)
    draws = np.full((num_draws, y_true.shape[1]), np.nan)
    for c in range(y_true.shape[1]):
        known = ~np.isnan(y_true[:, c])
        draws[:, c] = _weighted_auc(y_true[known, c], y_score[known, c], weights[:, known])
    tail = 100 * (1 - confidence) / 2
    with warnings.catch_warnings():  # a class with no defined draw has a NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
    return low, high, draws
