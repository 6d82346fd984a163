"""Theorem 4.1's derivation, step function by step function.

Each step of `ufm.nc.minimizer.derivation` runs on a fresh `Derivation`; the
steps it adds must be verified, and the expressions it returns are evaluated at
a rational point and compared with numbers computed independently (numpy SVD
and softmax, scipy minimisation of the scalar objective).
"""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize_scalar

from ufm.nc.minimizer.derivation import (
    collect_results,
    derive,
    factorization_penalty,
    first_order_condition,
    make_symbols,
    minimizer_derivation,
    new_derivation,
    norms_and_bias,
    reduced_objective,
    stationary_point,
    symmetric_logits,
)

S = make_symbols()
Kv, nv, av, lWv, lHv = 4, 3, sp.Rational(1, 10), sp.Rational(1, 200), sp.Rational(1, 300)
POINT = {S.K: Kv, S.n: nv, S.alpha: av, S.lW: lWv, S.lH: lHv}
C = math.sqrt(nv * float(lWv) * float(lHv))  # c = sqrt(n lam_W lam_H)


def num(expr, **extra) -> float:
    subs = dict(POINT)
    subs.update({getattr(S, k): v for k, v in extra.items()})
    return float(sp.sympify(expr).subs(subs))


def kinds_and_verified(D):
    assert D.all_verified, [s.title for s in D.unverified]
    return [s.kind for s in D.steps]


def softmax_ce(rho: float) -> tuple[float, float, float]:
    """(p_t, p_nt, CE) for the logits (rho, 0, ..., 0) and the smoothed label, in numpy."""
    z = np.zeros(Kv)
    z[0] = rho
    p = np.exp(z - z.max())
    p /= p.sum()
    y = np.full(Kv, float(av) / Kv)
    y[0] += 1 - float(av)
    return p[0], p[1], float(-(y * np.log(p)).sum())


def f_numeric(rho: float) -> float:
    """The scalar objective: CE plus sqrt(lam_W lam_H) times the nuclear norm of Z (numpy SVD)."""
    P = np.eye(Kv) - 1.0 / Kv
    Z = rho * np.kron(P, np.ones((1, nv)))
    return softmax_ce(rho)[2] + math.sqrt(float(lWv * lHv)) * np.linalg.svd(Z, compute_uv=False).sum()


def rho_numeric() -> float:
    res = minimize_scalar(f_numeric, bounds=(0.0, 30.0), method="bounded", options={"xatol": 1e-12})
    return res.x


def test_factorization_penalty_balances_the_two_norms():
    D = new_derivation(S)
    x_star = factorization_penalty(D, S)
    assert kinds_and_verified(D) == ["cited", "definition", "identity", "identity"]
    s = 2.5
    g = lambda x: float(lWv) / 2 * x + float(lHv) / 2 * s**2 / x  # noqa: E731
    x_num = minimize_scalar(g, bounds=(1e-6, 100.0), method="bounded", options={"xatol": 1e-12}).x
    assert num(x_star, s=sp.Rational(5, 2)) == pytest.approx(x_num, rel=1e-6)
    assert num(x_star, s=sp.Rational(5, 2)) == pytest.approx(s * math.sqrt(float(lHv / lWv)), rel=1e-14)


def test_symmetric_logits_nuclear_norm_matches_svd():
    D = new_derivation(S)
    nuc = symmetric_logits(D, S)
    assert kinds_and_verified(D) == ["cited", "identity", "identity", "identity", "definition"]
    P = np.eye(Kv) - 1.0 / Kv
    for rho in (0.5, 2.0):
        Z = rho * np.kron(P, np.ones((1, nv)))
        svd = np.linalg.svd(Z, compute_uv=False).sum()
        assert num(nuc, rho=sp.nsimplify(rho)) == pytest.approx(svd, rel=1e-12)


def test_reduced_objective_is_ce_plus_penalty():
    D = new_derivation(S)
    sc = reduced_objective(D, S, symmetric_logits(new_derivation(S), S))
    # the identities, the display symbols c, p_t, p_nt (definitions), then f
    assert kinds_and_verified(D) == ["identity", "identity"] + ["definition"] * 4
    assert [s.lhs.name for s in D.steps if s.abbreviates] == ["c", "p_t", "p_nt"]
    rho = sp.Rational(3, 2)
    pt, pnt, _ = softmax_ce(1.5)
    assert num(sc.p_t, rho=rho) == pytest.approx(pt, rel=1e-14)
    assert num(sc.p_nt, rho=rho) == pytest.approx(pnt, rel=1e-14)
    assert num(sc.y_t) == pytest.approx(0.9 + 0.1 / 4) and num(sc.y_nt) == pytest.approx(0.1 / 4)
    assert num(sc.f, rho=rho) == pytest.approx(f_numeric(1.5), rel=1e-13)


