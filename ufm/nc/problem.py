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

A variant (Zhou et al. 2022; Fang et al. 2021): another loss, unbalanced
classes, no bias. The paper's closed forms then do not apply (`standard` is
False) and the checks go through the variant path (`ufm.verify.groups.variant`):

>>> q = UFMProblem(K=3, d=2, class_sizes=(4, 4, 1), loss="focal", gamma=2, bias=False)
>>> q.N, q.balanced, q.standard, q.describe()
(9, False, False, 'loss focal(gamma=2), class sizes 4,4,1, no bias')
"""

from __future__ import annotations

import dataclasses
import math

from ufm.core import validate
from ufm.core.validate import integer, real

LOSSES = ("ce", "focal", "mse")


@dataclasses.dataclass(frozen=True)
class UFMProblem:
    """An immutable, validated UFM instance (the NC paper's eq. (9)-(10)).

    Arguments:
        K: number of classes, K >= 2.
        d: feature dimension, d >= 1. Theorem 4.1 needs d >= K - 1 (the paper
            states d >= K; K - 1 dimensions already hold a simplex ETF).
        n: samples per class (balanced), n >= 1; None with `class_sizes`.
        alpha: label-smoothing parameter in [0, 1); 0 is cross-entropy.
        lam_W, lam_H: weight decay of W and H, > 0.
        lam_b: weight decay of the bias, >= 0 (0 leaves b free up to the
            softmax shift invariance). Ignored (and set to inf) without a bias.
        loss: "ce" (the paper's), "focal", "mse", or a `ufm.Loss` of your own.
        gamma: the focal parameter, >= 0 (only with loss="focal"; default 2).
        class_sizes: n_1, ..., n_K samples per class (unbalanced data), each >= 1.
        bias: False removes the bias b from the model (lambda_b = infinity);
            a different problem from lam_b = 0, where b is free.
    """

    K: int
    d: int
    n: int | None = None
    alpha: float = 0.0
    lam_W: float = 5e-3
    lam_H: float = 5e-3
    lam_b: float = 1e-3
    loss: object = "ce"
    gamma: float | None = None
    class_sizes: tuple | None = None
    bias: bool = True

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen)
        set_("K", integer("K", self.K, minimum=2))
        set_("d", integer("d", self.d, minimum=1))
        self._validate_sizes(set_)
        set_("alpha", real("alpha", self.alpha, 0.0, 1.0, hi_open=True))
        set_("lam_W", real("lam_W", self.lam_W, 0.0, lo_open=True))
        set_("lam_H", real("lam_H", self.lam_H, 0.0, lo_open=True))
        self._validate_loss_and_bias(set_)

    def _validate_sizes(self, set_) -> None:
        if self.class_sizes is None:
            if self.n is None:
                raise validate.invalid("n", None, "is missing and class_sizes is not given",
                                       "n >= 1 (balanced) or class_sizes=(n_1, ..., n_K)")
            set_("n", integer("n", self.n, minimum=1))
            return
        sizes = self.class_sizes
        if isinstance(sizes, str) or not hasattr(sizes, "__len__"):
            raise validate.invalid("class_sizes", sizes, "is not a sequence of sizes", f"{self.K} integers >= 1")
        if len(sizes) != self.K:
            raise validate.invalid("class_sizes", tuple(sizes), f"has {len(sizes)} entries for K={self.K}",
                                   f"K={self.K} integers >= 1, one per class")
        sizes = tuple(integer(f"class_sizes[{k}]", v, minimum=1) for k, v in enumerate(sizes))
        if self.n is not None and (len(set(sizes)) > 1 or integer("n", self.n, minimum=1) != sizes[0]):
            raise validate.invalid("n", self.n, f"is given beside class_sizes={sizes}",
                                   "n=None with class_sizes (or n equal to every class size)")
        set_("class_sizes", sizes)
        set_("n", sizes[0] if len(set(sizes)) == 1 else None)

    def _validate_loss_and_bias(self, set_) -> None:
        if not isinstance(self.bias, bool):
            raise validate.invalid("bias", self.bias, "is not True or False", "True or False")
        lam_b = self.lam_b
        if lam_b == math.inf and self.bias:  # lambda_b = infinity: the bias is forced to 0
            set_("bias", False)
        if self.bias:
            set_("lam_b", real("lam_b", lam_b, 0.0))
        else:
            set_("lam_b", math.inf)
        if isinstance(self.loss, str):
            set_("loss", validate.choice("loss", self.loss, LOSSES))
            if self.loss == "focal":
                set_("gamma", real("gamma", 2.0 if self.gamma is None else self.gamma, 0.0, 100.0))
            elif self.gamma is not None:
                raise validate.invalid("gamma", self.gamma, f"is given with loss={self.loss!r}",
                                       "gamma only with loss='focal'")
        elif type(self.loss).__name__ == "Loss":  # a user loss (ufm.Loss); no jax import here
            if self.gamma is not None:
                raise validate.invalid("gamma", self.gamma, "is given with a user loss",
                                       "gamma only with loss='focal' (put your own parameters in Loss.theta)")
        else:
            raise validate.invalid("loss", self.loss, "is not a loss",
                                   f"one of {', '.join(map(repr, LOSSES))} or a ufm.Loss")

    @property
    def sizes(self) -> tuple:
        """Samples per class, (n_1, ..., n_K)."""
        return self.class_sizes if self.class_sizes is not None else (self.n,) * self.K

    @property
    def balanced(self) -> bool:
        return len(set(self.sizes)) == 1

    @property
    def loss_name(self) -> str:
        """'ce', 'focal', 'mse', or the name of a user loss."""
        return self.loss if isinstance(self.loss, str) else self.loss.name

    @property
    def loss_label(self) -> str:
        if self.loss == "focal":
            return f"focal(gamma={self.gamma:g})"
        return self.loss if isinstance(self.loss, str) else f"user loss {self.loss.name!r}"

    @property
    def standard(self) -> bool:
        """True for the NC paper's setting: cross-entropy, balanced classes, a bias."""
        return self.loss == "ce" and self.balanced and self.bias

    def describe(self) -> str:
        """The ways this problem departs from the paper's ('' when standard)."""
        parts = [] if self.loss == "ce" else [f"loss {self.loss_label}"]
        if not self.balanced:
            parts.append("class sizes " + ",".join(map(str, self.sizes)))
        if not self.bias:
            parts.append("no bias")
        return ", ".join(parts)

    def _balanced_only(self, what: str) -> None:
        if not self.balanced:
            raise validate.invalid("class_sizes", self.class_sizes, f"are unbalanced: {what} is defined for balanced classes",
                                   "balanced classes (the closed forms of Theorem 4.1 assume them)")

    @property
    def N(self) -> int:
        """Total number of samples, N = n_1 + ... + n_K (= nK when balanced)."""
        return sum(self.sizes)

    @property
    def c(self) -> float:
        """c = sqrt(n lam_W lam_H), so that sqrt(K N lam_W lam_H) = K c (balanced only)."""
        self._balanced_only("c")
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
        return self.K * self.d + self.d * self.N + (self.K if self.bias else 0)

    def replace(self, **changes) -> "UFMProblem":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["loss"] = self.loss_name
        out["class_sizes"] = list(self.sizes) if self.class_sizes is not None else None
        return out
