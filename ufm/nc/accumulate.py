"""Streaming neural-collapse metrics: batches of (features, labels, logits) in, metrics out.

The features of a large data set never have to be held at once: the metrics
of `ufm.nc.metrics` are functions of sufficient statistics that are sums over
samples, accumulated batch by batch in a JAX pytree (NamedTuples of arrays)
whose update jit-compiles inside a training loop and also takes NumPy arrays.
Memory is O(K d + d^2), independent of the number of samples N.

Batches are row-major here, as a network produces them: ``features`` B x d,
``labels`` (B,), ``logits`` B x K (optional). The result is that of the
full-batch functions on H = features^T (d x N) with the same labels.

Pass 1 (`init`, `update`) accumulates per class the count n_k and the sum
s_k = sum_{y=k} h, which give the class means mu_k, both global means and
Hbar, hence NC2, NC3 (any variant), NC2 of the means, equinorm and
equiangularity. With ``scatter=True`` it also keeps the running mean m and the
centred scatter S = sum (h - m)(h - m)^T, merged batch by batch with the
update of Chan, Golub and LeVeque (1979):
S <- S + S_b + delta delta^T n n_b / (n + n_b), delta = m_b - m,
and then N Sigma_W = S - sum_k n_k (mu_k - m)(mu_k - m)^T gives NC1 in one pass.
That difference cancels when the class means are far apart compared with the
spread within classes (near collapse: relative error ~ eps / NC1).

Pass 2 (`second_pass`, `update_second_pass`), with the class means known,
accumulates only deviations from them, so nothing cancels: with L (d x r,
r = min(d, K)) such that L L^T = Sigma_B^+ (`ufm.nc.metrics.pinv_sqrt_psd`,
the same cutoff as the full-batch NC1), q_i = ||L^T (h_i - mu_c)||^2 and
tr(Sigma_W Sigma_B^+) = (1/N) sum_i q_i. Per class it sums q_i and
||h_i - mu_{y_i}||^2 (per-class NC1, CDNV), and, given predictions (argmax of
the logits, or of W h + b), the q of the correctly classified samples against
their class and of the misclassified ones against their *predicted* class
(`ufm.nc.metrics.nc1_subset`), and NC4 (prediction != nearest class centre).
Its cost per batch is one B x d x r product, the same as one X^T X pass.

`finalize` turns the statistics into a dict of floats (plus per-class arrays).

>>> import jax
>>> import numpy as np
>>> from ufm.nc.metrics import nc1
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 3, size=50); X = rng.normal(size=(50, 4)) + 3 * np.eye(3, 4)[y]
>>> s = init(3, 4)
>>> for i in range(0, 50, 16):
...     s = update(s, X[i:i + 16], y[i:i + 16])
>>> p = second_pass(s)
>>> for i in range(0, 50, 16):
...     p = update_second_pass(p, X[i:i + 16], y[i:i + 16])
>>> out = finalize(s, p)
>>> bool(abs(out["nc1"] - float(nc1(X.T, 3, labels=y))) < 1e-12)
True
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ufm.core import validate
from ufm.nc import metrics as _m

__all__ = ["NCPass2", "NCStats", "finalize", "init", "second_pass", "update", "update_second_pass"]


class NCStats(NamedTuple):
    """Pass-1 sufficient statistics (a pytree of arrays)."""

    count: jax.Array      # (K,) samples per class
    sums: jax.Array       # (K, d) sum of the features of each class
    n_correct: jax.Array  # () samples whose argmax logit equals the label
    n_logits: jax.Array   # () samples that came with logits
    mean: jax.Array       # (d,) running mean of all samples (Chan); (0,) without scatter
    scatter: jax.Array    # (d, d) sum (h - mean)(h - mean)^T (Chan); (0, 0) without scatter


class NCPass2(NamedTuple):
    """Pass-2 statistics: deviations from the class means found by pass 1."""

    means: jax.Array      # (K, d) class means (fixed)
    L: jax.Array          # (d, r) with L L^T = Sigma_B^+ (fixed)
    ML: jax.Array         # (K, r) means @ L (fixed)
    W: jax.Array          # (K, d) classifier for predictions; (0, d) if none
    b: jax.Array          # (K,) bias; zeros if none
    global_mean: jax.Array  # () 0 = class means, 1 = samples (fixed)
    quad: jax.Array       # (K,) sum over class k of ||L^T (h - mu_k)||^2
    sq: jax.Array         # (K,) sum over class k of ||h - mu_k||^2
    quad_correct: jax.Array  # () sum of q over correct predictions (against the label)
    quad_wrong: jax.Array    # () sum of q over wrong predictions (against the prediction)
    n_correct: jax.Array     # () correct predictions
    n_pred: jax.Array        # () samples with a prediction
    n_mismatch: jax.Array    # () prediction != nearest class centre (NC4)


def init(K: int, d: int, *, dtype=None, scatter: bool = False) -> NCStats:
    """Empty pass-1 statistics for K classes in dimension d (``scatter=True``: one-pass NC1)."""
    K = validate.integer("K", K, minimum=2, integral_floats=False)
    d = validate.integer("d", d, minimum=1, integral_floats=False)
    dt = dtype or jnp.result_type(float)
    z = jnp.zeros((), dt)
    return NCStats(jnp.zeros((K,), dt), jnp.zeros((K, d), dt), z, z,
                   jnp.zeros((d if scatter else 0,), dt), jnp.zeros((d, d) if scatter else (0, 0), dt))


def _concrete(*xs):
    return not any(isinstance(x, jax.core.Tracer) for x in xs if x is not None)


def _check_batch(features, labels, logits, K, d):
    X = np.asarray(features)
    if X.ndim != 2 or X.shape[1] != d:
        raise validate.bad_array("features", f"shape {X.shape}", f"(B, d) = (B, {d}), one row per sample")
    validate.finite("features", X)
    validate.labels("labels", labels, X.shape[0], K, per="one per row of features")
    if logits is not None:
        z = np.asarray(logits)
        if z.shape != (X.shape[0], K):
            raise validate.bad_array("logits", f"shape {z.shape}", f"(B, K) = ({X.shape[0]}, {K})")
        validate.finite("logits", z)


def _argmax(z):
    """First index of the row maximum (= jnp.argmax for finite z; a max-reduce and a min-reduce,
    several times faster than XLA's variadic argmax reduction on CPU)."""
    m = jnp.max(z, axis=1, keepdims=True)
    idx = jnp.arange(z.shape[1], dtype=jnp.int32)
    return jnp.min(jnp.where(z == m, idx, z.shape[1]), axis=1)


@jax.jit
def _update(s: NCStats, X, y, z):
    X = X.astype(s.sums.dtype)
    K = s.count.shape[0]
    count = s.count + jax.ops.segment_sum(jnp.ones(X.shape[0], X.dtype), y, num_segments=K)
    sums = s.sums + jax.ops.segment_sum(X, y, num_segments=K)
    n_correct, n_logits = s.n_correct, s.n_logits
    if z is not None:
        n_correct = n_correct + jnp.sum(_argmax(z) == y)
        n_logits = n_logits + X.shape[0]
    mean, scatter = s.mean, s.scatter
    if scatter.shape[0]:  # static: Chan et al. merge of (mean, centred scatter)
        n_a, n_b = jnp.sum(s.count), X.shape[0]
        m_b = X.mean(axis=0)
        Xc = X - m_b
        delta = m_b - mean
        n = n_a + n_b
        mean = mean + delta * (n_b / n)
        scatter = scatter + Xc.T @ Xc + jnp.outer(delta, delta) * (n_a * n_b / n)
    return NCStats(count, sums, n_correct, n_logits, mean, scatter)


def update(stats: NCStats, features, labels, logits=None) -> NCStats:
    """Add a batch (``features`` B x d, ``labels`` (B,), ``logits`` B x K or None) to pass 1.

    Jit-compiled (once per batch shape); callable inside `jax.jit` with traced
    arrays, where the input checks are skipped.
    """
    if _concrete(features, labels, logits):
        _check_batch(features, labels, logits, stats.count.shape[0], stats.sums.shape[1])
    z = None if logits is None else jnp.asarray(logits)
    return _update(stats, jnp.asarray(features), jnp.asarray(labels), z)


def _means_hbar(stats, gm):
    if _concrete(stats.count):
        empty = np.flatnonzero(np.asarray(stats.count) == 0)
        if empty.size:
            raise ValueError(f"class(es) {empty.tolist()} have no samples; allowed: every class with >= 1 "
                             "sample (its mean must exist)")
    M = (stats.sums / stats.count[:, None]).T  # d x K
    return M, _m.hbar_from_means(M, stats.count, gm)


@jax.jit
def _sigma_b_factor(M, Hbar):
    d, K = M.shape
    L = _m.pinv_sqrt_psd(Hbar @ Hbar.T / K, max(d, K), min(d, K))
    return L, M.T @ L


@jax.jit
def _feature_geometry(Hbar):
    K = Hbar.shape[1]
    c = _m._pairwise_cosines(Hbar)
    norms = jnp.linalg.norm(Hbar, axis=0)
    return (_m._etf_distance(Hbar.T @ Hbar, K), _m._cv(norms), jnp.std(c),
            jnp.mean(jnp.abs(c + 1.0 / (K - 1))), jnp.mean(norms))


@jax.jit
def _classifier_geometry(W):
    K = W.shape[0]
    cw = _m._pairwise_cosines(W.T)
    norms = jnp.linalg.norm(W, axis=1)
    return jnp.mean(norms), _m._cv(norms), jnp.std(cw), jnp.mean(jnp.abs(cw + 1.0 / (K - 1)))


def second_pass(stats: NCStats, W=None, b=None, *, variant: str = "paper", global_mean=None) -> NCPass2:
    """Start pass 2 from finished pass-1 statistics.

    W (K x d) and b (K,) give the predictions where a batch comes without
    logits. `variant`/`global_mean` fix Sigma_B (pass the same to `finalize`).
    """
    _m._check_variant(variant)
    gm = _m._resolve_global_mean(global_mean, variant)
    M, Hbar = _means_hbar(stats, gm)
    d, K = M.shape
    if W is not None and _concrete(W, b):
        W = jnp.asarray(W)
        if W.shape != (K, d):
            raise validate.bad_array("W", f"shape {W.shape}", f"(K, d) = ({K}, {d})")
        validate.finite("W", W)
        _m._check_b(b, K)
    if _concrete(Hbar):
        _m._check_nondegenerate("||Hbar||_F", jnp.linalg.norm(Hbar), "all class means coincide, Sigma_B = 0")
    L, ML = _sigma_b_factor(M, Hbar)
    dt = M.dtype
    z = jnp.zeros((), dt)
    Wm = jnp.zeros((0, d), dt) if W is None else jnp.asarray(W, dt)
    bv = jnp.zeros((K,), dt) if b is None else jnp.asarray(b, dt)
    return NCPass2(M.T, L, ML, Wm, bv, jnp.asarray(1 if gm == "samples" else 0),
                   jnp.zeros((K,), dt), jnp.zeros((K,), dt), z, z, z, z, z)


@jax.jit
def _update2(p: NCPass2, X, y, z):
    X = X.astype(p.means.dtype)
    K = p.means.shape[0]
    Z = X @ p.L                                   # B x r: the one big product
    q = jnp.sum((Z - p.ML[y]) ** 2, axis=1)       # ||L^T (h - mu_y)||^2
    D = X - p.means[y]
    quad = p.quad + jax.ops.segment_sum(q, y, num_segments=K)
    sq = p.sq + jax.ops.segment_sum(jnp.sum(D * D, axis=1), y, num_segments=K)
    if z is None and p.W.shape[0] == 0:  # static: no predictions
        return p._replace(quad=quad, sq=sq)
    pred = _argmax(z if z is not None else X @ p.W.T + p.b)
    right = pred == y
    qp = jnp.sum((Z - p.ML[pred]) ** 2, axis=1)   # against the predicted class
    # nearest class centre: argmin_k ||mu_k||^2 - 2 h.mu_k
    ncc = _argmax(2.0 * (X @ p.means.T) - jnp.sum(p.means**2, axis=1)[None, :])
    return p._replace(
        quad=quad, sq=sq,
        quad_correct=p.quad_correct + jnp.sum(jnp.where(right, q, 0.0)),
        quad_wrong=p.quad_wrong + jnp.sum(jnp.where(right, 0.0, qp)),
        n_correct=p.n_correct + jnp.sum(right),
        n_pred=p.n_pred + X.shape[0],
        n_mismatch=p.n_mismatch + jnp.sum(pred != ncc))


def update_second_pass(p: NCPass2, features, labels, logits=None) -> NCPass2:
    """Add a batch to pass 2 (the same batches as pass 1, in any order and split)."""
    if _concrete(features, labels, logits):
        _check_batch(features, labels, logits, p.means.shape[0], p.means.shape[1])
    z = None if logits is None else jnp.asarray(logits)
    return _update2(p, jnp.asarray(features), jnp.asarray(labels), z)


def finalize(stats: NCStats, second: NCPass2 | None = None, W=None, *, variant: str = "paper",
             global_mean=None) -> dict:
    """The metrics as floats (per-class ones as numpy arrays).

    Always (W given): ``nc2``, ``nc3`` and ``equinorm_classifier``,
    ``equiangular_classifier_std``/``_maxangle``; always: ``nc2_features``,
    ``equinorm_features``, ``equiangular_features_std``/``_maxangle``,
    ``n``, ``counts``, and ``accuracy`` if pass 1 saw logits. ``nc1`` from pass 2
    if given, else from the one-pass scatter (``scatter=True``), else absent.
    From pass 2: ``nc1_per_class``, ``cdnv``, ``class_variances`` and, with
    predictions, ``nc1_correct``, ``nc1_wrong`` (NaN if no such sample), ``nc4``.
    Same names and meanings as `ufm.nc.metrics.nc_metrics(..., extended=True)`.
    """
    _m._check_variant(variant)
    gm = _m._resolve_global_mean(global_mean, variant)
    M, Hbar = _means_hbar(stats, gm)
    d, K = M.shape
    N = float(jnp.sum(stats.count))
    scale = 1.0 if variant == "authors" else 1.0 / K
    out = {"n": N, "counts": np.asarray(stats.count)}
    if float(stats.n_logits) > 0:
        out["accuracy"] = float(stats.n_correct / stats.n_logits)
    vals = [float(v) for v in _feature_geometry(Hbar)]
    for k, v in zip(("nc2_features", "equinorm_features", "equiangular_features_std",
                     "equiangular_features_maxangle", "mu_norm"), vals):
        out[k] = v
    if W is not None:
        W = jnp.asarray(W, M.dtype)
        if W.shape != (K, d):
            raise validate.bad_array("W", f"shape {W.shape}", f"(K, d) = ({K}, {d})")
        validate.finite("W", W)
        out["nc2"] = float(_m.nc2_from(W, Hbar, variant))
        out["nc3"] = float(_m.nc3_from(W, Hbar, variant))
        vals = [float(v) for v in _classifier_geometry(W)]
        for k, v in zip(("w_norm", "equinorm_classifier", "equiangular_classifier_std",
                         "equiangular_classifier_maxangle"), vals):
            out[k] = v
    if second is not None:
        if int(second.global_mean) != (1 if gm == "samples" else 0):
            raise ValueError(f"global_mean={gm!r} differs from the one the second pass was started with; "
                             "allowed: the same variant/global_mean in second_pass and finalize")
        out["nc1"] = float(jnp.sum(second.quad)) / N * scale
        out["nc1_per_class"] = np.asarray(second.quad / stats.count) * scale
        var = second.sq / stats.count
        out["class_variances"] = np.asarray(var)
        out["cdnv"] = float(jax.jit(_m.cdnv_from)(M, var))
        if float(second.n_pred) > 0:
            nw = float(second.n_pred - second.n_correct)
            nr = float(second.n_correct)
            out["nc1_correct"] = float(second.quad_correct) / nr * scale if nr else float("nan")
            out["nc1_wrong"] = float(second.quad_wrong) / nw * scale if nw else float("nan")
            out["nc4"] = float(second.n_mismatch / second.n_pred)
    elif stats.scatter.shape[0]:
        dm = M - stats.mean[:, None]
        Sw = (stats.scatter - (dm * stats.count) @ dm.T) / N
        out["nc1"] = float(_m._nc1_from(Sw, Hbar, K, variant))
    if variant == "zhu2021" and "nc3" in out:
        out["nc2_wh"] = out["nc3"]
    if variant in ("zhu2021", "zhou2022"):
        out.update({_m.VARIANT_LABELS[variant][k]: out[k] for k in ("nc1", "nc2", "nc3") if k in out})
    return out
