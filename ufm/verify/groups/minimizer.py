"""Check group `minimizer`: Theorem 4.1 and eq. (13)-(14) of the NC paper.

*Expected* values come from the SymPy derivation (`ufm.nc.minimizer.derivation`),
*observed* values from the L-BFGS solution of the real objective from a
random start (`ufm.nc.minimizer.solve`). Nothing observed assumes the structure it tests:
rho is read off the class-mean logits, norms are averaged over rows/columns,
NC metrics are computed from the raw W and H.

Tolerances. The solve stops at ||grad F|| <= 1e-10 ||grad F(x0)||. To first
order the distance to the set of minimizers is ||grad F|| / mu, with mu the
smallest non-zero Hessian eigenvalue at the minimizer, and mu >= O(min lambda)
because the regularizer adds lambda to the curvature along the norms; with
lambda >= 1e-5 and ||grad F(x0)|| = O(1e-1) at the default start this gives
parameter errors <= 1e-6 relative, which bounds the error of the smooth
quantities rho, p_t, ||w||^2, ||h||^2 and of the first-order metrics NC2,
NC3. NC1 and the objective are second order in that distance (NC1 is a
ratio of squared within-class to between-class spread; the objective is
stationary), so their tolerance is the square, 1e-10 (1e-12 on the
objective's relative error would be within reach, 1e-10 leaves margin).

Each check's details also carry the a-posteriori estimate behind that
argument, `parameter_error_estimate` = ||grad F|| / (mu ||x*||), with mu the
smallest non-zero eigenvalue of the joint Hessian from the closed-form
spectrum (`ufm.nc.hessian.derivation.joint_spectrum`). It is enforced: an
estimate above the first-order tolerance contradicts the checks, and so does
any derivation step SymPy did not confirm.

Global optimality is certified, not assumed (`ufm.nc.minimizer.certificate`).
The UFM is bounded below by a convex problem in the logits (nuclear norm
plus bias), whose Fenchel dual at the scaled logit gradient gives a duality
gap F - D >= F - F*. `minimizer.certificate` requires that gap within a bound
tied to the solve's stopping tolerance; when it fails, every other check of
the group is contradicted (agreement with the closed form is then not
evidence of a *global* minimizer). `minimizer.multistart` solves from
MULTISTART_SEEDS more random starts, each certified, and bounds the spread
of the objective and of rho. `minimizer.threshold` takes the collapse
threshold alpha + K c >= 1 from the certificate at Z = 0 (derived in SymPy),
and confirms it with certified solves at +-5e-4 around it.
"""

from __future__ import annotations

import math

import numpy as np

from ufm.core.roots import bisect  # not scipy.optimize: its import alone takes 0.3 s
from ufm.verify.result import CheckResult, Timer, compare, failed, not_applicable, skipped
from ufm.verify.context import VerifyContext
from ufm.nc.metrics import nc1, nc2, nc3
from ufm.nc.minimizer.derivation import SOURCE, closed_form, minimizer_derivation
from ufm.nc.minimizer.certificate import (certificate_derivation, certify, threshold,
                                         zero_params)
from ufm.nc.minimizer.solve import solve

GROUP = "minimizer"
DESCRIPTION = "Theorem 4.1: closed-form global minimizer (SymPy) against an L-BFGS solve (JAX)"

TOL_FIRST_ORDER = 1e-6
TOL_SECOND_ORDER = 1e-10
WHY_FIRST = ("solve stops at relative gradient 1e-10; first-order error <= ||g||/mu "
             "with mu >= O(min lambda) bounds the relative error by 1e-6")
WHY_SECOND = "second order in the distance to the minimizer set: (1e-5)^2 = 1e-10"

