"""Theorems 3, 4, 5 (TSLA paper, `ufm.tsla.bounds`): the SymPy bounds, their parameter choices, Table 1.

Property tests sweep the constants (L, mu, sigma^2, delta, eps, F(w0)) over wide
ranges and check the bound at the prescribed horizon against eps^2 exactly where
the theorem says so; the *exact* expectation of each algorithm on the quadratic
with those constants (moment recursion) is then checked against the theorem.
"""

import math

import pytest
from hypothesis import assume, given, strategies as st

from ufm import (
    QuadraticLSRProblem,
    evaluate_bound,
    lemma1_bound,
    lsr_derivation,
    table1_orders,
    thm3_parameters,
    thm4_parameters,
    thm5_parameters,
    total_samples,
    tsla_stages,
)

pos = lambda lo, hi: st.floats(lo, hi, allow_nan=False, allow_infinity=False)  # noqa: E731


def _bisect(f, lo, hi) -> float:
    """Root of a decreasing f with f(lo) > 0 > f(hi), by bisection in log space."""
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return math.sqrt(lo * hi)


def test_derivation_fully_verified():
    D = lsr_derivation()
    assert D.all_verified, [s.title for s in D.unverified]
    assert str(D.results["eta_max_descent"]) == "1/L"


def test_horizons_are_where_the_evaluated_bounds_meet_their_targets():
    """Each horizon against a numeric root of its own bound (evaluated at numbers, bisection),
    and T1 against the PL recursion iterated in plain Python: no formula typed in from the paper."""
    v = dict(L=2.0, mu=0.5, sigma2=0.7, delta=0.01, eps=0.5, F0=7.0)
    floor3 = evaluate_bound("thm3_bound", **v, T=1e300)
    T_c1 = _bisect(lambda t: evaluate_bound("thm3_bound", **v, T=t) - floor3 - v["eps"] ** 2 / 2, 1e-6, 1e12)
    assert evaluate_bound("thm3_T_case1", **v) == pytest.approx(T_c1, rel=1e-9)
    T_c2 = _bisect(lambda t: evaluate_bound("thm3_bound", **v, T=t) - 2 * floor3, 1e-6, 1e12)
    assert evaluate_bound("thm3_T_case2", **v) == pytest.approx(T_c2, rel=1e-9)
    # Theorem 5: eta from the floor, T from the optimisation term of its own bound
    e5 = _bisect(lambda x: v["eps"] ** 2 / 2 - evaluate_bound("thm5_bound", **v, eta=x, T=1e300), 1e-12, 1e6)
    assert evaluate_bound("thm5_eta_noise", **v) == pytest.approx(e5, rel=1e-9)
    fl5 = evaluate_bound("thm5_bound", **v, eta=e5, T=1e300)
    T5 = _bisect(lambda t: evaluate_bound("thm5_bound", **v, eta=e5, T=t) - fl5 - v["eps"] ** 2 / 2, 1e-6, 1e15)
    assert evaluate_bound("thm5_T", **v, eta=e5) == pytest.approx(T5, rel=1e-9)
    # Theorem 4 stage 2
    e2 = evaluate_bound("thm4_eta2", **v)
    fl4 = evaluate_bound("thm4_bound", **v, eta2=e2, T2=1e300)
    assert fl4 == pytest.approx(v["eps"] ** 2 / 2, rel=1e-12)
    T2 = _bisect(lambda t: evaluate_bound("thm4_bound", **v, eta2=e2, T2=t) - fl4 - v["eps"] ** 2 / 2, 1e-6, 1e15)
    assert evaluate_bound("thm4_T2", **v) == pytest.approx(T2, rel=1e-9)
    # Theorem 4 stage 1: the PL recursion (eta1 = 1/L, Lemma 1's variance) meets 2 V/(2 mu) by T1
    theta = evaluate_bound("theta3", **v)
    V = lemma1_bound(v["sigma2"], v["delta"], theta)
    r, t = v["F0"], 0
    while r > V / v["mu"]:
        r = (1 - v["mu"] / v["L"]) * r + V / (2 * v["L"])
        t += 1
    assert t <= evaluate_bound("thm4_T1", **v) + 1


