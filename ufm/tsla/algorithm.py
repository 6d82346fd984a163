"""TSLA for real training loops: label smoothing for the first stage, one-hot afterwards.

TSLA paper, Algorithm 2: run any stochastic method A with smoothed labels
``y_LS = (1 - theta) y + theta yhat`` for T1 steps, then with one-hot labels
``y``. This module gives

* `smooth_labels` and `tsla_labels` (pure, jittable; the step and the switch
  step may be traced, so moving the switch never recompiles);
* `make_tsla_step`: wraps *any* optax ``GradientTransformation`` and a loss
  ``loss_fn(params, x, labels) -> scalar`` into ``init(params)`` and a jitted
  ``step(state, x, y_onehot, yhat=None) -> (state, loss)``; the switch step
  lives in the state (`TSLAState.switch_step`);
* a theory-driven switching rule (beyond the paper): `theory_switch_step` is
  Theorem 4's ``T1 = log(mu F0 (1+delta)/(delta sigma^2)) / (eta1 mu)`` (the
  SymPy-derived expression of `ufm.tsla.bounds`, for any eta1), and
  `OnlineConstants` estimates sigma^2, delta, mu, F0 and L from minibatches
  during the first steps (method in its docstring).

>>> import jax, jax.numpy as jnp, optax
>>> def loss(p, x, lab): return -jnp.mean(jnp.sum(lab * jax.nn.log_softmax(x @ p), axis=1))
>>> init, step = make_tsla_step(loss, optax.sgd(0.1), theta=0.2, switch_step=1)
>>> s = init(jnp.zeros((3, 2)))
>>> x, y = jnp.ones((4, 3)), jax.nn.one_hot(jnp.array([0, 1, 1, 0]), 2)
>>> s, l0 = step(s, x, y); s, l1 = step(s, x, y)
>>> int(s.step), round(float(l0), 4)
(2, 0.6931)
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ufm.core import validate


def _check_theta(theta):
    if isinstance(theta, (int, float, np.floating, np.integer)):  # a traced theta is not checked
        validate.real("theta", theta, 0.0, 1.0)


def smooth_labels(y_onehot, theta, yhat=None):
    """``(1 - theta) y + theta yhat``; yhat defaults to the uniform 1/K (Szegedy et al.)."""
    _check_theta(theta)
    y_onehot = jnp.asarray(y_onehot)
    yhat = jnp.full_like(y_onehot, 1.0 / y_onehot.shape[-1]) if yhat is None else jnp.asarray(yhat)
    return (1 - theta) * y_onehot + theta * yhat


def tsla_labels(y_onehot, step, switch_step, theta, yhat=None):
    """Algorithm 2's labels: smoothed while ``step < switch_step``, one-hot from then on."""
    return jnp.where(jnp.asarray(step) < jnp.asarray(switch_step),
                     smooth_labels(y_onehot, theta, yhat), jnp.asarray(y_onehot))


class TSLAState(NamedTuple):
    params: Any
    opt_state: Any
    step: jax.Array
    switch_step: jax.Array


def make_tsla_step(loss_fn: Callable, optimizer: optax.GradientTransformation, *, theta: float,
                   switch_step: int, yhat=None):
    """Wrap an optax optimizer into TSLA: returns ``(init, step)``.

    ``loss_fn(params, x, labels)`` takes soft labels (rows summing to 1).
    ``step(state, x, y_onehot, yhat=None)`` uses the batch's ``yhat`` when given (e.g. a
    teacher's predicted distribution: LSR-pre), else the one fixed here (uniform by
    default). ``switch_step = 0`` is the baseline, a huge value is LSR throughout.
    """
    _check_theta(theta)
    switch_step = validate.integer("switch_step", switch_step, 0, 2**31 - 1)  # an int32 in the state
    default_yhat = yhat

    def init(params) -> TSLAState:
        return TSLAState(params, optimizer.init(params), jnp.zeros((), jnp.int32),
                         jnp.asarray(switch_step, jnp.int32))

    @jax.jit
    def step(state: TSLAState, x, y_onehot, yhat=None):
        yh = default_yhat if yhat is None else yhat
        labels = tsla_labels(y_onehot, state.step, state.switch_step, theta, yh)
        loss, grads = jax.value_and_grad(loss_fn)(state.params, x, labels)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TSLAState(params, opt_state, state.step + 1, state.switch_step), loss

    return init, step


def theory_switch_step(mu: float, sigma2: float, delta: float, F0: float, eta1: float) -> int:
    """Theorem 4's T1 = log(mu F0 (1+delta)/(delta sigma^2)) / (eta1 mu), clipped at 0.

    The expression is the SymPy derivation's (`ufm.tsla.bounds`, the PL recursion solved for
    the step at which exp(-eta1 mu T1) F0 meets the noise floor), with eta1 free.
    """
    import ufm.tsla.bounds as LB

    LB._validate(mu=mu, sigma2=sigma2, delta=delta, F0=F0, eta=eta1)
    T1 = LB.evaluate("thm4_T1", mu=mu, sigma2=sigma2, delta=delta, F0=F0, L=1.0 / eta1)
    return max(0, math.ceil(T1 - 1e-9))


