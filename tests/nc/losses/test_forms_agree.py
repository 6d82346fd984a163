"""The built-in losses' JAX and SymPy forms, written separately, agree at random points:
values, gradients and Hessians (JAX autodiff against SymPy's `diff`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import ufm


def _sympy_value_grad_hess(loss, x, y):
    K = len(x)
    xs = sp.symbols(f"x_1:{K + 1}", real=True)
    e = loss.sympy(list(xs), [sp.Float(float(v), 30) for v in y])
    sub = dict(zip(xs, [sp.Float(float(v), 30) for v in x]))
    val = float(e.subs(sub).evalf(30))
    grad = np.array([float(sp.diff(e, s).subs(sub).evalf(30)) for s in xs])
    hess = np.array(sp.hessian(e, xs).subs(sub).evalf(30).tolist(), dtype=float)
    return val, grad, hess


LOSSES = {"ce": ufm.cross_entropy_loss(), "focal1": ufm.focal_loss(1.0), "focal2.5": ufm.focal_loss(2.5),
          "mse": ufm.mse_loss()}


@pytest.mark.parametrize("name", list(LOSSES))
@settings(max_examples=8)  # 30-digit SymPy Hessians cost ~0.5 s each; 4 losses x 8 random points
@given(K=st.sampled_from([2, 3, 5]), seed=st.integers(0, 2**31 - 1), alpha=st.floats(0.0, 0.99),
       scale=st.floats(0.1, 6.0))
def test_jax_and_sympy_forms_agree(name, K, seed, alpha, scale):
    loss = LOSSES[name]
    rng = np.random.default_rng(seed)
    x = scale * rng.normal(size=K)
    k = int(rng.integers(K))
    y = np.full(K, alpha / K)
    y[k] += 1 - alpha
    val, grad, hess = _sympy_value_grad_hess(loss, x, y)
    f = lambda z: loss.value(z, jnp.asarray(y))  # noqa: E731
    assert float(f(jnp.asarray(x))) == pytest.approx(val, rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(jnp.asarray(x))), grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.hessian(f)(jnp.asarray(x))), hess, rtol=1e-9, atol=1e-11)


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
