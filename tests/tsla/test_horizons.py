"""The horizons of Theorems 3, 4, 5 are solved from the derived bounds, not typed in.

Each step function is fed a *perturbed* bound (its optimisation term scaled by
3, or its noise floor by 2) and the horizon it returns must move accordingly;
the reference values are computed here numerically from the perturbed bound
(bisection on the bound evaluated at numbers), not from the paper's formulas.
"""

import math

import pytest
import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds import derivation as derivation_module
from ufm.tsla.bounds.symbols import F0, G, L, T, T1, T2, V, delta, eps, eta, eta2, mu, sigma2
from ufm.tsla.bounds.thm3 import split_bound, thm3_horizons
from ufm.tsla.bounds.thm4 import pl_recursion, thm4_stage1, thm4_stage2
from ufm.tsla.bounds.thm5 import thm5_horizon

VALS = {L: 2.0, mu: 0.5, sigma2: 0.7, delta: 0.01, eps: 0.5, F0: 7.0}
E2 = VALS[eps] ** 2


def num(expr, extra=None) -> float:
    return float(sp.sympify(expr).subs({**VALS, **(extra or {})}))


def root(f, lo=1e-9, hi=1e12) -> float:
    """Bisection for a decreasing f with f(lo) > 0 > f(hi), in log space."""
    assert f(lo) > 0 > f(hi)
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return math.sqrt(lo * hi)


def test_split_bound_into_optimisation_term_and_floor():
    opt, floor = split_bound(2 * F0 / (eta * T) + V, T)
    assert sp.simplify(opt - 2 * F0 / (eta * T)) == 0 and floor == V


@pytest.mark.parametrize("k", [1, 3])
def test_thm3_horizons_follow_the_bound(k):
    floor = 2 * delta * sigma2
    perturbed = k * 2 * F0 * L / T + floor
    D = Derivation("t", "t")
    thm3_horizons(D, perturbed)
    f1 = lambda t: num(perturbed, {T: t}) - num(floor) - E2 / 2  # noqa: E731
    f2 = lambda t: num(perturbed, {T: t}) - 2 * num(floor)  # noqa: E731
    assert num(D.results["thm3_T_case1"]) == pytest.approx(root(f1), rel=1e-9)
    assert num(D.results["thm3_T_case2"]) == pytest.approx(root(f2), rel=1e-9)
    assert D.all_verified == (k == 1)  # the paper's horizons are the unperturbed bound's


@pytest.mark.parametrize("k_opt, k_floor", [(1, 1), (3, 1), (1, 2)])
def test_thm5_horizon_follows_the_bound(k_opt, k_floor):
    b = k_opt * 2 * F0 / (eta * T) + k_floor * eta * L * sigma2
    D = Derivation("t", "t")
    eta5, T5 = thm5_horizon(D, b)
    e5 = root(lambda x: E2 / 2 - num(k_floor * eta * L * sigma2, {eta: x}), 1e-12, 1e6)
    assert num(eta5) == pytest.approx(e5, rel=1e-9)
    t5 = root(lambda t: num(b, {eta: e5, T: t}) - num(k_floor * eta * L * sigma2, {eta: e5}) - E2 / 2)
    assert num(T5, {eta: e5}) == pytest.approx(t5, rel=1e-9)
    assert D.all_verified == (k_opt == k_floor == 1)


@pytest.mark.parametrize("k", [1, 3])
def test_thm4_horizons_follow_the_bounds(k):
    V3 = 2 * delta * sigma2 / (1 + delta)
    stage1 = pl_recursion(Derivation("t", "t"))
    pert = k * (stage1 - V / (2 * mu)) + V / (2 * mu)  # transient scaled by k
    D = Derivation("t", "t")
    T1e, _ = thm4_stage1(D, pert, V3)
    t1 = root(lambda t: num(pert - V / (2 * mu), {T1: t, eta: 1 / VALS[L], V: num(V3)})
              - num(V3 / (2 * mu)), 1e-9, 1e6)
    assert num(T1e) == pytest.approx(t1, rel=1e-9)
    assert D.all_verified == (k == 1)

    per_step = -eta / 2 * G + k * eta**2 * L * sigma2 / 2  # noise term scaled by k
    D = Derivation("t", "t")
    T2e = thm4_stage2(D, per_step, 2 * delta * sigma2 / mu)
    e2 = num(D.results["thm4_eta2"])
    b4 = D.results["thm4_bound"]
    assert e2 == pytest.approx(root(lambda x: E2 / 2 - num(b4, {eta2: x, T2: 1e300}), 1e-12, 1e6), rel=1e-6)
    t2 = root(lambda t: num(b4, {eta2: e2, T2: t}) - num(b4, {eta2: e2, T2: 1e300}) - E2 / 2)
    assert num(T2e) == pytest.approx(t2, rel=1e-9)
    assert D.all_verified == (k == 1)


def test_a_perturbed_telescoping_reaches_every_horizon(monkeypatch):
    """derive() with the telescoped bound's optimisation term doubled: Theorem 3's horizons
    and the LSR total double, and the derivation flags the steps where the paper's no longer follow."""
    base = derivation_module.derive().results
    real = derivation_module.telescoping

    def doubled(D, per_step):
        D.results["bound_generic"] = real(D, per_step) + 2 * F0 / (eta * T)
        return D.results["bound_generic"]

    monkeypatch.setattr(derivation_module, "telescoping", doubled)
    D = derivation_module.derive()
    assert not D.all_verified
    for k in ("thm3_T_case1", "thm3_T_case2", "lsr_total"):
        assert num(D.results[k]) == pytest.approx(2 * num(base[k]), rel=1e-12)
