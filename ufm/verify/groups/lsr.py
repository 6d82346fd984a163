"""Check group `lsr`: Lemma 1, Theorems 3, 4, 5 and Table 1 of the TSLA paper.

This group ignores the UFM problem parameters (K, d, n, alpha, lambdas): its
problems are the quadratic with exact constants and the logistic regression of
`ufm.tsla.problems`. It honours ``ctx.seed`` (Monte Carlo seeds) and ``ctx.quick``
(fewer seeds, a shorter eps grid).

*Expected* values are the SymPy-derived bounds (`ufm.tsla.bounds`); *observed*
values are Monte Carlo estimates (`ufm.tsla.simulate`) over independent seeds, reported
as a one-sided 99% CLT upper confidence bound (UCB). A bound check passes when
UCB <= bound; its ``error`` is UCB/bound and its tolerance 1. The exact
expectation (the SymPy-derived moment recursion, `QuadraticLSRProblem`) is
given in the details next to the Monte Carlo estimate, and `lsr.sim.moments`
checks the two against each other. Assumption checks (`lsr.assume.*`) exhibit
what happens when a condition the proofs use but the theorems do not state
fails: the evidence is ``confirmed`` when the counterexample shows what the
derivation predicts, and the verdict on the theorem is then
``holds_under_conditions`` (naming the condition) or ``false``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

import ufm.tsla.bounds as LB
from ufm.core.stats import slope_fit
from ufm.verify.result import CheckResult, Timer, compare, empirical
from ufm.verify.context import VerifyContext
from ufm.tsla.problems import LogRegProblem, QuadraticLSRProblem, estimate_constants
from ufm.tsla.simulate import simulate, tsla_stages, upper_confidence

GROUP = "lsr"
DESCRIPTION = ("TSLA paper: Lemma 1, Theorems 3/4/5, Table 1 (SymPy bounds vs JAX Monte Carlo on "
               "problems with known constants); ignores the UFM problem parameters")
SRC = "TSLA paper"

# Default constants of the quadratic problem (exact L, mu, sigma^2, delta, F(w0)).
BASE = dict(L=1.0, mu=0.2, sigma2=1.0, F0=5.0, d=4, beta=0.5, rho=0.3)
EPS = 0.3
WHY_UCB = ("one-sided 99% CLT upper confidence bound of the mean over i.i.d. seeds; "
           "the check passes when UCB <= bound (error = UCB/bound, tolerance 1)")


def _bound_check(cid, claim, source, bound, stats, details, seconds) -> CheckResult:
    ratio = stats["ucb"] / bound
    d = {**details, "mean": stats["mean"], "std": stats["std"], "n_seeds": stats["n"],
         "ucb_method": stats["method"], "tolerance_reason": WHY_UCB, "error_kind": "ratio UCB/bound"}
    return CheckResult(cid, GROUP, claim, source, float(bound), float(stats["ucb"]), float(ratio), 1.0,
                       bool(math.isfinite(ratio) and ratio <= 1.0), True, seconds, d)


def _claim_check(cid, claim, source, expected, observed, passed, details, seconds,
                 error=None, tolerance=None) -> CheckResult:
    return CheckResult(cid, GROUP, claim, source, expected, observed, error, tolerance, bool(passed),
                       True, seconds, details)


def _quad(delta, **over):
    kw = {**BASE, **over}
    return QuadraticLSRProblem(L=kw["L"], mu=kw["mu"], sigma2=kw["sigma2"], delta=delta, F0=kw["F0"],
                               d=kw["d"], beta=kw["beta"], rho=kw["rho"], F_star=kw.get("F_star", 0.0))


# ----------------------------------------------------------------------------------

def _lemma1(ctx, n) -> list[CheckResult]:
    out = []
    with Timer() as t:
        q = _quad(0.3)
        arr = q.arrays()
        w = jnp.asarray(q.w0)
        key = jax.random.PRNGKey(ctx.seed)
        rows = []
        worst, ends_ok = 0.0, True
        draw = jax.jit(lambda keys, th: jnp.sum(
            (jax.vmap(lambda kk: QuadraticLSRProblem.oracle(arr, w, kk, th))(keys) - arr["a"] * w) ** 2, axis=1))
        for k, th in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
            err = np.asarray(draw(jax.random.split(jax.random.fold_in(key, k), n), th))
            st = upper_confidence(err)
            bnd = LB.lemma1_bound(q.sigma2, q.delta, th)
            row = {"theta": th, "bound": bnd, "ucb": st["ucb"], "mean": st["mean"], "exact": q.lemma1_exact(th)}
            if th in (0.0, 1.0):
                # Assumption 1 (i) and eq. (4) hold with equality, so Lemma 1 is an equality here:
                # a two-sided test, |mean - bound| <= 4 s/sqrt(n)
                row["equality_test"] = abs(st["mean"] - bnd) <= 4 * st["std"] / math.sqrt(n)
                ends_ok &= row["equality_test"]
            else:
                worst = max(worst, st["ucb"] / bnd)
            rows.append(row)
        ws = max(rows[1:-1], key=lambda r: r["ucb"] / r["bound"])
    out.append(CheckResult(
        "lsr.lemma1", GROUP, "E||grad l(y_LS) - grad F||^2 <= (1-theta) sigma^2 + theta delta sigma^2",
        f"{SRC}, Lemma 1 (eq. 10-11)", ws["bound"], ws["ucb"], worst, 1.0, worst <= 1.0 and ends_ok, True,
        t.seconds,
        {"problem": f"quadratic, sigma2={q.sigma2}, delta={q.delta}, beta={q.beta}, rho={q.rho}",
         "per_theta": rows, "reported": "the interior theta with the largest UCB/bound",
         "endpoints": "theta = 0 and 1: equality (two-sided 4-sigma test, false alarm 6e-5)",
         "tolerance_reason": WHY_UCB, "ucb_method": f"one-sided CLT, n = {n} oracle draws per theta"}))

    # Lemma 1 on logistic regression: exact data-set averages at sampled iterates (deterministic).
    with Timer() as t:
        lp = LogRegProblem.generate(d=5, K=4, N=200, lam=1e-2, seed=ctx.seed)
        arr = lp.arrays()
        rng = np.random.default_rng(ctx.seed)
        Ws = jnp.asarray(rng.normal(0, 1.0, (8, lp.K, lp.d)))
        worst, info = -np.inf, None
        for W in Ws:
            s2 = float(LogRegProblem.noise_at(arr, W, 0.0))
            ds2 = float(LogRegProblem.noise_at(arr, W, 1.0))
            for th in (0.1, 0.4, 0.9):
                lhs = float(LogRegProblem.noise_at(arr, W, th))
                rhs = (1 - th) * s2 + th * ds2  # Lemma 1 with sigma^2(W), delta(W) at this W
                if lhs / rhs > worst:
                    worst, info = lhs / rhs, {"theta": th, "lhs": lhs, "rhs": rhs}
    out.append(CheckResult(
        "lsr.lemma1.logreg", GROUP, "Lemma 1 on logistic regression (uniform yhat), exact averages",
        f"{SRC}, Lemma 1", info["rhs"], info["lhs"], worst, 1.0 + 1e-12, worst <= 1.0 + 1e-12, True,
        t.seconds,
        {"problem": "L2-logistic regression d=5 K=4 N=200 lam=1e-2, 8 random W, theta in {0.1,0.4,0.9}",
         "worst": info, "error_kind": "ratio lhs/rhs",
         "tolerance_reason": "exact averages over the data set (no sampling); 1e-12 covers float64 "
                             "rounding of sums of ~1e3 terms"}))
    return out


def _thm3(ctx, n) -> list[CheckResult]:
    out = []
    for case, delta in ((1, 0.01), (2, 0.5)):
        with Timer() as t:
            q = _quad(delta)
            P = LB.thm3_parameters(q.L, q.sigma2, delta, EPS, q.F0)
            assert P["case"] == case
            st = [(P["eta"], P["theta"], P["T"])]
            r = simulate(q, st, n, ctx.seed)
            stats = upper_confidence(r["avg_grad_sq"][:, 0])
            exact = q.exact_average(st)
        target = P["target"]
        claim = ("delta <= eps^2/(4 sigma^2), T = 4F0/(eta eps^2): E_R||grad F||^2 <= eps^2" if case == 1
                 else "delta > eps^2/(4 sigma^2), T = F0/(eta delta sigma^2): E_R||grad F||^2 <= 4 delta sigma^2")
        out.append(_bound_check(
            f"lsr.thm3.case{case}", claim, f"{SRC}, Theorem 3 ({case})", target, stats,
            {"eps": EPS, "delta": delta, "eta": P["eta"], "theta": P["theta"], "T": P["T"],
             "theorem_bound_at_T": P["bound"], "sharp_bound_at_T (2 delta sigma2/(1+delta))": P["bound_sharp"],
             "exact_expectation": exact, "reaches_eps_in_expectation": exact <= EPS**2,
             "note": ("case (2) claims only the 4 delta sigma^2 level; whether the algorithm itself reaches "
                      "eps is reported in reaches_eps_in_expectation") if case == 2 else ""},
            t.seconds))
    return out


def _thm5(ctx, n) -> CheckResult:
    with Timer() as t:
        q = _quad(0.3)
        P = LB.thm5_parameters(q.L, q.sigma2, EPS, q.F0)
        st = [(P["eta"], 0.0, P["T"])]
        n = min(n, 2000)  # T ~ 5000 steps: the longest run; 2000 seeds keep it to a few seconds
        r = simulate(q, st, n, ctx.seed)
        stats = upper_confidence(r["avg_grad_sq"][:, 0])
        exact = q.exact_average(st)
    return _bound_check("lsr.thm5", "SGD (theta=0), eta = min(1/L, eps^2/(2L sigma^2)), T = 4F0/(eta eps^2): <= eps^2",
                        f"{SRC}, Theorem 5 (App. C)", P["target"], stats,
                        {"eps": EPS, "eta": P["eta"], "T": P["T"], "theorem_bound_at_T": P["bound"],
                         "exact_expectation": exact}, t.seconds)


def _thm4(ctx, n) -> list[CheckResult]:
    with Timer() as t:
        delta = 0.01
        q = _quad(delta)
        P = LB.thm4_parameters(q.L, q.mu, q.sigma2, delta, EPS, q.F0)
        st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])
        r = simulate(q, st, n, ctx.seed)
        stats = upper_confidence(r["avg_grad_sq"][:, 1])
        exact = q.exact_average(st)
        st1 = simulate(q, st[:1], n, ctx.seed, record=False)
        gap_stats = upper_confidence(st1["F_final"] - q.F_star)
        gap_exact = q.exact_values(st[:1])["E_F_minus_Fstar"]
    common = {"eps": EPS, "delta": delta, "theta": P["theta"], "eta1": P["eta1"], "T1": P["T1"],
              "eta2": P["eta2"], "T2": P["T2"], "conditions": P["conditions"]}
    return [
        _bound_check("lsr.thm4", "TSLA: E_R||grad F(w_R)||^2 <= eps^2, R uniform on {T1..T1+T2-1}",
                     f"{SRC}, Theorem 4 (App. D)", P["target"], stats,
                     {**common, "exact_expectation": exact}, t.seconds / 2),
        _bound_check("lsr.thm4.stage1", "TSLA stage 1: E[F(w_T1) - F*] <= 2 delta sigma^2/mu",
                     f"{SRC}, proof of Theorem 4, eq. (18)", P["stage1_gap_bound"], gap_stats,
                     {**common, "exact_expectation": gap_exact}, t.seconds / 2),
    ]


def _moments(ctx, n) -> CheckResult:
    """Monte Carlo against the SymPy-derived exact moment recursion (two stages, biased, correlated)."""
    with Timer() as t:
        q = QuadraticLSRProblem(L=2.0, mu=0.3, sigma2=0.5, delta=0.4, F0=3.0, d=3, beta=0.6, rho=-0.4)
        st = [(0.4, 0.7, 30), (0.2, 0.0, 25)]
        r = simulate(q, st, n, ctx.seed + 1)
        wsq = np.sum(r["w_final"] ** 2, axis=1)
        ex = q.exact_values(st)
        m, s = float(np.mean(wsq)), float(np.std(wsq, ddof=1))
    z = 4.0
    tol = z * s / math.sqrt(n)
    return compare("lsr.sim.moments", GROUP, "simulator: E||w_T||^2 equals the exact moment recursion",
                   "TSLA Algorithm 2 (exact second moments, SymPy-derived)", ex["E_w_sq"], m, tol,
                   relative=False,
                   why_tolerance=(f"two-sided CLT: |mean - E| <= {z} s/sqrt(n) (false alarm 6e-5), "
                                  f"s = {s:.3g}, n = {n}"),
                   details={"stages": st, "problem": "quadratic d=3, L=2, mu=0.3, sigma2=0.5, delta=0.4, "
                                                      "beta=0.6, rho=-0.4"},
                   seconds=t.seconds)


# ----------------------------------------------------------------------------------
# Assumption checks

def _assumptions(ctx, n) -> list[CheckResult]:
    out = []
    # (a) eps^2 <= 2 sigma^2 (eta2 <= 1/L) in Theorem 4.
    with Timer() as t:
        c = dict(L=1.0, mu=0.2, sigma2=0.1, delta=5.0, F0=5.0)
        eps = 0.8
        q = QuadraticLSRProblem(**c, d=4, beta=0.5, rho=0.0)
        P = LB.thm4_parameters(eps=eps, **c)
        st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])
        exact = q.exact_average(st)
        r = simulate(q, st, min(n, 1000), ctx.seed)
        mc = float(np.mean(r["avg_grad_sq"][:, 1]))
    out.append(_claim_check(
        "lsr.assume.eps2_le_2sigma2",
        "Thm 4 needs eps^2 <= 2 sigma^2 (eta2 <= 1/L), unstated: without it the bound fails",
        f"{SRC}, Theorem 4 / proof eq. (19) uses eta2 <= 1/L", f"> eps^2 = {eps**2:g}", exact,
        exact > eps**2, {"constants": {**c, "eps": eps}, "eta2": P["eta2"], "eta2_times_L": P["eta2"] * c["L"],
                         "T1": P["T1"], "T2": P["T2"], "stated_conditions_hold": P["conditions"],
                         "exact_E_R_grad_sq": exact, "monte_carlo_mean": mc,
                         "explanation": "eps < 1 (Definition 1) and sigma2 delta/mu <= F0 hold, but "
                                        "eta2 = eps^2/(2 L sigma^2) = 3.2/L > 2/L: SGD on the L-curvature "
                                        "direction diverges, so E_R||grad F||^2 >> eps^2"},
        t.seconds, error=exact / eps**2, tolerance=None))
    _verdict(out[-1], "holds_under_conditions",
             f"eps^2 <= 2 sigma^2 (eta2 <= 1/L), which Theorem 4 does not state. Counterexample: L=1, "
             f"mu=0.2, sigma^2=0.1, delta=5, F(w0)=5, eps={eps:g} satisfy the stated conditions, yet the "
             f"exact E_R||grad F||^2 = {exact:.4g} > eps^2 = {eps**2:g}")

    # (b) F* >= 0 (F(w0) stands for F(w0) - F*) in Theorems 3, 4, 5.
    with Timer() as t:
        q = QuadraticLSRProblem(L=1.0, mu=0.2, sigma2=1.0, delta=0.0, F0=0.01, d=4, beta=0.0, F_star=-50.0)
        P = LB.thm5_parameters(q.L, q.sigma2, EPS, q.F0)
        st = [(P["eta"], 0.0, P["T"])]
        exact = q.exact_average(st)
        q_ok = QuadraticLSRProblem(L=1.0, mu=0.2, sigma2=1.0, delta=0.0, F0=50.01, d=4, beta=0.0)
        P_ok = LB.thm5_parameters(q_ok.L, q_ok.sigma2, EPS, q_ok.F0)
        exact_ok = q_ok.exact_average([(P_ok["eta"], 0.0, P_ok["T"])])
    out.append(_claim_check(
        "lsr.assume.F_star_nonneg",
        "Thms 3-5 use F(w_T) >= F* >= 0, unstated: with F* < 0 the bound fails",
        f"{SRC}, proofs of Theorems 3-5 (telescoping; eq. 16 'F* >= 0')", f"> eps^2 = {EPS**2:g}", exact,
        exact > EPS**2,
        {"problem": "quadratic shifted by F* = -50, F(w0) = 0.01 (gap 50.01)", "T": P["T"],
         "exact_E_R_grad_sq": exact,
         "same_gap_with_F0_read_as_gap": {"F0": 50.01, "T": P_ok["T"], "exact": exact_ok,
                                          "below_eps2": exact_ok <= EPS**2},
         "explanation": "the horizon uses F(w0); the proofs need F(w0) - F*. Reading F0 as the gap "
                        "restores the bound"},
        t.seconds, error=exact / EPS**2))
    _verdict(out[-1], "holds_under_conditions",
             f"F* >= 0, or F(w0) read as the gap F(w0) - F* (the proofs telescope F(w_0) - F(w_T) <= "
             f"F(w0) - F*). Counterexample: F* = -50, F(w0) = 0.01: exact E_R||grad F||^2 = {exact:.4g} > "
             f"eps^2 = {EPS**2:g}; with F(w0) read as the gap 50.01 the bound holds ({exact_ok:.3g})")

    # (c) sigma^2 delta/mu <= F(w0): only keeps T1 >= 0; with T1 = max(0, T1) Theorem 4 holds anyway.
    with Timer() as t:
        D = LB.bounds()
        arg = D.results["thm4_T1_log_argument"]
        c = dict(L=1.0, mu=0.2, sigma2=1.0, delta=0.2, F0=0.5)  # sigma2 delta/mu = 1 > F0
        P = LB.thm4_parameters(eps=EPS, **c)
        q = QuadraticLSRProblem(**c, d=4, beta=0.5, rho=0.3)
        st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])  # T1 clipped to >= 0
        r = simulate(q, st, n, ctx.seed)
        stats = upper_confidence(r["avg_grad_sq"][:, 1])
        exact = q.exact_average(st)
    out.append(_claim_check(
        "lsr.assume.T1_condition",
        "sigma^2 delta/mu <= F0 only keeps T1 >= 0; with T1 = max(0,T1) Thm 4 holds without it",
        f"{SRC}, Theorem 4 (stated condition)", f"UCB <= eps^2 = {EPS**2:g}", stats["ucb"],
        stats["ucb"] <= EPS**2,
        {"T1_log_argument (SymPy)": str(arg), "T1 >= 0 iff": "mu F0 (1 + delta) >= delta sigma2",
         "constants": {**c, "eps": EPS}, "stated_condition_holds": P["conditions"]["sigma2 delta/mu <= F0 (stated)"],
         "T1_unclipped": P["T1_real"], "T1_used": P["T1"], "T2": P["T2"], "exact_expectation": exact,
         "mean": stats["mean"], "ucb_method": stats["method"],
         "explanation": "if F0 < sigma2 delta/mu then E[F(w_0) - F*] <= F0 < 2 delta sigma2/mu, which is "
                        "eq. (18) at T1 = 0; stage 2 then gives eps^2 as in the proof"},
        t.seconds, error=stats["ucb"] / EPS**2, tolerance=1.0))
    _verdict(out[-1], "holds",
             "the stated condition sigma^2 delta/mu <= F(w0) is not needed: it only keeps T1 >= 0, and "
             f"with T1 = max(0, T1) the bound holds where it fails (UCB {stats['ucb']:.3g} <= eps^2)")

    # (d) delta >= 1 'baseline beats TSLA': the derived crossover.
    with Timer() as t:
        R = LB.bounds().results
        cross = R["tsla_beats_baseline_below_delta"]
        rows = []
        for dl in (0.5, 1.0, 2.0, 4.0):
            cc = dict(L=1.0, mu=0.2, sigma2=1.0, F0=5.0, delta=dl)
            rows.append({"delta": dl, "tsla": LB.total_samples("tsla", eps=0.05, **cc),
                         "baseline": LB.total_samples("baseline", eps=0.05, **cc)})
        cval = float(cross.subs({LB.mu: 0.2, LB.F0: 5.0, LB.sigma2: 1.0}))
        consistent = all((r_["tsla"] < r_["baseline"]) == (r_["delta"] < cval) for r_ in rows)
    out.append(_claim_check(
        "lsr.assume.delta_ge_1",
        "paper: for delta >= 1 the baseline beats TSLA; derived: iff delta > mu F0/(2 sigma^2)",
        f"{SRC}, remark after Theorem 4", "crossover delta = 1 (paper)", f"delta = {cross} = {cval:g}",
        consistent, {"totals_at_eps_0.05 (mu=0.2, F0=5, sigma2=1)": rows,
                     "verdict": "the paper's delta = 1 threshold does not follow from the bounds; the "
                                "crossover of the two upper bounds is mu F0/(2 sigma^2) (here 0.5)",
                     "passes_when": "the numeric totals switch order exactly at the derived crossover"},
        t.seconds))
    _verdict(out[-1], "false",
             f"the totals of Theorem 4 and Theorem 5 cross at delta = mu F(w0)/(2 sigma^2), not at "
             f"delta = 1. Counterexample: mu=0.2, F(w0)=5, sigma^2=1 give {cval:g}: the baseline already "
             "beats TSLA for delta in (0.5, 1), and with mu F(w0) > 2 sigma^2 TSLA beats the baseline at "
             "delta >= 1")
    return out


def _verdict(r: CheckResult, verdict: str, reason: str) -> None:
    """The verdict on the paper's claim, given only where the evidence stands."""
    if r.status == "confirmed":
        r.verdict, r.verdict_reason = verdict, reason


