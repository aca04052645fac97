"""Evaluation on NumPy datasets: landmark errors, the cardiothoracic ratio and AUC, by hand; no Keras needed."""

import math
import subprocess
import sys

import numpy as np
import pytest

from lecture_lib import evaluation, metrics


def test_importing_evaluation_or_rendering_the_phantom_does_not_start_keras():
    code = (
        "import sys; import lecture_lib.evaluation; from lecture_lib.datasets.phantom import generate; "
        "generate(2, image_size=32); "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_metrics_re_exports_the_same_functions():
    for name in ("cardiothoracic_ratio", "mean_radial_error", "radial_errors", "macro_auc", "roc_auc_per_class"):
        assert getattr(metrics, name) is getattr(evaluation, name)


# ------------------------------------------------------------------------------------------------------ landmarks


def test_mean_radial_error_in_pixels_and_mm():
    true = np.array([[[0.0, 0.0], [10.0, 10.0], [np.nan, np.nan]]])
    pred = np.array([[[3.0, 4.0], [10.0, 10.0], [99.0, 99.0]]])
    assert evaluation.mean_radial_error(true, pred) == pytest.approx(5 / 2)
    # spacing is (row, column) = (y, x): dx = 3 · 0.25, dy = 4 · 0.5
    assert evaluation.mean_radial_error(true, pred, pixel_spacing_mm=[[0.5, 0.25]]) == pytest.approx(
        math.hypot(0.75, 2.0) / 2
    )
    assert evaluation.mean_radial_error(true, pred, pixel_spacing_mm=0.2) == pytest.approx(1.0 / 2)
    assert evaluation.successful_detection_rate(true, pred, radii=(2.0, 5.0)) == {2.0: 0.5, 5.0: 1.0}
    with pytest.raises(ValueError, match=r"\(1, 3, 2\) and pred_points \(1, 2, 2\)"):
        evaluation.mean_radial_error(true, pred[:, :2])
    with pytest.raises(ValueError, match="positive"):
        evaluation.mean_radial_error(true, pred, pixel_spacing_mm=[0.0, 1.0])


def test_cardiothoracic_ratio_by_hand():
    names = ["apex", "right_thorax", "right_heart", "left_heart", "left_thorax"]
    # patient's right is image left: thorax 20 -> 120 (100 px), heart 45 -> 100 (55 px): CTR 0.55.
    one = np.array([[60, 10], [20, 200], [45, 150], [100, 160], [120, 210]], "float32")
    assert evaluation.cardiothoracic_ratio(one, names) == pytest.approx(0.55)
    batch = np.stack([one, one])
    batch[1, 3] = np.nan
    ratios = evaluation.cardiothoracic_ratio(batch, names)
    assert ratios[0] == pytest.approx(0.55) and np.isnan(ratios[1])
    with pytest.raises(ValueError, match=r"missing \['left_thorax'\]"):
        evaluation.cardiothoracic_ratio(one[:4], names[:4])
    with pytest.raises(ValueError, match="num_landmarks = 5"):
        evaluation.cardiothoracic_ratio(one[:3], names)


# ------------------------------------------------------------------------------------------------------------ AUC


def test_roc_auc_per_class_masks_nan_and_skips_single_label_classes():
    from sklearn.metrics import roc_auc_score

    y_true = np.array([[1, 0, 1], [0, 0, np.nan], [np.nan, 0, 0], [1, 0, 1], [0, 0, 0]], "float32")
    y_score = np.array([[0.9, 0.1, 0.2], [0.1, 0.5, 0.9], [0.5, 0.3, 0.4], [0.4, 0.2, 0.8], [0.6, 0.4, 0.1]])
    with pytest.warns(UserWarning, match=r"\['Cardiomegaly'\]"):
        aucs = evaluation.roc_auc_per_class(y_true, y_score, class_names=["Atelectasis", "Cardiomegaly", "Effusion"])
    # class 0 known rows 0, 1, 3, 4: positives 0.9, 0.4 vs negatives 0.1, 0.6 -> 3 of 4 pairs ranked right.
    assert aucs[0] == pytest.approx(0.75)
    assert np.isnan(aucs[1])
    assert aucs[2] == pytest.approx(roc_auc_score([1, 0, 1, 0], [0.2, 0.4, 0.8, 0.1]))
    with pytest.warns(UserWarning):
        assert evaluation.macro_auc(y_true, y_score) == pytest.approx((aucs[0] + aucs[2]) / 2)
    with pytest.raises(ValueError, match="num_classes"):
        evaluation.roc_auc_per_class(y_true[:, 0], y_score[:, 0])


# ---------------------------------------------------------------------------------------------------- Bland–Altman


def test_bland_altman_by_hand():
    # differences a - b = [1, 0, -1, 4]: bias 1; squared deviations 0 + 1 + 4 + 9 = 14, SD = sqrt(14 / 3) = 2.160247;
    # limits 1 ± 1.96 · 2.160247 = 1 ± 4.234084.
    agreement = evaluation.bland_altman([10.0, 12.0, 14.0, 20.0], [9.0, 12.0, 15.0, 16.0])
    assert agreement.bias == pytest.approx(1.0)
    assert agreement.sd == pytest.approx(2.160247, abs=1e-6)
    assert agreement.lower == pytest.approx(-3.234084, abs=1e-6)
    assert agreement.upper == pytest.approx(5.234084, abs=1e-6)
    bias, sd, lower, upper = agreement  # a named tuple: unpacks in this order
    assert (bias, sd) == (agreement.bias, agreement.sd) and lower < bias < upper
    # the sign follows a - b: swapping the methods flips the bias and the limits
    swapped = evaluation.bland_altman([9.0, 12.0, 15.0, 16.0], [10.0, 12.0, 14.0, 20.0])
    assert swapped.bias == pytest.approx(-1.0) and swapped.upper == pytest.approx(3.234084, abs=1e-6)


def test_bland_altman_identical_and_constant_offset_have_zero_sd():
    assert tuple(evaluation.bland_altman([0.4, 0.5, 0.6], [0.4, 0.5, 0.6])) == (0.0, 0.0, 0.0, 0.0)
    offset = evaluation.bland_altman([0.45, 0.55, 0.65], [0.4, 0.5, 0.6])
    assert offset.bias == pytest.approx(0.05) and offset.sd == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "error", "match"),
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], ValueError, r"a has shape \(3,\) and b has \(2,\)"),
        ([[1.0, 2.0]], [[1.0, 2.0]], ValueError, "num_cases"),
        ([1.0], [2.0], ValueError, "at least 2 pairs"),
        ([1.0, np.nan], [2.0, 3.0], ValueError, "finite"),
        ("1, 2", [2.0, 3.0], TypeError, "a must be an array of numbers"),
        ([1.0, 2.0], None, TypeError, "b must be an array of numbers"),
    ],
)
def test_bland_altman_refuses_bad_input(a, b, error, match):
    with pytest.raises(error, match=match):
        evaluation.bland_altman(a, b)


