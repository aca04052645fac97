"""Property-based bad input (issue 16): every public function, one argument at a time replaced by a random wrong value.

Hypothesis draws the wrong value: another type (None, a string, a boolean, a list, a dict, a complex number, an
object), a number out of range (NaN, infinities, negatives, huge), or an array of another shape or with NaN. The call
must either return or raise a `ValueError` / `TypeError` whose message names the argument; any other exception, a
message that does not say which argument is wrong, or a call running past `TIME_LIMIT_S` fails the test. A value
that happens to be valid may return: the functions' results are checked against references in their own test files.
"""

from __future__ import annotations

import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lecture_lib import boxes, evaluation, labels, losses, metrics
from lecture_lib.datasets.phantom import generate

TIME_LIMIT_S = 20
"""A call running longer than this is a hang (the slowest valid call below takes well under a second)."""

RNG = np.random.default_rng(0)
MASKS = (RNG.random((2, 8, 8, 2)) > 0.5).astype("float32")
PROBABILITIES = RNG.uniform(0.05, 0.95, (2, 8, 8, 2)).astype("float32")
IMAGES = RNG.random((2, 16, 16, 1)).astype("float32")
LABELS = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]], "float32")
SCORES = RNG.random((4, 3)).astype("float32")
POINTS = RNG.uniform(5, 25, (2, 4, 2)).astype("float32")
BOXES = np.array([[2, 2, 10, 12], [4, 3, 12, 11], [20, 20, 30, 28]], "float32")
GRID = RNG.uniform(0.05, 0.95, (2, 3, 3, 7)).astype("float32")
DETECTION_TRUE = np.array([[1, 0.5, 0.5, 0.2, 0.3, 1, 0], [0, 0, 0, 0, 0, 0, 0]], "float32")
DETECTION_PRED = RNG.uniform(0.05, 0.95, (2, 7)).astype("float32")
CTR_NAMES = ["right_thorax", "right_heart", "left_heart", "left_thorax"]

