"""NC metrics (`ufm.nc.metrics`): known values, an independent numpy reference, invariances, variants, bad inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ufm import class_mean_norms, classifier_norms, nc1, nc2, nc3, nc_metrics
from ufm.nc.metrics import VARIANTS

SHAPES = [(3, 4, 2), (4, 3, 5), (5, 8, 3)]  # (K, d, n); (4, 3, 5) has d = K - 1, the least room for an ETF


# ---------------------------------------------------------------- reference
def ref_metrics(W, H, y, K):
    """Independent numpy implementation of the paper's eq. (4)-(6), loops and np.linalg.pinv."""
    W, H = np.asarray(W, float), np.asarray(H, float)
    d, N = H.shape
    mu = np.stack([H[:, y == k].mean(axis=1) for k in range(K)], axis=1)
    muG = mu.mean(axis=1)
    Hbar = mu - muG[:, None]
    SW = np.zeros((d, d))
    for i in range(N):
        v = H[:, i] - mu[:, y[i]]
        SW += np.outer(v, v)
    SW /= N
    SB = sum(np.outer(Hbar[:, k], Hbar[:, k]) for k in range(K)) / K
    # rcond relative to the largest singular value, well above rounding, far below real eigenvalues
    n1 = np.trace(SW @ np.linalg.pinv(SB, rcond=1e-10, hermitian=True)) / K
    P = np.eye(K) - np.ones((K, K)) / K
    WH = W @ Hbar
    n2 = np.linalg.norm(WH / np.linalg.norm(WH) - P / np.sqrt(K - 1))
    n3 = np.linalg.norm(W / np.linalg.norm(W) - Hbar.T / np.linalg.norm(Hbar))
    WW = W @ W.T
    n2_zhu = np.linalg.norm(WW / np.linalg.norm(WW) - P / np.sqrt(K - 1))
    Wc = W - W.mean(axis=0)
    WcH = Wc @ Hbar
    n2_zhou = np.linalg.norm(WcH / np.linalg.norm(WcH) - P / np.sqrt(K - 1))
    n3_zhou = np.linalg.norm(Wc / np.linalg.norm(Wc) - Hbar.T / np.linalg.norm(Hbar))
    return dict(nc1=n1, nc2=n2, nc3=n3, nc2_zhu=n2_zhu, nc2_zhou=n2_zhou, nc3_zhou=n3_zhou)


