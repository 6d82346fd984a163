"""Check group `dynamics`: the NC paper's empirical claims on the UFM.

Claims: LS converges faster (Section 3.1, Fig. 1, Table 1; Fig. 9-10 on the
UFM), smaller NC2 at equal NC1 (Section 3.2, Fig. 2), trained norms match
Theorem 4.1 (Appendix B.6, Fig. 8), U-shape in alpha (Appendix B.4, Fig. 6).

These are *empirical* claims, so every check is a measurement with a verdict:
the evidence is ``confirmed`` when the experiment ran and its numbers are
finite, and the verdict is ``holds`` or ``not_reproduced`` with the effect
size and its interval. A claim that is not reproduced is a finding, not a
malfunction: it does not change the exit code.

Standard experiment, fixed up front (not tuned to any verdict):

* UFM size: K=10, d=32, n=50; full-batch gradient descent, metrics every
  100 steps.
* lam_W = lam_H = lam_b = 5e-4: the weight decay of the neural-collapse
  literature (Papyan et al. 2020, Zhu et al. 2021); the NC paper's own
  values were lost from the seed text. Then K c = K sqrt(n lam_W lam_H) =
  0.035, so every alpha of the grid satisfies alpha + K c < 1, the
  non-collapsed range over which Fig. 10 makes its claim.
* alpha in {0, 0.05, 0.1, 0.2, 0.4, 0.8}: CE and LS from mild to strong,
  spanning most of the admissible range [0, 1 - K c) = [0, 0.965).
* step size 1.0 (fixed), random normal starts of scale 0.1; every alpha
  starts from the same seeds' starts (paired comparison). Stability is
  checked, not assumed: details report lr x ||Hessian|| at the end of the CE
  run (GD is stable below 2).

Sizes (`sizes`). Default: 3 seeds x 5,000 steps; ``--quick``: 2 seeds x
5,000 steps; ``--full``: 5 seeds x 10,000 steps (the sweep of the paper's
figures as this package first ran it). Why these defaults:

* seeds -- every comparison is a paired one-sided t-test over seeds
  (`paired_test`, level 5%). 3 seeds (2 degrees of freedom) is the smallest
  number at which the t-test has usable power: it detects a standardized
  paired effect |mean|/sd >= 2.3 with power 0.8 (2 seeds: >= 5.8; 5 seeds:
  >= 1.36). In a 5-seed, 10,000-step pilot (the ``--full`` sweep) the
  standardized paired effects were: steps to reach the NC1 and NC2 levels
  and zero training error 4.9 to 23 sd, or identical over seeds (se = 0);
  log10 NC2 at equal NC1 2.9 sd and more down to NC1 = 1e-5 (1.7 to 2.7 at
  1e-6, a level only the longer budget reaches); all resolved at 3 seeds.
  The gradient-norm comparisons were 0.5 to 2.4 sd: below the default's
  resolution (and the 5,000-step budget barely reaches their 1e-2 level),
  so the default reports them as not established; ``--full`` establishes
  LS slower at alpha 0.4 and 0.8.
* steps -- the budget must resolve every measurement's criterion: in the
  pilot the slowest run's norms were within the paper's 0.01 of Theorem 4.1
  from step 4,600, so 5,000 (half the paper-scale budget; with 3 seeds, 30%
  of the full sweep's cost) is the smallest round budget at which the norms claim is
  measurable; thresholds not reached within a budget are censored
  (`check_ls_faster`), NC1 levels not reached by every run are skipped.
  The U-shape is a statement about the budget, so its verdict may depend
  on it (reported, not tuned).

The group uses this fixed experiment, not the CLI's problem (the claims are
about a training sweep, not one instance); only ``--seed`` shifts the seeds.

Statistics. Each comparison of LS (alpha > 0) with CE (or of two alphas) is
`paired_test`: `ufm.core.stats.paired_difference` of the per-seed values,
one-sided at level 5% (`ONE_SIDED_LEVEL`), reported as the mean difference,
its standard error and the one-sided 95% confidence bound. A claim about
every alpha of the grid (or every threshold) holds when each of its
comparisons is established: an intersection-union test, valid at 5% with
no multiplicity correction. It is ``not_reproduced`` when some comparison
is not established or its opposite is established; the reason names the
weakest comparison. When every seed gives the same difference (se = 0,
e.g. the same record step), the sign alone decides and the reason says so.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ufm.core.stats import paired_difference
from ufm.verify.result import CheckResult, Timer, compare, empirical, failed
from ufm.verify.context import VerifyContext
from ufm.nc.dynamics import Trajectory, sweep
from ufm.nc.objective import UFMParams, objective
from ufm.nc.problem import UFMProblem
from ufm.nc.minimizer.derivation import closed_form

GROUP = "dynamics"
DESCRIPTION = "UFM training dynamics, CE vs LS (GD sweep over alpha x seeds): speed, NC2 at equal NC1, norms, U-shape"
SOURCE = "NC paper (Cross Entropy versus Label Smoothing)"

# the default run; --quick changes the seeds only, --full the seeds and the steps
STANDARD = dict(K=10, d=32, n=50, lam_W=5e-4, lam_H=5e-4, lam_b=5e-4, lr=1.0,
                steps=5_000, record_every=100, init_scale=0.1)
FULL = dict(steps=10_000)
ALPHAS = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)
N_SEEDS, N_SEEDS_QUICK, N_SEEDS_FULL = 3, 2, 5
ONE_SIDED_LEVEL = 0.05  # every comparison: paired one-sided t-test over seeds at this level

# Thresholds for "iterations to reach", fixed as decades before any run.
SPEED_THRESHOLDS = {
    "nc1": (1e-1, 1e-2, 1e-3),
    "nc2": (1e-1, 1e-2),
    "grad_rel": (1e-2, 1e-3),      # ||grad F|| / ||grad F at the start||
    "train_error": (0.0,),
}
NC1_LEVELS = tuple(10.0**-k for k in range(1, 7))  # common NC1 levels for the NC2 comparison
NORM_TOL = 0.01                                   # the paper's own criterion (Fig. 8)


def sizes(ctx: VerifyContext) -> tuple[dict, int]:
    """The sweep's settings and its number of seeds for this context (`--quick`, `--full`)."""
    cfg = {**STANDARD, **(FULL if ctx.full else {})}
    return cfg, (N_SEEDS_FULL if ctx.full else N_SEEDS_QUICK if ctx.quick else N_SEEDS)


