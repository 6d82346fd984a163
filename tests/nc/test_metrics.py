"""NC metrics (`ufm.nc.metrics`): known values, an independent numpy reference, invariances, variants, bad inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
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
    # Zhou et al. 2022: W centred (mean row removed) in both their NC2 (W W^T) and NC3 (W Hbar)
    Wc = W - W.mean(axis=0)
    WcWc = Wc @ Wc.T
    n2_zhou = np.linalg.norm(WcWc / np.linalg.norm(WcWc) - P / np.sqrt(K - 1))
    WcH = Wc @ Hbar
    n3_zhou = np.linalg.norm(WcH / np.linalg.norm(WcH) - P / np.sqrt(K - 1))
    # (balanced data here: the sample global mean equals the mean of the class means)
    return dict(nc1=n1, nc2=n2, nc3=n3, nc2_zhu=n2_zhu, nc3_zhu=n2, nc2_zhou=n2_zhou, nc3_zhou=n3_zhou)


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
    np.testing.assert_allclose(float(nc3(W, H, K, variant="zhu2021")), ref["nc3_zhu"], rtol=1e-12)
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


# ---------------------------------------------------------------- the public codes (issue #10)
from ufm.nc.metrics import (  # noqa: E402
    VARIANT_LABELS, cdnv, class_variances, equiangularity, equinorm, nc1_per_class, nc1_subset,
    nc2_features, nc4,
)


def unbalanced_config(seed, K=4, d=6, sizes=(2, 7, 3, 11)):
    """Unbalanced, shuffled, far from collapse (within spread ~ between spread), nonzero global offset."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(K), sizes))
    H = rng.normal(size=(d, len(y))) + 1.5 * rng.normal(size=(d, K))[:, y] + rng.normal(size=(d, 1))
    W = rng.normal(size=(K, d)) + rng.normal(size=(1, d))  # a nonzero mean row, so centring W matters
    return W, H, y


def code_reference(W, H, y, K, centre_W):
    """Zhu et al. 2021 (centre_W=False) / Zhou et al. 2022 (True) from their published definitions.

    mu_G = sum_i h_i / N (sample mean); Sigma_W = sum_i (h_i - mu_{y_i})(.)^T / N;
    Sigma_B = sum_k (mu_k - mu_G)(.)^T / K; collapse_metric = tr(Sigma_W pinv(Sigma_B)) / K;
    ETF_metric = ||W W^T/||W W^T||_F - P/sqrt(K-1)||_F; WH_relation_metric the same on W M,
    M = [mu_k - mu_G]; Zhou centres W (subtracts the mean row) in both.
    """
    import scipy.linalg as scilin
    d, N = H.shape
    mu_G = H.sum(axis=1) / N
    mu = {k: H[:, y == k].sum(axis=1) / np.sum(y == k) for k in range(K)}
    SW = np.zeros((d, d))
    for i in range(N):
        v = H[:, i] - mu[y[i]]
        SW += np.outer(v, v)
    SW /= N
    SB = np.zeros((d, d))
    for k in range(K):
        SB += np.outer(mu[k] - mu_G, mu[k] - mu_G)
    SB /= K
    collapse = np.trace(SW @ scilin.pinv(SB)) / K
    if centre_W:
        W = W - W.mean(axis=0, keepdims=True)
    sub = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
    WWT = W @ W.T
    etf = np.linalg.norm(WWT / np.linalg.norm(WWT, "fro") - sub, "fro")
    M = np.stack([mu[k] - mu_G for k in range(K)], axis=1)
    WH = W @ M
    wh = np.linalg.norm(WH / np.linalg.norm(WH, "fro") - sub, "fro")
    return collapse, etf, wh


@pytest.mark.parametrize("variant,centre_W", [("zhu2021", False), ("zhou2022", True)])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("balanced", [True, False])
def test_public_code_variants_match_their_definitions(variant, centre_W, seed, balanced):
    sizes = (5, 5, 5, 5) if balanced else (2, 7, 3, 11)
    W, H, y = unbalanced_config(seed, sizes=sizes)
    K = 4
    collapse, etf, wh = code_reference(W, H, y, K, centre_W)
    out = nc_metrics(W, H, K, labels=y, variant=variant)
    np.testing.assert_allclose(out["nc1"], collapse, rtol=1e-10)
    np.testing.assert_allclose(out["nc2"], etf, rtol=1e-12)
    np.testing.assert_allclose(out["nc3"], wh, rtol=1e-12)
    # labelled as the codes label them
    names = VARIANT_LABELS[variant]
    assert (names["nc1"], names["nc2"], names["nc3"]) == ("collapse_metric", "ETF_metric", "WH_relation_metric")
    for k in ("nc1", "nc2", "nc3"):
        assert out[names[k]] == out[k]
    # the global mean matters on unbalanced data: the class-means convention gives another NC1
    other = float(nc1(H, K, labels=y, variant=variant, global_mean="class_means"))
    if not balanced:
        assert abs(other - collapse) > 1e-3 * collapse
    else:
        np.testing.assert_allclose(other, collapse, rtol=1e-10)


