"""The algebra of K x K matrices a I + b J (J = 1 1^T), for symbolic K.

Simplex-ETF structure lives in this two-dimensional commutative algebra:
the centring projector is P = I - J/K. Products follow from J^2 = K J, and
every element has eigenvalue a on the (K-1)-dimensional space 1-perp and
a + K b on span(1). This lets SymPy reason about K x K matrices with K a
symbol, instead of building explicit matrices.

>>> import sympy as sp
>>> K = sp.Symbol("K", positive=True, integer=True)
>>> P = IJ(1, -1 / K, K)
>>> (P * P - P).is_zero()
True
>>> P.eigenvalues()
[(1, K - 1), (0, 1)]
"""

from __future__ import annotations

import dataclasses

import sympy as sp


@dataclasses.dataclass(frozen=True)
class IJ:
    a: sp.Expr  # coefficient of I
    b: sp.Expr  # coefficient of J = 1 1^T
    K: sp.Expr  # the size

    def __mul__(self, other: "IJ | sp.Expr") -> "IJ":
        if isinstance(other, IJ):
            return IJ(
                sp.simplify(self.a * other.a),
                sp.simplify(self.a * other.b + self.b * other.a + self.K * self.b * other.b),
                self.K,
            )
        return IJ(self.a * other, self.b * other, self.K)

    __rmul__ = __mul__

    def __add__(self, other: "IJ") -> "IJ":
        return IJ(self.a + other.a, self.b + other.b, self.K)

    def __sub__(self, other: "IJ") -> "IJ":
        return IJ(self.a - other.a, self.b - other.b, self.K)

    def is_zero(self) -> bool:
        return sp.simplify(self.a) == 0 and sp.simplify(self.b) == 0

    def trace(self) -> sp.Expr:
        return sp.simplify(self.K * (self.a + self.b))

    def eigenvalues(self) -> list[tuple[sp.Expr, sp.Expr]]:
        """[(value on 1-perp, K - 1), (value on span(1), 1)]."""
        return [(sp.simplify(self.a), self.K - 1), (sp.simplify(self.a + self.K * self.b), 1)]

    def matrix(self, k: int) -> sp.Matrix:
        """The explicit k x k matrix, to confirm on small concrete cases."""
        sub = {self.K: k} if isinstance(self.K, sp.Basic) else {}
        a, b = sp.sympify(self.a).subs(sub), sp.sympify(self.b).subs(sub)
        return a * sp.eye(k) + b * sp.ones(k, k)
