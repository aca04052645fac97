"""The quiz: every question accepts its solution (held here, computed independently) and rejects typical mistakes.

The solutions below are worked out by hand from the slides and cross-checked with reference libraries
(scipy.signal, scikit-learn, scikit-image, Keras); none is read from `lecture_lib.quiz`.
"""

import inspect
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat
import numpy as np
import pytest
import scipy.signal
import scipy.special
from nbclient import NotebookClient

from lecture_lib import quiz

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "06_quiz.ipynb"

SLIDE_MATRIX = np.array(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)
VERTICAL_EDGE = np.array([[1, 0, -1]] * 3)
# By hand: each entry is (sum of the patch's left column) − (sum of its right column). Top-left patch: left column
# 3 + 1 + 2 = 6, right column 1 + 8 + 2 = 11, so −5; bottom-right: (1 + 6 + 2) − (8 + 8 + 9) = −16.
CONV_BY_HAND = np.array(
    [
        [-5, -4, 0, 8],
        [-10, -2, 2, 3],
        [0, -2, -4, -7],
        [-3, -2, -3, -16],
    ]
)

MASK_X = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ]
)
MASK_Y = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ]
)
HEATMAP = np.array(
    [
        [0, 0, 1, 2, 1],
        [0, 1, 2, 4, 2],
        [0, 0, 1, 3, 1],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=float,
)


def _soft_argmax_reference(scores):
    probabilities = scipy.special.softmax(scores.ravel()).reshape(scores.shape)
    rows, cols = np.mgrid[: scores.shape[0], : scores.shape[1]]
    return np.array([(probabilities * cols).sum(), (probabilities * rows).sum()])


def conv_output_size(n, f, p=0, s=1):
    import math

    return math.floor((n + 2 * p - f) / s) + 1


def iou(box_a, box_b):
    ax0, ay0, ax1, ay1 = box_a
    bx0, by0, bx1, by1 = box_b
    overlap_w = max(0, min(ax1, bx1) - max(ax0, bx0))
    overlap_h = max(0, min(ay1, by1) - max(ay0, by0))
    inter = overlap_w * overlap_h
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union else 0.0


# Effusion = 4, Infiltration = 8, Mass = 9, Pleural_Thickening = 12 in the slide's table; Pneumonia = 13.
SOLUTIONS = {
    "conv_output": 6 - 3 + 1,
    "conv_result": CONV_BY_HAND,
    "resnet_stem_output": (224 + 2 * 3 - 7) // 2 + 1,
    "conv_output_size_fn": conv_output_size,
    "input_shape": (1024, 1024, 1),
    "activation_multilabel": "a",
    "activation_unique": "b",
    "one_hot_code": np.eye(15)[12],
    "multi_hot_nih": np.eye(15)[[4, 8, 9]].sum(axis=0),
    "bce_value": -(math.log(0.9) + math.log(0.6) + math.log(1 - 0.2)) / 3,
    "dataset_padchest_manual": "c",
    "seg_output_shape": (512, 512, 4),
    "dice_masks": 2 * 10 / (12 + 12),
    "seg_loss_small": "b",
    "dataset_lung_masks": "c",
    "detection_vector": [1, (256 + 512) / 2 / 1024, (384 + 896) / 2 / 1024, 512 / 1024, 256 / 1024, 13],
    "iou_boxes": (20 * 20) / (40 * 40 + 60 * 30 - 20 * 20),
    "iou_fn": iou,
    "dataset_pneumonia_boxes": "b",
    "landmark_v1_shape": (4, 2),
    "landmark_v2_shape": (256, 256, 4),
    "soft_argmax": _soft_argmax_reference(HEATMAP),
    "structure_loss": "c",
    "ssim_why": "b",
    "generation_activation": "c",
    "dataset_localised": ["d", "e", "f"],
}


def _grade(question_id, answer):
    return quiz.Quiz().grade(question_id, answer)


# ---------------------------------------------------------------------------------------------------- the bank


def test_bank_covers_every_section_of_the_lecture():
    bank = quiz.questions()
    ids = [question.id for question in bank]
    assert len(bank) >= 15
    assert len(set(ids)) == len(ids)
    assert set(ids) == set(SOLUTIONS), "every question needs a solution in this test"
    lecture_sections = {"Recap", "Classification", "Segmentation", "Detection", "Landmarks", "Generation"}
    assert lecture_sections <= {question.section for question in bank}
    kinds = {type(question) for question in bank}
    assert {quiz.Choice, quiz.Number, quiz.Array, quiz.Shape, quiz.Code} <= kinds


def test_reference_values_agree_with_libraries():
    np.testing.assert_array_equal(scipy.signal.correlate2d(SLIDE_MATRIX, VERTICAL_EDGE, mode="valid"), CONV_BY_HAND)
    from sklearn.metrics import f1_score, log_loss

    assert SOLUTIONS["dice_masks"] == pytest.approx(f1_score(MASK_X.ravel(), MASK_Y.ravel()))
    assert SOLUTIONS["bce_value"] == pytest.approx(log_loss([1, 1, 0], [0.9, 0.6, 0.2]))
    assert SOLUTIONS["multi_hot_nih"].nonzero()[0].tolist() == [4, 8, 9]


def test_sizes_and_iou_agree_with_keras():
    import keras

    for n, f, p, s in [(6, 3, 0, 1), (224, 7, 3, 2), *quiz.get("conv_output_size_fn").cases]:
        keras_side = keras.layers.Conv2D(1, f, strides=s).compute_output_shape((1, n + 2 * p, n + 2 * p, 1))[1]
        assert conv_output_size(n, f, p, s) == keras_side
    boxes_a = np.array([[10.0, 20, 50, 60]] + [case[0] for case in quiz.get("iou_fn").cases], dtype="float32")
    boxes_b = np.array([[30.0, 40, 90, 70]] + [case[1] for case in quiz.get("iou_fn").cases], dtype="float32")
    expected = np.diagonal(keras.utils.bounding_boxes.compute_iou(boxes_a, boxes_b, bounding_box_format="xyxy"))
    ours = [iou(a, b) for a, b in zip(boxes_a, boxes_b, strict=True)]
    np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.parametrize("question_id", list(SOLUTIONS))
def test_every_question_accepts_its_solution(question_id):
    result = _grade(question_id, SOLUTIONS[question_id])
    assert result.status == "correct", result.message
    assert result.message.startswith("✓")


def test_answers_may_come_as_tensors_lists_and_option_texts():
    assert _grade("conv_result", CONV_BY_HAND.tolist()).correct
    assert _grade("conv_result", CONV_BY_HAND.astype("float32")).correct
    assert _grade("conv_output", np.int64(4)).correct
    assert _grade("conv_output", 4.0).correct
    assert _grade("activation_multilabel", " A ").correct
    assert _grade("activation_multilabel", "Sigmoid → binary cross-entropy").correct
    assert _grade("dataset_localised", "f, d, e").correct
    assert _grade("dataset_localised", {"d", "e", "f"}).correct
    assert _grade("seg_output_shape", [512, 512, 4]).correct


def test_keras_tensors_are_accepted():
    import keras

    assert _grade("soft_argmax", keras.ops.convert_to_tensor(SOLUTIONS["soft_argmax"])).correct


# ---------------------------------------------------------------------------------------------------- mistakes

WRONG_ANSWERS = [
    ("conv_output", 3, "+ 1"),
    ("conv_output", 5, "one too many"),
    ("conv_output", 6, "padding"),
    ("conv_result", scipy.signal.convolve2d(SLIDE_MATRIX, VERTICAL_EDGE, mode="valid"), "flipped the kernel"),
    ("conv_result", scipy.signal.correlate2d(SLIDE_MATRIX, VERTICAL_EDGE.T, mode="valid"), "transposed kernel"),
    ("conv_result", CONV_BY_HAND.T, "transposed"),
    ("conv_result", scipy.signal.correlate2d(SLIDE_MATRIX, VERTICAL_EDGE, mode="same"), "no padding"),
    ("conv_result", CONV_BY_HAND + np.eye(4), "4 of 16 entries"),
    ("conv_result", [[30, 30], [30]], "could not read"),
    ("resnet_stem_output", 111, "+ 1"),
    ("resnet_stem_output", 112.5, "whole numbers"),
    ("resnet_stem_output", 109, "padding"),
    ("input_shape", (1, 1024, 1024), "channels-first"),
    ("input_shape", (1024, 1024), "channel axis"),
    ("input_shape", (1, 1024, 1024, 1), "batch axis"),
    ("activation_multilabel", "b", "softmax"),
    ("activation_multilabel", "d", "softmax"),
    ("activation_multilabel", ["a", "b"], "exactly one"),
    ("activation_multilabel", "z", "not one of the options"),
    ("activation_unique", "a", "own yes/no"),
    ("one_hot_code", np.eye(15)[11], "off by one"),
    ("one_hot_code", 12, "shape"),
    ("multi_hot_nih", np.eye(15)[4], "first finding only"),
    ("multi_hot_nih", np.eye(15)[[4, 8, 9, 10]].sum(axis=0), "No Finding"),
    ("multi_hot_nih", np.eye(15)[[4, 8, 9]].sum(axis=0) / 3, "not a probability"),
    ("bce_value", -(math.log(0.9) + math.log(0.6) + math.log(0.8)), "sum"),
    ("bce_value", -(math.log10(0.9) + math.log10(0.6) + math.log10(0.8)) / 3, "natural logarithm"),
    ("bce_value", -(math.log(0.9) + math.log(0.6)) / 3, "(1 − Y)"),
    ("dataset_padchest_manual", "b", "NLP"),
    ("seg_output_shape", (512, 512, 3), "background"),
    ("seg_output_shape", (4, 512, 512), "channels-first"),
    ("dice_masks", 10 / 14, "IoU"),
    ("dice_masks", 10 / 24, "factor 2"),
    ("seg_loss_small", "a", "1% of the loss"),
    ("dataset_lung_masks", "b", "pneumothorax"),
    ("detection_vector", [1, 0.375, 0.625, 0.25, 0.5, 13], "Bh"),
    ("detection_vector", [1, 0.625, 0.375, 0.25, 0.5, 13], "transposed"),
    ("detection_vector", [1, 0.25, 0.375, 0.5, 0.25, 13], "centre"),
    ("detection_vector", [1, 384, 640, 512, 256, 13], "divide"),
    ("detection_vector", [1, 0.375, 0.625, 0.5, 0.25], "shape"),
    ("iou_boxes", 2 * 400 / (1600 + 1800), "Dice"),
    ("iou_boxes", 400 / 1600, "union"),
    ("iou_boxes", 441 / (41 * 41 + 61 * 31 - 441), "inclusive"),
    ("dataset_pneumonia_boxes", "a", "nodules"),
    ("landmark_v1_shape", (2, 4), "transposed"),
    ("landmark_v1_shape", (256, 256, 4), "v2"),
    ("landmark_v2_shape", (4, 2), "v1"),
    ("landmark_v2_shape", (4, 256, 256), "channels-first"),
    ("soft_argmax", SOLUTIONS["soft_argmax"][::-1], "swapped"),
    ("soft_argmax", (3, 1), "hard argmax"),
    ("soft_argmax", (HEATMAP / HEATMAP.sum() * np.mgrid[:5, :5][1]).sum(axis=None), "expected two numbers"),
    ("structure_loss", "a", "pixel by pixel"),
    ("ssim_why", "d", "other way round"),
    ("generation_activation", "a", "unbounded above"),
    ("generation_activation", "b", "(−1, 1)"),
    ("generation_activation", "d", "sum to 1"),
    ("dataset_localised", ["c", "d", "e", "f"], "words from the report"),
    ("dataset_localised", ["d", "e"], "missing"),
]


@pytest.mark.parametrize(("question_id", "answer", "fragment"), WRONG_ANSWERS)
def test_typical_wrong_answers_are_rejected_with_a_reason(question_id, answer, fragment):
    result = _grade(question_id, answer)
    assert result.status == "wrong"
    assert result.message.startswith("✗")
    assert fragment in result.message
    assert "Hint:" in result.message


def test_wrong_answers_cover_every_question():
    assert {question_id for question_id, _, _ in WRONG_ANSWERS} >= set(SOLUTIONS) - {
        "conv_output_size_fn",
        "iou_fn",
    }


def test_raw_scores_instead_of_softmax_are_named():
    rows, cols = np.mgrid[:5, :5]
    weights = HEATMAP / HEATMAP.sum()
    result = _grade("soft_argmax", ((weights * cols).sum(), (weights * rows).sum()))
    assert "exponentiates" in result.message


def test_code_exercise_reports_wrong_results_and_exceptions_kindly():
    def no_plus_one(n, f, p=0, s=1):
        return (n + 2 * p - f) // s

    def true_division(n, f, p=0, s=1):
        return (n + 2 * p - f) / s + 1

    def crashes(n, f, p=0, s=1):
        return n / (s - s)

    assert "+ 1 is missing" in _grade("conv_output_size_fn", no_plus_one).message
    assert "returned 4.5, expected 4" in _grade("conv_output_size_fn", true_division).message
    message = _grade("conv_output_size_fn", crashes).message
    assert "raised ZeroDivisionError" in message and "return n / (s - s)" in message
    assert "expected a function" in _grade("conv_output_size_fn", 4).message
    assert "forget `return`" in _grade("conv_output_size_fn", lambda n, f, p=0, s=1: None).message

    def unclipped(box_a, box_b):
        inter = (min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])) * (
            min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
        )
        area = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1]) + (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
        return inter / (area - inter)

    assert "clip the intersection" in _grade("iou_fn", unclipped).message

    def dice(box_a, box_b):
        return 2 * iou(box_a, box_b) / (1 + iou(box_a, box_b))

    assert "Dice" in _grade("iou_fn", dice).message


def test_student_function_gets_copies_and_the_check_never_raises():
    calls = []

    def records(box_a, box_b):
        calls.append((box_a, box_b))
        raise KeyError("oops")

    result = _grade("iou_fn", records)
    assert result.status == "wrong" and "KeyError" in result.message
    assert len(calls) == 1


@pytest.mark.parametrize("odd", [None, "four", object(), float("nan"), {"a": 1}, [[1, 2], [3]]])
def test_odd_answers_never_raise(odd):
    for question in quiz.questions():
        result = _grade(question.id, odd)
        assert result.status == "wrong", (question.id, odd)


# ---------------------------------------------------------------------------------------------------- session


def test_unanswered_says_so_and_does_not_count(capsys):
    session = quiz.Quiz()
    session.check("conv_output", ...)
    out = capsys.readouterr().out
    assert "not answered yet" in out and out.startswith("…")
    assert session.score().answered == 0 and session.score().correct == 0


def test_running_score_counts_the_latest_answer(capsys):
    session = quiz.Quiz()
    session.check("conv_output", 3)
    session.check("activation_multilabel", "a")
    assert capsys.readouterr().out.splitlines()[0].startswith("✗ conv_output")
    score = session.score()
    assert (score.correct, score.answered, score.total) == (1, 2, len(SOLUTIONS))
    session.check("conv_output", 4)
    session.check("activation_multilabel", "b")
    score = session.score()
    assert score.correct == 1 and score.by_section["Recap"] == (1, 4) and score.by_section["Classification"][0] == 0
    assert "activation_multilabel" in score.open_questions and "conv_output" not in score.open_questions
    assert f"1/{len(SOLUTIONS)} correct" in str(score)
    session.reset()
    assert session.score().answered == 0


def test_module_level_check_and_score(capsys):
    quiz.reset()
    quiz.check("input_shape", (1024, 1024, 1))
    assert capsys.readouterr().out.startswith("✓ input_shape: correct.")
    assert quiz.score().correct == 1
    quiz.reset()


def test_unknown_question_id_raises_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'conv_output'"):
        quiz.check("conv_ouput", 4)


def test_data_returns_copies():
    conv = quiz.data("conv_result")
    np.testing.assert_array_equal(conv["image"], SLIDE_MATRIX)
    np.testing.assert_array_equal(conv["kernel"], VERTICAL_EDGE)
    conv["image"][:] = 0
    np.testing.assert_array_equal(quiz.data("conv_result")["image"], SLIDE_MATRIX)
    np.testing.assert_array_equal(quiz.data("dice_masks")["x"], MASK_X)
    np.testing.assert_array_equal(quiz.data("soft_argmax")["heatmap"], HEATMAP)


# ---------------------------------------------------------------------------------------------------- secrecy and key


def test_choice_answers_are_stored_as_digests():
    for question in quiz.questions():
        if isinstance(question, quiz.Choice):
            assert set(question.truth) == set(question.options)
            assert all(re.fullmatch(r"[0-9a-f]{20}", digest) for digest in question.truth.values()), question.id


def test_computed_answers_do_not_appear_in_the_notebook_or_the_package():
    sources = NOTEBOOK.read_text() + Path(inspect.getfile(quiz)).read_text()
    for row in CONV_BY_HAND:
        assert ", ".join(str(v) for v in row) not in sources
        assert " ".join(str(v) for v in row) not in sources
    for value in ("0.8333", "0.1333", "0.2798", "0.375, 0.625", "2.776", "1.323"):
        assert value not in sources


def test_answer_key_prints_every_solution(capsys):
    assert quiz.main(["--key"]) == 0
    key = capsys.readouterr().out
    for question_id, solution in SOLUTIONS.items():
        block = key.split(f" {question_id}: ", 1)[1].split("\nQ", 1)[0]
        if isinstance(solution, str):
            assert f"'{solution}'" in block, question_id
        elif isinstance(solution, list) and all(isinstance(item, str) for item in solution):
            assert repr(solution) in block, question_id
        elif isinstance(solution, tuple):
            assert str(solution) in block, question_id
        elif isinstance(solution, int):
            assert block.splitlines()[1].strip() == str(solution), question_id
    assert quiz.answer_key().keys() == SOLUTIONS.keys()


def test_list_names_every_question(capsys):
    assert quiz.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(question_id in listing for question_id in SOLUTIONS)


# ---------------------------------------------------------------------------------------------------- figures


@pytest.mark.parametrize("question_id", ["conv_result", "dice_masks", "detection_vector", "iou_boxes", "soft_argmax"])
def test_figures_draw(question_id):
    import matplotlib.pyplot as plt

    fig = quiz.figure(question_id)
    assert fig.axes
    plt.close(fig)


def test_figure_of_a_question_without_one_raises():
    with pytest.raises(ValueError, match="has no figure"):
        quiz.figure("bce_value")


# ---------------------------------------------------------------------------------------------------- SSIM claim


def test_ssim_explanation_holds_blur_costs_more_than_a_brightness_shift_of_equal_mse():
    from scipy.ndimage import gaussian_filter
    from skimage.metrics import mean_squared_error, structural_similarity

    rng = np.random.default_rng(0)
    image = gaussian_filter(rng.random((64, 64)), 1.0)
    image = (image - image.min()) / (image.max() - image.min())
    blurred = gaussian_filter(image, 2.0)
    shift = math.sqrt(mean_squared_error(image, blurred))
    brighter = image + shift
    assert mean_squared_error(image, brighter) == pytest.approx(mean_squared_error(image, blurred))
    ssim_shift = structural_similarity(image, brighter, data_range=1.0)
    ssim_blur = structural_similarity(image, blurred, data_range=1.0)
    assert ssim_blur < ssim_shift - 0.2


# ---------------------------------------------------------------------------------------------------- notebook


def _solution_source(question_id):
    solution = SOLUTIONS[question_id]
    if callable(solution):
        return f"{inspect.getsource(solution)}\nanswer = {solution.__name__}"
    if isinstance(solution, np.ndarray):
        return f"answer = np.array({solution.tolist()!r})"
    return f"answer = {solution!r}"


def _run(notebook):
    client = NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    )
    client.execute()
    outputs = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            outputs.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
    return "\n".join(outputs)