# ------------------------------------------------------------------------------------ operating point, bootstrap

# Ten images sorted by score; the negatives sit at 0.1, 0.2, 0.3, 0.4, 0.6 and 0.9 (6), the positives at 0.5, 0.7,
# 0.8 and 0.95 (4).
OP_SCORES = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
OP_LABELS = np.array([0, 0, 0, 0, 1, 0, 1, 1, 0, 1])


def test_threshold_at_specificity_by_hand():
    # Specificity >= 0.8 allows one false positive of six (5/6 = 0.83; 4/6 = 0.67 is too low): the lowest threshold
    # with only the 0.9 negative above it is 0.7, which catches 0.7, 0.8 and 0.95: sensitivity 3/4.
    assert evaluation.threshold_at_specificity(OP_LABELS, OP_SCORES, 0.8) == pytest.approx(0.7)
    # No false positive at all: only 0.95 stays above the 0.9 negative.
    assert evaluation.threshold_at_specificity(OP_LABELS, OP_SCORES, 1.0) == pytest.approx(0.95)
    # Any specificity allowed: every threshold up to 0.5 catches all four positives; 0.5 keeps the most negatives.
    assert evaluation.threshold_at_specificity(OP_LABELS, OP_SCORES, 0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="specificity"):
        evaluation.threshold_at_specificity(OP_LABELS, OP_SCORES, 1.5)
    with pytest.raises(ValueError, match="positives and negatives"):
        evaluation.threshold_at_specificity(np.zeros(10), OP_SCORES)
    with pytest.raises(ValueError, match=r"\(num_images,\)"):
        evaluation.threshold_at_specificity(OP_LABELS[:, None], OP_SCORES[:, None])


