"""The question bank: one module per notebook section, in the order of the lecture.

Each module defines `SECTION`, a `Section` with its title, the notebook that teaches it and its questions. Adding a
question: append it to its section's module (a `Choice` gets its `truth` from
`python -m lecture_lib.quiz --digests QUESTION_ID RIGHT_LETTERS`), give the tests its solution and a typical wrong
answer, and rebuild the notebook with `python scripts/build_quiz_notebook.py`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lecture_lib.quiz.bank import classification, detection, generation, landmarks, recap, segmentation


@dataclass(frozen=True)
class Section:
    """One section of the quiz.

    Attributes:
        name: the short name questions and scores use, e.g. `"Recap"`.
        title: the notebook heading, e.g. `"Recap: convolution and ResNet"`.
        notebook: the lesson notebook that teaches it, e.g. `"00_recap"`.
        questions: its questions, each with `section == name`.
    """

    name: str
    title: str
    notebook: str
    questions: tuple


def section(name: str, title: str, notebook: str, questions) -> Section:
    """Return a `Section` whose questions carry its name."""
    return Section(name, title, notebook, tuple(dataclasses.replace(q, section=name) for q in questions))


SECTIONS: tuple[Section, ...] = tuple(
    section(**module.SECTION) for module in (recap, classification, segmentation, detection, landmarks, generation)
)
"""The quiz's sections in the order of the lecture."""


def questions() -> tuple:
    """Return every question in the order of the lecture."""
    return tuple(question for part in SECTIONS for question in part.questions)