def test_notebook_is_committed_without_outputs_and_asks_every_question():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    for question_id in SOLUTIONS:
        cells = [cell.source for cell in code if f'quiz.check("{question_id}", answer)' in cell.source]
        assert len(cells) == 1, question_id
        assert re.search(r"^answer = \.\.\.", cells[0], flags=re.MULTILINE), question_id
    assert "python -m lecture_lib.quiz --key" in notebook.cells[0].source
    assert code[-1].source.strip() == "quiz.score()"


def test_notebook_runs_unanswered():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    text = _run(notebook)
    assert text.count("not answered yet") == len(SOLUTIONS)
    assert f"Score: 0/{len(SOLUTIONS)} correct (0%), 0 answered." in text


def test_notebook_answered_with_the_solutions_scores_100_percent():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        match = re.search(r'quiz\.check\("(\w+)", answer\)', cell.source)
        if cell.cell_type == "code" and match:
            solution = _solution_source(match.group(1))
            cell.source = re.sub(r"^answer = \.\.\..*$", lambda _, text=solution: text, cell.source, flags=re.MULTILINE)
    text = _run(notebook)
    assert "✗" not in text and "not answered yet" not in text
    assert text.count("✓") == len(SOLUTIONS)
    assert f"Score: {len(SOLUTIONS)}/{len(SOLUTIONS)} correct (100%)" in text
