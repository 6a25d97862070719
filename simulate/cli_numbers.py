"""Number options of the command lines: finite, in a documented range, or refused by name.

``argparse`` calls ``type(text)``; these factories return such functions, so ``--sla-hours
inf`` or ``--verify-seeds 0`` ends in argparse's one line ``argument --sla-hours: must be a
finite number in (0, 8760], got 'inf'`` (status 2) before anything is read or written.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number in ``[low, high]`` (``high=None``: no upper bound)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be a whole number {_interval(low, high, False, False)}, got {text!r}"
            )
        return value

    return parse


def number(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """A finite number between ``low`` and ``high`` (each end open or closed)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        if not ok:
            raise argparse.ArgumentTypeError(
                f"must be a finite number {_interval(low, high, low_open, high_open)}, got {text!r}"
            )
        return value

    return parse