def standard_sweep(ctx: VerifyContext) -> Trajectory:
    """The standard sweep, computed once per context."""
    if "dynamics_sweep" not in ctx.cache:
        cfg, s = sizes(ctx)
        seeds = list(range(ctx.seed, ctx.seed + s))
        ctx.progress(f"GD sweep: {len(ALPHAS)} alphas x {s} seeds x {cfg['steps']} steps "
                     f"(K={cfg['K']}, d={cfg['d']}, n={cfg['n']})")
        with Timer() as t:
            tr = sweep(alphas=ALPHAS, seeds=seeds, **cfg)
            jax.block_until_ready(tr.nc1)
        ctx.cache["dynamics_sweep"] = (tr, t.seconds)
    return ctx.cache["dynamics_sweep"]


def paired_test(a, b, claim: str, level: float = ONE_SIDED_LEVEL) -> dict:
    """One-sided paired t-test over seeds of ``a - b`` (`ufm.core.stats.paired_difference`).

    ``claim`` is ``"less"`` (the claim is mean(a - b) < 0) or ``"greater"``.
    Returns mean, se, n, the one-sided (1 - level) confidence ``bound`` on the
    claimed side, the two-sided (1 - 2 level) ``interval`` (its ends are the two
    one-sided bounds), the p-value of the claim and of its opposite,
    ``established``, ``opposite_established``, ``identical`` (se = 0: every
    seed gives the same difference) and a one-line ``text``. Non-finite
    inputs give mean NaN and nothing established.

    >>> r = paired_test([1.0, 2.0, 3.0], [2.0, 3.5, 4.0], "less")
    >>> r["established"], round(r["mean"], 4), r["identical"]
    (True, -1.1667, False)
    >>> paired_test([3.0, 3.0], [2.0, 2.0], "less")["opposite_established"]
    True
    """
    if claim not in ("less", "greater"):
        raise ValueError(f"claim={claim!r} is not known; allowed: less, greater")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        nan = float("nan")
        return {"mean": nan, "se": nan, "n": int(a.size), "bound": nan, "interval": [nan, nan],
                "p": nan, "p_opposite": nan, "established": False, "opposite_established": False,
                "identical": False, "text": "not finite (a run diverged or a value is missing)"}
    r = paired_difference(a, b, level=1.0 - 2.0 * level)
    lo, hi = r["interval"]
    p, q = (r["p_less"], r["p_greater"]) if claim == "less" else (r["p_greater"], r["p_less"])
    identical = r["se"] == 0.0
    out = {"mean": r["mean"], "se": r["se"], "n": r["n"], "bound": hi if claim == "less" else lo,
           "interval": [lo, hi], "p": p, "p_opposite": q, "established": bool(p < level),
           "opposite_established": bool(q < level), "identical": identical}
    if identical:
        out["text"] = (f"{r['mean']:+.4g} on every one of {r['n']} seeds (identical values, se = 0: "
                       "the sign alone decides)")
    else:
        side = "upper" if claim == "less" else "lower"
        out["text"] = (f"{r['mean']:+.4g} +- {r['se']:.2g} (se), one-sided {1 - level:.0%} {side} bound "
                       f"{out['bound']:+.4g}, p = {p:.2g}, n = {r['n']} seeds")
    return out


