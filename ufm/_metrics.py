"""Neural-collapse metrics NC1, NC2, NC3 (NC paper eq. 4-6; paper-notes A5).

Features H are d x N with class-major columns (column k*n + i is h_{k,i});
W is K x d. Class means mu_k, global mean mu_G = mean_k mu_k,
Hbar = [mu_k - mu_G] (d x K).

* NC1 = (1/K) tr(Sigma_W Sigma_B^+)           (within-class variability)
* NC2 = || W Hbar / ||W Hbar||_F - P / sqrt(K-1) ||_F,  P = I - 11^T/K
* NC3 = || W / ||W||_F - Hbar^T / ||Hbar||_F ||_F       (self-duality)

All three vanish at a simplex-ETF neural-collapse configuration.

>>> import jax.numpy as jnp
>>> K, n = 3, 2
>>> M = jnp.eye(K) - 1.0 / K          # centred simplex: columns sum to 0
>>> H = jnp.repeat(M, n, axis=1)      # d = K, every sample at its class mean
>>> float(nc1(H, K)), round(float(nc2(M.T, H, K)), 12), round(float(nc3(M.T, H, K)), 12)
(0.0, 0.0, 0.0)
"""

from __future__ import annotations

import jax.numpy as jnp


def class_means(H, K: int):
    """mu_k as the columns of a d x K matrix (class-major H)."""
    d, N = H.shape
    return H.reshape(d, K, N // K).mean(axis=2)


def centred_means(H, K: int):
    """Hbar = [mu_k - mu_G], d x K."""
    M = class_means(H, K)
    return M - M.mean(axis=1, keepdims=True)


def nc1(H, K: int):
    """(1/K) tr(Sigma_W Sigma_B^+), eq. (4).

    The pseudo-inverse cutoff is 1e3 * eps * max(d, K) relative to the
    largest eigenvalue: Sigma_B has rank <= K - 1 *structurally* (the centred
    means sum to zero), and that zero eigenvalue is computed with rounding
    error of order max(d, K) eps ||Sigma_B||; the factor 1e3 is headroom.
    Genuine small eigenvalues far above rounding are kept.
    """
    d, N = H.shape
    n = N // K
    M = class_means(H, K)
    Hbar = M - M.mean(axis=1, keepdims=True)
    within = H - jnp.repeat(M, n, axis=1)
    Sigma_W = within @ within.T / N
    Sigma_B = Hbar @ Hbar.T / K
    evals, evecs = jnp.linalg.eigh(Sigma_B)
    cutoff = 1e3 * jnp.finfo(H.dtype).eps * max(d, K) * jnp.max(jnp.abs(evals))
    inv = jnp.where(evals > cutoff, 1.0 / jnp.where(evals > cutoff, evals, 1.0), 0.0)
    Sigma_B_pinv = (evecs * inv) @ evecs.T
    return jnp.trace(Sigma_W @ Sigma_B_pinv) / K


def nc2(W, H, K: int):
    """|| W Hbar/||W Hbar||_F - (I - 11^T/K)/sqrt(K-1) ||_F, eq. (5)."""
    WH = W @ centred_means(H, K)
    P = jnp.eye(K) - 1.0 / K
    return jnp.linalg.norm(WH / jnp.linalg.norm(WH) - P / jnp.sqrt(K - 1.0))


def nc3(W, H, K: int):
    """|| W/||W||_F - Hbar^T/||Hbar||_F ||_F, eq. (6)."""
    Hbar = centred_means(H, K)
    return jnp.linalg.norm(W / jnp.linalg.norm(W) - Hbar.T / jnp.linalg.norm(Hbar))