@given(L=pos(1e-3, 1e3), sigma2=pos(1e-3, 1e3), delta=pos(1e-8, 1e2), eps=pos(1e-3, 1.0), F0=pos(1e-3, 1e4))
def test_thm3_bound_at_prescribed_T(L, sigma2, delta, eps, F0):
    thr = eps**2 / (4 * sigma2)
    assume(abs(delta - thr) > 1e-9 * thr)
    P = thm3_parameters(L, sigma2, delta, eps, F0)
    at_real = evaluate_bound("thm3_bound", L=L, sigma2=sigma2, delta=delta, F0=F0, T=P["T_real"])
    if delta <= thr:
        assert P["case"] == 1 and at_real <= eps**2 * (1 + 1e-12)
    else:
        assert P["case"] == 2 and at_real == pytest.approx(4 * delta * sigma2, rel=1e-12)
        # case (2) at the case-(1) horizon does not reach eps^2: the bound is above it
        T1 = evaluate_bound("thm3_T_case1", L=L, F0=F0, eps=eps)
        assert evaluate_bound("thm3_bound", L=L, sigma2=sigma2, delta=delta, F0=F0, T=T1) > eps**2
    assert P["bound_sharp"] <= P["bound"]


@given(L=pos(1e-3, 1e3), sigma2=pos(1e-3, 1e3), eps=pos(1e-3, 1.0), F0=pos(1e-3, 1e4))
def test_thm5_bound_at_prescribed_T(L, sigma2, eps, F0):
    P = thm5_parameters(L, sigma2, eps, F0)
    b = evaluate_bound("thm5_bound", L=L, sigma2=sigma2, F0=F0, eta=P["eta"], T=P["T_real"])
    assert P["eta"] <= 1 / L * (1 + 1e-15)
    assert b <= eps**2 * (1 + 1e-12)


@given(L=pos(1e-2, 1e2), ratio=pos(1e-3, 1.0), sigma2=pos(1e-3, 1e2), delta=pos(1e-6, 1e2),
       eps=pos(1e-3, 1.0), F0=pos(1e-3, 1e3))
def test_thm4_bound_and_conditions(L, ratio, sigma2, delta, eps, F0):
    mu = ratio * L
    P = thm4_parameters(L, mu, sigma2, delta, eps, F0)
    b = evaluate_bound("thm4_bound", L=L, mu=mu, sigma2=sigma2, delta=delta, eta2=P["eta2"], T2=P["T2_real"])
    assert b == pytest.approx(eps**2, rel=1e-10)  # the budget split gives exactly eps^2
    cond = P["conditions"]
    assert cond["eps2_le_2sigma2 (eta2 <= 1/L, unstated)"] == (P["eta2"] <= 1 / L * (1 + 1e-12)) or \
        abs(eps**2 - 2 * sigma2) < 1e-12 * sigma2
    assert cond["T1 >= 0 (log argument >= 1)"] == (P["T1_real"] >= -1e-9)
    if cond["sigma2 delta/mu <= F0 (stated)"]:
        assert cond["T1 >= 0 (log argument >= 1)"]  # the stated condition implies T1 >= 0


@given(L=pos(0.1, 10.0), ratio=pos(0.01, 1.0), sigma2=pos(1e-2, 10.0), dfrac=pos(1e-4, 1.0),
       eps=pos(0.05, 1.0), F0=pos(0.1, 100.0), beta=pos(0.0, 1.0))