# ----------------------------------------------------------------------------------
# Table 1

def _table1_symbolic() -> list[CheckResult]:
    out = []
    with Timer() as t:
        rows = LB.table1_orders()
    for k, row in enumerate(rows, 1):
        d = row["derived"]
        derived = " | ".join(
            ",".join(sorted({e["order"].split(" (")[0] for e in d[m]})) for m in ("TSLA", "LSR", "baseline"))
        paper = " | ".join(row["paper"][m] for m in ("TSLA", "LSR", "baseline"))
        out.append(_claim_check(
            f"lsr.table1.row{k}", f"Table 1 row {k}: delta {row['row']}", f"{SRC}, Table 1",
            paper, derived, all(row["agree"].values()),
            {"delta_regime": row["delta"], "paper": row["paper"], "derived": d, "agree": row["agree"],
             "notes": row["notes"], "method": "delta = c eps^p substituted in the SymPy totals; order = "
                                              "lim log(T)/log(1/eps), log(1/eps) when that is 0 and "
                                              "T/log(1/eps) has a positive finite limit"},
            t.seconds / len(rows)))
        conditional = [e["order"] for m in d for e in d[m] if " if " in e["order"]]
        if conditional:
            _verdict(out[-1], "holds_under_conditions", "; ".join(row["notes"]) or "; ".join(conditional))
    summary = {f"row{k}": {"delta": r["row"], "paper": r["paper"], "agree": r["agree"], "notes": r["notes"]}
               for k, r in enumerate(rows, 1)}
    n_ok = sum(all(r["agree"].values()) for r in rows)
    out.insert(0, _claim_check("lsr.table1", "Table 1 orders follow from the derived totals",
                               f"{SRC}, Table 1, Theorems 3-5", f"{len(rows)}/{len(rows)} rows",
                               f"{n_ok}/{len(rows)} rows", n_ok == len(rows), summary, 0.0))
    return out