def _judge(tests: dict) -> dict:
    """Intersection-union verdict over named `paired_test` results: the claim is
    established when every one is. Returns holds, the weakest comparison
    (largest p; non-finite first) and the comparisons whose opposite is established."""
    names = list(tests)
    if not names:
        return {"holds": False, "weakest": None, "opposite": [], "not_established": []}
    key = lambda k: (math.inf if not math.isfinite(tests[k]["p"]) else tests[k]["p"])  # noqa: E731
    weakest = max(names, key=key)
    return {"holds": all(tests[k]["established"] for k in names), "weakest": weakest,
            "opposite": [k for k in names if tests[k]["opposite_established"]],
            "not_established": [k for k in names if not tests[k]["established"]]}


def _reason(tests: dict, j: dict, what: str) -> str:
    """One line: the weakest comparison's effect and interval, and any opposite established."""
    if j["weakest"] is None:
        return "nothing to compare"
    w = j["weakest"]
    head = (f"established for all {len(tests)} comparisons at one-sided {ONE_SIDED_LEVEL:g}"
            if j["holds"] else f"not established for {len(j['not_established'])} of {len(tests)} "
                               f"comparisons at one-sided {ONE_SIDED_LEVEL:g}")
    line = f"{head}; weakest, {w}: {what} {tests[w]['text']}"
    if j["opposite"]:
        line += (f"; the opposite is established for {len(j['opposite'])} ["
                 + "; ".join(j["opposite"][:3]) + ("; ..." if len(j["opposite"]) > 3 else "") + "]")
    return line


def _effect(tests: dict, j: dict) -> dict:
    """The weakest comparison's effect size and interval, for the details."""
    if j["weakest"] is None:
        return {}
    t = tests[j["weakest"]]
    return {"comparison": j["weakest"], "mean": t["mean"], "se": t["se"], "n_seeds": t["n"],
            "one_sided_bound": t["bound"], "interval": t["interval"],
            "interval_what": f"two-sided {1 - 2 * ONE_SIDED_LEVEL:.0%} (each end a one-sided "
                             f"{1 - ONE_SIDED_LEVEL:.0%} bound)",
            "p": t["p"], "identical_over_seeds": t["identical"]}


def _observed(tests: dict, j: dict) -> float:
    """Number of comparisons not established; NaN when a value is not finite."""
    if any(not math.isfinite(t["mean"]) for t in tests.values()):
        return float("nan")
    return float(len(j["not_established"]))


def _stats(x, axis=-1):
    x = np.asarray(x, dtype=float)
    return np.mean(x, axis=axis), np.std(x, axis=axis)


def _pm(mean, std):
    return f"{mean:.4g} +- {std:.2g}"