CLAIMS = {
    "rho": ("logit gap rho = log(K/(alpha+Kc) - (K-1)), c = sqrt(n lam_W lam_H); 0 when alpha+Kc >= 1",
            "Theorem 4.1"),
    "p_target": ("target probability p_t = 1 - (K-1)(alpha/K + c)", "eq. (13)-(14)"),
    "w_norm_sq": ("||w_k||^2 = (K-1)/K rho sqrt(n lam_H/lam_W)", "Theorem 4.1"),
    "h_norm_sq": ("||h_{k,i}||^2 = (K-1)/K rho sqrt(lam_W/(n lam_H))", "Theorem 4.1"),
    "bias": ("b* = 0 (lam_b > 0); b* in span(1) when lam_b = 0", "Theorem 4.1"),
    "nc1": ("features collapse to their class means: NC1 = 0", "Theorem 4.1, eq. (4)"),
    "nc2": ("class means form a simplex ETF with W: NC2 = 0", "Theorem 4.1, eq. (5)"),
    "nc3": ("classifier and class means are self-dual: NC3 = 0", "Theorem 4.1, eq. (6)"),
    "objective": ("the solve reaches the closed-form optimal value", "Theorem 4.1, eq. (9)-(10)"),
    "certificate": ("the solve is a global minimizer: duality gap of the convex reformulation "
                    "in the logits (nuclear norm + bias) within the bound tied to the solve tolerance",
                    "eq. (9)-(10), Theorem 4.1"),
    "multistart": ("solves from several random starts reach the same objective value and logit gap",
                   "Theorem 4.1, eq. (9)-(10)"),
    "threshold": ("the minimizer is 0 iff alpha + K c >= 1: the optimality condition at Z = 0, "
                  "confirmed by certified solves just below and just above the threshold",
                  "Theorem 4.1"),
}

# The certificate (`ufm.nc.minimizer.certificate`): gap = F - D >= F - F* is rigorous; the
# acceptance bound B is tied to the solve's stopping rule ||grad F|| <= eps = rtol ||grad F(x0)||.
SOLVE_RTOL = 1e-10
WHY_CERT = ("gap = F(W,H,b) - D(s G) >= F - F* (weak duality of the convex reformulation, "
            "D at the scaled logit gradient); bound B = 2 eps (||x|| + 1) + eps^2/lam_b + float64 "
            "floor, eps = 1e-10 ||grad F(x0)|| the solve's stopping tolerance: at s = 1 the gap is "
            "exactly 1/2 <grad F, x> + ||grad_b F||^2/(2 lam_b) <= eps ||x||/2 + eps^2/(2 lam_b), "
            "the rest budgets the dual scaling s = min(1, tau/||G||_2)")
MULTISTART_SEEDS = 3  # extra random starts, beyond the main solve
THRESHOLD_DELTA = 5e-4  # solve at threshold -/+ delta: both within 1e-3 of it
WHY_THRESHOLD = ("the crossing of the measured ||G(0)||_2/tau = 1 (linear in alpha, or in 1/lambda "
                 "scale), interpolated between the two bracketing problems, against the root of the "
                 "derived threshold: agreement to 1e-6 (the interpolation is exact up to rounding)")
COLLAPSE_TOL = 1e-8  # ||W H||_F of a solve that has collapsed to 0


def observed_quantities(W, H, b, K: int) -> dict:
    """Measure the minimizer's quantities from raw (W, H, b), no structure assumed.

    Host-side float64 NumPy: a handful of reductions, not worth a device program each."""
    Wn, Hn, bn = (np.asarray(a, dtype=np.float64) for a in (W, H, b))
    N = Hn.shape[1]
    n = N // K
    Z = Wn @ Hn + bn[:, None]
    Zbar = Z.reshape(K, K, n).mean(axis=2)  # Zbar[j, k]: logit j, averaged over class k
    target = np.trace(Zbar) / K
    nontarget = (np.sum(Zbar) - np.trace(Zbar)) / (K * (K - 1))
    P = np.exp(Z - np.max(Z, axis=0))
    P = P / P.sum(axis=0)
    y = np.repeat(np.arange(K), n)
    return {
        "rho": float(target - nontarget),
        "p_target": float(np.mean(P[y, np.arange(N)])),
        "w_norm_sq": float(np.mean(np.sum(Wn**2, axis=1))),
        "h_norm_sq": float(np.mean(np.sum(Hn**2, axis=0))),
        "bias_norm": float(np.linalg.norm(bn)),
        "bias_centred_norm": float(np.linalg.norm(bn - np.mean(bn))),
        "nc1": _defined(nc1, H, K),
        "nc2": _defined(nc2, W, H, K),
        "nc3": _defined(nc3, W, H, K),
    }


def _defined(metric, *args):
    """The metric's value, or None where it is 0/0 (e.g. W = H = 0 exactly)."""
    try:
        return float(metric(*args))
    except ValueError:
        return None


