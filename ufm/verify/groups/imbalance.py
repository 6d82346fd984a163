"""The literature's claims on the UFM with unbalanced classes, measured on certified solves.

* NC1 still vanishes: at the global minimizer the features of each class
  collapse to their class mean, whatever the class sizes (Thrampoulidis et
  al. 2022, "Imbalance Trouble: Revisiting Neural-Collapse Geometry").
* The simplex ETF is lost: the class means and classifiers take another
  geometry (their "SELI"), so NC2 > 0.
* Minority collapse (Fang et al. 2021, "Exploring Deep Neural Networks via
  Layer-Peeled Model: Minority Collapse in Imbalanced Training", PNAS): as
  the imbalance ratio R = n_major / n_minor grows, the angle between the
  minority classes' classifiers shrinks, and beyond a finite R they collapse
  onto one direction. Fang et al. state it for norm-constrained features and
  classifiers; it is read here on the regularized UFM (weight decay, as in
  Hong and Ling 2023), on a sweep: the majority classes (the largest size in
  the user's `class_sizes`) get R samples, the others 1, everything else as
  the user's problem.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ufm.nc.minimizer.certificate import certifiable, certify
from ufm.nc.minimizer.solve import solve
from ufm.verify.groups.minimizer import SOLVE_RTOL
from ufm.verify.result import CheckResult, Timer, compare, empirical, failed, not_applicable

GROUP = "minimizer"
RATIOS = (1, 4, 16, 64, 256, 1024)
RATIOS_QUICK = (1, 16, 256)
COLLAPSED_SPREAD = 1e-6  # max ||w_i - w_j|| over minority pairs / mean ||w_major||: the solve's accuracy
ETF_LOST = 1e-3  # NC2 above 1e3 times the first-order tolerance: not a simplex ETF

CLAIMS = {
    "nc1": ("features collapse to their class means with unbalanced classes: NC1 = 0",
            "Thrampoulidis et al. (2022), Imbalance Trouble"),
    "etf_lost": ("with unbalanced classes the class means and classifiers are not a simplex ETF: NC2 > 0",
                 "Thrampoulidis et al. (2022), Imbalance Trouble"),
    "minority_collapse": ("the angle between minority classifiers shrinks as the imbalance ratio grows, "
                          "and they collapse beyond a finite ratio",
                          "Fang et al. (2021), PNAS, minority collapse"),
}


def check_id(key: str) -> str:
    return f"{GROUP}.imbalance.{key}"


def imbalance_checks(ctx, sol, obs, common) -> list[CheckResult]:
    """NC1, the lost ETF, and the minority-collapse sweep, for an unbalanced problem."""
    out = []
    if obs["nc1"] is None:
        out.append(not_applicable(check_id("nc1"), GROUP, *CLAIMS["nc1"], "collapsed solve: NC1 is 0/0", common))
    else:
        out.append(compare(check_id("nc1"), GROUP, *CLAIMS["nc1"], 0.0, obs["nc1"], 1e-10, relative=False,
                           why_tolerance="second order in the distance to the minimizer: (1e-5)^2",
                           details=common))
    if obs["nc2"] is None:
        out.append(not_applicable(check_id("etf_lost"), GROUP, *CLAIMS["etf_lost"],
                                  "collapsed solve: NC2 is 0/0", common))
    else:
        r = compare(check_id("etf_lost"), GROUP, *CLAIMS["etf_lost"], ETF_LOST, obs["nc2"], 0.0,
                    relative=False, details=common,
                    why_tolerance=f"NC2 > {ETF_LOST:g}, 1000 times the first-order accuracy of the solve")
        out.append(empirical(r, obs["nc2"] > ETF_LOST, f"NC2 = {obs['nc2']:.4g} (threshold {ETF_LOST:g})"))
    out.append(minority_collapse(ctx, common))
    return out


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    ratio: int
    cosine: float | None  # mean pairwise cosine of the minority classifiers (None once they vanish)
    spread: float  # max pairwise ||w_i - w_j|| of minority classifiers / mean ||w_major||
    norm_ratio: float  # mean ||w_minor|| / mean ||w_major||
    objective: float
    certified: bool | None  # None where the loss cannot be certified
    converged: bool


def sweep(problem, ratios, seed: int = 0) -> list[SweepPoint]:
    """Solve the problem with majority classes of R samples and minority classes of 1."""
    sizes = np.asarray(problem.sizes)
    major = sizes == sizes.max()
    out = []
    for R in ratios:
        q = problem.replace(n=None, class_sizes=tuple(int(R) if m else 1 for m in major))
        s = solve(q, seed=seed)
        W = np.asarray(s.params.W)
        norms = np.linalg.norm(W, axis=1)
        Wm = W[~major] / np.maximum(norms[~major], 1e-300)[:, None]
        G = Wm @ Wm.T
        iu = np.triu_indices(len(Wm), 1)
        cert_ok = None
        if not certifiable(q):
            c = certify(q, s.params)
            cert_ok = bool(c.dual_feasible and c.gap <= c.bound(SOLVE_RTOL * s.grad_norm0))
        scale = norms[major].mean()
        Wmin = W[~major]
        spread = max(float(np.linalg.norm(Wmin[i] - Wmin[j])) for i, j in zip(*iu)) / scale
        ratio = float(norms[~major].mean() / scale)
        cosine = float(np.mean(G[iu])) if ratio > 1e-8 else None  # a direction needs a non-zero vector
        out.append(SweepPoint(int(R), cosine, spread, ratio, s.objective, cert_ok, s.converged))
    return out


def minority_collapse(ctx, common) -> CheckResult:
    p = ctx.problem
    key = "minority_collapse"
    n_minor = int(np.sum(np.asarray(p.sizes) < max(p.sizes)))
    if n_minor < 2:
        return not_applicable(check_id(key), GROUP, *CLAIMS[key],
                              f"{n_minor} minority class(es): an angle between minority classifiers needs two",
                              common)
    ratios = RATIOS_QUICK if ctx.quick else RATIOS
    ctx.progress(f"minority collapse: {len(ratios)} certified solves, imbalance ratios {list(ratios)}")
    with Timer() as t:
        pts = sweep(p, ratios, ctx.seed)
    rows = [dataclasses.asdict(x) for x in pts]
    details = {**common, "sweep": rows, "collapsed_spread": COLLAPSED_SPREAD,
               "reading": "regularized UFM (weight decay), majority classes R samples, minority 1"}
    bad = [x.ratio for x in pts if not x.converged or x.certified is False]
    if bad:
        return failed(check_id(key), GROUP, *CLAIMS[key], f"sweep solves at R={bad} not converged/certified",
                      details, t.seconds)
    spread = [x.spread for x in pts]
    # the angle shrinks and the norms fall together, so the distance between minority classifiers
    # falls; it reaches 0 when they coincide (same direction and norm, or both 0)
    monotone = all(b <= a * (1 + 1e-9) + COLLAPSED_SPREAD for a, b in zip(spread, spread[1:]))
    collapsed = [x.ratio for x in pts if x.spread <= COLLAPSED_SPREAD]
    r = compare(check_id(key), GROUP, *CLAIMS[key], COLLAPSED_SPREAD, spread[-1], 0.0, relative=False,
                details=details, seconds=t.seconds,
                why_tolerance="collapsed when max ||w_i - w_j|| over minority pairs <= "
                              f"{COLLAPSED_SPREAD:g} mean ||w_major|| (the solve's first-order accuracy)")
    cos = lambda x: "0 (vanished)" if x.cosine is None else f"{x.cosine:.4f}"  # noqa: E731
    effect = ("minority classifiers over R = " + ", ".join(
        f"{x.ratio}: cos {cos(x)}, distance {x.spread:.2g}" for x in pts)
        + (f"; collapsed from R = {collapsed[0]}" if collapsed else "; no collapse within the sweep"))
    r = empirical(r, monotone and bool(collapsed), effect)
    if monotone and not collapsed:
        r.verdict = "holds_under_conditions"
        r.verdict_reason = effect + " (the angle shrinks; collapse needs a larger ratio at these lambdas)"
    return r
