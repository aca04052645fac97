"""The kinds of question: multiple choice, a number, an array, a tensor shape, a function to write.

Every kind grades an answer by returning the explanation (the answer is right) or raising `engine.Wrong` with what
the answer reveals: a typical mistake's message where the answer matches one, else what is off. Answers are echoed
through `engine.echo`, so a huge or unprintable answer never floods the notebook or raises.

How answers are kept out of sight:
- `Choice` stores no letter. Each option carries `option_digest(question_id, text, verdict)`: PBKDF2-HMAC-SHA256
  over the option's normalized text and its verdict ("right" or "wrong"), salted with the question's id,
  `DIGEST_ITERATIONS` rounds, 128 bits. Reading the bank or the question objects shows no answer; finding one takes a
  slow hash per option, which is no quicker than trying the options with `check`. Authors make the digests with
  `python -m lecture_lib.quiz --digests QUESTION_ID RIGHT_LETTERS`.
- `Number`, `Array`, `Shape` and `Code` store no result: the expected value is computed at check time from the
  question's data by the lecture's formula (the one the prompt gives), the reference a student could also run.
- Explanations and the options' notes are plain text in the bank, for authors and reviewers, but reach the student
  only through `check`: after a right answer, a wrong pick of that option, or `engine.REVEAL_AFTER` wrong attempts.
  The notebook never prints them, and a question's `repr` shows only its id, section and title.

A self-check that runs offline cannot lock its answers: it stops casual peeking, nothing more. The instructor's
key (`python -m lecture_lib.quiz --key`) derives every answer the same way, at run time.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from lecture_lib.quiz.engine import (
    TIME_LIMIT_S,
    TimeLimitExceeded,
    Wrong,
    call_with_time_limit,
    captured_output,
    cut,
    describe_error,
    echo,
)

DIGEST_SALT = "lecture6-cxr-quiz:v2"
DIGEST_ITERATIONS = 20_000
MAX_ANSWER_SIZE = 100_000
"""The most numbers an array answer may hold; larger answers are refused before NumPy converts them."""


def normalize_text(text: str) -> str:
    """Return `text` lower-cased with runs of white space, `→` and `+` collapsed to one space."""
    return " ".join(str(text).replace("→", " ").replace("+", " ").split()).casefold()


def option_digest(question_id: str, text: str, right: bool) -> str:
    """Return the digest a `Choice` stores for one option: PBKDF2-HMAC-SHA256, 128 bits as 32 hex digits.

    Args:
        question_id: the question's id (part of the salt).
        text: the option's text (normalized with `normalize_text`).
        right: the option's verdict.

    Returns:
        32 lower-case hex digits.
    """
    message = f"{normalize_text(text)}|{'right' if right else 'wrong'}".encode()
    salt = f"{DIGEST_SALT}|{question_id}".encode()
    return hashlib.pbkdf2_hmac("sha256", message, salt, DIGEST_ITERATIONS).hex()[:32]


@functools.lru_cache(maxsize=512)
def _verdict(question_id: str, text: str, digest: str) -> bool:
    return digest == option_digest(question_id, text, True)


def _frozen(value):
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
    return value


def _copy(value):
    return np.array(value) if isinstance(value, np.ndarray) else value


@dataclass(frozen=True, repr=False)
class Question:
    """A quiz question; subclasses decide what an answer looks like and how it is graded.

    Attributes:
        id: short identifier used by `check`, e.g. `"conv_output"`.
        title: a few words shown in the notebook heading.
        prompt: the question in Markdown.
        hint: shown after a wrong answer; points to the idea without giving the result away.
        explanation: why the right answer is right; shown after a right answer or `REVEAL_AFTER` wrong ones.
        section: the lecture section, e.g. `"Recap"`; set by `bank.Section`.
        data: the numbers and arrays the question is about (read-only; `quiz.data` gives copies).
        data_name: the variable the notebook puts `quiz.data(id)` in; empty when the notebook shows no data cell.
        figure: draws the data, `figure(data) -> matplotlib.figure.Figure`; `None` for a question without one.
    """

    id: str
    title: str
    prompt: str
    hint: str
    explanation: str
    section: str = ""
    data: Mapping = field(default_factory=dict)
    data_name: str = ""
    figure: Callable | None = None

    answer_format = "an answer"

    def __post_init__(self):
        object.__setattr__(self, "data", MappingProxyType({k: _frozen(v) for k, v in dict(self.data).items()}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, section={self.section!r}, title={self.title!r})"

    def data_copy(self) -> dict:
        """Return a copy of the question's data that the caller may change."""
        return {name: _copy(value) for name, value in self.data.items()}

    def markdown(self) -> str:
        """Return the question as Markdown (the prompt, plus the options of a multiple-choice question)."""
        return self.prompt

    def grade(self, answer) -> str:
        """Return the explanation when `answer` is right; raise `Wrong` with feedback otherwise."""
        raise NotImplementedError


