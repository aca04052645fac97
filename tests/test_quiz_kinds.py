"""The question kinds on small hand-made questions: parsing, feedback, digests, and what a student can see."""

import hashlib

import numpy as np
import pytest

from lecture_lib import quiz
from lecture_lib.quiz import kinds
from lecture_lib.quiz.engine import Wrong
from lecture_lib.quiz.kinds import Array, Choice, Number, Option, Shape

COLOURS = (
    Option("Red", "red is a colour of fire."),
    Option("Blue", "blue is the sky's colour."),
    Option("Green", "green is a colour of grass."),
)


def _choice(right, multiple=False):
    truth = tuple(
        kinds.option_digest("colours", option.text, letter in right)
        for letter, option in zip("abc", COLOURS, strict=True)
    )
    return Choice(
        id="colours",
        title="Colours",
        prompt="Pick.",
        hint="Look up.",
        explanation="The sky is blue.",
        options=COLOURS,
        truth=truth,
        multiple=multiple,
    )


def test_option_digest_is_pbkdf2_of_the_normalized_text_and_verdict():
    expected = hashlib.pbkdf2_hmac("sha256", b"sigmoid binary cross-entropy|right", b"lecture6-cxr-quiz:v2|q", 20_000)
    assert kinds.option_digest("q", "  Sigmoid → binary   cross-entropy ", True) == expected.hex()[:32]
    assert kinds.option_digest("q", "a", True) != kinds.option_digest("q", "a", False)
    assert kinds.option_digest("q", "a", True) != kinds.option_digest("r", "a", True)
    assert kinds.DIGEST_ITERATIONS >= 10_000


def test_single_choice_grades_letters_and_texts():
    question = _choice("b")
    assert question.grade("b") == "The sky is blue."
    assert question.grade(" B) ") == "The sky is blue."
    assert question.grade("blue") == "The sky is blue."
    with pytest.raises(Wrong, match=r"\(a\) red is a colour of fire"):
        question.grade("a")
    with pytest.raises(Wrong, match="exactly one"):
        question.grade(["a", "b"])
    with pytest.raises(Wrong, match="not one of the options"):
        question.grade("d")
    with pytest.raises(Wrong, match="picks no option"):
        question.grade("")
    assert "**b)** Blue" in question.markdown() and "Choose **one**" in question.markdown()


def test_multiple_choice_names_wrong_picks_and_counts_missing_ones():
    question = _choice("ab", multiple=True)
    assert question.grade(["a", "b"]) == "The sky is blue."
    with pytest.raises(Wrong, match=r"\(c\) green.*1 right option is missing"):
        question.grade(["a", "c"])
    with pytest.raises(Wrong, match="2 right options are missing"):
        question.grade(["c"])
    assert "Choose **all**" in question.markdown()


def test_a_question_shows_no_answer_in_its_repr_or_attributes():
    for question in quiz.questions():
        text = repr(question) + str(question)
        assert question.explanation not in text and question.hint not in text
        assert question.id in text
        assert not hasattr(question, "solution") and not hasattr(question, "answer")
    choice = quiz.get("activation_multilabel")
    assert all(len(digest) == 32 for digest in choice.truth)
    assert "answer_key" not in dir(quiz) and "main" not in dir(quiz)


def test_number_feedback():
    question = Number(
        id="n",
        title="n",
        prompt="?",
        hint="h",
        explanation="e",
        data={"value": 4},
        formula=lambda d: d["value"],
        integer=True,
        mistakes=lambda d: [(d["value"] - 1, "off by one.")],
    )
    assert question.grade(4) == "e"
    with pytest.raises(Wrong, match="off by one"):
        question.grade(3)
    with pytest.raises(Wrong, match="not a whole number"):
        question.grade(4.5)
    with pytest.raises(Wrong, match="single number"):
        question.grade([4, 4])
    with pytest.raises(Wrong, match="finite"):
        question.grade(float("inf"))
    with pytest.raises(Wrong, match="True and False"):
        question.grade(True)


def test_array_and_shape_feedback():
    array = Array(
        id="a", title="a", prompt="?", hint="h", explanation="e", formula=lambda d: np.eye(2), describe="a 2×2 matrix"
    )
    assert array.grade([[1, 0], [0, 1]]) == "e"
    with pytest.raises(Wrong, match="reshape it"):
        array.grade([1, 0, 0, 1])
    with pytest.raises(Wrong, match="1 of 4 entries"):
        array.grade([[1, 0], [0, 2]])
    with pytest.raises(Wrong, match="NaN"):
        array.grade([[np.nan, 0], [0, 1]])
    shape = Shape(id="s", title="s", prompt="?", hint="h", explanation="e", formula=lambda d: (8, 8, 1))
    assert shape.grade((8, 8, 1)) == "e"
    with pytest.raises(Wrong, match="batch axis"):
        shape.grade((2, 8, 8, 1))
    with pytest.raises(Wrong, match="not an array"):
        shape.grade(np.zeros((8, 8, 1)))
    with pytest.raises(Wrong, match="whole numbers"):
        shape.grade((8.0, 8, 1))
