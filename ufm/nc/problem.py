"""The unconstrained feature model (UFM) problem specification.

A `UFMProblem` fixes the sizes and hyper-parameters of the objective of
"Cross Entropy versus Label Smoothing: A Neural Collapse Perspective",
eq. (9)-(10). It validates itself on construction, so every
function downstream can trust its fields.

>>> p = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
>>> p.N
12
>>> p.collapsed
False
>>> round(p.threshold, 6)   # alpha + K sqrt(n lam_W lam_H); collapse at >= 1
0.134641
"""

from __future__ import annotations

import dataclasses
import math

from ufm.core.validate import integer, real


@dataclasses.dataclass(frozen=True)
class UFMProblem:
    """An immutable, validated UFM instance (the NC paper's eq. (9)-(10)).

    Arguments:
        K: number of classes, K >= 2.
        d: feature dimension, d >= 1. Theorem 4.1 needs d >= K - 1 (the paper
            states d >= K; K - 1 dimensions already hold a simplex ETF).
        n: samples per class (balanced), n >= 1.
        alpha: label-smoothing parameter in [0, 1); 0 is cross-entropy.
        lam_W, lam_H: weight decay of W and H, > 0.
        lam_b: weight decay of the bias, >= 0 (0 leaves b free up to the
            softmax shift invariance).
    """

    K: int
    d: int
    n: int
    alpha: float = 0.0
    lam_W: float = 5e-3
    lam_H: float = 5e-3
    lam_b: float = 1e-3

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen)
        set_("K", integer("K", self.K, minimum=2))
        set_("d", integer("d", self.d, minimum=1))
        set_("n", integer("n", self.n, minimum=1))
        set_("alpha", real("alpha", self.alpha, 0.0, 1.0, hi_open=True))
        set_("lam_W", real("lam_W", self.lam_W, 0.0, lo_open=True))
        set_("lam_H", real("lam_H", self.lam_H, 0.0, lo_open=True))
        set_("lam_b", real("lam_b", self.lam_b, 0.0))

    @property
    def N(self) -> int:
        """Total number of samples, N = nK."""
        return self.n * self.K

    @property
    def c(self) -> float:
        """c = sqrt(n lam_W lam_H), so that sqrt(K N lam_W lam_H) = K c."""
        return math.sqrt(self.n * self.lam_W * self.lam_H)

    @property
    def threshold(self) -> float:
        """alpha + K c: Theorem 4.1 is non-collapsed iff this is < 1."""
        return self.alpha + self.K * self.c

    @property
    def collapsed(self) -> bool:
        """True in the regime alpha + K c >= 1, where the minimizer is 0."""
        return self.threshold >= 1.0

    @property
    def etf_fits(self) -> bool:
        """True when d >= K - 1, the room a K-point simplex ETF needs."""
        return self.d >= self.K - 1

    @property
    def num_params(self) -> int:
        return self.K * self.d + self.d * self.N + self.K

    def replace(self, **changes) -> "UFMProblem":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
