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
