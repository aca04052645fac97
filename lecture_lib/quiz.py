"""Self-check quiz for Lecture 6: a question bank and `check()` with feedback that teaches.

Every question has an id (e.g. `"conv_output"`), a Markdown prompt in the lecture's words and one of five answer
kinds: multiple choice (`Choice`), a number with a tolerance (`Number`), an array (`Array`), a tensor shape
(`Shape`) or a small function the student writes (`Code`, run on test cases). `check(question_id, answer)` prints
✓ or ✗ with the reason and a hint, and keeps a running score; `answer = ...` (Ellipsis) only says
"not answered yet", so the notebook runs top to bottom unanswered.

Answers are not stored in plain text. Multiple-choice answers are salted SHA-256 digests; numbers, arrays and
shapes are computed at check time from the question's data (the slide's 6×6 matrix, the masks, the boxes, the
heatmap) with the lecture's formulas; code exercises compare the student's function with a reference on test cases.
This keeps answers out of sight while students work, which is all a self-check needs; it is not an exam lock (the
feedback explains the ideas, and the key below is one command).

Answer key (instructors): run, from the repository root,

    python -m lecture_lib.quiz --key

which derives every answer at run time (it tries each option against the digests and evaluates the formulas) and
prints them. `python -m lecture_lib.quiz --list` lists the questions.

Adding a question: append it to the bank below (a `Choice` gets its digests from
`truth_table(question_id, right_letters, letters)`, pasted into `_TRUTH`), give `tests/test_quiz.py` its solution
and a typical wrong answer, and rebuild the notebook with `python scripts/build_quiz_notebook.py`.

Example:
    >>> from lecture_lib import quiz
    >>> quiz.check("conv_output", ...)
    … conv_output: not answered yet — replace `...` with your answer (a whole number).
    >>> quiz.score().correct
    0
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import inspect
import math
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lecture_lib import labels

__all__ = [
    "Array",
    "Choice",
    "Code",
    "Number",
    "Question",
    "Quiz",
    "Result",
    "Score",
    "Shape",
    "answer_key",
    "check",
    "data",
    "draw",
    "figure",
    "get",
    "main",
    "questions",
    "reset",
    "score",
]

_SALT = "lecture6-cxr-quiz:v1"

CORRECT_MARK = "✓"
WRONG_MARK = "✗"
OPEN_MARK = "…"


def _digest(question_id: str, canonical: str) -> str:
    """Return the salted digest that stands in for an answer's canonical form."""
    return hashlib.sha256(f"{_SALT}|{question_id}|{canonical}".encode()).hexdigest()[:20]


class _Wrong(Exception):
    """Raised inside grading to stop with a specific, teaching message."""


@dataclass(frozen=True)
class Result:
    """The outcome of one answer.

    Attributes:
        question_id: the question answered.
        status: `"correct"`, `"wrong"` or `"unanswered"`.
        message: the feedback printed by `check`, starting with ✓, ✗ or ….
    """

    question_id: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        """Whether the answer was right."""
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message


