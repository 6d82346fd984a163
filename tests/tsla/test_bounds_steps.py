"""Lemma 1 and Theorems 3, 5, 4 of the TSLA paper, step function by step function.

Each step of `ufm.tsla.bounds` runs on a fresh `Derivation`; the steps it adds
must be verified, and what it returns is evaluated at numbers and compared
with quantities computed independently: exact expectations over finite noise
distributions, the exact moment recursion of SGD on a quadratic, and the
recursions of the proofs iterated in plain Python.
"""

import math

import numpy as np
import pytest
import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds import bounds, derive, derive_table1, table1_orders
from ufm.tsla.bounds.derivation import new_derivation
from ufm.tsla.bounds.lemma1 import lemma1_decomposition
from ufm.tsla.bounds.symbols import F0, G, L, T, T1, T2, V, delta, eps, eta, eta2, mu, sigma2, theta
from ufm.tsla.bounds.table1 import agreement, derived_orders, order_in_eps, row_notes
from ufm.tsla.bounds.thm3 import descent_lemma, telescoping, thm3_bound, thm3_horizons
from ufm.tsla.bounds.thm4 import pl_recursion, thm4_stage1, thm4_stage2, tsla_versus_baseline
from ufm.tsla.bounds.thm5 import thm5_baseline

NAMES = {"L": L, "mu": mu, "sigma2": sigma2, "delta": delta, "eps": eps, "F0": F0, "eta": eta,
         "T": T, "theta": theta, "V": V, "G": G, "T1": T1, "T2": T2, "eta2": eta2}


def ev(expr, **values) -> float:
    return float(sp.sympify(expr).subs({NAMES[k]: sp.nsimplify(v) for k, v in values.items()}))


def verified_kinds(D: Derivation):
    assert D.all_verified, [s.title for s in D.unverified]
    return [s.kind for s in D.steps]


def quadratic_sgd_average(Lv, eta_v, V_v, F0_v, Tv) -> tuple[float, float]:
    """SGD on F(w) = L/2 w^2 (F* = 0) with additive noise of variance V, exact in
    expectation: E w_{t+1}^2 = (1 - eta L)^2 E w_t^2 + eta^2 V. Returns
    ((1/T) sum_t E F'(w_t)^2, E F(w_T))."""
    m = 2 * F0_v / Lv  # E w_0^2 with F(w0) = F0
    total = 0.0
    for _ in range(Tv):
        total += Lv**2 * m
        m = (1 - eta_v * Lv) ** 2 * m + eta_v**2 * V_v
    return total / Tv, Lv / 2 * m


# ---- Lemma 1 ----------------------------------------------------------------------


def test_lemma1_bound_holds_for_an_explicit_noise_distribution():
    D = Derivation("t", "t")
    Vth = lemma1_decomposition(D)
    assert verified_kinds(D) == ["note", "identity", "identity", "identity", "definition"]
    assert D.results["V_lemma1"] is Vth
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 3)), 0.3 * rng.normal(size=(50, 3))
    a -= a.mean(0)  # both zero mean: gradient deviations
    b -= b.mean(0)
    s2, dl = np.mean(np.sum(a**2, 1)), np.mean(np.sum(b**2, 1)) / np.mean(np.sum(a**2, 1))
    for th in (0.0, 0.2, 0.5, 1 / 1.1, 1.0):
        exact = np.mean(np.sum(((1 - th) * a + th * b) ** 2, 1))
        bound = ev(Vth, sigma2=s2, delta=dl, theta=th)
        assert bound == pytest.approx((1 - th) * s2 + th * dl * s2, rel=1e-12)
        assert exact <= bound * (1 + 1e-12)


# ---- Theorem 3 --------------------------------------------------------------------


def test_descent_lemma_per_step_bound_on_a_quadratic():
    D = Derivation("t", "t")
    per_step = descent_lemma(D)
    assert verified_kinds(D) == ["identity", "identity"]
    assert ev(D.results["eta_max_descent"], L=4.0) == 0.25
    Lv, w, Vv = 2.0, 1.3, 0.7
    noise = np.array([-1.0, 1.0]) * math.sqrt(Vv)  # E noise = 0, E noise^2 = V
    for eta_v in (0.1, 0.3, 0.5):  # eta <= 1/L
        grad = Lv * w
        exact = np.mean([Lv / 2 * (w - eta_v * (grad + z)) ** 2 for z in noise]) - Lv / 2 * w**2
        assert exact <= ev(per_step, eta=eta_v, G=grad**2, V=Vv) + 1e-14