@dataclass(frozen=True)
class Option:
    """One option of a multiple-choice question.

    Attributes:
        text: what the notebook shows after the letter.
        note: what choosing it means; shown when it is picked wrongly, so it teaches rather than just says "no".
    """

    text: str
    note: str


@dataclass(frozen=True, repr=False)
class Choice(Question):
    """A multiple-choice question with one or several right options, stored as digests only.

    Attributes:
        options: the options, lettered a, b, c … in order.
        truth: one `option_digest` per option, in order.
        multiple: whether several options may be right (the answer is then a list of letters).
    """

    options: tuple = ()
    truth: tuple = ()
    multiple: bool = False

    @property
    def letters(self) -> str:
        """The option letters, `"abcd"` for four options."""
        return "abcdefghij"[: len(self.options)]

    @property
    def answer_format(self) -> str:
        return "a list of option letters as strings" if self.multiple else "the letter of one option, as a string"

    def markdown(self) -> str:
        choose = "Choose **all** that apply." if self.multiple else "Choose **one**."
        lines = [f"- **{letter})** {option.text}" for letter, option in zip(self.letters, self.options, strict=True)]
        return f"{self.prompt}\n\n{choose}\n\n" + "\n".join(lines)

    def _is_right(self, letter: str) -> bool:
        index = self.letters.index(letter)
        return _verdict(self.id, self.options[index].text, self.truth[index])

    def _letter_of(self, item) -> str:
        if not isinstance(item, str):
            raise Wrong(f"an option is a letter such as 'a' (a string), got {type(item).__name__} {echo(item)}")
        key = item.strip().strip(")").casefold()
        if len(key) == 1 and key in self.letters:
            return key
        for letter, option in zip(self.letters, self.options, strict=True):
            if normalize_text(item) == normalize_text(option.text):
                return letter
        valid = ", ".join(repr(letter) for letter in self.letters)
        raise Wrong(f"{echo(item)} is not one of the options; answer with a letter: {valid}")

    def _letters(self, answer) -> list[str]:
        if isinstance(answer, str):
            whole = any(normalize_text(answer) == normalize_text(option.text) for option in self.options)
            parts = [answer] if whole else [part for part in re.split(r"[,;\s]+", answer) if part]
        elif isinstance(answer, list | tuple | set | frozenset):
            parts = list(answer)
        else:
            raise Wrong(f"expected {self.answer_format}, got {type(answer).__name__} {echo(answer)}")
        if len(parts) > 2 * len(self.options):
            raise Wrong(f"your answer names {len(parts)} options; there are only {len(self.options)}")
        letters = sorted({self._letter_of(part) for part in parts})
        if not letters:
            raise Wrong(f"your answer picks no option; expected {self.answer_format}")
        if not self.multiple and len(letters) > 1:
            raise Wrong(f"pick exactly one option, you picked {', '.join(letters)}")
        return letters

    def grade(self, answer) -> str:
        picked = self._letters(answer)
        if not self.multiple:
            if self._is_right(picked[0]):
                return self.explanation
            raise Wrong(f"({picked[0]}) {self.options[self.letters.index(picked[0])].note}")
        right = [letter for letter in self.letters if self._is_right(letter)]
        if picked == right:
            return self.explanation
        notes = [
            f"({letter}) {self.options[self.letters.index(letter)].note}" for letter in picked if letter not in right
        ]
        missing = len([letter for letter in right if letter not in picked])
        if missing:
            notes.append(f"{missing} right option{'s are' if missing > 1 else ' is'} missing from your choice.")
        raise Wrong(" ".join(notes))


Mistakes = Callable[[dict], list]


