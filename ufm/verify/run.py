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
    Group("instruments", "ufm.verify.groups.instruments",
          "instruments checked before use: NC metrics, ECE, UCB coverage, dense and Lanczos Hessians, "
          "the TSLA problems' constants, the moment recursion and the solver's flag, each against a "
          "known answer", False,
          "its own configurations with known answers: ignores --K --d --n --alpha --lam-W --lam-H "
          "--lam-b; honours --seed"),
    Group("minimizer", "ufm.verify.groups.minimizer",
          "NC paper, Theorem 4.1: closed-form global minimizer (SymPy) against an L-BFGS solve (JAX); "
          "for another loss, unbalanced classes or no bias, the variant's reduction, certificate and "
          "the literature's claims",
          True),
    Group("hessian", "ufm.verify.groups.hessian",
          "NC paper, Theorem 4.2: Hessian spectra and condition numbers at the minimizer (SymPy) "
          "against dense and Lanczos Hessians (JAX); for a variant, Theorem 4.2's structure with the "
          "loss's own Hessian", True),
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


def side_problems(problem, quick: bool = False) -> list[tuple[str, object]]:
    """Problems the theorem groups also run on, beside the user's: the cases
    where a wrong threshold, a K = 2 special case or a d = K-1 edge would show.

    * ``K=2``: K = 2, d = 2 (the paper's d >= K), n = 2;
    * ``d=K-1``: the user's K with d = K - 1 (the room a simplex ETF needs);
    * ``near threshold``: the user's problem with alpha 0.01 below the
      collapse threshold alpha + K c = 1 (skipped when that alpha < 0).

    ``quick`` keeps the first only. Cases equal to the user's problem are dropped.

    >>> from ufm.nc.problem import UFMProblem
    >>> [label for label, _ in side_problems(UFMProblem(K=4, d=5, n=3, alpha=0.1))]
    ['K=2', 'd=K-1', 'near threshold']
    """
    p = problem
    if not p.balanced:  # unbalanced: the sizes are the user's point; no side problem of theirs
        return []
    out = [("K=2", p.replace(K=2, d=2, n=2))]
    if not quick:
        if p.K >= 3:
            out.append(("d=K-1", p.replace(d=p.K - 1)))
        alpha = 1.0 - p.K * p.c - 0.01
        if alpha >= 0 and p.loss == "ce":  # alpha + K c = 1 is the cross-entropy threshold
            out.append(("near threshold", p.replace(alpha=alpha)))
    return [(label, q) for label, q in out if q != p]


def run_groups(ctx, names: list[str], on_group=None, side: bool = False) -> list[CheckResult]:
    """Run the groups in order; ``on_group(name, results, seconds)`` after each.

    With `side`, each group that uses the problem runs again on
    `side_problems` (one context per side problem, shared across groups, so
    a solve is reused); those results' ids carry the problem's label, e.g.
    ``minimizer.rho[K=2]``, and their details the problem itself."""
    out: list[CheckResult] = []
    sides = ([(label, dataclasses.replace(ctx, problem=q, cache={}))
              for label, q in side_problems(ctx.problem, ctx.quick)] if side else [])
    for name in names:
        runs = [("", ctx)] + (sides if GROUPS[name].uses_problem else [])
        for label, c in runs:
            results, seconds = run_group(c, name)
            if label:
                for r in results:
                    r.id = f"{r.id}[{label}]"
                    r.details["problem"] = c.problem.as_dict()
            if on_group is not None:
                on_group(f"{name} [{label}]" if label else name, results, seconds)
            out.extend(results)
    return out


def claims_checked(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    """Results grouped by claim id, in registry order (unregistered checks last, under None)."""
    by: dict = {cid: [] for cid in CLAIMS}
    for r in results:
        by.setdefault(r.claim_id, []).append(r)
    return {k: v for k, v in by.items() if v}