def test_first_order_condition_derivatives_and_threshold():
    sc = reduced_objective(new_derivation(S), S, symmetric_logits(new_derivation(S), S))
    D = new_derivation(S)
    fo = first_order_condition(D, S, sc)
    assert kinds_and_verified(D) == ["identity", "identity", "identity"]
    h = 1e-4
    for r in (0.3, 1.5, 4.0):
        rho = sp.nsimplify(r)
        fd1 = (f_numeric(r + h) - f_numeric(r - h)) / (2 * h)
        fd2 = (f_numeric(r + h) - 2 * f_numeric(r) + f_numeric(r - h)) / h**2
        assert num(fo.df, rho=rho) == pytest.approx(fd1, abs=1e-7)
        assert num(fo.d2f, rho=rho) == pytest.approx(fd2, abs=1e-5)
        assert num(fo.d2f, rho=rho) > 0
    assert num(fo.threshold) == pytest.approx(float(av) + Kv * C, rel=1e-14)


def test_stationary_point_is_the_numeric_minimizer():
    sc = reduced_objective(new_derivation(S), S, symmetric_logits(new_derivation(S), S))
    fo = first_order_condition(new_derivation(S), S, sc)
    D = new_derivation(S)
    opt = stationary_point(D, S, sc, fo.df)
    assert kinds_and_verified(D) == ["definition", "identity", "identity", "identity", "identity"]
    r = rho_numeric()
    assert num(opt.rho) == pytest.approx(r, rel=1e-6)
    pt, pnt, _ = softmax_ce(num(opt.rho))
    assert num(opt.p_t) == pytest.approx(pt, rel=1e-13)
    assert num(opt.p_nt) == pytest.approx(pnt, rel=1e-13)


def test_norms_and_bias_match_a_balanced_svd_factorization():
    D0 = new_derivation(S)
    x_star = factorization_penalty(D0, S)
    nuc = symmetric_logits(D0, S)
    sc = reduced_objective(D0, S, nuc)
    opt = stationary_point(D0, S, sc, first_order_condition(D0, S, sc).df)
    D = new_derivation(S)
    w2, h2 = norms_and_bias(D, S, x_star, nuc, sc, opt.rho)
    assert kinds_and_verified(D) == ["identity"] * 4
    # Independent: Z = rho P (x) 1_n^T, W = U sqrt(S) a, H = sqrt(S) V^T / a with a^4 = lam_H/lam_W.
    rho = num(opt.rho)
    Z = rho * np.kron(np.eye(Kv) - 1.0 / Kv, np.ones((1, nv)))
    U, sv, Vt = np.linalg.svd(Z, full_matrices=False)
    a = (float(lHv) / float(lWv)) ** 0.25
    W = U * np.sqrt(sv) * a
    H = (np.sqrt(sv)[:, None] * Vt) / a
    np.testing.assert_allclose(W @ H, Z, atol=1e-12)
    assert num(w2) == pytest.approx(np.mean(np.sum(W**2, axis=1)), rel=1e-10)
    assert num(h2) == pytest.approx(np.mean(np.sum(H**2, axis=0)), rel=1e-10)


def test_collect_results_regimes():
    D0 = new_derivation(S)
    x_star = factorization_penalty(D0, S)
    nuc = symmetric_logits(D0, S)
    sc = reduced_objective(D0, S, nuc)
    fo = first_order_condition(D0, S, sc)
    opt = stationary_point(D0, S, sc, fo.df)
    w2, h2 = norms_and_bias(D0, S, x_star, nuc, sc, opt.rho)
    D = new_derivation(S)
    collect_results(D, S, sc, fo, opt, w2, h2)
    assert D.steps == []
    R = D.results
    assert num(R["objective"]) == pytest.approx(f_numeric(rho_numeric()), rel=1e-10)
    assert num(R["rho"]) == pytest.approx(rho_numeric(), rel=1e-6)
    # collapsed regime (alpha + K c >= 1): everything at 0, p = 1/K, objective log K
    big = {S.lW: sp.Rational(1, 5), S.lH: sp.Rational(1, 5)}  # alpha + K c = 1.49 > 1
    vals = {k: float(sp.sympify(R[k]).subs({**POINT, **big})) for k in
            ("rho", "p_target", "p_nontarget", "w_norm_sq", "h_norm_sq", "objective")}
    assert vals == {"rho": 0.0, "p_target": 0.25, "p_nontarget": 0.25, "w_norm_sq": 0.0,
                    "h_norm_sq": 0.0, "objective": pytest.approx(math.log(4))}


def test_derive_is_the_steps_in_order_and_uncached():
    """`derive` = the step functions in order: its step titles are theirs, run one by one."""
    titles = []

    def run(step, *args):
        D = new_derivation(S)
        out = step(D, S, *args)
        titles.extend(s.title for s in D.steps)
        return out

    x_star = run(factorization_penalty)
    nuc = run(symmetric_logits)
    sc = run(reduced_objective, nuc)
    fo = run(first_order_condition, sc)
    opt = run(stationary_point, sc, fo.df)
    run(norms_and_bias, x_star, nuc, sc, opt.rho)
    built = derive()
    assert built is not minimizer_derivation()  # a fresh build, not the cached one
    assert [s.title for s in built.steps] == titles and len(titles) == 27
