"""Check group `lsr`: Lemma 1, Theorems 3, 4, 5 and Table 1 of the TSLA paper.

This group ignores the UFM problem parameters (K, d, n, alpha, lambdas): its
problems are the quadratic with exact constants and the logistic regression of
`ufm.tsla.problems`. It honours ``ctx.seed`` (Monte Carlo seeds) and ``ctx.quick``
(fewer seeds, a shorter eps grid).

*Expected* values are the SymPy-derived bounds (`ufm.tsla.bounds`); *observed*
values are Monte Carlo estimates (`ufm.tsla.simulate`) over independent seeds, reported
as a one-sided 99% CLT upper confidence bound (UCB). A bound check passes when
UCB <= bound (its ``error`` is UCB/bound, its tolerance 1) *and* its instrument
tests pass (`_instrument`): the seeds are independent (distinct final iterates),
the reported UCB is an upper bound (recomputed from the raw samples), and, on the
quadratic, the Monte Carlo mean is within 4 standard errors of the exact
expectation (the SymPy-derived moment recursion, `QuadraticLSRProblem`), two-sided.
The bounds carry slack (25% to 10x), so these tests, not the bound, catch a
lower bound used as the UCB, reused PRNG keys or a simulator at odds with the
recursion; `lsr.sim.constants` catches a simulated curvature or noise level other
than the L, mu, sigma^2 given to the theorems, and `lsr.sim.moments.correlation`
resolves the recursion's 0.4% noise-correlation term with a paired estimate.
The quadratic's sigma^2 is 0.7, not 1, so a missing sigma^2 factor shows. Assumption checks (`lsr.assume.*`) exhibit
what happens when a condition the proofs use but the theorems do not state
fails: the evidence is ``confirmed`` when the counterexample shows what the
derivation predicts, and the verdict on the theorem is then
``holds_under_conditions`` (naming the condition) or ``false``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

import ufm.tsla.bounds as LB
from ufm.core.stats import paired_difference, slope_fit
from ufm.verify.result import CheckResult, Timer, compare, empirical
from ufm.verify.context import VerifyContext
from ufm.tsla.problems import LogRegProblem, QuadraticLSRProblem, estimate_constants
from ufm.tsla.simulate import Z99, simulate, tsla_stages, upper_confidence

GROUP = "lsr"
DESCRIPTION = ("TSLA paper: Lemma 1, Theorems 3/4/5, Table 1 (SymPy bounds vs JAX Monte Carlo on "
               "problems with known constants); ignores the UFM problem parameters")
SRC = "TSLA paper"

# Default constants of the quadratic problem (exact L, mu, sigma^2, delta, F(w0)).
# sigma^2 != 1, so that a missing sigma^2 factor in a bound, a horizon or a step shows.
BASE = dict(L=1.0, mu=0.2, sigma2=0.7, F0=5.0, d=4, beta=0.5, rho=0.3)
EPS = 0.3
WHY_UCB = ("one-sided 99% CLT upper confidence bound of the mean over i.i.d. seeds; "
           "the check passes when UCB <= bound (error = UCB/bound, tolerance 1)")


def _instrument(samples, stats, exact=None, w_final=None, n_paths=math.inf, steps=None) -> dict:
    """What a bound check needs of its Monte Carlo before its UCB can be trusted, each
    recomputed here from the raw per-seed samples (not from `upper_confidence`):

    * ``seeds_independent``: the seeds ended at (at least 90% of) as many distinct iterates
      `w_final` as n independent draws from `n_paths` equally likely noise paths give in
      expectation, ``M (1 - (1 - 1/M)^n)`` (n itself for the quadratic's 2^(d T) sign
      paths; fewer for one step of logistic regression, M = N). A reused PRNG key repeats
      whole trajectories: all seeds alike, or half of them when half the keys repeat;
    * ``ucb_is_upper``: the reported UCB is at least ``mean + z_0.99 s/sqrt(n)`` (a
      lower confidence bound, or the bare mean, used as the UCB fails this);
    * ``mean_matches_exact`` (where the exact expectation exists, i.e. on the
      quadratic): ``|mean - exact| <= 4 s/sqrt(n)``, two-sided (false alarm 6e-5); a
      simulator whose curvature, noise level, step or horizon differs from the exact
      recursion's fails it, and so does s = 0 (all seeds alike);
    * ``steps_within_1_over_L`` (where `steps` = (step sizes, the simulated problem's largest
      curvature) is given): every step eta satisfies the proofs' eta <= 1/L with L the
      curvature the simulator really has; parameters computed from a too small L (eta up to
      2/L still converges, and the bounds' slack hides it) fail it.
    """
    x = np.asarray(samples, float)
    n = x.size
    m, s = float(np.mean(x)), float(np.std(x, ddof=1))
    se = s / math.sqrt(n)
    w = x.reshape(n, -1) if w_final is None else np.asarray(w_final, float).reshape(n, -1)
    distinct = int(np.unique(w, axis=0).shape[0])
    expected = n if math.isinf(n_paths) else -n_paths * math.expm1(n * math.log1p(-1 / n_paths))
    out = {"distinct_final_iterates": distinct, "expected_distinct": expected,
           "seeds_independent": bool(distinct >= 0.9 * expected),
           "ucb_is_upper": bool(stats["ucb"] >= m + Z99 * se - 1e-12 * abs(m)),
           "se": se}
    if steps is not None:
        etas, L_sim = steps
        out["max_eta_times_L"] = float(max(etas) * L_sim)
        out["steps_within_1_over_L"] = bool(max(etas) * L_sim <= 1 + 1e-12)
    if exact is not None:
        out["exact_expectation"] = float(exact)
        out["z_mean_vs_exact"] = (m - exact) / se if se > 0 else math.inf
        out["mean_matches_exact"] = bool(abs(m - exact) <= 4 * se)
    out["ok"] = all(v for k, v in out.items() if isinstance(v, bool))
    return out


def _bound_check(cid, claim, source, bound, samples, details, seconds, exact=None,
                 w_final=None, n_paths=math.inf, steps=None) -> CheckResult:
    stats = upper_confidence(samples)
    ratio = stats["ucb"] / bound
    inst = _instrument(samples, stats, exact, w_final, n_paths, steps)
    d = {**details, "mean": stats["mean"], "std": stats["std"], "n_seeds": stats["n"],
         "ucb_method": stats["method"], "instrument": inst,
         "tolerance_reason": WHY_UCB + "; and the instrument tests of `instrument` pass "
                             "(independent seeds, a UCB that is an upper bound, and, on the quadratic, "
                             "the Monte Carlo mean within 4 standard errors of the exact expectation)",
         "error_kind": "ratio UCB/bound"}
    return CheckResult(cid, GROUP, claim, source, float(bound), float(stats["ucb"]), float(ratio), 1.0,
                       bool(math.isfinite(ratio) and ratio <= 1.0 and inst["ok"]), True, seconds, d)


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
        w = jax.device_put(q.w0)
        key = jax.random.PRNGKey(ctx.seed)
        rows = []
        worst, ends_ok = 0.0, True

        @jax.jit
        def draw(key, k, th):  # the n keys split from fold_in(key, k) in the same program
            keys = jax.random.split(jax.random.fold_in(key, k), n)
            return jnp.sum(
                (jax.vmap(lambda kk: QuadraticLSRProblem.oracle(arr, w, kk, th))(keys) - arr["a"] * w) ** 2, axis=1)

        for k, th in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
            err = np.asarray(draw(key, k, th))
            st = upper_confidence(err)
            bnd = LB.lemma1_bound(q.sigma2, q.delta, th)
            row = {"theta": th, "bound": bnd, "ucb": st["ucb"], "mean": st["mean"], "exact": q.lemma1_exact(th)}
            if th in (0.0, 1.0):
                # Assumption 1 (i) and eq. (4) hold with equality, so Lemma 1 is an equality here:
                # a two-sided test, |mean - bound| <= 4 s/sqrt(n)
                # (+ 1e-12 bnd: at theta = 0 the Rademacher noise has ||xi||^2 = sigma^2 exactly, std 0)
                row["equality_test"] = abs(st["mean"] - bnd) <= 4 * st["std"] / math.sqrt(n) + 1e-12 * bnd
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
         "endpoints": "theta = 0 and 1: equality (two-sided 4-sigma test, false alarm 6e-5, plus 1e-12 "
                      "relative for float rounding where the draws have zero spread)",
         "tolerance_reason": WHY_UCB, "ucb_method": f"one-sided CLT, n = {n} oracle draws per theta"}))

    # Lemma 1 on logistic regression. The CE gradient is linear in the label, so Lemma 1 is the exact
    # decomposition ||(1-t)a + t b||^2 = (1-t)||a||^2 + t||b||^2 - t(1-t)||a-b||^2 averaged over the data
    # set: it cannot fail there. What can fail is the instrument: `noise_at` (an O(NKd) closed form used
    # for the logistic-regression constants) against brute-force per-sample gradients, and the
    # decomposition's slack t(1-t) E||a-b||^2 computed from those gradients.
    with Timer() as t:
        lp = LogRegProblem.generate(d=5, K=4, N=200, lam=1e-2, seed=ctx.seed)
        arr = lp.arrays()
        rng = np.random.default_rng(ctx.seed)
        # kept eager on purpose: fused into one program the rounding of these ~1e-16 deviations
        # changes, and with it which (W, theta) is reported as the worst
        Ws = rng.normal(0, 1.0, (8, lp.K, lp.d))

        def brute(W, th):
            dev = LogRegProblem.sample_grads(arr, W, th) - LogRegProblem.full_grad(arr, W)[None]
            return dev

        worst, info, min_slack = 0.0, None, np.inf
        for W in Ws:
            W = jax.device_put(W)
            a = brute(W, 0.0)
            b = brute(W, 1.0)
            s2 = float(jnp.mean(jnp.sum(a**2, axis=(1, 2))))
            ds2 = float(jnp.mean(jnp.sum(b**2, axis=(1, 2))))
            amb = float(jnp.mean(jnp.sum((a - b) ** 2, axis=(1, 2))))
            for th in (0.0, 0.1, 0.4, 0.9, 1.0):
                lhs_brute = float(jnp.mean(jnp.sum(brute(W, th) ** 2, axis=(1, 2))))
                lhs_closed = float(LogRegProblem.noise_at(arr, W, th))
                decomposed = (1 - th) * s2 + th * ds2 - th * (1 - th) * amb
                dev = max(abs(lhs_closed - lhs_brute), abs(decomposed - lhs_brute)) / lhs_brute
                min_slack = min(min_slack, ((1 - th) * s2 + th * ds2 - lhs_brute) / lhs_brute)
                if dev >= worst:
                    worst, info = dev, {"theta": th, "brute_force": lhs_brute, "noise_at": lhs_closed,
                                        "decomposition": decomposed, "lemma1_rhs": (1 - th) * s2 + th * ds2}
    out.append(CheckResult(
        "lsr.lemma1.logreg", GROUP,
        "logistic regression: noise_at and Lemma 1's decomposition equal brute-force per-sample gradients",
        f"{SRC}, Lemma 1 (instrument for the logistic-regression constants)", info["brute_force"],
        info["noise_at"], worst, 1e-10, worst <= 1e-10, True, t.seconds,
        {"problem": "L2-logistic regression d=5 K=4 N=200 lam=1e-2, 8 random W, theta in {0,0.1,0.4,0.9,1}",
         "worst": info, "error_kind": "relative, max over noise_at and the decomposition vs brute force",
         "lemma1_min_relative_slack": min_slack,
         "why_not_a_test_of_lemma1": "the gradient is linear in the label, so Lemma 1 is Jensen's inequality "
                                     "(the exact decomposition with a dropped t(1-t)||a-b||^2 >= 0) and "
                                     "cannot fail on any data set; this check tests the instrument",
         "tolerance_reason": "exact averages over the data set (no sampling); 1e-10 covers float64 "
                             "rounding of sums of ~1e3 terms and the cancellation in noise_at"}))
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
            exact = q.exact_average(st)
        target = P["target"]
        claim = ("delta <= eps^2/(4 sigma^2), T = 4F0/(eta eps^2): E_R||grad F||^2 <= eps^2" if case == 1
                 else "delta > eps^2/(4 sigma^2), T = F0/(eta delta sigma^2): E_R||grad F||^2 <= 4 delta sigma^2")
        out.append(_bound_check(
            f"lsr.thm3.case{case}", claim, f"{SRC}, Theorem 3 ({case})", target, r["avg_grad_sq"][:, 0],
            {"eps": EPS, "delta": delta, "eta": P["eta"], "theta": P["theta"], "T": P["T"],
             "theorem_bound_at_T": P["bound"], "sharp_bound_at_T (2 delta sigma2/(1+delta))": P["bound_sharp"],
             "exact_expectation": exact, "reaches_eps_in_expectation": exact <= EPS**2,
             "note": ("case (2) claims only the 4 delta sigma^2 level; whether the algorithm itself reaches "
                      "eps is reported in reaches_eps_in_expectation") if case == 2 else ""},
            t.seconds, exact=exact, w_final=r["w_final"], steps=([P["eta"]], float(np.max(q.a)))))
    return out


def _thm5(ctx, n) -> CheckResult:
    with Timer() as t:
        q = _quad(0.3)
        P = LB.thm5_parameters(q.L, q.sigma2, EPS, q.F0)
        st = [(P["eta"], 0.0, P["T"])]
        n = min(n, 2000)  # T ~ 5000 steps: the longest run; 2000 seeds keep it to a few seconds
        r = simulate(q, st, n, ctx.seed)
        exact = q.exact_average(st)
    return _bound_check("lsr.thm5", "SGD (theta=0), eta = min(1/L, eps^2/(2L sigma^2)), T = 4F0/(eta eps^2): <= eps^2",
                        f"{SRC}, Theorem 5 (App. C)", P["target"], r["avg_grad_sq"][:, 0],
                        {"eps": EPS, "eta": P["eta"], "T": P["T"], "theorem_bound_at_T": P["bound"],
                         "exact_expectation": exact}, t.seconds, exact=exact, w_final=r["w_final"],
                        steps=([P["eta"]], float(np.max(q.a))))


def _thm4(ctx, n) -> list[CheckResult]:
    with Timer() as t:
        delta = 0.01
        q = _quad(delta)
        P = LB.thm4_parameters(q.L, q.mu, q.sigma2, delta, EPS, q.F0)
        st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])
        r = simulate(q, st, n, ctx.seed)
        exact = q.exact_average(st)
        st1 = simulate(q, st[:1], n, ctx.seed + 1, record=False)
        gap_exact = q.exact_values(st[:1])["E_F_minus_Fstar"]
    common = {"eps": EPS, "delta": delta, "theta": P["theta"], "eta1": P["eta1"], "T1": P["T1"],
              "eta2": P["eta2"], "T2": P["T2"], "conditions": P["conditions"]}
    return [
        _bound_check("lsr.thm4", "TSLA: E_R||grad F(w_R)||^2 <= eps^2, R uniform on {T1..T1+T2-1}",
                     f"{SRC}, Theorem 4 (App. D)", P["target"], r["avg_grad_sq"][:, 1],
                     {**common, "exact_expectation": exact}, t.seconds / 2, exact=exact,
                     w_final=r["w_final"], steps=([P["eta1"], P["eta2"]], float(np.max(q.a)))),
        _bound_check("lsr.thm4.stage1", "TSLA stage 1: E[F(w_T1) - F*] <= 2 delta sigma^2/mu",
                     f"{SRC}, proof of Theorem 4, eq. (18)", P["stage1_gap_bound"],
                     st1["F_final"] - q.F_star, {**common, "exact_expectation": gap_exact}, t.seconds / 2,
                     exact=gap_exact, w_final=st1["w_final"], steps=([P["eta1"]], float(np.max(q.a)))),
    ]


def _moments(ctx, n) -> list[CheckResult]:
    """Monte Carlo against the SymPy-derived exact moment recursion (two stages, biased, correlated),
    and the recursion's noise-correlation term resolved by a paired (common random numbers) estimate."""
    out = []
    with Timer() as t:
        q = QuadraticLSRProblem(L=2.0, mu=0.3, sigma2=0.5, delta=0.4, F0=3.0, d=3, beta=0.6, rho=-0.4)
        q0 = dataclasses.replace(q, rho=0.0)
        st = [(0.4, 0.7, 30), (0.2, 0.0, 25)]
        n_pair = 8000 if ctx.quick else 16000
        # the same seed for both problems: the same Rademacher signs z1, z2 drive both (the oracle's
        # zeta = s (rho z1 + sqrt(1 - rho^2) z2)), so the shared randomness cancels in the difference
        r = simulate(q, st, n_pair, ctx.seed + 2)
        r0 = simulate(q0, st, n_pair, ctx.seed + 2)
        wsq = np.sum(r["w_final"] ** 2, axis=1)
        wsq0 = np.sum(r0["w_final"] ** 2, axis=1)
        ex, ex0 = q.exact_values(st)["E_w_sq"], q0.exact_values(st)["E_w_sq"]
        m, s = float(np.mean(wsq)), float(np.std(wsq, ddof=1))
        pd = paired_difference(wsq, wsq0)
    z = 4.0
    tol = z * s / math.sqrt(n_pair)
    problem = "quadratic d=3, L=2, mu=0.3, sigma2=0.5, delta=0.4, beta=0.6, rho=-0.4"
    r1 = compare("lsr.sim.moments", GROUP, "simulator: E||w_T||^2 equals the exact moment recursion",
                 "TSLA Algorithm 2 (exact second moments, SymPy-derived)", ex, m, tol,
                 relative=False,
                 why_tolerance=(f"two-sided CLT: |mean - E| <= {z} s/sqrt(n) (false alarm 6e-5), "
                                f"s = {s:.3g}, n = {n_pair}"),
                 details={"stages": st, "problem": problem,
                          "seeds_independent": bool(np.unique(wsq).size == wsq.size)},
                 seconds=t.seconds / 2)
    if not r1.details["seeds_independent"]:
        r1.contradict("two seeds gave the same ||w_T||^2: PRNG keys reused")
    out.append(r1)
    term = ex - ex0
    resolved = abs(term) >= 6 * pd["se"]
    r2 = compare("lsr.sim.moments.correlation", GROUP,
                 "simulator and exact recursion agree on the noise-correlation term E||w_T||^2(rho) - "
                 "E||w_T||^2(0)", "TSLA Algorithm 2 (exact second moments, SymPy-derived)", term, pd["mean"],
                 z * pd["se"], relative=False,
                 why_tolerance=(f"two-sided: |paired mean - exact term| <= {z} se, se = {pd['se']:.3g} "
                                f"(paired over n = {n_pair} seeds, common random numbers); and the "
                                f"instrument resolves the term: |term| >= 6 se"),
                 details={"stages": st, "problem": problem, "rho": q.rho,
                          "exact_with_rho": ex, "exact_rho_0": ex0,
                          "term_relative_to_E": term / ex, "term_over_se": term / pd["se"],
                          "se_unpaired_for_comparison": s / math.sqrt(n_pair),
                          "resolved": resolved, "paired": pd},
                 seconds=t.seconds / 2)
    if not resolved:
        r2.contradict(f"the instrument cannot resolve the term: |term| = {abs(term):.3g} < 6 se = "
                      f"{6 * pd['se']:.3g}")
    out.append(r2)
    return out


def _constants(ctx) -> CheckResult:
    """The quadratic's constants as the simulator sees them, measured from its oracle and
    objective, against the constants the theorems are given (BASE)."""
    with Timer() as t:
        q = _quad(0.3)
        arr = q.arrays()

        @jax.jit
        def probe(arr, I, w0, key):  # all the measurements below, in one compiled program
            # curvatures: ||grad F(e_i)|| = a_i for the coordinate vectors (F is separable)
            curv2 = jax.vmap(lambda e: QuadraticLSRProblem.grad_norm_sq(arr, e))(I)
            # L, mu as the extreme Rayleigh quotients 2 (F(v) - F*)/||v||^2 over those directions
            ray = jax.vmap(lambda e: 2 * (QuadraticLSRProblem.value(arr, e) - arr["F_star"]))(I)
            F0m = QuadraticLSRProblem.value(arr, w0)
            # noise levels from oracle draws at w = 0 with theta = 0 and 1 (mean-zero parts)
            keys = jax.random.split(key, 4000)
            w = jnp.zeros(I.shape[0])
            g0 = jax.vmap(lambda k: QuadraticLSRProblem.oracle(arr, w, k, 0.0))(keys)
            g1 = jax.vmap(lambda k: QuadraticLSRProblem.oracle(arr, w, k, 1.0))(keys)
            return curv2, ray, F0m, g0, g1

        curv2, ray, F0m, g0, g1 = jax.device_get(probe(arr, np.eye(q.d), q.w0, jax.random.PRNGKey(ctx.seed + 3)))
        curv = np.sqrt(curv2)
        F0m = float(F0m)
        s2 = upper_confidence(np.sum(g0**2, axis=1))
        ds2 = upper_confidence(np.sum(g1**2, axis=1))
    measured = {"L": float(curv.max()), "mu": float(curv.min()), "L_rayleigh": float(ray.max()),
                "mu_rayleigh": float(ray.min()), "F0": F0m, "sigma2_mean": s2["mean"],
                "delta_sigma2_mean": ds2["mean"]}
    given = {"L": BASE["L"], "mu": BASE["mu"], "F0": BASE["F0"], "sigma2": BASE["sigma2"],
             "delta_sigma2": 0.3 * BASE["sigma2"]}
    exact_ok = all(abs(measured[k] - given[k2]) <= 1e-12 * given[k2] for k, k2 in
                   (("L", "L"), ("mu", "mu"), ("L_rayleigh", "L"), ("mu_rayleigh", "mu"), ("F0", "F0")))
    # sum of squared Rademacher signs is exact: E||xi||^2 = sigma^2 with zero variance per draw;
    # the smoothing oracle's bias + noise has sample spread, so a 4-se two-sided test
    noise_ok = (abs(s2["mean"] - given["sigma2"]) <= 4 * s2["std"] / math.sqrt(s2["n"]) + 1e-12 and
                abs(ds2["mean"] - given["delta_sigma2"]) <= 4 * ds2["std"] / math.sqrt(ds2["n"]) + 1e-12)
    err = max(abs(measured["L"] - given["L"]) / given["L"], abs(measured["mu"] - given["mu"]) / given["mu"],
              abs(measured["F0"] - given["F0"]) / given["F0"])
    return _claim_check(
        "lsr.sim.constants", "the simulated quadratic has the L, mu, F(w0), sigma^2, delta sigma^2 the "
        "theorems are given", "TSLA paper, Assumptions 1-2 (the constants of the test problem)",
        given, measured, exact_ok and noise_ok,
        {"method": "L, mu: extreme curvatures ||grad F(e_i)|| and Rayleigh quotients over the coordinate "
                   "directions (F is separable); F(w0): the objective at w0; sigma^2, delta sigma^2: "
                   "means of ||g - grad F||^2 over 4000 oracle draws at w = 0 (theta = 0, 1), two-sided "
                   "4-se test", "why": "the bound checks pass with slack, so a simulator whose curvature "
                   "exceeds the L given to the theorems would pass them; this check does not"},
        t.seconds, error=err, tolerance=1e-12)


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
        c = dict(L=1.0, mu=0.2, sigma2=0.7, delta=0.2, F0=0.5)  # sigma2 delta/mu = 0.7 > F0
        P = LB.thm4_parameters(eps=EPS, **c)
        q = QuadraticLSRProblem(**c, d=4, beta=0.5, rho=0.3)
        st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])  # T1 clipped to >= 0
        r = simulate(q, st, n, ctx.seed)
        stats = upper_confidence(r["avg_grad_sq"][:, 1])
        exact = q.exact_average(st)
        inst = _instrument(r["avg_grad_sq"][:, 1], stats, exact, r["w_final"])
    out.append(_claim_check(
        "lsr.assume.T1_condition",
        "sigma^2 delta/mu <= F0 only keeps T1 >= 0; with T1 = max(0,T1) Thm 4 holds without it",
        f"{SRC}, Theorem 4 (stated condition)", f"UCB <= eps^2 = {EPS**2:g}", stats["ucb"],
        stats["ucb"] <= EPS**2 and inst["ok"],
        {"instrument": inst, "T1_log_argument (SymPy)": str(arg), "T1 >= 0 iff": "mu F0 (1 + delta) >= delta sigma2",
         "constants": {**c, "eps": EPS}, "stated_condition_holds": P["conditions"]["sigma2 delta/mu <= F0 (stated)"],
         "T1_unclipped": P["T1_real"], "T1_used": P["T1"], "T2": P["T2"], "exact_expectation": exact,
         "mean": stats["mean"], "ucb_method": stats["method"],
         "explanation": "if F0 < sigma2 delta/mu then E[F(w_0) - F*] <= F0 < 2 delta sigma2/mu, which is "
                        "eq. (18) at T1 = 0; stage 2 then gives eps^2 as in the proof"},
        t.seconds, error=stats["ucb"] / EPS**2, tolerance=1.0))
    _verdict(out[-1], "holds",
             "the stated condition sigma^2 delta/mu <= F(w0) is not needed: it only keeps T1 >= 0, and "
             f"with T1 = max(0, T1) the bound holds where it fails (UCB {stats['ucb']:.3g} <= eps^2)")

    # (d) delta >= 1 'baseline beats TSLA': the algorithms' exact sample complexities, not the bounds.
    with Timer() as t:
        R = LB.bounds().results
        cross = R["tsla_beats_baseline_below_delta"]
        cc = dict(L=BASE["L"], mu=BASE["mu"], sigma2=BASE["sigma2"], F0=BASE["F0"])
        cval = float(cross.subs({LB.mu: cc["mu"], LB.F0: cc["F0"], LB.sigma2: cc["sigma2"]}))
        eps_d = 0.05
        rows = []
        for dl in (0.25 * cval, 0.5 * cval, 1.0, 2.0, 4.0):  # both sides of the bounds' crossover, and delta >= 1
            rows.append({"delta": dl, **_exact_complexities(eps_d, dl, cc)})
        # evidence: each exact complexity (moment recursion) is within its theorem's total (a bound
        # the exact expectation must respect; a wrong bound, horizon or instrument breaks it)
        within = all(r_["tsla_exact"] <= r_["tsla_bound"] and r_["baseline_exact"] <= r_["baseline_bound"]
                     for r_ in rows)
        ge1 = [r_ for r_ in rows if r_["delta"] >= 1]
        tsla_wins_ge1 = [r_ for r_ in ge1 if r_["tsla_exact"] < r_["baseline_exact"]]
        bounds_switch = all((r_["tsla_bound"] < r_["baseline_bound"]) == (r_["delta"] < cval) for r_ in rows)
    worst = max(rows, key=lambda r_: r_["tsla_exact"] / r_["baseline_exact"])
    out.append(_claim_check(
        "lsr.assume.delta_ge_1",
        "paper: for delta >= 1 the baseline beats TSLA; measured: exact sample complexities of both "
        "algorithms (theorems' parameters) at delta on both sides of the bounds' crossover",
        f"{SRC}, remark after Theorem 4", "baseline < TSLA for delta >= 1 (paper)",
        f"TSLA < baseline at {len(tsla_wins_ge1)}/{len(ge1)} delta >= 1 (largest TSLA/baseline "
        f"{worst['tsla_exact'] / worst['baseline_exact']:.3g})",
        within,
        {"eps": eps_d, "constants": cc, "per_delta": rows,
         "measurement": ("smallest T with exact E_R||grad F||^2 <= eps^2 (moment recursion of the "
                         "quadratic, independent of the bound formulas) for the baseline (eta = "
                         "min(1/L, eps^2/(2 L sigma^2))) and for TSLA (Theorem 4's theta, eta1, T1, eta2, "
                         "stage 2 run until the level is reached)"),
         "passes_when": "every exact complexity is at most its theorem's total (Theorems 4, 5)",
         "bounds_crossover (derived, not a measurement)": {
             "delta": f"{cross} = {cval:g}", "bound_totals_switch_order_there": bounds_switch,
             "note": "the crossover is where the two derived totals are equal; it is a statement about "
                     "the bounds, computed from the same formulas, and is not judged here"}},
        t.seconds))
    if tsla_wins_ge1:
        ex = tsla_wins_ge1[-1]
        _verdict(out[-1], "false",
                 f"with the theorems' parameters TSLA needs fewer samples than the baseline at delta >= 1: "
                 f"delta = {ex['delta']:g}, eps = {eps_d}, L = {cc['L']}, mu = {cc['mu']}, sigma^2 = "
                 f"{cc['sigma2']}, F(w0) = {cc['F0']}: exact {ex['tsla_exact']:.0f} (TSLA) < "
                 f"{ex['baseline_exact']:.0f} (baseline). The bounds' own crossover is delta = mu F(w0)/"
                 f"(2 sigma^2) = {cval:.3g}, not 1")
    else:
        _verdict(out[-1], "holds", "the baseline needs fewer samples at every delta >= 1 measured")
    return out