def _error_estimate(p, exp, grad_norm) -> dict:
    """||grad F|| / (mu ||x*||): first-order relative distance to the minimizer set."""
    from ufm.nc.hessian.derivation import joint_spectrum  # heavier derivation: import on use

    spectrum = joint_spectrum(p)
    lmax = max(v for v, _ in spectrum)
    # the null space (rotations, bias along 1 when lam_b = 0) is exactly 0 in
    # the closed form; 1e-9 lambda_max separates it from the rest
    mu = min(v for v, _ in spectrum if v > 1e-9 * lmax)
    x_norm = (p.K * exp["w_norm_sq"] + p.N * exp["h_norm_sq"]) ** 0.5
    return {"smallest_nonzero_hessian_eigenvalue": mu,
            "parameter_error_estimate": grad_norm / (mu * x_norm)}


def run(ctx: VerifyContext) -> list[CheckResult]:
    p = ctx.problem
    if not p.standard:  # another loss, unbalanced classes or no bias: the variant's checks
        from ufm.verify.groups import variant

        return variant.run(ctx)
    ids = [f"{GROUP}.{k}" for k in CLAIMS]

    def claim(key):
        text, eq = CLAIMS[key]
        return text, f"{SOURCE.split(',')[0]}, {eq}"

    if not p.etf_fits:
        reason = (f"d={p.d} < K-1={p.K - 1}: a K-point simplex ETF needs K-1 dimensions, so "
                  "Theorem 4.1's minimizer cannot be realised and the theorem does not apply")
        return [not_applicable(i, GROUP, *claim(k), reason) for i, k in zip(ids, CLAIMS)]

    with Timer() as t_sym:
        if "minimizer_derivation" not in ctx.cache:
            ctx.progress("deriving Theorem 4.1 in SymPy (cached on disk after the first run)")
        D = minimizer_derivation()
        ctx.cache["minimizer_derivation"] = D
        exp = closed_form(p)
    with Timer() as t_num:
        sol = ctx.solution()
        W, H, b = sol.params
        obs = observed_quantities(W, H, b, p.K)
    common = {
        "regime": "collapsed (alpha + K c >= 1)" if p.collapsed else "non-collapsed (alpha + K c < 1)",
        "threshold_alpha_plus_Kc": p.threshold,
        "solve": sol.summary(),
        "symbolic_steps_unverified": [s.title for s in D.unverified],
    }
    if not p.collapsed:
        common.update(_error_estimate(p, exp, sol.grad_norm))
    if p.d == p.K - 1:
        common["note_dimension"] = ("d = K-1: enough for a simplex ETF; the paper assumes d >= K, "
                                    "which Theorem 4.1 does not need")
    seconds = (t_sym.seconds + t_num.seconds) / len(CLAIMS)
    if not sol.converged:
        return [failed(i, GROUP, *claim(k), f"numerical solve did not converge: {sol.reason}",
                       common, seconds) for i, k in zip(ids, CLAIMS)]

    out = []

    def add(key, expected, observed, tol, why, relative=True, extra=None):
        out.append(compare(f"{GROUP}.{key}", GROUP, *claim(key), expected, observed, tol,
                           relative=relative, why_tolerance=why,
                           details={**common, **(extra or {})}, seconds=seconds))

    add("rho", exp["rho"], obs["rho"], TOL_FIRST_ORDER, WHY_FIRST)
    add("p_target", exp["p_target"], obs["p_target"], TOL_FIRST_ORDER, WHY_FIRST,
        extra={"p_nontarget_expected": exp["p_nontarget"]})
    add("w_norm_sq", exp["w_norm_sq"], obs["w_norm_sq"], TOL_FIRST_ORDER, WHY_FIRST)
    add("h_norm_sq", exp["h_norm_sq"], obs["h_norm_sq"], TOL_FIRST_ORDER, WHY_FIRST)
    if p.lam_b > 0:
        add("bias", 0.0, obs["bias_norm"], TOL_FIRST_ORDER, WHY_FIRST + " (absolute, on ||b||)",
            relative=False, extra={"measured": "||b||"})
    else:
        add("bias", 0.0, obs["bias_centred_norm"], TOL_FIRST_ORDER,
            WHY_FIRST + " (absolute, on ||b - mean(b) 1||)", relative=False,
            extra={"measured": "||b - mean(b) 1||: lam_b = 0 leaves b free along 1",
                   "bias_mean": float(np.mean(np.asarray(b)))})
    if p.collapsed:
        reason = "collapsed regime: W = H = 0, so class means and NC metrics are undefined (0/0)"
        for key in ("nc1", "nc2", "nc3"):
            out.append(not_applicable(f"{GROUP}.{key}", GROUP, *claim(key), reason,
                                      {**common, "observed_if_computed": obs[key]}))
    elif None in (obs["nc1"], obs["nc2"], obs["nc3"]):
        for key in ("nc1", "nc2", "nc3"):
            out.append(failed(f"{GROUP}.{key}", GROUP, *claim(key),
                              "the solve returned W H-bar = 0 in the non-collapsed regime: NC metrics are 0/0",
                              common, seconds))
    else:
        add("nc1", 0.0, obs["nc1"], TOL_SECOND_ORDER, WHY_SECOND, relative=False)
        add("nc2", 0.0, obs["nc2"], TOL_FIRST_ORDER, WHY_FIRST + " (absolute)", relative=False)
        add("nc3", 0.0, obs["nc3"], TOL_FIRST_ORDER, WHY_FIRST + " (absolute)", relative=False)
    add("objective", exp["objective"], sol.objective, TOL_SECOND_ORDER, WHY_SECOND)
    with Timer() as t_cert:
        D_cert = certificate_derivation()
        cert = certify(p, sol.params)
        bound = cert.bound(SOLVE_RTOL * sol.grad_norm0)
    out.append(_certificate_check(cert, bound, claim("certificate"), common, t_cert.seconds))
    with Timer() as t_ms:
        out.append(_multistart_check(ctx, sol, cert, claim("multistart"), common))
    out[-1].seconds = t_ms.seconds
    with Timer() as t_thr:
        out.append(_threshold_check(ctx, claim("threshold"), common))
    out[-1].seconds = t_thr.seconds
    _enforce(out, D, common, D_cert, cert, bound)
    order = {i: j for j, i in enumerate(ids)}
    return sorted(out, key=lambda r: order[r.id])


