"""Argument checks shared by the library, so that every bad input gets the same kind of message.

A check names the argument, the value received and what was expected, and raises `TypeError` for a value of the
wrong kind (a string where a number belongs) or `ValueError` for a value of the right kind out of range:

    >>> from lecture_lib import checks
    >>> checks.check_positive(-1, "smooth")
    Traceback (most recent call last):
    ...
    ValueError: smooth must be a positive number, got -1

NumPy scalars count as numbers (`np.float32(1.0)`, `np.int64(7)`); booleans do not. The module imports NumPy only,
so the dataset loaders use it without starting Keras.

Value checks on tensors (`check_values_in`, `check_span`) run only when the values are known: on NumPy arrays and
eager tensors. Inside a traced function (`model.fit`, `jax.jit`, `tf.function`) the tensors are symbolic and the
check is skipped, so it never breaks a compiled training step.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Iterable

import numpy as np


def _describe(value) -> str:
    """`"str 'abc'"`: the type as well as the value, for errors about the kind of a value."""
    return f"{type(value).__name__} {value!r}"


def _suffix(fix: str | None) -> str:
    return f"; {fix}" if fix else ""


def _unwrap_scalar(value):
    """Return the Python number inside a 0-d NumPy array (e.g. `array.max()` kept as an array); else `value`."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return value