def test_global_mean_option_and_authors_unbalanced():
    """paper/authors default to the mean of class means; global_mean='samples' switches to the sample mean."""
    W, H, y = unbalanced_config(4)
    K = 4
    ref = ref_metrics(W, H, y, K)  # mean of class means
    np.testing.assert_allclose(float(nc1(H, K, labels=y, variant="authors")), K * ref["nc1"], rtol=1e-10)
    np.testing.assert_allclose(float(nc3(W, H, K, labels=y, variant="authors")), ref["nc3"] ** 2, rtol=1e-12)
    collapse, _, wh = code_reference(W, H, y, K, centre_W=False)
    np.testing.assert_allclose(float(nc1(H, K, labels=y, global_mean="samples")), collapse, rtol=1e-10)
    np.testing.assert_allclose(float(nc2(W, H, K, labels=y, global_mean="samples")), wh, rtol=1e-12)
    with pytest.raises(ValueError, match="global_mean='mean'"):
        nc1(H, K, labels=y, global_mean="mean")


# ---------------------------------------------------------------- new metrics: known configurations
def test_new_metrics_vanish_at_etf():
    K, d, n = 5, 7, 3
    W, H = etf_config(K, d, n, seed=3, shift=False)  # no offset: W h needs no bias to pick the nearest mean
    assert float(nc4(W, H, K)) == 0.0
    assert float(nc2_features(H, K)) < 1e-7
    e = equinorm(H, K, W=W)
    assert float(e["features"]) < 1e-12 and float(e["classifier"]) < 1e-12
    a = equiangularity(H, K, W=W)
    assert all(float(v) < 1e-12 for v in a.values())


def test_new_metrics_hand_values():
    """K = 3 in d = 2: means at (0,0), (2,0), (0,4); two samples per class at mean +- (0.1, 0) etc."""
    M = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 4.0]])
    dev = np.array([[0.1, -0.1, 0.0, 0.0, 0.3, -0.3], [0.0, 0.0, 0.2, -0.2, 0.0, 0.0]])
    y = np.array([0, 0, 1, 1, 2, 2])
    H = M[:, y] + dev
    K = 3
    np.testing.assert_allclose(np.asarray(class_variances(H, K, y)), [0.01, 0.04, 0.09], rtol=1e-12)
    # CDNV pairs: (0,1) (0.01+0.04)/(2*4), (0,2) (0.01+0.09)/(2*16), (1,2) (0.04+0.09)/(2*20)
    want = np.mean([0.05 / 8, 0.10 / 32, 0.13 / 40])
    np.testing.assert_allclose(float(cdnv(H, K, y)), want, rtol=1e-12)
    # equinorm of the centred means: mu_G = (2/3, 4/3)
    norms = np.linalg.norm(M - M.mean(axis=1, keepdims=True), axis=0)
    np.testing.assert_allclose(float(equinorm(H, K, y)["features"]), norms.std() / norms.mean(), rtol=1e-12)
    # equiangularity by hand: cosines of the three pairs
    C = M - M.mean(axis=1, keepdims=True)
    U = C / np.linalg.norm(C, axis=0)
    cos = np.array([U[:, 0] @ U[:, 1], U[:, 0] @ U[:, 2], U[:, 1] @ U[:, 2]])
    a = equiangularity(H, K, y)
    np.testing.assert_allclose(float(a["features_std"]), cos.std(), rtol=1e-12)
    np.testing.assert_allclose(float(a["features_maxangle"]), np.mean(np.abs(cos + 0.5)), rtol=1e-12)
    # NC4: a classifier predicting class (y + 1) mod 3 for every sample disagrees everywhere
    z = np.eye(3)[(y + 1) % 3] * 5.0
    assert float(nc4(np.ones((3, 2)), H, K, y, logits=z)) == 1.0
    # a classifier w_k = mu_k, b_k = -||mu_k||^2/2 is the nearest-centre rule: NC4 = 0
    assert float(nc4(M.T, H, K, y, b=-0.5 * np.sum(M**2, axis=0))) == 0.0
    # nc2_features of a simplex: zero; of these means: ETF distance of the Gram by hand
    G = C.T @ C
    P = np.eye(3) - 1 / 3
    np.testing.assert_allclose(float(nc2_features(H, K, y)),
                               np.linalg.norm(G / np.linalg.norm(G) - P / np.sqrt(2)), rtol=1e-12)


