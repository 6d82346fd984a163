"""The symmetric reduction: closed forms (CE, MSE), certified focal roots, and an explicit ETF in numpy.

Every expected value here is computed independently of `ufm.nc.losses.reduction`:
typed formulas (Theorem 4.1 for CE; rho = 1 - alpha - K c for MSE; the focal
threshold by hand), a scipy root of a numpy-written reduced objective, and the
UFM objective F evaluated at an explicit simplex-ETF (W, H, b) built in numpy.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

from ufm.nc.losses.interval import certified_root
from ufm.nc.losses.reduction import (derive_reduction, is_permutation_symmetric, reduced_minimizer,
                                     reduction_derivation)
from ufm.nc.losses.sympy_forms import GAMMA, cross_entropy_sym, log_softmax_sym, sympy_form


# ----------------------------------------------------------------------------- numpy references


def np_loss(name, x, y, gamma=None):
    z = x - x.max()
    logp = z - np.log(np.sum(np.exp(z)))
    if name == "ce":
        return -np.sum(y * logp)
    if name == "focal":
        return -np.sum(y * (1 - np.exp(logp)) ** gamma * logp)
    return 0.5 * np.sum((x - y) ** 2)


def etf_point(K, d, n, lam_W, lam_H, rho, beta, seed=0):
    """W (K x d), H (d x nK, class-major), b: a balanced simplex ETF in a random K-dim subspace of R^d."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, K)))
    P = np.eye(K) - 1.0 / K
    t = math.sqrt(rho * math.sqrt(n * lam_H / lam_W)) if rho > 0 else 0.0
    W = t * P @ Q.T
    Hbar = (rho / t) * Q @ P if rho > 0 else np.zeros((d, K))
    H = np.repeat(Hbar, n, axis=1)
    return W, H, beta * np.ones(K)


def etf_objective(name, K, n, alpha, lam_W, lam_H, lam_b, bias, rho, beta, gamma=None, d=None):
    """F(W, H, b) = (1/N) sum_i l(W h_i + b, y_i) + lam_W/2 ||W||^2 + lam_H/2 ||H||^2 + lam_b/2 ||b||^2."""
    W, H, b = etf_point(K, d or K + 2, n, lam_W, lam_H, rho, beta if bias != "none" else 0.0)
    Z = W @ H + b[:, None]
    Y = (1 - alpha) * np.repeat(np.eye(K), n, axis=1) + alpha / K
    data = np.mean([np_loss(name, Z[:, i], Y[:, i], gamma) for i in range(K * n)])
    reg = 0.5 * (lam_W * np.sum(W**2) + lam_H * np.sum(H**2))
    if bias == "penalized":
        reg += 0.5 * lam_b * np.sum(b**2)
    return data + reg, W, H


def reduced_np(name, K, alpha, c, rho, gamma=None, beta=0.0):
    x = rho * (np.eye(K)[0] - 1.0 / K) + beta
    y = (1 - alpha) * np.eye(K)[0] + alpha / K
    return np_loss(name, x, y, gamma) + c * (K - 1) * rho


def minimize(name, **kw):
    return reduced_minimizer(sympy_form(name, **({"gamma": kw.pop("gamma")} if "gamma" in kw else {})),
                             name=name, **kw)


CE_CASES = [  # K, n, alpha, lam_W, lam_H, lam_b, bias
    (2, 3, 0.0, 1e-3, 2e-3, 1e-3, "penalized"),
    (3, 5, 0.1, 5e-3, 5e-3, 0.0, "free"),
    (4, 2, 0.2, 1e-2, 1e-3, None, "none"),
    (5, 4, 0.05, 2e-3, 3e-3, 1e-2, "penalized"),
]


# ----------------------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("K,n,alpha,lam_W,lam_H,lam_b,bias", CE_CASES)
def test_ce_matches_theorem_41(K, n, alpha, lam_W, lam_H, lam_b, bias):
    r = minimize("ce", K=K, n=n, alpha=alpha, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b, bias=bias)
    c = math.sqrt(n * lam_W * lam_H)
    assert r.method == "closed form" and not r.collapsed
    assert r.rho == pytest.approx(math.log(K / (alpha + K * c) - (K - 1)), rel=1e-13)
    assert r.logit_gap == r.rho
    assert r.threshold == pytest.approx(alpha + K * c, rel=1e-14)
    assert r.beta == 0.0
    assert r.p_target == pytest.approx(1 - (K - 1) * (alpha / K + c), rel=1e-13)  # eq. (13)
    # 30 digits, at the exact binary values of the parameters
    with mpmath.workdps(50):
        a, cc = mpmath.mpf(alpha), mpmath.sqrt(n * mpmath.mpf(lam_W) * mpmath.mpf(lam_H))
        true = mpmath.log(K / (a + K * cc) - (K - 1))
        assert abs(mpmath.mpf(r.rho_str) - true) < mpmath.mpf(10) ** -30 * true
    assert r.digits >= 30
    F, W, H = etf_objective("ce", K, n, alpha, lam_W, lam_H, lam_b, bias, r.rho, r.beta)
    assert r.objective == pytest.approx(F, rel=1e-12)
    assert r.w_norm_sq == pytest.approx(np.sum(W[0] ** 2), rel=1e-12)
    assert r.h_norm_sq == pytest.approx(np.sum(H[:, 0] ** 2), rel=1e-12)


