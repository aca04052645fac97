"""Self-check quiz for Lecture 6: a question bank and `check()` with feedback that teaches.

Every question has an id (e.g. `"conv_output"`), a Markdown prompt in the lecture's words and one of five answer
kinds (`kinds.py`): multiple choice (`Choice`), a number with a tolerance (`Number`), an array (`Array`), a tensor
shape (`Shape`) or a small function the student writes (`Code`, run on test cases under a time limit).
`check(question_id, answer)` prints ✓ or ✗ with the reason and a hint, counts the attempt and keeps a running score;
`answer = ...` (Ellipsis) only says "not answered yet", so the notebook runs top to bottom unanswered.

The package:
- `engine.py`: grading that never hangs, floods or raises; attempts; the score (`Quiz`, `Result`, `Score`);
- `kinds.py`: the question kinds, and how answers are kept out of sight (salted slow digests, computed answers);
- `figures.py`: the figures of the questions' data;
- `bank/`: one module per notebook section (recap, classification, segmentation, detection, landmarks,
  generation); each question carries its data, its figure and its notebook variable;
- `instructor.py`: the answer key and the digests for authors, behind `python -m lecture_lib.quiz` (not imported
  here: the student path has no key).

Example:
    >>> from lecture_lib import quiz
    >>> quiz.check("conv_output", ...)
    … conv_output: not answered yet — replace `...` with your answer (a whole number).
    >>> quiz.score().correct
    0
"""

from __future__ import annotations

from lecture_lib.quiz import bank as _bank
from lecture_lib.quiz.bank import Section
from lecture_lib.quiz.engine import Quiz, Result, Score
from lecture_lib.quiz.kinds import Array, Choice, Code, Number, Option, Question, Shape

__all__ = [
    "SECTIONS",
    "Array",
    "Choice",
    "Code",
    "Number",
    "Option",
    "Question",
    "Quiz",
    "Result",
    "Score",
    "Section",
    "Shape",
    "check",
    "data",
    "draw",
    "figure",
    "get",
    "questions",
    "reset",
    "score",
    "sections",
]

SECTIONS: tuple[str, ...] = tuple(part.name for part in _bank.SECTIONS)
"""The lecture's sections in the order the quiz visits them."""

_SESSION = Quiz(_bank.questions())


def sections() -> tuple[Section, ...]:
    """Return the sections with their titles, notebooks and questions, in the order of the lecture."""
    return _bank.SECTIONS


def questions() -> tuple[Question, ...]:
    """Return the question bank in the order of the lecture."""
    return _SESSION.bank


def get(question_id: str) -> Question:
    """Return one question.

    Args:
        question_id: e.g. `"conv_output"`.

    Returns:
        The `Question`.

    Raises:
        ValueError: for an unknown id; the message suggests the closest one.
    """
    return _SESSION.question(question_id)


def data(question_id: str) -> dict:
    """Return copies of the numbers and arrays a question is about, e.g. `data("conv_result")["image"]`, `(6, 6)`.

    Args:
        question_id: a question id.

    Returns:
        A dict of name → NumPy array, number or text; empty when the question has no data.
    """
    return get(question_id).data_copy()


def figure(question_id: str):
    """Draw the data of a question (the slide's matrix, the masks, the boxes, the heatmap, the points).

    Args:
        question_id: a question that has a figure, e.g. `"conv_result"`.

    Returns:
        A `matplotlib.figure.Figure`.

    Raises:
        ValueError: for a question without a figure.
    """
    question = get(question_id)
    if question.figure is None:
        drawn = ", ".join(q.id for q in questions() if q.figure is not None)
        raise ValueError(f"question {question_id!r} has no figure; these have one: {drawn}")
    return question.figure(question.data_copy())


def draw(question_id: str) -> None:
    """Show a question's figure in the notebook (see `figure`)."""
    import matplotlib.pyplot as plt

    figure(question_id)
    plt.show()


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
    """Forget this session's answers and attempts."""
    _SESSION.reset()
