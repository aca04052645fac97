"""notebooks/06_quiz.ipynb: it is exactly what scripts/build_quiz_notebook.py writes, it starts with the course's
setup cell, shows students no key and no explanation, and runs both unanswered and answered."""

import importlib.util
import inspect
import re
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from test_quiz_bank import SOLUTIONS

from lecture_lib import quiz

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "06_quiz.ipynb"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_is_what_the_builder_writes():
    builder = _script("build_quiz_notebook")
    assert NOTEBOOK.read_text(encoding="utf-8") == builder.render(), (
        "run `python scripts/build_quiz_notebook.py` after changing the bank"
    )


def test_notebook_starts_with_the_course_setup_cell_and_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source == _script("setup_cell").SETUP_CELL
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert code[-1].source.strip() == "quiz.score()"


def test_notebook_asks_every_question_once_with_its_data_variable():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for question in quiz.questions():
        cells = [source for source in code if f'quiz.check("{question.id}", answer)' in source]
        assert len(cells) == 1, question.id
        assert re.search(r"^answer = \.\.\.", cells[0], flags=re.MULTILINE), question.id
        if question.data_name:
            assert any(f'\n{question.data_name} = quiz.data("{question.id}")' in source for source in code)
        if question.figure is not None:
            assert any(f'quiz.draw("{question.id}")' in source for source in code)


def test_notebook_shows_no_key_and_no_explanation():
    text = NOTEBOOK.read_text(encoding="utf-8")
    for secret in ("--key", "answer_key", "instructor", "--digests"):
        assert secret not in text
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    sources = "\n".join(cell.source for cell in notebook.cells)
    for question in quiz.questions():
        assert question.explanation not in sources, question.id
        assert question.hint not in sources, question.id
        for option in getattr(question, "options", ()):
            assert option.note not in sources, (question.id, option.text)
        for digest in getattr(question, "truth", ()):
            assert digest not in sources


def test_computed_answers_do_not_appear_in_the_notebook_or_the_bank():
    sources = NOTEBOOK.read_text(encoding="utf-8") + "".join(
        path.read_text(encoding="utf-8") for path in (REPO_ROOT / "lecture_lib" / "quiz").rglob("*.py")
    )
    conv = SOLUTIONS["conv_result"]
    for row in conv:
        assert ", ".join(str(v) for v in row) not in sources
        assert " ".join(str(v) for v in row) not in sources
    for value in ("0.8333", "0.1333", "0.2798", "0.375, 0.625", "2.776", "1.323", "0.5526", "83.56", "89.6"):
        assert value not in sources, value


def _solution_source(question_id):
    solution = SOLUTIONS[question_id]
    if callable(solution):
        return f"{inspect.getsource(solution)}\nanswer = {solution.__name__}"
    if isinstance(solution, np.ndarray):
        return f"answer = np.array({solution.tolist()!r})"
    if isinstance(solution, np.floating):
        return f"answer = {float(solution)!r}"
    return f"answer = {solution!r}"


def _run(notebook):
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    )
    client.execute()
    outputs = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            outputs.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
    return "\n".join(outputs)


def test_notebook_runs_unanswered():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    text = _run(notebook)
    total = len(quiz.questions())
    assert text.count("not answered yet") == total
    assert f"Score: 0/{total} correct (0%), 0 answered." in text


def test_notebook_answered_with_the_solutions_scores_100_percent():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        match = re.search(r'quiz\.check\("(\w+)", answer\)', cell.source)
        if cell.cell_type == "code" and match:
            solution = _solution_source(match.group(1))
            cell.source = re.sub(r"^answer = \.\.\..*$", lambda _, text=solution: text, cell.source, flags=re.MULTILINE)
    text = _run(notebook)
    total = len(quiz.questions())
    assert "✗" not in text and "not answered yet" not in text
    assert text.count("✓") == total
    assert f"Score: {total}/{total} correct (100%)" in text