def _exact_complexities(eps: float, delta: float, consts: dict) -> dict:
    """Exact sample complexities (moment recursion) of the baseline and of TSLA with the
    theorems' parameters, and the theorems' totals."""
    q = QuadraticLSRProblem(delta=delta, d=BASE["d"], beta=BASE["beta"], rho=0.0, **consts)
    e2 = eps**2
    p5 = LB.thm5_parameters(consts["L"], consts["sigma2"], eps, consts["F0"])
    p4 = LB.thm4_parameters(delta=delta, eps=eps, **consts)
    pre = [(p4["eta1"], p4["theta"], p4["T1"])]
    return {"baseline_exact": q.min_samples(e2, [], p5["eta"], 0.0),
            "tsla_exact": p4["T1"] + q.min_samples(e2, pre, p4["eta2"], 0.0),
            "baseline_bound": LB.total_samples("baseline", delta=delta, eps=eps, **consts),
            "tsla_bound": LB.total_samples("tsla", delta=delta, eps=eps, **consts)}


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


def empirical_complexities(eps_grid, p: float, c: float, consts=None,
                           methods=("TSLA", "LSR", "baseline")) -> dict:
    """Smallest T (exact expectation) with E_R||grad F||^2 <= eps^2, per method, for delta = c eps^p,
    with the theorems' step sizes (and TSLA's T1); also the theorems' own totals."""
    consts = consts or dict(L=BASE["L"], mu=BASE["mu"], sigma2=BASE["sigma2"], F0=BASE["F0"])
    res = {k: [] for m in methods for k in (m, "bound_" + m)}
    key = {"TSLA": "tsla", "LSR": "lsr", "baseline": "baseline"}
    for e in eps_grid:
        dl = c * e**p
        q = QuadraticLSRProblem(delta=dl, d=BASE["d"], beta=BASE["beta"], rho=0.0, **consts)
        e2 = e**2
        if "baseline" in methods:
            p5 = LB.thm5_parameters(consts["L"], consts["sigma2"], e, consts["F0"])
            res["baseline"].append(q.min_samples(e2, [], p5["eta"], 0.0))
        if "LSR" in methods:
            res["LSR"].append(q.min_samples(e2, [], 1 / consts["L"], 1 / (1 + dl)))
        if "TSLA" in methods:
            p4 = LB.thm4_parameters(delta=dl, eps=e, **consts)
            pre = [(p4["eta1"], p4["theta"], p4["T1"])]
            res["TSLA"].append(p4["T1"] + q.min_samples(e2, pre, p4["eta2"], 0.0))
        for m in methods:
            res["bound_" + m].append(LB.total_samples(key[m], delta=dl, eps=e, **consts))
    return res