def empirical_complexities(eps_grid, p: float, c: float, consts=None) -> dict:
    """Smallest T (exact expectation) with E_R||grad F||^2 <= eps^2, per method, for delta = c eps^p,
    with the theorems' step sizes (and TSLA's T1); also the theorems' own totals."""
    consts = consts or dict(L=BASE["L"], mu=BASE["mu"], sigma2=BASE["sigma2"], F0=BASE["F0"])
    res = {"TSLA": [], "LSR": [], "baseline": [], "bound_TSLA": [], "bound_LSR": [], "bound_baseline": []}
    for e in eps_grid:
        dl = c * e**p
        q = QuadraticLSRProblem(delta=dl, d=BASE["d"], beta=BASE["beta"], rho=0.0, **consts)
        e2 = e**2
        p5 = LB.thm5_parameters(consts["L"], consts["sigma2"], e, consts["F0"])
        res["baseline"].append(q.min_samples(e2, [], p5["eta"], 0.0))
        th = 1 / (1 + dl)
        res["LSR"].append(q.min_samples(e2, [], 1 / consts["L"], th))
        p4 = LB.thm4_parameters(delta=dl, eps=e, **consts)
        pre = [(p4["eta1"], p4["theta"], p4["T1"])]
        res["TSLA"].append(p4["T1"] + q.min_samples(e2, pre, p4["eta2"], 0.0))
        for m in ("tsla", "lsr", "baseline"):
            res["bound_" + ("TSLA" if m == "tsla" else "LSR" if m == "lsr" else "baseline")].append(
                LB.total_samples(m, delta=dl, eps=e, **consts))
    return res