# Each public function with one valid call: name -> (function, keyword arguments).
CALLS = {
    "labels.code_of": (labels.code_of, {"name": "Mass"}),
    "labels.name_of": (labels.name_of, {"code": 3}),
    "labels.one_hot": (labels.one_hot, {"codes": [1, 4], "num_classes": 15}),
    "labels.multi_hot": (labels.multi_hot, {"names_or_codes": ["Mass", "Nodule"]}),
    "labels.codes_of": (labels.codes_of, {"names": ["Mass", "Edema"]}),
    "labels.decode": (labels.decode, {"vector": np.eye(15, dtype="float32")[3], "threshold": 0.5}),
    "labels.to_label_string": (labels.to_label_string, {"vector": np.eye(15, dtype="float32")[3], "threshold": 0.5}),
    "losses.binary_crossentropy_masked": (
        losses.binary_crossentropy_masked,
        {"y_true": LABELS, "y_pred": SCORES, "pos_weights": [1.0, 2.0, 3.0], "from_logits": False},
    ),
    "losses.class_weights_from_labels": (
        losses.class_weights_from_labels,
        {"labels": LABELS, "method": "ratio", "max_weight": 10.0},
    ),
    "losses.dice_loss": (
        losses.dice_loss,
        {"y_true": MASKS, "y_pred": PROBABILITIES, "smooth": 1.0, "mode": "sigmoid", "include_background": True},
    ),
    "losses.crossentropy_dice_loss": (
        losses.crossentropy_dice_loss,
        {"y_true": MASKS, "y_pred": PROBABILITIES, "crossentropy_weight": 1.0, "dice_weight": 1.0},
    ),
    "losses.wing_loss": (losses.wing_loss, {"y_true": POINTS, "y_pred": POINTS + 1.0, "width": 10.0, "curvature": 2.0}),
    "losses.detection_loss": (
        losses.detection_loss,
        {"y_true": DETECTION_TRUE, "y_pred": DETECTION_PRED, "box_loss": "mse", "box_weight": 1.0},
    ),
    "losses.ssim_loss": (
        losses.ssim_loss,
        {"y_true": IMAGES, "y_pred": IMAGES * 0.9, "max_val": 1.0, "filter_size": 7},
    ),
    "metrics.dice_coefficient": (
        metrics.dice_coefficient,
        {"y_true": MASKS, "y_pred": PROBABILITIES, "threshold": 0.5, "average": "macro"},
    ),
    "metrics.iou_score": (metrics.iou_score, {"y_true": MASKS, "y_pred": PROBABILITIES, "threshold": 0.5}),
    "metrics.psnr": (metrics.psnr, {"x": IMAGES, "y": IMAGES * 0.9, "max_val": 1.0}),
    "metrics.ssim": (metrics.ssim, {"x": IMAGES, "y": IMAGES * 0.9, "max_val": 1.0, "filter_size": 7}),
    "evaluation.mean_radial_error": (
        evaluation.mean_radial_error,
        {"true_points": POINTS, "pred_points": POINTS + 1.0, "pixel_spacing_mm": 0.5},
    ),
    "evaluation.successful_detection_rate": (
        evaluation.successful_detection_rate,
        {"true_points": POINTS, "pred_points": POINTS + 1.0, "radii": (2.0, 4.0)},
    ),
    "evaluation.cardiothoracic_ratio": (
        evaluation.cardiothoracic_ratio,
        {"landmarks": POINTS, "landmark_names": CTR_NAMES},
    ),
    "evaluation.macro_auc": (evaluation.macro_auc, {"y_true": LABELS, "y_score": SCORES}),
    "boxes.xyxy_to_center": (boxes.xyxy_to_center, {"boxes": BOXES, "image_size": 32}),
    "boxes.center_to_xyxy": (boxes.center_to_xyxy, {"centers": boxes.xyxy_to_center(BOXES, 32), "image_size": 32}),
    "boxes.pairwise_iou": (boxes.pairwise_iou, {"boxes_a": BOXES, "boxes_b": BOXES[:2]}),
    "boxes.non_max_suppression": (
        boxes.non_max_suppression,
        {"boxes": BOXES, "scores": np.array([0.9, 0.8, 0.7]), "iou_threshold": 0.5, "max_outputs": 10},
    ),
    "boxes.encode_target": (
        boxes.encode_target,
        {"boxes": BOXES[:1], "classes": [1], "image_size": 32, "num_classes": 2},
    ),
    "boxes.encode_grid_target": (
        boxes.encode_grid_target,
        {"boxes": BOXES, "classes": [0, 1, 1], "image_size": 32, "grid_size": 3, "num_classes": 2},
    ),
    "boxes.decode_grid_predictions": (
        boxes.decode_grid_predictions,
        {"predictions": GRID, "image_size": 32, "score_threshold": 0.3, "iou_threshold": 0.5, "max_outputs": 5},
    ),
    "boxes.average_precision": (
        boxes.average_precision,
        {
            "pred_boxes": [BOXES],
            "pred_scores": [np.array([0.9, 0.8, 0.7])],
            "pred_classes": [np.array([0, 0, 1])],
            "true_boxes": [BOXES[:2]],
            "true_classes": [np.array([0, 1])],
            "iou_threshold": 0.5,
        },
    ),
    "phantom.generate": (generate, {"num_images": 1, "image_size": 32, "seed": 0, "findings": ["Mass"]}),
}

# Arguments whose large values are valid but slow (a million phantom images): such values are not drawn.
EXPENSIVE_ABOVE = {("phantom.generate", "num_images"): 64}

CASES = [(name, argument) for name, (_, kwargs) in CALLS.items() for argument in kwargs]


class _Opaque:
    """An object of no type the library knows."""

    def __repr__(self) -> str:
        return "<opaque>"


WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -1.0, -1, 0, 10**9, 1e30, 1 + 2j]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.lists(st.integers(min_value=-3, max_value=20), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(_Opaque),
    hnp.arrays(
        dtype=np.float32,
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
        elements=st.floats(-1e6, 1e6, width=32) | st.sampled_from([float("nan"), float("inf")]),
    ),
    hnp.arrays(
        dtype=np.int64,
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
        elements=st.integers(-5, 300),
    ),
)


@contextmanager
def _time_limit(seconds: int):
    def _raise(signum, frame):
        raise TimeoutError(f"the call ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_every_valid_call_returns():
    for name, (function, kwargs) in CALLS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function(**kwargs)  # the baseline the properties corrupt must itself be valid
        assert name


@pytest.mark.parametrize(("name", "argument"), CASES, ids=[f"{n}-{a}" for n, a in CASES])
@settings(
    max_examples=40,  # about 18 s on this machine
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=WRONG_VALUES)
def test_a_wrong_argument_gets_an_error_that_names_it(name, argument, value):
    function, kwargs = CALLS[name]
    limit = EXPENSIVE_ABOVE.get((name, argument))
    assume(limit is None or not (isinstance(value, int) and value > limit))
    try:
        with _time_limit(TIME_LIMIT_S), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function(**{**kwargs, argument: value})
    except (ValueError, TypeError) as error:
        message = str(error)
        assert argument in message, (
            f"{name}({argument}={value!r}) raised {type(error).__name__} without naming {argument!r}: {message}"
        )
