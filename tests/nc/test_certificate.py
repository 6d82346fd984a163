"""The duality-gap certificate of global optimality (`ufm.nc.minimizer.certificate`): its SymPy
derivation, its numbers against the closed form of Theorem 4.1, and that it rejects wrong points."""

import math

import numpy as np
import pytest
import sympy as sp

from ufm import UFMProblem, closed_form, solve
from ufm.nc.minimizer.certificate import (certificate_derivation, certify, threshold, zero_params,
                                          zero_ratio)

SMALL = UFMProblem(K=3, d=3, n=2, alpha=0.1, lam_W=1e-2, lam_H=1e-2)
DEFAULT = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)


def test_derivation_fully_verified_and_threshold_is_theorem_41s():
    D = certificate_derivation()
    assert D.all_verified, [s.title for s in D.unverified]
    s = D.symbols
    c = sp.sqrt(s["n"] * s["lambda_W"] * s["lambda_H"])
    assert sp.simplify(D.results["threshold"] - (s["alpha"] + s["K"] * c)) == 0
    assert sp.simplify(D.results["zero_ratio"] - (1 - s["alpha"]) / (s["K"] * c)) == 0
    # only the literature is cited: the nuclear-norm variational form, conjugates, the subdifferential
    assert sum(st.kind == "cited" for st in D.steps) == 3


@pytest.mark.parametrize("p", [SMALL, DEFAULT, DEFAULT.replace(alpha=0.9, lam_W=0.1, lam_H=0.1),
                               UFMProblem(K=7, d=2, n=5, alpha=0.0, lam_W=1e-4, lam_H=3e-2)])
def test_zero_ratio_measured_equals_derived(p):
    assert zero_ratio(p) == pytest.approx((1 - p.alpha) / (p.K * p.c), rel=1e-12)
    assert threshold(p) == pytest.approx(p.threshold, rel=1e-15)
    assert (zero_ratio(p) <= 1) == p.collapsed


@pytest.mark.parametrize("p", [SMALL, DEFAULT, DEFAULT.replace(lam_b=0.0),
                               UFMProblem(K=5, d=4, n=2, alpha=0.3, lam_W=1e-5, lam_H=1e-1)])
def test_solve_is_certified_and_gap_bounds_distance_to_closed_form(p):
    sol = solve(p)
    cert = certify(p, sol.params)
    F_star = closed_form(p)["objective"]
    assert cert.dual_feasible and cert.objective == pytest.approx(sol.objective, rel=1e-13)
    assert cert.convex_primal <= cert.objective + 1e-15  # F >= P (nuclear-norm variational form)
    assert cert.dual <= F_star + 1e-14  # weak duality, against the independent closed form
    assert -1e-14 <= cert.objective - F_star <= cert.gap + 1e-14
    assert cert.gap <= cert.bound(1e-10 * sol.grad_norm0)
    assert cert.ratio == pytest.approx(1.0, abs=1e-8) and cert.range_residual < 1e-7
    assert cert.rank == p.K - 1 and cert.bias_residual < 1e-10


def test_dual_is_a_lower_bound_at_random_points():
    rng = np.random.default_rng(1)
    p = DEFAULT
    F_star = closed_form(p)["objective"]
    for scale in (1e-3, 0.1, 1.0, 10.0):
        params = (scale * rng.standard_normal((p.K, p.d)), scale * rng.standard_normal((p.d, p.N)),
                  scale * rng.standard_normal(p.K))
        cert = certify(p, params)
        assert cert.dual <= F_star + 1e-14 <= cert.objective + 2e-14
        assert cert.gap >= cert.objective - F_star - 1e-14


def test_perturbed_solution_fails_the_certificate():
    sol = solve(SMALL)
    W, H, b = (np.asarray(a) for a in sol.params)
    eps = 1e-10 * sol.grad_norm0
    assert certify(SMALL, (W, H, b)).gap <= certify(SMALL, (W, H, b)).bound(eps)
    for dW in (1e-7, 1e-2):  # 1e-7 still passes the 1e-6 closed-form checks, not the certificate
        bad = certify(SMALL, (W + dW * np.random.default_rng(0).standard_normal(W.shape), H, b))
        assert bad.gap > 10 * bad.bound(eps)


def test_stationary_saddle_at_zero_is_rejected():
    """W = H = 0, b = 0 is a stationary point in every regime (its gradient is exactly 0), but in
    the non-collapsed regime ||G(0)||_2 > tau and the gap is log K - F* > 0."""
    p = DEFAULT
    assert not p.collapsed
    cert = certify(p, zero_params(p))
    assert cert.bias_residual == pytest.approx(0.0, abs=1e-16)
    assert cert.ratio > 1 and cert.gap == pytest.approx(math.log(p.K) - closed_form(p)["objective"],
                                                        rel=1e-12)
    assert cert.gap > cert.bound(1e-6)


@pytest.mark.parametrize("delta", [1e-3, 0.02])
def test_zero_is_certified_exactly_in_the_collapsed_regime(delta):
    for sign, collapsed in ((+1, True), (-1, False)):
        p = DEFAULT.replace(alpha=1 - DEFAULT.K * DEFAULT.c + sign * delta)
        cert = certify(p, zero_params(p))
        assert (cert.gap <= cert.bound(0.0)) == collapsed == p.collapsed
