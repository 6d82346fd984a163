"""The Monte Carlo engine against closed-form means, and the problems' constants."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from ufm.tsla.problems import LogRegProblem, QuadraticLSRProblem, estimate_constants, moment_recursion
from ufm.tsla.simulate import simulate, tsla_stages, upper_confidence

Z = 4.5  # two-sided CLT tolerance: false alarm ~7e-6 per comparison


def test_moment_recursion_is_derived():
    r = moment_recursion()
    a, eta, th, b, sx, sz, rho = r["args"]
    m = sp.Symbol("m", real=True)
    # the mean update is the deterministic part of SGD: m' = (1 - eta a) m - eta theta b
    assert sp.simplify(r["m_next"] - ((1 - eta * a) * m - eta * th * b)) == 0


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


def test_oracle_moments_exact():
    """Unbiased one-hot oracle with E||xi||^2 = sigma^2; smoothing oracle error delta sigma^2."""
    q = QuadraticLSRProblem(L=1.0, mu=0.5, sigma2=0.7, delta=0.3, F0=1.0, d=4, beta=0.4, rho=0.2)
    arr = q.arrays()
    w = jnp.asarray(q.w0)
    keys = jax.random.split(jax.random.PRNGKey(0), 20000)
    for th, target in ((0.0, q.sigma2), (1.0, q.delta * q.sigma2), (0.5, q.lemma1_exact(0.5))):
        g = jax.vmap(lambda k: QuadraticLSRProblem.oracle(arr, w, k, th))(keys)
        e = np.asarray(jnp.sum((g - arr["a"] * w) ** 2, axis=1))
        assert abs(e.mean() - target) <= Z * e.std(ddof=1) / math.sqrt(e.size) + 1e-12
    g0 = np.asarray(jax.vmap(lambda k: QuadraticLSRProblem.oracle(arr, w, k, 0.0))(keys))
    assert np.all(np.abs(g0.mean(0) - np.asarray(arr["a"] * w)) <= Z * g0.std(0) / math.sqrt(g0.shape[0]))
    assert q.lemma1_exact(0.5) <= 0.5 * q.sigma2 + 0.5 * q.delta * q.sigma2


def test_lemma1_tight_for_identical_noises():
    # rho = 1, beta = 0, delta = 1: both oracles equal, so Lemma 1's convexity step is an equality
    q = QuadraticLSRProblem(L=1.0, mu=0.5, sigma2=0.7, delta=1.0, F0=1.0, d=2, beta=0.0, rho=1.0)
    for th in (0.2, 0.6):
        assert q.lemma1_exact(th) == pytest.approx(0.7, rel=1e-14)


def test_logreg_constants_and_unbiased_oracle():
    lp = LogRegProblem.generate(d=4, K=3, N=60, lam=0.05, seed=1)
    arr = lp.arrays()
    W = jnp.asarray(np.random.default_rng(0).normal(0, 1, (3, 4)))
    # mean of the per-sample gradients is the full gradient (uniform sampling is unbiased)
    G = LogRegProblem.sample_grads(arr, W, 0.0)
    assert np.allclose(G.mean(0), LogRegProblem.full_grad(arr, W), atol=1e-13)
    assert np.allclose(jax.grad(lambda W: LogRegProblem.value(arr, W))(W), LogRegProblem.full_grad(arr, W),
                       atol=1e-13)
    # the analytic L and mu bracket the Hessian spectrum (autodiff Hessian) at random points
    for s in range(3):
        W = jnp.asarray(np.random.default_rng(s).normal(0, 2, (3, 4)))
        H = jax.hessian(lambda v: LogRegProblem.value(arr, v.reshape(3, 4)))(W.ravel())
        ev = np.linalg.eigvalsh(np.asarray(H))
        assert ev[-1] <= lp.L_bound * (1 + 1e-12) and ev[0] >= lp.mu_bound * (1 - 1e-12)
    c = estimate_constants(lp, lp.uniform_yhat(), jnp.stack([W, 2 * W]))
    assert c["sigma2"] > 0 and c["delta"] > 0 and c["n_iterates"] == 2


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


@pytest.mark.parametrize("kw, name", [
    (dict(L=-1.0), "L"), (dict(mu=2.0), "mu"), (dict(mu=0.0), "mu"), (dict(sigma2=-1.0), "sigma2"),
    (dict(delta=-0.5), "delta"), (dict(beta=1.5), "beta"), (dict(rho=2.0), "rho"), (dict(F0=-1.0), "F0"),
])
def test_quadratic_bad_parameters(kw, name):
    base = dict(L=1.0, mu=0.5, sigma2=1.0, delta=0.1, F0=1.0)
    with pytest.raises(ValueError, match=rf"{name}=.*allowed"):
        QuadraticLSRProblem(**{**base, **kw})


def test_logreg_bad_parameters():
    with pytest.raises(ValueError, match=r"lam=0.*lam > 0"):
        LogRegProblem.generate(lam=0.0)
    with pytest.raises(ValueError, match=r"K=1"):
        LogRegProblem.generate(K=1)


def test_batched_logreg_fast_path():
    from ufm.tsla.simulate import sgd_logreg_seeds

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