def _slope(eps_grid, T) -> float:
    T = np.asarray(T, float)
    if not np.all(np.isfinite(T)):
        return math.inf
    return float(slope_fit(np.log(1 / np.asarray(eps_grid)), np.log(T))["slope"])


def _table1_empirical(ctx) -> list[CheckResult]:
    # eps^-4 orders (the baseline, TSLA at constant delta) need T ~ 1e9 at eps = 0.01: two decades;
    # the others (eps^-2 and below) run over 3.3 decades, so that log(1/eps) and eps^-0.4 differ:
    # a log(1/eps) growth has local slope <= 1/log(1/eps) (0.145 on the last decade, eps <= 1e-3),
    # eps^-0.4 has 0.4 everywhere
    n_pts = 6 if ctx.quick else 9
    narrow = np.geomspace(0.01, 0.2, 4 if ctx.quick else 5)
    wide = np.geomspace(1e-4, 0.2, n_pts)
    last = np.geomspace(1e-4, 1e-3, 3 if ctx.quick else 4)  # the last decade, for the log(1/eps) entry
    regimes = [(1, 0.0, 0.5, {"TSLA": 4, "LSR": None, "baseline": 4}),
               (2, 2.0, 1 / (8 * BASE["sigma2"]), {"TSLA": 2, "LSR": 2, "baseline": 4}),
               (3, 3.0, 1.0, {"TSLA": (0, 2), "LSR": 2, "baseline": 4}),
               (4, 4.0, 1.0, {"TSLA": "log", "LSR": 2, "baseline": 4})]
    slack = 0.05
    allowance_log = 1 / math.log(1 / last[-1])
    out, n_ok = [], 0
    for k, p, c, paper in regimes:
        with Timer() as t:
            info, obs, ok = {}, {}, True
            for m in ("TSLA", "LSR", "baseline"):
                pk = paper[m]
                if pk is None:
                    # an infinite upper bound cannot be contradicted: reported, not judged
                    res = empirical_complexities(narrow, p, c, methods=(m,))
                    ke = _slope(narrow, res[m])
                    obs[m] = "not judged"
                    info[m] = {"grid": narrow, "empirical_T": res[m], "theorem_T": res["bound_" + m],
                               "paper": "inf", "judged": False,
                               "why": "Table 1's inf is the bound's (Theorem 3 (1) does not apply at "
                                      "constant delta); an infinite upper bound is true of any algorithm, "
                                      "so comparing with it would be true by construction",
                               "empirical": "never reaches eps" if math.isinf(ke) else
                                            f"reaches eps with fitted exponent {ke:.3g}"}
                    continue
                grid = narrow if pk == 4 else wide
                res = empirical_complexities(grid, p, c, methods=(m,))
                ke = _slope(grid, res[m])
                kb = _slope(grid, res["bound_" + m])
                if pk == "log":
                    rl = empirical_complexities(last, p, c, methods=(m,))
                    kl = _slope(last, rl[m])
                    good = kl <= allowance_log + slack
                    verdict = (f"local slope {kl:.3g} on eps in [1e-4, 1e-3] <= 1/log(1/eps) = "
                               f"{allowance_log:.3g} + {slack} (eps^-0.4 would give 0.4)")
                    obs_v = round(kl, 3)
                elif isinstance(pk, tuple):
                    good = ke < pk[1] + slack
                    verdict = f"slope {ke:.3g} < 2 - theta' with theta' in (0,2) (+{slack})"
                    obs_v = round(ke, 2)
                else:
                    good = ke <= pk + slack
                    verdict = f"slope {ke:.3g} <= {pk} + {slack}"
                    obs_v = round(ke, 2)
                ok &= good
                obs[m] = "inf" if math.isinf(obs_v) else obs_v
                info[m] = {"grid": grid, "empirical_T": res[m], "theorem_T": res["bound_" + m],
                           "empirical_slope": ke, "theorem_slope_on_grid": kb, "paper": pk,
                           "consistent": good, "verdict": verdict, "judged": True}
        n_ok += ok
        paper_s = " | ".join("inf (not judged)" if paper[m] is None else
                             ("(0,2)" if isinstance(paper[m], tuple) else str(paper[m]))
                             for m in ("TSLA", "LSR", "baseline"))
        obs_s = " | ".join(str(obs[m]) for m in ("TSLA", "LSR", "baseline"))
        out.append(_claim_check(
            f"lsr.table1.empirical.row{k}",
            f"row {k}, delta = {c:g} eps^{p:g}: fitted exponent k (T ~ eps^-k) <= table's",
            f"{SRC}, Table 1", paper_s, obs_s, ok,
            {"per_method": info,
             "method": ("exact expectation of each algorithm (moment recursion, validated by lsr.sim.moments) "
                        "with the theorems' eta, theta, T1; T = smallest horizon with E_R||grad F||^2 <= eps^2; "
                        "k = least-squares slope of log T against log(1/eps); eps in [0.01, 0.2] for the "
                        "eps^-4 entries, [1e-4, 0.2] for the others, [1e-4, 1e-3] for log(1/eps)"),
             "tolerance_reason": (f"Table 1 gives upper bounds up to constants: pass when k <= table + {slack} "
                                  f"(integer horizons and lower-order terms); a log(1/eps) entry allows a "
                                  f"local slope <= 1/log(1/eps_max) = {allowance_log:.3g} + {slack} on the last "
                                  "decade; the LSR 'inf' entry is not judged (true of any algorithm)")},
            t.seconds))
    out.insert(0, _claim_check("lsr.table1.empirical", "empirical sample complexities within Table 1's orders",
                               f"{SRC}, Table 1", f"{len(regimes)}/{len(regimes)} rows", f"{n_ok}/{len(regimes)} rows",
                               n_ok == len(regimes), {"eps_grids": {"narrow": narrow, "wide": wide, "last": last}},
                               0.0))
    return out