def test_sensitivity_specificity_by_hand_and_against_sklearn():
    assert evaluation.sensitivity_specificity(OP_LABELS, OP_SCORES, 0.7) == pytest.approx((3 / 4, 5 / 6))
    # A score equal to the threshold counts as positive: at 0.5 all four positives and the 0.6 and 0.9 negatives.
    assert evaluation.sensitivity_specificity(OP_LABELS, OP_SCORES, 0.5) == pytest.approx((1.0, 4 / 6))
    from sklearn.metrics import recall_score

    for threshold in (0.25, 0.65, 0.85, 0.97):
        called = OP_SCORES >= threshold
        expected = (recall_score(OP_LABELS, called), recall_score(OP_LABELS, called, pos_label=0))
        assert evaluation.sensitivity_specificity(OP_LABELS, OP_SCORES, threshold) == pytest.approx(expected)


def test_weighted_auc_matches_sklearn_on_the_resampled_images():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    s = rng.integers(0, 8, 40) / 8  # many ties
    weights = rng.integers(0, 4, (5, 40)).astype(float)
    expected = [roc_auc_score(np.repeat(y, w.astype(int)), np.repeat(s, w.astype(int))) for w in weights]
    np.testing.assert_allclose(evaluation._weighted_auc(y, s, weights), expected, rtol=1e-12)


def test_bootstrap_of_one_positive_and_one_negative():
    # A draw of two images holds both with probability 2 · (1/2)² = 1/2; then its AUC is 1, else undefined.
    low, high, draws = evaluation.bootstrap_auc([[1], [0]], [[0.9], [0.1]], num_draws=2000, seed=1)
    defined = draws[~np.isnan(draws)]
    assert (defined == 1).all() and low[0] == high[0] == 1
    assert abs(defined.size / 2000 - 0.5) < 0.05


def test_bootstrap_by_patient_equals_bootstrap_by_image_when_each_patient_repeats_one_image():
    # Two identical studies per patient: drawing patients gives every image of the patient the patient's count,
    # which leaves each draw's AUC as drawing the single images with the same counts (same seed, same generator).
    rng = np.random.default_rng(2)
    y = np.stack([rng.integers(0, 2, 30), np.r_[np.ones(3), np.zeros(27)]], axis=1).astype(float)
    s = rng.uniform(size=(30, 2))
    y[4, 0] = np.nan  # unknown label: left out of class 0
    by_image = evaluation.bootstrap_auc(y, s, num_draws=300, seed=5)
    by_patient = evaluation.bootstrap_auc(
        np.repeat(y, 2, axis=0), np.repeat(s, 2, axis=0), groups=np.repeat(np.arange(30), 2), num_draws=300, seed=5
    )
    np.testing.assert_allclose(by_patient[2], by_image[2], rtol=1e-12)
    point = evaluation.roc_auc_per_class(y, s)
    assert (by_image[0] <= point).all() and (point <= by_image[1]).all()
    assert 0 < np.isnan(by_image[2][:, 1]).mean() < 0.2  # three positives: some draws have none (0.9^30 ≈ 4 %)
    again = evaluation.bootstrap_auc(y, s, num_draws=300, seed=5)
    np.testing.assert_array_equal(again[2], by_image[2])
    with pytest.raises(ValueError, match="one patient id per image"):
        evaluation.bootstrap_auc(y, s, groups=np.arange(29))
    with pytest.raises(ValueError, match="confidence"):
        evaluation.bootstrap_auc(y, s, confidence=1.0)