# ----------------------------------------------------------------------------------------------------------------
# Question kinds
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A quiz question; subclasses decide what an answer looks like and how it is graded.

    Attributes:
        id: short identifier used by `check`, e.g. `"conv_output"`.
        section: the lecture section, e.g. `"Recap"`.
        title: a few words shown in the notebook heading.
        prompt: the question in Markdown.
        hint: shown after a wrong answer; points to the idea without giving the result away.
        explanation: shown after a right answer; says why it is right.
        data: arrays the question is about (copied out by `data(question_id)`).
    """

    id: str
    section: str
    title: str
    prompt: str
    hint: str
    explanation: str
    data: dict = field(default_factory=dict)

    answer_format = "an answer"

    def markdown(self) -> str:
        """Return the question as Markdown (prompt plus, for multiple choice, the options)."""
        return self.prompt

    def grade(self, answer) -> str:
        """Return the success message, or raise `_Wrong` with feedback."""
        raise NotImplementedError

    def solution(self) -> str:
        """Return the answer as text, derived at run time (for the instructor's key)."""
        raise NotImplementedError


def _normalize_text(text: str) -> str:
    return " ".join(str(text).replace("→", " ").replace("+", " ").split()).casefold()


@dataclass(frozen=True)
class Choice(Question):
    """A multiple-choice question with one or several right options.

    Attributes:
        options: letter → `(text, about)`; `about` explains what that option means and is shown when it is picked
            wrongly, so it should teach rather than just say "no".
        truth: letter → salted digest of `"<letter>=1"` (a right option) or `"<letter>=0"`.
        multiple: whether several options may be right (the answer is then a list of letters).
    """

    options: dict = field(default_factory=dict)
    truth: dict = field(default_factory=dict)
    multiple: bool = False

    @property
    def answer_format(self) -> str:
        return "a list of option letters as strings" if self.multiple else "the letter of one option, as a string"

    def markdown(self) -> str:
        choose = "Choose **all** that apply." if self.multiple else "Choose **one**."
        lines = [f"- **{letter})** {text}" for letter, (text, _) in self.options.items()]
        return f"{self.prompt}\n\n{choose}\n\n" + "\n".join(lines)

    def _is_right(self, letter: str) -> bool:
        return self.truth[letter] == _digest(self.id, f"{letter}=1")

    def _letter_of(self, item) -> str:
        if not isinstance(item, str):
            raise _Wrong(f"an option is a letter such as 'a' (a string), got {type(item).__name__} {item!r}")
        key = item.strip().strip(")").casefold()
        if key in self.options:
            return key
        for letter, (text, _) in self.options.items():
            if _normalize_text(item) == _normalize_text(text):
                return letter
        valid = ", ".join(repr(letter) for letter in self.options)
        raise _Wrong(f"{item!r} is not one of the options; answer with a letter: {valid}")

    def _letters(self, answer) -> list[str]:
        if isinstance(answer, str):
            parts = [answer] if self._matches_text(answer) else [p for p in re.split(r"[,;\s]+", answer) if p]
        elif isinstance(answer, list | tuple | set | frozenset):
            parts = list(answer)
        else:
            raise _Wrong(f"expected {self.answer_format}, got {type(answer).__name__} {answer!r}")
        letters = sorted({self._letter_of(part) for part in parts})
        if not letters:
            raise _Wrong(f"your answer picks no option; expected {self.answer_format}")
        if not self.multiple and len(letters) > 1:
            raise _Wrong(f"pick exactly one option, you picked {', '.join(letters)}")
        return letters

    def _matches_text(self, answer: str) -> bool:
        return any(_normalize_text(answer) == _normalize_text(text) for text, _ in self.options.values())

    def grade(self, answer) -> str:
        picked = self._letters(answer)
        right = [letter for letter in self.options if self._is_right(letter)]
        if picked == right:
            return self.explanation
        wrong_picks = [letter for letter in picked if letter not in right]
        notes = [f"({letter}) {self.options[letter][1]}" for letter in wrong_picks]
        missing = len([letter for letter in right if letter not in picked])
        if missing and self.multiple:
            notes.append(f"{missing} right option{'s are' if missing > 1 else ' is'} missing from your choice.")
        raise _Wrong(" ".join(notes))

    def solution(self) -> str:
        right = [letter for letter in self.options if self._is_right(letter)]
        texts = "; ".join(f"{letter}) {self.options[letter][0]}" for letter in right)
        return f"{right if self.multiple else right[0]!r}  — {texts}"


Mistakes = Callable[[], list]


def _to_array(answer, what: str) -> np.ndarray:
    if isinstance(answer, str | bytes):
        raise _Wrong(f"expected {what}, got the string {answer!r}; write numbers, not text")
    if answer is None:
        raise _Wrong(f"expected {what}, got None; did a function forget to `return`?")
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise _Wrong(f"could not read {answer!r} as {what} ({error}); rows must all have the same length") from None
    return array


@dataclass(frozen=True)
class Number(Question):
    """A numeric answer, compared with an absolute tolerance.

    Attributes:
        solve: computes the right value from the question's data at check time.
        tolerance: the largest accepted absolute difference.
        mistakes: returns `(value, message)` pairs of typical wrong results and what each one reveals.
        integer: whether the answer must be a whole number (an output size).
    """

    solve: Callable[[], float] | None = None
    tolerance: float = 1e-3
    mistakes: Mistakes | None = None
    integer: bool = False

    @property
    def answer_format(self) -> str:
        return "a whole number" if self.integer else f"a number, within ±{self.tolerance:g}"

    def grade(self, answer) -> str:
        array = _to_array(answer, self.answer_format)
        if array.size != 1:
            raise _Wrong(f"expected a single number, got an array of shape {array.shape}")
        value = float(array.reshape(()))
        if not math.isfinite(value):
            raise _Wrong(f"your answer is {value}; expected a finite number")
        if abs(value - self.solve()) <= self.tolerance:
            return self.explanation
        for wrong, message in self.mistakes() if self.mistakes else []:
            if abs(value - wrong) <= self.tolerance:
                raise _Wrong(message)
        if self.integer and value != int(value):
            raise _Wrong(f"{value:g} is not a whole number; a size counts pixels, so round down (floor)")
        raise _Wrong(f"{value:g} is not right.")

    def solution(self) -> str:
        value = self.solve()
        return f"{int(value)}" if self.integer else f"{value:.4f}  (tolerance ±{self.tolerance:g})"


def _position(index: tuple) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")"


@dataclass(frozen=True)
class Array(Question):
    """An array answer (a vector, a matrix), compared entry by entry with a tolerance.

    Attributes:
        solve: computes the right array from the question's data at check time.
        tolerance: the largest accepted absolute difference per entry.
        mistakes: returns `(array, message)` pairs of typical wrong results.
        describe: what the array is, e.g. `"a vector of 15 numbers"`, for messages.
        shape_message: what to say when the shape is wrong; by default the expected shape is named.
    """

    solve: Callable[[], np.ndarray] | None = None
    tolerance: float = 1e-3
    mistakes: Mistakes | None = None
    describe: str = "an array"
    shape_message: str = ""

    @property
    def answer_format(self) -> str:
        return self.describe

    def grade(self, answer) -> str:
        array = _to_array(answer, self.describe)
        expected = np.asarray(self.solve(), dtype=np.float64)
        for wrong, message in self.mistakes() if self.mistakes else []:
            wrong = np.asarray(wrong, dtype=np.float64)
            if wrong.shape == array.shape and np.allclose(array, wrong, rtol=0, atol=self.tolerance):
                if not (wrong.shape == expected.shape and np.allclose(wrong, expected, rtol=0, atol=self.tolerance)):
                    raise _Wrong(message)
        if array.shape != expected.shape:
            if array.size == expected.size and not self.shape_message:
                raise _Wrong(f"your array has shape {array.shape}, expected {expected.shape}; reshape it")
            raise _Wrong(f"your array has shape {array.shape}; {self.shape_message or 'expected ' + self.describe}")
        if not np.all(np.isfinite(array)):
            raise _Wrong("your array contains NaN or infinity")
        off = np.abs(array - expected) > self.tolerance
        if not off.any():
            return self.explanation
        first = _position(np.argwhere(off)[0])
        raise _Wrong(f"{int(off.sum())} of {off.size} entries are not right (the first at index {first}).")

    def solution(self) -> str:
        expected = np.asarray(self.solve())
        text = np.array2string(expected, precision=4, suppress_small=True, separator=", ")
        return f"shape {expected.shape}:\n{text}"


@dataclass(frozen=True)
class Shape(Question):
    """A tensor-shape answer: a tuple of whole numbers, channels last, without the batch axis.

    Attributes:
        solve: computes the right shape from the question's numbers at check time.
        mistakes: returns `(shape, message)` pairs of typical wrong shapes.
    """

    solve: Callable[[], tuple] | None = None
    mistakes: Mistakes | None = None

    answer_format = "a shape tuple, e.g. (64, 64, 3)"

    def grade(self, answer) -> str:
        if hasattr(answer, "shape") and not isinstance(answer, tuple | list):
            raise _Wrong(f"give the shape itself as a tuple, not an array; e.g. `answer = {tuple(answer.shape)}`")
        if not isinstance(answer, tuple | list):
            raise _Wrong(f"expected a shape tuple such as (64, 64, 3), got {type(answer).__name__} {answer!r}")
        if any(isinstance(n, bool) or not isinstance(n, int | np.integer | type(None)) for n in answer):
            raise _Wrong(f"a shape holds whole numbers only, got {tuple(answer)!r}")
        shape = tuple(None if n is None else int(n) for n in answer)
        expected = tuple(self.solve())
        if shape == expected:
            return self.explanation
        for wrong, message in self.mistakes() if self.mistakes else []:
            if shape == tuple(wrong):
                raise _Wrong(message)
        if len(shape) == len(expected) + 1 and shape[1:] == expected:
            raise _Wrong("drop the batch axis: the question asks for the shape of one example")
        raise _Wrong(f"{shape} is not right; it has {len(shape)} axes, count the axes the lecture writes.")

    def solution(self) -> str:
        return str(tuple(self.solve()))


@dataclass(frozen=True)
class Code(Question):
    """A small coding exercise: the student writes a function, the check runs it on test cases.

    Attributes:
        function_name: the name the notebook's stub uses, e.g. `"conv_output_size"`.
        stub: the function header and docstring the notebook shows.
        reference: the lecture's formula as a function; its results are the expected values.
        cases: positional argument tuples to call both functions with.
        tolerance: accepted absolute difference of results.
        mistakes: `(args) -> [(value, message)]`, typical wrong results for one case.
    """

    function_name: str = "f"
    stub: str = ""
    reference: Callable | None = None
    cases: tuple = ()
    tolerance: float = 1e-6
    mistakes: Callable[[tuple], list] | None = None

    answer_format = "the function itself, without parentheses"

    def grade(self, answer) -> str:
        if answer is None or not callable(answer):
            raise _Wrong(
                f"expected a function, got {type(answer).__name__} {answer!r}; "
                f"assign the function itself: answer = {self.function_name}"
            )
        for args in self.cases:
            call = f"{self.function_name}({', '.join(repr(a) for a in args)})"
            try:
                got = answer(*[_fresh(a) for a in args])
            except Exception as error:  # the student's code: report any failure kindly instead of crashing
                frame = traceback.extract_tb(error.__traceback__)[-1]
                where = f" at line {frame.lineno}: `{frame.line}`" if frame.line else ""
                raise _Wrong(f"{call} raised {type(error).__name__}: {error}{where}.") from None
            if got is None:
                raise _Wrong(f"{call} returned None; did you forget `return`?")
            try:
                value = np.asarray(got, dtype=np.float64)
            except (TypeError, ValueError):
                raise _Wrong(f"{call} returned {got!r}, which is not a number") from None
            expected = np.asarray(self.reference(*args), dtype=np.float64)
            if value.shape == expected.shape and np.allclose(value, expected, rtol=0, atol=self.tolerance):
                continue
            for wrong, message in self.mistakes(args) if self.mistakes else []:
                if value.shape == np.shape(wrong) and np.allclose(value, wrong, rtol=0, atol=self.tolerance):
                    raise _Wrong(f"{call} returned {got!r}, expected {_plain(expected)}: {message}")
            raise _Wrong(f"{call} returned {got!r}, expected {_plain(expected)}.")
        return self.explanation

    def solution(self) -> str:
        source = inspect.getsource(self.reference)
        results = "\n".join(
            f"    {self.function_name}({', '.join(repr(a) for a in args)}) = {_plain(self.reference(*args))}"
            for args in self.cases
        )
        return f"a function equivalent to\n{source.rstrip()}\n  test cases:\n{results}"


def _fresh(value):
    return np.array(value) if isinstance(value, np.ndarray) else value


def _plain(value) -> str:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        number = float(array)
        return str(int(number)) if number == int(number) else f"{number:.4f}"
    return np.array2string(array, precision=4, separator=", ")


# ----------------------------------------------------------------------------------------------------------------
# The lecture's data and formulas (expected values are computed from these at check time)
# ----------------------------------------------------------------------------------------------------------------

SLIDE_MATRIX = np.array(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    dtype=np.float32,
)
"""The Recap slide's second 6×6 matrix."""

VERTICAL_EDGE_KERNEL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float32)
"""The Recap slide's 3×3 vertical-edge kernel."""

SLIDE_EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)
"""The Recap slide's first 6×6 example (a bright left half); its result is the slide's 4×4 of 0, 30, 30, 0."""


