"""A loss of the UFM: its JAX form, its optional SymPy form, and what it promises.

The NC paper's objective (eq. (9)-(10)) uses cross-entropy with label
smoothing. Zhou et al. (2022), "Are All Losses Created Equal: A Neural
Collapse Perspective" (NeurIPS), show that the focal loss and the MSE loss
also collapse to a simplex ETF in the UFM. A `Loss` carries one such data
term, per sample: ``loss(x, y, theta) -> scalar`` for logits ``x`` (K,), a
soft label ``y`` (K,) and the loss's own parameters ``theta`` (a float64
vector, traced, so a new focal gamma does not recompile).

A user loss is written as a JAX function of (logits, soft label); its SymPy
form is optional and, when given, lets the symbolic reduction
(`ufm.nc.losses.reduction`) run on it.

>>> import jax.numpy as jnp
>>> ce = Loss("mine", lambda x, y: -jnp.sum(y * jax.nn.log_softmax(x)))
>>> round(float(ce.value(jnp.zeros(3), jnp.ones(3) / 3)), 12)   # log 3
1.098612288668
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Callable

import jax
import jax.numpy as jnp

from ufm.core import validate


@dataclasses.dataclass(frozen=True, eq=False)
class Loss:
    """A per-sample loss of the UFM, hashable by identity (a static jit argument).

    Arguments:
        name: a short name ("ce", "focal", "mse" for the built-ins).
        fn: ``fn(x, y)`` or ``fn(x, y, theta)``: the per-sample loss in JAX.
        symbolic: optional ``symbolic(x, y)`` (or ``(x, y, theta)``) on lists of
            SymPy expressions, the same loss written for SymPy.
        theta: the loss's parameters (e.g. focal gamma), passed to ``fn``.
        convex: True when the loss is convex in the logits for every soft
            label; the global-optimality certificate needs it.
        lower_bound: a number <= inf_x loss(x, y) for every soft label y, or
            None; the certificate needs it when the dual point is scaled.
        probabilistic: True when softmax(x) is the model's prediction (then p_t
            is reported); False for MSE on the logits.
    """

    name: str
    fn: Callable
    symbolic: Callable | None = None
    theta: tuple = ()
    convex: bool = False
    lower_bound: float | None = None
    probabilistic: bool = True
    builtin: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise validate.invalid("name", self.name, "is not a usable name", "a non-empty string")
        for arg in ("fn", "symbolic"):
            f = getattr(self, arg)
            if arg == "symbolic" and f is None:
                continue
            if not callable(f):
                raise validate.invalid(arg, f, "is not callable",
                                       "a function of (logits, soft label[, theta])")
        object.__setattr__(self, "theta", tuple(float(t) for t in self.theta))
        object.__setattr__(self, "_arity", _arity(self.fn))

    def value(self, x, y, theta=None) -> jax.Array:
        """loss(x, y) for one sample (x, y of shape (K,))."""
        theta = jnp.asarray(self.theta if theta is None else theta, dtype=jnp.result_type(float))
        return self.fn(x, y, theta) if self._arity == 3 else self.fn(x, y)

    def values(self, Z, Y, theta=None) -> jax.Array:
        """Per-sample losses of the columns of Z (K, N) against Y (K, N): shape (N,)."""
        return jax.vmap(lambda x, y: self.value(x, y, theta), in_axes=(1, 1))(Z, Y)

    def sympy(self, x, y, theta=None):
        """The SymPy form at lists x, y (theta: SymPy values of the parameters)."""
        if self.symbolic is None:
            raise validate.invalid("loss", self.name, "has no SymPy form", "a Loss with symbolic=...")
        theta = self.theta if theta is None else theta
        return self.symbolic(x, y, theta) if _arity(self.symbolic) == 3 else self.symbolic(x, y)

    def shift_invariant(self, K: int) -> bool:
        """loss(x + t 1, y) = loss(x, y), tested at one generic point (K logits).

        True for the softmax losses (CE, focal): then the logit gradient's
        columns sum to 0, a free bias is undetermined along 1, and the convex
        relaxation's minimizer has rank <= K - 1. False for MSE.
        """
        x = jnp.linspace(-1.0, 2.0, K) * jnp.sqrt(2.0)
        y = jnp.full(K, 1.0 / K)
        v0, v1 = float(self.value(x, y)), float(self.value(x + 0.7, y))
        return abs(v1 - v0) <= 1e-12 * max(1.0, abs(v0))

    @property
    def label(self) -> str:
        """Name with parameters, e.g. ``focal(gamma=2)``."""
        if self.name == "focal" and self.builtin:
            return f"focal(gamma={self.theta[0]:g})"
        return self.name


def _arity(f) -> int:
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):  # builtins without a signature
        return 2
    n = len(params)
    if n not in (2, 3):
        raise validate.invalid("fn", f, f"takes {n} required positional arguments",
                               "2 (logits, soft label) or 3 (logits, soft label, theta)")
    return n
