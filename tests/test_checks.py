"""Tests of lecture_lib.checks: one wording for every argument error, NumPy scalars accepted, symbolic tensors skipped."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lecture_lib import checks


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1.0), (2.5, 2.5), (np.float32(1.0), 1.0), (np.int64(7), 7.0), (np.array(0.5), 0.5)]
)
def test_numbers_include_numpy_scalars_and_come_back_as_python_floats(value, expected):
    result = checks.check_positive(value, "max_val")
    assert result == expected and type(result) is float
    json.dumps(result)  # configs built from it serialize


def test_integers_include_numpy_integers_but_not_floats_or_booleans():
    assert checks.check_count(np.int64(7), "num_images") == 7 and type(checks.check_count(np.int64(7), "n")) is int
    with pytest.raises(TypeError, match=r"num_images must be a positive integer, got float 2\.5"):
        checks.check_count(2.5, "num_images")
    with pytest.raises(TypeError, match="got float 2.0"):
        checks.check_count(2.0, "num_images")
    with pytest.raises(TypeError, match="got bool True"):
        checks.check_count(True, "num_images")
    with pytest.raises(ValueError, match="num_images must be a positive integer, got -1"):
        checks.check_count(-1, "num_images")
    assert checks.check_count(0, "max_outputs", minimum=0) == 0
    assert checks.check_count(None, "max_images", allow_none=True) is None
    with pytest.raises(ValueError, match="seed must be an integer >= 3, got 2"):
        checks.check_count(2, "seed", minimum=3)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("1", TypeError, "smooth must be a positive number, got str '1'"),
        (None, TypeError, "got NoneType None"),
        (np.bool_(True), TypeError, "got bool"),
        (0, ValueError, "smooth must be a positive number, got 0$"),
        (float("nan"), ValueError, "got nan"),
        (float("inf"), ValueError, "got inf"),
    ],
)
def test_a_bad_number_names_the_argument_the_value_and_the_expectation(value, error, match):
    with pytest.raises(error, match=match):
        checks.check_positive(value, "smooth")


def test_ranges_and_fixes_are_spelled_out():
    with pytest.raises(ValueError, match=r"threshold must be None or a number in \[0, 1\], got 1\.5; None is soft"):
        checks.check_fraction(1.5, "threshold", allow_none=True, fix="None is soft")
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), got 1"):
        checks.check_number(1, "momentum", low=0, high=1, high_open=True)
    with pytest.raises(ValueError, match="smooth must be a non-negative number, got -0.5"):
        checks.check_non_negative(-0.5, "smooth")
    assert checks.check_number(float("-inf"), "score_threshold", finite=False) == float("-inf")
    with pytest.raises(ValueError, match="got nan"):
        checks.check_number(float("nan"), "score_threshold", finite=False)


def test_choice_returns_the_canonical_spelling_and_suggests_the_closest():
    assert checks.check_choice("NIH", "name", ("nih", "chexpert"), normalize=str.lower) == "nih"
    with pytest.raises(ValueError, match=r"unknown dataset 'chexpret' \(did you mean 'chexpert'\?\); name must be"):
        checks.check_choice("chexpret", "name", ("nih", "chexpert"), normalize=str.lower, what="dataset")
    with pytest.raises(ValueError, match=r"mode must be one of 'sigmoid', 'softmax', got 'sigmod' \(did you mean"):
        checks.check_choice("sigmod", "mode", ("sigmoid", "softmax"))
    with pytest.raises(TypeError, match="name must be a string.*got NoneType None"):
        checks.check_choice(None, "name", ("nih",), normalize=str.lower)
    assert checks.check_choice(None, "average", ("macro", None)) is None
    # An array is not compared element-wise (which would raise "truth value of an array is ambiguous").
    with pytest.raises(ValueError, match="average must be one of 'macro', None, got array"):
        checks.check_choice(np.array(["macro", "macro"]), "average", ("macro", None))


def test_shape_checks():
    assert checks.static_shape([[1, 2, 3]]) == (1, 3)
    checks.check_same_shape(np.zeros((2, 3)), np.zeros((2, 3)), "fix")
    with pytest.raises(ValueError, match=r"y_pred has shape \(2, 4\) but y_true has shape \(2, 3\); one per class"):
        checks.check_same_shape(np.zeros((2, 3)), np.zeros((2, 4)), "one per class")
    with pytest.raises(ValueError, match=r"y_pred must have at least 3 dimensions `\(b, h, w\)`, got shape \(2,\)"):
        checks.check_min_rank(np.zeros(2), 3, "y_pred", "`(b, h, w)`")


def test_value_checks_name_the_range_received_and_let_nan_pass():
    checks.check_values_in(np.array([0.0, 1.0, np.nan]), "y_true", 0.0, 1.0, "fix")
    checks.check_values_in(np.array([True, False]), "y_true", 0.0, 1.0, "fix")
    with pytest.raises(ValueError, match=r"y_true must hold values in \[0, 1\], got values from 0 to 255; divide"):
        checks.check_values_in(np.array([0, 255, np.nan]), "y_true", 0.0, 1.0, "divide by 255")
    checks.check_span([np.zeros(3), np.ones(3)], "the images", 1.0, "fix")
    checks.check_span([np.zeros(3), np.full(3, 2.0)], "the images", 1.0, "fix")  # up to twice max_val passes
    with pytest.raises(ValueError, match=r"a range of 2\.01, more than twice"):
        checks.check_span([np.zeros(3), np.full(3, 2.01)], "the images", 1.0, "fix")
    with pytest.raises(ValueError, match=r"the images span 100 to 110, a range of 10, more than twice max_val=1; fix"):
        checks.check_span([np.full(3, 100.0), np.full(3, 110.0)], "the images", 1.0, "fix")


def test_symbolic_tensors_are_skipped():
    keras = pytest.importorskip("keras")
    symbolic = keras.Input((4,))
    assert checks.known_values(symbolic) is None
    checks.check_values_in(symbolic, "y_pred", 0.0, 1.0, "never raised: the values are unknown")
    eager = keras.ops.convert_to_tensor(np.array([2.0]))
    with pytest.raises(ValueError, match="got values from 2 to 2"):
        checks.check_values_in(eager, "y_pred", 0.0, 1.0, "fix")


def test_ssim_options_are_checked_and_returned_as_python_numbers():
    options = checks.check_ssim_options(np.float32(255.0), np.int64(7), 1.5, 0.01, 0.03, (0.5, np.float64(0.5)))
    assert options == {"max_val": 255.0, "filter_size": 7, "filter_sigma": 1.5, "k1": 0.01, "k2": 0.03,
                       "power_factors": [0.5, 0.5]}  # fmt: skip
    json.dumps(options)
    with pytest.raises(TypeError, match="filter_size must be a positive integer, got float 11.0; 11 in the SSIM"):
        checks.check_ssim_options(1.0, 11.0, 1.5, 0.01, 0.03)
    with pytest.raises(ValueError, match="power_factors must be a non-empty sequence"):
        checks.check_ssim_options(1.0, 11, 1.5, 0.01, 0.03, ())
    with pytest.raises(ValueError, match="each of power_factors must be a non-negative number, got -1"):
        checks.check_ssim_options(1.0, 11, 1.5, 0.01, 0.03, (0.5, -1))


def test_importing_checks_does_not_load_keras():
    code = "import sys, lecture_lib.checks; print('keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_flag_accepts_booleans(value):
    assert checks.check_flag(value, "from_logits") is bool(value)


@pytest.mark.parametrize("value", ["False", 1, None, np.array([True])])
def test_check_flag_refuses_truthy_values_of_other_kinds(value):
    with pytest.raises(TypeError, match="from_logits must be True or False, got"):
        checks.check_flag(value, "from_logits")