class OnlineConstants:
    """Minibatch estimates of sigma^2, delta, mu, F0 and L for `theory_switch_step`.

    Method. Per-example gradients ``g_i(y)`` and ``g_i(yhat)`` of one batch at the
    current params; ``grad F ~ mean_i g_i(y)``; ``sigma^2 ~ sum ||g_i(y) - mean||^2 /
    (B - 1)`` (unbiased for the one-hot variance); ``delta sigma^2 ~ mean ||g_i(yhat) -
    mean||^2`` (it includes the O(sigma^2/B) error of the mean); ``F0`` = the first batch
    loss; ``mu ~ min_t ||grad F_t||^2 / (2 F_t)``, the PL ratio with F* replaced by 0
    (cross-entropy has F* >= 0), minimised over the visited points; ``L ~ max_t
    ||grad_t - grad_{t-1}|| / ||w_t - w_{t-1}||`` (secant). sigma^2 and delta are
    maxima over the updates, as Assumption 1 asks for one constant. These are
    heuristics for a rule the paper does not give; they are not guarantees.
    """

    def __init__(self, loss_fn: Callable, yhat_default=None):
        self.loss_fn = loss_fn
        self.yhat_default = yhat_default
        self.sigma2 = 0.0
        self.delta_sigma2 = 0.0
        self.mu = math.inf
        self.L = 0.0
        self.F0 = None
        self.n_updates = 0
        self._prev = None

        def per_example(params, x, labels):
            def one(xi, li):
                return ravel_pytree(jax.grad(loss_fn)(params, xi[None], li[None]))[0]
            return jax.vmap(one)(x, labels)

        def stats(params, x, y, yhat):
            gy = per_example(params, x, y)
            gh = per_example(params, x, yhat)
            mean = gy.mean(0)
            B = x.shape[0]
            s2 = jnp.sum((gy - mean) ** 2) / (B - 1)
            ds2 = jnp.mean(jnp.sum((gh - mean) ** 2, axis=1))
            return s2, ds2, mean, loss_fn(params, x, y)

        self._stats = jax.jit(stats)

    def update(self, params, x, y_onehot, yhat=None) -> "OnlineConstants":
        y_onehot = jnp.asarray(y_onehot)
        if y_onehot.shape[0] < 2:
            raise validate.bad_array("y_onehot", f"shape {y_onehot.shape}, a batch of {y_onehot.shape[0]}",
                                     "batches of >= 2 examples (the variance needs two)")
        yh = yhat if yhat is not None else self.yhat_default
        yh = jnp.full_like(y_onehot, 1.0 / y_onehot.shape[-1]) if yh is None else jnp.broadcast_to(yh, y_onehot.shape)
        s2, ds2, g, F = (np.asarray(v) for v in self._stats(params, x, y_onehot, yh))
        self.sigma2 = max(self.sigma2, float(s2))
        self.delta_sigma2 = max(self.delta_sigma2, float(ds2))
        if self.F0 is None:
            self.F0 = float(F)
        if float(F) > 0:
            self.mu = min(self.mu, float(g @ g) / (2 * float(F)))
        w = np.asarray(ravel_pytree(params)[0])
        if self._prev is not None:
            dw = np.linalg.norm(w - self._prev[0])
            if dw > 0:
                self.L = max(self.L, float(np.linalg.norm(g - self._prev[1]) / dw))
        self._prev = (w, g)
        self.n_updates += 1
        return self

    @property
    def delta(self) -> float:
        return self.delta_sigma2 / self.sigma2 if self.sigma2 > 0 else math.inf

    def switch_step(self, eta1: float | None = None) -> int:
        """Theorem 4's T1 at the estimates (eta1 = 1/L_hat when not given)."""
        if self.n_updates == 0:
            raise ValueError("no estimates yet: call update(params, x, y_onehot) first")
        if eta1 is not None:
            eta1 = validate.real("eta1", eta1, 0.0, lo_open=True)
        elif self.L > 0:
            eta1 = 1.0 / self.L
        else:
            raise ValueError("eta1=None and no curvature estimate yet; pass eta1 or update twice")
        mu = min(self.mu, 1.0 / eta1)  # the proof needs eta1 mu <= 1
        return theory_switch_step(mu=mu, sigma2=self.sigma2, delta=self.delta, F0=self.F0, eta1=eta1)

    def as_dict(self) -> dict:
        return {"sigma2": self.sigma2, "delta": self.delta, "mu": self.mu, "L": self.L, "F0": self.F0,
                "n_updates": self.n_updates}
