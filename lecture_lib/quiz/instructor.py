"""For instructors and authors: the answer key, derived at run time, and the digests of a new `Choice`.

From the repository root:

    python -m lecture_lib.quiz --key                       # every answer, with the explanations
    python -m lecture_lib.quiz --list                      # the question ids by section
    python -m lecture_lib.quiz --digests QUESTION_ID abc   # the `truth` of a Choice whose right options are a, b, c

The key stores nothing: a `Choice`'s right options are found by hashing each option (`kinds.option_digest`), the
other kinds' answers are computed from the question's data with the lecture's formula. The student's path
(`from lecture_lib import quiz`) does not import this module.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence

import numpy as np

from lecture_lib.quiz import bank
from lecture_lib.quiz.kinds import Array, Choice, Code, Number, Question, Shape, option_digest, plain


def right_letters(question: Choice) -> list[str]:
    """Return the letters of a `Choice`'s right options, found through their digests."""
    return [letter for letter in question.letters if question._is_right(letter)]


def solution(question: Question) -> str:
    """Return the answer to one question as text, derived at run time.

    Raises:
        TypeError: for a question kind the key does not know.
    """
    if isinstance(question, Choice):
        right = right_letters(question)
        texts = "; ".join(f"{letter}) {question.options[question.letters.index(letter)].text}" for letter in right)
        return f"{right if question.multiple else right[0]!r}  — {texts}"
    if isinstance(question, Number):
        value = question.formula(question.data_copy())
        return f"{int(value)}" if question.integer else f"{value:.6g}  (tolerance ±{question.tolerance:g})"
    if isinstance(question, Array):
        expected = np.asarray(question.formula(question.data_copy()), dtype=np.float64)
        text = np.array2string(expected, precision=4, suppress_small=True, separator=", ")
        return f"shape {expected.shape}:\n{text}"
    if isinstance(question, Shape):
        return str(tuple(question.formula(question.data_copy())))
    if isinstance(question, Code):
        results = "\n".join(
            f"    {question.function_name}({', '.join(repr(a) for a in args)}) = {plain(question.reference(*args))}"
            for args in question.cases
        )
        source = inspect.getsource(question.reference).rstrip()
        return f"a function equivalent to\n{source}\n  test cases:\n{results}"
    raise TypeError(f"no answer key for {type(question).__name__} {question.id!r}")


def answer_key() -> dict[str, str]:
    """Return `{question_id: answer as text}` for the whole bank, derived at run time."""
    return {question.id: solution(question) for question in bank.questions()}


def truth(question_id: str, right: str, texts: Sequence[str]) -> tuple[str, ...]:
    """Return the digests a `Choice` stores, one per option, for authors.

    Args:
        question_id: the question's id.
        right: the letters of the right options, e.g. `"b"` or `"abd"`.
        texts: the options' texts, in order.

    Returns:
        One `kinds.option_digest` per option.
    """
    letters = "abcdefghij"[: len(texts)]
    unknown = set(right) - set(letters)
    if unknown or not right:
        raise ValueError(f"right letters {right!r} must be among {letters!r} (one per option)")
    return tuple(option_digest(question_id, text, letter in right) for letter, text in zip(letters, texts, strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the answer key (`--key`), the list of questions (`--list`) or a Choice's digests (`--digests`).

    Args:
        argv: command-line arguments; `sys.argv[1:]` by default.

    Returns:
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m lecture_lib.quiz",
        description="Lecture 6 quiz, for instructors: list the questions, print the answer key, or make digests.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--key", action="store_true", help="derive and print every answer with its explanation")
    group.add_argument("--list", action="store_true", help="list the question ids by section")
    group.add_argument(
        "--digests", nargs=2, metavar=("QUESTION_ID", "RIGHT_LETTERS"), help="print the truth tuple of a Choice"
    )
    options = parser.parse_args(argv)
    if options.digests:
        question_id, right = options.digests
        question = next((q for q in bank.questions() if q.id == question_id), None)
        if not isinstance(question, Choice):
            parser.error(f"{question_id!r} is not a multiple-choice question of the bank")
        print(repr(truth(question_id, right, [option.text for option in question.options])))
        return 0
    number = 0
    for part in bank.SECTIONS:
        print(f"\n## {part.name} ({part.notebook})")
        for question in part.questions:
            number += 1
            if options.list:
                print(f"Q{number:<3} {question.id:<24} {question.title}  [{type(question).__name__}]")
            else:
                print(f"Q{number:<3} {question.id}: {question.title}")
                print("     " + solution(question).replace("\n", "\n     "))
                print(f"     why: {question.explanation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
