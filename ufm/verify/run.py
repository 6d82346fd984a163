"""Running the check groups, and settling each result against its claim.

`GROUPS` names the check groups in the order they run. `run_group` runs one
and returns its results, each *settled*: tied to its claim in the registry
(`ufm.verify.claims`), with the default verdict its evidence implies:

* a ``theorem`` claim whose check is ``confirmed`` and carries no verdict of
  its own ``holds`` (on the problem checked);
* any claim whose check is ``contradicted`` is ``inconclusive``: the package
  disagrees with itself, so it cannot judge the paper;
* ``derived`` claims (the package's own results) carry no verdict;
* a check that was not carried out (``not_applicable``, ``skipped``) carries
  no verdict.

A group that raises is one ``contradicted`` result (``<group>.error``), never
a traceback.
"""

from __future__ import annotations

import dataclasses
import importlib
import time

from ufm.verify.claims import CLAIMS, claim_of_check
from ufm.verify.result import CheckResult, VERDICTS, failed


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    module: str
    title: str
    uses_problem: bool
    note: str = ""


_FIXED = ("fixed experiments, set up front: ignores --K --d --n --alpha --lam-W --lam-H --lam-b; "
          "honours --seed and --quick")

GROUPS: dict[str, Group] = {g.name: g for g in (
    Group("minimizer", "ufm.verify.groups.minimizer",
          "NC paper, Theorem 4.1: closed-form global minimizer (SymPy) against an L-BFGS solve (JAX)",
          True),
    Group("hessian", "ufm.verify.groups.hessian",
          "NC paper, Theorem 4.2: Hessian spectra and condition numbers at the minimizer (SymPy) "
          "against dense and Lanczos Hessians (JAX)", True),
    Group("lsr", "ufm.verify.groups.lsr",
          "TSLA paper, Lemma 1, Theorems 3-5, Table 1: SymPy bounds against JAX Monte Carlo on "
          "problems with known constants", False,
          "its own problems (a quadratic with exact constants, logistic regression): ignores "
          "--K --d --n --alpha --lam-W --lam-H --lam-b; honours --seed and --quick"),
    Group("dynamics", "ufm.verify.groups.dynamics",
          "NC paper, empirical: gradient-descent dynamics on the UFM (K=10, d=32, n=50)", False, _FIXED),
    Group("calibration", "ufm.verify.groups.calibration",
          "NC paper, empirical: calibration of a small MLP on scikit-learn's digits", False, _FIXED),
)}

_ORDER = {v: i for i, v in enumerate(("holds", "holds_under_conditions", "inconclusive",
                                      "not_reproduced", "false"))}


def settle(r: CheckResult) -> CheckResult:
    """Tie `r` to its claim and fill in the verdict its evidence implies."""
    claim = claim_of_check(r.id)
    if claim is None:
        if r.claim_id is None and r.status == "confirmed":
            r.contradict(f"check {r.id} bears on no registered claim")
        return r
    r.claim_id = claim.id
    r.source = claim.source
    if r.status == "contradicted":
        r.verdict = "inconclusive"
        r.verdict_reason = ("the package's derivation and measurement disagree here, so it "
                            "cannot judge the paper's claim")
    elif r.status != "confirmed" or claim.kind == "derived":
        r.verdict = None
    elif r.verdict is None:
        r.verdict = "holds" if claim.kind == "theorem" else "inconclusive"
        if claim.kind != "theorem":
            r.verdict_reason = r.verdict_reason or "the check gave no verdict on this empirical claim"
    return r


def claim_verdict(results: list[CheckResult]) -> str | None:
    """A claim's verdict: the most severe verdict among its checks
    (false > not_reproduced > inconclusive > holds_under_conditions > holds).

    >>> r = lambda v: CheckResult("x", "g", "c", "s", 0, 0, 0, 0, True, verdict=v)
    >>> claim_verdict([r("holds"), r("holds_under_conditions")])
    'holds_under_conditions'
    >>> claim_verdict([r(None)]) is None
    True
    """
    vs = [r.verdict for r in results if r.verdict is not None]
    assert all(v in VERDICTS for v in vs)
    return max(vs, key=_ORDER.__getitem__) if vs else None


def run_group(ctx, name: str) -> tuple[list[CheckResult], float]:
    """Run group `name` on `ctx`; its settled results and its wall time in seconds."""
    t0 = time.perf_counter()
    group = GROUPS[name]
    try:
        module = importlib.import_module(group.module)
        results = list(module.run(ctx))
    except Exception as exc:  # a crashing group is a contradicted check, not a traceback
        results = [failed(f"{name}.error", name, f"group {name} runs to completion", "ufm",
                          f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)]
    return [settle(r) for r in results], time.perf_counter() - t0


def run_groups(ctx, names: list[str], on_group=None) -> list[CheckResult]:
    """Run the groups in order; ``on_group(name, results, seconds)`` after each."""
    out: list[CheckResult] = []
    for name in names:
        results, seconds = run_group(ctx, name)
        if on_group is not None:
            on_group(name, results, seconds)
        out.extend(results)
    return out


def claims_checked(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    """Results grouped by claim id, in registry order (unregistered checks last, under None)."""
    by: dict = {cid: [] for cid in CLAIMS}
    for r in results:
        by.setdefault(r.claim_id, []).append(r)
    return {k: v for k, v in by.items() if v}