def test_telescoping_bounds_the_average_squared_gradient():
    D = Derivation("t", "t")
    bound = telescoping(D, -eta / 2 * G + eta / 2 * V)
    assert verified_kinds(D) == ["identity", "identity"]
    assert D.results["bound_generic"] is bound
    for Lv, eta_v, Vv, F0v, Tv in ((1.0, 1.0, 0.5, 3.0, 10), (2.0, 0.2, 0.1, 5.0, 200)):
        avg, _ = quadratic_sgd_average(Lv, eta_v, Vv, F0v, Tv)
        b = ev(bound, eta=eta_v, T=Tv, V=Vv, F0=F0v)
        assert b == pytest.approx(2 * F0v / (eta_v * Tv) + Vv, rel=1e-14)
        assert avg <= b


def theorem3_inputs():
    D = Derivation("t", "t")
    V_lemma1 = lemma1_decomposition(D)
    return V_lemma1, telescoping(D, descent_lemma(D))


def test_thm3_bound_values():
    D = Derivation("t", "t")
    V3, bound = thm3_bound(D, *theorem3_inputs())
    assert verified_kinds(D) == ["identity", "note", "identity", "identity", "identity"]
    v = dict(L=2.0, sigma2=3.0, delta=0.1, F0=7.0, T=50)
    assert ev(V3, **v) == pytest.approx(2 * 0.1 * 3.0 / 1.1)
    assert ev(bound, **v) == pytest.approx(2 * 7.0 * 2.0 / 50 + 2 * 0.1 * 3.0)
    assert ev(D.results["theta3"], **v) == pytest.approx(1 / 1.1)
    # the sharp bound is the quadratic's: SGD with Lemma 1's variance stays below it
    avg, _ = quadratic_sgd_average(2.0, 0.5, ev(V3, **v), 7.0, 50)
    assert avg <= ev(D.results["thm3_bound_sharp"], **v) <= ev(bound, **v)


def test_thm3_horizons_reach_their_targets():
    D0 = Derivation("t", "t")
    _, bound = thm3_bound(D0, *theorem3_inputs())
    D = Derivation("t", "t")
    T_case1 = thm3_horizons(D, bound)
    assert verified_kinds(D) == ["identity"] * 5
    R = D.results
    Lv, s2, F0v, e = 2.0, 3.0, 7.0, 0.5
    assert ev(T_case1, L=Lv, F0=F0v, eps=e) == pytest.approx(4 * F0v * Lv / e**2)
    thr = ev(R["thm3_delta_threshold"], sigma2=s2, eps=e)
    assert thr == pytest.approx(e**2 / (4 * s2))
    for dl in (0.5 * thr, thr, 2 * thr):  # case (1) reaches eps^2 exactly when delta <= threshold
        T1v = ev(R["thm3_T_case1"], L=Lv, F0=F0v, eps=e)
        at_T = 2 * F0v * Lv / T1v + 2 * dl * s2
        assert (at_T <= e**2 * (1 + 1e-12)) == (dl <= thr)
    dl = 2 * thr
    T2v = ev(R["thm3_T_case2"], L=Lv, F0=F0v, delta=dl, sigma2=s2)
    assert 2 * F0v * Lv / T2v + 2 * dl * s2 == pytest.approx(4 * dl * s2)
    assert ev(R["thm3_bound_at_T_case2"], delta=dl, sigma2=s2) == pytest.approx(4 * dl * s2)


# ---- Theorem 5 --------------------------------------------------------------------


