"""One check of one claim: `CheckResult`, with its two answers.

Every check compares an *expected* value (derived symbolically) with an
*observed* one (measured numerically on the real objective) and states the
error (and what kind of error), the tolerance and why that tolerance, and how
long it took. It then gives two answers that never share a word:

* **evidence** (`status`): do the package's derivation and its independent
  measurement agree? One of `EVIDENCE`: ``confirmed``, ``contradicted`` (they
  disagree, a derivation step failed, or a solve the check needs did not
  converge), ``not_applicable`` (the theorem's assumptions fail, with the
  reason) or ``skipped`` (a limit of the tool: size, accuracy, a missing
  optional package, with the reason);
* **verdict**: what that means for the paper's claim. One of `VERDICTS`:
  ``holds``, ``holds_under_conditions`` (the conditions named in
  ``verdict_reason``), ``false`` (with the counterexample), ``not_reproduced``
  (empirical claims, with the effect size and its uncertainty) or
  ``inconclusive``; ``None`` for the package's own results and for checks
  that were not carried out.

The exit code of ``python -m ufm.verify`` follows the evidence only: a
package that correctly shows a paper wrong has done its job.

>>> r = compare("demo.x", "demo", "x equals 1", "none", 1.0, 1.0 + 1e-12, 1e-9)
>>> r.passed, r.status, r.error < 1e-11
(True, 'confirmed', True)
>>> compare("demo.x", "demo", "x equals 1", "none", 1.0, 1.1, 1e-9).status
'contradicted'
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np


EVIDENCE = ("confirmed", "contradicted", "not_applicable", "skipped")
VERDICTS = ("holds", "holds_under_conditions", "false", "not_reproduced", "inconclusive")


@dataclasses.dataclass
class CheckResult:
    """One check. `passed` and `applicable` are kept for the JSON record's
    readers; `status` (evidence) and `verdict` are the two answers.

    Where `status` is not given it follows from `passed` and `applicable`
    (confirmed / contradicted / not_applicable). `error_kind` says what
    `error` measures (``relative``, ``absolute``, ``UCB/bound``, ...)."""

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
    claim_id: str | None = None
    status: str | None = None
    verdict: str | None = None
    verdict_reason: str = ""
    error_kind: str | None = None

    def __post_init__(self):
        if self.status is None:
            self.status = ("not_applicable" if not self.applicable
                           else "confirmed" if self.passed else "contradicted")
        if self.status not in EVIDENCE:
            raise ValueError(f"status={self.status!r} is not known; allowed: {', '.join(EVIDENCE)}")
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r} is not known; allowed: {', '.join(VERDICTS)} or None")
        # keep the legacy booleans consistent with the evidence
        self.passed = self.status == "confirmed"
        self.applicable = self.status in ("confirmed", "contradicted")
        if self.error_kind is None:
            self.error_kind = self.details.get("error_kind")

    def contradict(self, reason: str) -> "CheckResult":
        """Mark the evidence contradicted (a failed step, a bad solve), with why."""
        self.status, self.passed, self.applicable = "contradicted", False, True
        self.details.setdefault("reason", reason)
        return self

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
    """The theorem's assumptions fail here: nothing to confirm, with why."""
    d = dict(details or {})
    d["reason"] = reason
    return CheckResult(id, group, claim, source, None, None, None, None, False, False, 0.0, d,
                       status="not_applicable")


def skipped(id: str, group: str, claim: str, source: str, reason: str,
            details: dict | None = None) -> CheckResult:
    """A limit of the tool (size, accuracy, a missing optional package), with why."""
    d = dict(details or {})
    d["reason"] = reason
    return CheckResult(id, group, claim, source, None, None, None, None, False, False, 0.0, d,
                       status="skipped")


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


def empirical(r: CheckResult, reproduced: bool, effect: str = "") -> CheckResult:
    """Turn a measured comparison into an empirical claim's two answers.

    The evidence is ``confirmed`` when the experiment ran and its numbers are
    finite (the measurement stands), ``contradicted`` otherwise. The verdict
    is ``holds`` when the paper's finding is reproduced and ``not_reproduced``
    otherwise, with `effect` (the effect size and its uncertainty) as the
    reason. `expected`/`observed` keep the criterion and the measured value;
    `error`/`tolerance` are dropped, because here they are the verdict's
    criterion, not an agreement between derivation and measurement.

    >>> r = compare("e.x", "e", "a finding", "none", 0.0, 3.0, 0.0, relative=False)
    >>> e = empirical(r, reproduced=False, effect="3 slower pairs")
    >>> e.status, e.verdict, e.verdict_reason
    ('confirmed', 'not_reproduced', '3 slower pairs')
    """
    finite = r.observed is None or not isinstance(r.observed, float) or math.isfinite(r.observed)
    r.details["criterion"] = {"expected": r.expected, "tolerance": r.tolerance,
                              "why": r.details.pop("tolerance_reason", "")}
    r.error = r.tolerance = None
    r.error_kind = None
    if not finite:
        return r.contradict("the measurement is not finite")
    r.status, r.passed, r.applicable = "confirmed", True, True
    r.verdict = "holds" if reproduced else "not_reproduced"
    r.verdict_reason = effect
    return r