def test_ce_agrees_with_the_theorem_41_derivation():
    from ufm.nc.minimizer.derivation import closed_form
    from ufm.nc.problem import UFMProblem

    cf = closed_form(UFMProblem(K=4, d=6, n=3, alpha=0.1, lam_W=5e-3, lam_H=2e-3, lam_b=1e-3))
    r = minimize("ce", K=4, n=3, alpha=0.1, lam_W=5e-3, lam_H=2e-3, lam_b=1e-3, bias="penalized")
    for key in ("rho", "objective", "w_norm_sq", "h_norm_sq", "p_target", "threshold"):
        assert getattr(r, key) == pytest.approx(cf[key], rel=1e-12), key


def test_ce_collapses_beyond_threshold():
    # K = 3, alpha = 0.5, c = sqrt(1 * 0.2 * 0.2) = 0.2: alpha + K c = 1.1 >= 1
    r = minimize("ce", K=3, n=1, alpha=0.5, lam_W=0.2, lam_H=0.2, lam_b=1e-3, bias="penalized")
    assert r.collapsed and r.method == "collapsed" and r.rho == 0.0 and r.rho_str == "0"
    assert r.threshold == pytest.approx(1.1, rel=1e-14)
    assert r.objective == pytest.approx(math.log(3), rel=1e-14)
    assert r.p_target == pytest.approx(1 / 3, rel=1e-14) and r.w_norm_sq == 0.0
    # just below the threshold the gap is small and positive
    s = minimize("ce", K=3, n=1, alpha=0.5, lam_W=0.16, lam_H=0.16, lam_b=1e-3, bias="penalized")
    assert not s.collapsed and 0 < s.rho == pytest.approx(math.log(3 / (0.5 + 0.48) - 2), rel=1e-13)


# ----------------------------------------------------------------------------- MSE


@pytest.mark.parametrize("bias,lam_b,beta", [("penalized", 1e-2, 1 / (4 * 1.01)), ("free", 0.0, 0.25),
                                             ("none", None, 0.0)])
def test_mse_closed_form_and_explicit_etf(bias, lam_b, beta):
    K, n, alpha, lam_W, lam_H = 4, 3, 0.1, 4e-3, 6e-3
    c = math.sqrt(n * lam_W * lam_H)
    r = minimize("mse", K=K, n=n, alpha=alpha, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b, bias=bias)
    assert r.method == "closed form"
    assert r.rho == pytest.approx(1 - alpha - K * c, rel=1e-14)
    assert r.beta == pytest.approx(beta, rel=1e-14, abs=0)
    assert r.threshold == pytest.approx(alpha + K * c, rel=1e-14)
    F, W, H = etf_objective("mse", K, n, alpha, lam_W, lam_H, lam_b, bias, r.rho, r.beta)
    assert r.objective == pytest.approx(F, rel=1e-13)
    # rho* and beta* are optimal: moving either raises F
    for dr, db in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
        if bias == "none" and db:
            continue
        Fp, _, _ = etf_objective("mse", K, n, alpha, lam_W, lam_H, lam_b, bias, r.rho + dr, r.beta + db)
        assert Fp > F + 1e-9


def test_mse_collapses_beyond_threshold():
    r = minimize("mse", K=3, n=1, alpha=0.4, lam_W=0.3, lam_H=0.3, lam_b=1e-3, bias="penalized")
    assert r.collapsed and r.rho == 0.0 and r.threshold == pytest.approx(1.3, rel=1e-14)
    beta = 1 / (3 * 1.001)
    expected = 0.5 * ((beta - (0.6 + 0.4 / 3)) ** 2 + 2 * (beta - 0.4 / 3) ** 2) + 0.5e-3 * 3 * beta**2
    assert r.objective == pytest.approx(expected, rel=1e-13)


# ----------------------------------------------------------------------------- focal


