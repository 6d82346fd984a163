"""Roots of monotone scalar functions by bisection, to float64 resolution.

Used where a derived quantity is monotone in one parameter (the collapse
threshold in alpha or in the weight-decay scale, the turning point of the full
Hessian reading's condition number in alpha): bisection needs no derivative,
cannot step outside the bracket, and stops when no float is left between the
ends, so its answer is the float root up to one unit in the last place.

>>> round(bisect(lambda x: x**3 - 2.0, 0.0, 2.0), 12)  # 2^(1/3)
1.259921049895
"""

from __future__ import annotations

from typing import Callable


def bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """The root of an increasing f on [lo, hi], with f(lo) < 0 <= f(hi).

    Halves [lo, hi] until no float lies strictly between the ends: the ends are
    then adjacent floats, and the midpoint returned is one of them. A
    decreasing f is passed as ``lambda x: -f(x)``. A NaN value counts as
    non-negative (the root is taken to lie below it).

    >>> bisect(lambda x: x - 0.25, 0.0, 1.0)
    0.25
    """
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:  # no float left strictly between the ends
            return mid
        lo, hi = (mid, hi) if f(mid) < 0.0 else (lo, mid)