def _certified(sol, problem) -> tuple[object, float, bool]:
    """The certificate of a solve, its acceptance bound, and whether it is accepted."""
    cert = certify(problem, sol.params)
    bound = cert.bound(SOLVE_RTOL * sol.grad_norm0)
    return cert, bound, bool(sol.converged and cert.dual_feasible and cert.gap <= bound)


def _certificate_check(cert, bound, claim, common, seconds) -> CheckResult:
    """Duality gap of the main solve against its bound."""
    details = {**common, "certificate": cert.summary(), "bound": bound,
               "tolerance_reason": WHY_CERT, "error_kind": "certified upper bound on F - F*",
               "rank_condition": "F* = P* (the convex optimum) because d >= K - 1 >= rank of "
                                 "every minimizer of the convex problem (1^T G = 0)"}
    ok = bool(cert.dual_feasible and math.isfinite(cert.gap) and cert.gap <= bound)
    r = CheckResult(f"{GROUP}.certificate", GROUP, *claim, 0.0, cert.gap, cert.gap, bound, ok,
                    True, seconds, details)
    if not ok:
        r.details["reason"] = (f"duality gap {cert.gap:.3g} exceeds the bound {bound:.3g} "
                               f"(||G||_2/tau = {cert.ratio:.10g}): not certified a global minimizer"
                               if cert.dual_feasible else "no feasible dual point: not certified")
    return r


