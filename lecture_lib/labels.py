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

from collections.abc import Iterable, Sequence

import numpy as np

from lecture_lib.checks import MAX_CLASSES, check_array, check_choice, check_count, check_number, is_integer

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


def code_of(name: str) -> int:
    """Return the slide's code of a pathology title.

    Args:
        name: a title such as `"Effusion"`, `"Pleural_Thickening"` or `"pleural thickening"`.

    Returns:
        The code, an `int` in `[0, 14]`.

    Raises:
        TypeError: if `name` is not a string.
        ValueError: if the title is unknown; the message suggests the closest valid title.
    """
    return _code_of(name, "name")


def _code_of(name, argument: str) -> int:
    return PATHOLOGIES.index(check_choice(name, argument, PATHOLOGIES, normalize=_normalize, what="pathology"))


def _check_code(code, argument: str = "code") -> int:
    if not is_integer(code):
        raise TypeError(f"{argument} must hold integer pathology codes or titles, got {type(code).__name__} {code!r}")
    if not 0 <= int(code) < NUM_PATHOLOGIES:
        raise ValueError(
            f"{argument}: pathology code {int(code)} is out of range; valid codes are 0 to {NUM_PATHOLOGIES - 1}"
        )
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


def _to_code(item, argument: str) -> int:
    return _code_of(item, argument) if isinstance(item, str) else _check_code(item, argument)