def focal_threshold_by_hand(K, alpha, gamma):
    return (1 - alpha) * (1 - 1 / K) ** (gamma - 1) * (gamma * math.log(K) + K - 1) / K**2


@pytest.mark.parametrize("gamma", [1, 2])
@pytest.mark.parametrize("K,n,alpha,bias,lam_b", [(3, 4, 0.1, "penalized", 1e-3), (5, 2, 0.0, "none", None)])
def test_focal_certified_root(gamma, K, n, alpha, bias, lam_b):
    lam_W, lam_H = 5e-3, 3e-3
    c = math.sqrt(n * lam_W * lam_H)
    r = minimize("focal", K=K, n=n, alpha=alpha, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b,
                 bias=bias, params={"gamma": gamma})
    assert r.method == "interval certified" and not r.collapsed and r.digits == 30
    # an independent root: scipy brentq on a finite-difference derivative of a numpy f
    df = lambda rho: (reduced_np("focal", K, alpha, c, rho + 1e-6, gamma)  # noqa: E731
                      - reduced_np("focal", K, alpha, c, rho - 1e-6, gamma)) / 2e-6
    grid = np.linspace(0.01, 30, 3000)
    i = next(i for i in range(len(grid) - 1) if df(grid[i]) < 0 < df(grid[i + 1]))
    assert r.rho == pytest.approx(brentq(df, grid[i], grid[i + 1], xtol=1e-14), abs=1e-6)
    # the certificate: a bracket of relative width < 1e-30 with opposite signs
    cert = r.certificate
    with mpmath.workdps(60):
        lo, hi = (mpmath.mpf(s) for s in cert["bracket"])
        assert lo <= mpmath.mpf(r.rho_str) <= hi and (hi - lo) / lo < mpmath.mpf(10) ** -30
    assert {cert["sign_g_lo"], cert["sign_g_hi"]} == {"-", "+"} and cert["unique"]
    assert cert["scan"]["sign_changes"] >= 1 and len(r.rho_str.replace(".", "")) >= 30
    # F at the explicit ETF
    F, W, H = etf_objective("focal", K, n, alpha, lam_W, lam_H, lam_b, bias, r.rho, r.beta, gamma)
    assert r.objective == pytest.approx(F, rel=1e-12)
    assert r.w_norm_sq == pytest.approx(np.sum(W[1] ** 2), rel=1e-12)
    # threshold against the hand formula
    cc = focal_threshold_by_hand(K, alpha, gamma)
    assert r.c_crit == pytest.approx(cc, rel=1e-13)
    assert r.threshold == pytest.approx(alpha + (1 - alpha) * c / cc, rel=1e-13)


def test_focal_gamma_zero_certified_equals_ce_closed_form():
    kw = dict(K=4, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3, bias="penalized")
    ce = minimize("ce", **kw)
    fo = minimize("focal", **kw, params={"gamma": 0})
    assert fo.method == "interval certified" and ce.method == "closed form"
    with mpmath.workdps(50):
        assert abs(mpmath.mpf(fo.rho_str) - mpmath.mpf(ce.rho_str)) < mpmath.mpf(10) ** -29
    assert fo.objective == pytest.approx(ce.objective, rel=1e-14)


def test_focal_collapses_beyond_threshold():
    # K = 3, alpha = 0.1, gamma = 2: c_crit = 0.2798...; c = 0.3
    r = minimize("focal", K=3, n=1, alpha=0.1, lam_W=0.3, lam_H=0.3, lam_b=1e-3, bias="penalized",
                 params={"gamma": 2})
    assert focal_threshold_by_hand(3, 0.1, 2) < 0.3 and r.threshold > 1
    assert r.collapsed and r.rho == 0.0 and r.method == "collapsed"
    assert r.objective == pytest.approx((2 / 3) ** 2 * math.log(3), rel=1e-14)


def test_focal_threshold_symbolic_matches_hand_formula():
    D = reduction_derivation(sympy_form("focal"), 4, "none", "focal")
    s = D.symbols
    hand = (1 - s["alpha"]) * sp.Rational(3, 4) ** (GAMMA - 1) * (GAMMA * sp.log(4) + 3) / 16
    for g in (0, sp.Rational(1, 2), 1, 3, sp.Rational(7, 3)):
        e = (D.results["c_crit"] - hand).subs({GAMMA: g, s["alpha"]: sp.Rational(1, 7)})
        assert abs(sp.N(e, 40)) < 1e-35
    # and gamma = 0 gives the CE threshold (1 - alpha)/K
    assert sp.simplify(D.results["c_crit"].subs(GAMMA, 0) - (1 - s["alpha"]) / 4) == 0