def _multistart_check(ctx, sol0, cert0, claim, common) -> CheckResult:
    """Spread of the objective and of rho over the main solve and MULTISTART_SEEDS more starts."""
    p = ctx.problem
    runs = [(ctx.seed, sol0)] + [(ctx.seed + k, solve(p, seed=ctx.seed + k))
                                 for k in range(1, MULTISTART_SEEDS + 1)]
    rows, bad = [], []
    for seed, s in runs:
        cert, bound, ok = _certified(s, p)
        W, H, b = s.params
        rho = observed_quantities(W, H, b, p.K)["rho"]
        rows.append({"seed": seed, "objective": s.objective, "rho": rho, "gap": cert.gap,
                     "bound": bound, "converged": s.converged, "certified": ok})
        if not ok:
            bad.append(seed)
    F = [r["objective"] for r in rows]
    rho = [r["rho"] for r in rows]
    f_spread = max(F) - min(F)
    rho_spread = max(rho) - min(rho)
    f_rel = f_spread / abs(F[0]) if F[0] != 0 else f_spread
    # relative to the largest |rho|; absolute below COLLAPSE_TOL (collapsed: rho = 0 up to rounding)
    rho_rel = rho_spread / max(max(abs(v) for v in rho), COLLAPSE_TOL)
    details = {**common, "starts": rows, "objective_spread": f_spread, "objective_spread_relative": f_rel,
               "rho_spread": rho_spread, "rho_spread_relative": rho_rel, "rho_tolerance": TOL_FIRST_ORDER,
               "error_kind": "relative spread of the objective over the starts",
               "tolerance_reason": (f"{WHY_SECOND} (objective); each start must also be certified "
                                    f"(gap <= its bound) and rho agree to {TOL_FIRST_ORDER:g} ({WHY_FIRST})")}
    ok = bool(not bad and f_rel <= TOL_SECOND_ORDER and rho_rel <= TOL_FIRST_ORDER)
    r = CheckResult(f"{GROUP}.multistart", GROUP, *claim, 0.0, f_rel, f_rel, TOL_SECOND_ORDER, ok,
                    True, 0.0, details)
    if bad:
        r.details["reason"] = f"start(s) with seed {bad} not certified a global minimizer"
    elif not ok:
        r.details["reason"] = (f"spread over {len(rows)} starts: objective {f_rel:.3g} (relative), "
                               f"rho {rho_rel:.3g} (relative)")
    return r


def _threshold_root(p):
    """Where the derived threshold crosses 1: vary alpha if the root is in range, else the
    common scale t of (lam_W, lam_H). Returns (name, root, problem_at(x), linear(ratio))."""
    def by_alpha(x):
        return p.replace(alpha=x)

    def by_scale(t):
        return p.replace(lam_W=p.lam_W * t, lam_H=p.lam_H * t)

    d = THRESHOLD_DELTA
    f = lambda x: threshold(by_alpha(x)) - 1.0  # noqa: E731
    if f(0.0) < 0.0 < f(1.0 - 2 * d) and f(d) < 0.0:
        return "alpha", bisect(f, 0.0, 1.0 - 2 * d), by_alpha, lambda r: r
    if p.alpha >= 1.0 - 4 * d:
        return None
    g = lambda u: threshold(by_scale(math.exp(u))) - 1.0  # noqa: E731
    lo, hi = -1.0, 1.0
    while g(lo) > 0.0 and lo > -200:
        lo -= 5.0
    while g(hi) < 0.0 and hi < 200:
        hi += 5.0
    if not g(lo) < 0.0 < g(hi):
        return None
    return ("lambda scale t (lam_W t, lam_H t)", math.exp(bisect(g, lo, hi)),
            by_scale, lambda r: 1.0 / r)  # ratio = (1 - alpha)/(K c t): 1/ratio is linear in t