def _slope(eps_grid, T) -> float:
    T = np.asarray(T, float)
    if not np.all(np.isfinite(T)):
        return math.inf
    return float(slope_fit(np.log(1 / np.asarray(eps_grid)), np.log(T))["slope"])


def _table1_empirical(ctx) -> list[CheckResult]:
    eps_grid = np.geomspace(0.05, 0.2, 4 if ctx.quick else 6)
    regimes = [(1, 0.0, 0.5, {"TSLA": 4, "LSR": None, "baseline": 4}),
               (2, 2.0, 1 / (8 * BASE["sigma2"]), {"TSLA": 2, "LSR": 2, "baseline": 4}),
               (3, 3.0, 1.0, {"TSLA": (0, 2), "LSR": 2, "baseline": 4}),
               (4, 4.0, 1.0, {"TSLA": "log", "LSR": 2, "baseline": 4})]
    slack = 0.1
    allowance_log = 1 / math.log(1 / eps_grid[-1])  # slope of log(1/eps) on this grid is <= this
    out, n_ok = [], 0
    for k, p, c, paper in regimes:
        with Timer() as t:
            res = empirical_complexities(eps_grid, p, c)
        obs, ok, info = {}, True, {}
        for m in ("TSLA", "LSR", "baseline"):
            ke = _slope(eps_grid, res[m])
            kb = _slope(eps_grid, res["bound_" + m])
            pk = paper[m]
            if pk is None:
                good = True  # an infinite upper bound is never contradicted
                verdict = ("algorithm never reaches eps (consistent with inf)" if math.isinf(ke)
                           else "the algorithm reaches eps although the bound does not (inf is the bound's)")
            elif pk == "log":
                good = ke <= allowance_log + slack
                verdict = f"slope {ke:.3g} <= {allowance_log + slack:.3g} (log(1/eps) on this grid)"
            elif isinstance(pk, tuple):
                good = ke < pk[1] + slack
                verdict = f"slope {ke:.3g} < 2 - theta' with theta' in (0,2) (+{slack})"
            else:
                good = ke <= pk + slack
                verdict = f"slope {ke:.3g} <= {pk} + {slack}"
            ok &= good
            obs[m] = "inf" if math.isinf(ke) else round(ke, 2)
            info[m] = {"empirical_T": res[m], "theorem_T": res["bound_" + m], "empirical_slope": ke,
                       "theorem_slope_on_grid": kb, "paper": pk if pk is not None else "inf",
                       "consistent": good, "verdict": verdict}
        n_ok += ok
        paper_s = " | ".join("inf" if paper[m] is None else ("(0,2)" if isinstance(paper[m], tuple) else str(paper[m]))
                             for m in ("TSLA", "LSR", "baseline"))
        obs_s = " | ".join(str(obs[m]) for m in ("TSLA", "LSR", "baseline"))
        out.append(_claim_check(
            f"lsr.table1.empirical.row{k}",
            f"row {k}, delta = {c:g} eps^{p:g}: fitted exponent k (T ~ eps^-k) <= table's",
            f"{SRC}, Table 1", paper_s, obs_s, ok,
            {"eps_grid": eps_grid, "per_method": info,
             "method": ("exact expectation of each algorithm (moment recursion, validated by lsr.sim.moments) "
                        "with the theorems' eta, theta, T1; T = smallest horizon with E_R||grad F||^2 <= eps^2; "
                        "k = least-squares slope of log T against log(1/eps)"),
             "tolerance_reason": (f"Table 1 gives upper bounds up to constants: pass when k <= table + {slack} "
                                  f"(integer horizons and lower-order terms on a factor-4 eps range); a log(1/eps) "
                                  f"entry allows k <= 1/log(1/eps_max) = {allowance_log:.3g} + {slack}")},
            t.seconds))
    out.insert(0, _claim_check("lsr.table1.empirical", "empirical sample complexities within Table 1's orders",
                               f"{SRC}, Table 1", f"{len(regimes)}/{len(regimes)} rows", f"{n_ok}/{len(regimes)} rows",
                               n_ok == len(regimes), {"eps_grid": eps_grid}, 0.0))
    return out


