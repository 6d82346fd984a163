"""Calibration (`ufm.nc.calibration`): ECE, reliability diagrams, temperature scaling.

The digits MLP: tests/nc/test_digits.py; the `calibration` check group: tests/verify/test_group_calibration.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st

from ufm import expected_calibration_error, fit_temperature, nll, reliability_diagram


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- ECE
def test_ece_hand_values():
    # two samples share bin (0.7, 0.8]: conf 0.75 and 0.8, one right one wrong:
    # |0.5 - 0.775| * 2/3; the third, conf 0.95 correct, in (0.9, 1]: |1 - 0.95| * 1/3
    probs = np.array([[0.75, 0.25], [0.2, 0.8], [0.95, 0.05]])
    y = np.array([0, 0, 0])
    expected = abs(0.5 - 0.775) * 2 / 3 + 0.05 / 3
    np.testing.assert_allclose(expected_calibration_error(probs, y, n_bins=10), expected, rtol=1e-14)
    # with one bin, ECE = |accuracy - mean confidence| = |2/3 - 2.5/3|
    np.testing.assert_allclose(expected_calibration_error(probs, y, n_bins=1), abs(2 / 3 - 2.5 / 3), rtol=1e-14)


def test_ece_zero_when_calibrated():
    # 4 samples at confidence 0.75, 3 of them correct
    probs = np.array([[0.75, 0.25]] * 4)
    y = np.array([0, 0, 0, 1])
    assert expected_calibration_error(probs, y, n_bins=15) == 0.0


def test_reliability_diagram_fields():
    rng = np.random.default_rng(0)
    p = softmax(rng.normal(size=(200, 4)) * 2)
    y = rng.integers(0, 4, size=200)
    r = reliability_diagram(p, y, n_bins=20)
    assert r["count"].sum() == 200 and len(r["edges"]) == 21
    # every confidence lies inside its bin
    nz = r["count"] > 0
    assert np.all(r["confidence"][nz] > r["edges"][:-1][nz]) and np.all(r["confidence"][nz] <= r["edges"][1:][nz])
    np.testing.assert_allclose(r["ece"], np.sum(r["count"] / 200 * np.abs(r["accuracy"] - r["confidence"])))


@given(seed=st.integers(0, 10**6), n_bins=st.sampled_from([1, 5, 15, 20]), scale=st.floats(0.01, 100.0))
def test_ece_properties(seed, n_bins, scale):
    rng = np.random.default_rng(seed)
    p = softmax(rng.normal(size=(64, 5)) * scale)
    y = rng.integers(0, 5, size=64)
    e = expected_calibration_error(p, y, n_bins)
    assert 0.0 <= e <= 1.0
    perm = rng.permutation(64)
    np.testing.assert_allclose(expected_calibration_error(p[perm], y[perm], n_bins), e, rtol=1e-12, atol=1e-15)
    # one bin gives |acc - mean conf|, a lower bound of every binning (triangle inequality)
    assert expected_calibration_error(p, y, 1) <= e + 1e-12


def test_ece_bad_inputs():
    p = np.array([[0.7, 0.3], [0.4, 0.6]])
    y = np.array([0, 1])
    with pytest.raises(ValueError, match="n_bins=0"):
        expected_calibration_error(p, y, 0)
    with pytest.raises(ValueError, match="summing to 1"):
        expected_calibration_error(p * 0.5, y)
    with pytest.raises(ValueError, match="non-finite"):
        expected_calibration_error(np.array([[np.nan, 0.5], [0.4, 0.6]]), y)
    with pytest.raises(ValueError, match="labels has values"):
        expected_calibration_error(p, np.array([0, 2]))
    with pytest.raises(ValueError, match="labels has shape"):
        expected_calibration_error(p, np.array([0]))
    with pytest.raises(ValueError, match="probs has shape"):
        expected_calibration_error(np.ones((2,)), y)


# ---------------------------------------------------------------- temperature scaling
def test_temperature_is_the_nll_minimizer():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 6)) * 3
    y = np.array([rng.choice(6, p=softmax(z[i : i + 1] / 2.0)[0]) for i in range(300)])
    T = fit_temperature(z, y)
    # independent: SciPy's bounded scalar minimizer of the NLL over log T
    res = scipy.optimize.minimize_scalar(lambda t: float(nll(z, y, np.exp(t))), bounds=(-5, 5),
                                         method="bounded", options={"xatol": 1e-10})
    np.testing.assert_allclose(T, np.exp(res.x), rtol=1e-6)  # SciPy's xatol 1e-10 on log T, flat minimum
    # first-order condition by autodiff (bisection in log beta runs to float64 resolution)
    g = jax.grad(lambda t: nll(jnp.asarray(z), jnp.asarray(y), t))(T)
    assert abs(float(g)) < 1e-10


def test_temperature_recovers_a_known_temperature():
    """Labels drawn from softmax(z0); logits given as 3 z0: the population optimum is T = 3.

    With N = 20000 the MLE of T has a standard error of order 1/sqrt(N I) ~ 1%; 10% is > 5 s.e.
    """
    rng = np.random.default_rng(2)
    z0 = rng.normal(size=(20000, 5)) * 2
    cum = softmax(z0).cumsum(axis=1)
    y = (rng.random((20000, 1)) > cum).sum(axis=1)
    np.testing.assert_allclose(fit_temperature(3 * z0, y), 3.0, rtol=0.1)


@given(seed=st.integers(0, 10**6), c=st.floats(0.05, 20.0))
def test_temperature_equivariance(seed, c):
    """fit_temperature(c z) = c fit_temperature(z): softmax(c z / (c T)) = softmax(z / T)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(40, 3)) * 2
    y = (rng.random((40, 1)) > softmax(z / 1.5).cumsum(axis=1)).sum(axis=1)  # informative labels
    np.testing.assert_allclose(fit_temperature(c * z, y, 1e-4, 1e4), c * fit_temperature(z, y, 1e-4, 1e4),
                               rtol=1e-8)


