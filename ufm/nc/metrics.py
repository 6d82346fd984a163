"""Neural-collapse metrics (NC paper, "Cross Entropy versus Label Smoothing: A
Neural Collapse Perspective", eq. (4)-(6)), the conventions of the public codes
that measure them, and further collapse statistics (NC4, equinorm,
equiangularity, CDNV, per-class and per-subset NC1).

Features H are d x N, W is K x d. Without `labels`, the columns of H are
class-major with n = N/K per class (column k*n + i is h_{k,i}, the UFM
ordering); with `labels` (length N, values in 0..K-1) any ordering and any
class sizes are allowed (the digits experiment is unbalanced). Class means
mu_k, global mean mu_G, Hbar = [mu_k - mu_G] (d x K),
Sigma_W = (1/N) sum (h - mu_y)(h - mu_y)^T, Sigma_B = (1/K) Hbar Hbar^T,
P = I_K - 11^T/K and ETF(G) = || G/||G||_F - P/sqrt(K-1) ||_F.

The global mean (``global_mean=``): ``"class_means"``, mu_G = (1/K) sum_k mu_k
(the paper and its authors' code), or ``"samples"``, mu_G = (1/N) sum_i h_i
(the codes of Zhu et al. 2021 and Zhou et al. 2022). They coincide for
balanced classes. ``None`` (default) takes the variant's own.

Variants (``variant=``); docs/metrics.md has the full table:

* ``"paper"`` (default), eq. (4)-(6), mu_G = mean of class means:
  NC1 = (1/K) tr(Sigma_W Sigma_B^+); NC2 = ETF(W Hbar);
  NC3 = || W/||W||_F - Hbar^T/||Hbar||_F ||_F.
* ``"authors"``, the NC paper's released code: NC1 without the 1/K
  (= K x paper), NC3 squared (= paper^2); NC2 as the paper.
* ``"zhu2021"``, the reference code of Zhu et al. 2021 ("A Geometric Analysis
  of Neural Collapse with Unconstrained Features"), mu_G = sample mean:
  NC1 = (1/K) tr(Sigma_W Sigma_B^+) ("collapse_metric"); NC2 = ETF(W W^T)
  (the classifier alone, their ``compute_ETF``); NC3 = ETF(W Hbar)
  ("WH_relation_metric", the paper's NC2 with the sample global mean).
* ``"zhou2022"``, the code of Zhou et al. 2022 ("Are All Losses Created
  Equal"): Zhu's definitions with W centred first, W <- W - 1 wbar^T (wbar
  the mean row), in NC2 ("ETF_metric") and NC3 ("WH_relation_metric").

`VARIANT_LABELS` maps each variant's nc1/nc2/nc3 to the names its code uses.
All vanish at a simplex-ETF neural-collapse configuration. The metrics are
invariant under a common relabelling of the classes (rows of W and the
labels), under an orthogonal change of feature basis (W -> W Q^T, H -> Q H),
and under scaling W and H separately (all are ratios).

Inputs are validated whenever they are concrete arrays: mismatched shapes,
a class with no samples, NaN/inf and a degenerate configuration with
Hbar = 0 or W Hbar = 0 (where the metrics are 0/0) raise ValueError. Inside
`jax.jit`/`vmap` (traced inputs) the checks cannot run; use the
``*_unchecked`` kernels there deliberately, as `ufm.nc.dynamics` does.
The streaming version (batches, no feature matrix held): `ufm.nc.accumulate`.

>>> import jax.numpy as jnp
>>> K, n = 3, 2
>>> M = jnp.eye(K) - 1.0 / K          # centred simplex: columns sum to 0
>>> H = jnp.repeat(M, n, axis=1)      # d = K, every sample at its class mean
>>> float(nc1(H, K)), round(float(nc2(M.T, H, K)), 12), round(float(nc3(M.T, H, K)), 12)
(0.0, 0.0, 0.0)
>>> H2 = H + 0.1 * jnp.eye(3, 6)      # some within-class spread
>>> round(float(nc1(H2, K, variant="authors") / nc1(H2, K)), 12)   # authors drop the 1/K
3.0
>>> float(nc4(M.T, H2, K)), round(float(equinorm(H, K)["features"]), 12)
(0.0, 0.0)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ufm.core import validate

VARIANTS = ("paper", "authors", "zhu2021", "zhou2022")
GLOBAL_MEANS = ("class_means", "samples")
#: the global mean each variant's code uses
VARIANT_GLOBAL_MEAN = {"paper": "class_means", "authors": "class_means", "zhu2021": "samples",
                       "zhou2022": "samples"}
#: what each variant's code calls its nc1, nc2, nc3
VARIANT_LABELS = {
    "paper": {"nc1": "NC1 (eq. 4)", "nc2": "NC2 (eq. 5)", "nc3": "NC3 (eq. 6)"},
    "authors": {"nc1": "NC1", "nc2": "NC2", "nc3": "NC3"},
    "zhu2021": {"nc1": "collapse_metric", "nc2": "ETF_metric", "nc3": "WH_relation_metric"},
    "zhou2022": {"nc1": "collapse_metric", "nc2": "ETF_metric", "nc3": "WH_relation_metric"},
}


# --------------------------------------------------------------------------
# validation (concrete inputs only)
# --------------------------------------------------------------------------

def _concrete(*xs) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in xs if x is not None)


def _check_variant(variant) -> str:
    return validate.choice("variant", variant, VARIANTS)


def _resolve_global_mean(global_mean, variant="paper") -> str:
    """The global mean to use: `global_mean`, or the variant's own when None."""
    if global_mean is None:
        return VARIANT_GLOBAL_MEAN[variant]
    return validate.choice("global_mean", global_mean, GLOBAL_MEANS)


