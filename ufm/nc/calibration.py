"""Calibration: expected calibration error, reliability diagrams, temperature scaling.

NC paper ("Cross Entropy versus Label Smoothing: A Neural Collapse Perspective")
Section 3.3 and Appendix B.5, after Guo et al. 2017:

* Confidence of a prediction = its largest softmax probability; the
  predicted class is the argmax. Split [0, 1] into `n_bins` equal-width bins
  (bin b = (b/B, (b+1)/B], the first bin also holds 0).
* ECE = sum_b (|B_b| / N) |acc(B_b) - conf(B_b)|, acc and conf the mean
  correctness and mean confidence in the bin (empty bins contribute 0).
* Temperature scaling divides the logits by T > 0, with T fitted on
  held-out data by minimizing the negative log-likelihood. In beta = 1/T the
  NLL, mean(logsumexp(beta z) - beta z_y), is convex (logsumexp is convex
  and the rest is linear), and its derivative mean(E_{softmax(beta z)}[z] -
  z_y) is non-decreasing, so the minimizer is the unique root of the
  derivative, found by bisection in log beta to float64 resolution.

>>> import jax.numpy as jnp
>>> probs = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
>>> y = jnp.array([0, 1, 1, 0])
>>> round(float(expected_calibration_error(probs, y, n_bins=10)), 6)   # |1-.9|/4 + |0-.6|/4 + |1-.8|/4 + |1-.7|/4
0.3
>>> z = jnp.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0], [1.0, 0.5]])
>>> T = fit_temperature(z, jnp.array([0, 1, 1, 1, 0]))
>>> 0.0 < T
True
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ufm.core import validate


def _check_probs_labels(probs, labels, n_bins):
    validate.integer("n_bins", n_bins, minimum=1, integral_floats=False)
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise validate.bad_array("probs", f"shape {p.shape}", "(N, K) with N >= 1 samples and K >= 2 classes")
    validate.finite("probs", p, "probabilities in [0, 1]")
    if p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise validate.bad_array(
            "probs", f"entries in [{p.min():g}, {p.max():g}] or rows not summing to 1 (max deviation "
            f"{float(np.abs(p.sum(axis=1) - 1).max()):.2g})", "rows of probabilities summing to 1 (+- 1e-6)")
    _check_labels(labels, p.shape[0], p.shape[1])


def _check_labels(labels, N, K):
    validate.labels("labels", labels, N, K, per="one per row")


def _check_logits(logits, labels):
    z = np.asarray(logits)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        raise validate.bad_array("logits", f"shape {z.shape}", "(N, K) with N >= 1 and K >= 2")
    validate.finite("logits", z)
    _check_labels(labels, z.shape[0], z.shape[1])


def reliability_diagram(probs, labels, n_bins: int = 15) -> dict:
    """Per-bin data of a reliability diagram (numpy arrays of length n_bins).

    Returns ``edges`` (n_bins + 1), ``count``, ``accuracy`` and ``confidence``
    (mean correctness / confidence in the bin, 0 where ``count`` is 0: use
    ``count > 0`` to plot only non-empty bins) and ``ece``.
    """
    _check_probs_labels(probs, labels, n_bins)
    p, y = np.asarray(probs, dtype=float), np.asarray(labels)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    # bin b holds (b/B, (b+1)/B]; confidence 0 (impossible for K >= 2 rows) would go to bin 0
    idx = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype(float)
    safe = np.maximum(count, 1.0)
    acc = np.bincount(idx, weights=correct, minlength=n_bins) / safe
    mconf = np.bincount(idx, weights=conf, minlength=n_bins) / safe
    ece = float(np.sum(count / len(y) * np.abs(acc - mconf)))
    return {"edges": np.linspace(0.0, 1.0, n_bins + 1), "count": count.astype(int),
            "accuracy": acc, "confidence": mconf, "ece": ece}


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """ECE with `n_bins` equal-width confidence bins (default 15, Guo et al. 2017)."""
    return reliability_diagram(probs, labels, n_bins)["ece"]


def nll(logits, labels, temperature=1.0):
    """Mean negative log-likelihood of softmax(logits / T)."""
    logp = jax.nn.log_softmax(jnp.asarray(logits) / temperature, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, jnp.asarray(labels)[:, None], axis=1))


@jax.jit
def _dnll_dbeta(beta, z, y):
    p = jax.nn.softmax(beta * z, axis=1)
    return jnp.mean(jnp.sum(p * z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])


@jax.jit
def _bisect(z, y, lo, hi):
    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        up = _dnll_dbeta(jnp.exp(mid), z, y) > 0  # derivative > 0: the root is below mid
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 200, body, (lo, hi))
    return jnp.exp(0.5 * (lo + hi))


def fit_temperature(logits, labels, t_min: float = 1e-3, t_max: float = 1e3) -> float:
    """The temperature T minimizing the NLL of softmax(logits / T) (Guo et al. 2017).

    Fit it on held-out data, not on the data it is evaluated on. Raises
    ValueError if the optimum lies outside [t_min, t_max] (for instance
    T -> 0 when the held-out set is classified perfectly: the NLL then
    decreases without bound in 1/T and no finite temperature is optimal).
    """
    _check_logits(logits, labels)
    t_min = validate.real("t_min", t_min, 0.0, lo_open=True)
    t_max = validate.real("t_max", t_max, t_min, lo_open=True, note="t_max > t_min")
    z = jnp.asarray(logits, dtype=jnp.result_type(float))
    y = jnp.asarray(labels)
    lo, hi = np.log(1.0 / t_max), np.log(1.0 / t_min)  # in log beta
    # <= and >=: for separated data the derivative underflows to exactly 0 at large beta
    if float(_dnll_dbeta(jnp.exp(hi), z, y)) <= 0:
        raise ValueError(f"the NLL still decreases at T = t_min = {t_min:g}: the optimal temperature is "
                         "below the allowed range (held-out data separated with margin?)")
    if float(_dnll_dbeta(jnp.exp(lo), z, y)) >= 0:
        raise ValueError(f"the NLL still decreases at T = t_max = {t_max:g}: the optimal temperature is "
                         "above the allowed range (predictions no better than chance?)")
    return float(1.0 / _bisect(z, y, jnp.asarray(lo), jnp.asarray(hi)))
