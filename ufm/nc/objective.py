"""The UFM objective in JAX (NC paper, "Cross Entropy versus Label Smoothing: A Neural Collapse
Perspective", eq. (9)-(10)).

    F(W, H, b) = (1/N) sum_{k,i} CE(W h_{k,i} + b, y_k^(alpha))
                 + lam_W/2 ||W||_F^2 + lam_H/2 ||H||_F^2 + lam_b/2 ||b||^2

with y_k^(alpha) = (1 - alpha) e_k + alpha/K 1. The columns of H are ordered
class-major: column k*n + i is h_{k,i}. Cross-entropy is computed through
`jax.nn.log_softmax`, which is stable for any logit scale.

Functions take the hyper-parameters as explicit arguments (not a problem
object) so they can be traced and jitted once per shape.

>>> import jax
>>> import jax.numpy as jnp
>>> params = UFMParams(jnp.zeros((3, 2)), jnp.zeros((2, 6)), jnp.zeros(3))
>>> round(float(objective(params, 0.1, 1e-3, 1e-3, 0.0)), 12)  # all logits 0: log 3
1.098612288668
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ufm.nc.problem import UFMProblem


class UFMParams(NamedTuple):
    """The UFM variables: W (K x d), H (d x N, class-major), b (K,)."""

    W: jax.Array
    H: jax.Array
    b: jax.Array


def labels(K: int, n: int) -> jax.Array:
    """Class index of each column of H (class-major ordering)."""
    return jnp.repeat(jnp.arange(K), n)


def soft_labels(K: int, n: int, alpha) -> jax.Array:
    """Targets y^(alpha) as a (K, N) matrix, one column per sample."""
    onehot = jax.nn.one_hot(labels(K, n), K, dtype=jnp.result_type(float)).T
    return (1.0 - alpha) * onehot + alpha / K


def logits(params: UFMParams) -> jax.Array:
    """Z = W H + b 1^T, a (K, N) matrix."""
    return params.W @ params.H + params.b[:, None]


def loss_term(params: UFMParams, alpha) -> jax.Array:
    """(1/N) sum_{k,i} CE(W h_{k,i} + b, y_k^(alpha)), the data term alone."""
    K, N = params.W.shape[0], params.H.shape[1]
    Y = soft_labels(K, N // K, alpha)
    logp = jax.nn.log_softmax(logits(params), axis=0)
    return -jnp.sum(Y * logp) / N


def regularizer(params: UFMParams, lam_W, lam_H, lam_b) -> jax.Array:
    """lam_W/2 ||W||^2 + lam_H/2 ||H||^2 + lam_b/2 ||b||^2."""
    return 0.5 * (
        lam_W * jnp.sum(params.W**2)
        + lam_H * jnp.sum(params.H**2)
        + lam_b * jnp.sum(params.b**2)
    )


def objective(params: UFMParams, alpha, lam_W, lam_H, lam_b) -> jax.Array:
    """The full regularized UFM objective F(W, H, b) of eq. (9)-(10)."""
    return loss_term(params, alpha) + regularizer(params, lam_W, lam_H, lam_b)


def problem_objective(problem: UFMProblem):
    """`params -> F(params)` with the problem's hyper-parameters bound (any variant)."""
    data, spec = objective_data(problem), objective_spec(problem)
    return lambda params: general_objective(params, data, spec)


# ------------------------------------------------------------------ variants
# The same objective for any loss, class sizes and bias mode (Zhou et al. 2022;
# Fang et al. 2021). The arrays (soft labels, weight decays, loss parameters)
# are traced; the loss and the bias mode are static.


class ObjectiveData(NamedTuple):
    """The traced data of an objective: soft labels Y (K, N), weight decays, loss parameters."""

    Y: jax.Array
    lams: jax.Array  # (lam_W, lam_H, lam_b); lam_b = 0 when there is no bias
    theta: jax.Array


class ObjectiveSpec(NamedTuple):
    """The static part: the loss (a `ufm.Loss`) and whether the model has a bias."""

    loss: object
    bias: bool


