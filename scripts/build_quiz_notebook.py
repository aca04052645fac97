"""Write notebooks/06_quiz.ipynb from the question bank in `lecture_lib.quiz`.

The bank is the single source of the questions: edit a prompt in `lecture_lib/quiz.py`, then run

    .venv/bin/python scripts/build_quiz_notebook.py

The notebook is written without outputs, ready to commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from lecture_lib import quiz  # noqa: E402

NOTEBOOK = REPO_ROOT / "notebooks" / "06_quiz.ipynb"

SECTION_TITLES = {
    "Recap": "Recap: convolution and ResNet",
    "Classification": "Classification",
    "Segmentation": "Segmentation",
    "Detection": "Object detection",
    "Landmarks": "Landmark detection",
    "Generation": "Image generation",
    "Datasets": "Datasets across the lecture",
}

FIGURES = {"conv_result", "dice_masks", "detection_vector", "iou_boxes", "soft_argmax"}

INTRODUCTION = """# Lecture 6 quiz: check yourself

## Introduction
{count} questions over every part of the lecture: the recap convolution, classification, segmentation, object
detection, landmark detection, image generation and the datasets of each task. Every answer is checked on your
machine, offline, as soon as you run its cell.

**How to answer.** Each question ends with a code cell:

```python
answer = ...  # what the answer should look like
quiz.check("question_id", answer)
```

Replace `...` with your answer and run the cell. You get **✓** with a short explanation, or **✗** with what your
answer reveals (a flipped kernel, a transposed box, an off-by-one size …) and a hint; try again as often as you like.
A cell left at `...` only says *not answered yet*, so the notebook also runs from top to bottom unanswered.
Compute with NumPy where it helps: `quiz.data("question_id")` gives the arrays of a question. Answers are numbers,
letters of options, arrays, shapes, or a small function you write. The last cell shows your score.

**For instructors.** The answer key is one command, from the repository root:

```bash
python -m lecture_lib.quiz --key
```

It derives every answer at run time: the package stores no answer in plain text (the multiple-choice answers are
salted hashes, the rest is computed from the questions' data with the lecture's formulas). `--list` lists the
questions; `lecture_lib/quiz.py` holds the bank and `scripts/build_quiz_notebook.py` rebuilds this notebook from it.
"""

SETUP = """import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("lecture_lib") is None:  # a fresh clone: install the course package from the repository
    %pip install -q -e ..
    sys.path.insert(0, str(Path.cwd().parent))

import numpy as np  # noqa: F401  (for your calculations)

from lecture_lib import quiz

print(f"{len(quiz.questions())} questions in {len(quiz.SECTIONS)} sections")"""

DATA_NAMES = {
    "conv_result": "conv",
    "dice_masks": "masks",
    "detection_vector": "detection",
    "iou_boxes": "boxes",
    "soft_argmax": "landmark",
}


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
    """Return the source of the cell that shows a question's data and figure."""
    name = DATA_NAMES[question.id]
    parts = [
        f"{key} {value.shape}" if hasattr(value, "shape") else f"{key} = {value}"
        for key, value in question.data.items()
    ]
    return f'{name} = quiz.data("{question.id}")  # {", ".join(parts)}\nquiz.draw("{question.id}")'


def build() -> nbformat.NotebookNode:
    """Return the quiz notebook, without outputs."""
    bank = quiz.questions()
    cells = [
        new_markdown_cell(INTRODUCTION.format(count=len(bank)).strip()),
        new_markdown_cell("## Setup\nImport the quiz; the package is installed from the repository when missing."),
        new_code_cell(SETUP),
    ]
    section = None
    for number, question in enumerate(bank, start=1):
        if question.section != section:
            section = question.section
            index = quiz.SECTIONS.index(section)
            cells.append(new_markdown_cell(f"## {index}. {SECTION_TITLES[section]}"))
        cells.append(new_markdown_cell(f"### Q{number}. {question.title}\n\n{question.markdown()}"))
        if question.id in FIGURES:
            cells.append(new_code_cell(data_cell(question)))
        cells.append(new_code_cell(answer_cell(question)))
    cells.append(
        new_markdown_cell(
            "## Your score\nThe latest answer to each question counts; questions still open are listed at the end."
        )
    )
    cells.append(new_code_cell("quiz.score()"))
    cells.append(
        new_markdown_cell(
            "## Going further\nThe lecture's notebooks take each topic further: `00_recap` (convolution, "
            "ResNet), `01_classification` (sigmoid + BCE vs softmax + CE), `02_segmentation` (U-Net, DSC), "
            "`03_detection` (the y vector, IoU, NMS), `04_landmarks` (v1 regression, v2 heatmaps with SoftMax 2D) "
            "and `05_generation` (MSE, MAE, SSIM). Try a question's numbers there with real layers and losses."
        )
    )
    for index, cell in enumerate(cells):
        cell.id = str(index)  # the ids nbstripout writes, so a rebuild only changes what changed in the bank
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def main() -> int:
    notebook = build()
    nbformat.validate(notebook)
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(REPO_ROOT)}: {len(notebook.cells)} cells, {len(quiz.questions())} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