def to_array(answer, what: str) -> np.ndarray:
    """Read an answer as a float64 array, or raise `Wrong` saying why it cannot be read."""
    if isinstance(answer, str | bytes):
        raise Wrong(f"expected {what}, got the string {echo(answer)}; write numbers, not text")
    if answer is None:
        raise Wrong(f"expected {what}, got None; did a function forget to `return`?")
    if isinstance(answer, bool | np.bool_):
        raise Wrong(f"expected {what}, got {answer}; True and False are not numbers here")
    size = getattr(answer, "size", None)
    if not isinstance(size, int | np.integer):
        try:
            size = len(answer)
        except Exception:  # not a container: a number, or an object NumPy will judge
            size = 1
    if size > MAX_ANSWER_SIZE:
        raise Wrong(f"your answer holds {size} values; expected {what}")
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise Wrong(
            f"could not read {echo(answer)} as {what} ({cut(str(error))}); rows must all have the same length"
        ) from None
    if array.size > MAX_ANSWER_SIZE:
        raise Wrong(f"your answer holds {array.size} values; expected {what}")
    return array


def _close(value, expected, tolerance) -> bool:
    value, expected = np.asarray(value, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=0, atol=tolerance))


@dataclass(frozen=True, repr=False)
class Number(Question):
    """A numeric answer, compared with an absolute tolerance.

    Attributes:
        formula: computes the right value from a copy of the question's data at check time.
        tolerance: the largest accepted absolute difference.
        mistakes: `mistakes(data)` returns `(value, message)` pairs of typical wrong results.
        integer: whether the answer must be a whole number (an output size).
    """

    formula: Callable[[dict], float] | None = None
    tolerance: float = 1e-3
    mistakes: Mistakes | None = None
    integer: bool = False

    @property
    def answer_format(self) -> str:
        return "a whole number" if self.integer else f"a number, within ±{self.tolerance:g}"

    def grade(self, answer) -> str:
        array = to_array(answer, self.answer_format)
        if array.size != 1:
            raise Wrong(f"expected a single number, got an array of shape {array.shape}")
        value = float(array.reshape(()))
        if not math.isfinite(value):
            raise Wrong(f"your answer is {value}; expected a finite number")
        if abs(value - float(self.formula(self.data_copy()))) <= self.tolerance:
            return self.explanation
        for wrong, message in self.mistakes(self.data_copy()) if self.mistakes else []:
            if abs(value - float(wrong)) <= self.tolerance:
                raise Wrong(message)
        if self.integer and value != int(value):
            raise Wrong(f"{value:g} is not a whole number; a size counts pixels, so round down (floor)")
        raise Wrong(f"{value:g} is not right.")


def _position(index) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")"


@dataclass(frozen=True, repr=False)
class Array(Question):
    """An array answer (a vector, a matrix), compared entry by entry with a tolerance.

    Attributes:
        formula: computes the right array from a copy of the question's data at check time.
        tolerance: the largest accepted absolute difference per entry.
        mistakes: `mistakes(data)` returns `(array, message)` pairs of typical wrong results.
        describe: what the array is, e.g. `"a vector of 15 numbers"`, for messages.
        shape_message: what to say when the shape is wrong; by default the expected shape is named.
    """

    formula: Callable[[dict], np.ndarray] | None = None
    tolerance: float = 1e-3
    mistakes: Mistakes | None = None
    describe: str = "an array"
    shape_message: str = ""

    @property
    def answer_format(self) -> str:
        return self.describe

    def grade(self, answer) -> str:
        array = to_array(answer, self.describe)
        expected = np.asarray(self.formula(self.data_copy()), dtype=np.float64)
        for wrong, message in self.mistakes(self.data_copy()) if self.mistakes else []:
            if _close(array, wrong, self.tolerance) and not _close(wrong, expected, self.tolerance):
                raise Wrong(message)
        if array.shape != expected.shape:
            if array.size == expected.size and not self.shape_message:
                raise Wrong(f"your array has shape {array.shape}, expected {expected.shape}; reshape it")
            raise Wrong(f"your array has shape {array.shape}; {self.shape_message or 'expected ' + self.describe}")
        if not np.all(np.isfinite(array)):
            raise Wrong("your array contains NaN or infinity")
        off = np.abs(array - expected) > self.tolerance
        if not off.any():
            return self.explanation
        first = _position(np.argwhere(off)[0])
        raise Wrong(f"{int(off.sum())} of {off.size} entries are not right (the first at index {first}).")


