"""The instructor's command line: the key derives every answer, `--digests` makes a Choice's truth, and the
student's import path does not load it."""

import subprocess
import sys

import numpy as np
from test_quiz_bank import SOLUTIONS

from lecture_lib import quiz
from lecture_lib.quiz import instructor


def test_answer_key_prints_every_solution(capsys):
    assert instructor.main(["--key"]) == 0
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
        elif isinstance(solution, float):
            assert f"{solution:.6g}" in block, question_id
        assert "why: " in block
    assert instructor.answer_key().keys() == SOLUTIONS.keys()


def test_key_of_arrays_matches_the_solutions():
    key = instructor.answer_key()
    for question_id in ("conv_result", "nms_kept", "wing_slopes"):
        values = np.array(
            [float(v) for v in key[question_id].split(":", 1)[1].replace("[", " ").replace("]", " ").split(",")]
        )
        np.testing.assert_allclose(values, np.ravel(SOLUTIONS[question_id]), atol=1e-3)


def test_list_names_every_question(capsys):
    assert instructor.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(question_id in listing for question_id in SOLUTIONS)


def test_digests_for_authors_reproduce_the_stored_truth(capsys):
    assert instructor.main(["--digests", "nms_threshold", "abc"]) == 0
    assert capsys.readouterr().out.strip() == repr(quiz.get("nms_threshold").truth)
    assert instructor.right_letters(quiz.get("honest_evaluation")) == ["a", "b"]


def test_the_module_runs_as_a_command_and_the_student_path_does_not_import_it():
    done = subprocess.run(
        [sys.executable, "-m", "lecture_lib.quiz", "--list"], capture_output=True, text=True, check=True, timeout=120
    )
    assert "conv_output" in done.stdout
    probe = "import sys; from lecture_lib import quiz; print('lecture_lib.quiz.instructor' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"