def test_theorems_hold_exactly_on_the_quadratic(L, ratio, sigma2, dfrac, eps, F0, beta):
    """Exact expectations (moment recursion) of the three algorithms with the theorems'
    parameters are <= the theorems' levels, wherever their (stated and unstated) conditions hold."""
    mu = ratio * L
    assume(eps**2 <= 2 * sigma2)
    delta = dfrac * mu * F0 / sigma2  # sigma^2 delta/mu <= F0
    q = QuadraticLSRProblem(L=L, mu=mu, sigma2=sigma2, delta=delta, F0=F0, d=4, beta=beta, rho=0.5)
    P3 = thm3_parameters(L, sigma2, delta, eps, F0)
    ex3 = q.exact_average([(P3["eta"], P3["theta"], P3["T"])])
    assert ex3 <= P3["target"] * (1 + 1e-9)
    P5 = thm5_parameters(L, sigma2, eps, F0)
    assert q.exact_average([(P5["eta"], 0.0, P5["T"])]) <= eps**2 * (1 + 1e-9)
    P4 = thm4_parameters(L, mu, sigma2, delta, eps, F0)
    st4 = tsla_stages(P4["eta1"], P4["theta"], P4["T1"], P4["eta2"], P4["T2"])
    assert q.exact_average(st4) <= eps**2 * (1 + 1e-9)
    assert q.exact_values(st4[:1])["E_F_minus_Fstar"] <= P4["stage1_gap_bound"] * (1 + 1e-9)


def test_counterexample_eps_above_2sigma2():
    c = dict(L=1.0, mu=0.2, sigma2=0.1, delta=5.0, F0=5.0)
    P = thm4_parameters(eps=0.8, **c)
    assert P["conditions"]["sigma2 delta/mu <= F0 (stated)"]
    assert not P["conditions"]["eps2_le_2sigma2 (eta2 <= 1/L, unstated)"]
    q = QuadraticLSRProblem(**c, d=4)
    st = tsla_stages(P["eta1"], P["theta"], P["T1"], P["eta2"], P["T2"])
    assert q.exact_average(st) > 100 * 0.8**2


def test_table1_orders():
    rows = table1_orders()
    assert len(rows) == 4
    assert all(all(r["agree"].values()) for r in rows)
    ks = [e["k"] for e in rows[2]["derived"]["TSLA"]]
    assert ks == ["3/2", "1", "1/2"]  # 1/eps^(4-p) for delta = c eps^p, p in (2, 4)
    # the crossover of the two totals, against the totals evaluated at a small eps on either side
    c = dict(L=1.0, mu=0.2, sigma2=0.7, F0=5.0)
    cross = evaluate_bound("tsla_beats_baseline_below_delta", **c)
    for f, tsla_smaller in ((0.9, True), (1.1, False)):
        tot = {m: total_samples(m, delta=f * cross, eps=1e-3, **c) for m in ("tsla", "baseline")}
        assert (tot["tsla"] < tot["baseline"]) == tsla_smaller


@pytest.mark.parametrize("kw, name", [
    (dict(L=0.0, sigma2=1.0, delta=0.1, eps=0.1, F0=1.0), "L"),
    (dict(L=1.0, sigma2=-1.0, delta=0.1, eps=0.1, F0=1.0), "sigma2"),
    (dict(L=1.0, sigma2=1.0, delta=-0.1, eps=0.1, F0=1.0), "delta"),
    (dict(L=1.0, sigma2=1.0, delta=0.1, eps=0.0, F0=1.0), "eps"),
    (dict(L=1.0, sigma2=1.0, delta=0.1, eps=-1.0, F0=1.0), "eps"),
    (dict(L=1.0, sigma2=1.0, delta=0.1, eps=0.1, F0=float("nan")), "F0"),
])
def test_bad_parameters_raise(kw, name):
    with pytest.raises(ValueError, match=rf"{name}=.*allowed"):
        thm3_parameters(**kw)


def test_bad_theta_and_mu():
    with pytest.raises(ValueError, match=r"theta=1.5.*allowed: 0 <= theta <= 1"):
        lemma1_bound(1.0, 0.1, 1.5)
    with pytest.raises(ValueError, match=r"theta=-0.1"):
        lemma1_bound(1.0, 0.1, -0.1)
    with pytest.raises(ValueError, match=r"mu=2.0.*mu <= L"):
        thm4_parameters(L=1.0, mu=2.0, sigma2=1.0, delta=0.1, eps=0.1, F0=1.0)
    with pytest.raises(ValueError, match=r"mu=0.0"):
        thm4_parameters(L=1.0, mu=0.0, sigma2=1.0, delta=0.1, eps=0.1, F0=1.0)
    with pytest.raises(ValueError, match=r"method="):
        total_samples("adam", L=1.0, mu=0.5, sigma2=1.0, delta=0.1, eps=0.1, F0=1.0)
