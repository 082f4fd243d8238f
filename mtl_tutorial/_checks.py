"""Argument checks shared by the package's public functions.

Every check raises :class:`ValueError` with a message that names the argument, the value
received and what is allowed, so that a wrong call explains itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def check_int(name: str, value: object, *, minimum: int) -> int:
    """Return ``value`` if it is an integer ``>= minimum``; raise ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_positive_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is finite and ``> 0``; raise ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_nonnegative_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is finite and ``>= 0``; raise ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def check_interval(name: str, value: object, *, lowest: float | None = None) -> tuple[float, float]:
    """Return ``value`` as ``(low, high)`` with ``low < high`` (and ``low >= lowest`` if given)."""
    allowed = "a pair (low, high) of finite numbers with low < high"
    if lowest is not None:
        allowed += f" and low >= {lowest}"
    if (
        not isinstance(value, Sequence)
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if lowest is not None and low < lowest:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return low, high