def test_temperature_bad_inputs():
    z = np.array([[5.0, 0.0], [0.0, 5.0]])
    with pytest.raises(ValueError, match="below the allowed range"):
        fit_temperature(z, np.array([0, 1]))  # perfectly separated: T -> 0
    with pytest.raises(ValueError, match="above the allowed range"):
        fit_temperature(z, np.array([1, 0]))  # always wrong: T -> infinity
    with pytest.raises(ValueError, match="non-finite"):
        fit_temperature(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="t_min"):
        fit_temperature(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 1]), t_min=2.0, t_max=1.0)


# ---------------------------------------------------------------- bins, edges, variants (issue #10)
from ufm.nc.calibration import (  # noqa: E402
    bin_indices, bootstrap_ci, classwise_calibration_error, maximum_calibration_error,
)


def test_bin_edges_by_hand():
    """Equal-width bins (e_b, e_{b+1}], the first closed at 0: exact edges go to the lower bin."""
    B = 10
    c = np.array([0.0, 1e-12, 0.1, 0.1 + 1e-12, 0.3, 0.7, 0.9999, 1.0])
    idx, edges = bin_indices(c, B)
    np.testing.assert_array_equal(edges, np.linspace(0, 1, 11))
    np.testing.assert_array_equal(idx, [0, 0, 0, 1, 2, 6, 9, 9])
    # every confidence satisfies the documented rule against the returned edges
    for ci, b in zip(c, idx):
        assert (edges[b] < ci <= edges[b + 1]) or (b == 0 and ci == 0.0)


def test_confidence_zero_and_one_bins():
    """A confidence of exactly 1 is in the last bin, of exactly 0 in the first (probabilities of class k)."""
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = np.array([0, 2])
    r = reliability_diagram(probs, y, n_bins=4)
    np.testing.assert_array_equal(r["count"], [0, 0, 0, 2])
    np.testing.assert_allclose(r["ece"], 0.5, rtol=1e-15)   # acc 1/2, confidence 1
    # classwise: p_0 = (1, 0) vs 1[y=0] = (1, 0): 0; p_1 = (0, 1) vs (0, 0): bin 3 gap 1 -> 1/2;
    # p_2 = (0, 0) vs (0, 1): both in the first bin, acc 1/2, conf 0 -> 1/2
    np.testing.assert_allclose(classwise_calibration_error(probs, y, n_bins=4), (0 + 0.5 + 0.5) / 3, rtol=1e-15)