def test_thm5_baseline_on_a_quadratic():
    D = Derivation("t", "t")
    per_step, total = thm5_baseline(D, 4 * F0 / (eta * eps**2))
    assert verified_kinds(D) == ["identity"] * 6
    R = D.results
    Lv, s2, F0v, e = 2.0, 3.0, 7.0, 0.5
    eta5 = ev(R["thm5_eta_noise"], L=Lv, sigma2=s2, eps=e)
    assert eta5 == pytest.approx(e**2 / (2 * Lv * s2))
    Tv = ev(R["thm5_T"], eta=eta5, F0=F0v, eps=e)
    assert ev(total, L=Lv, sigma2=s2, F0=F0v, eps=e) == pytest.approx(Tv) == pytest.approx(5376.0)
    assert ev(R["thm5_bound"], eta=eta5, T=Tv, F0=F0v, L=Lv, sigma2=s2) == pytest.approx(e**2)
    avg, _ = quadratic_sgd_average(Lv, eta5, s2, F0v, math.ceil(Tv))
    assert avg <= e**2
    # the relaxed per-step bound holds for an unbiased oracle with variance sigma^2, eta <= 1/L
    w = 0.8
    for eta_v in (0.1, 0.5):
        exact = np.mean([Lv / 2 * (w - eta_v * (Lv * w + z)) ** 2 for z in (-math.sqrt(s2), math.sqrt(s2))])
        assert exact - Lv / 2 * w**2 <= ev(per_step, eta=eta_v, G=(Lv * w) ** 2, L=Lv, sigma2=s2) + 1e-14


# ---- Theorem 4 --------------------------------------------------------------------


def test_pl_recursion_bound_dominates_the_iterated_recursion():
    D = Derivation("t", "t")
    stage1 = pl_recursion(D)
    assert verified_kinds(D) == ["note", "identity", "note", "cited"]
    Lv, muv, Vv, F0v = 2.0, 0.3, 0.4, 6.0
    r = F0v
    for t in range(1, 60):
        r = (1 - muv / Lv) * r + Vv / (2 * Lv)
        assert r <= ev(stage1, eta=1 / Lv, mu=muv, T1=t, F0=F0v, V=Vv) + 1e-14


def test_thm4_stage1_reaches_the_stated_gap():
    D0 = Derivation("t", "t")
    stage1 = pl_recursion(D0)
    V3 = 2 * delta * sigma2 / (1 + delta)
    D = Derivation("t", "t")
    T1_expr, gap = thm4_stage1(D, stage1, V3)
    assert verified_kinds(D) == ["identity", "identity", "identity", "identity"]
    v = dict(L=2.0, mu=0.5, sigma2=3.0, delta=0.1, F0=7.0)
    T1v = ev(T1_expr, **v)
    assert T1v == pytest.approx(math.log(0.5 * 7.0 * 1.1 / (0.1 * 3.0)) * 2.0 / 0.5)
    assert ev(gap, **v) == pytest.approx(2 * 0.1 * 3.0 / 0.5)
    r, Vv = 7.0, 2 * 0.1 * 3.0 / 1.1
    for _ in range(math.ceil(T1v)):  # the PL recursion of eq. (16), eta1 = 1/L
        r = (1 - 0.5 / 2.0) * r + Vv / (2 * 2.0)
    assert r <= ev(gap, **v)
    assert ev(D.results["thm4_T1_log_argument"], **v) == pytest.approx(0.5 * 7.0 * 1.1 / (0.1 * 3.0))


def test_thm4_stage2_horizon_and_step():
    D = Derivation("t", "t")
    T2_expr = thm4_stage2(D, -eta / 2 * G + eta**2 * L * sigma2 / 2, 2 * delta * sigma2 / mu)
    assert verified_kinds(D) == ["identity"] * 5
    R = D.results
    v = dict(L=2.0, mu=0.5, sigma2=3.0, delta=0.1, eps=0.5)
    e2 = ev(R["thm4_eta2"], **v)
    assert e2 == pytest.approx(0.25 / 12)
    T2v = ev(T2_expr, **v)
    assert T2v == pytest.approx(8 * 0.1 * 3.0 / (0.5 * e2 * 0.25))
    assert ev(R["thm4_bound"], eta2=e2, T2=T2v, **v) == pytest.approx(0.25)
    assert ev(R["thm4_eps2_max"], **v) == 6.0