def _lsr_pre(ctx) -> CheckResult:
    """LSR-pre: a teacher's predicted distribution gives a smaller delta than the uniform yhat."""
    with Timer() as t:
        lp = LogRegProblem.generate(d=20, K=10, N=1000, lam=1e-2, seed=ctx.seed)
        arr = lp.arrays()
        # teacher: full-batch gradient descent on F (step 1/L), 300 steps
        Lb = lp.L_bound
        W = jax.jit(lambda W0: jax.lax.fori_loop(
            0, 300, lambda t, W: W - LogRegProblem.full_grad(arr, W) / Lb, W0))(jnp.zeros((lp.K, lp.d)))
        n_it = 64 if ctx.quick else 256
        sim = simulate(lp, [(0.5 / lp.L_bound, 0.0, 200)], n_it, ctx.seed, record=False)
        Ws = jnp.asarray(sim["w_final"])
        uni = estimate_constants(lp, lp.uniform_yhat(), Ws)
        tea = estimate_constants(lp, lp.teacher_yhat(W), Ws)
    r = _claim_check(
        "lsr.logreg.lsr_pre", "LSR-pre (teacher's distribution as yhat) has smaller delta than uniform yhat",
        f"{SRC}, Section 6 (LSR-pre), eq. (4)", f"< delta_uniform = {uni['delta']:.4g}", tea["delta"],
        tea["delta"] < uni["delta"],
        {"uniform": uni, "teacher": tea,
         "method": (f"sigma2(W), delta(W) sigma2(W) are exact averages over the N = {lp.N} samples; the "
                    f"constants are their maxima over {n_it} iterates of independent SGD runs (200 steps, "
                    "eta = 0.5/L) from W = 0: a Monte Carlo estimate over the visited region"),
         "problem": "L2 logistic regression d=20 K=10 N=1000 lam=1e-2, Gaussian mixture (separation 2)"},
        t.seconds, error=tea["delta"] / uni["delta"], tolerance=1.0)
    return empirical(r, reproduced=r.passed,
                     effect=f"delta with the teacher's yhat {tea['delta']:.4g} vs uniform {uni['delta']:.4g}")


