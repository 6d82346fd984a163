"""The TSLA API (`ufm.tsla.algorithm`) in a plain optax loop; the theory-driven switch."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ufm import (
    LogRegProblem,
    OnlineConstants,
    QuadraticLSRProblem,
    make_tsla_step,
    smooth_labels,
    theory_switch_step,
    tsla_labels,
)


def ce(params, x, labels):
    W, b = params
    return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(x @ W.T + b), axis=1))


def test_labels():
    y = jax.nn.one_hot(jnp.array([0, 2]), 3)
    s = smooth_labels(y, 0.3)
    assert np.allclose(s, [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    assert np.allclose(s.sum(1), 1.0)
    yh = jnp.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    assert np.allclose(smooth_labels(y, 0.5, yh), [[0.75, 0.25, 0.0], [0.0, 0.25, 0.75]])
    assert np.allclose(tsla_labels(y, 4, 5, 0.3), s)
    assert np.allclose(tsla_labels(y, 5, 5, 0.3), y)
    with pytest.raises(ValueError, match=r"theta=1.2.*0 <= theta <= 1"):
        smooth_labels(y, 1.2)


@pytest.mark.parametrize("make_opt", [lambda: optax.sgd(0.3, momentum=0.9), lambda: optax.adam(0.05)])
def test_tsla_step_equals_a_handwritten_optax_loop(make_opt):
    lp = LogRegProblem.generate(d=5, K=3, N=64, lam=1e-2, seed=0)
    X, Y = jnp.asarray(lp.X), jax.nn.one_hot(jnp.asarray(lp.Y), 3)
    params = (jnp.zeros((3, 5)), jnp.zeros(3))
    theta, switch = 0.4, 7
    init, step = make_tsla_step(ce, make_opt(), theta=theta, switch_step=switch)
    state = init(params)
    opt = make_opt()
    p, o = params, opt.init(params)
    rng = np.random.default_rng(0)
    for t in range(15):
        idx = rng.integers(0, 64, 8)
        state, loss = step(state, X[idx], Y[idx])
        lab = (1 - theta) * Y[idx] + theta / 3 if t < switch else Y[idx]  # Algorithm 2 by hand
        lv, g = jax.value_and_grad(ce)(p, X[idx], lab)
        u, o = opt.update(g, o, p)
        p = optax.apply_updates(p, u)
        assert float(loss) == pytest.approx(float(lv), rel=1e-12)
    for a, b in zip(jax.tree_util.tree_leaves(state.params), jax.tree_util.tree_leaves(p)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert int(state.step) == 15


def test_switch_is_in_the_state_and_baseline_lsr_limits():
    X = jnp.ones((4, 2))
    Y = jax.nn.one_hot(jnp.array([0, 1, 1, 0]), 2)
    p0 = (jnp.zeros((2, 2)), jnp.zeros(2))
    init, step = make_tsla_step(ce, optax.sgd(0.1), theta=0.5, switch_step=0)  # baseline
    s, _ = step(init(p0), X, Y)
    init2, step2 = make_tsla_step(ce, optax.sgd(0.1), theta=0.5, switch_step=10**9)  # LSR
    s2, _ = step2(init2(p0), X, Y)
    s3, _ = step2(init2(p0)._replace(switch_step=jnp.asarray(0, jnp.int32)), X, Y)  # moved online
    np.testing.assert_allclose(s3.params[0], s.params[0], rtol=1e-15)
    assert s3.switch_step == 0
    with pytest.raises(ValueError, match=r"switch_step=-1"):
        make_tsla_step(ce, optax.sgd(0.1), theta=0.5, switch_step=-1)
    with pytest.raises(ValueError, match=r"theta=-0.5"):
        make_tsla_step(ce, optax.sgd(0.1), theta=-0.5, switch_step=1)


@pytest.mark.parametrize("eta1", [1.0, 0.5, 0.25])
def test_theory_switch_step_reaches_the_stage1_gap(eta1):
    """Independent of the SymPy expression: T1 must be at least the step at which the PL
    recursion of eq. (16), iterated in plain Python with Lemma 1's variance, first meets the
    relaxed floor 2 V/(2 mu), and the exact stage-1 gap of SGD with label smoothing on the
    quadratic (moment recursion) must be within eq. (18)'s 2 delta sigma^2/mu there."""
    mu, sigma2, delta, F0 = 0.2, 0.7, 0.01, 5.0
    T1 = theory_switch_step(eta1=eta1, mu=mu, sigma2=sigma2, delta=delta, F0=F0)
    theta = 1 / (1 + delta)
    V = (1 - theta) * sigma2 + theta * delta * sigma2  # Lemma 1's variance bound, as the theorem uses
    r, t = F0, 0
    while r > 2 * V / (2 * mu):  # the recursion r_{t+1} = (1 - eta mu) r_t + eta V/2 of eq. (16)
        r = (1 - eta1 * mu) * r + eta1 * V / 2
        t += 1
    assert t <= T1 <= t + math.ceil(math.log(2) / (eta1 * mu)) + 1  # closed form relaxes by <= log 2
    q = QuadraticLSRProblem(L=1.0, mu=mu, sigma2=sigma2, delta=delta, F0=F0, d=4, beta=0.0)
    gap = q.exact_values([(eta1, theta, T1)])["E_F_minus_Fstar"]
    assert gap <= 2 * delta * sigma2 / mu
    assert theory_switch_step(mu=0.2, sigma2=1.0, delta=10.0, F0=0.1, eta1=1.0) == 0  # clipped
    with pytest.raises(ValueError, match=r"delta=0.0"):
        theory_switch_step(mu=0.2, sigma2=1.0, delta=0.0, F0=5.0, eta1=1.0)


def test_online_constants_full_batch_matches_exact():
    lp = LogRegProblem.generate(d=4, K=3, N=50, lam=0.0 + 1e-2, seed=2)
    arr = lp.arrays()
    W = jnp.asarray(np.random.default_rng(1).normal(0, 1, (3, 4)))

    def loss(W, x, lab):  # the CE part; the regularizer is deterministic and adds no noise
        return -jnp.mean(jnp.sum(lab * jax.nn.log_softmax(x @ W.T), axis=1))

    oc = OnlineConstants(loss)
    oc.update(W, arr["X"], arr["Yoh"])
    N = lp.N
    assert oc.sigma2 * (N - 1) / N == pytest.approx(float(LogRegProblem.noise_at(arr, W, 0.0)), rel=1e-10)
    assert oc.delta_sigma2 == pytest.approx(float(LogRegProblem.noise_at(arr, W, 1.0)), rel=1e-10)
    oc.update(0.9 * W, arr["X"], arr["Yoh"])
    assert oc.L > 0 and oc.n_updates == 2
    assert oc.switch_step() >= 0
    with pytest.raises(ValueError, match="no estimates"):
        OnlineConstants(loss).switch_step(1.0)
