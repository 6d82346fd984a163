"""The TSLA test problems (`ufm.tsla.problems`): the derived moment recursion, exact oracle moments,
Lemma 1, the logistic-regression constants, input validation."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from ufm import LogRegProblem, QuadraticLSRProblem, estimate_constants, moment_recursion

Z = 4.5  # two-sided CLT tolerance: false alarm ~7e-6 per comparison


def test_moment_recursion_is_derived():
    r = moment_recursion()
    a, eta, th, b, sx, sz, rho = r["args"]
    m = sp.Symbol("m", real=True)
    # the mean update is the deterministic part of SGD: m' = (1 - eta a) m - eta theta b
    assert sp.simplify(r["m_next"] - ((1 - eta * a) * m - eta * th * b)) == 0


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