def _logreg_bounds(ctx, n) -> list[CheckResult]:
    """Theorems 5 and 3 on L2 logistic regression: L, mu analytic; sigma^2, delta by Monte Carlo."""
    out = []
    n = min(n, 2000)  # a full gradient per recorded step: 2000 seeds keep it to a few seconds
    with Timer() as t_est:
        lp = LogRegProblem.generate(d=5, K=4, N=200, lam=0.05, separation=2.0, seed=ctx.seed)
        arr = lp.arrays()
        Lb, mu = lp.L_bound, lp.mu_bound
        W = jax.jit(lambda W0: jax.lax.fori_loop(
            0, 300, lambda t, W: W - LogRegProblem.full_grad(arr, W) / Lb, W0))(jnp.zeros((lp.K, lp.d)))
        yhat = lp.teacher_yhat(W)  # LSR-pre: the teacher's predicted distribution
        F0 = float(LogRegProblem.value(arr, jnp.zeros((lp.K, lp.d))))
        pilots = [np.zeros((1, lp.K, lp.d))]
        for th in (0.0, 0.5, 1.0):
            for T in (1, 3, 10, 30, 100, 300):
                pilots.append(simulate(lp, [(1 / Lb, th, T)], 32, ctx.seed + 17, yhat=yhat, record=False)["w_final"])
        Ws = jnp.asarray(np.concatenate(pilots))
        cst = estimate_constants(lp, yhat, Ws)
        s2, dl = cst["sigma2"], cst["delta"]
    method = (f"L = lam + lambda_max(X^T X/N)/2 = {Lb:.4g} and mu = lam = {mu} are analytic bounds; sigma2 and "
              f"delta are the maxima of exact data-set averages over {Ws.shape[0]} iterates of pilot SGD runs "
              "(theta in {0, 0.5, 1}, eta = 1/L, 1 to 300 steps, 32 seeds each): Monte Carlo over the visited "
              "region, so the check is conditional on that estimate (reported below as 'covers')")
    eps = min(0.9, math.sqrt(0.1 * s2))  # eps < 1 (Definition 1) and eps^2 <= 2 sigma^2
    common = {"problem": "L2 logistic regression d=5 K=4 N=200 lam=0.05, teacher yhat (LSR-pre)",
              "L": Lb, "mu": mu, "F0": F0, "sigma2": s2, "delta": dl, "eps": eps, "constants_method": method}

    def covers(w_final, theta):
        s2f, ds2f = (np.asarray(v) for v in jax.jit(jax.vmap(
            lambda W: jnp.stack([LogRegProblem.noise_at(arr, W, 0.0), LogRegProblem.noise_at(arr, W, 1.0)])))(
                jnp.asarray(w_final[:256])).T)
        return {"max_sigma2_at_final_iterates": float(s2f.max()), "max_delta_sigma2_at_final_iterates":
                float(ds2f.max()), "covers": bool(s2f.max() <= s2 and ds2f.max() <= dl * s2)}

    with Timer() as t:
        P = LB.thm5_parameters(Lb, s2, eps, F0)
        r = simulate(lp, [(P["eta"], 0.0, P["T"])], n, ctx.seed, yhat=yhat)
        stats = upper_confidence(r["avg_grad_sq"][:, 0])
    out.append(_bound_check("lsr.thm5.logreg", "Theorem 5 on logistic regression (estimated sigma^2): <= eps^2",
                            f"{SRC}, Theorem 5", P["target"], stats,
                            {**common, "eta": P["eta"], "T": P["T"], **covers(r["w_final"], 0.0)},
                            t.seconds + t_est.seconds / 2))
    with Timer() as t:
        P = LB.thm3_parameters(Lb, s2, dl, eps, F0)
        r = simulate(lp, [(P["eta"], P["theta"], P["T"])], n, ctx.seed, yhat=yhat)
        stats = upper_confidence(r["avg_grad_sq"][:, 0])
    out.append(_bound_check("lsr.thm3.logreg", f"Theorem 3 ({P['case']}) on logistic regression, teacher yhat",
                            f"{SRC}, Theorem 3 ({P['case']})", P["target"], stats,
                            {**common, "case": P["case"], "eta": P["eta"], "theta": P["theta"], "T": P["T"],
                             **covers(r["w_final"], P["theta"])}, t.seconds + t_est.seconds / 2))
    return out


def run(ctx: VerifyContext) -> list[CheckResult]:
    n = 1000 if ctx.quick else 4000
    ctx.progress("lsr: deriving Theorems 3-5 and Table 1 in SymPy (cached on disk after the first run)")
    LB.bounds()
    out = []
    out += _lemma1(ctx, n)
    ctx.progress(f"lsr: Monte Carlo of Algorithms 1-2 and SGD on {n} seeds")
    out += _thm3(ctx, n)
    out.append(_thm5(ctx, n))
    out += _thm4(ctx, n)
    out.append(_moments(ctx, n))
    out += _assumptions(ctx, n)
    ctx.progress("lsr: Table 1, symbolic and empirical")
    out += _table1_symbolic()
    out += _table1_empirical(ctx)
    out.append(_lsr_pre(ctx))
    ctx.progress("lsr: Theorems 3 and 5 on logistic regression (constants estimated)")
    out += _logreg_bounds(ctx, n)
    return out
