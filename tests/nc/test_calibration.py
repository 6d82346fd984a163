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
