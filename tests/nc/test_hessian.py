"""Theorem 4.2: symbolic Hessian spectra (SymPy, `ufm.nc.hessian.derivation`) against Hessians of
the real objective (JAX, `ufm.nc.hessian.numeric`) at numerically solved minimizers; Lanczos
against dense; the derived condition numbers and their alpha-derivatives; input validation.
The `hessian` check group: tests/verify/test_group_hessian.py."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ufm import (
    UFMProblem,
    block_hessian,
    cluster_eigenvalues,
    condition_number_from_eigenvalues,
    hessian_condition_number as condition_number,
    hessian_condition_number_derivative as condition_number_derivative,
    hessian_derivation,
    hessian_full_reading_turning_point as full_reading_turning_point,
    hessian_joint_nullity as joint_nullity,
    hessian_joint_partial_spectrum as joint_partial_spectrum,
    hessian_joint_spectrum as joint_spectrum,
    hessian_spectrum as spectrum,
    joint_hessian,
    lanczos_extremes,
    solve,
)

# (K, d, n): K in {2, 3, 4}, d = K-1 and d > K-1, few shapes so JAX compiles once each;
# (2, 1, 1) and (4, 5, 3) are shapes other tests solve too (compiled once for the suite).
SHAPES = [(2, 1, 1), (2, 3, 1), (3, 2, 2), (3, 4, 1), (4, 3, 1), (4, 5, 3)]
RTOL = 1e-6  # the `hessian` check group's tolerance (Weyl bound, see ufm.verify.groups.hessian)

log_lam = st.floats(math.log(1e-4), math.log(5e-2)).map(math.exp)


def problem_at(shape, lw, lh, where, frac, lam_b=1e-3, guard=assume):
    K, d, n = shape
    Kc = K * math.sqrt(n * lw * lh)
    guard(Kc < 0.9)
    upper = 1.0 - Kc
    # alpha near 0, or near the collapse threshold alpha + K c = 1
    alpha = frac * upper if where == "low" else upper * (1.0 - frac)
    return UFMProblem(K=K, d=d, n=n, alpha=alpha, lam_W=lw, lam_H=lh, lam_b=lam_b)


def assert_spectrum_matches(expected, ev):
    lmax = float(np.max(np.abs(ev)))
    obs = cluster_eigenvalues(ev, RTOL, lmax)
    vals = [v for v, _ in expected]
    exp = cluster_eigenvalues(np.repeat(vals, [m for _, m in expected]), RTOL, max(vals))
    assert [m for _, m in obs] == [m for _, m in exp], (obs, exp)
    for (vo, _), (ve, _) in zip(obs, exp):
        assert abs(vo - ve) <= RTOL * (abs(ve) if ve else lmax), (vo, ve)


def test_derivation_verified():
    D = hessian_derivation()
    assert D.all_verified, [s.title for s in D.unverified]
    assert len(D.steps) > 30


@given(K=st.integers(2, 40), extra=st.integers(0, 30), n=st.integers(1, 50))
def test_multiplicities_sum_to_dimension(K, extra, n):
    p = UFMProblem(K=K, d=K - 1 + extra, n=n, alpha=0.0, lam_W=1e-6, lam_H=1e-6)
    assume(not p.collapsed)
    for block, dim in (("W", K * p.d), ("H", p.d * p.N)):
        for reading in ("loss", "full"):
            spec = spectrum(p, block, reading)
            assert sum(m for _, m in spec) == dim
            assert all(m > 0 for _, m in spec)
            vals = [v for v, _ in spec]
            assert vals == sorted(vals) and min(vals) >= 0
    # the loss reading has zero eigenvalues iff a null direction exists
    zeros_W = dict((v, m) for v, m in spectrum(p, "W", "loss")).get(0.0, 0)
    assert zeros_W == (2 * p.d - 1 if K == 2 else K * (p.d - K + 1) + K - 1)
    zeros_H = dict((v, m) for v, m in spectrum(p, "H", "loss")).get(0.0, 0)
    assert zeros_H == p.N * (p.d - K + 1)


@settings(max_examples=12)
@given(shape=st.sampled_from(SHAPES), lw=log_lam, lh=log_lam, where=st.sampled_from(["low", "high"]),
       frac=st.floats(1e-3, 0.05))
def test_symbolic_spectra_equal_dense_jax(shape, lw, lh, where, frac):
    p = problem_at(shape, lw, lh, where, frac)
    sol = solve(p)
    assert sol.converged, sol.reason
    for block in ("W", "H"):
        for reading in ("loss", "full"):
            ev = np.linalg.eigvalsh(block_hessian(sol.params, p, block, reading))
            assert_spectrum_matches(spectrum(p, block, reading), ev)
            kap = condition_number_from_eigenvalues(ev)["kappa"]
            assert kap == pytest.approx(condition_number(p, block, reading), rel=RTOL)
    # the whole joint spectrum (closed forms + the 4x4 standard block)
    assert_spectrum_matches(joint_spectrum(p), np.linalg.eigvalsh(joint_hessian(sol.params, p)))


@pytest.mark.parametrize("shape,lam_b", [((2, 1, 2), 1e-3), ((2, 3, 1), 0.0), ((3, 2, 2), 0.0),
                                         ((4, 5, 2), 1e-3), ((4, 3, 1), 1e-2)])
def test_joint_nullity_and_partial_spectrum(shape, lam_b):
    p = problem_at(shape, 5e-3, 5e-3, "low", 0.1, lam_b, guard=bool)
    sol = solve(p)
    ev = np.linalg.eigvalsh(joint_hessian(sol.params, p))
    lmax = np.max(np.abs(ev))
    assert int(np.sum(np.abs(ev) <= 1e-6 * lmax)) == joint_nullity(p)
    for v, m in joint_partial_spectrum(p):
        assert np.sum(np.abs(ev - v) <= 1e-6 * lmax) >= m


def remove_matched(ev, partial, tol):
    """The multiset ev minus the closed-form eigenvalues (each matched once)."""
    ev = list(np.sort(ev))
    for v, m in partial:
        for _ in range(m):
            j = int(np.argmin(np.abs(np.asarray(ev) - v)))
            assert abs(ev[j] - v) <= tol
            ev.pop(j)
    return np.asarray(ev)


@pytest.mark.parametrize("K,n", [(3, 2), (4, 1)])
def test_joint_rest_does_not_depend_on_d(K, n):
    """After removing the closed-form joint eigenvalues, the 2K(K-1) + K - 1
    left over are the same for d = K-1, K, K+2 (as derived)."""
    rests = []
    for d in (K - 1, K, K + 2):
        p = UFMProblem(K=K, d=d, n=n, alpha=0.05, lam_W=3e-3, lam_H=8e-3, lam_b=2e-3)
        ev = np.linalg.eigvalsh(joint_hessian(solve(p).params, p))
        rest = remove_matched(ev, joint_partial_spectrum(p), 1e-6 * np.max(ev))
        assert rest.size == 2 * K * (K - 1) + K - 1
        rests.append(rest)
    for r in rests[1:]:
        np.testing.assert_allclose(r, rests[0], rtol=0, atol=1e-6 * np.max(rests[0]))


@pytest.mark.parametrize("shape", [(2, 3, 1), (3, 2, 2), (4, 5, 2)])
@pytest.mark.parametrize("reading", ["loss", "full"])
def test_lanczos_agrees_with_dense(shape, reading):
    p = problem_at(shape, 2e-3, 7e-3, "low", 0.2, guard=bool)
    sol = solve(p)
    for block in ("W", "H"):
        dense = condition_number_from_eigenvalues(
            np.linalg.eigvalsh(block_hessian(sol.params, p, block, reading)))
        lz = lanczos_extremes(sol.params, p, block, reading, num_matvecs=20)
        assert lz["kappa"] == pytest.approx(dense["kappa"], rel=1e-8)
        assert lz["lambda_max"] == pytest.approx(dense["lambda_max"], rel=1e-8)
        assert lz["lambda_min_nonzero"] == pytest.approx(dense["lambda_min_nonzero"], rel=1e-8)


def test_theorem42_full_reading_counterexample_measured():
    """Paper's claim fails (full reading) at the verify defaults: measured
    condition numbers of both blocks grow from alpha = 0.1 to 0.2."""
    p1 = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3)
    p2 = p1.replace(alpha=0.2)
    assert full_reading_turning_point(p1) > 0.2
    for block in ("W", "H"):
        k = [condition_number_from_eigenvalues(np.linalg.eigvalsh(
            block_hessian(solve(q).params, q, block, "full")))["kappa"] for q in (p1, p2)]
        assert k[1] > k[0] * 1.05
        assert k[0] == pytest.approx(condition_number(p1, block, "full"), rel=RTOL)
        assert condition_number_derivative(p1, block, "full") > 0
    # beyond alpha*, kappa falls, as derived
    a_star = full_reading_turning_point(p1)
    p3 = p1.replace(alpha=0.5 * (a_star + 1 - p1.K * p1.c))
    assert condition_number_derivative(p3, "W", "full") < 0


def test_theorem42_loss_reading():
    # K >= 3: d kappa / d alpha = -(K-1), everywhere in the non-collapsed range
    for K in (3, 5, 10):
        for alpha in (0.0, 0.3, 0.6):
            p = UFMProblem(K=K, d=K, n=2, alpha=alpha, lam_W=1e-3, lam_H=1e-3)
            if p.collapsed:
                continue
            for block in ("W", "H"):
                assert condition_number_derivative(p, block, "loss") == pytest.approx(-(K - 1))
                assert condition_number(p, block, "loss") == pytest.approx(K * (1 - (K - 1) * (alpha / K + p.c)))
    # K = 2: measured kappa is 1 at two alphas (the claim 'smaller' fails)
    for alpha in (0.05, 0.4):
        p = UFMProblem(K=2, d=3, n=1, alpha=alpha, lam_W=5e-3, lam_H=5e-3)
        sol = solve(p)
        for block in ("W", "H"):
            ev = np.linalg.eigvalsh(block_hessian(sol.params, p, block, "loss"))
            assert condition_number_from_eigenvalues(ev)["kappa"] == pytest.approx(1.0, abs=1e-8)


def test_bad_input():
    p = UFMProblem(K=4, d=5, n=3, alpha=0.1)
    with pytest.raises(ValueError, match="block='V'"):
        spectrum(p, "V", "loss")
    with pytest.raises(ValueError, match="reading='both'"):
        condition_number(p, "W", "both")
    with pytest.raises(ValueError, match="collapsed"):
        spectrum(p.replace(alpha=0.99), "W", "loss")
    with pytest.raises(ValueError, match="d=1 < K-1"):
        joint_nullity(p.replace(d=1))
    with pytest.raises(ValueError, match="rtol"):
        cluster_eigenvalues([1.0, 2.0], rtol=0.0)
    with pytest.raises(ValueError, match="NaN"):
        cluster_eigenvalues([1.0, float("nan")])
