"""The quiz engine: feedback never hangs, floods or raises; attempts, the explanation after REVEAL_AFTER tries, the
running score."""

import threading
import time

import numpy as np
import pytest

from lecture_lib import quiz
from lecture_lib.quiz import engine
from lecture_lib.quiz.kinds import Code, Number

# ---------------------------------------------------------------------------------------------------- echo


class BrokenRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


def test_echo_cuts_long_answers():
    text = engine.echo("x" * 10_000)
    assert len(text) <= engine.ECHO_LIMIT and "..." in text
    assert len(engine.echo(list(range(100_000)))) <= engine.ECHO_LIMIT
    assert len(engine.echo(np.arange(999.0))) <= engine.ECHO_LIMIT
    assert engine.echo([1, 2]) == "[1, 2]"


def test_echo_of_an_object_whose_repr_raises_names_it():
    assert "BrokenRepr" in engine.echo(BrokenRepr())


def test_echo_of_a_huge_int_does_not_raise():
    text = engine.echo(10**100_000)  # its repr raises ValueError (more digits than int_max_str_digits)
    assert len(text) <= engine.ECHO_LIMIT and "int" in text


def test_capped_output_keeps_the_start_and_counts_the_rest():
    stream = engine.CappedOutput(limit=10)
    for _ in range(1000):
        print("hello", file=stream)
    summary = stream.summary()
    assert summary.startswith("hello") and "more characters" in summary
    assert len(summary) < 60


# ---------------------------------------------------------------------------------------------------- time limit


def test_time_limit_stops_an_endless_loop_in_the_main_thread():
    def endless():
        while True:
            pass

    start = time.perf_counter()
    with pytest.raises(engine.TimeLimitExceeded):
        engine.call_with_time_limit(endless, (), 0.2)
    assert time.perf_counter() - start < 2


def test_time_limit_is_not_swallowed_by_except_exception():
    def stubborn():
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    with pytest.raises(engine.TimeLimitExceeded):
        engine.call_with_time_limit(stubborn, (), 0.2)


def test_time_limit_in_a_worker_thread_returns_and_says_so():
    outcome = {}

    def slow():
        time.sleep(1.0)

    def run():
        try:
            engine.call_with_time_limit(slow, (), 0.1)
        except engine.TimeLimitExceeded as stopped:
            outcome["message"] = str(stopped)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    assert "restart the kernel" in outcome["message"]
    assert engine.call_with_time_limit(lambda x: x + 1, (1,), 1.0) == 2


def test_time_limit_passes_results_and_errors_through():
    assert engine.call_with_time_limit(lambda a, b: a * b, (6, 7), 1.0) == 42
    with pytest.raises(KeyError):
        engine.call_with_time_limit(lambda: {}["x"], (), 1.0)


# ---------------------------------------------------------------------------------------------------- code answers


def _doubling(seconds=0.3):
    return Code(
        id="double",
        title="double",
        prompt="Write double(x).",
        hint="Multiply by 2.",
        explanation="2x.",
        section="Test",
        function_name="double",
        reference=lambda x: 2 * x,
        cases=((1,), (2,), (3,)),
        time_limit=seconds,
    )


def test_a_code_answer_that_loops_forever_gets_feedback_within_its_time_limit():
    def endless(x):
        while True:
            x += 1

    session = quiz.Quiz([_doubling()])
    start = time.perf_counter()
    result = session.grade("double", endless)
    assert time.perf_counter() - start < 3
    assert result.status == "wrong" and "stopped after 0.3 s" in result.message


def test_a_code_answer_that_prints_a_flood_is_cut(capsys):
    def noisy(x):
        for i in range(100_000):
            print("line", i)
        return 3 * x

    session = quiz.Quiz([_doubling(seconds=5)])
    session.check("double", noisy)
    out = capsys.readouterr().out
    assert out.startswith("✗ double:") and "Your function printed: line 0" in out and "more characters" in out
    assert len(out) < 1500


def test_a_code_answer_returning_an_unprintable_value_gets_feedback():
    session = quiz.Quiz([_doubling()])
    assert "BrokenRepr" in session.grade("double", lambda x: BrokenRepr()).message
    assert "returned" in session.grade("double", lambda x: "x" * 10_000).message
    assert len(session.grade("double", lambda x: "x" * 10_000).message) < 600


# ---------------------------------------------------------------------------------------------------- odd answers


def test_an_answer_whose_repr_raises_gets_feedback_everywhere():
    for question in quiz.questions():
        result = quiz.Quiz().grade(question.id, BrokenRepr())
        assert result.status == "wrong", question.id


class ExplodingArray:
    def __len__(self):
        raise RuntimeError("len exploded")

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("array exploded")

    def __repr__(self):
        raise RuntimeError("repr exploded")


