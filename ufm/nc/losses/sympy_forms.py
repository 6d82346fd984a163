"""Per-sample losses as SymPy expressions, written independently of the JAX forms.

A per-sample loss is ``l(x, y)`` with ``x`` the K logits and ``y`` a soft label
(a probability vector), ``p = softmax(x)``:

* cross-entropy      ``l = -sum_j y_j log p_j``
* focal loss         ``l = -sum_j y_j (1 - p_j)^gamma log p_j``  (gamma >= 0; gamma = 0 is CE;
  Lin et al. 2017, *Focal Loss for Dense Object Detection*; with soft labels as in
  Zhou et al. 2022, *Are All Losses Created Equal: A Neural Collapse Perspective*)
* MSE on the logits  ``l = 1/2 sum_j (x_j - y_j)^2``

The softmax is written as ``p_j = 1 / sum_i exp(x_i - x_j)`` and
``log p_j = -log sum_i exp(x_i - x_j)``: the same function as
``exp(x_j) / sum_i exp(x_i)``, but only logit *differences* appear, so a
common shift of the logits cancels structurally (``(x_i + beta) - (x_j + beta)``
is ``x_i - x_j`` as soon as SymPy builds it), and at the symmetric logits
``rho (e_1 - 1/K) + beta 1`` the K^2 exponentials collapse to ``exp(+-rho)`` and 1.

>>> import sympy as sp
>>> x = [sp.Integer(0), sp.log(3)]
>>> y = [sp.Rational(9, 10), sp.Rational(1, 10)]
>>> sp.simplify(cross_entropy_sym(x, y) - (sp.Rational(9, 10) * sp.log(4) + sp.log(sp.Rational(4, 3)) / 10))
0
>>> mse_sym([sp.Integer(1), sp.Integer(0)], [sp.Integer(1), sp.Integer(0)])
0
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy as sp

from ufm.core import validate

__all__ = [
    "GAMMA",
    "LOSS_NAMES",
    "cross_entropy_sym",
    "focal_sym",
    "log_softmax_sym",
    "mse_sym",
    "softmax_sym",
    "sympy_form",
]

#: The focal parameter as a symbol (``sympy_form("focal")`` keeps it symbolic).
GAMMA = sp.Symbol("gamma", nonnegative=True)

LOSS_NAMES = ("ce", "focal", "mse")


def _check_pair(x: Sequence, y: Sequence) -> tuple[list[sp.Expr], list[sp.Expr]]:
    x = [sp.sympify(e) for e in x]
    y = [sp.sympify(e) for e in y]
    if len(x) != len(y) or len(x) < 1:
        raise validate.invalid("y", f"length {len(y)}", "does not match x",
                               f"a soft label of the same length as x ({len(x)})")
    return x, y


def log_softmax_sym(x: Sequence) -> list[sp.Expr]:
    """``log p_j = -log sum_i exp(x_i - x_j)`` for each j (a list of SymPy expressions)."""
    x = [sp.sympify(e) for e in x]
    return [-sp.log(sp.Add(*[sp.exp(xi - xj) for xi in x])) for xj in x]


def softmax_sym(x: Sequence) -> list[sp.Expr]:
    """``p_j = 1 / sum_i exp(x_i - x_j)`` (= ``exp(x_j) / sum_i exp(x_i)``)."""
    x = [sp.sympify(e) for e in x]
    return [1 / sp.Add(*[sp.exp(xi - xj) for xi in x]) for xj in x]


def cross_entropy_sym(x: Sequence, y: Sequence) -> sp.Expr:
    """Cross-entropy ``-sum_j y_j log p_j`` with ``p = softmax(x)``."""
    x, y = _check_pair(x, y)
    return -sp.Add(*[yj * lp for yj, lp in zip(y, log_softmax_sym(x))])


def focal_sym(x: Sequence, y: Sequence, gamma) -> sp.Expr:
    """Focal loss ``-sum_j y_j (1 - p_j)^gamma log p_j`` (gamma a number >= 0 or a symbol).

    With a soft label this is the focal loss with label smoothing; ``gamma = 0``
    gives `cross_entropy_sym` exactly (``(1 - p)^0`` is 1).
    """
    x, y = _check_pair(x, y)
    gamma = sp.sympify(gamma)
    if gamma.is_number and not (gamma.is_real and gamma >= 0):
        raise validate.out_of_range("gamma", float(gamma), validate.Interval(0, float("inf")))
    p, logp = softmax_sym(x), log_softmax_sym(x)
    return -sp.Add(*[yj * (1 - pj) ** gamma * lp for yj, pj, lp in zip(y, p, logp)])


def mse_sym(x: Sequence, y: Sequence) -> sp.Expr:
    """Squared error on the logits ``1/2 sum_j (x_j - y_j)^2``."""
    x, y = _check_pair(x, y)
    return sp.Rational(1, 2) * sp.Add(*[(xj - yj) ** 2 for xj, yj in zip(x, y)])


def sympy_form(name: str, gamma=None) -> Callable[[Sequence, Sequence], sp.Expr]:
    """The loss called `name` ("ce" | "focal" | "mse") as a callable ``(x, y) -> Expr``.

    For "focal", `gamma` is a number >= 0 or a SymPy symbol; None keeps the
    symbol `GAMMA` (one derivation for every gamma, substituted later). `gamma`
    must be None for the other losses.

    >>> import sympy as sp
    >>> l = sympy_form("focal")
    >>> l([sp.Integer(0), sp.Integer(0)], [sp.Integer(1), sp.Integer(0)]).free_symbols == {GAMMA}
    True
    """
    name = validate.choice("name", name, LOSS_NAMES)
    if name != "focal":
        if gamma is not None:
            raise validate.invalid("gamma", gamma, f"is given for loss {name!r}",
                                   "None (gamma is a parameter of the focal loss only)")
        return cross_entropy_sym if name == "ce" else mse_sym
    g = GAMMA if gamma is None else sp.sympify(gamma)
    if g.is_number:
        validate.real("gamma", float(g), 0)

    def focal(x, y):
        return focal_sym(x, y, g)

    focal.__doc__ = f"Focal loss with gamma = {g}."
    return focal