def random_config(K, d, n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    W = scale * rng.normal(size=(K, d))
    H = scale * rng.normal(size=(d, K * n)) + scale * np.repeat(rng.normal(size=(d, K)), n, axis=1)
    return W, H, np.repeat(np.arange(K), n)


def etf_config(K, d, n, seed, w_scale=2.0, h_scale=0.3, shift=True):
    """Exact simplex ETF, embedded in d >= K dims by a random orthonormal map."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(d, K)))       # d x K orthonormal columns
    M = U @ (np.eye(K) - 1.0 / K)                      # centred simplex in R^d
    W = w_scale * M.T
    mu_G = rng.normal(size=(d, 1)) if shift else 0.0   # a global offset must not matter
    H = h_scale * np.repeat(M, n, axis=1) + mu_G
    return W, H


# ---------------------------------------------------------------- known values
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("K,d,n", [(3, 3, 2), (4, 6, 3), (5, 9, 1)])
def test_exact_etf_is_zero(K, d, n, variant):
    W, H = etf_config(K, d, n, seed=K)
    assert abs(float(nc1(H, K, variant=variant))) < 1e-12
    assert float(nc2(W, H, K, variant=variant)) < 1e-7  # sqrt of rounding: a norm of a difference near 0
    assert float(nc3(W, H, K, variant=variant)) < 1e-7


@pytest.mark.parametrize("K,d,n", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_random_matches_numpy_reference(K, d, n, seed):
    W, H, y = random_config(K, d, n, seed)
    ref = ref_metrics(W, H, y, K)
    np.testing.assert_allclose(float(nc1(H, K)), ref["nc1"], rtol=1e-10)
    np.testing.assert_allclose(float(nc2(W, H, K)), ref["nc2"], rtol=1e-12)
    np.testing.assert_allclose(float(nc3(W, H, K)), ref["nc3"], rtol=1e-12)
    np.testing.assert_allclose(float(nc1(H, K, variant="authors")), K * ref["nc1"], rtol=1e-10)
    np.testing.assert_allclose(float(nc3(W, H, K, variant="authors")), ref["nc3"] ** 2, rtol=1e-12)
    np.testing.assert_allclose(float(nc2(W, H, K, variant="zhu2021")), ref["nc2_zhu"], rtol=1e-12)
    np.testing.assert_allclose(float(nc2(W, H, K, variant="zhou2022")), ref["nc2_zhou"], rtol=1e-12)
    np.testing.assert_allclose(float(nc3(W, H, K, variant="zhou2022")), ref["nc3_zhou"], rtol=1e-12)
    # variants that leave a metric unchanged really do
    np.testing.assert_allclose(float(nc1(H, K, variant="zhu2021")), ref["nc1"], rtol=1e-10)
    np.testing.assert_allclose(float(nc2(W, H, K, variant="authors")), ref["nc2"], rtol=1e-12)


def test_rank_deficient_between_class():
    """d = 2 < K - 1 = 3: Sigma_B has rank 2; the pseudo-inverse acts on that range only."""
    K, d, n = 4, 2, 3
    W, H, y = random_config(K, d, n, seed=5)
    ref = ref_metrics(W, H, y, K)
    np.testing.assert_allclose(float(nc1(H, K)), ref["nc1"], rtol=1e-10)


def test_rank_deficient_collinear_means_hand_value():
    """Class means on a line (rank-1 Sigma_B) in d = 2: NC1 by hand.

    mu = (-1, 0), (0, 0), (1, 0): Sigma_B = diag(2/3, 0), pinv = diag(3/2, 0).
    Within-class deviations +-(e, f) for every class: Sigma_W = [[e^2, ef], [ef, f^2]].
    NC1 = (1/3) e^2 (3/2) = e^2/2; the f-direction (outside the range of Sigma_B) is ignored.
    """
    e, f = 0.3, 0.7
    mus = np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    cols = []
    for m in mus:
        cols += [m + [e, f], m - [e, f]]
    H = np.array(cols).T
    np.testing.assert_allclose(float(nc1(H, 3)), e**2 / 2, rtol=1e-12)


def test_hand_built_nc2_nc3():
    """K = 2, d = 1, class means -1 and +1, so Hbar = [-1, 1] and P/sqrt(K-1) = [[1,-1],[-1,1]]/2.

    W = [[-1], [1]] is aligned: NC2 = NC3 = 0. W = [[1], [-1]] is anti-aligned: W Hbar = -2P,
    NC2 = ||-P - P||_F = 2 ||P||_F = 2. W = [[1], [1]]: W Hbar = [[-1, 1], [-1, 1]] (norm 2),
    NC2 = || [[-1,1],[-1,1]]/2 - [[1,-1],[-1,1]]/2 ||_F = ||[[-1, 1], [0, 0]]||_F = sqrt(2).
    """
    H = np.array([[-1.0, -1.0, 1.0, 1.0]])
    assert float(nc2(np.array([[-1.0], [1.0]]), H, 2)) < 1e-15
    np.testing.assert_allclose(float(nc2(np.array([[1.0], [-1.0]]), H, 2)), 2.0, rtol=1e-14)
    assert float(nc3(np.array([[-1.0], [1.0]]) * 3.0, H, 2)) < 1e-15
    np.testing.assert_allclose(float(nc2(np.array([[1.0], [1.0]]), H, 2)), np.sqrt(2.0), rtol=1e-14)
    # NC3 with W = [[1], [1]]: W/||W|| = [1,1]/sqrt2, Hbar^T/||Hbar|| = [-1,1]/sqrt2 -> distance sqrt2
    np.testing.assert_allclose(float(nc3(np.array([[1.0], [1.0]]), H, 2)), np.sqrt(2.0), rtol=1e-14)


def test_norms():
    W = np.array([[3.0, 4.0], [0.0, 1.0]])
    np.testing.assert_allclose(np.asarray(classifier_norms(W)), [5.0, 1.0])
    H = np.array([[0.0, 2.0, 4.0, 6.0]])  # means 1 and 5, mu_G = 3 -> centred norms 2, 2
    np.testing.assert_allclose(np.asarray(class_mean_norms(H, 2)), [2.0, 2.0])
    out = nc_metrics(np.array([[1.0], [-1.0]]), H, 2, variant="zhu2021")
    assert out["w_norm"] == 1.0 and out["mu_norm"] == 2.0 and "nc2_wh" in out


# ---------------------------------------------------------------- labels (unbalanced, any order)
def test_labels_equal_class_major_and_shuffled():
    K, d, n = 4, 5, 3
    W, H, y = random_config(K, d, n, seed=2)
    perm = np.random.default_rng(0).permutation(K * n)
    for f in (nc1,):
        np.testing.assert_allclose(float(f(H, K, labels=y)), float(f(H, K)), rtol=1e-12)
        np.testing.assert_allclose(float(f(H[:, perm], K, labels=y[perm])), float(f(H, K)), rtol=1e-12)
    for f in (nc2, nc3):
        np.testing.assert_allclose(float(f(W, H[:, perm], K, labels=y[perm])), float(f(W, H, K)), rtol=1e-12)


def test_unbalanced_labels_match_reference():
    rng = np.random.default_rng(3)
    K, d = 3, 4
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2])
    H = rng.normal(size=(d, len(y))) + 2 * rng.normal(size=(d, K))[:, y]
    W = rng.normal(size=(K, d))
    ref = ref_metrics(W, H, y, K)
    np.testing.assert_allclose(float(nc1(H, K, labels=y)), ref["nc1"], rtol=1e-10)
    np.testing.assert_allclose(float(nc2(W, H, K, labels=y)), ref["nc2"], rtol=1e-12)
    np.testing.assert_allclose(float(nc3(W, H, K, labels=y)), ref["nc3"], rtol=1e-12)


# ---------------------------------------------------------------- invariances (hypothesis)
@given(shape=st.sampled_from(SHAPES), seed=st.integers(0, 10**6),
       a=st.floats(1e-3, 1e3), b=st.floats(1e-3, 1e3), variant=st.sampled_from(VARIANTS))
def test_invariances(shape, seed, a, b, variant):
    K, d, n = shape
    W, H, y = random_config(K, d, n, seed)
    base = [float(nc1(H, K, variant=variant)), float(nc2(W, H, K, variant=variant)),
            float(nc3(W, H, K, variant=variant))]
    assert all(np.isfinite(base)) and all(v >= 0 for v in base)
    rng = np.random.default_rng(seed + 1)
    # class permutation: rows of W and the class blocks of H together
    p = rng.permutation(K)
    Hp = H.reshape(d, K, n)[:, p, :].reshape(d, K * n)
    # feature rotation
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    for W2, H2 in ((W[p], Hp), (W @ Q.T, Q @ H), (a * W, b * H)):
        got = [float(nc1(H2, K, variant=variant)), float(nc2(W2, H2, K, variant=variant)),
               float(nc3(W2, H2, K, variant=variant))]
        # ratios of sums of O(1) terms recomputed after a rescale/rotation: rounding ~1e-15 per op,
        # amplified by the conditioning of Sigma_B in NC1 (random means: kappa <= ~1e3)
        np.testing.assert_allclose(got, base, rtol=1e-9, atol=1e-12)


@given(shape=st.sampled_from(SHAPES), seed=st.integers(0, 10**6), scale=st.floats(1e-4, 1e4))
def test_reference_over_scales(shape, seed, scale):
    K, d, n = shape
    W, H, y = random_config(K, d, n, seed, scale=scale)
    ref = ref_metrics(W, H, y, K)
    np.testing.assert_allclose(float(nc1(H, K)), ref["nc1"], rtol=1e-8)
    np.testing.assert_allclose(float(nc2(W, H, K)), ref["nc2"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(float(nc3(W, H, K)), ref["nc3"], rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs():
    W, H, y = random_config(3, 4, 2, seed=0)
    with pytest.raises(ValueError, match="W has shape"):
        nc2(W[:, :3], H, 3)
    with pytest.raises(ValueError, match="W has shape"):
        nc3(W[:2], H, 3)
    with pytest.raises(ValueError, match="not a positive multiple of K"):
        nc1(H[:, :5], 3)
    with pytest.raises(ValueError, match="H has shape"):
        nc1(H[0], 3)
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have no samples"):
        nc1(H, 3, labels=np.array([0, 0, 1, 1, 0, 1]))
    with pytest.raises(ValueError, match="labels has shape"):
        nc1(H, 3, labels=y[:4])
    with pytest.raises(ValueError, match="labels has values"):
        nc1(H, 3, labels=np.array([0, 0, 1, 1, 2, 3]))
    Hn = H.copy()
    Hn[1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        nc1(Hn, 3)
    Wn = W.copy()
    Wn[0, 0] = np.inf
    with pytest.raises(ValueError, match="W has 1 non-finite"):
        nc3(Wn, H, 3)
    with pytest.raises(ValueError, match="variant='papr'"):
        nc1(H, 3, variant="papr")
    with pytest.raises(ValueError, match="K=1"):
        nc1(H, 1)
    with pytest.raises(ValueError, match="undefined"):
        nc1(np.ones((4, 6)), 3)           # all class means equal: Sigma_B = 0
    with pytest.raises(ValueError, match="undefined"):
        nc2(np.zeros((3, 4)), H, 3)       # W = 0
    with pytest.raises(ValueError, match="W has shape"):
        classifier_norms(np.ones(3))