def test_an_answer_that_raises_on_conversion_gets_feedback():
    for question_id in ("conv_output", "conv_result", "seg_output_shape", "activation_multilabel", "iou_fn"):
        result = quiz.Quiz().grade(question_id, ExplodingArray())
        assert result.status == "wrong" and result.message.startswith("✗"), question_id


def test_huge_answers_are_refused_quickly():
    start = time.perf_counter()
    result = quiz.Quiz().grade("conv_result", range(10**9))
    assert result.status == "wrong" and "values" in result.message
    assert quiz.Quiz().grade("nms_threshold", ["a"] * 10**6).status == "wrong"
    assert quiz.Quiz().grade("seg_output_shape", tuple(range(10**6))).status == "wrong"
    assert time.perf_counter() - start < 2


def test_feedback_echoes_are_short():
    for answer in ("x" * 100_000, [[1, 2]] * 10_000, {"k": "v" * 100_000}):
        for question in quiz.questions():
            message = quiz.Quiz().grade(question.id, answer).message
            assert len(message) < 1200, (question.id, len(message))


# ---------------------------------------------------------------------------------------------------- session


def test_unanswered_says_so_and_does_not_count(capsys):
    session = quiz.Quiz()
    session.check("conv_output", ...)
    out = capsys.readouterr().out
    assert "not answered yet" in out and out.startswith("…")
    assert session.score().answered == 0 and session.attempts("conv_output") == 0


def test_explanation_is_shown_after_a_right_answer_or_after_repeated_wrong_ones(capsys):
    question = quiz.get("bce_value")
    session = quiz.Quiz()
    for attempt in range(1, engine.REVEAL_AFTER):
        session.check("bce_value", 1.0)
        assert question.explanation not in capsys.readouterr().out
        assert session.attempts("bce_value") == attempt
    session.check("bce_value", 1.0)
    out = capsys.readouterr().out
    assert out.startswith("✗") and f"After {engine.REVEAL_AFTER} attempts, the explanation" in out
    assert question.explanation in out
    assert session.score().correct == 0
    session.check("conv_output", 4)
    assert quiz.get("conv_output").explanation in capsys.readouterr().out


def test_running_score_counts_the_latest_answer(capsys):
    session = quiz.Quiz()
    total = len(quiz.questions())
    session.check("conv_output", 3)
    session.check("activation_multilabel", "a")
    assert capsys.readouterr().out.splitlines()[0].startswith("✗ conv_output")
    score = session.score()
    assert (score.correct, score.answered, score.total) == (1, 2, total)
    session.check("conv_output", 4)
    session.check("activation_multilabel", "b")
    score = session.score()
    recap_total = len(quiz.sections()[0].questions)
    assert score.correct == 1 and score.by_section["Recap"] == (1, recap_total)
    assert score.by_section["Classification"][0] == 0
    assert "activation_multilabel" in score.open_questions and "conv_output" not in score.open_questions
    assert f"1/{total} correct" in str(score)
    session.reset()
    assert session.score().answered == 0 and session.attempts("conv_output") == 0


def test_module_level_check_and_score(capsys):
    quiz.reset()
    quiz.check("seg_output_shape", (512, 512, 4))
    assert capsys.readouterr().out.startswith("✓ seg_output_shape: correct.")
    assert quiz.score().correct == 1
    quiz.reset()
    assert quiz.score().correct == 0


def test_check_returns_nothing_so_the_notebook_prints_once(capsys):
    assert quiz.check("conv_output", ...) is None
    capsys.readouterr()


def test_unknown_question_id_raises_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'conv_output'"):
        quiz.check("conv_ouput", 4)
    with pytest.raises(ValueError, match="unknown question id"):
        quiz.check(BrokenRepr(), 4)


def test_a_quiz_over_a_custom_bank():
    question = Number(
        id="two",
        title="two",
        prompt="1 + 1?",
        hint="Count.",
        explanation="Two.",
        section="Test",
        formula=lambda d: 2,
        integer=True,
    )
    session = quiz.Quiz([question])
    assert session.grade("two", 2).correct and not session.grade("two", 3).correct
    assert str(session.score()).startswith("Score: 0/1")


class BadMessage(Exception):
    def __str__(self):
        raise RuntimeError("no message")


def test_a_code_answer_raising_an_unprintable_exception_gets_feedback():
    def raises(x):
        raise BadMessage

    result = quiz.Quiz([_doubling()]).grade("double", raises)
    assert result.status == "wrong" and "BadMessage" in result.message and "could not be printed" in result.message


def test_time_limit_restores_an_outer_timer():
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        assert engine.call_with_time_limit(lambda: 1, (), 0.5) == 1
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < remaining <= 5.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired
