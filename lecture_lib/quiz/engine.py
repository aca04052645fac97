"""The quiz engine: grade an answer without ever hanging, flooding or raising, count attempts, keep the score.

A question kind (`kinds.py`) grades an answer by returning a success note or raising `Wrong` with what the answer
reveals. The engine turns that into a `Result` with ✓, ✗ or … and, through `Quiz.check`, prints it, counts the
attempt and keeps the latest answer of every question for the running score. An explanation of the right answer
is shown after a right answer, or after `REVEAL_AFTER` wrong attempts at the same question.

Whatever a student passes, `check` prints feedback and returns: an answer is echoed through `echo` (cut to
`ECHO_LIMIT` characters, and a `repr` that raises is reported instead of propagated), a student's function runs
under `call_with_time_limit`, and what it prints is kept by `CappedOutput` (at most `PRINT_LIMIT` characters).
"""

from __future__ import annotations

import contextlib
import io
import reprlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lecture_lib.checks import closest

CORRECT_MARK = "✓"
WRONG_MARK = "✗"
OPEN_MARK = "…"

REVEAL_AFTER = 3
"""Wrong attempts at one question after which its explanation is shown with the feedback."""

ECHO_LIMIT = 160
"""The longest echo of an answer in a message, in characters."""

PRINT_LIMIT = 400
"""The most characters of a student's function's printed output kept for the feedback."""

TIME_LIMIT_S = 2.0
"""The default time a student's function may take on one test case, in seconds."""


class Wrong(Exception):
    """Raised by a question kind to stop grading with a teaching message (the answer is not right)."""


class TimeLimitExceeded(BaseException):
    """Raised inside a student's function when it runs past its time limit.

    A `BaseException`, like `KeyboardInterrupt`, so that an `except Exception` in the student's code does not
    swallow it.
    """


_REPR = reprlib.Repr()
_REPR.maxstring = ECHO_LIMIT
_REPR.maxother = ECHO_LIMIT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdict = 8
_REPR.maxlevel = 3


def echo(value, limit: int = ECHO_LIMIT) -> str:
    """Return a short, safe `repr` of an answer for a feedback message.

    Args:
        value: anything a student may pass.
        limit: the longest text returned, in characters.

    Returns:
        The `repr`, with long containers abbreviated by `reprlib` and the text cut to `limit` characters (ending in
        "…"); for an object whose `repr` raises, a description naming its type and the error.
    """
    try:
        text = _REPR.repr(value)
    except Exception as error:  # any object may define a broken __repr__; feedback must still come
        return f"<a {type(value).__name__} whose repr() raised {type(error).__name__}>"
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """Return `text` on one line, cut to `limit` characters (ending in "…")."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(error: BaseException) -> str:
    """Return `"TypeError: message"` for an exception, cut to a sane length, even when its `str` raises."""
    try:
        message = str(error)
    except Exception:  # a student's exception class may break str()
        message = "<its message could not be printed>"
    return f"{type(error).__name__}: {cut(message)}" if message else type(error).__name__


class CappedOutput(io.TextIOBase):
    """A text stream that keeps the first `limit` characters written to it and counts the rest."""

    def __init__(self, limit: int = PRINT_LIMIT):
        super().__init__()
        self.limit = limit
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - min(self.size, self.limit)
        if room:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def summary(self) -> str:
        """Return what was printed, cut to `limit` characters with a note of how much was left out."""
        text = "".join(self.kept).strip()
        if self.size > self.limit:
            text += f" … ({self.size - self.limit} more characters)"
        return text


def call_with_time_limit(function: Callable, args: Sequence, seconds: float = TIME_LIMIT_S):
    """Call `function(*args)` and return its result, or raise `TimeLimitExceeded` after `seconds`.

    In the main thread of a Unix process (a Jupyter kernel, pytest) a `SIGALRM` timer interrupts the function, so
    nothing keeps running afterwards; a real-time timer set before the call is restored with its remaining time. Elsewhere (Windows, a worker thread) the function runs in a daemon thread that
    is abandoned when it overruns: the check returns, but the runaway loop keeps a core busy until the kernel
    restarts, which the feedback says.

    Args:
        function: the student's function.
        args: its positional arguments.
        seconds: the time limit.

    Returns:
        What `function` returned.

    Raises:
        TimeLimitExceeded: when the call takes longer than `seconds`.
        Exception: whatever `function` raised.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def interrupt(signum, frame):
            raise TimeLimitExceeded

        previous = signal.signal(signal.SIGALRM, interrupt)
        started = time.monotonic()
        outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return function(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer_delay:  # a timer someone else had set (a test runner's timeout) keeps running
                remaining = max(outer_delay - (time.monotonic() - started), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimitExceeded("the function is still running in the background; restart the kernel to stop it")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@contextlib.contextmanager
def captured_output(limit: int = PRINT_LIMIT):
    """Send what is printed inside the block to a `CappedOutput`, so a printing loop cannot flood the notebook."""
    stream = CappedOutput(limit)
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        yield stream


@dataclass(frozen=True)
class Result:
    """The outcome of one answer.

    Attributes:
        question_id: the question answered.
        status: `"correct"`, `"wrong"` or `"unanswered"`.
        message: the feedback printed by `check`, starting with ✓, ✗ or ….
        attempt: the number of this attempt at the question (0 when the result was not recorded).
    """

    question_id: str
    status: str
    message: str
    attempt: int = 0

    @property
    def correct(self) -> bool:
        """Whether the answer was right."""
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message


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
        width = max((len(section) for section in self.by_section), default=0)
        for section, (right, total) in self.by_section.items():
            lines.append(f"  {section:<{width}}  {right}/{total}  {'■' * right}{'□' * (total - right)}")
        if self.open_questions:
            lines.append("Still open: " + ", ".join(self.open_questions))
        return "\n".join(lines)

    __repr__ = __str__


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "?", "!", "…")) else f"{text}."