def test_nc1_per_class_and_subsets():
    W, H, y = unbalanced_config(7)
    K = 4
    N = H.shape[1]
    counts = np.bincount(y, minlength=K)
    per = np.asarray(nc1_per_class(H, K, y))
    np.testing.assert_allclose(np.sum(counts / N * per), float(nc1(H, K, labels=y)), rtol=1e-10)
    # by hand for class 1
    mu = np.stack([H[:, y == k].mean(axis=1) for k in range(K)], axis=1)
    Hbar = mu - mu.mean(axis=1, keepdims=True)
    Bp = np.linalg.pinv(Hbar @ Hbar.T / K, rcond=1e-10, hermitian=True)
    D1 = H[:, y == 1] - mu[:, [1]]
    np.testing.assert_allclose(per[1], np.trace(D1 @ D1.T / counts[1] @ Bp) / K, rtol=1e-10)
    # subsets: the correct ones against their class, the wrong ones against their predicted class
    pred = np.asarray(np.argmax(W @ H, axis=0))
    right = pred == y
    assert right.any() and (~right).any()
    Dr = H[:, right] - mu[:, y[right]]
    Dw = H[:, ~right] - mu[:, pred[~right]]
    np.testing.assert_allclose(float(nc1_subset(H, K, y, right)), np.trace(Dr @ Dr.T / right.sum() @ Bp) / K,
                               rtol=1e-10)
    np.testing.assert_allclose(float(nc1_subset(H, K, y, ~right, centres=pred)),
                               np.trace(Dw @ Dw.T / (~right).sum() @ Bp) / K, rtol=1e-10)
    # all samples against their labels: NC1 itself
    np.testing.assert_allclose(float(nc1_subset(H, K, y, np.ones(N, bool))), float(nc1(H, K, labels=y)),
                               rtol=1e-10)


@settings(max_examples=6)  # each example evaluates ~10 metrics on 4 configurations
@given(seed=st.integers(0, 10**6), a=st.floats(1e-3, 1e3), b=st.floats(1e-3, 1e3))
def test_new_metrics_invariances(seed, a, b):
    """Rotation of the features, scaling of W and H, permutation of the classes (and of the samples)."""
    W, H, y = unbalanced_config(seed % 1000)
    K, d = 4, H.shape[0]
    rng = np.random.default_rng(seed)

    def values(W, H, y):
        out = nc_metrics(W, H, K, labels=y, extended=True)
        per = out.pop("nc1_per_class")
        del out["w_norm"], out["mu_norm"]  # norms scale with W and H: not invariants
        return out, per

    base, per = values(W, H, y)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    p = rng.permutation(K)          # class k is renamed inv[k]
    inv = np.argsort(p)
    s = rng.permutation(H.shape[1])
    for (W2, H2, y2), perm in (((W @ Q.T, Q @ H, y), None), ((a * W, b * H, y), None),
                               ((W[p], H[:, s], inv[y[s]]), p)):
        got, per2 = values(W2, H2, y2)
        for k in base:
            np.testing.assert_allclose(got[k], base[k], rtol=1e-8, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(per2, per if perm is None else per[perm], rtol=1e-8)


def test_new_metrics_bad_inputs():
    W, H, y = unbalanced_config(0)
    with pytest.raises(ValueError, match="mask has shape"):
        nc1_subset(H, 4, y, np.ones(3, bool))
    with pytest.raises(ValueError, match="b has shape"):
        nc4(W, H, 4, y, b=np.zeros(3))
    with pytest.raises(ValueError, match="logits has shape"):
        nc4(W, H, 4, y, logits=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="undefined"):
        cdnv(np.hstack([H[:, :2], H[:, :2]]), 2, np.array([0, 0, 1, 1]))  # equal class means


def test_compiled_nc2_nc3_name_each_degeneracy():
    rng = np.random.default_rng(4)
    W, H = rng.normal(size=(3, 4)), rng.normal(size=(4, 6))
    same_means = np.tile([[1.0], [2.0], [-0.5], [4.0]], 6)  # exact in float64: Hbar = 0 exactly
    with pytest.raises(ValueError, match=r"\|\|Hbar\|\|_F = 0"):
        nc2(W, same_means, 3)
    with pytest.raises(ValueError, match=r"\|\|W\|\|_F = 0"):
        nc3(np.zeros((3, 4)), H, 3)
    with pytest.raises(ValueError, match=r"\|\|W - 1 wbar\^T\|\|_F = 0"):
        nc2(np.ones((3, 4)), H, 3, variant="zhou2022")
    # features in coordinates 0, 1 and classifiers in 2, 3: W Hbar = 0 exactly, W and Hbar not
    H2 = np.vstack([rng.normal(size=(2, 6)), np.zeros((2, 6))])
    W_perp = np.hstack([np.zeros((3, 2)), rng.normal(size=(3, 2))])
    with pytest.raises(ValueError, match=r"\|\|W Hbar\|\|_F = 0"):
        nc2(W_perp, H2, 3)
    with pytest.raises(ValueError, match=r"\|\|W Hbar\|\|_F = 0"):
        nc3(W_perp, H2, 3, variant="zhu2021")