def _items(value, argument: str, expected: str) -> list:
    """The elements of a sequence or an array (its rows); a clear `TypeError` for anything else (None, a float)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        raise TypeError(f"{argument} must be {expected}, got a 0-d {value.dtype} array {value!r}")
    if isinstance(value, Iterable) and not isinstance(value, str | dict):
        return list(value)
    raise TypeError(f"{argument} must be {expected}, got {type(value).__name__} {value!r}")


def one_hot(codes, num_classes: int = NUM_PATHOLOGIES) -> np.ndarray:
    """One-hot encode one code (or title) or a sequence of them, as on the slide.

    Args:
        codes: an `int` code, a title, or a sequence / 1-D array of them, shape `(batch,)`.
        num_classes: length of each vector; 15 for the slide's codes.

    Returns:
        `float32` array of shape `(num_classes,)` for one code or `(batch, num_classes)` for a sequence.

    Raises:
        TypeError: if `codes` is neither a code, a title nor a sequence of them (e.g. a float such as 3.0).
        ValueError: if a code is outside `[0, num_classes - 1]` or a title is unknown.
    """
    num_classes = check_count(num_classes, "num_classes", maximum=MAX_CLASSES)
    if isinstance(codes, str) or is_integer(codes):
        return one_hot([codes], num_classes)[0]
    if isinstance(codes, np.ndarray):
        codes = codes.reshape(-1)
    items = _items(codes, "codes", "an integer code, a title, or a sequence of them")
    result = np.zeros((len(items), num_classes), dtype=np.float32)
    for row, item in enumerate(items):
        code = _to_code(item, "codes")
        if code >= num_classes:
            raise ValueError(
                f"codes: code {code} does not fit in {num_classes} classes; valid codes are 0 to {num_classes - 1}"
            )
        result[row, code] = 1.0
    return result


_MULTI_HOT_INPUT = "an NIH label string, a title, a code, a sequence of titles and codes, or a 15-long 0/1 vector"


def _split_titles(item) -> list:
    if isinstance(item, str):
        return [part for part in (p.strip() for p in item.split(NIH_SEPARATOR)) if part]
    if is_integer(item):
        return [item]
    return _items(item, "names_or_codes", _MULTI_HOT_INPUT)


def _as_label_vector(item) -> np.ndarray | None:
    """Return `item` as a `(15,)` label vector if it is one (numbers that are all 0, 1 or NaN), else `None`.

    A 15-long array of 0/1 is a multi-hot vector, never 15 codes that happen to be 0 and 1. A 0/1 array of another
    length (ChestMNIST's 14 columns, a bool mask) cannot be read either way and is refused.
    """
    if isinstance(item, str) or not isinstance(item, np.ndarray | list | tuple):
        return None
    try:
        array = np.asarray(item)
    except ValueError:
        return None
    if array.ndim != 1 or array.dtype.kind not in "biuf" or array.size == 0:
        return None
    values = array.astype(np.float64)
    known = values[~np.isnan(values)]
    if not np.isin(known, (0.0, 1.0)).all():
        return None
    if array.size == NUM_PATHOLOGIES:
        return values.astype(np.float32)
    if array.dtype.kind in "bf" or len(np.unique(known)) < known.size:
        raise ValueError(
            f"names_or_codes looks like a 0/1 label vector of length {array.size}, but a multi-hot vector has "
            f"{NUM_PATHOLOGIES} entries, one per slide code; pass the codes themselves (np.flatnonzero(vector)) "
            "or map the columns to slide codes first (e.g. medmnist.chestmnist_labels)"
        )
    return None


def _check_no_finding_alone(codes, names_or_codes) -> None:
    if NO_FINDING in codes and len(codes) > 1:
        others = ", ".join(PATHOLOGIES[c] for c in sorted(set(codes) - {NO_FINDING}))
        raise ValueError(f"'No Finding' cannot be combined with findings ({others}) in {names_or_codes!r}")


def multi_hot(names_or_codes) -> np.ndarray:
    """Multi-hot encode the findings of one image.

    Args:
        names_or_codes: an NIH label string such as `"Cardiomegaly|Effusion"`, a single title or code, a
            sequence of titles and/or codes, or a `(15,)` vector of 0, 1 and NaN (unknown), e.g. a `CXRSet` label
            row, which is returned as float32. An empty string or sequence means no finding at all.

    Returns:
        `float32` array of shape `(15,)` with 1 at every finding's code (NaN kept from a label vector).

    Raises:
        TypeError: for something that is none of the above, e.g. `None` or a float.
        ValueError: for an unknown title (with the closest valid one), a code out of range, "No Finding"
            combined with a finding, or a 0/1 vector that is not 15 long.
    """
    if isinstance(names_or_codes, np.ndarray) and names_or_codes.ndim > 1:
        raise ValueError(
            f"names_or_codes holds the labels of one image, got an array of shape {names_or_codes.shape}; "
            "use multi_hot_batch for several images"
        )
    vector = _as_label_vector(names_or_codes)
    if vector is not None:
        _check_no_finding_alone(np.flatnonzero(vector == 1).tolist(), names_or_codes)
        return vector
    codes = {_to_code(item, "names_or_codes") for item in _split_titles(names_or_codes)}
    _check_no_finding_alone(codes, names_or_codes)
    vector = np.zeros(NUM_PATHOLOGIES, dtype=np.float32)
    vector[sorted(codes)] = 1.0
    return vector


def multi_hot_batch(items: Iterable) -> np.ndarray:
    """Multi-hot encode many images at once, e.g. NIH's `Finding Labels` column.

    Args:
        items: iterable of anything `multi_hot` accepts, one per image.

    Returns:
        `float32` array of shape `(num_images, 15)`.

    Raises:
        TypeError: if `items` is not iterable, or an item is not something `multi_hot` accepts.
        ValueError: as `multi_hot`.
    """
    if isinstance(items, str):
        raise TypeError(
            f"items must be a sequence with one entry per image, got the string {items!r}; "
            "for one image use multi_hot, or wrap it in a list"
        )
    rows = [multi_hot(item) for item in _items(items, "items", "a sequence with one entry per image")]
    return np.stack(rows) if rows else np.zeros((0, NUM_PATHOLOGIES), dtype=np.float32)


def decode(vector, threshold: float = 0.5) -> list[str] | list[list[str]]:
    """Turn a multi-hot vector (or predicted probabilities) back into titles.

    Args:
        vector: array of shape `(15,)` or `(batch, 15)`; NaN entries (unknown) are skipped.
        threshold: a value at or above it counts as present.

    Returns:
        The titles whose value is `>= threshold`, in code order; a list of such lists for a batch.

    Raises:
        ValueError: if the last axis is not 15 long, the array has more than 2 axes, or `threshold` is not a number.
    """
    threshold = check_number(threshold, "threshold")
    array = check_array(vector, "vector", dtype=np.float32)
    if array.ndim not in (1, 2) or array.shape[-1] != NUM_PATHOLOGIES:
        raise ValueError(
            f"vector must have shape (15,) or (batch, 15), got shape {array.shape}; "
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
        vector: array of shape `(15,)`; NaN marks an unknown label.
        threshold: a value at or above it counts as present.

    Returns:
        The titles joined by `|`; `"No Finding"` when nothing is present and every finding is known.

    Raises:
        ValueError: if `vector` is not `(15,)`, or nothing is present while some findings are unknown (NaN): then
            "No Finding" would claim that the unknown findings are absent.
    """
    array = check_array(vector, "vector", dtype=np.float32)
    if array.shape != (NUM_PATHOLOGIES,):
        raise ValueError(
            f"vector must have shape (15,), one value per pathology code, got shape {array.shape}; "
            "for a batch call to_label_string on each row"
        )
    names = decode(array, threshold)
    if names:
        return NIH_SEPARATOR.join(names)
    unknown = [PATHOLOGIES[code] for code in np.flatnonzero(np.isnan(array)) if code != NO_FINDING]
    if unknown:
        raise ValueError(
            f"no finding reaches threshold={threshold}, but {len(unknown)} are unknown (NaN): {', '.join(unknown)}; "
            "'No Finding' would claim they are absent. Decide them first, e.g. np.nan_to_num(vector) to read "
            "unknown as absent"
        )
    return PATHOLOGIES[NO_FINDING]


def codes_of(names: str | Sequence[str]) -> list[int]:
    """Return the codes of several titles, in the order given.

    Args:
        names: titles, or one string: a single title or an NIH label string such as `"Cardiomegaly|Effusion"`.

    Returns:
        One code per title.

    Raises:
        TypeError: if `names` is not a string or a sequence of strings.
        ValueError: for an unknown title (with the closest valid one).
    """
    if isinstance(names, str):
        names = _split_titles(names)
    return [
        _code_of(name, "names")
        for name in _items(names, "names", "a title, an NIH label string or a sequence of titles")
    ]