def is_number(value) -> bool:
    """Return whether `value` is a real number: Python or NumPy ints and floats, not booleans."""
    value = _unwrap_scalar(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def is_integer(value) -> bool:
    """Return whether `value` is an integer: Python or NumPy ints, not booleans and not floats such as `2.0`."""
    value = _unwrap_scalar(value)
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _expected(low, high, low_open, high_open, integer, finite) -> str:
    kind = "integer" if integer else "number"
    article = "an" if integer else "a"
    if low == 0 and high is None:
        return f"{'a positive' if low_open else 'a non-negative'} {kind}"
    if low is not None and high is not None:
        return f"{article} {kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{article} {kind} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{article} {kind} {'<' if high_open else '<='} {high}"
    return f"{article} {'finite ' if finite and not integer else ''}{kind}"


def check_number(
    value,
    argument: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    finite: bool = True,
    allow_none: bool = False,
    fix: str | None = None,
):
    """Return `value` as a Python `float` (or `int`) after checking its kind and range.

    Args:
        value: the value received.
        argument: the argument's name, used in the message.
        low: smallest allowed value, or `None` for no lower bound.
        high: largest allowed value, or `None` for no upper bound.
        low_open: exclude `low` itself (`value > low`).
        high_open: exclude `high` itself (`value < high`).
        integer: require an integer (`numbers.Integral`); floats such as `2.0` are refused.
        finite: refuse infinities (NaN is always refused).
        allow_none: accept `None` (and return it).
        fix: how to fix a bad value, appended to the message.

    Returns:
        `None`, an `int` (with `integer=True`) or a `float`.

    Raises:
        TypeError: if `value` is not a number (or an integer), e.g. a string, a boolean or `None`.
        ValueError: if `value` is NaN, infinite (with `finite=True`) or out of range.
    """
    if value is None and allow_none:
        return None
    expected = ("None or " if allow_none else "") + _expected(low, high, low_open, high_open, integer, finite)
    if not (is_integer(value) if integer else is_number(value)):
        raise TypeError(f"{argument} must be {expected}, got {_describe(value)}{_suffix(fix)}")
    value = _unwrap_scalar(value)
    number = int(value) if integer else float(value)
    out_of_range = (
        number != number
        or (finite and number in (float("inf"), float("-inf")))
        or (low is not None and (number <= low if low_open else number < low))
        or (high is not None and (number >= high if high_open else number > high))
    )
    if out_of_range:
        raise ValueError(f"{argument} must be {expected}, got {value!r}{_suffix(fix)}")
    return number


def check_positive(value, argument: str, fix: str | None = None) -> float:
    """Return `value` as a `float` if it is a finite number > 0; see `check_number` for the errors."""
    return check_number(value, argument, low=0, low_open=True, fix=fix)


def check_non_negative(value, argument: str, fix: str | None = None) -> float:
    """Return `value` as a `float` if it is a finite number >= 0; see `check_number` for the errors."""
    return check_number(value, argument, low=0, fix=fix)


def check_fraction(value, argument: str, *, allow_none: bool = False, fix: str | None = None) -> float | None:
    """Return `value` as a `float` if it is a number in [0, 1] (a probability or IoU threshold)."""
    return check_number(value, argument, low=0, high=1, allow_none=allow_none, fix=fix)


def check_rate(value, argument: str) -> float:
    """Return `value` as a `float` if it is a rate in [0, 1), such as a dropout rate (0 switches it off)."""
    return check_number(value, argument, low=0, high=1, high_open=True, fix="use 0 to switch it off")


def check_count(
    value,
    argument: str,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    allow_none: bool = False,
    fix: str | None = None,
) -> int | None:
    """Return `value` as an `int` if it is an integer in [`minimum`, `maximum`] (a size or a number of items)."""
    options = {"integer": True, "allow_none": allow_none, "fix": fix, "high": maximum}
    if minimum == 0:
        return check_number(value, argument, low=0, **options)
    if minimum == 1 and maximum is None:
        return check_number(value, argument, low=0, low_open=True, **options)
    return check_number(value, argument, low=minimum, **options)


MAX_CLASSES = 10_000
"""Largest `num_classes` the label and box encoders accept: far above any chest X-ray label set (NIH has 15), low
enough that a code passed where a count belongs fails clearly instead of allocating gigabytes."""


def _short(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_array(value, argument: str, *, dtype="float64", fix: str | None = None) -> np.ndarray:
    """Return `value` as a NumPy array of numbers (`dtype`); raise `TypeError` naming `argument` for anything else.

    Accepts NumPy arrays, (nested) lists and tuples of numbers, numbers and backend tensors; refuses `None`,
    strings, dicts, sets and objects NumPy cannot turn into numbers, which would otherwise fail deep inside with a
    message that does not say which argument was wrong.
    """
    if value is None or isinstance(value, str | bytes | dict | set | frozenset):
        raise TypeError(f"{argument} must be an array of numbers, got {_short(value)}{_suffix(fix)}")
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{argument} must be an array of numbers (a NumPy array, a list of numbers or a tensor), "
            f"got {_short(value)}{_suffix(fix)}"
        ) from error


def check_array_like(value, argument: str, fix: str | None = None):
    """Return `value` unchanged if it is a tensor or an array of numbers, else as a float32 NumPy array.

    For functions written in `keras.ops`: backend tensors pass untouched (they may be symbolic inside `fit`), a
    NumPy array must hold numbers, and anything else goes through `check_array`.
    """
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    return check_array(value, argument, dtype="float32", fix=fix)


def check_flag(value, argument: str) -> bool:
    """Return `value` as a Python bool if it is `True` or `False` (NumPy's too); else raise `TypeError`.

    A string such as `"False"` is truthy, so accepting any value would silently turn an option on.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{argument} must be True or False, got {_describe(value)}")


def closest(value: str, choices: Iterable[str], cutoff: float = 0.5) -> str | None:
    """Return the choice spelled most like `value` (difflib's ratio at least `cutoff`), or `None`."""
    matches = difflib.get_close_matches(value, list(choices), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def check_choice(
    value,
    argument: str,
    choices: Iterable,
    *,
    normalize: Callable[[str], str] | None = None,
    what: str | None = None,
    fix: str | None = None,
):
    """Return the choice that `value` names; otherwise raise, suggesting the closest spelling.

    Args:
        value: the value received.
        argument: the argument's name, used in the message.
        choices: the valid values (strings, and possibly `None`).
        normalize: maps a string to its lookup key (e.g. case-folding); then `value` must be a string, and the
            original spelling of the matching choice is returned.
        what: what the choices are (`"dataset"`, `"pathology"`): the message starts "unknown dataset 'x'".
        fix: how to fix a bad value, appended to the message.

    Returns:
        The matching element of `choices`.

    Raises:
        TypeError: if `normalize` is given and `value` is not a string.
        ValueError: if `value` is not one of `choices`; the message lists them and names the closest.
    """
    choices = tuple(choices)
    listing = ", ".join(repr(choice) for choice in choices)
    if normalize is not None:
        if not isinstance(value, str):
            raise TypeError(f"{argument} must be a string, one of {listing}; got {_describe(value)}{_suffix(fix)}")
        by_key = {normalize(choice): choice for choice in choices}
        key = normalize(value)
        if key in by_key:
            return by_key[key]
        suggestion = closest(key, by_key)
        suggestion = by_key[suggestion] if suggestion is not None else None
    else:
        # Only scalars are compared, so an array or a list gives a clear error instead of an ambiguous truth value.
        if value is None or isinstance(value, str | numbers.Number):
            for choice in choices:
                if isinstance(value, str) == isinstance(choice, str) and value == choice:
                    return choice
        strings = [choice for choice in choices if isinstance(choice, str)]
        suggestion = closest(value, strings) if isinstance(value, str) else None
    hint = f" (did you mean {suggestion!r}?)" if suggestion is not None else ""
    if what:
        message = f"unknown {what} {value!r}{hint}; {argument} must be one of {listing}"
    else:
        message = f"{argument} must be one of {listing}, got {value!r}{hint}"
    raise ValueError(message + _suffix(fix))


# --------------------------------------------------------------------------------------------------------------------
# Arrays and tensors
# --------------------------------------------------------------------------------------------------------------------


def static_shape(x) -> tuple:
    """Return the shape known now: ints, and `None` for axes known only at run time (a last, smaller batch)."""
    shape = x.shape if hasattr(x, "shape") else np.shape(x)
    return tuple(int(d) if isinstance(d, int | np.integer) else None for d in shape)


def check_same_shape(y_true, y_pred, fix: str, names: tuple[str, str] = ("y_true", "y_pred")) -> None:
    """Raise a `ValueError` if the static shapes of `y_true` and `y_pred` are known and differ.

    `names` are the two arguments' names in the message.
    """
    true_shape, pred_shape = static_shape(y_true), static_shape(y_pred)
    compatible = len(true_shape) == len(pred_shape) and all(
        a is None or b is None or a == b for a, b in zip(true_shape, pred_shape, strict=True)
    )
    if not compatible:
        raise ValueError(f"{names[1]} has shape {pred_shape} but {names[0]} has shape {true_shape}; {fix}")


def check_min_rank(x, min_rank: int, argument: str, layout: str) -> None:
    """Raise a `ValueError` if `x` has fewer than `min_rank` axes; `layout` shows the expected one."""
    shape = static_shape(x)
    if len(shape) < min_rank:
        raise ValueError(f"{argument} must have at least {min_rank} dimensions {layout}, got shape {shape}")


def known_values(x) -> np.ndarray | None:
    """Return the values of `x` as a NumPy array, or `None` when they are not known yet.

    NumPy arrays, lists and eager tensors (TensorFlow, JAX, PyTorch on the CPU) have values; symbolic tensors do
    not: a `KerasTensor` while a model is built, a tensor inside `tf.function` or `jax.jit` (where `model.fit` runs).

    Args:
        x: an array-like or a backend tensor.

    Returns:
        The values, or `None` for a symbolic tensor.
    """
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        # Symbolic tensors refuse the conversion: TensorFlow raises NotImplementedError (a RuntimeError), a JAX tracer
        # a TypeError, a KerasTensor a ValueError, a PyTorch tensor that requires grad a RuntimeError.
        return None


def _numeric(values: np.ndarray | None) -> np.ndarray | None:
    if values is None or values.size == 0 or values.dtype.kind not in "biuf":
        return None
    return values.astype(np.float64) if values.dtype.kind == "b" else values


def check_values_in(x, argument: str, low: float, high: float, fix: str) -> None:
    """Raise a `ValueError` if known values of `x` lie outside `[low, high]`; NaN and symbolic tensors pass.

    Args:
        x: an array or a tensor; its values are checked only when they are known (see `known_values`).
        argument: the argument's name, used in the message.
        low: smallest allowed value.
        high: largest allowed value.
        fix: what the values look like and how to fix them, appended to the message.

    Raises:
        ValueError: naming the range of the values received.
    """
    values = _numeric(known_values(x))
    if values is None:
        return
    with np.errstate(invalid="ignore"):
        outside = (values < low) | (values > high)
    if outside.any():
        known = values[~np.isnan(values)]
        raise ValueError(
            f"{argument} must hold values in [{low:g}, {high:g}], got values from {known.min():.4g} to "
            f"{known.max():.4g}; {fix}"
        )


def check_span(arrays: Iterable, argument: str, max_span: float, fix: str) -> None:
    """Raise a `ValueError` if the known values of `arrays` together span more than twice `max_span`.

    This catches images on a 0-255 scale measured with a dynamic range (`max_val`) of 1, while images that overshoot
    their range a little (noise added to a [0, 1] image, a generator's output before clipping) pass.

    Args:
        arrays: arrays or tensors; symbolic ones are skipped (see `known_values`).
        argument: what the values are, used in the message.
        max_span: the values' nominal range; `max - min` may reach twice it.
        fix: how to fix it, appended to the message.

    Raises:
        ValueError: naming the range of the values received.
    """
    lows, highs = [], []
    for x in arrays:
        values = _numeric(known_values(x))
        if values is None:
            continue
        finite = values[np.isfinite(values)]
        if finite.size:
            lows.append(finite.min())
            highs.append(finite.max())
    if lows and max(highs) - min(lows) > 2.0 * max_span:
        raise ValueError(
            f"{argument} span {min(lows):.4g} to {max(highs):.4g}, a range of {max(highs) - min(lows):.4g}, "
            f"more than twice max_val={max_span:g}; {fix}"
        )


def check_ssim_options(max_val, filter_size, filter_sigma, k1, k2, power_factors=None) -> dict:
    """Check the options of SSIM and MS-SSIM and return them as plain Python numbers (JSON-friendly configs).

    Args:
        max_val: the images' dynamic range, > 0.
        filter_size: side of the Gaussian window, an integer >= 1.
        filter_sigma: standard deviation of the window, > 0.
        k1: luminance stabilizer, > 0.
        k2: contrast stabilizer, > 0.
        power_factors: MS-SSIM's per-scale exponents (non-negative), or `None` for SSIM.

    Returns:
        `{"max_val": ..., "filter_size": ..., "filter_sigma": ..., "k1": ..., "k2": ...}`, plus `"power_factors"`
        (a list of floats) when given.

    Raises:
        TypeError: if an option is not a number.
        ValueError: if an option is out of range.
    """
    options = {
        "max_val": check_positive(max_val, "max_val", "1.0 for images in [0, 1], 255.0 for 8-bit images"),
        "filter_size": check_count(filter_size, "filter_size", fix="11 in the SSIM paper"),
        "filter_sigma": check_positive(filter_sigma, "filter_sigma", "1.5 in the SSIM paper"),
        "k1": check_positive(k1, "k1", "0.01 in the SSIM paper"),
        "k2": check_positive(k2, "k2", "0.03 in the SSIM paper"),
    }
    if power_factors is not None:
        if isinstance(power_factors, str) or not isinstance(power_factors, Iterable):
            raise TypeError(
                f"power_factors must be a non-empty sequence of non-negative numbers, one per scale, got "
                f"{_describe(power_factors)}"
            )
        factors = [check_non_negative(p, "each of power_factors") for p in power_factors]
        if not factors:
            raise ValueError(
                "power_factors must be a non-empty sequence of non-negative numbers, one per scale, got []"
            )
        options["power_factors"] = factors
    return options
