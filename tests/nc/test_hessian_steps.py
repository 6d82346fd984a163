"""Theorem 4.2's derivation, step function by step function.

Each step of `ufm.nc.hessian.derivation` runs on a fresh `Derivation`; the
steps it adds must be verified, and what it returns is evaluated at a rational
point and compared with eigenvalues computed independently: numpy on explicit
softmax Hessians, simplex-ETF W- and H-blocks, and the dense joint Hessian of
the real objective (`jax.hessian`) at the Theorem 4.1 minimizer.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from jax.flatten_util import ravel_pytree

from ufm.nc.hessian.derivation import (
    alpha_derivatives,
    at_minimizer,
    collect_results,
    condition_numbers,
    derive,
    generic_ce,
    h_block,
    hessian_derivation,
    joint_in_span_2x2,
    joint_nullity_steps,
    joint_off_span,
    make_symbols,
    minimizer_values,
    mismatch_count,
    new_derivation,
    setting,
    softmax_cov,
    softmax_hessian,
    standard_block,
    summary,
    two_sample_objective,
    w_block_family_c,
    w_block_kronecker,
    w_block_multiplicities,
)
from ufm.nc.minimizer.derivation import minimizer_derivation
from ufm.nc.objective import UFMParams, objective

M = minimizer_derivation()
S = make_symbols(M)
X = minimizer_values(M)
R = sp.Rational
HYPER = {"alpha": R(1, 10), "lW": R(1, 100), "lH": R(1, 50), "lb": R(1, 20)}  # c = sqrt(n lW lH)


def fresh():
    return new_derivation(S)


def verified_kinds(D):
    assert D.all_verified, [s.title for s in D.unverified]
    return [s.kind for s in D.steps]


def at(expr, K=4, d=5, n=2, pnt=None, w2=None, h2=None, **hyper) -> float:
    """`expr` at K, d, n, the hyperparameters, and (structural steps) p_nt, ||w||^2, ||h||^2."""
    subs = {S.K: K, S.d: d, S.n: n}
    subs.update({getattr(S, k): v for k, v in {**HYPER, **hyper}.items()})
    for sym, v in ((S.pnt, pnt), (S.w2, w2), (S.h2, h2)):
        if v is not None:
            subs[sym] = v
    if pnt is not None:
        subs[S.pt] = 1 - (K - 1) * pnt
    return float(sp.sympify(expr).subs(subs))


# ---- independent numerics ---------------------------------------------------------


def softmax_hessian_np(K, pnt, k):
    p = np.full(K, pnt)
    p[k] = 1 - (K - 1) * pnt
    return np.diag(p) - np.outer(p, p)


def etf(K, d):
    """K unit vectors in R^d with Gram K/(K-1) (I - J/K) (a simplex ETF)."""
    w, v = np.linalg.eigh(np.eye(K) - 1.0 / K)
    U = np.zeros((K, d))
    U[:, : K - 1] = v[:, w > 0.5] * np.sqrt(K / (K - 1))
    return U


def w_block_np(K, d, pnt, h2):
    """(1/K) sum_k A_k (x) h_k h_k^T, the W-block of the loss."""
    U = np.sqrt(h2) * etf(K, d)
    return sum(np.kron(softmax_hessian_np(K, pnt, k), np.outer(U[k], U[k])) for k in range(K)) / K


def h_block_eigs(K, d, n, pnt, w2):
    """Eigenvalues of blockdiag_i (1/N) W^T A_k(i) W, the H-block of the loss."""
    W = np.sqrt(w2) * etf(K, d)
    return np.sort(np.concatenate([np.linalg.eigvalsh(W.T @ softmax_hessian_np(K, pnt, k) @ W / (n * K))
                                   for k in range(K) for _ in range(n)]))


def expand(pairs, **point):
    return np.sort([at(v, **point) for v, m in pairs for _ in range(int(at(m, **point)))])


def assert_sub_multiset(values, eigs, tol=1e-9):
    """Every value in `values` matches its own eigenvalue of `eigs` (multiplicities count)."""
    free = list(np.sort(eigs))
    for v in np.sort(values):
        i = int(np.argmin([abs(e - v) for e in free]))
        assert abs(free[i] - v) <= tol * max(1.0, abs(v)), (v, free)
        free.pop(i)


@functools.lru_cache(maxsize=None)
def joint_eigs(K, d, n):
    """Eigenvalues of the dense joint Hessian of the real objective at the closed-form minimizer."""
    U = etf(K, d)
    W = np.sqrt(at(X.w2, K=K, d=d, n=n)) * U
    H = np.repeat(np.sqrt(at(X.h2, K=K, d=d, n=n)) * U.T, n, axis=1)
    x0, unravel = ravel_pytree(UFMParams(jnp.asarray(W), jnp.asarray(H), jnp.zeros(K)))
    hyper = [float(HYPER[k]) for k in ("alpha", "lW", "lH", "lb")]
    F = lambda x: objective(unravel(x), *hyper)  # noqa: E731
    assert float(jnp.abs(jax.grad(F)(x0)).max()) < 1e-12  # it is the minimizer
    return np.linalg.eigvalsh(np.asarray(jax.hessian(F)(x0)))


def structural():
    """The generic (symbolic p_nt, ||w||, ||h||) outputs of the structural steps."""
    D = fresh()
    Ak = softmax_hessian(D, S)
    Hb, Wk, lam_s = h_block(D, S, Ak), w_block_kronecker(D, S, Ak), w_block_family_c(D, S)
    return Ak, Hb, Wk, lam_s, w_block_multiplicities(D, S, Ak, Wk, lam_s)


def at_min():
    return at_minimizer(fresh(), S, X, *structural())


# ---- the structural steps ---------------------------------------------------------

GENERIC = dict(K=4, d=5, n=3, pnt=R(1, 28), w2=R(2, 3), h2=R(5, 7))


def test_setting_is_one_note():
    D = fresh()
    setting(D)
    assert [s.kind for s in D.steps] == ["note"]


def test_softmax_hessian_eigenvalues():
    D = fresh()
    Ak = softmax_hessian(D, S)
    # entries of A_k = p_nt I + B C B^T, the generic y, rank of B, R on span(1, e_k), the pairs
    assert verified_kinds(D) == (["identity"] * 6 + ["definition"] + ["identity"] * 2 + ["definition"]
                                 + ["identity"] * 5)
    assert [m for _, m in Ak.pairs] == [1, S.K - 2, 1] and Ak.pairs[2][0] == Ak.lam_t
    for K, pnt in ((4, R(1, 28)), (5, R(1, 9)), (2, R(1, 3))):
        eig = np.linalg.eigvalsh(softmax_hessian_np(K, float(pnt), 1))
        np.testing.assert_allclose(eig, expand(Ak.pairs, K=K, pnt=pnt), atol=1e-15)


def test_h_block_scale():
    D = fresh()
    Hb = h_block(D, S, softmax_hessian(fresh(), S))
    assert verified_kinds(D) == ["cited", "identity", "identity", "cited", "identity", "identity", "definition",
                                 "identity", "identity"]
    assert D.steps[1].lhs == 0 and D.steps[2].lhs == 0  # the mismatch counts of the structural checks
    K, d, n, pnt, w2 = 4, 5, 3, 1 / 28, 2 / 3
    nu = at(Hb.nu, **GENERIC)
    lt = np.linalg.eigvalsh(softmax_hessian_np(K, pnt, 0))[-1]
    per_sample = [0.0] * (d - K + 1) + [nu * pnt] * (K - 2) + [nu * lt]
    np.testing.assert_allclose(h_block_eigs(K, d, n, pnt, w2), np.sort(per_sample * (n * K)), atol=1e-15)
    np.testing.assert_allclose(expand(Hb.pairs, **GENERIC), h_block_eigs(K, d, n, pnt, w2), atol=1e-15)


def test_w_block_kronecker_scale_and_family_a():
    D = fresh()
    Wk = w_block_kronecker(D, S, softmax_hessian(fresh(), S))
    assert verified_kinds(D) == ["cited", "identity", "identity", "note"] + ["identity"] * 4
    assert D.steps[1].lhs == 0  # the mismatch count of the Kronecker-form check
    assert Wk.pairs[1] == (0, S.K - 1)  # family (b): the kernel
    K, d, pnt, h2 = 4, 5, 1 / 28, 5 / 7
    top = np.linalg.eigvalsh(w_block_np(K, d, pnt, h2))[-1]
    lt = np.linalg.eigvalsh(softmax_hessian_np(K, pnt, 0))[-1]
    assert at(Wk.mu * Wk.pairs[0][0], **GENERIC) == pytest.approx(top, rel=1e-13)
    assert at(Wk.pairs[0][0], **GENERIC) == pytest.approx(lt, rel=1e-13)



# ---- the structural checks can fail: a wrong matrix is counted ---------------------


def test_h_block_check_rejects_a_wrong_per_sample_block():
    G = generic_ce(3, 2)
    Hh = sp.hessian(G.ce, list(G.h))
    assert mismatch_count(Hh, G.W.T * softmax_cov(G.p) * G.W) == 0
    assert mismatch_count(Hh, G.W.T * sp.diag(*G.p) * G.W) == 4  # without the p p^T term
    assert mismatch_count(Hh, G.W.T * softmax_cov(G.p) * G.W / 2) == 4


def test_h_block_check_rejects_coupled_samples():
    obj, G1, G2 = two_sample_objective()
    hs = [*G1.h, *G2.h]
    assert mismatch_count(sp.hessian(obj, hs)[:2, 2:], sp.zeros(2, 2)) == 0
    assert mismatch_count(sp.hessian(obj, hs)[:2, :2], sp.zeros(2, 2)) == 4  # the own block is not 0
    coupled = obj + sp.log(1 + sp.exp((G1.h.T * G2.h)[0]))  # a term in h_1 and h_2
    assert mismatch_count(sp.hessian(coupled, hs)[:2, 2:], sp.zeros(2, 2)) == 4


def test_w_block_check_rejects_the_wrong_kronecker_order():
    G = generic_ce(3, 2)
    Hw = sp.hessian(G.ce, list(G.W))  # vec(W) row-major
    A, hh = softmax_cov(G.p), G.h * G.h.T
    assert mismatch_count(Hw, sp.kronecker_product(A, hh)) == 0
    assert mismatch_count(Hw, sp.kronecker_product(hh, A)) > 0  # column-major order
    assert mismatch_count(Hw, sp.kronecker_product(sp.diag(*G.p), hh)) > 0  # without p p^T

@pytest.mark.parametrize("K", [3, 4, 5])
def test_w_block_family_c_eigenvalue(K):
    D = fresh()
    lam_s = w_block_family_c(D, S)
    assert verified_kinds(D) == ["identity"] * 5
    pnt, h2 = R(1, 7 * K), R(5, 7)
    mu = float(h2) / (K - 1)
    eig = np.linalg.eigvalsh(w_block_np(K, K, float(pnt), float(h2)))
    ls = mu * at(lam_s, K=K, pnt=pnt)
    assert np.sum(np.abs(eig - ls) < 1e-12) == K - 1


@pytest.mark.parametrize("K,d", [(2, 1), (2, 3), (3, 2), (3, 4), (4, 5), (5, 4)])
def test_w_block_multiplicities(K, d):
    D = fresh()
    Ak = softmax_hessian(fresh(), S)
    mW = w_block_multiplicities(D, S, Ak, w_block_kronecker(fresh(), S, Ak), w_block_family_c(fresh(), S))
    assert verified_kinds(D) == ["identity"] * 9 + ["note"] + ["identity"] * 4
    pnt, h2 = 1 / (7 * K), 5 / 7
    eig = np.linalg.eigvalsh(w_block_np(K, d, pnt, h2))
    mu = h2 / (K - 1)
    assert np.sum(np.abs(eig) < 1e-13) == at(mW.m0, K=K, d=d)
    assert np.sum(np.abs(eig - mu * pnt) < 1e-13) == at(mW.m_n, K=K, d=d)
    top = np.sum(np.abs(eig - eig[-1]) < 1e-13)
    assert top == 1 and len(eig) - 1 - at(mW.m0 + mW.m_n, K=K, d=d) == at(mW.m_s, K=K, d=d)


# ---- at the minimizer -------------------------------------------------------------


@pytest.mark.parametrize("K,d,n", [(4, 5, 2), (3, 2, 3), (2, 2, 1)])
def test_at_minimizer_spectra_match_numpy_blocks(K, d, n):
    D = fresh()
    A = at_minimizer(D, S, X, *structural())
    # the display symbols c, rho, p_t, p_nt (definitions), then the identities
    assert verified_kinds(D) == ["definition"] * 4 + ["identity"] * 5
    p = dict(K=K, d=d, n=n)
    pnt, w2, h2 = at(X.p_nt, **p), at(X.w2, **p), at(X.h2, **p)
    lW, lH = float(HYPER["lW"]), float(HYPER["lH"])
    Wl = np.linalg.eigvalsh(w_block_np(K, d, pnt, h2))
    Hl = h_block_eigs(K, d, n, pnt, w2)
    for (blk, rd), shift, eig in ((("W", "loss"), 0, Wl), (("W", "full"), lW, Wl),
                                  (("H", "loss"), 0, Hl), (("H", "full"), lH, Hl)):
        np.testing.assert_allclose(expand(A.spectra[(blk, rd)], **p), eig + shift, atol=1e-14)
    rho, c = at(X.rho, **p), np.sqrt(n * lW * lH)
    assert at(A.mu, **p) * K / lW == pytest.approx(rho / c, rel=1e-13)
    assert at(A.nu, **p) * K / lH == pytest.approx(rho / c, rel=1e-13)


def kappa_np(eig):
    nz = eig[np.abs(eig) > 1e-12 * np.abs(eig).max()]
    return nz.max() / nz.min()


@pytest.mark.parametrize("K,d,n", [(4, 5, 2), (4, 3, 2), (3, 3, 1)])
def test_condition_numbers_match_numpy_ratios(K, d, n):
    A = at_min()
    D = fresh()
    kappa = condition_numbers(D, S, X, A)
    assert verified_kinds(D) == ["identity", "note", "identity", "identity", "note"]
    p = dict(K=K, d=d, n=n)
    pnt, w2, h2 = at(X.p_nt, **p), at(X.w2, **p), at(X.h2, **p)
    lW, lH = float(HYPER["lW"]), float(HYPER["lH"])
    Wl, Hl = np.linalg.eigvalsh(w_block_np(K, d, pnt, h2)), h_block_eigs(K, d, n, pnt, w2)
    assert at(kappa[("loss", "K>=3")], **p) == pytest.approx(kappa_np(Wl), rel=1e-12)
    assert at(kappa[("loss", "K>=3")], **p) == pytest.approx(kappa_np(Hl), rel=1e-12)
    assert at(kappa[("W", "full")], **p) == pytest.approx(kappa_np(Wl + lW), rel=1e-12)
    case = ("H", "full", "d>K-1") if d > K - 1 else ("H", "full", "d=K-1")
    assert at(kappa[case], **p) == pytest.approx(kappa_np(Hl + lH), rel=1e-12)


def test_alpha_derivatives_against_finite_differences():
    D = fresh()
    g = alpha_derivatives(D, S, X)
    assert verified_kinds(D) == ["identity"] * 4 + ["note"]
    K, d, n = 4, 5, 2
    lW = float(HYPER["lW"])

    def kappa_W_full(alpha):
        p = dict(K=K, d=d, n=n, alpha=sp.nsimplify(alpha))
        return kappa_np(np.linalg.eigvalsh(w_block_np(K, d, at(X.p_nt, **p), at(X.h2, **p))) + lW)

    c = np.sqrt(n * lW * float(HYPER["lH"]))
    for alpha in (0.05, 0.3, 0.6):
        h = 1e-5
        fd = (kappa_W_full(alpha + h) - kappa_W_full(alpha - h)) / (2 * h)
        gv = at(g, K=K, d=d, n=n, alpha=sp.nsimplify(alpha))
        assert (gv - 1) / (K * c) == pytest.approx(fd, rel=1e-6)
        p = dict(K=K, d=d, n=n, alpha=sp.nsimplify(alpha))
        assert gv == pytest.approx(at(X.rho, **p) * (2 * at(X.p_t, **p) - 1), rel=1e-14)


# ---- the joint Hessian ------------------------------------------------------------


@pytest.mark.parametrize("K,d,n", [(4, 5, 2), (3, 4, 1), (3, 2, 2)])
def test_joint_nullity_is_the_numeric_kernel(K, d, n):
    D = fresh()
    nullity = joint_nullity_steps(D, S)
    assert verified_kinds(D) == ["cited", "identity", "note", "note"]
    eig = joint_eigs(K, d, n)
    assert np.sum(np.abs(eig) < 1e-10) == at(nullity, K=K, d=d, n=n)  # lambda_b > 0: no bias shift


def test_joint_off_span_eigenvalues_are_joint_eigenvalues():
    D = fresh()
    pairs = joint_off_span(D, S, X, at_min())
    assert verified_kinds(D) == ["identity", "identity", "note"] + ["identity"] * 5
    assert D.symbols["lambda_b"] == S.lb
    for K, d, n in ((4, 5, 2), (3, 4, 1)):
        assert_sub_multiset(expand(pairs, K=K, d=d, n=n), joint_eigs(K, d, n))


def test_joint_in_span_2x2_roots_are_joint_eigenvalues():
    D = fresh()
    span = joint_in_span_2x2(D, S, X, at_min())
    assert verified_kinds(D) == ["note"] + ["identity"] * 4
    K, d, n = 4, 5, 2
    m_sym, m_anti = K * (K - 3) // 2, (K - 1) * (K - 2) // 2
    values = ([at(span.triv_lo), at(span.triv_hi)] + [at(span.sym_lo)] * m_sym + [at(span.sym_hi)] * m_sym
              + [at(span.anti_hi)] * m_anti)
    assert_sub_multiset(values, joint_eigs(K, d, n))


def test_standard_block_fills_the_rest_of_the_joint_spectrum():
    D = fresh()
    M4 = standard_block(D, S)
    assert verified_kinds(D) == ["identity", "identity", "note", "definition"]
    for K, d, n in ((4, 5, 2), (3, 4, 1)):
        p = dict(K=K, d=d, n=n)
        M4n = np.array([[at(e.subs({S.h2: X.h2, S.w2: X.w2, S.pnt: X.p_nt}), **p) for e in row]
                        for row in M4.tolist()])
        assert np.allclose(M4n, M4n.T, atol=1e-15)
        assert_sub_multiset(np.repeat(np.linalg.eigvalsh(M4n), K - 1), joint_eigs(K, d, n))


def test_summary_is_one_note():
    D = fresh()
    summary(D)
    assert [s.kind for s in D.steps] == ["note"] and "| W |" in D.steps[0].text


def test_collect_results_and_derive_assemble_the_whole_joint_spectrum():
    titles = []

    def run(step, *args):
        D = fresh()
        out = step(D, S, *args)
        titles.extend(s.title for s in D.steps)
        return out

    D = fresh()
    setting(D)
    titles.extend(s.title for s in D.steps)
    Ak = run(softmax_hessian)
    Hb, Wk, lam_s = run(h_block, Ak), run(w_block_kronecker, Ak), run(w_block_family_c)
    mW = run(w_block_multiplicities, Ak, Wk, lam_s)
    A = run(at_minimizer, X, Ak, Hb, Wk, lam_s, mW)
    kappa, g, nullity = run(condition_numbers, X, A), run(alpha_derivatives, X), run(joint_nullity_steps)
    pairs, span, M4 = run(joint_off_span, X, A), run(joint_in_span_2x2, X, A), run(standard_block)
    D = fresh()
    summary(D)
    titles.extend(s.title for s in D.steps)
    D = fresh()
    collect_results(D, S, X, A, kappa, g, nullity, pairs, span, M4)
    assert D.steps == []
    res = D.results
    K, d, n = 4, 5, 2
    whole = list(expand(res["joint_partial"])) + list(expand(res["joint_in_span"]))
    M4n = np.array([[at(e) for e in row] for row in res["standard_block"].tolist()])
    whole += list(np.repeat(np.linalg.eigvalsh(M4n), K - 1))
    np.testing.assert_allclose(np.sort(whole), joint_eigs(K, d, n), atol=1e-13)
    assert at(res["nullity_rotation"]) == 9
    built = derive()
    assert built is not hessian_derivation()  # a fresh build, not the cached one
    assert [s.title for s in built.steps] == titles and len(titles) == 93
