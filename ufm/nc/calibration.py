"""Calibration: expected calibration error, reliability diagrams, temperature scaling.

NC paper ("Cross Entropy versus Label Smoothing: A Neural Collapse Perspective")
Section 3.3 and Appendix B.5, after Guo et al. 2017:

* Confidence of a prediction = its largest softmax probability; the
  predicted class is the argmax (ties: the lowest index). Inputs are
  probabilities (rows summing to 1) or, with ``from_logits=True``, logits.
* Bins (``binning=``). ``"width"`` (default): `n_bins` equal-width bins with
  edges e_b = b/B (``np.linspace(0, 1, B + 1)``); bin b holds the
  confidences c with e_b < c <= e_{b+1}, except that the first bin is closed
  on the left, [0, e_1], so a confidence of exactly 0 lies in the first bin
  and one of exactly 1 in the last. Membership is decided by comparing with
  those float edges (not by ceil(c B), which misplaces c = 0.3, B = 10).
  ``"mass"``: equal-mass (adaptive) bins: the samples sorted by confidence
  (stable: ties by position) and split into B contiguous groups whose sizes
  differ by at most one (``np.array_split``); the edges returned are 0, the
  largest confidence of each group but the last, and 1. Needs N >= B.
* ECE = sum_b (|B_b| / N) |acc(B_b) - conf(B_b)|, acc and conf the mean
  correctness and mean confidence in the bin (empty bins contribute 0);
  MCE = max_b |acc(B_b) - conf(B_b)| over non-empty bins (Naeini et al.
  2015); classwise ECE (Kull et al. 2019) = (1/K) sum_k ECE_k, ECE_k the ECE
  of the probabilities p_k of class k of all samples against 1[y = k].
* `bootstrap_ci`: percentile bootstrap interval of any of them, resampling
  the samples with replacement.
* Temperature scaling divides the logits by T > 0, with T fitted on
  held-out data by minimizing the negative log-likelihood. In beta = 1/T the
  NLL, mean(logsumexp(beta z) - beta z_y), is convex (logsumexp is convex
  and the rest is linear), and its derivative mean(E_{softmax(beta z)}[z] -
  z_y) is non-decreasing, so the minimizer is the unique root of the
  derivative, found by bisection in log beta to float64 resolution.
  ``method="ece"`` instead minimizes the test-set-style ECE on the held-out
  data (piecewise constant in T, not convex): a grid of 801 values of log T
  over [log t_min, log t_max], then a finer grid of 801 around the best.

>>> import jax.numpy as jnp
>>> probs = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
>>> y = jnp.array([0, 1, 1, 0])
>>> round(float(expected_calibration_error(probs, y, n_bins=10)), 6)   # |1-.9|/4 + |0-.6|/4 + |1-.8|/4 + |1-.7|/4
0.3
>>> round(maximum_calibration_error(probs, y, n_bins=10), 6)               # the (0.5, 0.6] bin
0.6
>>> reliability_diagram(jnp.array([[1.0, 0.0], [0.5, 0.5]]), jnp.array([0, 1]), n_bins=2)["count"]
array([1, 1])
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


BINNINGS = ("width", "mass")


def _probs(probs, labels, n_bins, from_logits):
    """Validated probabilities (numpy float array) from probabilities or logits."""
    if from_logits:
        _check_logits(probs, labels)
        validate.integer("n_bins", n_bins, minimum=1, integral_floats=False)
        return np.asarray(jax.nn.softmax(jnp.asarray(probs, dtype=jnp.result_type(float)), axis=1))
    _check_probs_labels(probs, labels, n_bins)
    return np.asarray(probs, dtype=float)


def bin_indices(conf, n_bins: int, binning: str = "width"):
    """(bin index of each confidence, edges): the binning of the module docstring.

    >>> bin_indices(np.array([0.0, 0.1, 0.3, 0.30001, 1.0]), 10)[0]
    array([0, 0, 2, 3, 9])
    """
    validate.choice("binning", binning, BINNINGS)
    conf = np.asarray(conf, dtype=float)
    if binning == "width":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        # number of inner edges strictly below c: c in (e_b, e_{b+1}] -> b; c <= e_1 -> 0
        return np.searchsorted(edges[1:-1], conf, side="left"), edges
    if conf.size < n_bins:
        raise validate.invalid("n_bins", n_bins, "is out of range",
                               f"at most N = {conf.size} bins for equal-mass binning")
    order = np.argsort(conf, kind="stable")
    idx = np.empty(conf.size, dtype=int)
    groups = np.array_split(order, n_bins)
    for b, g in enumerate(groups):
        idx[g] = b
    edges = np.concatenate([[0.0], [conf[g].max() for g in groups[:-1]], [1.0]])
    return idx, edges


def _bins(conf, correct, n_bins, binning):
    idx, edges = bin_indices(conf, n_bins, binning)
    count = np.bincount(idx, minlength=n_bins).astype(float)
    safe = np.maximum(count, 1.0)
    acc = np.bincount(idx, weights=correct, minlength=n_bins) / safe
    mconf = np.bincount(idx, weights=conf, minlength=n_bins) / safe
    gap = np.abs(acc - mconf)
    ece = float(np.sum(count / len(conf) * gap))
    mce = float(gap[count > 0].max())
    return {"edges": edges, "count": count.astype(int), "accuracy": acc, "confidence": mconf,
            "ece": ece, "mce": mce}


def reliability_diagram(probs, labels, n_bins: int = 15, *, binning: str = "width",
                        from_logits: bool = False) -> dict:
    """Per-bin data of a reliability diagram (numpy arrays of length n_bins).

    Returns ``edges`` (n_bins + 1), ``count``, ``accuracy`` and ``confidence``
    (mean correctness / confidence in the bin, 0 where ``count`` is 0: use
    ``count > 0`` to plot only non-empty bins), ``ece`` and ``mce``.
    """
    validate.choice("binning", binning, BINNINGS)
    p = _probs(probs, labels, n_bins, from_logits)
    y = np.asarray(labels)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    return _bins(conf, correct, n_bins, binning)


def expected_calibration_error(probs, labels, n_bins: int = 15, *, binning: str = "width",
                               from_logits: bool = False) -> float:
    """ECE with `n_bins` confidence bins (default 15 equal-width, Guo et al. 2017)."""
    return reliability_diagram(probs, labels, n_bins, binning=binning, from_logits=from_logits)["ece"]


def maximum_calibration_error(probs, labels, n_bins: int = 15, *, binning: str = "width",
                              from_logits: bool = False) -> float:
    """MCE: the largest |accuracy - confidence| over the non-empty bins (Naeini et al. 2015)."""
    return reliability_diagram(probs, labels, n_bins, binning=binning, from_logits=from_logits)["mce"]


def classwise_calibration_error(probs, labels, n_bins: int = 15, *, binning: str = "width",
                                from_logits: bool = False) -> float:
    """Classwise ECE (Kull et al. 2019): mean over classes k of the ECE of p_k against 1[y = k]."""
    validate.choice("binning", binning, BINNINGS)
    p = _probs(probs, labels, n_bins, from_logits)
    y = np.asarray(labels)
    return float(np.mean([_bins(p[:, k], (y == k).astype(float), n_bins, binning)["ece"]
                          for k in range(p.shape[1])]))


CALIBRATION_METRICS = {"ece": expected_calibration_error, "mce": maximum_calibration_error,
                       "classwise_ece": classwise_calibration_error}


def bootstrap_ci(metric, probs, labels, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                 **kwargs) -> dict:
    """Percentile bootstrap interval of a calibration metric.

    `metric`: a name of `CALIBRATION_METRICS` (``"ece"``, ``"mce"``,
    ``"classwise_ece"``) or a function ``f(probs, labels, **kwargs)``. The N
    samples are resampled with replacement `n_boot` times (numpy generator
    seeded with `seed`); returns ``estimate`` (on the data), ``lo`` and ``hi``
    (the (1 - level)/2 and (1 + level)/2 quantiles of the replicates), ``level``
    and ``n_boot``. `kwargs` go to the metric (``n_bins``, ``binning``, ``from_logits``).
    """
    if isinstance(metric, str):
        f = CALIBRATION_METRICS[validate.choice("metric", metric, tuple(CALIBRATION_METRICS))]
    else:
        f = metric
    n_boot = validate.integer("n_boot", n_boot, minimum=2)
    level = validate.real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    p, y = np.asarray(probs), np.asarray(labels)
    estimate = float(f(p, y, **kwargs))
    rng = np.random.default_rng(seed)
    reps = np.array([f(p[i], y[i], **kwargs) for i in rng.integers(0, len(y), size=(n_boot, len(y)))])
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return {"estimate": estimate, "lo": float(lo), "hi": float(hi), "level": level, "n_boot": n_boot}


def nll(logits, labels, temperature=1.0):
    """Mean negative log-likelihood of softmax(logits / T)."""
    logp = jax.nn.log_softmax(jnp.asarray(logits) / temperature, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, jnp.asarray(labels)[:, None], axis=1))


@jax.jit
def _dnll_dbeta(beta, z, y):
    p = jax.nn.softmax(beta * z, axis=1)
    return jnp.mean(jnp.sum(p * z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])


@jax.jit
def _dnll_at_log_beta(log_beta, z, y):
    """`_dnll_dbeta` at beta = exp(log_beta), the exp in the same program."""
    return _dnll_dbeta(jnp.exp(log_beta), z, y)


@jax.jit
def _bisect(z, y, lo, hi):
    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        up = _dnll_dbeta(jnp.exp(mid), z, y) > 0  # derivative > 0: the root is below mid
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 200, body, (lo, hi))
    return jnp.exp(0.5 * (lo + hi))


def fit_temperature(logits, labels, t_min: float = 1e-3, t_max: float = 1e3, *, method: str = "nll",
                    n_bins: int = 15, binning: str = "width") -> float:
    """The temperature T minimizing the NLL of softmax(logits / T) (Guo et al. 2017).

    ``method="ece"``: the T in [t_min, t_max] minimizing the ECE (`n_bins`,
    `binning`) instead, by the two-level grid search of the module docstring
    (the smallest minimizing grid value).

    Fit it on held-out data, not on the data it is evaluated on. Raises
    ValueError if the optimum lies outside [t_min, t_max] (for instance
    T -> 0 when the held-out set is classified perfectly: the NLL then
    decreases without bound in 1/T and no finite temperature is optimal).
    """
    _check_logits(logits, labels)
    t_min = validate.real("t_min", t_min, 0.0, lo_open=True)
    t_max = validate.real("t_max", t_max, t_min, lo_open=True, note="t_max > t_min")
    validate.choice("method", method, ("nll", "ece"))
    if method == "ece":
        return _fit_temperature_ece(np.asarray(logits, dtype=float), np.asarray(labels), t_min, t_max,
                                    n_bins, binning)
    # jax.device_put of NumPy arrays, not jnp.asarray: no eager program per shape
    z = jax.device_put(np.asarray(logits, dtype=jnp.result_type(float)))
    y = jax.device_put(np.asarray(labels))
    lo, hi = np.log(1.0 / t_max), np.log(1.0 / t_min)  # in log beta
    # <= and >=: for separated data the derivative underflows to exactly 0 at large beta
    if float(_dnll_at_log_beta(hi, z, y)) <= 0:
        raise ValueError(f"the NLL still decreases at T = t_min = {t_min:g}: the optimal temperature is "
                         "below the allowed range (held-out data separated with margin?)")
    if float(_dnll_at_log_beta(lo, z, y)) >= 0:
        raise ValueError(f"the NLL still decreases at T = t_max = {t_max:g}: the optimal temperature is "
                         "above the allowed range (predictions no better than chance?)")
    return 1.0 / float(_bisect(z, y, lo, hi))  # lo, hi: NumPy float64 scalars, as jnp.asarray made them


def _fit_temperature_ece(z, y, t_min, t_max, n_bins, binning):
    validate.integer("n_bins", n_bins, minimum=1, integral_floats=False)
    validate.choice("binning", binning, BINNINGS)

    def ece(log_t):
        p = np.asarray(jax.nn.softmax(jnp.asarray(z) / np.exp(log_t), axis=1))
        conf = p.max(axis=1)
        return _bins(conf, (p.argmax(axis=1) == y).astype(float), n_bins, binning)["ece"]

    grid = np.linspace(np.log(t_min), np.log(t_max), 801)
    vals = np.array([ece(g) for g in grid])
    i = int(np.argmin(vals))
    step = grid[1] - grid[0]
    fine = np.linspace(max(grid[0], grid[i] - step), min(grid[-1], grid[i] + step), 801)
    fvals = np.array([ece(g) for g in fine])
    return float(np.exp(fine[int(np.argmin(fvals))]))