def _hessian_norm(params, alpha, cfg, iters=60):
    """Largest |eigenvalue| of the Hessian of F at params (power iteration on HVPs)."""
    lw, lh, lb = cfg["lam_W"], cfg["lam_H"], cfg["lam_b"]
    g = lambda p: jax.grad(objective)(p, alpha, lw, lh, lb)  # noqa: E731
    hvp = jax.jit(lambda p, v: jax.jvp(g, (p,), (v,))[1])
    # the vector arithmetic on the host in NumPy (float64): only the HVP is a compiled program
    v = jax.tree_util.tree_map(lambda x: np.ones(np.shape(x), np.result_type(x)), params)
    lam = 0.0
    for _ in range(iters):
        nv = math.sqrt(sum(float(np.sum(x**2)) for x in jax.tree_util.tree_leaves(v)))
        v = jax.tree_util.tree_map(lambda x: x / nv, v)
        w = jax.tree_util.tree_map(np.asarray, hvp(params, v))
        lam = sum(float(np.sum(a * b)) for a, b in zip(jax.tree_util.tree_leaves(v), jax.tree_util.tree_leaves(w)))
        v = w
    return abs(lam)


def _common(tr: Trajectory, seconds: float, ctx: VerifyContext) -> dict:
    if "dynamics_common" not in ctx.cache:
        ce_final = UFMParams(*(np.asarray(x)[0, 0] for x in tr.final))  # host indexing: no eager programs
        cfg = tr.config
        ctx.cache["dynamics_common"] = {
            "experiment": {**cfg, "alphas": list(ALPHAS), "seeds": tr.seeds.tolist(),
                           "optimizer": "full-batch gradient descent",
                           "mode": "full" if ctx.full else "quick" if ctx.quick else "default"},
            "sweep_seconds": seconds,
            "stability_lr_times_hessian_norm_CE_end": cfg["lr"] * _hessian_norm(ce_final, 0.0, cfg),
            "curves": {"steps": np.asarray(tr.steps).tolist(), "alphas": list(ALPHAS),
                       **{m: np.asarray(getattr(tr, m)).mean(axis=1).tolist()
                          for m in ("nc1", "nc2", "train_error")},
                       "what": "means over seeds, one row per alpha, one column per recorded step"},
            "statistics": (f"paired one-sided t-test over {len(tr.seeds)} seeds at level {ONE_SIDED_LEVEL:g} "
                           "(ufm.core.stats.paired_difference); a claim over several comparisons holds "
                           "when every one is established (intersection-union test)"),
            "note": (f"fixed standard experiment (K={cfg['K']}, d={cfg['d']}, n={cfg['n']}, {cfg['steps']:,} GD "
                     f"steps, {len(tr.seeds)} seeds); the CLI problem is not used"),
        }
    return ctx.cache["dynamics_common"]