def _lsr_pre(ctx) -> CheckResult:
    """LSR-pre: a teacher's predicted distribution gives a smaller delta than the uniform yhat."""
    with Timer() as t:
        lp = LogRegProblem.generate(d=20, K=10, N=1000, lam=1e-2, seed=ctx.seed)
        arr = lp.arrays()
        # teacher: full-batch gradient descent on F (step 1/L), 300 steps
        Lb = lp.L_bound
        W = jax.jit(lambda W0: jax.lax.fori_loop(
            0, 300, lambda t, W: W - LogRegProblem.full_grad(arr, W) / Lb, W0))(np.zeros((lp.K, lp.d)))
        n_it = 64 if ctx.quick else 256
        sim = simulate(lp, [(0.5 / lp.L_bound, 0.0, 200)], n_it, ctx.seed, record=False)
        Ws = sim["w_final"]
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
    n = min(n, 500)  # a full gradient (N = 200) per recorded step; 500 seeds: UCB/bound ~ 0.2, a wide margin
    with Timer() as t_est:
        lp = LogRegProblem.generate(d=5, K=4, N=200, lam=0.05, separation=2.0, seed=ctx.seed)
        arr = lp.arrays()
        Lb, mu = lp.L_bound, lp.mu_bound
        W = jax.jit(lambda W0: jax.lax.fori_loop(
            0, 300, lambda t, W: W - LogRegProblem.full_grad(arr, W) / Lb, W0))(np.zeros((lp.K, lp.d)))
        yhat = lp.teacher_yhat(W)  # LSR-pre: the teacher's predicted distribution
        F0 = float(jax.jit(LogRegProblem.value)(arr, np.zeros((lp.K, lp.d))))
        pilots = [np.zeros((1, lp.K, lp.d))]
        for th in (0.0, 0.5, 1.0):
            for T in (1, 3, 10, 30, 100, 300):
                pilots.append(simulate(lp, [(1 / Lb, th, T)], 32, ctx.seed + 17, yhat=yhat, record=False)["w_final"])
        Ws = np.concatenate(pilots)
        cst = estimate_constants(lp, yhat, Ws)
        s2, dl = cst["sigma2"], cst["delta"]
    method = (f"L = lam + lambda_max(X^T X/N)/2 = {Lb:.4g} and mu = lam = {mu} are analytic bounds; sigma2 and "
              f"delta are the maxima of exact data-set averages over {Ws.shape[0]} iterates of pilot SGD runs "
              "(theta in {0, 0.5, 1}, eta = 1/L, 1 to 300 steps, 32 seeds each): Monte Carlo over the visited "
              "region, so the check is conditional on that estimate (reported below as 'covers')")
    eps = min(0.9, math.sqrt(0.1 * s2))  # eps < 1 (Definition 1) and eps^2 <= 2 sigma^2
    common = {"problem": "L2 logistic regression d=5 K=4 N=200 lam=0.05, teacher yhat (LSR-pre)",
              "L": Lb, "mu": mu, "F0": F0, "sigma2": s2, "delta": dl, "eps": eps, "constants_method": method}

    noise_pairs = jax.jit(jax.vmap(
        lambda W: jnp.stack([LogRegProblem.noise_at(arr, W, 0.0), LogRegProblem.noise_at(arr, W, 1.0)])))

    def covers(w_final, theta):
        s2f, ds2f = np.asarray(noise_pairs(w_final[:256])).T
        return {"max_sigma2_at_final_iterates": float(s2f.max()), "max_delta_sigma2_at_final_iterates":
                float(ds2f.max()), "covers": bool(s2f.max() <= s2 and ds2f.max() <= dl * s2)}

    with Timer() as t:
        P = LB.thm5_parameters(Lb, s2, eps, F0)
        r = simulate(lp, [(P["eta"], 0.0, P["T"])], n, ctx.seed, yhat=yhat)
    out.append(_bound_check("lsr.thm5.logreg", "Theorem 5 on logistic regression (estimated sigma^2): <= eps^2",
                            f"{SRC}, Theorem 5", P["target"], r["avg_grad_sq"][:, 0],
                            {**common, "eta": P["eta"], "T": P["T"], **covers(r["w_final"], 0.0)},
                            t.seconds + t_est.seconds / 2, w_final=r["w_final"],
                            n_paths=float(lp.N) ** min(P["T"], 8)))
    with Timer() as t:
        P = LB.thm3_parameters(Lb, s2, dl, eps, F0)
        r = simulate(lp, [(P["eta"], P["theta"], P["T"])], n, ctx.seed + 1, yhat=yhat)
    out.append(_bound_check("lsr.thm3.logreg", f"Theorem 3 ({P['case']}) on logistic regression, teacher yhat",
                            f"{SRC}, Theorem 3 ({P['case']})", P["target"], r["avg_grad_sq"][:, 0],
                            {**common, "case": P["case"], "eta": P["eta"], "theta": P["theta"], "T": P["T"],
                             **covers(r["w_final"], P["theta"])}, t.seconds + t_est.seconds / 2,
                            w_final=r["w_final"], n_paths=float(lp.N) ** min(P["T"], 8)))
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
    out += _moments(ctx, n)
    out.append(_constants(ctx))
    out += _assumptions(ctx, n)
    ctx.progress("lsr: Table 1, symbolic and empirical")
    out += _table1_symbolic()
    out += _table1_empirical(ctx)
    out.append(_lsr_pre(ctx))
    ctx.progress("lsr: Theorems 3 and 5 on logistic regression (constants estimated)")
    out += _logreg_bounds(ctx, n)
    return out
