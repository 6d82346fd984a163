"""The Monte Carlo engine (`ufm.tsla.simulate`) against closed-form means; confidence bounds;
the batched logistic-regression fast path. The problems' constants: tests/tsla/test_problems.py."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ufm import (
    LogRegProblem,
    QuadraticLSRProblem,
    sgd_logreg_seeds,
    simulate_lsr as simulate,
    tsla_stages,
    upper_confidence,
)

Z = 4.5  # two-sided CLT tolerance: false alarm ~7e-6 per comparison


@settings(max_examples=6)
@given(L=st.floats(0.5, 3.0), ratio=st.floats(0.05, 1.0), sigma2=st.floats(0.05, 2.0),
       delta=st.floats(0.0, 2.0), beta=st.floats(0.0, 1.0), rho=st.floats(-1.0, 1.0),
       theta=st.floats(0.0, 1.0), steps=st.sampled_from([(5, 20), (30, 10)]))
def test_simulator_matches_closed_form_means(L, ratio, sigma2, delta, beta, rho, theta, steps):
    q = QuadraticLSRProblem(L=L, mu=ratio * L, sigma2=sigma2, delta=delta, F0=2.0, d=3, beta=beta, rho=rho)
    stages = tsla_stages(0.9 / L, theta, steps[0], 0.5 / L, steps[1])
    n = 4000
    r = simulate(q, stages, n, seed=7)
    ex = q.exact_values(stages)
    wsq = np.sum(r["w_final"] ** 2, axis=1)
    assert abs(wsq.mean() - ex["E_w_sq"]) <= Z * wsq.std(ddof=1) / math.sqrt(n)
    avg = r["avg_grad_sq"][:, 1]
    assert abs(avg.mean() - q.exact_average(stages)) <= Z * avg.std(ddof=1) / math.sqrt(n)
    F = r["F_final"]
    assert abs(F.mean() - ex["E_F_minus_Fstar"]) <= Z * F.std(ddof=1) / math.sqrt(n)


def test_upper_confidence_and_validation():
    x = np.random.default_rng(0).normal(1.0, 2.0, 10000)
    u = upper_confidence(x)
    assert u["ucb"] == pytest.approx(x.mean() + 2.3263478740 * x.std(ddof=1) / 100, rel=1e-9)
    with pytest.raises(ValueError, match="level"):
        upper_confidence(x, level=1.2)
    q = QuadraticLSRProblem(L=1.0, mu=0.5, sigma2=1.0, delta=0.1, F0=1.0)
    with pytest.raises(ValueError, match=r"theta=1.5.*0 <= theta <= 1"):
        simulate(q, [(0.1, 1.5, 10)], 4)
    with pytest.raises(ValueError, match=r"eta=-0.1.*eta > 0"):
        simulate(q, [(-0.1, 0.0, 10)], 4)
    with pytest.raises(ValueError, match=r"n_seeds=0"):
        simulate(q, [(0.1, 0.0, 10)], 0)


def test_batched_logreg_fast_path():
    lp = LogRegProblem.generate(d=4, K=3, N=40, lam=0.1, seed=0)
    W = sgd_logreg_seeds(lp, 0.2, 0.1, 0, 5, chunk=2)
    assert W.shape == (5, 3, 4) and np.all(W == 0)
    W = sgd_logreg_seeds(lp, 0.2, 0.1, 300, 400, seed=1, chunk=200)
    # seeds are independent copies: their spread is nonzero, and the mean iterate has descended
    assert np.std(W[:, 0, 0]) > 0
    arr = lp.arrays()
    F = np.asarray(jax.vmap(lambda w: LogRegProblem.value(arr, w))(jnp.asarray(W)))
    assert F.mean() < float(LogRegProblem.value(arr, jnp.zeros((3, 4))))
    with pytest.raises(ValueError, match=r"theta=2"):
        sgd_logreg_seeds(lp, 0.2, 2.0, 10, 3)