def _check_finite(name, x):
    validate.finite(name, x)


def _check_K(K) -> int:
    return validate.integer("K", K, minimum=2, integral_floats=False)


def _check_H(H, K, labels):
    """Validate H (d x N) and labels; return the class sizes (numpy)."""
    K = _check_K(K)
    if jnp.ndim(H) != 2:
        raise validate.bad_array("H", f"shape {jnp.shape(H)}", "a 2-D array d x N")
    d, N = H.shape
    if labels is None:
        if N == 0 or N % K != 0:
            raise validate.bad_array("H", f"N={N} columns, not a positive multiple of K={K}",
                                     "class-major ordering with n = N/K >= 1 samples per class (or pass labels=)")
        counts = np.full(K, N // K)
    else:
        lab = validate.labels("labels", labels, N, K, per="one label per column of H")
        counts = np.bincount(lab, minlength=K)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(f"class(es) {empty.tolist()} have no samples; allowed: every class with >= 1 "
                         "sample (its mean must exist)")
    _check_finite("H", H)
    return counts


def _check_W(W, H, K):
    if jnp.ndim(W) != 2:
        raise validate.bad_array("W", f"shape {jnp.shape(W)}", "a 2-D array K x d")
    if W.shape != (K, H.shape[0]):
        raise validate.bad_array("W", f"shape {W.shape}",
                                 f"(K, d) = ({K}, {H.shape[0]}) to match K={K} and H of shape {H.shape}")
    _check_finite("W", W)


def _check_b(b, K):
    if b is None:
        return
    if jnp.shape(b) != (K,):
        raise validate.bad_array("b", f"shape {jnp.shape(b)}", f"({K},), one bias per class")
    _check_finite("b", b)


def _check_nondegenerate(name, value, what):
    if float(value) == 0.0:
        raise ValueError(f"{name} = 0 ({what}): the neural-collapse metrics are 0/0 here, undefined")


# --------------------------------------------------------------------------
# kernels (jit/vmap-friendly, no checks)
# --------------------------------------------------------------------------

def class_means_unchecked(H, K: int, labels=None):
    """mu_k as the columns of a d x K matrix."""
    d, N = H.shape
    if labels is None:
        return H.reshape(d, K, N // K).mean(axis=2)
    onehot = jax.nn.one_hot(labels, K, dtype=H.dtype)  # N x K
    return (H @ onehot) / onehot.sum(axis=0)


def _class_counts(H, K, labels):
    N = H.shape[1]
    if labels is None:
        return jnp.full((K,), N // K, dtype=H.dtype)
    return jnp.zeros((K,), H.dtype).at[labels].add(1.0)


def _centred(M):
    return M - M.mean(axis=1, keepdims=True)


def hbar_from_means(M, counts, global_mean: str = "class_means"):
    """Hbar = M - mu_G 1^T from the class means M (d x K) and class sizes (length K)."""
    if global_mean == "samples":
        mu_G = (M @ counts) / jnp.sum(counts)
        return M - mu_G[:, None]
    return _centred(M)


def _hbar(H, K, labels, global_mean):
    M = class_means_unchecked(H, K, labels)
    return hbar_from_means(M, _class_counts(H, K, labels), global_mean)


def _pinv_psd(S, n_dim: int):
    """Pseudo-inverse of a symmetric PSD matrix via eigh, with a relative cutoff.

    Cutoff 1e3 * eps * n_dim * lambda_max. Why: Sigma_B has rank <= K-1
    *structurally* (the centred means sum to zero) and rank <= d, so some of
    its eigenvalues are exact zeros computed as rounding noise of size
    O(n_dim eps lambda_max) (backward stability of the symmetric eigensolver);
    inverting those would blow NC1 up by ~1/eps. The factor 1e3 is headroom
    over that bound. Genuine eigenvalues are kept unless they lie within
    ~1e-12 (float64) of lambda_max, where Sigma_B is numerically singular
    anyway and the paper's pseudo-inverse is ill-defined.
    """
    evals, evecs = jnp.linalg.eigh(S)
    cutoff = 1e3 * jnp.finfo(S.dtype).eps * n_dim * jnp.max(jnp.abs(evals))
    keep = evals > cutoff
    inv = jnp.where(keep, 1.0 / jnp.where(keep, evals, 1.0), 0.0)
    return (evecs * inv) @ evecs.T


def pinv_sqrt_psd(S, n_dim: int, rank: int):
    """L (d x rank) with L L^T = `_pinv_psd(S, n_dim)` when rank(S) <= rank (same cutoff).

    Columns are the top-`rank` eigenvectors scaled by 1/sqrt(eigenvalue), zero
    where the eigenvalue is cut; tr(A S^+) = sum of the quadratic forms
    ||L^T x||^2 over the columns x of any factor A = X X^T.
    """
    evals, evecs = jnp.linalg.eigh(S)
    cutoff = 1e3 * jnp.finfo(S.dtype).eps * n_dim * jnp.max(jnp.abs(evals))
    evals, evecs = evals[-rank:], evecs[:, -rank:]
    keep = evals > cutoff
    return evecs * jnp.where(keep, 1.0 / jnp.sqrt(jnp.where(keep, evals, 1.0)), 0.0)


def _nc1_from(Sigma_W, Hbar, K, variant):
    d = Hbar.shape[0]
    Sigma_B = Hbar @ Hbar.T / K
    t = jnp.sum(Sigma_W * _pinv_psd(Sigma_B, max(d, K)))  # tr(A B) for symmetric B
    return t if variant == "authors" else t / K


def nc1_unchecked(H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    gm = global_mean or VARIANT_GLOBAL_MEAN[variant]
    d, N = H.shape
    M = class_means_unchecked(H, K, labels)
    Hbar = hbar_from_means(M, _class_counts(H, K, labels), gm)
    if labels is None:
        within = H - jnp.repeat(M, N // K, axis=1)
    else:
        within = H - M[:, labels]
    return _nc1_from(within @ within.T / N, Hbar, K, variant)


def _etf_distance(G, K: int):
    P = jnp.eye(K, dtype=G.dtype) - 1.0 / K
    return jnp.linalg.norm(G / jnp.linalg.norm(G) - P / jnp.sqrt(K - 1.0))


def _centre_rows(W):
    return W - W.mean(axis=0, keepdims=True)


def nc2_from(W, Hbar, variant: str = "paper"):
    """The variant's NC2 from W (K x d) and Hbar (d x K)."""
    K = W.shape[0]
    if variant == "zhu2021":
        return _etf_distance(W @ W.T, K)
    if variant == "zhou2022":
        Wc = _centre_rows(W)
        return _etf_distance(Wc @ Wc.T, K)
    return _etf_distance(W @ Hbar, K)


def nc3_from(W, Hbar, variant: str = "paper"):
    """The variant's NC3 from W (K x d) and Hbar (d x K)."""
    K = W.shape[0]
    if variant == "zhu2021":
        return _etf_distance(W @ Hbar, K)
    if variant == "zhou2022":
        return _etf_distance(_centre_rows(W) @ Hbar, K)
    v = jnp.linalg.norm(W / jnp.linalg.norm(W) - Hbar.T / jnp.linalg.norm(Hbar))
    return v**2 if variant == "authors" else v


def nc2_unchecked(W, H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    return nc2_from(W, _hbar(H, K, labels, global_mean or VARIANT_GLOBAL_MEAN[variant]), variant)


def nc3_unchecked(W, H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    return nc3_from(W, _hbar(H, K, labels, global_mean or VARIANT_GLOBAL_MEAN[variant]), variant)


def _pairwise_cosines(V):
    """Cosines of the K(K-1)/2 pairs of columns of V (d x K), i < j."""
    U = V / jnp.linalg.norm(V, axis=0)
    C = U.T @ U
    i, j = np.triu_indices(V.shape[1], k=1)
    return C[i, j]


def _cv(x):
    return jnp.std(x) / jnp.mean(x)


# --------------------------------------------------------------------------
# public, validated
# --------------------------------------------------------------------------

def class_means(H, K: int, labels=None):
    """mu_k as the columns of a d x K matrix (class-major H, or `labels`)."""
    if _concrete(H, labels):
        _check_H(H, K, labels)
    return class_means_unchecked(H, K, labels)


def centred_means(H, K: int, labels=None, global_mean: str = "class_means"):
    """Hbar = [mu_k - mu_G], d x K; mu_G the mean of the class means (default) or of the samples."""
    gm = _resolve_global_mean(global_mean)
    M = class_means(H, K, labels)
    return hbar_from_means(M, _class_counts(H, K, labels), gm)


def class_mean_norms(H, K: int, labels=None, global_mean: str = "class_means"):
    """||mu_k - mu_G|| for each class (length K): the "feature norm" of NC paper Sec. 3.3."""
    return jnp.linalg.norm(centred_means(H, K, labels, global_mean), axis=0)


def classifier_norms(W):
    """||w_k|| for each row of W (length K): the "classifier norm" of NC paper Sec. 3.3."""
    if _concrete(W):
        if jnp.ndim(W) != 2:
            raise validate.bad_array("W", f"shape {jnp.shape(W)}", "a 2-D array K x d")
        _check_finite("W", W)
    return jnp.linalg.norm(W, axis=1)


def _check_hbar(H, K, labels, gm):
    _check_nondegenerate("||Hbar||_F", jnp.linalg.norm(_hbar(H, K, labels, gm)),
                         "all class means coincide, Sigma_B = 0")


def nc1(H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    """Within-class variability (1/K) tr(Sigma_W Sigma_B^+), eq. (4).

    ``variant="authors"`` drops the 1/K; the other variants equal the paper's
    up to their global mean (``"zhu2021"``/``"zhou2022"``: the sample mean).
    See `_pinv_psd` for the pseudo-inverse cutoff and why.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    if _concrete(H, labels):
        _check_H(H, K, labels)
        if hasattr(H, "dtype"):  # an array: value and check norm in one compiled program
            value, hbar_norm = _nc1_kernel(H, _labels_array(H, K, labels), K=int(K), variant=variant, gm=gm)
            _check_nondegenerate("||Hbar||_F", hbar_norm, "all class means coincide, Sigma_B = 0")
            return value
        _check_hbar(H, K, labels, gm)
    return nc1_unchecked(H, K, labels, variant, gm)


def _labels_array(H, K, labels):
    """Checked labels as a NumPy int array (None stays None), for the compiled kernels."""
    return None if labels is None else validate.labels("labels", labels, H.shape[1], K)


@functools.partial(jax.jit, static_argnames=("K", "variant", "gm"))
def _nc1_kernel(H, labels, *, K, variant, gm):
    """`nc1`'s value and the ||Hbar||_F its degeneracy check tests, one compiled program."""
    return nc1_unchecked(H, K, labels, variant, gm), jnp.linalg.norm(_hbar(H, K, labels, gm))


def nc2(W, H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    """|| W Hbar/||W Hbar||_F - (I - 11^T/K)/sqrt(K-1) ||_F, eq. (5).

    ``"zhu2021"``: on W W^T (the classifier alone); ``"zhou2022"``: on
    W_c W_c^T with W_c the row-centred W.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    if _concrete(W, H, labels):  # checked values from one compiled program
        return _checked_kernel("nc2", W, H, K, labels, variant, gm)
    return nc2_unchecked(W, H, K, labels, variant, gm)


def nc3(W, H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    """|| W/||W||_F - Hbar^T/||Hbar||_F ||_F, eq. (6).

    ``"authors"``: squared; ``"zhu2021"``: ETF(W Hbar) (their NC3 is the
    paper's NC2); ``"zhou2022"``: ETF(W_c Hbar), W_c the row-centred W.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    if _concrete(W, H, labels):  # checked values from one compiled program
        return _checked_kernel("nc3", W, H, K, labels, variant, gm)
    return nc3_unchecked(W, H, K, labels, variant, gm)


def _checked_kernel(metric, W, H, K, labels, variant, gm):
    """`nc2`/`nc3` on concrete arrays: the shape checks on the host, then the value and the
    norms the degeneracy checks test from one compiled program (run eagerly they are ~30
    small programs), checked in the same order as the eager path."""
    _check_H(H, K, labels)
    _check_W(W, H, K)
    value, norms = _nc23_kernel(W, H, _labels_array(H, K, labels), K=int(K), variant=variant,
                                gm=gm, metric=metric)
    hbar_norm, wc_norm, g_norm = (float(x) for x in norms)
    _check_nondegenerate("||Hbar||_F", hbar_norm, "all class means coincide")
    _check_nondegenerate("||W||_F" if variant != "zhou2022" else "||W - 1 wbar^T||_F", wc_norm,
                         "no classifier direction")
    gram = variant in ("zhu2021", "zhou2022")
    if metric == "nc2" or gram:
        name = "||W W^T||_F" if metric == "nc2" and gram else "||W Hbar||_F"
        _check_nondegenerate(name, g_norm, "no class structure to compare with a simplex ETF")
    return value


@functools.partial(jax.jit, static_argnames=("K", "variant", "gm", "metric"))
def _nc23_kernel(W, H, labels, *, K, variant, gm, metric):
    Hbar = _hbar(H, K, labels, gm)
    Wc = _centre_rows(W) if variant == "zhou2022" else W
    gram = variant in ("zhu2021", "zhou2022")
    if metric == "nc2":
        G = Wc @ Wc.T if gram else W @ Hbar
        value = nc2_unchecked(W, H, K, labels, variant, gm)
    else:
        G = Wc @ Hbar
        value = nc3_unchecked(W, H, K, labels, variant, gm)
    return value, jnp.stack([jnp.linalg.norm(Hbar), jnp.linalg.norm(Wc), jnp.linalg.norm(G)])


def nc2_features(H, K: int, labels=None, global_mean: str = "class_means"):
    """NC2 of the class means alone: ETF(Hbar^T Hbar) = || G/||G||_F - P/sqrt(K-1) ||_F, G = Hbar^T Hbar.

    Papyan, Han and Donoho 2020 (equinorm + equiangular means, in Gram form); zero iff the
    centred means form a simplex ETF up to rotation and scale.
    """
    gm = _resolve_global_mean(global_mean)
    if _concrete(H, labels):
        _check_H(H, K, labels)
        _check_hbar(H, K, labels, gm)
    Hbar = _hbar(H, K, labels, gm)
    return _etf_distance(Hbar.T @ Hbar, K)


def _predict(W, H, b=None):
    z = W @ H
    if b is not None:
        z = z + jnp.asarray(b)[:, None]
    return jnp.argmax(z, axis=0)


def nearest_class_centre(H, M):
    """argmin_k ||h - mu_k|| for each column h of H (M the d x K class means)."""
    d2 = jnp.sum(M * M, axis=0)[:, None] - 2.0 * (M.T @ H)   # ||h||^2 is common to all k
    return jnp.argmin(d2, axis=0)


def nc4(W, H, K: int, labels=None, b=None, *, logits=None):
    """NC4: fraction of samples whose classifier prediction differs from the nearest class centre.

    Prediction argmax_k (W h + b)_k (or argmax of `logits`, N x K, when given);
    nearest centre argmin_k ||h - mu_k|| with the class means of `labels`
    (Papyan, Han and Donoho 2020, "simplification to nearest class center").
    1 - NC4 is the agreement; 0 at collapse. Ties go to the lowest index.
    """
    if _concrete(W, H, labels, b, logits):
        _check_H(H, K, labels)
        _check_W(W, H, K)
        _check_b(b, K)
        if logits is not None:
            if jnp.shape(logits) != (H.shape[1], K):
                raise validate.bad_array("logits", f"shape {jnp.shape(logits)}", f"(N, K) = ({H.shape[1]}, {K})")
            _check_finite("logits", logits)
    pred = jnp.argmax(jnp.asarray(logits), axis=1) if logits is not None else _predict(W, H, b)
    ncc = nearest_class_centre(H, class_means_unchecked(H, K, labels))
    return jnp.mean((pred != ncc).astype(H.dtype))


def equinorm(H, K: int, labels=None, W=None, global_mean: str = "class_means") -> dict:
    """Coefficient of variation (std/mean, population std) of the norms ||mu_k - mu_G|| and ||w_k||.

    Papyan, Han and Donoho 2020 (Fig. 2); 0 when all norms are equal. Keys
    ``features`` and, when W is given, ``classifier``.
    """
    out = {"features": _cv(class_mean_norms(H, K, labels, global_mean))}
    if W is not None:
        if _concrete(W, H):
            _check_W(W, H, K)
        out["classifier"] = _cv(classifier_norms(W))
    return out


def equiangularity(H, K: int, labels=None, W=None, global_mean: str = "class_means") -> dict:
    """Pairwise cosines of the centred class means (and of the classifier rows w_k).

    ``features_std``: std of the K(K-1)/2 cosines (Papyan et al. 2020, Fig. 3: 0 if
    equiangular); ``features_maxangle``: mean |cos + 1/(K-1)| over the pairs (Fig. 4:
    0 if the angle is the simplex one). ``classifier_std``/``classifier_maxangle``
    the same for the rows of W when given.
    """
    Hbar = centred_means(H, K, labels, global_mean)
    c = _pairwise_cosines(Hbar)
    out = {"features_std": jnp.std(c), "features_maxangle": jnp.mean(jnp.abs(c + 1.0 / (K - 1)))}
    if W is not None:
        if _concrete(W, H):
            _check_W(W, H, K)
        cw = _pairwise_cosines(jnp.asarray(W).T)
        out.update(classifier_std=jnp.std(cw), classifier_maxangle=jnp.mean(jnp.abs(cw + 1.0 / (K - 1))))
    return out


def class_variances(H, K: int, labels=None):
    """Var_k = (1/n_k) sum_{y_i = k} ||h_i - mu_k||^2 for each class (length K)."""
    if _concrete(H, labels):
        _check_H(H, K, labels)
    M = class_means_unchecked(H, K, labels)
    lab = jnp.repeat(jnp.arange(K), H.shape[1] // K) if labels is None else jnp.asarray(labels)
    sq = jnp.sum((H - M[:, lab]) ** 2, axis=0)
    counts = _class_counts(H, K, labels)
    return jnp.zeros((K,), H.dtype).at[lab].add(sq) / counts


def cdnv_from(M, var):
    """Mean over pairs i < j of (Var_i + Var_j) / (2 ||mu_i - mu_j||^2), M d x K.

    Distances from the Gram matrix of the means centred at their mean
    (||mu_i - mu_j||^2 = g_ii + g_jj - 2 g_ij), so memory is O(K^2), not O(d K^2).
    """
    K = M.shape[1]
    C = _centred(M)
    G = C.T @ C
    g = jnp.diag(G)
    dist2 = g[:, None] + g[None, :] - 2.0 * G
    num = var[:, None] + var[None, :]
    off = ~jnp.eye(K, dtype=bool)
    ratio = jnp.where(off, num / (2.0 * jnp.where(off, dist2, 1.0)), 0.0)
    return jnp.sum(ratio) / (K * (K - 1))


def cdnv(H, K: int, labels=None):
    """Class-distance normalised variance (Galanti, Gyorgy and Hutter 2022), averaged over class pairs.

    CDNV = mean_{i<j} (Var_i + Var_j) / (2 ||mu_i - mu_j||^2), Var_k = (1/n_k)
    sum_{y=k} ||h - mu_k||^2 (`class_variances`). Invariant under rotation,
    translation and scaling of the features; 0 at collapse.
    """
    var = class_variances(H, K, labels)
    M = class_means_unchecked(H, K, labels)
    if _concrete(H, labels):
        i, j = np.triu_indices(K, k=1)
        if float(jnp.min(jnp.sum((M[:, i] - M[:, j]) ** 2, axis=0))) == 0.0:
            raise ValueError("two class means coincide: the CDNV of that pair is x/0, undefined")
    return cdnv_from(M, var)


def _nc1_quad(H, K, labels, global_mean, variant):
    """Per-sample q_i = (h_i - mu_{y_i})^T Sigma_B^+ (h_i - mu_{y_i}), the class means, and Sigma_B^+."""
    M = class_means_unchecked(H, K, labels)
    Hbar = hbar_from_means(M, _class_counts(H, K, labels), global_mean)
    B = _pinv_psd(Hbar @ Hbar.T / K, max(H.shape[0], K))
    return M, B


def nc1_per_class(H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None):
    """NC1_k = (1/K) tr(Sigma_W^k Sigma_B^+), Sigma_W^k = (1/n_k) sum_{y=k} (h - mu_k)(h - mu_k)^T (length K).

    Sigma_B from all classes. sum_k (n_k/N) NC1_k = NC1; ``"authors"`` drops the 1/K.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    if _concrete(H, labels):
        _check_H(H, K, labels)
        _check_hbar(H, K, labels, gm)
    M, B = _nc1_quad(H, K, labels, gm, variant)
    lab = jnp.repeat(jnp.arange(K), H.shape[1] // K) if labels is None else jnp.asarray(labels)
    D = H - M[:, lab]
    q = jnp.sum(D * (B @ D), axis=0)
    t = jnp.zeros((K,), H.dtype).at[lab].add(q) / _class_counts(H, K, labels)
    return t if variant == "authors" else t / K


def nc1_subset(H, K: int, labels, mask, centres=None, variant: str = "paper", global_mean: str | None = None):
    """NC1 of a subset S of the samples: (1/K) tr(Sigma_W^S Sigma_B^+).

    Sigma_W^S = (1/|S|) sum_{i in S} (h_i - mu_{c_i})(h_i - mu_{c_i})^T with
    c_i = ``centres[i]`` (default: the label). Class means and Sigma_B come
    from all samples and `labels`. For the misclassified samples pass
    ``centres=predictions``: each is measured against its *predicted* class.
    `labels` may be None (class-major H). Returns NaN for an empty subset.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    N = H.shape[1]
    if _concrete(H, labels, mask, centres):
        _check_H(H, K, labels)
        fast = _nc1_subset_fast(H, K, labels, mask, centres, variant, gm)
        if fast is not None:
            return fast
        _check_hbar(H, K, labels, gm)
        m = np.asarray(mask)
        if m.shape != (N,) or m.dtype != bool:
            raise validate.bad_array("mask", f"shape {m.shape} and dtype {m.dtype}", f"a boolean array of shape ({N},)")
        if centres is not None:
            validate.labels("centres", centres, N, K, per="one class per column of H")
    return _nc1_subset_value(H, K, labels, mask, centres, variant, gm)


def _nc1_subset_value(H, K, labels, mask, centres, variant, gm):
    N = H.shape[1]
    M, B = _nc1_quad(H, K, labels, gm, variant)
    lab = jnp.repeat(jnp.arange(K), N // K) if labels is None else jnp.asarray(labels)
    c = lab if centres is None else jnp.asarray(centres)
    D = H - M[:, c]
    q = jnp.sum(D * (B @ D), axis=0)
    mask = jnp.asarray(mask)
    t = jnp.sum(jnp.where(mask, q, 0.0)) / jnp.sum(mask)
    return t if variant == "authors" else t / K


@functools.partial(jax.jit, static_argnames=("K", "variant", "gm"))
def _nc1_subset_kernel(H, labels, mask, centres, *, K, variant, gm):
    """`nc1_subset`'s value and the ||Hbar||_F its degeneracy check tests, one compiled program."""
    return _nc1_subset_value(H, K, labels, mask, centres, variant, gm), jnp.linalg.norm(_hbar(H, K, labels, gm))


def _nc1_subset_fast(H, K, labels, mask, centres, variant, gm):
    """`nc1_subset` on concrete inputs (H and labels already checked) through
    `_nc1_subset_kernel`, with the same checks in the same order; None when mask or centres
    are invalid (the caller's general path then raises its own errors in its order)."""
    N = H.shape[1]
    m = np.asarray(mask)
    if m.shape != (N,) or m.dtype != bool:
        return None
    if centres is not None:
        try:
            centres = validate.labels("centres", centres, N, K, per="one class per column of H")
        except ValueError:
            return None
    lab = None if labels is None else validate.labels("labels", labels, N, K)
    t, hbar_norm = _nc1_subset_kernel(H, lab, m, centres, K=int(K), variant=variant, gm=gm)
    _check_nondegenerate("||Hbar||_F", hbar_norm, "all class means coincide, Sigma_B = 0")
    return t


@functools.partial(jax.jit, static_argnames=("K", "variant", "gm", "extended"))
def _nc_metrics_kernel(W, H, labels, b, *, K, variant, gm, extended):
    """Every value `nc_metrics` reports, and the norms its degeneracy checks test, in one
    compiled program (the same jax.numpy expressions as the public functions, fused: one
    program instead of dozens of eager ones)."""
    M = class_means_unchecked(H, K, labels)
    counts = _class_counts(H, K, labels)
    Hbar = hbar_from_means(M, counts, gm)
    Wc = _centre_rows(W) if variant == "zhou2022" else W
    G = Wc @ Wc.T if variant in ("zhu2021", "zhou2022") else W @ Hbar
    out = {
        "chk_hbar": jnp.linalg.norm(Hbar),
        "chk_wc": jnp.linalg.norm(Wc),
        "chk_g": jnp.linalg.norm(G),
        "nc1": nc1_unchecked(H, K, labels, variant, gm),
        "nc2": nc2_unchecked(W, H, K, labels, variant, gm),
        "nc3": nc3_unchecked(W, H, K, labels, variant, gm),
        "w_norm": jnp.mean(jnp.linalg.norm(W, axis=1)),
        "mu_norm": jnp.mean(jnp.linalg.norm(Hbar, axis=0)),
    }
    if variant in ("zhu2021", "zhou2022"):
        out["chk_whbar"] = jnp.linalg.norm(Wc @ Hbar)
    if extended:
        pred = _predict(W, H, b)
        out["nc4"] = jnp.mean((pred != nearest_class_centre(H, M)).astype(H.dtype))
        out["nc2_features"] = _etf_distance(Hbar.T @ Hbar, K)
        out["equinorm_features"] = _cv(jnp.linalg.norm(Hbar, axis=0))
        out["equinorm_classifier"] = _cv(jnp.linalg.norm(W, axis=1))
        c = _pairwise_cosines(Hbar)
        cw = _pairwise_cosines(W.T)
        out["equiangular_features_std"] = jnp.std(c)
        out["equiangular_features_maxangle"] = jnp.mean(jnp.abs(c + 1.0 / (K - 1)))
        out["equiangular_classifier_std"] = jnp.std(cw)
        out["equiangular_classifier_maxangle"] = jnp.mean(jnp.abs(cw + 1.0 / (K - 1)))
        N = H.shape[1]
        lab = jnp.repeat(jnp.arange(K), N // K) if labels is None else labels
        sq = jnp.sum((H - M[:, lab]) ** 2, axis=0)
        var = jnp.zeros((K,), H.dtype).at[lab].add(sq) / counts
        i, j = np.triu_indices(K, k=1)
        out["chk_cdnv"] = jnp.min(jnp.sum((M[:, i] - M[:, j]) ** 2, axis=0))
        out["cdnv"] = cdnv_from(M, var)
        B = _pinv_psd(Hbar @ Hbar.T / K, max(H.shape[0], K))
        D = H - M[:, lab]
        q = jnp.sum(D * (B @ D), axis=0)
        t = jnp.zeros((K,), H.dtype).at[lab].add(q) / counts
        out["nc1_per_class"] = t if variant == "authors" else t / K
    return out


def _nc_metrics_fast(W, H, K, labels, variant, gm, extended, b):
    """`nc_metrics` for concrete arrays of valid shapes through `_nc_metrics_kernel`: the same
    checks, in the same order, with the same messages; None when the inputs are not of that
    kind (the caller then takes the general path, which raises what it raises)."""
    if not _concrete(W, H, labels, b) or isinstance(K, bool) or not isinstance(K, (int, np.integer)):
        return None
    if not all(hasattr(x, "shape") and hasattr(x, "dtype") for x in (W, H)):
        return None
    if jnp.ndim(H) != 2 or jnp.ndim(W) != 2 or W.shape != (K, H.shape[0]):
        return None
    if extended and b is not None and jnp.shape(b) != (K,):
        return None
    _check_H(H, K, labels)
    lab = None if labels is None else validate.labels("labels", labels, H.shape[1], K)
    bb = None if (b is None or not extended) else b
    v = jax.device_get(_nc_metrics_kernel(W, H, lab, bb, K=int(K), variant=variant, gm=gm, extended=extended))
    _check_nondegenerate("||Hbar||_F", v["chk_hbar"], "all class means coincide, Sigma_B = 0")
    _check_W(W, H, K)
    _check_nondegenerate("||W||_F" if variant != "zhou2022" else "||W - 1 wbar^T||_F", v["chk_wc"],
                         "no classifier direction")
    _check_nondegenerate("||W W^T||_F" if variant in ("zhu2021", "zhou2022") else "||W Hbar||_F",
                         v["chk_g"], "no class structure to compare with a simplex ETF")
    if variant in ("zhu2021", "zhou2022"):
        _check_nondegenerate("||W Hbar||_F", v["chk_whbar"], "no class structure to compare with a simplex ETF")
    out = {k: float(v[k]) for k in ("nc1", "nc2", "nc3", "w_norm", "mu_norm")}
    if variant == "zhu2021":
        out["nc2_wh"] = out["nc3"]
    if variant in ("zhu2021", "zhou2022"):
        out.update({VARIANT_LABELS[variant][k]: out[k] for k in ("nc1", "nc2", "nc3")})
    if extended:
        _check_b(b, K)
        if float(v["chk_cdnv"]) == 0.0:
            raise ValueError("two class means coincide: the CDNV of that pair is x/0, undefined")
        out["nc4"] = float(v["nc4"])
        out["nc2_features"] = float(v["nc2_features"])
        out.update({f"equinorm_{k}": float(v[f"equinorm_{k}"]) for k in ("features", "classifier")})
        out.update({f"equiangular_{k}": float(v[f"equiangular_{k}"])
                    for k in ("features_std", "features_maxangle", "classifier_std", "classifier_maxangle")})
        out["cdnv"] = float(v["cdnv"])
        out["nc1_per_class"] = np.asarray(v["nc1_per_class"])
    return out


def nc_metrics(W, H, K: int, labels=None, variant: str = "paper", global_mean: str | None = None,
               *, extended: bool = False, b=None) -> dict:
    """NC1-3 of `variant`, plus mean classifier and class-mean norms, as floats.

    For ``"zhu2021"``/``"zhou2022"`` the dict also holds their own names
    (`VARIANT_LABELS`: ``collapse_metric``, ``ETF_metric``,
    ``WH_relation_metric``); for ``"zhu2021"`` ``nc2_wh`` = ETF(W Hbar) too.
    ``extended=True`` adds NC4 (with bias `b`), NC2 of the means alone
    (``nc2_features``), equinorm, equiangularity, CDNV and per-class NC1.
    """
    _check_variant(variant)
    gm = _resolve_global_mean(global_mean, variant)
    fast = _nc_metrics_fast(W, H, K, labels, variant, gm, extended, b)
    if fast is not None:
        return fast
    out = {
        "nc1": float(nc1(H, K, labels, variant, gm)),
        "nc2": float(nc2(W, H, K, labels, variant, gm)),
        "nc3": float(nc3(W, H, K, labels, variant, gm)),
        "w_norm": float(jnp.mean(classifier_norms(W))),
        "mu_norm": float(jnp.mean(class_mean_norms(H, K, labels, gm))),
    }
    if variant == "zhu2021":
        out["nc2_wh"] = out["nc3"]
    if variant in ("zhu2021", "zhou2022"):
        out.update({VARIANT_LABELS[variant][k]: out[k] for k in ("nc1", "nc2", "nc3")})
    if extended:
        out["nc4"] = float(nc4(W, H, K, labels, b))
        out["nc2_features"] = float(nc2_features(H, K, labels, gm))
        out.update({f"equinorm_{k}": float(v) for k, v in equinorm(H, K, labels, W, gm).items()})
        out.update({f"equiangular_{k}": float(v) for k, v in equiangularity(H, K, labels, W, gm).items()})
        out["cdnv"] = float(cdnv(H, K, labels))
        out["nc1_per_class"] = np.asarray(nc1_per_class(H, K, labels, variant, gm))
    return out
