"""Theorem 4.1's checks on your own variant: another loss, unbalanced classes, no bias.

The `minimizer` and `hessian` groups hand a non-standard problem (anything but
cross-entropy with balanced classes and a bias; `UFMProblem.standard`) to this
module. What applies depends on the variant:

* **Balanced, a permutation-symmetric loss with a SymPy form** (CE, focal,
  MSE, or a user loss that gives one): the symmetric reduction
  (`ufm.nc.losses.reduction`) turns the objective at the simplex-ETF ansatz
  into f(rho, beta); its minimizer, in closed form (CE, MSE) or certified to
  30 digits by interval arithmetic (focal), predicts the logit gap, p_t, the
  norms, the bias and the optimal value. These are the package's own
  derivations (``derived``). The solve from a random start is compared with
  them, NC1-NC3 are measured, and global optimality is certified by the
  convex reformulation where the loss is convex in the logits; with a
  non-convex loss (focal) several random starts must agree instead. The
  literature's claim that these losses collapse to a simplex ETF (Zhou et al.
  2022) is judged from NC1-NC3, the certificate and the starts.
* **Unbalanced classes**: no closed form; the solve is certified, NC1 is
  measured against 0 (features still collapse to their class means:
  Thrampoulidis et al. 2022), NC2 against the loss of the simplex ETF, and
  minority collapse (Fang et al. 2021) is measured on a sweep of the
  imbalance ratio.

Tolerances are those of the `minimizer` group (the same solve, stopped at
relative gradient 1e-10): 1e-6 on first-order quantities, 1e-10 on NC1 and
the objective (second order).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ufm.nc.metrics import nc1, nc2, nc3
from ufm.nc.minimizer.certificate import certifiable, certify
from ufm.nc.minimizer.solve import solve
from ufm.verify.context import VerifyContext
# the same solve and stopping rule as the paper's problem, so the same tolerances and reasons
from ufm.verify.groups.minimizer import (COLLAPSE_TOL, MULTISTART_SEEDS, SOLVE_RTOL, TOL_FIRST_ORDER,
                                         TOL_SECOND_ORDER, WHY_FIRST, WHY_SECOND)
from ufm.verify.result import CheckResult, Timer, compare, failed, not_applicable

GROUP = "minimizer"
SRC = "Zhou et al. (2022), Are All Losses Created Equal: A Neural Collapse Perspective"

CLAIMS = {
    "rho": "the logit gap rho of the reduced objective's minimizer",
    "p_target": "the target probability softmax(rho (e_k - 1/K) + beta 1)_k at the reduced minimizer",
    "w_norm_sq": "||w_k||^2 = (K-1)/K rho sqrt(n lam_H/lam_W) (minimal factorization)",
    "h_norm_sq": "||h_{k,i}||^2 = (K-1)/K rho sqrt(lam_W/(n lam_H)) (minimal factorization)",
    "bias": "the bias b = beta* 1 of the reduced minimizer",
    "objective": "the solve reaches the reduced objective's minimum value",
    "nc1": "features collapse to their class means: NC1 = 0",
    "nc2": "class means form a simplex ETF with W: NC2 = 0",
    "nc3": "classifier and class means are self-dual: NC3 = 0",
    "certificate": "the solve is a global minimizer (duality gap of the convex reformulation)",
    "multistart": "solves from several random starts reach the same objective value",
    "threshold": "the derived collapse threshold c_crit: a solve with c 0.1% below it keeps the "
                 "reduction's rho > 0, one with c 0.1% above it collapses to W H = 0",
}
THRESHOLD_DELTA = 1e-3  # c = c_crit (1 -/+ delta), by scaling lam_W and lam_H together


def check_id(key: str) -> str:
    return f"{GROUP}.variant.{key}"


def _claim(key: str) -> tuple[str, str]:
    return CLAIMS[key], SRC


def observed(problem, params) -> dict:
    """Quantities of a solve, read off raw (W, H, b) for any class sizes."""
    W, H, b = (np.asarray(a, dtype=np.float64) for a in params)
    K, sizes = problem.K, np.asarray(problem.sizes)
    y = np.repeat(np.arange(K), sizes)
    Z = W @ H + (b[:, None] if problem.bias else 0.0)
    Zbar = np.stack([Z[:, y == k].mean(axis=1) for k in range(K)], axis=1)  # logit j, class k
    target = np.trace(Zbar) / K
    P = np.exp(Z - Z.max(axis=0))
    P /= P.sum(axis=0)
    out = {"rho": float(target - (Zbar.sum() - np.trace(Zbar)) / (K * (K - 1))),
           "p_target": float(np.mean(P[y, np.arange(len(y))])),
           "w_norm_sq": float(np.mean(np.sum(W**2, axis=1))),
           "h_norm_sq": float(np.mean(np.sum(H**2, axis=0))),
           "bias_mean": float(np.mean(b)), "bias_centred_norm": float(np.linalg.norm(b - b.mean()))}
    for key, metric, args in (("nc1", nc1, (H,)), ("nc2", nc2, (W, H)), ("nc3", nc3, (W, H))):
        try:
            out[key] = float(metric(*args, K, y))
        except ValueError:  # 0/0 at W = H = 0
            out[key] = None
    return out


def run(ctx: VerifyContext) -> list[CheckResult]:
    """The minimizer checks for a non-standard problem."""
    p = ctx.problem
    if not p.etf_fits and p.balanced:
        reason = (f"d={p.d} < K-1={p.K - 1}: a K-point simplex ETF needs K-1 dimensions, so the "
                  "collapse results do not apply")
        return [not_applicable(check_id(k), GROUP, *_claim(k), reason) for k in CLAIMS]
    with Timer() as t:
        sol = ctx.solution()
    common = {"variant": p.describe(), "solve": sol.summary()}
    if not sol.converged:
        return [failed(check_id(k), GROUP, *_claim(k), f"numerical solve did not converge: {sol.reason}",
                       common, t.seconds) for k in CLAIMS]
    obs = observed(p, sol.params)
    out = _reduction_checks(ctx, sol, obs, common)
    collapse = _collapse_checks(p, obs, common)
    collapse += [_certificate_check(p, sol, common), _multistart_check(ctx, sol, common)]
    if not isinstance(p.loss, str):  # a user loss: the cited theorem does not cover it
        for r in collapse:
            r.verdict_reason = (f"extension: {p.loss_label} is not among the losses Zhou et al. (2022) "
                                "cover (CE, label smoothing, focal, MSE); the verdict is on this loss, here")
    out += collapse
    if not p.balanced:
        from ufm.verify.groups.imbalance import imbalance_checks

        out += imbalance_checks(ctx, sol, obs, common)
    return out


@functools.lru_cache(maxsize=32)
def reduction_prediction(p):
    """The reduced minimizer, or the reason the reduction does not apply.

    Memoized per problem (a frozen, hashable spec): the minimizer and hessian groups and the
    nullity check all ask for it, and a certified focal root costs ~0.1 s."""
    from ufm.nc.losses.reduction import is_permutation_symmetric, reduced_minimizer
    from ufm.nc.objective import problem_loss

    if not p.balanced:
        return None, ("unbalanced classes: the symmetric reduction needs every class to have the same "
                      "size, so there is no closed form here")
    why = absorbs_mean(p)
    if why:
        return None, why
    loss = problem_loss(p)
    if loss.symbolic is None:
        return None, (f"the loss {p.loss_label} has no SymPy form (Loss(symbolic=...)), so the "
                      "reduction cannot run; the solve, certificate and NC metrics still do")
    params = None
    if isinstance(p.loss, str):  # built-in: gamma stays a symbol, so one derivation serves every gamma
        import sympy as sp

        from ufm.nc.losses.sympy_forms import sympy_form

        sym = sympy_form(p.loss, gamma=sp.Symbol("gamma", nonnegative=True) if p.loss == "focal" else None)
        params = {"gamma": p.gamma} if p.loss == "focal" else None
    else:
        sym = (lambda x, y: loss.sympy(x, y))
        if not is_permutation_symmetric(sym, p.K):
            return None, (f"the loss {p.loss_label} is not symmetric under class permutations, so the "
                          "simplex-ETF ansatz of the reduction does not apply")
    bias = "none" if not p.bias else ("free" if p.lam_b == 0 else "penalized")
    lam_b = None if bias == "none" else p.lam_b
    return reduced_minimizer(sym, K=p.K, n=p.n, alpha=p.alpha, lam_W=p.lam_W, lam_H=p.lam_H,
                             lam_b=lam_b, bias=bias, name=p.loss_label, params=params), ""


def _reduction_checks(ctx, sol, obs, common) -> list[CheckResult]:
    p = ctx.problem
    keys = ("rho", "p_target", "w_norm_sq", "h_norm_sq", "bias", "objective", "threshold")
    with Timer() as t:
        red, why = reduction_prediction(p)
    if red is None:
        return [not_applicable(check_id(k), GROUP, *_claim(k), why, common) for k in keys]
    details = {**common, "reduction": {"method": red.method, "rho": getattr(red, "rho_str", None) or red.rho,
                                       "collapsed": red.collapsed, "threshold": red.threshold,
                                       "certificate": red.certificate}}
    seconds = t.seconds / (len(keys) - 1)
    out = []

    def add(key, expected, value, tol, why, relative=True, extra=None):
        out.append(compare(check_id(key), GROUP, *_claim(key), expected, value, tol, relative=relative,
                           why_tolerance=why, details={**details, **(extra or {})}, seconds=seconds))

    add("rho", red.rho, obs["rho"], TOL_FIRST_ORDER, WHY_FIRST)
    if p.loss != "mse" and (isinstance(p.loss, str) or p.loss.probabilistic):
        add("p_target", red.p_target, obs["p_target"], TOL_FIRST_ORDER, WHY_FIRST)
    else:
        out.append(not_applicable(check_id("p_target"), GROUP, *_claim("p_target"),
                                  f"the loss {p.loss_label} does not predict probabilities", common))
    add("w_norm_sq", red.w_norm_sq, obs["w_norm_sq"], TOL_FIRST_ORDER, WHY_FIRST)
    add("h_norm_sq", red.h_norm_sq, obs["h_norm_sq"], TOL_FIRST_ORDER, WHY_FIRST)
    if not p.bias:
        out.append(not_applicable(check_id("bias"), GROUP, *_claim("bias"), "no bias in the model", common))
    elif p.lam_b == 0 and red.method != "collapsed" and _shift_invariant(p):
        add("bias", 0.0, obs["bias_centred_norm"], TOL_FIRST_ORDER, WHY_FIRST + " (absolute, on ||b - mean b||)",
            relative=False, extra={"measured": "||b - mean(b) 1||: a free bias is undetermined along 1"})
    else:
        err = math.hypot(obs["bias_mean"] - red.beta, obs["bias_centred_norm"] / math.sqrt(p.K))
        add("bias", 0.0, err, TOL_FIRST_ORDER, WHY_FIRST + " (absolute, on ||b - beta* 1||/sqrt K)",
            relative=False, extra={"beta_expected": red.beta, "bias_mean": obs["bias_mean"]})
    add("objective", red.objective, sol.objective, TOL_SECOND_ORDER, WHY_SECOND)
    out.append(_threshold_check(ctx, red, details))
    return out


def _threshold_check(ctx, red, details) -> CheckResult:
    """Certify the derived threshold from both sides: c = c_crit (1 -/+ THRESHOLD_DELTA)."""
    p = ctx.problem
    key = "threshold"
    if not math.isfinite(red.c_crit):
        return not_applicable(check_id(key), GROUP, *_claim(key),
                              "no closed-form threshold: g(0+) is not affine in c", details)
    with Timer() as t:
        rows = {}
        for side, sign in (("below", -1), ("above", 1)):
            s = red.c_crit * (1 + sign * THRESHOLD_DELTA) / p.c  # c scales with the lambdas' common factor
            q = p.replace(lam_W=p.lam_W * s, lam_H=p.lam_H * s)
            sol = solve(q, seed=ctx.seed)
            q_red, _ = reduction_prediction(q)
            W, H = np.asarray(sol.params.W), np.asarray(sol.params.H)
            rows[side] = {"c": q.c, "lam_W": q.lam_W, "lam_H": q.lam_H, "converged": sol.converged,
                          "norm_WH": float(np.linalg.norm(W @ H)), "rho_observed": observed(q, sol.params)["rho"],
                          "rho_reduction": q_red.rho, "collapsed_reduction": q_red.collapsed}
    lo, hi = rows["below"], rows["above"]
    rel = abs(lo["rho_observed"] - lo["rho_reduction"]) / max(lo["rho_reduction"], 1e-300)
    ok = (lo["converged"] and hi["converged"] and not lo["collapsed_reduction"] and hi["collapsed_reduction"]
          and lo["norm_WH"] > 1e3 * COLLAPSE_TOL and rel <= 1e-3 and hi["norm_WH"] <= COLLAPSE_TOL)
    r = CheckResult(check_id(key), GROUP, *_claim(key), lo["rho_reduction"], lo["rho_observed"], rel, 1e-3,
                    bool(ok), True,
                    t.seconds, {**details, "c_crit": red.c_crit, "sides": rows,
                                "tolerance_reason": "near the threshold rho is O(delta) and the solve's "
                                                    "relative accuracy degrades with the curvature; 1e-3 on "
                                                    "rho below, ||W H|| <= 1e-8 above"},
                    error_kind="relative error of rho just below the threshold")
    if not ok:
        r.details["reason"] = f"below: {lo}; above: {hi}"
    return r


def absorbs_mean(p) -> str:
    """Why the simplex-ETF ansatz misses the minimizer without a bias, or ''.

    Without a bias, a loss that is not shift invariant (MSE) wants a mean logit along 1; with
    d >= K the product W H can carry it (rank K), which the ansatz (rows of W summing to 0)
    excludes (and with d = K-1 the minimizer bends away from the ETF instead). Tirer and Bruna (2022, Extended unconstrained features model) find an orthogonal
    frame instead of a simplex ETF for MSE without a bias.
    """
    if p.bias or _shift_invariant(p):
        return ""
    return (f"no bias and a loss ({p.loss_label}) that is not shift invariant: the minimizer carries "
            "the mean target through W H, outside the simplex-ETF ansatz and outside the cited "
            "theorem's setting (Tirer & Bruna 2022 find an orthogonal frame for MSE without a bias)")


def _shift_invariant(p) -> bool:
    from ufm.nc.objective import problem_loss

    return problem_loss(p).shift_invariant(p.K)


def _collapse_checks(p, obs, common) -> list[CheckResult]:
    if not p.balanced:
        return []  # the imbalance module judges NC1 and the ETF for unbalanced data
    out = []
    why = absorbs_mean(p)
    if why:
        out += [not_applicable(check_id(k), GROUP, *_claim(k), why, {**common, "observed": obs[k]})
                for k in ("nc2", "nc3")]
        out.append(compare(check_id("nc1"), GROUP, *_claim("nc1"), 0.0, obs["nc1"], TOL_SECOND_ORDER,
                           relative=False, why_tolerance=WHY_SECOND + " (absolute)", details=common))
        return out
    for key, tol, why in (("nc1", TOL_SECOND_ORDER, WHY_SECOND), ("nc2", TOL_FIRST_ORDER, WHY_FIRST),
                          ("nc3", TOL_FIRST_ORDER, WHY_FIRST)):
        if obs[key] is None:
            out.append(not_applicable(check_id(key), GROUP, *_claim(key),
                                      "the solve is collapsed (W H = 0): NC metrics are 0/0", common))
        else:
            out.append(compare(check_id(key), GROUP, *_claim(key), 0.0, obs[key], tol, relative=False,
                               why_tolerance=why + " (absolute)", details=common))
    return out


def _certificate_check(p, sol, common) -> CheckResult:
    why = certifiable(p)
    if why:
        return not_applicable(check_id("certificate"), GROUP, *_claim("certificate"),
                              f"{why}; global optimality rests on the random starts instead", common)
    with Timer() as t:
        cert = certify(p, sol.params)
        bound = cert.bound(SOLVE_RTOL * sol.grad_norm0)
    ok = bool(cert.dual_feasible and math.isfinite(cert.gap) and cert.gap <= bound)
    details = {**common, "certificate": cert.summary(), "bound": bound,
               "error_kind": "certified upper bound on F - F*",
               "tolerance_reason": "weak duality of the convex reformulation in the logits; bound tied "
                                   "to the solve's stopping tolerance as in minimizer.certificate"}
    r = CheckResult(check_id("certificate"), GROUP, *_claim("certificate"), 0.0, cert.gap, cert.gap, bound,
                    ok, True, t.seconds, details)
    if not ok:
        r.details["reason"] = f"duality gap {cert.gap:.3g} exceeds the bound {bound:.3g}: not certified"
    return r


def _multistart_check(ctx, sol0, common) -> CheckResult:
    p = ctx.problem
    with Timer() as t:
        runs = [sol0] + [solve(p, seed=ctx.seed + k) for k in range(1, MULTISTART_SEEDS + 1)]
    F = [s.objective for s in runs]
    spread = (max(F) - min(F)) / max(abs(F[0]), 1e-300)
    ok = all(s.converged for s in runs) and spread <= TOL_SECOND_ORDER
    details = {**common, "objectives": F, "seeds": [ctx.seed + k for k in range(len(runs))],
               "error_kind": "relative spread of the objective over the starts",
               "tolerance_reason": WHY_SECOND}
    r = CheckResult(check_id("multistart"), GROUP, *_claim("multistart"), 0.0, spread, spread,
                    TOL_SECOND_ORDER, ok, True, t.seconds, details)
    if not ok:
        r.details["reason"] = f"objective spread {spread:.3g} over {len(runs)} starts"
    return r
