"""One verified claim: `CheckResult`, and the helpers that build one.

Every check compares an *expected* value (derived symbolically) with an
*observed* one (measured numerically on the real objective) and states the
error, the tolerance and why that tolerance, and how long it took. A check
whose theorem does not apply (its assumptions fail) is reported as
``applicable=False`` with the reason instead of passing or failing.

>>> r = compare("demo.x", "demo", "x equals 1", "none", 1.0, 1.0 + 1e-12, 1e-9)
>>> r.passed, r.error < 1e-11
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np


@dataclasses.dataclass
class CheckResult:
    id: str
    group: str
    claim: str
    source: str
    expected: Any
    observed: Any
    error: float | None
    tolerance: float | None
    passed: bool
    applicable: bool = True
    seconds: float = 0.0
    details: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(self).items()}


def to_jsonable(x):
    """Numbers as numbers, arrays as lists; NaN/inf become strings, never NaN."""
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)) or (hasattr(x, "shape") and getattr(x, "shape", None) == ()):
        v = float(x)
        return v if math.isfinite(v) else str(v)  # JSON has no NaN; say so as text
    if hasattr(x, "tolist"):
        return to_jsonable(x.tolist())
    if x is None or isinstance(x, str):
        return x
    return str(x)


def compare(
    id: str,
    group: str,
    claim: str,
    source: str,
    expected: float,
    observed: float,
    tolerance: float,
    *,
    relative: bool = True,
    why_tolerance: str = "",
    details: dict | None = None,
    seconds: float = 0.0,
) -> CheckResult:
    """Scalar check. With ``relative=True`` the error is |o - e| / |e|
    (absolute where e == 0, and the details say so)."""
    expected, observed = float(expected), float(observed)
    details = dict(details or {})
    if relative and expected != 0.0:
        error = abs(observed - expected) / abs(expected)
        details["error_kind"] = "relative"
    else:
        error = abs(observed - expected)
        details["error_kind"] = "absolute"
    if why_tolerance:
        details["tolerance_reason"] = why_tolerance
    passed = bool(math.isfinite(error) and error <= tolerance)
    if not math.isfinite(observed):
        details["problem"] = "observed value is not finite"
    return CheckResult(id, group, claim, source, expected, observed, error, tolerance, passed,
                       True, seconds, details)


def not_applicable(id: str, group: str, claim: str, source: str, reason: str,
                   details: dict | None = None) -> CheckResult:
    d = dict(details or {})
    d["reason"] = reason
    return CheckResult(id, group, claim, source, None, None, None, None, False, False, 0.0, d)


def failed(id: str, group: str, claim: str, source: str, reason: str,
           details: dict | None = None, seconds: float = 0.0) -> CheckResult:
    """A check that could not be carried out counts as a failure, with why."""
    d = dict(details or {})
    d["reason"] = reason
    return CheckResult(id, group, claim, source, None, None, None, None, False, True, seconds, d)


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False
