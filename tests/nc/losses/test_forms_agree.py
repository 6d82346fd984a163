"""The built-in losses' JAX and SymPy forms, written separately, agree at random points:
values, gradients and Hessians (JAX autodiff against SymPy's `diff`)."""

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import ufm


@functools.lru_cache(maxsize=None)
def _derivatives(name, K):
    """SymPy's value, gradient and Hessian of the loss's SymPy form in x, for symbolic x and
    y, as one mpmath function: differentiated once per (loss, K), evaluated at each point."""
    xs = sp.symbols(f"x_1:{K + 1}", real=True)
    ys = sp.symbols(f"y_1:{K + 1}", real=True)
    e = LOSSES[name].sympy(list(xs), list(ys))
    grad = [sp.diff(e, s) for s in xs]
    hess = [[sp.diff(g, s) for s in xs] for g in grad]
    return sp.lambdify([xs, ys], [e, grad, hess], modules="mpmath", docstring_limit=0)


def _sympy_value_grad_hess(name, x, y):
    with mpmath.workdps(30):  # 30 digits, as the float64 comparison needs far fewer
        val, grad, hess = _derivatives(name, len(x))([mpmath.mpf(float(v)) for v in x],
                                                     [mpmath.mpf(float(v)) for v in y])
        return (float(val), np.array([float(v) for v in grad]),
                np.array([[float(v) for v in row] for row in hess]))


LOSSES = {"ce": ufm.cross_entropy_loss(), "focal1": ufm.focal_loss(1.0), "focal2.5": ufm.focal_loss(2.5),
          "mse": ufm.mse_loss()}


@pytest.mark.parametrize("name", list(LOSSES))
@settings(max_examples=8)  # 4 losses x 8 random points; SymPy differentiates once per (loss, K)
@given(K=st.sampled_from([2, 3, 5]), seed=st.integers(0, 2**31 - 1), alpha=st.floats(0.0, 0.99),
       scale=st.floats(0.1, 6.0))
def test_jax_and_sympy_forms_agree(name, K, seed, alpha, scale):
    rng = np.random.default_rng(seed)
    x = scale * rng.normal(size=K)
    k = int(rng.integers(K))
    y = np.full(K, alpha / K)
    y[k] += 1 - alpha
    val, grad, hess = _sympy_value_grad_hess(name, x, y)
    jval, jgrad, jhess = _jax_value_grad_hess(name)(jnp.asarray(x), jnp.asarray(y))
    assert float(jval) == pytest.approx(val, rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(np.asarray(jgrad), grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jhess), hess, rtol=1e-9, atol=1e-11)


@functools.lru_cache(maxsize=None)
def _jax_value_grad_hess(name):
    """JAX's value, autodiff gradient and Hessian in x of the loss's JAX form, compiled once per
    (loss, K) rather than run op by op at every point."""
    f = LOSSES[name].value
    return jax.jit(lambda x, y: (f(x, y), jax.grad(f)(x, y), jax.hessian(f)(x, y)))


def test_focal_is_not_convex_and_ce_is():
    # a point and a direction of negative curvature for focal(2); CE's Hessian is PSD there
    x, y = jnp.array([-1.84, -4.82, 2.19]), jnp.array([0.9, 0.05, 0.05])
    hf = jax.hessian(lambda z: ufm.focal_loss(2.0).value(z, y))(x)
    hc = jax.hessian(lambda z: ufm.cross_entropy_loss().value(z, y))(x)
    assert np.linalg.eigvalsh(np.asarray(hf))[0] < -0.05
    assert np.linalg.eigvalsh(np.asarray(hc))[0] > -1e-12
    assert not ufm.focal_loss(2.0).convex and ufm.focal_loss(0.0).convex


def test_user_loss_arity_is_checked():
    with pytest.raises(ValueError, match="takes 1 required positional arguments"):
        ufm.Loss("bad", lambda x: x)
    with pytest.raises(ValueError, match="has no SymPy form"):
        ufm.Loss("nosym", lambda x, y: jnp.sum(x)).sympy([0], [1])


def test_shift_invariance_tells_softmax_losses_from_mse():
    assert ufm.cross_entropy_loss().shift_invariant(4) and ufm.focal_loss(2.0).shift_invariant(3)
    assert not ufm.mse_loss().shift_invariant(4)
