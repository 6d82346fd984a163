"""UFM dynamics (`ufm.nc.dynamics`): GD/SGD steps against hand-written updates, vmap consistency,
convergence to Theorem 4.1, input validation. The `dynamics` check group: tests/verify/test_group_dynamics.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ufm import UFMProblem, closed_form, init_params, nc1, nc2, nc3, objective, steps_to_reach, sweep

SMALL = dict(K=3, d=4, n=2, lam_W=1e-2, lam_H=1e-2, lam_b=1e-2)


def test_first_record_and_one_gd_step():
    """Record 0 = the metrics of the start; one step = params - lr grad F (autodiff of the objective)."""
    tr = sweep(alphas=[0.0, 0.3], seeds=[7], lr=0.5, steps=1, record_every=1, **SMALL)
    p = UFMProblem(**SMALL)
    x0 = init_params(jax.random.PRNGKey(7), p, 0.1)
    W, H, b = x0
    np.testing.assert_allclose(tr.nc1[1, 0, 0], nc1(H, 3), rtol=1e-12)
    np.testing.assert_allclose(tr.nc2[1, 0, 0], nc2(W, H, 3), rtol=1e-12)
    np.testing.assert_allclose(tr.nc3[1, 0, 0], nc3(W, H, 3), rtol=1e-12)
    np.testing.assert_allclose(tr.loss[1, 0, 0], objective(x0, 0.3, 1e-2, 1e-2, 1e-2), rtol=1e-14)
    g = jax.grad(objective)(x0, 0.3, 1e-2, 1e-2, 1e-2)
    np.testing.assert_allclose(tr.final.W[1, 0], W - 0.5 * g.W, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(tr.final.H[1, 0], H - 0.5 * g.H, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(tr.grad_norm[1, 0, 0],
                               np.sqrt(sum(float(jnp.sum(x**2)) for x in g)), rtol=1e-12)
    np.testing.assert_allclose(tr.w_norm[1, 0, 0], np.linalg.norm(W, axis=1).mean(), rtol=1e-13)
    np.testing.assert_allclose(tr.h_norm[1, 0, 0], np.linalg.norm(H, axis=0).mean(), rtol=1e-13)


def test_vmap_matches_individual_runs():
    kw = dict(lr=0.5, steps=40, record_every=20, **SMALL)
    both = sweep(alphas=[0.0, 0.2], seeds=[1, 2], **kw)
    one = sweep(alphas=[0.2], seeds=[2], **kw)
    np.testing.assert_allclose(both.nc2[1, 1], one.nc2[0, 0], rtol=1e-12)
    np.testing.assert_allclose(both.final.H[1, 1], one.final.H[0, 0], rtol=1e-12)


def test_sgd_full_batch_equals_gd():
    """batch_size = N: every class is taken whole (in permuted order); same gradient up to rounding."""
    kw = dict(alphas=[0.1], seeds=[3], lr=0.5, steps=30, record_every=10, **SMALL)
    gd = sweep(**kw)
    sgd = sweep(batch_size=6, **kw)
    np.testing.assert_allclose(sgd.loss, gd.loss, rtol=1e-12)
    np.testing.assert_allclose(sgd.final.W, gd.final.W, rtol=1e-10, atol=1e-14)


def test_sgd_minibatch_decreases_loss_and_differs_from_gd():
    kw = dict(alphas=[0.0], seeds=[0], lr=0.5, steps=600, record_every=100, **SMALL)
    sgd = sweep(batch_size=3, **kw)
    gd = sweep(**kw)
    assert float(sgd.loss[0, 0, -1]) < 0.5 * float(sgd.loss[0, 0, 0])
    assert not np.allclose(sgd.final.W, gd.final.W)


def test_gd_converges_to_theorem_41_norms():
    """Long GD on a small well-conditioned UFM reaches the SymPy closed form.

    lam = 1e-2 gives a contraction of at least (1 - lr lam) per step along the norms;
    4000 steps at lr = 1 leave e^-40 of the start, so the gradient-norm floor dominates; the
    tolerance 1e-6 is far above it and far below the 1e-2 of the paper's criterion.
    """
    alphas = [0.0, 0.2]
    tr = sweep(alphas=alphas, seeds=[0], lr=1.0, steps=4000, record_every=1000, **SMALL)
    for i, a in enumerate(alphas):
        cf = closed_form(UFMProblem(alpha=a, **SMALL))
        np.testing.assert_allclose(tr.w_norm[i, 0, -1], np.sqrt(cf["w_norm_sq"]), rtol=1e-6)
        np.testing.assert_allclose(tr.h_norm[i, 0, -1], np.sqrt(cf["h_norm_sq"]), rtol=1e-6)
        assert float(tr.nc1[i, 0, -1]) < 1e-10 and float(tr.train_error[i, 0, -1]) == 0.0


def test_sweep_bad_inputs():
    kw = dict(alphas=[0.0], seeds=[0], lr=0.5, steps=10, record_every=5, **SMALL)
    with pytest.raises(ValueError, match="not a multiple"):
        sweep(**{**kw, "record_every": 3})
    with pytest.raises(ValueError, match="lr=0"):
        sweep(**{**kw, "lr": 0})
    with pytest.raises(ValueError, match="batch_size=4"):
        sweep(batch_size=4, **kw)
    with pytest.raises(ValueError, match="alpha=1"):
        sweep(**{**kw, "alphas": [1.0]})
    with pytest.raises(ValueError, match="seeds"):
        sweep(**{**kw, "seeds": [-1]})


def test_steps_to_reach():
    steps = np.array([0, 100, 200, 300])
    v = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 0.9, 0.8, 0.7]])
    np.testing.assert_array_equal(steps_to_reach(v, steps, 0.1), [200, np.inf])