def test_equal_mass_bins_by_hand():
    conf = np.array([0.9, 0.55, 0.6, 0.8, 0.7, 0.95])
    probs = np.stack([conf, 1 - conf], axis=1)
    y = np.array([0, 1, 0, 0, 1, 0])       # correct: 1, 0, 1, 1, 0, 1
    # sorted: 0.55(0) 0.6(1) | 0.7(0) 0.8(1) | 0.9(1) 0.95(1)
    r = reliability_diagram(probs, y, n_bins=3, binning="mass")
    np.testing.assert_array_equal(r["count"], [2, 2, 2])
    np.testing.assert_allclose(r["edges"], [0.0, 0.6, 0.8, 1.0])
    gaps = [abs(0.5 - 0.575), abs(0.5 - 0.75), abs(1.0 - 0.925)]
    np.testing.assert_allclose(r["ece"], np.mean(gaps), rtol=1e-14)
    np.testing.assert_allclose(r["mce"], max(gaps), rtol=1e-14)
    with pytest.raises(ValueError, match="n_bins=7 is out of range"):
        expected_calibration_error(probs, y, n_bins=7, binning="mass")
    with pytest.raises(ValueError, match="binning='equal'"):
        expected_calibration_error(probs, y, binning="equal")


def test_mce_and_logits_input():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(300, 4)) * 2
    y = rng.integers(0, 4, size=300)
    p = softmax(z)
    for f in (expected_calibration_error, maximum_calibration_error, classwise_calibration_error):
        np.testing.assert_allclose(f(z, y, 10, from_logits=True), f(p, y, 10), rtol=1e-12)
    # MCE by hand from the bins
    r = reliability_diagram(p, y, 10)
    nz = r["count"] > 0
    assert maximum_calibration_error(p, y, 10) == np.abs(r["accuracy"] - r["confidence"])[nz].max()
    assert maximum_calibration_error(p, y, 10) >= expected_calibration_error(p, y, 10)
    # classwise by hand for K = 4
    want = 0.0
    for k in range(4):
        idx = np.clip(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p[:, k], side="left"), 0, 9)
        for b in range(10):
            m = idx == b
            if m.any():
                want += m.sum() / 300 * abs(np.mean(y[m] == k) - p[m, k].mean())
    np.testing.assert_allclose(classwise_calibration_error(p, y, 10), want / 4, rtol=1e-12)


def test_bootstrap_ci():
    rng = np.random.default_rng(6)
    p = softmax(rng.normal(size=(400, 3)) * 3)
    y = rng.integers(0, 3, size=400)
    r = bootstrap_ci("ece", p, y, n_boot=200, n_bins=10)
    assert r["lo"] <= r["estimate"] <= r["hi"] and r["hi"] - r["lo"] > 0
    assert r == bootstrap_ci("ece", p, y, n_boot=200, n_bins=10)  # seeded: reproducible
    r2 = bootstrap_ci(lambda q, t: float(np.mean(q.argmax(1) == t)), p, y, n_boot=200, level=0.9)
    # accuracy: the bootstrap interval has about the binomial width 2 * 1.645 * sqrt(a(1-a)/N)
    a = r2["estimate"]
    np.testing.assert_allclose(r2["hi"] - r2["lo"], 2 * 1.645 * np.sqrt(a * (1 - a) / 400), rtol=0.3)
    with pytest.raises(ValueError, match="level=1 is out of range"):
        bootstrap_ci("mce", p, y, level=1.0)
    with pytest.raises(ValueError, match="metric='foo'"):
        bootstrap_ci("foo", p, y)


def test_temperature_by_ece():
    """Labels drawn from softmax(z0), logits 3 z0: the ECE-optimal T is near 3 and beats T = 1."""
    rng = np.random.default_rng(7)
    z0 = rng.normal(size=(4000, 5)) * 2
    y = (rng.random((4000, 1)) > softmax(z0).cumsum(axis=1)).sum(axis=1)
    T = fit_temperature(3 * z0, y, method="ece", n_bins=15)
    np.testing.assert_allclose(T, 3.0, rtol=0.15)
    assert expected_calibration_error(softmax(3 * z0 / T), y) <= expected_calibration_error(softmax(3 * z0), y)
    with pytest.raises(ValueError, match="method='mse'"):
        fit_temperature(3 * z0, y, method="mse")