def _threshold_check(ctx, claim, common) -> CheckResult:
    """Solve just below and just above the derived threshold; certify each side."""
    p = ctx.problem
    cid = f"{GROUP}.threshold"
    root = _threshold_root(p)
    if root is None:
        return skipped(cid, GROUP, *claim, "the threshold alpha + K c = 1 cannot be crossed by "
                       "alpha in [0, 1) or by scaling (lam_W, lam_H) at this problem", common)
    name, xc, at, lin = root
    d = THRESHOLD_DELTA
    if name.startswith("lambda"):
        # theta = alpha + K c t is linear in t: a step of d in theta is d xc / (theta(xc) - alpha)
        dx = d * xc / (1.0 - p.alpha)
    else:
        dx = d
    sides, problems = {}, []
    for side, x in (("below", xc - dx), ("above", xc + dx)):
        q = at(x)
        problems.append(q)
        zc = certify(q, zero_params(q))
        s = solve(q, seed=ctx.seed)
        cert, bound, certified = _certified(s, q)
        W, H, _ = (np.asarray(a) for a in s.params)
        z_norm = float(np.linalg.norm(W @ H))
        logK = math.log(q.K)
        sides[side] = {"x": x, "derived_threshold": threshold(q), "zero_ratio": zc.ratio,
                       "zero_gap": zc.gap, "zero_floor": zc.bound(0.0),
                       "solve": {"converged": s.converged, "objective": s.objective,
                                 "gap": cert.gap, "bound": bound, "certified": certified,
                                 "WH_fro_norm": z_norm, "logK_minus_F": logK - s.objective}}
    lo, hi = sides["below"], sides["above"]
    # measured crossing of ||G(0)||_2/tau = 1, interpolated in x (exactly linear in lin(ratio))
    a, b = lin(lo["zero_ratio"]), lin(hi["zero_ratio"])
    x_obs = lo["x"] + (1.0 - a) / (b - a) * (hi["x"] - lo["x"]) if b != a else float("nan")
    problems_ok = []
    # below: 0 is not optimal (dual-infeasible at 0) and the certified solve is strictly below F(0)
    sl, sh = lo["solve"], hi["solve"]
    if not lo["zero_ratio"] > 1.0:
        problems_ok.append("below the threshold ||G(0)||_2 <= tau: 0 would be optimal")
    if not (sl["certified"] and sl["logK_minus_F"] > sl["gap"]):
        problems_ok.append("below the threshold the certified solve does not beat F(0) = log K")
    # above: the certificate at 0 holds (gap at the float floor) and the solve collapses to 0
    if not (hi["zero_ratio"] <= 1.0 and hi["zero_gap"] <= hi["zero_floor"]):
        problems_ok.append("above the threshold 0 is not certified optimal (||G(0)||_2 > tau)")
    if not (sh["certified"] and sh["WH_fro_norm"] <= COLLAPSE_TOL):
        problems_ok.append(f"above the threshold the certified solve has ||W H||_F = "
                           f"{sh['WH_fro_norm']:.3g} > {COLLAPSE_TOL:g}")
    details = {**common, "varied": name, "delta_theta": d, "sides": sides,
               "derived_root": xc, "measured_crossing": x_obs,
               "error_kind": "relative" if xc != 0 else "absolute",
               "tolerance_reason": WHY_THRESHOLD,
               "collapse_tolerance": COLLAPSE_TOL}
    err = abs(x_obs - xc) / abs(xc) if xc != 0 else abs(x_obs - xc)
    ok = bool(math.isfinite(err) and err <= TOL_FIRST_ORDER and not problems_ok)
    r = CheckResult(cid, GROUP, *claim, xc, x_obs, err, TOL_FIRST_ORDER, ok, True, 0.0, details)
    if problems_ok:
        r.details["reason"] = "; ".join(problems_ok)
    elif not ok:
        r.details["reason"] = (f"measured crossing {x_obs:.10g} of ||G(0)||_2 = tau is not the derived "
                               f"root {xc:.10g}")
    return r


def _enforce(out: list[CheckResult], D, common: dict, D_cert=None, cert=None, bound=None) -> None:
    """Evidence rests on every derivation step and on the solve's accuracy.

    A derivation step SymPy did not confirm contradicts every check that uses
    the derivation. The a-posteriori estimate of the distance to the minimizer
    set, ||grad F|| / (mu ||x*||), must itself be within the first-order
    tolerance: otherwise agreement could be luck, and the check is
    contradicted (the solve is not accurate enough to confirm anything)."""
    bad = [s.title for s in D.unverified] + ([s.title for s in D_cert.unverified] if D_cert else [])
    est = common.get("parameter_error_estimate")
    uncertified = cert is not None and not (cert.dual_feasible and cert.gap <= bound)
    for r in out:
        if r.status != "confirmed":
            continue
        if bad:
            r.contradict(f"derivation step(s) not confirmed by SymPy: {'; '.join(bad)}")
        elif uncertified:
            r.contradict(f"the solve is not certified a global minimizer: duality gap {cert.gap:.3g} "
                         f"> bound {bound:.3g} (||G||_2/tau = {cert.ratio:.10g})")
        elif est is not None and not est <= TOL_FIRST_ORDER:
            r.contradict(f"a-posteriori error estimate {est:.3g} exceeds the tolerance "
                         f"{TOL_FIRST_ORDER:g}: the solve is not accurate enough to confirm")