def test_tsla_versus_baseline_limit_matches_small_eps_numbers():
    T1_expr = L * sp.log(mu * F0 * (1 + delta) / (delta * sigma2)) / mu
    T2_expr = 16 * L * delta * sigma2**2 / (mu * eps**4)
    base = 8 * F0 * L * sigma2 / eps**4
    D = Derivation("t", "t")
    cross = tsla_versus_baseline(D, T1_expr, T2_expr, 4 * F0 * L / eps**2, base)
    assert verified_kinds(D) == ["identity", "identity", "note"]
    v = dict(L=2.0, mu=0.5, sigma2=3.0, delta=0.1, F0=7.0)
    ratio = [ev(D.results["tsla_total"] / base, eps=e, **v) for e in (1e-3, 1e-4)]
    assert ratio[-1] == pytest.approx(ev(D.results["tsla_baseline_ratio"], **v), rel=1e-9)
    assert ratio[-1] == pytest.approx(2 * 0.1 * 3.0 / (0.5 * 7.0), rel=1e-9)
    assert ev(cross, **v) == pytest.approx(0.5 * 7.0 / (2 * 3.0))
    assert ev(D.results["lsr_total"], eps=0.5, **v) == pytest.approx(4 * 7.0 * 2.0 / 0.25)


def test_derive_is_the_steps_in_order_and_uncached():
    D = Derivation("t", "t")
    V_lemma1 = lemma1_decomposition(D)
    bound_generic = telescoping(D, descent_lemma(D))
    V3, thm3 = thm3_bound(D, V_lemma1, bound_generic)
    T_case1 = thm3_horizons(D, thm3)
    per5, base = thm5_baseline(D, T_case1)
    T1_expr, gap = thm4_stage1(D, pl_recursion(D), V3)
    tsla_versus_baseline(D, T1_expr, thm4_stage2(D, per5, gap), T_case1.subs(eta, 1 / L), base)
    titles = [s.title for s in D.steps]
    built = derive()
    assert built is not bounds() and [s.title for s in built.steps] == titles and len(titles) == 41
    assert new_derivation().symbols["sigma2"] is sigma2 and new_derivation().steps == []


# ---- Table 1 ----------------------------------------------------------------------


@pytest.mark.parametrize("expr, k, label", [
    (eps**-3, 3, "1/eps^3"),
    (5 * eps**sp.Rational(-5, 2) + eps**-1, sp.Rational(5, 2), "1/eps^(5/2)"),
    (3 * sp.log(1 / eps) + 2, 0, "log(1/eps)"),
    (sp.Integer(7), 0, "1"),
])
def test_order_in_eps(expr, k, label):
    assert order_in_eps(expr) == (k, label)


def test_derived_orders_agreement_and_notes():
    b = {"tsla_total": sp.log(1 / delta) + delta / eps**4, "thm3_delta_threshold": eps**2 / 4,
         "lsr_total": 1 / eps**2, "baseline_total": 1 / eps**4,
         "tsla_baseline_ratio": sp.Integer(2), "tsla_beats_baseline_below_delta": sp.Integer(3)}
    d = derived_orders(b, [3])  # delta = c eps^3: TSLA ~ eps^-1, below LSR's threshold
    assert [e["k"] for e in d["TSLA"]] == ["1"] and d["TSLA"][0]["theta_prime"] == "1"
    assert d["LSR"] == [{"p": "3", "order": "1/eps^2", "k": "2"}]
    assert d["baseline"] == [{"p": "3", "k": "4", "order": "1/eps^4"}]
    paper = {"TSLA": "1/eps^(2-theta'), theta' in (0,2)", "LSR": "1/eps^2", "baseline": "1/eps^4"}
    assert agreement(paper, d) == {"TSLA": True, "LSR": True, "baseline": True}
    assert agreement({**paper, "TSLA": "1/eps^2"}, d)["TSLA"] is False
    d0 = derived_orders(b, [0])  # delta constant: LSR cannot reach eps
    assert d0["LSR"][0]["order"] == "inf" and d0["TSLA"][0]["k"] == "4"
    notes = row_notes(b, {"TSLA": "delta/eps^4", "LSR": "inf", "baseline": "1/eps^4"}, d0)
    assert len(notes) == 1 and "ratio TSLA/baseline -> 2" in notes[0] and "delta < 3" in notes[0]
    d2 = derived_orders(b, [2])  # delta = c eps^2: LSR finite only for c <= 1/(4 sigma^2)
    assert "condition" in d2["LSR"][0] and len(row_notes(b, paper, d2)) == 1


def test_derive_table1_is_table1_orders_uncached():
    rows = derive_table1()
    assert rows == table1_orders() and rows is not table1_orders()
    assert [r["derived"]["TSLA"][0]["k"] for r in rows] == ["4", "2", "3/2", "0"]
    assert all(all(r["agree"].values()) for r in rows)
