"""Variants of the UFM (other losses, unbalanced classes, no bias): spec, solve, certificate."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import ufm
from ufm import UFMProblem

BASE = dict(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(class_sizes=(3, 3)), "class_sizes=(3, 3) has 2 entries for K=4"),
    (dict(class_sizes=(3, 3, 0, 1)), "class_sizes[2]=0 is out of range"),
    (dict(loss="focal", gamma=-1), "gamma=-1 is out of range"),
    (dict(gamma=1.0), "gamma=1 is given with loss='ce'"),
    (dict(loss="hinge"), "loss='hinge' is not one of the choices"),
    (dict(loss=3), "loss=3 is not a loss"),
    (dict(bias="no"), "bias='no' is not True or False"),
])
def test_bad_variant_is_named(kwargs, message):
    with pytest.raises(ValueError) as e:
        UFMProblem(**{**BASE, **kwargs})
    assert message in str(e.value)


def test_spec_fields():
    q = UFMProblem(**{**BASE, "n": None, "class_sizes": (5, 3, 2, 1)})
    assert (q.N, q.balanced, q.n, q.standard) == (11, False, None, False)
    with pytest.raises(ValueError, match="unbalanced"):
        q.c
    r = UFMProblem(**{**BASE, "lam_b": math.inf})  # lambda_b = infinity is the model without a bias
    assert (r.bias, r.num_params) == (False, 4 * 5 + 5 * 12)
    assert UFMProblem(**{**BASE, "loss": "focal"}).gamma == 2.0
    assert UFMProblem(**BASE).standard


def test_no_bias_differs_from_free_bias_for_mse():
    # MSE is not shift invariant: a free bias takes the mean target 1/K, no bias cannot
    free = ufm.solve(UFMProblem(**{**BASE, "loss": "mse", "lam_b": 0.0}))
    none = ufm.solve(UFMProblem(**{**BASE, "loss": "mse", "bias": False}))
    assert np.allclose(np.asarray(free.params.b), 1 / 4, atol=1e-7)
    assert float(jnp.max(jnp.abs(none.params.b))) == 0.0
    assert none.objective > free.objective + 1e-3


@pytest.mark.parametrize("kwargs", [
    dict(loss="mse"), dict(loss="mse", bias=False), dict(bias=False),
    dict(n=None, class_sizes=(6, 3, 3, 1)), dict(loss="mse", n=None, class_sizes=(6, 3, 3, 1)),
])
def test_variant_solve_is_certified(kwargs):
    p = UFMProblem(**{**BASE, **kwargs})
    sol = ufm.solve(p)
    assert sol.converged
    cert = ufm.certify(p, sol.params)
    assert cert.dual_feasible
    assert 0 <= cert.gap <= cert.bound(1e-10 * sol.grad_norm0)


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_certificate_rejects_a_saddle(loss):
    # W = H = 0 (bias at its optimum) is stationary but not a minimizer below the threshold
    p = UFMProblem(**{**BASE, "loss": loss})
    sol = ufm.solve(p)
    W, H, b = sol.params
    saddle = (np.zeros_like(W), np.zeros_like(H), np.asarray(b))
    cert = ufm.certify(p, saddle)
    assert cert.ratio > 1.5          # ||G||_2 / tau well above 1
    assert cert.gap > 100 * cert.bound(1e-10)


def test_focal_is_not_certified_with_reason():
    p = UFMProblem(**{**BASE, "loss": "focal", "gamma": 1.0})
    assert "not convex" in ufm.certifiable(p)
    with pytest.raises(ValueError, match="cannot be certified"):
        ufm.certify(p, ufm.solve(p).params)


def test_user_loss_matches_builtin():
    import jax

    mine = ufm.Loss("my_ce", lambda x, y: -jnp.sum(y * jax.nn.log_softmax(x)), convex=True, lower_bound=0.0)
    a = ufm.solve(UFMProblem(**{**BASE, "loss": mine}))
    b = ufm.solve(UFMProblem(**BASE))
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    cert = ufm.certify(UFMProblem(**{**BASE, "loss": mine}), a.params)
    assert cert.gap <= cert.bound(1e-10 * a.grad_norm0)
