"""Neural-collapse metrics NC1, NC2, NC3 (NC paper, "Cross Entropy versus Label
Smoothing: A Neural Collapse Perspective", eq. (4)-(6)).

Features H are d x N, W is K x d. Without `labels`, the columns of H are
class-major with n = N/K per class (column k*n + i is h_{k,i}, the UFM
ordering); with `labels` (length N, values in 0..K-1) any ordering and any
class sizes are allowed (the digits experiment is unbalanced). Class means
mu_k, global mean mu_G = mean_k mu_k, Hbar = [mu_k - mu_G] (d x K),
Sigma_W = (1/N) sum (h - mu_y)(h - mu_y)^T, Sigma_B = (1/K) Hbar Hbar^T.

Variants (``variant=``), with exactly how they differ from the paper:

* ``"paper"`` (default), the NC paper's text, eq. (4)-(6):
  NC1 = (1/K) tr(Sigma_W Sigma_B^+);
  NC2 = || W Hbar / ||W Hbar||_F - P / sqrt(K-1) ||_F, P = I - 11^T/K;
  NC3 = || W/||W||_F - Hbar^T/||Hbar||_F ||_F.
* ``"authors"``, the NC paper's released code: NC1 without the 1/K
  (= K x paper), NC3 squared (= paper^2); NC2 as the paper.
* ``"zhu2021"``, Zhu et al. 2021: NC2 measured on the classifier alone,
  || W W^T/||W W^T||_F - P/sqrt(K-1) ||_F (`nc_metrics` returns the W Hbar
  one too, as ``nc2_wh``); NC1, NC3 as the paper.
* ``"zhou2022"``, Zhou et al. 2022: W is centred first, W <- P W (the mean
  classifier row removed) in NC2 and NC3; NC1 as the paper.

All vanish at a simplex-ETF neural-collapse configuration. The metrics are
invariant under a common relabelling of the classes (rows of W and the
labels), under an orthogonal change of feature basis (W -> W Q^T, H -> Q H),
and under scaling W and H separately (all are ratios).

Inputs are validated whenever they are concrete arrays: mismatched shapes,
a class with no samples, NaN/inf and a degenerate configuration with
Hbar = 0 or W Hbar = 0 (where the metrics are 0/0) raise ValueError. Inside
`jax.jit`/`vmap` (traced inputs) the checks cannot run; use the
``*_unchecked`` kernels there deliberately, as `ufm.nc.dynamics` does.

>>> import jax.numpy as jnp
>>> K, n = 3, 2
>>> M = jnp.eye(K) - 1.0 / K          # centred simplex: columns sum to 0
>>> H = jnp.repeat(M, n, axis=1)      # d = K, every sample at its class mean
>>> float(nc1(H, K)), round(float(nc2(M.T, H, K)), 12), round(float(nc3(M.T, H, K)), 12)
(0.0, 0.0, 0.0)
>>> H2 = H + 0.1 * jnp.eye(3, 6)      # some within-class spread
>>> round(float(nc1(H2, K, variant="authors") / nc1(H2, K)), 12)   # authors drop the 1/K
3.0
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ufm.core import validate

VARIANTS = ("paper", "authors", "zhu2021", "zhou2022")


# --------------------------------------------------------------------------
# validation (concrete inputs only)
# --------------------------------------------------------------------------

def _concrete(*xs) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in xs if x is not None)


def _check_variant(variant) -> str:
    return validate.choice("variant", variant, VARIANTS)


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


def _centred(M):
    return M - M.mean(axis=1, keepdims=True)


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


def nc1_unchecked(H, K: int, labels=None, variant: str = "paper"):
    d, N = H.shape
    M = class_means_unchecked(H, K, labels)
    Hbar = _centred(M)
    if labels is None:
        within = H - jnp.repeat(M, N // K, axis=1)
    else:
        within = H - M[:, labels]
    Sigma_W = within @ within.T / N
    Sigma_B = Hbar @ Hbar.T / K
    t = jnp.sum(Sigma_W * _pinv_psd(Sigma_B, max(d, K)))  # tr(A B) for symmetric B
    return t if variant == "authors" else t / K


def _etf_distance(G, K: int):
    P = jnp.eye(K, dtype=G.dtype) - 1.0 / K
    return jnp.linalg.norm(G / jnp.linalg.norm(G) - P / jnp.sqrt(K - 1.0))


def nc2_unchecked(W, H, K: int, labels=None, variant: str = "paper"):
    if variant == "zhu2021":
        return _etf_distance(W @ W.T, K)
    if variant == "zhou2022":
        W = W - W.mean(axis=0, keepdims=True)
    return _etf_distance(W @ _centred(class_means_unchecked(H, K, labels)), K)


def nc3_unchecked(W, H, K: int, labels=None, variant: str = "paper"):
    if variant == "zhou2022":
        W = W - W.mean(axis=0, keepdims=True)
    Hbar = _centred(class_means_unchecked(H, K, labels))
    v = jnp.linalg.norm(W / jnp.linalg.norm(W) - Hbar.T / jnp.linalg.norm(Hbar))
    return v**2 if variant == "authors" else v


# --------------------------------------------------------------------------
# public, validated
# --------------------------------------------------------------------------

def class_means(H, K: int, labels=None):
    """mu_k as the columns of a d x K matrix (class-major H, or `labels`)."""
    if _concrete(H, labels):
        _check_H(H, K, labels)
    return class_means_unchecked(H, K, labels)


def centred_means(H, K: int, labels=None):
    """Hbar = [mu_k - mu_G], d x K, with mu_G the mean of the class means."""
    return _centred(class_means(H, K, labels))


def class_mean_norms(H, K: int, labels=None):
    """||mu_k - mu_G|| for each class (length K): the "feature norm" of NC paper Sec. 3.3."""
    return jnp.linalg.norm(centred_means(H, K, labels), axis=0)


def classifier_norms(W):
    """||w_k|| for each row of W (length K): the "classifier norm" of NC paper Sec. 3.3."""
    if _concrete(W):
        if jnp.ndim(W) != 2:
            raise validate.bad_array("W", f"shape {jnp.shape(W)}", "a 2-D array K x d")
        _check_finite("W", W)
    return jnp.linalg.norm(W, axis=1)


def nc1(H, K: int, labels=None, variant: str = "paper"):
    """Within-class variability (1/K) tr(Sigma_W Sigma_B^+), eq. (4).

    ``variant="authors"`` drops the 1/K; the other variants equal the paper's.
    See `_pinv_psd` for the pseudo-inverse cutoff and why.
    """
    _check_variant(variant)
    if _concrete(H, labels):
        _check_H(H, K, labels)
        _check_nondegenerate("||Hbar||_F", jnp.linalg.norm(_centred(class_means_unchecked(H, K, labels))),
                             "all class means coincide, Sigma_B = 0")
    return nc1_unchecked(H, K, labels, variant)


def nc2(W, H, K: int, labels=None, variant: str = "paper"):
    """|| W Hbar/||W Hbar||_F - (I - 11^T/K)/sqrt(K-1) ||_F, eq. (5).

    ``"zhu2021"``: on W W^T instead of W Hbar; ``"zhou2022"``: W centred first.
    """
    _check_variant(variant)
    if _concrete(W, H, labels):
        _check_H(H, K, labels)
        _check_W(W, H, K)
        Wc = W - W.mean(axis=0, keepdims=True) if variant == "zhou2022" else W
        G = W @ W.T if variant == "zhu2021" else Wc @ _centred(class_means_unchecked(H, K, labels))
        _check_nondegenerate("||W W^T||_F" if variant == "zhu2021" else "||W Hbar||_F",
                             jnp.linalg.norm(G), "no class structure to compare with a simplex ETF")
    return nc2_unchecked(W, H, K, labels, variant)


def nc3(W, H, K: int, labels=None, variant: str = "paper"):
    """|| W/||W||_F - Hbar^T/||Hbar||_F ||_F, eq. (6).

    ``"authors"``: squared; ``"zhou2022"``: W centred first.
    """
    _check_variant(variant)
    if _concrete(W, H, labels):
        _check_H(H, K, labels)
        _check_W(W, H, K)
        Wc = W - W.mean(axis=0, keepdims=True) if variant == "zhou2022" else W
        _check_nondegenerate("||W||_F", jnp.linalg.norm(Wc), "no classifier direction")
        _check_nondegenerate("||Hbar||_F", jnp.linalg.norm(_centred(class_means_unchecked(H, K, labels))),
                             "all class means coincide")
    return nc3_unchecked(W, H, K, labels, variant)


def nc_metrics(W, H, K: int, labels=None, variant: str = "paper") -> dict:
    """NC1-3 of `variant`, plus mean classifier and class-mean norms, as floats.

    For ``"zhu2021"`` the dict also holds ``nc2_wh``, their NC2 on W Hbar.
    """
    out = {
        "nc1": float(nc1(H, K, labels, variant)),
        "nc2": float(nc2(W, H, K, labels, variant)),
        "nc3": float(nc3(W, H, K, labels, variant)),
        "w_norm": float(jnp.mean(classifier_norms(W))),
        "mu_norm": float(jnp.mean(class_mean_norms(H, K, labels))),
    }
    if variant == "zhu2021":
        out["nc2_wh"] = float(nc2(W, H, K, labels, "paper"))
    return out