@dataclass(frozen=True, repr=False)
class Shape(Question):
    """A tensor-shape answer: a tuple of whole numbers, channels last, without the batch axis.

    Attributes:
        formula: computes the right shape from a copy of the question's data at check time.
        mistakes: `mistakes(data)` returns `(shape, message)` pairs of typical wrong shapes.
    """

    formula: Callable[[dict], tuple] | None = None
    mistakes: Mistakes | None = None

    answer_format = "a shape tuple, e.g. (64, 64, 3)"

    def grade(self, answer) -> str:
        if hasattr(answer, "shape") and not isinstance(answer, tuple | list):
            raise Wrong("give the shape itself as a tuple, not an array or a tensor; e.g. `answer = (64, 64, 3)`")
        if not isinstance(answer, tuple | list):
            raise Wrong(f"expected a shape tuple such as (64, 64, 3), got {type(answer).__name__} {echo(answer)}")
        if len(answer) > 8 or any(
            isinstance(n, bool) or not isinstance(n, int | np.integer | type(None)) for n in answer
        ):
            raise Wrong(f"a shape holds a few whole numbers, got {echo(tuple(answer))}")
        shape = tuple(None if n is None else int(n) for n in answer)
        expected = tuple(self.formula(self.data_copy()))
        if shape == expected:
            return self.explanation
        for wrong, message in self.mistakes(self.data_copy()) if self.mistakes else []:
            if shape == tuple(wrong):
                raise Wrong(message)
        if len(shape) == len(expected) + 1 and shape[1:] == expected:
            raise Wrong("drop the batch axis: the question asks for the shape of one example")
        raise Wrong(f"{shape} is not right; it has {len(shape)} axes, count the axes the lecture writes.")


def plain(value) -> str:
    """Return a number or an array as short text: `4`, `0.1250`, `[0.5, 1.0]`."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        number = float(array)
        return str(int(number)) if number.is_integer() else f"{number:.4f}"
    return np.array2string(array, precision=4, separator=", ")


@dataclass(frozen=True, repr=False)
class Code(Question):
    """A small coding exercise: the student writes a function, the check runs it on test cases.

    Each call runs under `engine.call_with_time_limit` (`time_limit` seconds) with its printed output captured, so
    an endless loop or a printing loop ends in feedback, not in a hung or flooded notebook.

    Attributes:
        function_name: the name the notebook's stub uses, e.g. `"conv_output_size"`.
        stub: the function header and docstring the notebook shows.
        reference: the lecture's formula as a function; its results are the expected values.
        cases: positional argument tuples to call both functions with.
        tolerance: accepted absolute difference of results.
        mistakes: `mistakes(args)` returns `(value, message)` pairs of typical wrong results for one case.
        time_limit: seconds one call of the student's function may take.
    """

    function_name: str = "f"
    stub: str = ""
    reference: Callable | None = None
    cases: tuple = ()
    tolerance: float = 1e-6
    mistakes: Callable[[tuple], list] | None = None
    time_limit: float = TIME_LIMIT_S

    answer_format = "the function itself, without parentheses"

    def grade(self, answer) -> str:
        if answer is None or not callable(answer):
            raise Wrong(
                f"expected a function, got {type(answer).__name__} {echo(answer)}; "
                f"assign the function itself: answer = {self.function_name}"
            )
        for args in self.cases:
            with captured_output() as printed:
                try:
                    self._check_case(answer, args)
                except Wrong as wrong:
                    said = printed.summary()
                    raise Wrong(f"{wrong} Your function printed: {said}" if said else str(wrong)) from None

        return self.explanation

    def _check_case(self, answer, args) -> None:
        call = f"{self.function_name}({', '.join(echo(a) for a in args)})"
        try:
            got = call_with_time_limit(answer, [_copy(a) for a in args], self.time_limit)
        except TimeLimitExceeded as stopped:
            detail = f" ({stopped})" if str(stopped) else ""
            raise Wrong(
                f"{call} was stopped after {self.time_limit:g} s{detail}; look for a loop that never ends"
            ) from None
        except Exception as error:  # the student's code: report any failure kindly instead of crashing
            frames = traceback.extract_tb(error.__traceback__)
            frame = frames[-1] if frames else None
            where = f" at line {frame.lineno}: `{cut(frame.line, 80)}`" if frame and frame.line else ""
            raise Wrong(f"{call} raised {describe_error(error)}{where}.") from None
        if got is None:
            raise Wrong(f"{call} returned None; did you forget `return`?")
        try:
            value = to_array(got, "a number")
        except Wrong:
            raise Wrong(f"{call} returned {echo(got)}, which is not a number") from None
        expected = np.asarray(self.reference(*args), dtype=np.float64)
        if _close(value, expected, self.tolerance):
            return
        for wrong, message in self.mistakes(args) if self.mistakes else []:
            if _close(value, wrong, self.tolerance):
                raise Wrong(f"{call} returned {echo(got)}, expected {plain(expected)}: {message}")
        raise Wrong(f"{call} returned {echo(got)}, expected {plain(expected)}.")
