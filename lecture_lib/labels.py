"""The slide's 15 pathology codes and their one-hot / multi-hot encodings.

The order is the slide's (and NIH ChestX-ray14's alphabetical order): code 0 is Atelectasis, code 10 is
No Finding, code 14 is Pneumothorax. Names use NIH's spelling, so `"Pleural_Thickening"` has an underscore;
lookups also accept spaces and any letter case.

Example:
    >>> from lecture_lib import labels
    >>> labels.code_of("Cardiomegaly")
    1
    >>> labels.multi_hot("Cardiomegaly|Effusion").nonzero()[0].tolist()
    [1, 4]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np

PATHOLOGIES: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Effusion",
    "Emphysema",
    "Fibrosis",
    "Hernia",
    "Infiltration",
    "Mass",
    "No Finding",
    "Nodule",
    "Pleural_Thickening",
    "Pneumonia",
    "Pneumothorax",
)
"""The 15 pathology titles; the position of a title is its code."""

NUM_PATHOLOGIES = len(PATHOLOGIES)
NO_FINDING = PATHOLOGIES.index("No Finding")
FINDINGS: tuple[str, ...] = tuple(name for name in PATHOLOGIES if name != "No Finding")
"""The 14 real findings (every title except No Finding), in code order."""

NIH_SEPARATOR = "|"


def _normalize(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


_CODE_BY_KEY = {_normalize(name): code for code, name in enumerate(PATHOLOGIES)}


def code_of(name: str) -> int:
    """Return the slide's code of a pathology title.

    Args:
        name: a title such as `"Effusion"`, `"Pleural_Thickening"` or `"pleural thickening"`.

    Returns:
        The code, an `int` in `[0, 14]`.

    Raises:
        ValueError: if the title is unknown; the message suggests the closest valid title.
    """
    if not isinstance(name, str):
        raise TypeError(f"a pathology title must be a string, got {type(name).__name__} {name!r}")
    key = _normalize(name)
    if key in _CODE_BY_KEY:
        return _CODE_BY_KEY[key]
    close = difflib.get_close_matches(key, list(_CODE_BY_KEY), n=1, cutoff=0.5)
    hint = f"; did you mean {PATHOLOGIES[_CODE_BY_KEY[close[0]]]!r}?" if close else ""
    raise ValueError(f"unknown pathology {name!r}{hint} Valid titles: {', '.join(PATHOLOGIES)}")


def _check_code(code) -> int:
    if isinstance(code, bool | np.bool_) or not isinstance(code, int | np.integer):
        raise TypeError(f"a pathology code must be an integer, got {type(code).__name__} {code!r}")
    if not 0 <= int(code) < NUM_PATHOLOGIES:
        raise ValueError(f"pathology code {int(code)} is out of range; valid codes are 0 to {NUM_PATHOLOGIES - 1}")
    return int(code)


def name_of(code: int) -> str:
    """Return the title of a pathology code.

    Args:
        code: an integer in `[0, 14]`.

    Returns:
        The title, e.g. `"Cardiomegaly"` for 1.

    Raises:
        ValueError: if the code is out of range.
    """
    return PATHOLOGIES[_check_code(code)]


def _to_code(item) -> int:
    return code_of(item) if isinstance(item, str) else _check_code(item)


def one_hot(codes, num_classes: int = NUM_PATHOLOGIES) -> np.ndarray:
    """One-hot encode one code (or title) or a sequence of them, as on the slide.

    Args:
        codes: an `int` code, a title, or a sequence / 1-D array of them, shape `(batch,)`.
        num_classes: length of each vector; 15 for the slide's codes.

    Returns:
        `float32` array of shape `(num_classes,)` for one code or `(batch, num_classes)` for a sequence.

    Raises:
        ValueError: if a code is outside `[0, num_classes - 1]` or a title is unknown.
    """
    if isinstance(codes, str | int | np.integer):
        return one_hot([codes], num_classes)[0]
    items = list(np.asarray(codes, dtype=object).reshape(-1)) if isinstance(codes, np.ndarray) else list(codes)
    result = np.zeros((len(items), num_classes), dtype=np.float32)
    for row, item in enumerate(items):
        code = _to_code(item)
        if code >= num_classes:
            raise ValueError(
                f"code {code} does not fit in {num_classes} classes; valid codes are 0 to {num_classes - 1}"
            )
        result[row, code] = 1.0
    return result


def _split_titles(item) -> list:
    if isinstance(item, str):
        return [part for part in (p.strip() for p in item.split(NIH_SEPARATOR)) if part]
    if isinstance(item, int | np.integer):
        return [item]
    return list(item)


def multi_hot(names_or_codes) -> np.ndarray:
    """Multi-hot encode the findings of one image.

    Args:
        names_or_codes: an NIH label string such as `"Cardiomegaly|Effusion"`, a single title or code, or a
            sequence of titles and/or codes. An empty string or sequence means no finding at all.

    Returns:
        `float32` array of shape `(15,)` with 1 at every finding's code.

    Raises:
        ValueError: for an unknown title (with the closest valid one), a code out of range, or "No Finding"
            combined with a finding.
    """
    codes = {_to_code(item) for item in _split_titles(names_or_codes)}
    if NO_FINDING in codes and len(codes) > 1:
        others = ", ".join(PATHOLOGIES[c] for c in sorted(codes - {NO_FINDING}))
        raise ValueError(f"'No Finding' cannot be combined with findings ({others}) in {names_or_codes!r}")
    vector = np.zeros(NUM_PATHOLOGIES, dtype=np.float32)
    vector[sorted(codes)] = 1.0
    return vector


def multi_hot_batch(items: Iterable) -> np.ndarray:
    """Multi-hot encode many images at once, e.g. NIH's `Finding Labels` column.

    Args:
        items: iterable of anything `multi_hot` accepts, one per image.

    Returns:
        `float32` array of shape `(num_images, 15)`.
    """
    rows = [multi_hot(item) for item in items]
    return np.stack(rows) if rows else np.zeros((0, NUM_PATHOLOGIES), dtype=np.float32)


def decode(vector, threshold: float = 0.5) -> list[str] | list[list[str]]:
    """Turn a multi-hot vector (or predicted probabilities) back into titles.

    Args:
        vector: array of shape `(15,)` or `(batch, 15)`; NaN entries (unknown) are skipped.
        threshold: a value at or above it counts as present.

    Returns:
        The titles whose value is `>= threshold`, in code order; a list of such lists for a batch.

    Raises:
        ValueError: if the last axis is not 15 long or the array has more than 2 axes.
    """
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim not in (1, 2) or array.shape[-1] != NUM_PATHOLOGIES:
        raise ValueError(
            f"expected a vector of shape (15,) or (batch, 15), got shape {array.shape}; "
            "the last axis must hold one value per pathology code"
        )
    if array.ndim == 2:
        return [decode(row, threshold) for row in array]
    with np.errstate(invalid="ignore"):
        present = array >= threshold
    return [PATHOLOGIES[code] for code in np.flatnonzero(present)]


def to_label_string(vector, threshold: float = 0.5) -> str:
    """Write a multi-hot vector as an NIH `Finding Labels` string, e.g. `"Cardiomegaly|Effusion"`.

    Args:
        vector: array of shape `(15,)`.
        threshold: a value at or above it counts as present.

    Returns:
        The titles joined by `|`; `"No Finding"` when nothing is present.
    """
    names = decode(vector, threshold)
    return NIH_SEPARATOR.join(names) if names else PATHOLOGIES[NO_FINDING]


def codes_of(names: Sequence[str]) -> list[int]:
    """Return the codes of several titles, in the order given."""
    return [code_of(name) for name in names]
