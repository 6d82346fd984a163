"""Theorem 4.1: the SymPy closed form (`ufm.nc.minimizer.derivation`) against the L-BFGS solve of the
real objective (`ufm.nc.minimizer.solve`). The `minimizer` check group: tests/verify/test_group_minimizer.py."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st
from scipy.optimize import minimize_scalar

from ufm import UFMParams, UFMProblem, closed_form, minimizer_derivation, objective, solve
from ufm.verify.groups.minimizer import TOL_FIRST_ORDER, TOL_SECOND_ORDER, observed_quantities

lam = st.floats(-5.0, -1.0).map(lambda e: 10.0**e)  # log-uniform in [1e-5, 1e-1]


def test_derivation_fully_verified():
    D = minimizer_derivation()
    assert D.all_verified, [s.title for s in D.unverified]
    assert {"rho", "p_target", "w_norm_sq", "h_norm_sq", "objective"} <= set(D.results)


@given(K=st.integers(2, 50), n=st.integers(1, 100), alpha=st.floats(0, 0.99), lw=lam, lh=lam)
def test_rho_satisfies_first_order_condition(K, n, alpha, lw, lh):
    D = minimizer_derivation()
    s = D.symbols
    subs = {s["K"]: K, s["n"]: n, s["alpha"]: alpha, s["lambda_W"]: lw, s["lambda_H"]: lh}
    p = UFMProblem(K=K, d=K, n=n, alpha=alpha, lam_W=lw, lam_H=lh)
    rho = float(D.results["rho"].subs(subs))
    dfdrho = D.results["dfdrho"]
    slope = float(dfdrho.subs(subs).subs(s["rho"], rho))
    if p.collapsed:
        # boundary optimum: rho = 0 and f'(0) >= 0 (KKT for rho >= 0)
        assert rho == 0.0 and slope >= -1e-15
    else:
        assert rho > 0 and abs(slope) <= 1e-12


@given(K=st.integers(2, 30), n=st.integers(1, 30), alpha=st.floats(0, 0.95), lw=lam, lh=lam)
def test_rho_minimizes_the_scalar_problem_built_from_the_jax_objective(K, n, alpha, lw, lh):
    """Independent of SymPy: evaluate the JAX objective on the ETF family
    W = a M, H = b M^T (x) 1_n with a/b balanced, and minimise over the scale."""
    p = UFMProblem(K=K, d=K, n=n, alpha=alpha, lam_W=lw, lam_H=lh, lam_b=0.0)
    M = np.eye(K) - 1.0 / K  # rows: a centred simplex, ||row||^2 = (K-1)/K
    ratio = math.sqrt(lw / (n * lh))  # h = ratio * w (Theorem 4.1's alignment)

    def F(t):
        W = t * M
        H = np.repeat((ratio * t * M).T, n, axis=1)
        return float(objective(UFMParams(jnp.asarray(W), jnp.asarray(H), jnp.zeros(K)),
                               alpha, lw, lh, 0.0))

    res = minimize_scalar(F, bounds=(0.0, 200.0), method="bounded", options={"xatol": 1e-12})
    t = res.x
    rho_numeric = ratio * t * t  # logit gap: ratio t^2 (M M^T)_{kk} - (M M^T)_{kj} = ratio t^2
    cf = closed_form(p)
    assert F(t) == pytest.approx(cf["objective"], rel=1e-9, abs=1e-12)
    # the minimiser in t is determined to ~sqrt(xatol * |F|/F''): compare rho loosely
    assert rho_numeric == pytest.approx(cf["rho"], rel=1e-4, abs=1e-5)


# every K in {2, 3, 5}, every d in {K-1, K, K+3} and n in {1, 2, 3} appear, in 7 shapes
# instead of the 18 of the full product: each shape compiles the solver once (~2.5 s cold);
# (3, 2, 2) and (3, 3, 2) are shapes other tests solve too, so the suite compiles them once
SHAPES = [(2, 1, 1), (2, 2, 3), (3, 2, 2), (3, 3, 2), (3, 6, 3), (5, 4, 1), (5, 8, 3)]


@given(shape=st.sampled_from(SHAPES), alpha=st.floats(0, 0.95), lw=lam, lh=lam,
       lam_b=st.sampled_from([0.0, 1e-3]), seed=st.integers(0, 3))
def test_jax_solution_matches_closed_form(shape, alpha, lw, lh, lam_b, seed):
    K, d, n = shape
    p = UFMProblem(K=K, d=d, n=n, alpha=alpha, lam_W=lw, lam_H=lh, lam_b=lam_b)
    sol = solve(p, seed=seed)
    assert sol.converged, sol.reason
    cf = closed_form(p)
    obs = observed_quantities(*sol.params, K)
    assert sol.objective == pytest.approx(cf["objective"], rel=TOL_SECOND_ORDER)
    for key in ("rho", "p_target", "w_norm_sq", "h_norm_sq"):
        assert obs[key] == pytest.approx(cf[key], rel=TOL_FIRST_ORDER, abs=TOL_FIRST_ORDER), key
    if not p.collapsed:
        assert obs["nc1"] <= TOL_SECOND_ORDER
        assert obs["nc2"] <= TOL_FIRST_ORDER and obs["nc3"] <= TOL_FIRST_ORDER


def test_collapsed_regime_gives_zero():
    p = UFMProblem(K=4, d=4, n=2, alpha=0.5, lam_W=0.1, lam_H=0.1)
    assert p.collapsed
    cf = closed_form(p)
    assert cf["rho"] == 0 and cf["w_norm_sq"] == 0 and cf["h_norm_sq"] == 0
    assert cf["objective"] == pytest.approx(math.log(4), rel=1e-15)
    sol = solve(p, seed=1)
    assert sol.converged
    assert float(jnp.max(jnp.abs(sol.params.W))) < 1e-6
    assert float(jnp.max(jnp.abs(sol.params.H))) < 1e-6


def test_norms_decrease_with_alpha():
    """Paper: the norms of W*, H* decrease as alpha grows (sign from SymPy)."""
    D = minimizer_derivation()
    s = D.symbols
    rho = D.results["rho_interior"]
    d_rho = sp.diff(rho, s["alpha"])
    for K, n, lw, lh, a in [(2, 1, 1e-3, 1e-3, 0.0), (10, 5, 1e-4, 1e-2, 0.5), (100, 20, 1e-3, 1e-3, 0.3)]:
        assert float(d_rho.subs({s["K"]: K, s["n"]: n, s["lambda_W"]: lw, s["lambda_H"]: lh, s["alpha"]: a})) < 0


def test_solve_requires_sensible_rtol():
    with pytest.raises(ValueError, match="rtol=0"):
        solve(UFMProblem(K=2, d=1, n=1), rtol=0.0)


def test_iteration_cap_reports_not_converged():
    sol = solve(UFMProblem(K=3, d=3, n=2, alpha=0.1, lam_W=1e-3, lam_H=1e-3), max_iter=3)
    assert not sol.converged and "cap" in sol.reason and sol.iterations == 3