def crossing_steps(values, steps, threshold):
    """The step at which each run first reaches ``values <= threshold`` (last axis = records).

    For a threshold > 0 the crossing is interpolated linearly in log(value)
    between the two records around it (resolution finer than the record
    spacing); for threshold 0 (the training error) it is the first record at 0.
    Runs that never reach it get +inf.

    >>> crossing_steps(np.array([1.0, 1e-1, 1e-3]), np.array([0, 100, 200]), 1e-2)
    array(150.)
    """
    v = np.asarray(values, dtype=float)
    steps = np.asarray(steps, dtype=float)
    hit = v <= threshold
    j = np.argmax(hit, axis=-1)
    out = np.where(hit.any(axis=-1), steps[j], np.inf)
    if threshold > 0:
        jm = np.maximum(j - 1, 0)
        v0 = np.take_along_axis(v, jm[..., None], -1)[..., 0]
        v1 = np.take_along_axis(v, j[..., None], -1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            l0, l1 = np.log(np.maximum(v0, 1e-300)), np.log(np.maximum(v1, 1e-300))
            frac = np.where(l0 > l1, (l0 - np.log(threshold)) / (l0 - l1), 1.0)
        interp = steps[jm] + np.clip(frac, 0.0, 1.0) * (steps[j] - steps[jm])
        out = np.where(hit.any(axis=-1) & (j > 0), interp, out)
    return out


def check_ls_faster(tr: Trajectory, common: dict) -> list[CheckResult]:
    """Steps to reach fixed thresholds: each alpha > 0 against alpha = 0, paired over seeds.

    The claim for a metric is that every alpha > 0 reaches every threshold in
    fewer steps than CE (one-sided paired t-test per (alpha, threshold),
    intersection-union verdict). A run that never reaches a threshold counts
    as reaching it at the budget, a lower bound on its true step, so a
    difference involving it is understated (conservative on both sides);
    thresholds no run reaches are not compared.
    """
    series = {
        "nc1": np.asarray(tr.nc1),
        "nc2": np.asarray(tr.nc2),
        "grad_rel": np.asarray(tr.grad_norm) / np.asarray(tr.grad_norm)[..., :1],
        "train_error": np.asarray(tr.train_error),
    }
    budget = tr.config["steps"]
    out = []
    for metric, thresholds in SPEED_THRESHOLDS.items():
        table, tests, skipped_th = {}, {}, []
        for th in thresholds:
            hits = crossing_steps(series[metric], tr.steps, th)  # (A, S), inf = not reached
            row = {}
            for i, a in enumerate(ALPHAS):
                n_inf = int(np.isinf(hits[i]).sum())
                row[f"alpha={a:g}"] = (f"> {budget} (not reached by {n_inf} seeds)" if n_inf == hits.shape[1]
                                       else _pm(*_stats(np.minimum(hits[i], budget)))
                                       + (f" ({n_inf} seeds censored at {budget})" if n_inf else ""))
            table[f"<= {th:g}"] = row
            if np.all(np.isinf(hits)):
                skipped_th.append(th)
                continue  # no alpha reaches it: nothing to compare
            cens = np.minimum(hits, budget)
            for i, a in enumerate(ALPHAS[1:], start=1):
                if np.all(np.isinf(hits[i])) and np.all(np.isinf(hits[0])):
                    continue
                tests[f"{metric}<={th:g} at alpha={a:g}"] = paired_test(cens[i], cens[0], "less")
        j = _judge(tests)
        claim = (f"LS (every alpha > 0 of the grid) reaches {metric} thresholds {list(thresholds)} in fewer "
                 "GD iterations than CE (alpha = 0)")
        out.append(compare(
            f"{GROUP}.ls_faster_{metric}", GROUP, claim, f"{SOURCE}, Fig. 1, 9, 10, Table 1",
            0.0, _observed(tests, j), 0.0, relative=False,
            why_tolerance=("verdict: for every (alpha, threshold), steps to reach (LS) - steps to reach (CE) "
                           f"< 0 by a paired one-sided t-test over seeds at level {ONE_SIDED_LEVEL:g}; "
                           "observed = number of comparisons where it is not established"),
            details={**common, "steps_to_reach_mean_pm_std": table,
                     "paired_tests_LS_minus_CE_steps": tests, "thresholds_reached_by_no_run": skipped_th,
                     "compared_pairs": len(tests), "effect": _effect(tests, j),
                     "reason_line": _reason(tests, j, "steps LS - CE"),
                     "verdict": "reproduced" if j["holds"] else "not reproduced"}))
    return out


def _add_reason(r: CheckResult) -> CheckResult:
    """The two answers of an empirical check: a measured comparison (not a
    check that could not be carried out, which says its `reason`) becomes
    evidence ``confirmed`` and a verdict, with the effect in one line."""
    if "reason" in r.details:
        return r
    line = r.details.pop("reason_line", "")
    return empirical(r, reproduced=r.details.get("verdict", "reproduced" if r.passed else "") == "reproduced",
                     effect=line or str(r.details.get("effect", "")))


def _spearman(x, y):
    if not np.all(np.isfinite(y)):
        return None
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def nc2_at_nc1(nc1_traj, nc2_traj, level):
    """NC2 at the first time NC1 falls to `level` (log-log interpolation between records).

    None if the run never reaches `level`.
    """
    nc1_traj, nc2_traj = np.asarray(nc1_traj), np.asarray(nc2_traj)
    below = np.flatnonzero(nc1_traj <= level)
    if below.size == 0:
        return None
    j = below[0]
    if j == 0:
        return float(nc2_traj[0])
    x0, x1 = np.log(nc1_traj[j - 1]), np.log(max(nc1_traj[j], 1e-300))
    y0, y1 = np.log(nc2_traj[j - 1]), np.log(nc2_traj[j])
    t = (np.log(level) - x0) / (x1 - x0) if x1 != x0 else 1.0
    return float(np.exp(y0 + t * (y1 - y0)))


def _none_to_nan(x):
    return np.nan if x is None else x


def check_nc2_at_equal_nc1(tr: Trajectory, common: dict) -> CheckResult:
    """log10 NC2 at the first time NC1 reaches each level, LS - CE, paired over seeds (claim: < 0)."""
    nc1, nc2 = np.asarray(tr.nc1), np.asarray(tr.nc2)
    A, S, _ = nc1.shape
    table, tests = {}, {}
    for level in NC1_LEVELS:
        vals = np.array([[_none_to_nan(nc2_at_nc1(nc1[i, s], nc2[i, s], level)) for s in range(S)]
                         for i in range(A)])
        if np.isnan(vals).any():
            table[f"NC1={level:g}"] = "not reached by every run: skipped"
            continue
        logv = np.log10(vals)
        table[f"NC1={level:g}"] = {f"alpha={a:g}": _pm(*_stats(vals[i])) for i, a in enumerate(ALPHAS)}
        for i, a in enumerate(ALPHAS[1:], start=1):
            tests[f"NC1={level:g} at alpha={a:g}"] = paired_test(logv[i], logv[0], "less")
    if not tests:
        return failed(f"{GROUP}.nc2_at_equal_nc1", GROUP, "at equal NC1, LS has smaller NC2 than CE",
                      f"{SOURCE}, Fig. 2", "no NC1 level was reached by every run", common)
    j = _judge(tests)
    return compare(
        f"{GROUP}.nc2_at_equal_nc1", GROUP,
        "at equal NC1 along training, LS (every alpha > 0) has a smaller NC2 than CE",
        f"{SOURCE}, Fig. 2", 0.0, _observed(tests, j), 0.0, relative=False,
        why_tolerance=("verdict: for every (NC1 level, alpha), log10 NC2 (LS) - log10 NC2 (CE) < 0 by a paired "
                       f"one-sided t-test over seeds at level {ONE_SIDED_LEVEL:g}; NC2 is read at the first time "
                       "each run's NC1 reaches the level (log-log interpolation between records); observed = "
                       "number of comparisons where it is not established"),
        details={**common, "nc2_at_nc1_level_mean_pm_std": table,
                 "paired_tests_LS_minus_CE_log10_nc2": tests, "compared_pairs": len(tests),
                 "effect": _effect(tests, j), "reason_line": _reason(tests, j, "log10 NC2 LS - CE"),
                 "verdict": "reproduced" if j["holds"] else "not reproduced"})


def check_norms(tr: Trajectory, common: dict) -> CheckResult:
    cfg = tr.config
    w, h = np.asarray(tr.w_norm)[..., -1], np.asarray(tr.h_norm)[..., -1]  # (A, S)
    table, errs = {}, []
    for i, a in enumerate(ALPHAS):
        cf = closed_form(UFMProblem(K=cfg["K"], d=cfg["d"], n=cfg["n"], alpha=a, lam_W=cfg["lam_W"],
                                    lam_H=cfg["lam_H"], lam_b=cfg["lam_b"]))
        w_th, h_th = math.sqrt(cf["w_norm_sq"]), math.sqrt(cf["h_norm_sq"])
        ew, eh = np.abs(w[i] / w_th - 1), np.abs(h[i] / h_th - 1)
        errs += [ew.max(), eh.max()]
        table[f"alpha={a:g}"] = {"||w|| theory": w_th, "||w|| trained": _pm(*_stats(w[i])),
                                 "||h|| theory": h_th, "||h|| trained": _pm(*_stats(h[i])),
                                 "max rel err w": float(ew.max()), "max rel err h": float(eh.max())}
    return compare(
        f"{GROUP}.norms_match_theory", GROUP,
        "trained mean ||w_k|| and ||h_{k,i}|| match Theorem 4.1 to relative error < 0.01 (every alpha, seed)",
        f"{SOURCE}, Theorem 4.1, Fig. 8", 0.0, float(np.max(errs)), NORM_TOL, relative=False,
        why_tolerance="the paper's own criterion (Fig. 8: relative error below 0.01); observed = worst run",
        details={**common, "norms": table, "theory": "ufm.nc.minimizer.derivation.closed_form (SymPy-derived)",
                 "effect": f"worst relative error over alphas and seeds {np.max(errs):.2g} (the paper: below "
                           f"{NORM_TOL:g}; a tolerance, not a comparison, so no test over seeds)",
                 "decrease_with_alpha_trained_w": bool(np.all(np.diff(w.mean(axis=1)) < 0))})


def _u_shaped(values):
    """values (A, S) > 0. U-shape: the argmin of the seed-mean log10 value is an
    interior alpha, and both ends of the grid exceed it (log10 end - log10 min > 0
    by `paired_test`, one-sided at `ONE_SIDED_LEVEL`, over seeds). The argmin is
    chosen from the same data, which favours the claim; the ends' tests are
    reported so the reader can judge the margin. Returns (ok, argmin, margins)."""
    lv = np.log10(np.maximum(np.asarray(values, dtype=float), 1e-300))
    m = lv.mean(axis=1)
    j = int(np.argmin(m))
    if j in (0, len(m) - 1):
        return False, j, None
    margins = {"left_end_minus_min_log10": paired_test(lv[0], lv[j], "greater"),
               "right_end_minus_min_log10": paired_test(lv[-1], lv[j], "greater")}
    ok = all(t["established"] for t in margins.values())
    return ok, j, margins


def check_u_shape(tr: Trajectory, common: dict) -> CheckResult:
    verdicts, table, tests = {}, {}, {}
    for name in ("nc1", "nc2"):
        v = np.asarray(getattr(tr, name))[..., -1]
        ok, j, margins = _u_shaped(v)
        verdicts[name] = ok
        table[name] = {"at_end_mean_pm_std": {f"alpha={a:g}": _pm(*_stats(v[i])) for i, a in enumerate(ALPHAS)},
                       "argmin_alpha": ALPHAS[j], "margins_paired_tests": margins, "u_shaped": ok}
        for k, t in (margins or {}).items():
            tests[f"{name} {k.split('_')[0]} end"] = t
    n_fail = sum(not ok for ok in verdicts.values())
    j = _judge(tests)
    effect = "; ".join(f"{m}: lowest at alpha={table[m]['argmin_alpha']:g}"
                       + ("" if table[m]["margins_paired_tests"] else " (an end of the grid: not U-shaped)")
                       for m in verdicts)
    if tests:
        effect += "; " + _reason(tests, j, "log10 end - log10 min")
    return compare(
        f"{GROUP}.u_shape", GROUP,
        "NC1 and NC2 at the end of the budget are U-shaped in alpha (minimum at an interior alpha)",
        f"{SOURCE}, Appendix B.4, Fig. 6", 0.0, float(n_fail), 0.0, relative=False,
        why_tolerance=("verdict: count of metrics (NC1, NC2) that are not U-shaped must be 0; U-shaped = the "
                       "minimum of the seed-mean log10 value is at an interior alpha and both ends of the grid "
                       f"exceed it (paired one-sided t-test over seeds at level {ONE_SIDED_LEVEL:g})"),
        details={**common, "metrics": table, "effect": _effect(tests, j),
                 "scope": ("the UFM has no test set, so the paper's test-error U-shape is not testable here; in "
                           "the UFM every alpha reaches NC1 = NC2 = 0 eventually (Theorem 4.1), so a U-shape is "
                           "a statement about the fixed budget"),
                 "reason_line": effect, "verdict": "reproduced" if n_fail == 0 else "not reproduced"})


def run(ctx: VerifyContext) -> list[CheckResult]:
    tr, seconds = standard_sweep(ctx)
    out = []
    with Timer() as t:
        common = _common(tr, seconds, ctx)
    share = (seconds + t.seconds) / 4
    for fn in (check_ls_faster, check_nc2_at_equal_nc1, check_norms, check_u_shape):
        with Timer() as t, np.errstate(invalid="ignore"):  # std of never-reached (inf) runs
            r = fn(tr, common)
        for x in (r if isinstance(r, list) else [r]):
            x.seconds = share + t.seconds
            out.append(_add_reason(x))
    return out
