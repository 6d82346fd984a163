"""The `minimizer` check group (`ufm.verify.groups.minimizer`): its measurement of a solution."""

import jax.numpy as jnp
import pytest

from ufm.verify.groups.minimizer import observed_quantities


def test_observed_quantities_at_exact_zero_reports_undefined_nc():
    """W = H = 0 (the collapsed minimizer, exactly): NC metrics are 0/0, not NaN."""
    obs = observed_quantities(jnp.zeros((3, 3)), jnp.zeros((3, 6)), jnp.zeros(3), 3)
    assert obs["nc1"] is None and obs["nc2"] is None and obs["nc3"] is None
    assert obs["rho"] == 0.0 and obs["p_target"] == pytest.approx(1 / 3, rel=1e-15)


# ---- the certificate, multistart and threshold checks: each fed a wrong value ----------------

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402

import ufm.verify.groups.minimizer as gmin  # noqa: E402
from ufm import UFMParams, UFMProblem, solve  # noqa: E402
from ufm.verify.context import VerifyContext  # noqa: E402

SMALL = UFMProblem(K=3, d=3, n=2, alpha=0.1, lam_W=1e-2, lam_H=1e-2)
NEW = ("minimizer.certificate", "minimizer.multistart", "minimizer.threshold")


def _run(problem=SMALL, solution=None):
    ctx = VerifyContext(problem)
    if solution is not None:
        ctx.cache["solution"] = solution
    return {r.id: r for r in gmin.run(ctx)}


def test_sound_problem_new_checks_confirmed_with_their_numbers():
    out = _run()
    assert all(r.status == "confirmed" for r in out.values()), {i: r.details.get("reason") for i, r in out.items()}
    cert = out["minimizer.certificate"]
    assert 0 <= cert.observed <= cert.tolerance < 1e-9
    assert cert.details["certificate"]["spectral_norm_over_tau"] == pytest.approx(1, abs=1e-8)
    ms = out["minimizer.multistart"]
    assert len(ms.details["starts"]) == 1 + gmin.MULTISTART_SEEDS
    assert all(s["certified"] for s in ms.details["starts"])
    thr = out["minimizer.threshold"]
    assert thr.details["varied"] == "alpha" and thr.expected == pytest.approx(1 - SMALL.K * SMALL.c)
    lo, hi = thr.details["sides"]["below"], thr.details["sides"]["above"]
    assert hi["x"] - lo["x"] == pytest.approx(2 * gmin.THRESHOLD_DELTA) and 2 * gmin.THRESHOLD_DELTA <= 1e-3
    assert lo["zero_ratio"] > 1 >= hi["zero_ratio"]
    assert lo["solve"]["logK_minus_F"] > lo["solve"]["gap"] and hi["solve"]["WH_fro_norm"] <= gmin.COLLAPSE_TOL


def test_perturbed_solution_fails_certificate_and_contradicts_the_others():
    """A 1e-7 perturbation of W passes the 1e-6 closed-form checks, not the certificate."""
    sol = solve(SMALL)
    W, H, b = sol.params
    dW = 1e-7 * np.random.default_rng(0).standard_normal(W.shape)
    bad = dataclasses.replace(sol, params=UFMParams(W + dW, H, b))
    out = _run(solution=bad)
    assert out["minimizer.certificate"].status == "contradicted"
    assert out["minimizer.certificate"].observed > 10 * out["minimizer.certificate"].tolerance
    r = out["minimizer.rho"]
    assert r.status == "contradicted" and r.error <= r.tolerance  # agreement alone is not enough
    assert "not certified a global minimizer" in r.details["reason"]


def test_stationary_saddle_is_not_certified():
    """W = H = 0 has zero gradient; a solver stopping there is caught by the certificate."""
    p = SMALL
    sol = solve(p)
    zero = UFMParams(0 * sol.params.W, 0 * sol.params.H, 0 * sol.params.b)
    saddle = dataclasses.replace(sol, params=zero, grad_norm=0.0, objective=float(np.log(p.K)))
    out = _run(solution=saddle)
    c = out["minimizer.certificate"]
    assert c.status == "contradicted" and c.details["certificate"]["spectral_norm_over_tau"] > 1


def test_wrong_threshold_factor_fails_threshold_only(monkeypatch):
    real = gmin.threshold
    monkeypatch.setattr(gmin, "threshold", lambda p: p.alpha + 1.01 * (real(p) - p.alpha))
    out = _run()
    thr = out["minimizer.threshold"]
    assert thr.status == "contradicted" and thr.error > thr.tolerance
    assert all(out[i].status == "confirmed" for i in out if i != "minimizer.threshold")


def test_threshold_wrong_by_a_factor_two_puts_both_solves_on_one_side(monkeypatch):
    real = gmin.threshold
    monkeypatch.setattr(gmin, "threshold", lambda p: p.alpha + 2 * (real(p) - p.alpha))
    thr = _run()["minimizer.threshold"]
    assert thr.status == "contradicted" and "above the threshold" in thr.details["reason"]


def test_multistart_with_a_bad_start_is_contradicted(monkeypatch):
    real = gmin.solve

    def one_bad(p, seed=0, **kw):
        s = real(p, seed=seed, **kw)
        if seed == 2:  # a local solve that stopped at a scaled copy of the minimizer
            W, H, b = s.params
            s = dataclasses.replace(s, params=UFMParams(1.01 * W, H, b))
        return s

    monkeypatch.setattr(gmin, "solve", one_bad)
    out = _run()
    ms = out["minimizer.multistart"]
    assert ms.status == "contradicted" and "seed [2]" in ms.details["reason"]
    assert out["minimizer.certificate"].status == "confirmed"


def test_threshold_by_lambda_scale_when_alpha_cannot_cross():
    p = UFMProblem(K=3, d=3, n=2, alpha=0.1, lam_W=0.5, lam_H=0.5)  # K c > 1: collapsed for every alpha
    thr = _run(p)["minimizer.threshold"]
    assert thr.status == "confirmed" and thr.details["varied"].startswith("lambda scale")
    assert thr.expected == pytest.approx((1 - p.alpha) / (p.K * p.c), rel=1e-12)


def test_not_applicable_below_K_minus_1_includes_new_checks():
    out = _run(UFMProblem(K=5, d=2, n=2))
    assert all(out[i].status == "not_applicable" for i in NEW)