def class_labels(problem: UFMProblem) -> np.ndarray:
    """Class of each column of H, class-major: n_1 zeros, then n_2 ones, ..."""
    return np.repeat(np.arange(problem.K), problem.sizes)


def problem_soft_labels(problem: UFMProblem) -> jax.Array:
    """Y^(alpha) (K, N) for the problem's class sizes (built on the host, then moved: no
    device program per problem)."""
    K = problem.K
    Y = np.full((K, problem.N), problem.alpha / K)
    Y[class_labels(problem), np.arange(problem.N)] += 1.0 - problem.alpha
    return jax.device_put(Y.astype(jnp.result_type(float)))


def problem_loss(problem: UFMProblem):
    """The problem's `ufm.Loss` (a built-in resolved by name, or the user's)."""
    from ufm.nc.losses.jax_forms import builtin

    if isinstance(problem.loss, str):
        return builtin(problem.loss, problem.gamma)
    return problem.loss


def objective_data(problem: UFMProblem) -> ObjectiveData:
    dtype = jnp.result_type(float)
    lam_b = problem.lam_b if problem.bias else 0.0
    loss = problem_loss(problem)
    return ObjectiveData(problem_soft_labels(problem),
                         jax.device_put(np.asarray([problem.lam_W, problem.lam_H, lam_b], dtype=dtype)),
                         jax.device_put(np.asarray(loss.theta, dtype=dtype)))


def objective_spec(problem: UFMProblem) -> ObjectiveSpec:
    return ObjectiveSpec(problem_loss(problem), problem.bias)


def general_logits(params: UFMParams, bias: bool) -> jax.Array:
    return params.W @ params.H + params.b[:, None] if bias else params.W @ params.H


def general_loss_term(params: UFMParams, data: ObjectiveData, spec: ObjectiveSpec) -> jax.Array:
    """(1/N) sum_i loss(z_i, y_i): the data term of any variant."""
    Z = general_logits(params, spec.bias)
    return jnp.mean(spec.loss.values(Z, data.Y, data.theta))


def general_objective(params: UFMParams, data: ObjectiveData, spec: ObjectiveSpec) -> jax.Array:
    """The regularized objective of any variant (no bias: b is not in the model)."""
    lam_W, lam_H, lam_b = data.lams[0], data.lams[1], data.lams[2]
    reg = 0.5 * (lam_W * jnp.sum(params.W**2) + lam_H * jnp.sum(params.H**2))
    if spec.bias:
        reg = reg + 0.5 * lam_b * jnp.sum(params.b**2)
    return general_loss_term(params, data, spec) + reg


def _normal_draw(key, shape_W, shape_H, K, bias, scale):
    kW, kH, kb = jax.random.split(key, 3)
    dtype = jnp.result_type(float)
    b = scale * jax.random.normal(kb, (K,), dtype)
    return UFMParams(
        scale * jax.random.normal(kW, shape_W, dtype),
        scale * jax.random.normal(kH, shape_H, dtype),
        b if bias else jnp.zeros_like(b),  # no bias: b stays 0 (not in the model)
    )


@functools.partial(jax.jit, static_argnames=("shape_W", "shape_H", "K", "bias"))
def _unit_draw(key, *, shape_W, shape_H, K, bias):
    return _normal_draw(key, shape_W, shape_H, K, bias, 1.0)


def init_params(key: jax.Array, problem: UFMProblem, scale: float = 0.1) -> UFMParams:
    """A random normal start: every entry of W, H, b i.i.d. N(0, scale^2)."""
    shapes = dict(shape_W=(problem.K, problem.d), shape_H=(problem.d, problem.N), K=problem.K,
                  bias=problem.bias)
    if isinstance(key, jax.core.Tracer):  # inside jit / vmap: the traceable draw
        return _normal_draw(key, scale=scale, **shapes)
    # Concrete key: the unit draw as one compiled program per shape (eagerly it is ~10), scaled
    # on the host. Bit for bit the eager draw: inside a compiled program XLA would fold the
    # scale into the normal's own constant factor and round differently.
    return UFMParams(*(jnp.asarray(scale * np.asarray(x)) for x in _unit_draw(key, **shapes)))
