"""The built-in losses in JAX: cross-entropy, focal and MSE, each with label smoothing.

Per sample, logits x (K,), soft label y (K,) (y = (1 - alpha) e_k + alpha/K 1
in the UFM), p = softmax(x):

* cross-entropy (NC paper, eq. (9)):      l = -sum_j y_j log p_j
* focal, gamma >= 0 (Lin et al. 2017; with soft labels as in Mukhoti et al.
  2020 and Zhou et al. 2022):             l = -sum_j y_j (1 - p_j)^gamma log p_j
* MSE on the logits (Zhou et al. 2022; Han et al. 2022):
                                          l = 1/2 sum_j (x_j - y_j)^2

log p comes from `jax.nn.log_softmax` (stable at any logit scale) and
1 - p_j from -expm1(log p_j), which keeps its relative accuracy when p_j is
close to 1 (there 1 - exp(log p) would cancel). The SymPy forms are written
separately, in `ufm.nc.losses.sympy_forms`; the tests compare the two at
random points: values, gradients and Hessians.

All three are >= 0, the lower bound the certificate uses. Cross-entropy and
MSE are convex in the logits (log-sum-exp minus a linear term; a quadratic).
The focal loss is not for gamma > 0: `tests/nc/losses` exhibits a point and a
direction of negative curvature, so the convex certificate does not apply.

>>> import jax, jax.numpy as jnp
>>> jax.config.update("jax_enable_x64", True)
>>> x, y = jnp.array([0.0, jnp.log(3.0)]), jnp.array([0.9, 0.1])
>>> round(float(cross_entropy().value(x, y)), 12)     # -0.9 log(1/4) - 0.1 log(3/4)
1.276433132253
>>> round(float(focal(0.0).value(x, y)), 12)          # gamma = 0 is cross-entropy
1.276433132253
>>> round(float(mse().value(x, y)), 12)               # (0.81 + (log 3 - 0.1)^2)/2
0.903613251539
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ufm.core import validate
from ufm.nc.losses.loss import Loss

NAMES = ("ce", "focal", "mse")


def _ce(x, y):
    return -jnp.sum(y * jax.nn.log_softmax(x))


def _focal(x, y, theta):
    logp = jax.nn.log_softmax(x)
    one_minus_p = -jnp.expm1(logp)
    return -jnp.sum(y * one_minus_p ** theta[0] * logp)


def _mse(x, y):
    return 0.5 * jnp.sum((x - y) ** 2)


def _symbolic(name: str):
    def form(x, y, theta=()):
        from ufm.nc.losses import sympy_forms  # SymPy only when the symbolic side runs

        if name == "focal":
            return sympy_forms.focal_sym(x, y, theta[0])
        return getattr(sympy_forms, f"{'cross_entropy' if name == 'ce' else name}_sym")(x, y)

    form.__name__ = f"{name}_sympy"
    if name == "focal":
        return lambda x, y, theta: form(x, y, theta)
    return lambda x, y: form(x, y)


@functools.lru_cache(maxsize=None)
def cross_entropy() -> Loss:
    """Cross-entropy with soft labels: the NC paper's loss."""
    return Loss("ce", _ce, _symbolic("ce"), convex=True, lower_bound=0.0, builtin=True)


@functools.lru_cache(maxsize=None)
def _focal_loss(gamma: float) -> Loss:
    return Loss("focal", _focal, _symbolic("focal"), theta=(gamma,), convex=gamma == 0.0,
                lower_bound=0.0, builtin=True)


def focal(gamma: float) -> Loss:
    """The focal loss with parameter gamma >= 0 (gamma = 0 is cross-entropy)."""
    gamma = validate.real("gamma", gamma, 0.0, 100.0)
    return _focal_loss(gamma)


@functools.lru_cache(maxsize=None)
def mse() -> Loss:
    """Half the squared error between the logits and the (smoothed) one-hot target."""
    return Loss("mse", _mse, _symbolic("mse"), convex=True, lower_bound=0.0, probabilistic=False,
                builtin=True)


def builtin(name: str, gamma: float | None = None) -> Loss:
    """The built-in loss `name` in ("ce", "focal", "mse"); gamma only with "focal"."""
    name = validate.choice("loss", name, NAMES)
    if name == "focal":
        return focal(2.0 if gamma is None else gamma)
    if gamma is not None:
        raise validate.invalid("gamma", gamma, f"is given with loss={name!r}",
                               "gamma only with loss='focal'")
    return cross_entropy() if name == "ce" else mse()