class Quiz:
    """A question bank with attempts and a running score.

    Example:
        >>> session = Quiz()
        >>> session.grade("conv_output", ...).status
        'unanswered'
    """

    def __init__(self, bank: Sequence | None = None):
        """Create a quiz.

        Args:
            bank: the questions (`kinds.Question`); the lecture's bank by default.
        """
        if bank is None:
            from lecture_lib.quiz import bank as lecture_bank

            bank = lecture_bank.questions()
        self.bank = tuple(bank)
        self._by_id = {question.id: question for question in self.bank}
        self._latest: dict[str, Result] = {}
        self._attempts: dict[str, int] = {}

    def question(self, question_id: str):
        """Return one question of the bank.

        Raises:
            ValueError: for an unknown id; the message suggests the closest one.
        """
        if isinstance(question_id, str) and question_id in self._by_id:
            return self._by_id[question_id]
        name = question_id if isinstance(question_id, str) else echo(question_id)
        close = closest(name, self._by_id)
        hint = f"; did you mean {close!r}?" if close else ""
        raise ValueError(f"unknown question id {echo(question_id)}{hint} Run quiz.questions() to list them.")

    def grade(self, question_id: str, answer) -> Result:
        """Grade an answer without printing or recording it; never raises for any answer.

        Args:
            question_id: the question's id.
            answer: the student's answer; `...` means not answered yet.

        Returns:
            A `Result` with status `"correct"`, `"wrong"` or `"unanswered"` and the feedback message.

        Raises:
            ValueError: for an unknown question id (a typo in the notebook, not a wrong answer).
        """
        question = self.question(question_id)
        if answer is Ellipsis:
            return Result(
                question_id,
                "unanswered",
                f"{OPEN_MARK} {question_id}: not answered yet — replace `...` with your answer "
                f"({question.answer_format}).",
            )
        try:
            note = question.grade(answer)
        except Wrong as wrong:
            return Result(question_id, "wrong", f"{WRONG_MARK} {question_id}: {_sentence(wrong)} Hint: {question.hint}")
        except Exception as error:  # an answer of an unforeseen kind must not crash the notebook
            return Result(
                question_id,
                "wrong",
                f"{WRONG_MARK} {question_id}: could not read your answer {echo(answer)} "
                f"({describe_error(error)}); expected {question.answer_format}.",
            )
        return Result(question_id, "correct", f"{CORRECT_MARK} {question_id}: correct. {_sentence(note)}")

    def check(self, question_id: str, answer) -> None:
        """Grade an answer, print ✓ / ✗ / … with feedback, count the attempt and record it in the score.

        After `REVEAL_AFTER` wrong attempts at a question, the feedback ends with the question's explanation.

        Args:
            question_id: the question's id.
            answer: the student's answer; `...` means not answered yet (nothing is counted).
        """
        result = self.grade(question_id, answer)
        if result.status != "unanswered":
            attempt = self._attempts.get(question_id, 0) + 1
            self._attempts[question_id] = attempt
            message = result.message
            if result.status == "wrong" and attempt >= REVEAL_AFTER:
                message += f"\n  After {attempt} attempts, the explanation: {self.question(question_id).explanation}"
            result = Result(question_id, result.status, message, attempt)
            self._latest[question_id] = result
        print(result.message)

    def attempts(self, question_id: str) -> int:
        """Return how many answers to a question were checked (`...` does not count)."""
        self.question(question_id)
        return self._attempts.get(question_id, 0)

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
        """Forget every answer and attempt."""
        self._latest.clear()
        self._attempts.clear()
