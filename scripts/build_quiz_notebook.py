"""Write notebooks/06_quiz.ipynb from the question bank in `lecture_lib.quiz`.

The package is the single source of the questions: each section brings its title and notebook, each question its
prompt, its data (and the notebook variable that holds it) and its figure. Edit a question in
`lecture_lib/quiz/bank/`, then run

    .venv/bin/python scripts/build_quiz_notebook.py

The notebook is written without outputs, ready to commit; its first code cell is the lesson notebooks' setup cell
(`scripts/setup_cell.py`). `tests/test_quiz_notebook.py` checks that the committed notebook is what this writes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from lecture_lib import quiz  # noqa: E402

NOTEBOOK = REPO_ROOT / "notebooks" / "06_quiz.ipynb"


def _setup_cell() -> str:
    spec = importlib.util.spec_from_file_location("setup_cell", Path(__file__).with_name("setup_cell.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SETUP_CELL


INTRODUCTION = """# Lecture 6 · 6. Quiz: check yourself

**Deep learning in Medical Image Analysis — Lecture 6 (chest X-rays).**

{count} questions on what the notebooks teach: computing a convolution, a loss, a Dice coefficient, an IoU, a
soft-argmax or a cardiothoracic ratio by hand; choosing the activation, the loss, the split or the reading of a
result; and each task's medical need. Every answer is checked on your machine, offline, as soon as you run its cell.

{sections}

**How to answer.** Each question ends with a code cell:

```python
answer = ...  # what the answer should look like
quiz.check("question_id", answer)
```

Replace `...` with your answer and run the cell. A wrong answer gets **✗**, what it reveals (a flipped kernel, a
transposed box, an off-by-one size …) and a hint; try again as often as you like. A right answer gets **✓** and the
explanation; so does a question you have tried {reveal} times. A cell left at `...` only says *not answered yet*,
so the notebook also runs from top to bottom unanswered. Where a question has data, a cell puts it in a variable
(`quiz.data("question_id")` gives a fresh copy) and draws it; compute with NumPy. Answers are letters of options,
numbers, arrays, shapes, or a small function you write. The last cell shows your score."""

SETUP_MARKDOWN = """## Setup
The first cell is the setup cell of every notebook of the course: it makes `lecture_lib` importable (installed, a
clone opened in place, or a clone in Colab). The second imports the quiz."""

IMPORTS = """import numpy as np  # noqa: F401  (for your calculations)

from lecture_lib import quiz

print(f"{len(quiz.questions())} questions in {len(quiz.SECTIONS)} sections: {', '.join(quiz.SECTIONS)}")"""

GOING_FURTHER = """## Going further
Each section's notebook takes its questions further with real layers, losses and data: `00_recap` (convolution,
SAME padding, the residual gradient), `01_classification` (sigmoid + BCE vs softmax + CE, class weights, leakage),
`02_segmentation` (U-Net, sigmoid vs softmax, Dice, organ areas), `03_detection` (the y vector, IoU, NMS, AP50),
`04_landmarks` (heatmaps with SoftMax 2D, Wing, the cardiothoracic ratio) and `05_generation` (MSE, MAE, SSIM, the
bone model). Try a question's numbers there."""


def answer_cell(question: quiz.Question) -> str:
    """Return the source of the cell where the student answers."""
    check = f'quiz.check("{question.id}", answer)'
    if isinstance(question, quiz.Code):
        return (
            f"{question.stub}\n\n\n"
            f"answer = ...  # when your function is ready: answer = {question.function_name}\n"
            f"{check}"
        )
    return f"answer = ...  # {question.answer_format}\n{check}"


def data_cell(question: quiz.Question) -> str:
    """Return the source of the cell that puts a question's data in its variable and draws its figure."""
    parts = [
        f"{key} {value.shape}" if hasattr(value, "shape") else f"{key} = {value!r}"
        for key, value in question.data.items()
    ]
    # The description goes on its own line: after the call it would make lines longer than ruff's limit.
    source = f'# {", ".join(parts)}\n{question.data_name} = quiz.data("{question.id}")'
    if question.figure is not None:
        source += f'\nquiz.draw("{question.id}")'
    return source


def build() -> nbformat.NotebookNode:
    """Return the quiz notebook, without outputs."""
    parts = quiz.sections()
    cells = [
        new_markdown_cell(
            INTRODUCTION.format(
                count=len(quiz.questions()),
                sections="\n".join(
                    f"{index}. {part.title}: {len(part.questions)} questions (`{part.notebook}.ipynb`)"
                    for index, part in enumerate(parts)
                ),
                reveal=quiz.engine.REVEAL_AFTER,
            )
        ),
        new_markdown_cell(SETUP_MARKDOWN),
        new_code_cell(_setup_cell()),
        new_code_cell(IMPORTS),
    ]
    number = 0
    for index, part in enumerate(parts):
        cells.append(new_markdown_cell(f"## {index}. {part.title}\nTaught in `{part.notebook}.ipynb`."))
        for question in part.questions:
            number += 1
            cells.append(new_markdown_cell(f"### Q{number}. {question.title}\n\n{question.markdown()}"))
            if question.data_name:
                cells.append(new_code_cell(data_cell(question)))
            cells.append(new_code_cell(answer_cell(question)))
    cells.append(
        new_markdown_cell(
            "## Your score\nThe latest answer to each question counts; questions still open are listed at the end."
        )
    )
    cells.append(new_code_cell("quiz.score()"))
    cells.append(new_markdown_cell(GOING_FURTHER))
    for index, cell in enumerate(cells):
        cell.id = str(index)  # stable ids, so a rebuild only changes what changed in the bank
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def render() -> str:
    """Return the notebook's file contents exactly as `main` writes them."""
    notebook = build()
    nbformat.validate(notebook)
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def main() -> int:
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    NOTEBOOK.write_text(render(), encoding="utf-8")
    print(f"wrote {NOTEBOOK.relative_to(REPO_ROOT)}: {len(build().cells)} cells, {len(quiz.questions())} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