# ----------------------------------------------------------------------------- the derivation


@pytest.mark.parametrize("name", ["ce", "mse", "focal"])
@pytest.mark.parametrize("bias", ["penalized", "free", "none"])
def test_derivation_verified(name, bias):
    D = reduction_derivation(sympy_form(name), 3, bias, name)
    assert D.all_verified, [s.title for s in D.unverified]
    s, res = D.symbols, D.results
    rho, n, lW, lH = s["rho"], s["n"], s["lambda_W"], s["lambda_H"]
    assert sp.simplify(res["w_norm_sq"] - sp.Rational(2, 3) * rho * sp.sqrt(n * lH / lW)) == 0
    assert sp.simplify(res["h_norm_sq"] - sp.Rational(2, 3) * rho * sp.sqrt(lW / (n * lH))) == 0
    assert res["penalty"] == 2 * s["c"] * rho
    if name != "focal":
        assert sp.simplify(res["threshold"] - (s["alpha"] + 3 * s["c"])) == 0
    expected_beta = {("mse", "penalized"): 1 / (3 * (1 + s["lambda_b"])), ("mse", "free"): sp.Rational(1, 3)}
    assert sp.simplify(res["beta_star"] - expected_beta.get((name, bias), 0)) == 0
    assert bool(res["shift_invariant"]) == (name != "mse" and bias != "none")
    if name == "ce":
        closed = sp.log(3 / (s["alpha"] + 3 * s["c"]) - 2)
        assert sp.simplify(sp.exp(res["rho_closed"]) - sp.exp(closed)) == 0
    assert (res["rho_closed"] is None) == (name == "focal")
    assert "Step" in D.to_markdown()


def test_wrong_answer_changes_the_root():
    # the CE derivative with c shifted by 1e-6 gives a certified root outside the true one's bracket
    D = reduction_derivation(sympy_form("ce"), 3, "none", "ce")
    s = D.symbols
    env = {s["alpha"]: 0.1, s["c"]: 0.01}
    g = D.results["g"]
    true = certified_root(g, s["rho"], 0.5, 10, env=env)
    shifted = certified_root(g.subs(s["c"], s["c"] + sp.Rational(1, 10**6)), s["rho"], 0.5, 10, env=env)
    assert not true.lo <= shifted.value <= true.hi
    with mpmath.workdps(50):
        expected = mpmath.log(3 / (mpmath.mpf(0.1) + 3 * mpmath.mpf(0.01)) - 2)
        assert true.lo <= expected <= true.hi and not shifted.lo <= expected <= shifted.hi


# ----------------------------------------------------------------------------- symmetry and validation


def weighted_ce(x, y):
    logp = log_softmax_sym(x)
    return -2 * y[0] * logp[0] - sum(yj * lp for yj, lp in zip(y[1:], logp[1:]))


def test_permutation_symmetry():
    for K in (2, 3, 5):
        assert is_permutation_symmetric(cross_entropy_sym, K)
        assert is_permutation_symmetric(sympy_form("focal"), K)
        assert is_permutation_symmetric(sympy_form("mse"), K)
        assert not is_permutation_symmetric(weighted_ce, K)
    with pytest.raises(ValueError, match="sym_loss='weighted' is not symmetric"):
        derive_reduction(weighted_ce, 3, "penalized", "weighted")


def test_bad_arguments():
    kw = dict(K=3, n=2, alpha=0.1, lam_W=1e-3, lam_H=1e-3, lam_b=1e-3, bias="penalized")
    with pytest.raises(ValueError, match="K=1 is out of range"):
        minimize("ce", **{**kw, "K": 1})
    with pytest.raises(ValueError, match="K=2.5 is not an integer"):
        derive_reduction(cross_entropy_sym, 2.5, "free", "ce")
    with pytest.raises(ValueError, match="bias='maybe' is not one of the choices"):
        minimize("ce", **{**kw, "bias": "maybe"})
    with pytest.raises(ValueError, match="lam_b=0 is out of range"):
        minimize("ce", **{**kw, "lam_b": 0.0})
    with pytest.raises(ValueError, match="lam_b=0.001 is out of range"):
        minimize("ce", **{**kw, "bias": "free"})
    with pytest.raises(ValueError, match="alpha=1 is out of range"):
        minimize("ce", **{**kw, "alpha": 1.0})
    with pytest.raises(ValueError, match="no value for the loss parameter gamma"):
        minimize("focal", **kw)
    with pytest.raises(ValueError, match="unknown parameters"):
        minimize("ce", **kw, params={"gamma": 1})