def _correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Slide the kernel over the image without flipping it and without padding (deep learning's "convolution")."""
    rows = image.shape[0] - kernel.shape[0] + 1
    cols = image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(image[i : i + kernel.shape[0], j : j + kernel.shape[1]] * kernel)
    return out


def _conv_output_size(n, f, p=0, s=1):
    """Return the side of a convolution's output: floor((n + 2p - f) / s) + 1."""
    return (n + 2 * p - f) // s + 1


BCE_TITLES = ("Cardiomegaly", "Effusion", "Pneumothorax")
BCE_TRUE = np.array([1.0, 1.0, 0.0])
BCE_PRED = np.array([0.9, 0.6, 0.2])


def _bce_mean(y_true, y_pred, log=np.log):
    terms = y_true * -log(y_pred) + (1 - y_true) * -log(1 - y_pred)
    return float(np.mean(terms))


MASK_TRUE = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)
MASK_PRED = np.array(
    [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)


def _overlap_counts(x, y):
    x, y = np.asarray(x, bool), np.asarray(y, bool)
    return float(np.sum(x & y)), float(np.sum(x)), float(np.sum(y)), float(np.sum(x | y))


IMAGE_SIZE = 1024
DETECTION_BOX = (256.0, 384.0, 512.0, 896.0)
"""A pneumonia box in pixels, `(x_min, y_min, x_max, y_max)` as in `CXRSet.boxes`, on a 1024×1024 image."""
DETECTION_TITLE = "Pneumonia"

IOU_BOX_A = (10.0, 20.0, 50.0, 60.0)
IOU_BOX_B = (30.0, 40.0, 90.0, 70.0)


def _box_area(box):
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _intersection(a, b):
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return width * height


def _iou(box_a, box_b):
    """Return |A ∩ B| / |A ∪ B| of two boxes `(x_min, y_min, x_max, y_max)`; 0 when they do not overlap."""
    inter = _intersection(box_a, box_b)
    union = _box_area(box_a) + _box_area(box_b) - inter
    return inter / union if union > 0 else 0.0


HEATMAP = np.array(
    [
        [0, 0, 1, 2, 1],
        [0, 1, 2, 4, 2],
        [0, 0, 1, 3, 1],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=np.float32,
)
"""A 5×5 landmark heatmap of scores (logits) before SoftMax 2D."""


def _soft_argmax(scores, normalize=None):
    scores = np.asarray(scores, dtype=np.float64)
    weights = np.exp(scores - scores.max()) if normalize is None else normalize(scores)
    weights = weights / weights.sum()
    rows, cols = np.indices(scores.shape)
    return np.array([np.sum(weights * cols), np.sum(weights * rows)])


SEGMENTATION_CLASSES = ("background", "right lung", "left lung", "heart")
SEGMENTATION_SIZE = 512
LANDMARK_NAMES = ("heart right border", "heart left border", "right inner rib cage", "left inner rib cage")
LANDMARK_SIZE = 256
ONE_HOT_TITLE = "Pleural_Thickening"
NIH_LABEL_STRING = "Effusion|Infiltration|Mass"


def _latex_matrix(matrix) -> str:
    rows = [" & ".join(f"{int(v)}" for v in row) for row in np.asarray(matrix)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def _box_text(box) -> str:
    return "(" + ", ".join(f"{int(v)}" for v in box) + ")"


# ----------------------------------------------------------------------------------------------------------------
# The question bank
# ----------------------------------------------------------------------------------------------------------------


def truth_table(question_id: str, right_letters: str, letters: str) -> tuple[str, ...]:
    """Return the digests a `Choice` stores; for authors adding a question (paste the output into `_TRUTH`).

    Args:
        question_id: the new question's id.
        right_letters: the right options, e.g. `"b"` or `"def"`.
        letters: all option letters in order, e.g. `"abcd"`.

    Returns:
        One digest per option letter.
    """
    return tuple(_digest(question_id, f"{letter}={int(letter in right_letters)}") for letter in letters)


_TRUTH: dict[str, tuple[str, ...]] = {
    "activation_multilabel": (
        "42e811ba07550b611887",
        "fea3cad80f7c32a4ca05",
        "f1aa335fe893523049ff",
        "5a57e95c0dbfc626c7a4",
    ),
    "activation_unique": (
        "5089554431534ff2f207",
        "4521bc178eb8831290b5",
        "2b55d160584831e1e667",
        "cd9b30d10de0d0c83908",
    ),
    "dataset_padchest_manual": (
        "ca4d673dae349daebae5",
        "831c1c259ccea1810d64",
        "51bdd983c3ab846e93e1",
        "da9b7135c72be285407a",
    ),
    "seg_loss_small": ("4e06d769b59e15fc5691", "edf85ffe317406e2c6cc", "30d646babbc29a3a7c1a"),
    "dataset_lung_masks": (
        "7a1155972267417fcb51",
        "a3e6ffb4e3ae5994e48e",
        "4791076d5fd6b53af1c8",
        "7bd6bac9e205d61932be",
    ),
    "dataset_pneumonia_boxes": (
        "52bca5dbe524b7b171a5",
        "256e6ae7d0266ae0a662",
        "a0d6fd19dbec1ff0ab3e",
        "f00ad9171b6f95c73e18",
    ),
    "structure_loss": ("b8ab2be658c54b7311c9", "beffe4a73c2d57c76975", "25c44f5a4fae3ea2b38e", "a4c13bb760185b44dbfa"),
    "ssim_why": ("ab378c18b1602791e6f7", "a06fcb9609c80e51d153", "b0481273810a697f7801", "545d77b582a85a2ed74a"),
    "generation_activation": (
        "b98b23e87040a1f8bea2",
        "9b375ad582053f6b297f",
        "532b1d2de48470a72849",
        "bb818683ed696020777d",
    ),
    "dataset_localised": (
        "f9003a9df1ef68020a2f",
        "cabcc1fe6c37205a0f66",
        "f58c5fa4c7b5f84ede72",
        "bf6d1a0c6c123784f606",
        "404e9d5b73ef3fa23ee4",
        "25cc59e7c3d5991a1395",
    ),
}
"""Digests of the multiple-choice answers, made with `truth_table`."""


def _choice(id, section, title, prompt, options, hint, explanation, multiple=False) -> Choice:
    return Choice(
        id=id,
        section=section,
        title=title,
        prompt=prompt,
        hint=hint,
        explanation=explanation,
        options=options,
        truth=dict(zip(options, _TRUTH.get(id, ("",) * len(options)), strict=True)),
        multiple=multiple,
    )


_CONV_SHAPE_MESSAGE = (
    "a 'valid' cross-correlation uses no padding, so the output is smaller than the 6×6 input: (n + 2p − f)/s + 1 "
    "per side."
)
_FINAL_ACTIVATION_OPTIONS = {
    "a": (
        "Sigmoid → binary cross-entropy",
        "sigmoid squashes each of the 15 outputs into (0, 1) on its own and BCE scores each one as its own yes/no "
        "question, so nothing forces exactly one answer.",
    ),
    "b": (
        "SoftMax → cross-entropy",
        "softmax makes the 15 outputs sum to 1, so they compete: a higher Effusion probability must lower "
        "Cardiomegaly's, and two findings cannot both be near 1.",
    ),
    "c": (
        "ReLU → mean squared error",
        "ReLU is unbounded, so its output is not a probability, and MSE on a probability learns slowly when the "
        "prediction is confidently wrong.",
    ),
    "d": (
        "SoftMax → binary cross-entropy",
        "this mixes the two rows of the slide: softmax ties the 15 outputs together, while BCE treats them as "
        "independent yes/no questions.",
    ),
}


def _one_hot(code: int) -> np.ndarray:
    return labels.one_hot(code) if 0 <= code < labels.NUM_PATHOLOGIES else np.zeros(labels.NUM_PATHOLOGIES)


def _detection_vector(box, image_size, code, order=("x", "y", "h", "w"), centre=True) -> np.ndarray:
    x_min, y_min, x_max, y_max = (float(v) / image_size for v in box)
    parts = {
        "x": (x_min + x_max) / 2 if centre else x_min,
        "y": (y_min + y_max) / 2 if centre else y_min,
        "h": y_max - y_min,
        "w": x_max - x_min,
    }
    return np.array([1.0, *(parts[key] for key in order), float(code)])


def _iou_inclusive(a, b):
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / (area_a + area_b - inter)


def _iou_unclipped(a, b):
    inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    union = _box_area(a) + _box_area(b) - inter
    return inter / union if union else float("nan")


def _box_dice(a, b):
    return 2 * _intersection(a, b) / (_box_area(a) + _box_area(b))


def _bce_mistakes():
    terms_all_positive = -np.log(BCE_PRED)
    positive_part = BCE_TRUE * -np.log(BCE_PRED)
    return [
        (3 * _bce_mean(BCE_TRUE, BCE_PRED), "that is the sum of the three terms; the question asks for their mean."),
        (_bce_mean(BCE_TRUE, BCE_PRED, log=np.log10), "BCE uses the natural logarithm (np.log), not log10."),
        (
            float(np.mean(positive_part)),
            "you dropped the (1 − Y)(−log(1 − Y_pred)) term, which is what remains "
            "when Y = 0: Pneumothorax's 0.2 still costs something.",
        ),
        (
            float(np.mean(terms_all_positive)),
            "for Y = 0 the loss is −log(1 − Y_pred), not −log(Y_pred): a "
            "prediction of 0.2 for an absent finding is good, not bad.",
        ),
    ]


def _dice_mistakes():
    inter, size_x, size_y, union = _overlap_counts(MASK_TRUE, MASK_PRED)
    accuracy = float(np.mean(MASK_TRUE == MASK_PRED))
    return [
        (inter / union, "that is IoU (Jaccard), |X∩Y| / |X∪Y|. DSC counts the overlap twice over the sum of sizes."),
        (inter / (size_x + size_y), "the factor 2 is missing: without it two identical masks would score 0.5."),
        (accuracy, "that is pixel accuracy, which the many background pixels inflate; DSC looks at the masks only."),
    ]


def _iou_mistakes(a, b):
    inter = _intersection(a, b)
    return [
        (_box_dice(a, b), "that is the Dice coefficient of the boxes (2|A∩B| / (|A| + |B|)), not IoU."),
        (inter / min(_box_area(a), _box_area(b)), "divide by the union, not by the smaller box."),
        (inter / max(_box_area(a), _box_area(b)), "divide by the union |A| + |B| − |A∩B|, not by the larger box."),
        (inter / (_box_area(a) + _box_area(b)), "the union is |A| + |B| − |A∩B|: subtract the overlap counted twice."),
        (
            _iou_inclusive(a, b),
            "you added 1 to widths and heights (the old 'inclusive pixel' convention); here "
            "x_max − x_min is the width.",
        ),
        (
            _iou_unclipped(a, b),
            "when boxes do not overlap, min(x_max) − max(x_min) is negative: clip the "
            "intersection's width and height at 0, or two negatives multiply into a positive 'overlap'.",
        ),
    ]


def _soft_argmax_mistakes():
    x, y = _soft_argmax(HEATMAP)
    row, col = np.unravel_index(np.argmax(HEATMAP), HEATMAP.shape)
    return [
        ((y, x), "you swapped the coordinates: a landmark is (x, y) = (column, row), like CXRSet.landmarks."),
        (
            (col, row),
            "that is the hard argmax, the single best pixel. Soft-argmax averages every pixel's (x, y) "
            "weighted by its SoftMax 2D probability, so it is differentiable and can land between pixels.",
        ),
        (
            tuple(_soft_argmax(HEATMAP, normalize=lambda s: s)),
            "you divided the raw scores by their sum; SoftMax 2D "
            "exponentiates first: p = exp(score) / Σ exp(score) over all 25 pixels.",
        ),
        ((x + 1, y + 1), "pixel coordinates start at 0 here (the top-left pixel is (0, 0))."),
    ]


def _matrix_markdown(matrix) -> str:
    return f"$${_latex_matrix(matrix)}$$"


_RECAP_AND_CLASSIFICATION: tuple[Question, ...] = (
    # ---------------------------------------------------------------- Recap
    Number(
        id="conv_output",
        section="Recap",
        title="Output size of the slide's convolution",
        prompt=(
            "On the Recap slide a **6×6** image is convolved with a **3×3** kernel, no padding (p = 0), stride 1. "
            "How many pixels wide is the output? Use the output-size formula $\\frac{n + 2p - f}{s} + 1$."
        ),
        hint="n is the input side, f the kernel side, p the padding, s the stride: count the positions a 3×3 window "
        "fits into along a row of 6.",
        explanation="(6 + 0 − 3)/1 + 1: the 3×3 window fits at that many positions along each side.",
        solve=lambda: _conv_output_size(6, 3, 0, 1),
        integer=True,
        mistakes=lambda: [
            (
                _conv_output_size(6, 3, 0, 1) - 1,
                "off by one: you left out the + 1 (the window's first position counts too).",
            ),
            (6, "keeping the size needs 'same' padding, p = 1; here p = 0."),
            (_conv_output_size(6, 3, 0, 1) + 1, "one too many: with p = 0 nothing is added to n."),
        ],
    ),
    Array(
        id="conv_result",
        section="Recap",
        title="The slide's convolution by hand",
        prompt=(
            "Compute the Recap slide's second example: the 6×6 matrix through the vertical-edge kernel, the way a "
            "deep learning layer (`Conv2D`, `padding='valid'`, stride 1) computes it:\n\n"
            f"$$ {_latex_matrix(SLIDE_MATRIX)} \\ast {_latex_matrix(VERTICAL_EDGE_KERNEL)} = \\;?$$\n\n"
            "Give the whole result as a nested list or a NumPy array. (The slide's first example, a bright left "
            "half of 10s next to 0s, gives rows of `0 30 30 0`: the edge lights up.)"
        ),
        hint="Lay the kernel on the top-left 3×3 patch, multiply entry by entry and add up; then slide one pixel to "
        "the right. Deep learning does not flip the kernel. `quiz.data('conv_result')` gives both arrays.",
        explanation="Each entry is (left column sum − right column sum) of a 3×3 patch, a vertical-edge detector. "
        "Keras' Conv2D computes exactly this cross-correlation.",
        data={"image": SLIDE_MATRIX, "kernel": VERTICAL_EDGE_KERNEL},
        solve=lambda: _correlate_valid(SLIDE_MATRIX, VERTICAL_EDGE_KERNEL),
        tolerance=1e-6,
        describe="a 2-D array, the whole result",
        shape_message=_CONV_SHAPE_MESSAGE,
        mistakes=lambda: [
            (
                -_correlate_valid(SLIDE_MATRIX, VERTICAL_EDGE_KERNEL),
                "every sign is flipped: you flipped the kernel, "
                "which is the mathematical convolution. Deep learning layers compute the cross-correlation: the kernel "
                "slides as it is, 1, 0, −1 from left to right.",
            ),
            (
                _correlate_valid(SLIDE_MATRIX, VERTICAL_EDGE_KERNEL.T),
                "you used the transposed kernel (rows of 1, 0, "
                "−1 from top to bottom: a horizontal-edge detector); the slide's kernel has its column of 1s on the "
                "left.",
            ),
            (
                _correlate_valid(SLIDE_MATRIX, VERTICAL_EDGE_KERNEL).T,
                "your result is transposed: output row i comes from input rows i to i + 2.",
            ),
            (
                _correlate_valid(SLIDE_EDGE_IMAGE, VERTICAL_EDGE_KERNEL),
                "that is the slide's first example; use the second matrix.",
            ),
        ],
    ),
    Number(
        id="resnet_stem_output",
        section="Recap",
        title="ResNet-34's first layer",
        prompt=(
            "ResNet-34 starts with **7×7 conv, 64, /2**: a 7×7 kernel, stride 2 and padding 3. What is the side of "
            "its output for a 224×224 input?"
        ),
        hint="Use ⌊(n + 2p − f)/s⌋ + 1 with n = 224, f = 7, p = 3, s = 2; a size is a whole number, so round down "
        "before adding 1.",
        explanation="⌊(224 + 6 − 7)/2⌋ + 1: the '/2' halves the image, then 'pool, /2' halves it again.",
        solve=lambda: _conv_output_size(224, 7, 3, 2),
        integer=True,
        mistakes=lambda: [
            (_conv_output_size(224, 7, 3, 2) - 1, "off by one: you left out the + 1."),
            ((224 + 6 - 7) / 2 + 1, "sizes are whole numbers: round (n + 2p − f)/s down before adding 1."),
            (_conv_output_size(224, 7, 0, 2), "you left out the padding p = 3 (it adds 2p = 6 to n)."),
            (_conv_output_size(224, 7, 3, 1), "that is stride 1; '/2' means stride 2."),
            ((224 + 3 - 7) // 2 + 1, "padding is added on both sides: 2p, not p."),
        ],
    ),
    Code(
        id="conv_output_size_fn",
        section="Recap",
        title="Write the output-size formula",
        prompt=(
            "Write `conv_output_size(n, f, p=0, s=1)` that returns the side of a convolution's output for an n×n "
            "input, an f×f kernel, padding p and stride s, as a whole number. It must also work for strides where "
            "(n + 2p − f)/s is not whole."
        ),
        hint="The number of window positions is ⌊(n + 2p − f)/s⌋ + 1; Python's // rounds down.",
        explanation="That is the rule Conv2D and pooling layers use with padding='valid' (and with an explicit p).",
        function_name="conv_output_size",
        stub=(
            "def conv_output_size(n, f, p=0, s=1):\n"
            '    """Return the side of the output of an f×f convolution over an n×n input."""\n'
            "    ...  # your code here"
        ),
        reference=_conv_output_size,
        cases=((5, 3, 0, 1), (7, 3, 1, 1), (7, 3, 0, 2), (8, 3, 1, 2), (227, 11, 0, 4), (32, 5, 2, 1)),
        mistakes=lambda args: [
            (_conv_output_size(*args) - 1, "the + 1 is missing."),
            ((args[0] + 2 * args[2] - args[1]) / args[3] + 1, "round (n + 2p − f)/s down with // before adding 1."),
            ((args[0] + args[2] - args[1]) // args[3] + 1, "padding adds 2p, one p on each side."),
        ],
    ),
    # ---------------------------------------------------------------- Classification
    Shape(
        id="input_shape",
        section="Classification",
        title="Input format",
        prompt=(
            "An NIH ChestX-ray14 image is a 1024×1024 grayscale picture. Following the lecture (*Chest X-ray image "
            "= a 2D array of shape (H, W, 1)*) and Keras' channels-last layout, what is the shape of one image "
            "tensor? Leave out the batch axis."
        ),
        hint="(Height, Width, Channels): how many channels does a grayscale image have?",
        explanation="Height, width and one gray channel; a batch adds an axis in front: (batch, H, W, 1).",
        solve=lambda: (IMAGE_SIZE, IMAGE_SIZE, 1),
        mistakes=lambda: [
            ((IMAGE_SIZE, IMAGE_SIZE), "Keras layers need the channel axis even for one channel: add it at the end."),
            ((1, IMAGE_SIZE, IMAGE_SIZE), "that is channels-first (PyTorch's layout); Keras puts channels last."),
            ((IMAGE_SIZE, IMAGE_SIZE, 3), "an X-ray is grayscale: one channel, not three RGB channels."),
        ],
    ),
    _choice(
        "activation_multilabel",
        "Classification",
        "Several pathologies at once",
        "A ChestX-ray14 image can carry several findings at once, e.g. `Cardiomegaly|Effusion`. Following the slide "
        "*Reason → Final activation → Loss*, which pair do you put on the 15 outputs?",
        _FINAL_ACTIVATION_OPTIONS,
        hint="Should the 15 outputs compete with each other, or should each answer its own yes/no question?",
        explanation="Multiple pathologies → sigmoid → binary cross-entropy: each output is an independent "
        "probability, so Cardiomegaly and Effusion can both be near 1.",
    ),
    _choice(
        "activation_unique",
        "Classification",
        "Exactly one pathology",
        "Now every image carries exactly **one** of the 15 titles (No Finding included) and the model must name it. "
        "Which final activation and loss does the slide pair with a unique pathology?",
        _FINAL_ACTIVATION_OPTIONS,
        hint="When exactly one class is true, the probabilities should add up to 1.",
        explanation="Unique pathology → SoftMax → cross-entropy: the 15 probabilities sum to 1 and the loss "
        "−Σ y_i log ŷ_i keeps only the true class's term.",
    ),
    Array(
        id="one_hot_code",
        section="Classification",
        title="One-hot vector of a code",
        prompt=(
            f"In the slide's table, what is the one-hot vector of **{ONE_HOT_TITLE}**? Give all 15 entries "
            "(codes 0 to 14) as a list or array."
        ),
        hint="Find the title's code in the table (Atelectasis is code 0, No Finding is code 10), then put a 1 at "
        "that position and 0 everywhere else. `lecture_lib.labels` knows the table.",
        explanation="The title's code picks the one position that holds 1; `labels.one_hot(labels.code_of(title))` "
        "gives the same vector.",
        solve=lambda: labels.one_hot(labels.code_of(ONE_HOT_TITLE)),
        describe="a vector of 15 numbers",
        mistakes=lambda: [
            (
                _one_hot(labels.code_of(ONE_HOT_TITLE) - 1),
                "off by one: codes start at 0 (Atelectasis = 0), so count the table's rows from 0.",
            ),
            (_one_hot(labels.code_of(ONE_HOT_TITLE) + 1), "off by one: that is the next title's position."),
        ],
    ),
    Array(
        id="multi_hot_nih",
        section="Classification",
        title="Multi-hot vector of an NIH label string",
        prompt=(
            f'ChestX-ray14\'s `Finding Labels` column says `"{NIH_LABEL_STRING}"` for one image. Write its '
            "multi-hot vector over the slide's 15 codes."
        ),
        hint="Split the string at `|`, look up each title's code and put a 1 at every one of them.",
        explanation="One 1 per finding; `labels.multi_hot(label_string)` builds it. Such a target pairs with sigmoid "
        "and binary cross-entropy.",
        solve=lambda: labels.multi_hot(NIH_LABEL_STRING),
        describe="a vector of 15 numbers",
        mistakes=lambda: [
            (
                labels.one_hot(NIH_LABEL_STRING.split("|")[0]),
                "that is the one-hot vector of the first finding only; multi-hot marks every finding in the string.",
            ),
            (
                labels.multi_hot(NIH_LABEL_STRING) / len(NIH_LABEL_STRING.split("|")),
                "multi-hot marks each finding with a 1; it is not a probability distribution that sums to 1.",
            ),
            (
                labels.multi_hot(NIH_LABEL_STRING) + labels.one_hot(labels.NO_FINDING),
                "No Finding (code 10) is 1 only when the image has no finding at all.",
            ),
            (np.roll(labels.multi_hot(NIH_LABEL_STRING), -1), "off by one: codes start at 0 (Atelectasis = 0)."),
            (np.roll(labels.multi_hot(NIH_LABEL_STRING), 1), "off by one: codes start at 0 (Atelectasis = 0)."),
        ],
    ),
    Number(
        id="bce_value",
        section="Classification",
        title="Binary cross-entropy by hand",
        prompt=(
            f"A multi-label model predicts Y_pred = {BCE_PRED.tolist()} for ({', '.join(BCE_TITLES)}); the truth is "
            f"Y = {BCE_TRUE.astype(int).tolist()}. Using the slide's loss "
            "$Loss = Y(-\\log Y_{pred}) + (1 - Y)(-\\log(1 - Y_{pred}))$ with the natural log, what is the **mean** "
            "loss over the three outputs?"
        ),
        hint="Where Y = 1 only −log(Y_pred) remains; where Y = 0 only −log(1 − Y_pred) remains. Add the three "
        "terms and divide by 3.",
        explanation="The two present findings cost −log 0.9 and −log 0.6, the absent one −log(1 − 0.2); Keras' "
        "BinaryCrossentropy averages them the same way.",
        solve=lambda: _bce_mean(BCE_TRUE, BCE_PRED),
        tolerance=1e-3,
        mistakes=_bce_mistakes,
    ),
    _choice(
        "dataset_padchest_manual",
        "Classification",
        "How PADchest was labelled",
        "The classification datasets table lists PADchest: 160k images, public, with labels of *pathology presence*. "
        "What share of PADchest was annotated **manually** (by physicians) rather than by NLP from the reports?",
        {
            "a": ("100%", "the table gives PADchest two annotation methods, not one."),
            "b": ("73%", "73% is the share whose labels a language model (NLP) read out of the reports."),
            "c": ("27%", "27% of the images were labelled by hand."),
            "d": ("0%, all of it by NLP", "that describes ChestX-ray14 (NLP only), not PADchest."),
        },
        hint="The table's *Annotation method* column for PADchest splits the images in two shares.",
        explanation="27% manually, 73% by NLP. Labels mined from reports are cheap but noisy, which is worth "
        "remembering when a model's AUC seems capped.",
    ),
)

_SEGMENTATION_AND_DETECTION: tuple[Question, ...] = (
    # ---------------------------------------------------------------- Segmentation
    Shape(
        id="seg_output_shape",
        section="Segmentation",
        title="Segmentation output shape",
        prompt=(
            f"A U-Net takes a {SEGMENTATION_SIZE}×{SEGMENTATION_SIZE}×1 chest X-ray and labels every pixel as one of "
            f"{len(SEGMENTATION_CLASSES)} classes ({', '.join(SEGMENTATION_CLASSES)}) with a pixel-wise SoftMax. "
            "What is the shape of its output for one image (no batch axis)?"
        ),
        hint="The slide: output tensor shape (Height, Width, # of classes), and a pixel-wise softmax needs one "
        "channel per class, background included.",
        explanation="(Height, Width, # of classes): one probability per class at every pixel, summing to 1 over "
        "the last axis.",
        solve=lambda: (SEGMENTATION_SIZE, SEGMENTATION_SIZE, len(SEGMENTATION_CLASSES)),
        mistakes=lambda: [
            (
                (SEGMENTATION_SIZE, SEGMENTATION_SIZE, len(SEGMENTATION_CLASSES) - 1),
                "a pixel-wise softmax makes every "
                "pixel pick exactly one class, so background needs its own channel too.",
            ),
            (
                (SEGMENTATION_SIZE, SEGMENTATION_SIZE, 1),
                "that is the input's shape (one gray channel); the output has one channel per class.",
            ),
            (
                (len(SEGMENTATION_CLASSES), SEGMENTATION_SIZE, SEGMENTATION_SIZE),
                "that is channels-first; Keras puts the classes on the last axis.",
            ),
            (
                (SEGMENTATION_SIZE, SEGMENTATION_SIZE),
                "that is a map of class indices (after argmax); the network outputs one probability channel per class.",
            ),
        ],
    ),
    Number(
        id="dice_masks",
        section="Segmentation",
        title="DSC of two small masks",
        prompt=(
            "X is the true lung mask and Y the predicted one (1 = lung):\n\n"
            f"$$X = {_latex_matrix(MASK_TRUE)} \\qquad Y = {_latex_matrix(MASK_PRED)}$$\n\n"
            "What is their Dice similarity coefficient $DSC = \\frac{2|X \\cap Y|}{|X| + |Y|}$?"
        ),
        hint="|X| counts the 1s of X; |X ∩ Y| counts the pixels that are 1 in both. `quiz.data('dice_masks')` "
        "gives the two arrays.",
        explanation="Twice the overlap over the two sizes; DSC is 1 for identical masks and 0 for disjoint ones, "
        "and 1 − DSC is the Dice loss.",
        data={"x": MASK_TRUE, "y": MASK_PRED},
        solve=lambda: 2 * _overlap_counts(MASK_TRUE, MASK_PRED)[0] / sum(_overlap_counts(MASK_TRUE, MASK_PRED)[1:3]),
        tolerance=1e-3,
        mistakes=_dice_mistakes,
    ),
    _choice(
        "seg_loss_small",
        "Segmentation",
        "A loss for a small structure",
        "A pneumothorax in SIIM-ACR often covers less than 1% of the image. A model that predicts *no pneumothorax* "
        "everywhere already scores 99% pixel accuracy. Which loss from the segmentation slide does **not** reward "
        "that empty prediction?",
        {
            "a": (
                "Pixel-wise cross-entropy, averaged over all pixels",
                "averaged over all pixels, the few pneumothorax pixels make up 1% of the loss, so the empty mask "
                "already gets a low loss (class weights help, but that is an extra fix).",
            ),
            "b": (
                "Dice loss, 1 − DSC",
                "the Dice loss only looks at the predicted and the true mask, so an empty prediction of a non-empty "
                "mask scores the worst possible value, however small the mask is.",
            ),
            "c": (
                "Mean squared error over all pixels",
                "MSE averaged over all pixels is dominated by the background as well, and the lecture does not "
                "list it for segmentation.",
            ),
        },
        hint="Which formula has no term for the background pixels? Look at DSC = 2|X∩Y| / (|X| + |Y|).",
        explanation="An empty prediction has |X ∩ Y| = 0, so DSC = 0 and the Dice loss is 1, whatever the "
        "background does; that is why Dice (often plus CE) is popular for small lesions.",
    ),
    _choice(
        "dataset_lung_masks",
        "Segmentation",
        "A dataset for lung fields",
        "You want to train a U-Net that outlines the **lung fields**. Which dataset from the lecture's tables "
        "comes with lung masks?",
        {
            "a": (
                "ChestX-ray14 (112k, public)",
                "ChestX-ray14 gives image-level labels (pathology presence, mined by NLP), no masks.",
            ),
            "b": (
                "SIIM-ACR Pneumothorax Segmentation (12k, public)",
                "SIIM-ACR's masks outline the pneumothorax (a pathology), not the lungs.",
            ),
            "c": ("JSRT (~250 images, by request, manual)", "JSRT's ~250 images come with manually drawn lung masks."),
            "d": (
                "RSNA Pneumonia Detection Challenge (26k, public)",
                "RSNA gives boxes around pneumonia regions, not lung outlines.",
            ),
        },
        hint="Look at the *annotation type* column of the segmentation table: lung masks vs pathology masks.",
        explanation="JSRT: ~250 images with manual lung masks (by request). It is small, which is why lung "
        "segmentation models lean on augmentation.",
    ),
    # ---------------------------------------------------------------- Detection
    Array(
        id="detection_vector",
        section="Detection",
        title="The detection vector",
        prompt=(
            f"A {IMAGE_SIZE}×{IMAGE_SIZE} chest X-ray has one {DETECTION_TITLE.lower()} region in the box "
            f"`(x_min, y_min, x_max, y_max) = {_box_text(DETECTION_BOX)}` pixels (x to the right, y down). Write the "
            "slide's target $y = [P_c, B_x, B_y, B_h, B_w, c]$, where $(B_x, B_y)$ is the box centre and $B_h$, $B_w$ "
            f"its height and width, all divided by the image size, and $c$ is the slide's code of {DETECTION_TITLE}."
        ),
        hint="Pc says whether there is an object. The centre is the mean of the two corners; note the slide's "
        "order: Bh (height, along y) before Bw (width, along x).",
        explanation="Pc = 1 (there is a box), the centre and size divided by 1024, then the class. With several "
        "classes the library writes c as a one-hot vector c_1…c_C instead of one number.",
        data={"box": np.array(DETECTION_BOX), "image_size": IMAGE_SIZE},
        solve=lambda: _detection_vector(DETECTION_BOX, IMAGE_SIZE, labels.code_of(DETECTION_TITLE)),
        tolerance=1e-3,
        describe="a vector of 6 numbers",
        mistakes=lambda: [
            (
                _detection_vector(DETECTION_BOX, IMAGE_SIZE, labels.code_of(DETECTION_TITLE), ("x", "y", "w", "h")),
                "Bw and Bh are swapped: the slide writes Bh (the height, along y) before Bw (the width).",
            ),
            (
                _detection_vector(DETECTION_BOX, IMAGE_SIZE, labels.code_of(DETECTION_TITLE), ("y", "x", "w", "h")),
                "your box is transposed: x runs along columns (to the right) and y along rows (down).",
            ),
            (
                _detection_vector(DETECTION_BOX, IMAGE_SIZE, labels.code_of(DETECTION_TITLE), ("y", "x", "h", "w")),
                "Bx and By are swapped: Bx is the horizontal centre (from x_min and x_max).",
            ),
            (
                _detection_vector(DETECTION_BOX, IMAGE_SIZE, labels.code_of(DETECTION_TITLE), centre=False),
                "(Bx, By) is the box centre, not its top-left corner.",
            ),
            (
                _detection_vector(DETECTION_BOX, 1, labels.code_of(DETECTION_TITLE)) * [1, 1, 1, 1, 1, 1],
                "divide the coordinates by the image size, so they lie in [0, 1] whatever the resolution.",
            ),
        ],
    ),
    Number(
        id="iou_boxes",
        section="Detection",
        title="IoU of two boxes",
        prompt=(
            f"Box A is `{_box_text(IOU_BOX_A)}` and box B is `{_box_text(IOU_BOX_B)}`, both "
            "`(x_min, y_min, x_max, y_max)` in pixels. What is their intersection over union, "
            "$IoU = \\frac{|A \\cap B|}{|A \\cup B|}$?"
        ),
        hint="The overlap is a box too: from the larger x_min to the smaller x_max (and the same for y). The union "
        "is |A| + |B| − |A ∩ B|.",
        explanation="Overlap area over union area; detection metrics count a prediction as a hit when IoU ≥ 0.5.",
        data={"box_a": np.array(IOU_BOX_A), "box_b": np.array(IOU_BOX_B)},
        solve=lambda: _iou(IOU_BOX_A, IOU_BOX_B),
        tolerance=1e-3,
        mistakes=lambda: _iou_mistakes(IOU_BOX_A, IOU_BOX_B),
    ),
    Code(
        id="iou_fn",
        section="Detection",
        title="Write IoU",
        prompt=(
            "Write `iou(box_a, box_b)` for two boxes `(x_min, y_min, x_max, y_max)`. It must return 0 for boxes "
            "that do not overlap (also when they only touch) and 1 for identical boxes."
        ),
        hint="Intersection width = max(0, min(x_max) − max(x_min)); the same for the height. Union = |A| + |B| − "
        "intersection.",
        explanation="Clipping at 0 is the detail that matters: NMS and the IoU ≥ 0.5 hit test rely on it.",
        function_name="iou",
        stub=(
            "def iou(box_a, box_b):\n"
            '    """Return the intersection over union of two boxes (x_min, y_min, x_max, y_max)."""\n'
            "    ...  # your code here"
        ),
        reference=_iou,
        cases=(
            ((0, 0, 10, 10), (5, 5, 15, 15)),
            ((0, 0, 10, 10), (0, 0, 10, 10)),
            ((0, 0, 100, 100), (25, 25, 75, 75)),
            ((0, 0, 10, 10), (20, 30, 40, 50)),
            ((0, 0, 10, 10), (10, 0, 20, 10)),
            ((2, 1, 8, 13), (4, 5, 14, 9)),
        ),
        tolerance=1e-6,
        mistakes=lambda args: _iou_mistakes(*args),
    ),
    _choice(
        "dataset_pneumonia_boxes",
        "Detection",
        "A dataset for pneumonia boxes",
        "You want to train a detector that outputs $y = [P_c, B_x, B_y, B_h, B_w, c]$ for **pneumonia**. Which "
        "dataset from the detection table gives boxes around pneumonia regions?",
        {
            "a": ("JSRT (154 images)", "JSRT marks nodules, with circles, not pneumonia with boxes."),
            "b": (
                "RSNA Pneumonia Detection Challenge (26k, public)",
                "RSNA's 26k images carry manual boxes around pneumonia regions.",
            ),
            "c": ("SIIM-ACR (12k, public)", "SIIM-ACR has pixel masks of pneumothorax, not pneumonia boxes."),
            "d": (
                "PADchest (160k, public)",
                "PADchest gives labels and words for locations ('loc right'), not boxes drawn on the image.",
            ),
        },
        hint="Look at the detection table's *annotation type* column.",
        explanation="RSNA Pneumonia Detection Challenge: 26k public images with manual boxes around pneumonia.",
    ),
)

_LANDMARKS_AND_GENERATION: tuple[Question, ...] = (
    # ---------------------------------------------------------------- Landmarks
    Shape(
        id="landmark_v1_shape",
        section="Landmarks",
        title="Landmark output, v1",
        prompt=(
            f"For cardiometry a network places {len(LANDMARK_NAMES)} points ({', '.join(LANDMARK_NAMES)}) on a "
            f"{LANDMARK_SIZE}×{LANDMARK_SIZE} X-ray. In *DL formalization v1* it regresses the coordinates directly. "
            "What is the output shape for one image?"
        ),
        hint="v1: output tensor shape (# of Points, 2).",
        explanation="One row per point, holding (x, y); a sigmoid output can give them in [0, 1] of the image size.",
        solve=lambda: (len(LANDMARK_NAMES), 2),
        mistakes=lambda: [
            ((2, len(LANDMARK_NAMES)), "transposed: one row per point, each row (x, y)."),
            (
                (2 * len(LANDMARK_NAMES),),
                "a flat vector works inside the network, but the slide's shape keeps one "
                "row per point: (# of Points, 2).",
            ),
            (
                (LANDMARK_SIZE, LANDMARK_SIZE, len(LANDMARK_NAMES)),
                "that is v2, the heatmaps; v1 regresses the coordinates.",
            ),
        ],
    ),
    Shape(
        id="landmark_v2_shape",
        section="Landmarks",
        title="Landmark output, v2",
        prompt=(
            f"In *DL formalization v2* the same network outputs one heatmap per point instead, at the input's "
            f"resolution ({LANDMARK_SIZE}×{LANDMARK_SIZE}). What is the output shape for one image?"
        ),
        hint="v2: output tensor shape (Height, Width, # of Points).",
        explanation="One heatmap channel per point, like a segmentation output with one class per landmark; "
        "SoftMax 2D turns each channel into a probability map.",
        solve=lambda: (LANDMARK_SIZE, LANDMARK_SIZE, len(LANDMARK_NAMES)),
        mistakes=lambda: [
            ((len(LANDMARK_NAMES), 2), "that is v1, the coordinates; v2 outputs heatmaps."),
            (
                (len(LANDMARK_NAMES), LANDMARK_SIZE, LANDMARK_SIZE),
                "that is channels-first; Keras puts the points on the last axis.",
            ),
            (
                (LANDMARK_SIZE, LANDMARK_SIZE, 1),
                "each point needs its own heatmap; one channel cannot say which peak is which point.",
            ),
            ((LANDMARK_SIZE, LANDMARK_SIZE, 2), "the last axis counts points, not coordinates."),
        ],
    ),
    Array(
        id="soft_argmax",
        section="Landmarks",
        title="Soft-argmax of a heatmap",
        prompt=(
            "A 5×5 heatmap of scores for one landmark (before SoftMax 2D):\n\n"
            f"{_matrix_markdown(HEATMAP)}\n\n"
            "Apply SoftMax 2D over all 25 pixels, then take the expected position: "
            "$x = \\sum p \\cdot \\text{column}$, $y = \\sum p \\cdot \\text{row}$ (0-based, the top-left pixel is "
            "(0, 0)). Give `(x, y)` to two decimals."
        ),
        hint="p = exp(score) / Σ exp(score) over the whole 5×5 map; `np.indices` gives the row and column of every "
        "pixel. `quiz.data('soft_argmax')` gives the heatmap.",
        explanation="The peak pulls the estimate, the neighbours pull it off the grid: soft-argmax is "
        "differentiable and sub-pixel, unlike argmax.",
        data={"heatmap": HEATMAP},
        solve=lambda: _soft_argmax(HEATMAP),
        tolerance=0.01,
        describe="two numbers (x, y)",
        mistakes=_soft_argmax_mistakes,
    ),
    # ---------------------------------------------------------------- Generation
    _choice(
        "structure_loss",
        "Generation",
        "A loss that compares structure",
        "For bone suppression the network outputs an image. Which loss from the image-generation slide compares "
        "the **structure** of the two images rather than their pixels one by one?",
        {
            "a": ("MSE", "MSE averages squared differences pixel by pixel; it cannot see patterns."),
            "b": ("MAE", "MAE averages absolute differences pixel by pixel; it cannot see patterns."),
            "c": (
                "SSIM (MS-SSIM)",
                "SSIM compares local means, contrasts and correlations in a sliding window.",
            ),
            "d": ("Wing loss", "Wing loss is a regression loss for coordinates (landmarks, boxes), not for images."),
        },
        hint="Which name stands for *structural similarity*?",
        explanation="SSIM (structural similarity) and its multi-scale version MS-SSIM; the loss is 1 − SSIM, "
        "often mixed with MAE.",
    ),
    _choice(
        "ssim_why",
        "Generation",
        "Why SSIM",
        "Why judge a bone-suppressed image with SSIM and not only with MSE?",
        {
            "a": (
                "SSIM is computed pixel by pixel, so it is cheaper than MSE",
                "SSIM needs statistics over a window around every pixel (a Gaussian filter), so it costs more than "
                "MSE, not less.",
            ),
            "b": (
                "SSIM compares local means, contrasts and the correlation of patterns in a sliding window, so it "
                "punishes blurred or lost edges that a per-pixel average barely notices",
                "SSIM compares local means, contrasts and correlations.",
            ),
            "c": (
                "SSIM is a probability, so it pairs with a sigmoid output",
                "SSIM ranges over [−1, 1] and is not a probability; the loss is 1 − SSIM whatever the activation.",
            ),
            "d": (
                "A uniform brightness shift costs as much SSIM as a blur with the same MSE",
                "it is the other way round: MSE cannot tell the two apart, while SSIM barely moves for a uniform "
                "shift and drops for a blur, which erases structure.",
            ),
        },
        hint="Think of two outputs with the same MSE: one slightly brighter everywhere, one blurred. Which one would a "
        "radiologist reject, and which measure notices?",
        explanation="SSIM multiplies luminance, contrast and structure terms computed in local windows, so it "
        "tracks what we see; MSE treats every pixel error alike, wherever it is.",
    ),
    _choice(
        "generation_activation",
        "Generation",
        "The output activation of an image generator",
        "A generator paints its output image directly from its last feature map (no residual, unlike notebook 05's "
        "bone model) and must give intensities in **[0, 1]**, like its input. Which final activation guarantees "
        "that range by itself?",
        {
            "a": (
                "ReLU",
                "ReLU only clips at 0 from below and is unbounded above, so on an arbitrary pre-activation it can "
                "exceed 1. Notebook 05's bone model stays in [0, 1] with ReLU(x − b) only because x ≤ 1 and b ≥ 0 "
                "make x − b ≤ 1: the bound comes from the residual, not from the ReLU.",
            ),
            "b": (
                "Tanh",
                "tanh outputs (−1, 1); it fits when the images are scaled to [−1, 1], not for [0, 1].",
            ),
            "c": ("Sigmoid", "sigmoid maps every pixel into (0, 1)."),
            "d": (
                "SoftMax 2D",
                "SoftMax 2D makes all pixels of a channel sum to 1: a probability map of positions (landmark "
                "heatmaps), not an image.",
            ),
        },
        hint="Which activation's range is exactly (0, 1), pixel by pixel?",
        explanation="Sigmoid keeps every pixel in (0, 1) whatever its input; tanh fits images scaled to [−1, 1]; ReLU "
        "bounds only from below, unless its input is itself at most 1, as in notebook 05's ReLU(x − b).",
    ),
    # ---------------------------------------------------------------- Datasets
    _choice(
        "dataset_localised",
        "Datasets",
        "Which datasets localise the finding",
        "Which of these datasets give a **localised** annotation, a mask, a circle or a box drawn on the image, "
        "rather than only labels per image?",
        {
            "a": ("CheXpert (220k)", "CheXpert gives pathology presence per image."),
            "b": ("MIMIC-CXR (370k)", "MIMIC-CXR gives semi-structured reports per study, no drawn shapes."),
            "c": (
                "PADchest (160k)",
                "PADchest's 'Localizations' such as 'loc apical' or 'loc right' are words from the report, not "
                "shapes on the image.",
            ),
            "d": ("JSRT (~250 / 154)", "JSRT has lung masks and circles around nodules."),
            "e": ("SIIM-ACR (12k)", "SIIM-ACR has pathology (pneumothorax) masks."),
            "f": ("RSNA Pneumonia (26k)", "RSNA has boxes around pneumonia regions."),
        },
        hint="The classification table's annotation types are *pathology presence* and *reports*; the "
        "segmentation and detection tables list masks, circles and boxes.",
        explanation="JSRT (lung masks, nodule circles), SIIM-ACR (pneumothorax masks) and RSNA (pneumonia boxes). "
        "Localised labels are far rarer than image labels: 12k–26k images against 112k–370k.",
        multiple=True,
    ),
)

_QUESTIONS: tuple[Question, ...] = _RECAP_AND_CLASSIFICATION + _SEGMENTATION_AND_DETECTION + _LANDMARKS_AND_GENERATION
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(question.section for question in _QUESTIONS))
"""The lecture's sections in the order the quiz visits them."""
_BY_ID: dict[str, Question] = {question.id: question for question in _QUESTIONS}


# ----------------------------------------------------------------------------------------------------------------
# Checking and scoring
# ----------------------------------------------------------------------------------------------------------------


def questions() -> tuple[Question, ...]:
    """Return the question bank in the order of the lecture."""
    return _QUESTIONS


def get(question_id: str) -> Question:
    """Return one question.

    Args:
        question_id: e.g. `"conv_output"`.

    Returns:
        The `Question`.

    Raises:
        ValueError: for an unknown id; the message suggests the closest one.
    """
    if question_id in _BY_ID:
        return _BY_ID[question_id]
    close = difflib.get_close_matches(str(question_id), list(_BY_ID), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown question id {question_id!r}{hint} Run quiz.questions() to list them.")


def data(question_id: str) -> dict:
    """Return copies of the arrays a question is about, e.g. `data("conv_result")["image"]`, shape `(6, 6)`.

    Args:
        question_id: a question id.

    Returns:
        A dict of name → NumPy array or number; empty when the question has no data.
    """
    return {name: np.array(value) for name, value in get(question_id).data.items()}


@dataclass(frozen=True)
class Score:
    """The running score of a quiz.

    Attributes:
        correct: number of questions whose latest answer is right.
        answered: number of questions answered at least once.
        total: number of questions in the bank.
        by_section: section → `(correct, total)`.
        open_questions: ids not answered right yet, in bank order.
    """

    correct: int
    answered: int
    total: int
    by_section: dict
    open_questions: tuple

    @property
    def percent(self) -> float:
        """The share of right answers, in percent."""
        return 100.0 * self.correct / self.total if self.total else 0.0

    def __str__(self) -> str:
        lines = [f"Score: {self.correct}/{self.total} correct ({self.percent:.0f}%), {self.answered} answered."]
        width = max(len(section) for section in self.by_section)
        for section, (right, total) in self.by_section.items():
            lines.append(f"  {section:<{width}}  {right}/{total}  {'■' * right}{'□' * (total - right)}")
        if self.open_questions:
            lines.append("Still open: " + ", ".join(self.open_questions))
        return "\n".join(lines)

    __repr__ = __str__


class Quiz:
    """A question bank with a running score.

    Example:
        >>> session = Quiz()
        >>> session.grade("conv_output", ...).status
        'unanswered'
    """

    def __init__(self, bank: Sequence[Question] | None = None):
        """Create a quiz.

        Args:
            bank: the questions; the lecture's bank by default.
        """
        self.bank = tuple(bank) if bank is not None else _QUESTIONS
        self._by_id = {question.id: question for question in self.bank}
        self._latest: dict[str, Result] = {}

    def _question(self, question_id: str) -> Question:
        if question_id in self._by_id:
            return self._by_id[question_id]
        close = difflib.get_close_matches(str(question_id), list(self._by_id), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown question id {question_id!r}{hint} Run quiz.questions() to list them.")

    def grade(self, question_id: str, answer) -> Result:
        """Grade an answer without printing or recording it.

        Args:
            question_id: the question's id.
            answer: the student's answer; `...` means not answered yet.

        Returns:
            A `Result` with status `"correct"`, `"wrong"` or `"unanswered"` and the feedback message.

        Raises:
            ValueError: for an unknown question id (a typo in the notebook, not a wrong answer).
        """
        question = self._question(question_id)
        if answer is Ellipsis:
            return Result(
                question_id,
                "unanswered",
                f"{OPEN_MARK} {question_id}: not answered yet — replace `...` with your answer "
                f"({question.answer_format}).",
            )
        try:
            explanation = question.grade(answer)
        except _Wrong as wrong:
            message = str(wrong) if str(wrong).endswith((".", "?", "!")) else f"{wrong}."
            return Result(question_id, "wrong", f"{WRONG_MARK} {question_id}: {message} Hint: {question.hint}")
        except Exception as error:  # an answer of an unforeseen type must not crash the notebook
            return Result(
                question_id,
                "wrong",
                f"{WRONG_MARK} {question_id}: could not read your answer {answer!r} "
                f"({type(error).__name__}: {error}); expected {question.answer_format}.",
            )
        return Result(question_id, "correct", f"{CORRECT_MARK} {question_id}: correct. {explanation}")

    def check(self, question_id: str, answer) -> None:
        """Grade an answer, print ✓ / ✗ / … with feedback, and record it in the running score.

        Args:
            question_id: the question's id.
            answer: the student's answer; `...` means not answered yet (nothing is recorded).
        """
        result = self.grade(question_id, answer)
        if result.status != "unanswered":
            self._latest[question_id] = result
        print(result.message)

    def score(self) -> Score:
        """Return the running score: the latest answer to each question counts."""
        by_section: dict[str, tuple[int, int]] = {}
        for question in self.bank:
            right, total = by_section.get(question.section, (0, 0))
            is_right = question.id in self._latest and self._latest[question.id].correct
            by_section[question.section] = (right + int(is_right), total + 1)
        correct = sum(right for right, _ in by_section.values())
        open_questions = tuple(q.id for q in self.bank if not (q.id in self._latest and self._latest[q.id].correct))
        return Score(correct, len(self._latest), len(self.bank), by_section, open_questions)

    def reset(self) -> None:
        """Forget every answer."""
        self._latest.clear()


_SESSION = Quiz()


def check(question_id: str, answer) -> None:
    """Check an answer, print ✓ or ✗ with feedback and a hint, and add it to the running score.

    Args:
        question_id: e.g. `"conv_output"`.
        answer: your answer; leave `...` for "not answered yet".

    Raises:
        ValueError: for an unknown question id.
    """
    _SESSION.check(question_id, answer)


def score() -> Score:
    """Return the running score of this session (it prints as a small table)."""
    return _SESSION.score()


def reset() -> None:
    """Forget this session's answers."""
    _SESSION.reset()


def answer_key() -> dict[str, str]:
    """Derive every answer at run time, for instructors: `{question_id: answer as text}`."""
    return {question.id: question.solution() for question in _QUESTIONS}


# ----------------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------------


def _draw_matrix(ax, matrix, title, cmap="Greys"):
    import matplotlib

    matrix = np.asarray(matrix, dtype=np.float64)
    image = ax.imshow(matrix, cmap=cmap)
    colormap = matplotlib.colormaps[cmap]
    for (row, col), value in np.ndenumerate(matrix):
        red, green, blue, _ = colormap(image.norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(col, row, f"{value:g}", ha="center", va="center", color="white" if dark else "black", fontsize=11)
    ax.set_title(title)
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))


def _draw_box(ax, box, color, label):
    from matplotlib.patches import Rectangle

    x_min, y_min, x_max, y_max = box
    ax.add_patch(Rectangle((x_min, y_min), x_max - x_min, y_max - y_min, fill=False, color=color, linewidth=2))
    ax.text(x_min, y_min, f" {label}", color=color, va="bottom", fontsize=10)


def figure(question_id: str):
    """Draw the data of a question (the slide's matrix, the masks, the boxes, the heatmap).

    Args:
        question_id: one of `"conv_result"`, `"dice_masks"`, `"detection_vector"`, `"iou_boxes"`, `"soft_argmax"`.

    Returns:
        A `matplotlib.figure.Figure`.

    Raises:
        ValueError: for a question without a figure.
    """
    import matplotlib.pyplot as plt

    if question_id == "conv_result":
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), gridspec_kw={"width_ratios": [6, 3]})
        _draw_matrix(axes[0], SLIDE_MATRIX, "the slide's 6×6 image")
        _draw_matrix(axes[1], VERTICAL_EDGE_KERNEL, "vertical-edge kernel", cmap="coolwarm")
    elif question_id == "dice_masks":
        fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
        _draw_matrix(axes[0], MASK_TRUE, "X: true mask", cmap="Blues")
        _draw_matrix(axes[1], MASK_PRED, "Y: predicted mask", cmap="Oranges")
        overlay = np.zeros((*MASK_TRUE.shape, 3))
        overlay[..., 2] = MASK_TRUE
        overlay[..., 0] = MASK_PRED
        axes[2].imshow(overlay)
        axes[2].set_title("blue: X only, red: Y only,\nmagenta: both")
        axes[2].set_xticks(range(6))
        axes[2].set_yticks(range(6))
    elif question_id == "detection_vector":
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.imshow(np.zeros((IMAGE_SIZE, IMAGE_SIZE)), cmap="gray", extent=(0, IMAGE_SIZE, IMAGE_SIZE, 0))
        _draw_box(ax, DETECTION_BOX, "gold", DETECTION_TITLE.lower())
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        ax.set_xticks(range(0, IMAGE_SIZE + 1, 256))
        ax.set_yticks(range(0, IMAGE_SIZE + 1, 256))
        ax.grid(color="0.4", linewidth=0.5)
        ax.set_title(f"box {_box_text(DETECTION_BOX)} on a {IMAGE_SIZE}×{IMAGE_SIZE} image")
    elif question_id == "iou_boxes":
        fig, ax = plt.subplots(figsize=(5, 3.5))
        _draw_box(ax, IOU_BOX_A, "tab:blue", "A")
        _draw_box(ax, IOU_BOX_B, "tab:red", "B")
        ax.set_xlim(0, 100)
        ax.set_ylim(80, 0)
        ax.set_aspect("equal")
        ax.grid(linewidth=0.5)
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        ax.set_title(f"A = {_box_text(IOU_BOX_A)}, B = {_box_text(IOU_BOX_B)}")
    elif question_id == "soft_argmax":
        fig, ax = plt.subplots(figsize=(4, 4))
        _draw_matrix(ax, HEATMAP, "heatmap scores (before SoftMax 2D)", cmap="magma_r")
        ax.set_xlabel("x = column")
        ax.set_ylabel("y = row")
    else:
        raise ValueError(
            f"question {question_id!r} has no figure; figures exist for conv_result, dice_masks, detection_vector, "
            "iou_boxes and soft_argmax"
        )
    fig.tight_layout()
    return fig


def draw(question_id: str) -> None:
    """Show a question's figure in the notebook (see `figure`)."""
    import matplotlib.pyplot as plt

    figure(question_id)
    plt.show()


# ----------------------------------------------------------------------------------------------------------------
# Command line: the instructor's answer key
# ----------------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Print the answer key (`--key`) or the list of questions (`--list`).

    Args:
        argv: command-line arguments; `sys.argv[1:]` by default.

    Returns:
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m lecture_lib.quiz", description="Lecture 6 quiz: list the questions or print the answer key."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--key", action="store_true", help="derive and print every answer (for instructors)")
    group.add_argument("--list", action="store_true", help="list the question ids by section")
    options = parser.parse_args(argv)
    section = None
    for number, question in enumerate(_QUESTIONS, start=1):
        if question.section != section:
            section = question.section
            print(f"\n## {section}")
        if options.list:
            print(f"Q{number:<3} {question.id:<24} {question.title}  [{type(question).__name__}]")
        else:
            print(f"Q{number:<3} {question.id}: {question.title}")
            print("     " + question.solution().replace("\n", "\n     "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
