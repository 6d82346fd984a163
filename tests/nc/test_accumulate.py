"""Streaming NC metrics (`ufm.nc.accumulate`) against the full-batch ones (`ufm.nc.metrics`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ufm.nc import accumulate as acc
from ufm.nc.metrics import VARIANTS, nc1_subset, nc_metrics

SPLITS = [0, 1, 8, 9, 30, 31, 57, 91, 120]  # uneven batches, one of size 1


def data(seed=0, K=5, d=7, N=120, spread=1.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=N)
    y[:K] = np.arange(K)  # every class present
    means = 2.0 * rng.normal(size=(K, d))
    X = means[y] + spread * rng.normal(size=(N, d)) + 0.5
    W = 0.3 * means + rng.normal(size=(K, d))  # a classifier that is partly right
    b = 0.3 * rng.normal(size=K)
    return X, y, W, b


def stream(X, y, W=None, b=None, logits=None, variant="paper", scatter=False, global_mean=None):
    K, d = W.shape if W is not None else (int(y.max()) + 1, X.shape[1])
    s = acc.init(K, d, scatter=scatter)
    for i, j in zip(SPLITS[:-1], SPLITS[1:]):
        s = acc.update(s, X[i:j], y[i:j], None if logits is None else logits[i:j])
    p = acc.second_pass(s, W, b, variant=variant, global_mean=global_mean)
    for i, j in zip(SPLITS[:-1], SPLITS[1:]):
        p = acc.update_second_pass(p, X[i:j], y[i:j], None if logits is None else logits[i:j])
    return s, p, acc.finalize(s, p, W, variant=variant, global_mean=global_mean)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_full_batch(variant, seed):
    X, y, W, b = data(seed)
    K = W.shape[0]
    s, p, out = stream(X, y, W, b, variant=variant)
    full = nc_metrics(W, X.T, K, labels=y, variant=variant, extended=True, b=b)
    for k, v in full.items():
        np.testing.assert_allclose(out[k], v, rtol=1e-10, atol=1e-14, err_msg=k)
    # subsets: correct vs wrong (the wrong ones against their predicted class)
    pred = np.argmax(X @ W.T + b, axis=1)
    right = pred == y
    assert 0 < right.sum() < len(y)
    kw = dict(variant=variant)
    np.testing.assert_allclose(out["nc1_correct"], float(nc1_subset(X.T, K, y, right, **kw)), rtol=1e-10)
    np.testing.assert_allclose(out["nc1_wrong"], float(nc1_subset(X.T, K, y, ~right, centres=pred, **kw)),
                               rtol=1e-10)
    # one-pass NC1 from the Chan scatter agrees too (far from collapse)
    s1 = acc.init(K, X.shape[1], scatter=True)
    for i, j in zip(SPLITS[:-1], SPLITS[1:]):
        s1 = acc.update(s1, X[i:j], y[i:j])
    np.testing.assert_allclose(acc.finalize(s1, None, W, variant=variant)["nc1"], full["nc1"], rtol=1e-10)


def test_logits_and_global_mean():
    X, y, W, b = data(3)
    z = X @ W.T + b
    _, _, out = stream(X, y, W, None, logits=z, global_mean="samples")
    full = nc_metrics(W, X.T, 5, labels=y, global_mean="samples", extended=True, b=b)
    for k in ("nc1", "nc2", "nc3", "nc4", "cdnv", "nc2_features"):
        np.testing.assert_allclose(out[k], full[k], rtol=1e-10, err_msg=k)
    np.testing.assert_allclose(out["accuracy"], np.mean(z.argmax(1) == y), rtol=1e-15)


def test_jit_inside_a_loop_and_order_independence():
    """The update traced inside jax.jit / lax.scan, batches in another order: same statistics."""
    X, y, W, b = data(4, N=96)
    Xb, yb = jnp.asarray(X).reshape(6, 16, -1), jnp.asarray(y).reshape(6, 16)

    @jax.jit
    def run(s0):
        return jax.lax.scan(lambda s, xy: (acc.update(s, xy[0], xy[1]), None), s0, (Xb[::-1], yb[::-1]))[0]

    s = run(acc.init(5, X.shape[1], scatter=True))
    s_np = acc.init(5, X.shape[1], scatter=True)
    for i in range(0, 96, 40):
        s_np = acc.update(s_np, X[i:i + 40], y[i:i + 40])
    for a, c in zip(s, s_np):
        np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-12, atol=1e-12)
    p = acc.second_pass(s, W, b)
    p = jax.jit(lambda p: jax.lax.fori_loop(0, 6, lambda i, p: acc.update_second_pass(p, Xb[i], yb[i]), p))(p)
    out = acc.finalize(s, p, W)
    np.testing.assert_allclose(out["nc1"], nc_metrics(W, X.T, 5, labels=y)["nc1"], rtol=1e-10)


def test_memory_independent_of_N():
    X, y, W, b = data(5)
    s, p, _ = stream(X, y, W, b)
    sizes = sum(a.size for a in s) + sum(a.size for a in p)
    s2, p2, _ = stream(np.vstack([X, X]), np.concatenate([y, y]), W, b)
    assert sizes == sum(a.size for a in s2) + sum(a.size for a in p2)


def test_bad_inputs():
    s = acc.init(3, 4)
    with pytest.raises(ValueError, match="K=1 is out of range"):
        acc.init(1, 4)
    with pytest.raises(ValueError, match="features has shape"):
        acc.update(s, np.zeros((2, 5)), np.array([0, 1]))
    with pytest.raises(ValueError, match="labels has values"):
        acc.update(s, np.zeros((2, 4)), np.array([0, 3]))
    with pytest.raises(ValueError, match="logits has shape"):
        acc.update(s, np.zeros((2, 4)), np.array([0, 1]), np.zeros((2, 2)))
    s = acc.update(s, np.eye(2, 4), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have no samples"):
        acc.second_pass(s)
    with pytest.raises(ValueError, match="variant='x'"):
        acc.finalize(s, variant="x")
