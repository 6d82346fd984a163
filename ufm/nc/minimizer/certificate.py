"""A-posteriori certificate of global optimality for a numerical UFM solve.

The UFM (NC paper, eq. (9)-(10)) is non-convex in (W, H, b), but its value
is bounded below by a convex problem in the logits. With tau = sqrt(lam_W lam_H),

    F(W, H, b) >= P(W H, b),    P(Z, b) = L(Z + b 1^T) + tau ||Z||_* + lam_b/2 ||b||^2,

because lam_W/2 ||W||^2 + lam_H/2 ||H||^2 >= tau ||W H||_* for every
factorization (the variational form of the nuclear norm, equality for a
balanced SVD factorization). L(X) = (1/N) sum_i CE(x_i, y_i). So F* >= P*,
with equality when d >= K - 1 (the convex minimizer has rank <= K - 1: see
`derive`). Fenchel duality gives, for every Lambda (K x N) with
||Lambda||_2 <= tau (and Lambda 1 = 0 when lam_b = 0),

    D(Lambda) = -(1/N) sum_{j,i} q_ji log q_ji - ||Lambda 1||^2 / (2 lam_b) <= P* <= F*,
    q_i = N lambda_i + y_i (a probability vector),

so ``gap = F(W, H, b) - D(Lambda) >= F(W, H, b) - F*`` certifies how far a
numerical solve is from the GLOBAL minimum, whatever the solver did. The
dual point is the logit gradient G = (softmax(X) - Y)/N at the solution,
scaled by s = min(1, tau/||G||_2) (then q = s p + (1 - s) y stays a
probability vector); with lam_b = 0 its rows are centred (Lambda 1 = 0),
which does not raise its spectral norm.

At Lambda = G (s = 1) the gap is exactly
``1/2 (<grad_W F, W> + <grad_H F, H>) + ||grad_b F||^2 / (2 lam_b)``,
first order in the gradient; the rest of the gap is the dual scaling, which
a stationary point that is not a global minimizer (a saddle such as W = H = 0
in the non-collapsed regime) cannot make small: there ||G||_2 > tau.

At Z = 0, b = 0 the certificate is closed form: ||G(0)||_2 = (1 - alpha)/(K sqrt(n))
and G(0) 1 = 0, so 0 is a global minimizer iff (1 - alpha)/(K sqrt(n)) <= tau,
i.e. iff alpha + K c >= 1, c = sqrt(n lam_W lam_H): Theorem 4.1's threshold,
derived here from the optimality condition (`certificate_derivation`).

>>> import jax
>>> jax.config.update("jax_enable_x64", True)
>>> from ufm.nc.minimizer.solve import solve
>>> p = UFMProblem(K=3, d=2, n=2, alpha=0.1, lam_W=1e-2, lam_H=1e-2)
>>> sol = solve(p)
>>> cert = certify(p, sol.params)
>>> cert.dual_feasible, cert.gap <= cert.bound(1e-10 * sol.grad_norm0)   # eps: the solve's stop
(True, True)
>>> round(zero_ratio(p), 12)   # ||G(0)||_2 / tau = (1 - alpha) / (K c) > 1: 0 is not optimal
21.213203435596
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import numpy as np
import sympy as sp
from scipy.special import xlogy

from ufm.core import validate
from ufm.core.cache import cached
from ufm.core.derivation import Derivation
from ufm.core.ij_algebra import IJ
from ufm.nc.minimizer.derivation import factorization_penalty, make_symbols
from ufm.nc.problem import UFMProblem

SCALING_ACCEPTED = 1e-6  # largest 1 - s for which a general loss's scaling cost is budgeted

SOURCE = ("NC paper (Cross Entropy versus Label Smoothing), eq. (9)-(10), Theorem 4.1; "
          "convex reformulation in the logits")

# ---------------------------------------------------------------- derivation


def _frob(A: sp.Matrix, B: sp.Matrix) -> sp.Expr:
    return sum(A[i, j] * B[i, j] for i in range(A.rows) for j in range(A.cols))


def convex_lower_bound(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 1: the factorized penalty is a nuclear norm: F >= P, F* >= P*."""
    factorization_penalty(D, S)
    D.note("Convex lower bound",
           r"Hence $F(W,H,b) \ge P(WH, b) = L(WH + b1^\top) + \tau\|WH\|_* + \frac{\lambda_b}{2}\|b\|^2$, "
           r"$\tau = \sqrt{\lambda_W\lambda_H}$, for every $(W,H,b)$, and $F^* \ge P^*$; equality "
           r"$F^* = P^*$ holds when $d \ge \operatorname{rank}$ of a minimizer of $P$ (step 11).")


def fenchel_dual(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 2: Fenchel dual of P."""
    D.cited("Conjugates",
            r"The conjugate of log-sum-exp is the negative entropy $\sum_j q_j\log q_j$ on the "
            r"simplex (Boyd & Vandenberghe 2004, Example 3.25), so $\ell_i(x) = "
            r"\mathrm{lse}(x) - y_i^\top x$ has $\ell_i^*(g) = \sum_j q_j \log q_j$, $q = g + y_i \in "
            r"\Delta$, and $L = \frac1N\sum_i \ell_i$ has $L^*(\Lambda) = \frac1N \sum_i "
            r"\ell_i^*(N\lambda_i)$. The dual norm of the nuclear norm is the spectral norm, so "
            r"$\min_Z \langle\Lambda, Z\rangle + \tau\|Z\|_* = 0$ if $\|\Lambda\|_2\le\tau$ and "
            r"$-\infty$ otherwise (Recht, Fazel & Parrilo 2010, Prop. 2.1).",
            source=r"Boyd & Vandenberghe (2004), *Convex Optimization*, Example 3.25 (conjugate of "
                   r"log-sum-exp) and Sec. 3.3.2 (scaling and composition with an affine map); Recht, Fazel "
                   r"& Parrilo (2010), *Guaranteed Minimum-Rank Solutions of Linear Matrix Equations via "
                   r"Nuclear Norm Minimization*, SIAM Review 52(3), Prop. 2.1 (the spectral norm is dual to "
                   r"the nuclear norm).")
    v, bj = sp.symbols("v b_j", real=True)
    (b_star,) = sp.solve(sp.diff(v * bj + lb / 2 * bj**2, bj), bj)
    D.identity("minimum over b_j of v b_j + lam_b/2 b_j^2 (v = (Lambda 1)_j)",
               (v * bj + lb / 2 * bj**2).subs(bj, b_star), -v**2 / (2 * lb),
               display=sp.Subs(v * bj + lb / 2 * bj**2, bj, b_star),
               text=r"So $D(\Lambda) = -L^*(\Lambda) - \|\Lambda 1\|^2/(2\lambda_b)$ for "
                    r"$\|\Lambda\|_2 \le \tau$ (with $\lambda_b = 0$: $\Lambda 1 = 0$ instead), and "
                    r"$D(\Lambda) \le P^* \le F^*$ (weak duality).")


def fenchel_young(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 3: Fenchel-Young equality for one sample (K = 3, generic logits and soft label)."""
    x = sp.symbols("x1:4", real=True)
    y1, y2 = sp.symbols("y1 y2", positive=True)
    y = (y1, y2, 1 - y1 - y2)
    lse = sp.log(sum(sp.exp(t) for t in x))
    p = [sp.exp(t) / sum(sp.exp(s) for s in x) for t in x]
    ell = lse - sum(yj * xj for yj, xj in zip(y, x))
    ell_star = sum(pj * sp.log(pj) for pj in p)  # at g = p - y: q = p
    D.identity("Fenchel-Young equality at g = softmax(x) - y (one sample, K = 3)",
               sp.expand_log(ell + ell_star, force=True),
               sum((pj - yj) * xj for pj, yj, xj in zip(p, y, x)),
               r"$\ell(x) + \ell^*(\nabla\ell(x)) = \langle\nabla\ell(x), x\rangle$; summed over "
               r"samples with the $1/N$: $L(X) + L^*(G) = \langle G, X\rangle$, $G = \nabla L(X) = "
               r"(\mathrm{softmax}(X) - Y)/N$.")
    D.identity("columns of G sum to 0 (one sample, K = 3)", sum(p) - sum(y), 0)


def gap_at_gradient(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 4: the duality gap at Lambda = G, in terms of the gradient of F."""
    lW, lH = S.lW, S.lH
    Kc, dc, Nc = 2, 3, 2
    G = sp.Matrix(Kc, Nc, lambda i, j: sp.Symbol(f"g_{i}{j}", real=True))
    W = sp.Matrix(Kc, dc, lambda i, j: sp.Symbol(f"w_{i}{j}", real=True))
    H = sp.Matrix(dc, Nc, lambda i, j: sp.Symbol(f"h_{i}{j}", real=True))
    b = sp.Matrix(Kc, 1, lambda i, j: sp.Symbol(f"b_{i}", real=True))
    one = sp.ones(Nc, 1)
    X = W * H + b * one.T
    reg = lW / 2 * _frob(W, W) + lH / 2 * _frob(H, H) + lb / 2 * _frob(b, b)
    gap = _frob(G, X) + reg + _frob(G * one, G * one) / (2 * lb)  # F - D(G) after Fenchel-Young
    gW, gH, gb = G * H.T + lW * W, W.T * G + lH * H, G * one + lb * b
    D.identity("gap at Lambda = G: 1/2(<grad_W F, W> + <grad_H F, H>) + ||grad_b F||^2/(2 lam_b)",
               sp.expand(gap), sp.expand((_frob(gW, W) + _frob(gH, H)) / 2 + _frob(gb, gb) / (2 * lb)),
               display=r"\langle G, WH + b1^\top\rangle + \tfrac{\lambda_W}{2}\|W\|_F^2 + "
                       r"\tfrac{\lambda_H}{2}\|H\|_F^2 + \tfrac{\lambda_b}{2}\|b\|^2 + "
                       r"\tfrac{\|G1\|^2}{2\lambda_b}",
               text=r"$F - D(G) = \langle G, X\rangle + \frac{\lambda_W}{2}\|W\|^2 + \frac{\lambda_H}{2}"
                    r"\|H\|^2 + \frac{\lambda_b}{2}\|b\|^2 + \frac{\|G1\|^2}{2\lambda_b}$ (Fenchel-Young), "
                    r"confirmed on generic symbolic matrices ($K=2$, $d=3$, $N=2$; entrywise it is the "
                    r"cyclic trace identity $\langle G, WH\rangle = \langle GH^\top, W\rangle = "
                    r"\langle W^\top G, H\rangle$). First order in $\nabla F$: small at any near-"
                    r"stationary point, provided $\|G\|_2 \le \tau$.")


def optimality_condition(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 5: optimality (KKT) of the convex problem."""
    D.cited("Optimality condition",
            r"$(Z, b)$ minimizes $P$ iff $-G \in \tau\,\partial\|Z\|_*$ and $G1 + \lambda_b b = 0$; "
            r"by the subdifferential of the nuclear norm (Watson 1992), with $Z = U\Sigma V^\top$: "
            r"$G = -\tau UV^\top + W_\perp$, $U^\top W_\perp = 0$, $W_\perp V = 0$, "
            r"$\|W_\perp\|_2 \le \tau$. In particular $\|G\|_2 \le \tau$, with equality on the "
            r"range of $Z$. Since $1^\top G = 0$ (step 9), $\mathrm{range}(U) \subset 1^\perp$: "
            r"a minimizer of $P$ has rank $\le K - 1$, so $d \ge K-1$ gives $F^* = P^*$.",
            source=r"Fermat's rule and the subdifferential sum rule for convex functions (Rockafellar "
                   r"(1970), *Convex Analysis*, Theorem 23.8); Watson (1992), *Characterization of the "
                   r"subdifferential of some matrix norms*, Linear Algebra Appl. 170, 33-45 (the "
                   r"subdifferential of the nuclear norm).")


def zero_threshold(D: Derivation, S, lb: sp.Symbol) -> None:
    """Step 6: the certificate at Z = 0: the collapse threshold."""
    K, n, alpha, lW, lH = S.K, S.n, S.alpha, S.lW, S.lH
    tau = sp.sqrt(lW * lH)
    N = n * K
    Pm = IJ(sp.Integer(1), -1 / K, K)  # P = I - J/K
    g_t = (1 / K - (1 - alpha + alpha / K)) / N  # G(0), target entry
    g_nt = (1 / K - alpha / K) / N  # G(0), non-target entry
    D.identity("G(0) target entry = -(1 - alpha)/N P_tt", g_t, -(1 - alpha) / N * (Pm.a + Pm.b))
    D.identity("G(0) non-target entry = -(1 - alpha)/N P_jt", g_nt, -(1 - alpha) / N * Pm.b)
    D.note("G(0)", r"So $G(0) = -\frac{1-\alpha}{N} P \otimes 1_n^\top$, $P = I_K - J_K/K$.")
    GGt = Pm * Pm * ((1 - alpha) ** 2 * n / N**2)  # G(0) G(0)^T = (1-alpha)^2 n / N^2 P^2
    (sq_perp, _), (sq_one, _) = GGt.eigenvalues()
    D.identity("||G(0)||_2^2: eigenvalue of G(0) G(0)^T on 1-perp", sq_perp, (1 - alpha) ** 2 / (K**2 * n))
    a_, b_ = sp.symbols("a b")  # a I + b J has eigenvalue a on 1-perp and a + K b on span(1)
    D.identity("G(0) G(0)^T has eigenvalue 0 on span(1)", sq_one, 0,
               display=sp.Subs(a_ + K * b_, (a_, b_), (GGt.a, GGt.b)),
               text=r"$G(0)G(0)^\top = aI + bJ$ has eigenvalue $a + Kb$ on $\mathrm{span}(1)$.")
    D.identity("bias stationarity at 0: P 1 = 0 so G(0) 1 = 0", Pm.a + K * Pm.b, 0,
               display=sp.Subs(a_ + K * b_, (a_, b_), (Pm.a, Pm.b)),
               text=r"$(aI + bJ)1 = (a + Kb)1$ with $P = I - J/K$.")
    c = S.c
    D.identity("tau^2 - ||G(0)||_2^2 = (alpha + K c - 1)(K c + 1 - alpha)/(K^2 n)",
               tau**2 - sq_perp, (alpha + K * c - 1) * (K * c + 1 - alpha) / (K**2 * n),
               r"$Kc + 1 - \alpha > 0$ for $\alpha < 1$, so $\|G(0)\|_2 \le \tau \iff \alpha + Kc "
               r"\ge 1$: by step 11, $(Z, b) = (0, 0)$ is a global minimizer exactly in the "
               r"collapsed regime of Theorem 4.1 (uniquely when $> 1$, since then "
               r"$\|G(0)\|_2 < \tau$ and no non-zero $Z$ can satisfy the equality on its range).")
    D.identity("(||G(0)||_2 / tau)^2 = ((1 - alpha)/(K c))^2", sq_perp / tau**2,
               ((1 - alpha) / (K * c)) ** 2,
               r"With $0 \le \alpha < 1$: $\|G(0)\|_2/\tau = (1-\alpha)/(Kc)$, $\le 1$ iff "
               r"$\alpha + Kc \ge 1$.")
    D.results.update(threshold=alpha + K * c, zero_ratio=(1 - alpha) / (K * c))


def derive() -> Derivation:
    """The optimality condition of the convex reformulation, its duality gap, and the threshold."""
    S = make_symbols()
    K, n, alpha, lW, lH = S.K, S.n, S.alpha, S.lW, S.lH
    lb = sp.Symbol("lambda_b", positive=True)
    D = Derivation("Certificate of global optimality for the UFM (convex reformulation in the logits)",
                   SOURCE)
    D.symbols.update(K=K, n=n, alpha=alpha, lambda_W=lW, lambda_H=lH, lambda_b=lb)
    convex_lower_bound(D, S, lb)
    fenchel_dual(D, S, lb)
    fenchel_young(D, S, lb)
    gap_at_gradient(D, S, lb)
    optimality_condition(D, S, lb)
    zero_threshold(D, S, lb)
    return D


@functools.lru_cache(maxsize=1)
def certificate_derivation() -> Derivation:
    """The certificate derivation (cached on disk after the first run)."""
    return cached(derive, __name__, "certificate")


@functools.lru_cache(maxsize=1)
def _threshold_fn():
    D = certificate_derivation()
    s = D.symbols
    args = [s["K"], s["n"], s["alpha"], s["lambda_W"], s["lambda_H"]]
    return sp.lambdify(args, D.results["threshold"], modules="math")


def threshold(problem: UFMProblem) -> float:
    """The derived collapse threshold alpha + K c at `problem` (collapsed iff >= 1)."""
    p = problem
    return float(_threshold_fn()(p.K, p.n, p.alpha, p.lam_W, p.lam_H))


# ----------------------------------------------------------------- numerics


@dataclasses.dataclass(frozen=True)
class Certificate:
    """The duality-gap certificate of one point (W, H, b) of a UFM problem."""

    objective: float  # F(W, H, b)
    convex_primal: float  # P(W H, b) <= F
    dual: float  # D(Lambda) <= P* <= F*; -inf when no feasible dual point was found
    tau: float  # sqrt(lam_W lam_H)
    spectral_norm: float  # ||G||_2 of the logit gradient G = (softmax(X) - Y)/N
    dual_scale: float  # s = min(1, tau/||G||_2)
    bias_residual: float  # ||G 1 + lam_b b||: stationarity in b
    range_residual: float  # ||U^T G V + tau I||_2 / tau on the numerical range of Z (0 if Z = 0)
    rank: int  # numerical rank of Z = W H (singular values > max(1e-8 sigma_1, 1e-10))
    params_norm: float  # ||(W, H, b)||
    grad_bias_norm: float  # ||G 1|| (row sums of G)

    @property
    def gap(self) -> float:
        """F - D >= F - F*: the certified distance to the global minimum value."""
        return self.objective - self.dual

    @property
    def ratio(self) -> float:
        """||G||_2 / tau: <= 1 at a global minimizer (= 1 unless Z = 0)."""
        return self.spectral_norm / self.tau

    @property
    def dual_feasible(self) -> bool:
        return math.isfinite(self.dual)

    def bound(self, eps: float) -> float:
        """Acceptance bound on the gap for a solve stopped at ||grad F|| <= eps.

        B = 2 eps (||x|| + 1) + eps^2/lam_b + a float64 floor. The exact s = 1 part
        of the gap is <= eps ||x||/2 + eps^2/(2 lam_b); the rest of 2 eps (||x|| + 1)
        budgets the dual scaling (1 - s), which is first order in the distance to
        a global minimizer (and O(1) at a saddle, which the bound then rejects).
        """
        lb_term = eps**2 / self._lam_b if self._lam_b > 0 else 0.0
        floor = 1e-14 * (1.0 + abs(self.objective)) * math.sqrt(self._size)
        # a general convex loss pays (1 - s)(L - l_min - <G, X>) for the scaling, through the convexity
        # of L* (see `_convex_dual`); it is budgeted only for a near-feasible dual point, 1 - s <= 1e-6
        # (the first-order accuracy of a solve stopped at relative gradient 1e-10), so a saddle,
        # where s is far from 1, is still rejected
        scaling = self._scaling_cost if 1.0 - self.dual_scale <= SCALING_ACCEPTED else 0.0
        return 2.0 * eps * (self.params_norm + 1.0) + lb_term + floor + scaling

    # set by `certify` (not part of the comparison of two certificates)
    _lam_b: float = dataclasses.field(default=0.0, repr=False, compare=False)
    _size: int = dataclasses.field(default=1, repr=False, compare=False)
    _scaling_cost: float = dataclasses.field(default=0.0, repr=False, compare=False)

    def summary(self) -> dict:
        return {"objective": self.objective, "convex_primal": self.convex_primal, "dual": self.dual,
                "gap": self.gap, "spectral_norm_over_tau": self.ratio, "dual_scale": self.dual_scale,
                "bias_residual": self.bias_residual, "range_residual": self.range_residual,
                "rank_Z": self.rank}


def _soft_labels(problem: UFMProblem) -> np.ndarray:
    """Y (K, N) for the problem's class sizes, class-major (as `ufm.nc.objective`)."""
    K = problem.K
    Y = np.full((K, problem.N), problem.alpha / K)
    Y[np.repeat(np.arange(K), problem.sizes), np.arange(problem.N)] += 1.0 - problem.alpha
    return Y


class _Point(NamedTuple):
    """The numpy pieces of one point shared by both dual constructions."""

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    Y: np.ndarray
    X: np.ndarray  # logits
    sv: np.ndarray  # singular values of Z = W H
    lam_b: float  # 0 without a bias (the bias terms then vanish)


def _point(problem: UFMProblem, params) -> _Point:
    W, H, b = (np.asarray(a, dtype=np.float64) for a in params)
    if not problem.bias:
        b = np.zeros_like(b)  # no bias in the model
    Zwh = W @ H
    return _Point(W, H, b, _soft_labels(problem), Zwh + b[:, None], np.linalg.svd(Zwh, compute_uv=False),
                  problem.lam_b if problem.bias else 0.0)


def _ce_dual(problem: UFMProblem, pt: _Point, tau: float):
    """Cross-entropy: L, G and D(s G) with the exact conjugate (negative entropy)."""
    N = problem.N
    m = pt.X.max(axis=0)
    E = np.exp(pt.X - m)
    L = float(np.sum(np.log(E.sum(axis=0)) + m - np.sum(pt.Y * pt.X, axis=0)) / N)
    G = (E / E.sum(axis=0) - pt.Y) / N
    gnorm = float(np.linalg.norm(G, 2))  # largest singular value
    s = 1.0 if gnorm <= tau else tau / gnorm
    Lam = s * G
    if not problem.bias:
        pen = 0.0  # no bias: no constraint and no penalty on Lambda 1
    elif pt.lam_b > 0:
        pen = float(np.sum(Lam.sum(axis=1) ** 2)) / (2 * pt.lam_b)
    else:  # the dual needs Lambda 1 = 0: centre the rows (a projection: ||.||_2 does not grow)
        Lam = Lam - Lam.sum(axis=1, keepdims=True) / N
        pen = 0.0
    Q = N * Lam + pt.Y  # columns are probability vectors when feasible
    dual = -math.inf if np.min(Q) < 0.0 else float(-np.sum(xlogy(Q, Q)) / N - pen)
    return L, G, gnorm, s, dual


def _convex_dual(problem: UFMProblem, pt: _Point, tau: float, loss):
    """Any convex loss with a known lower bound l_min <= loss.

    Fenchel-Young at the gradient gives L*(G) = <G, X> - L(X) exactly (L is
    convex), and convexity of L* with L*(0) = -inf L <= -l_min gives
    L*(s G) <= s L*(G) - (1 - s) l_min, so D(s G) >= -s L*(G) + (1 - s) l_min
    - s^2 ||G 1||^2/(2 lam_b): a valid lower bound on P* <= F*.
    """
    import jax
    import jax.numpy as jnp

    N = problem.N
    X, Y = jnp.asarray(pt.X), jnp.asarray(pt.Y)
    theta = jnp.asarray(loss.theta, dtype=jnp.float64)
    vals = np.asarray(loss.values(X, Y, theta))
    G = np.asarray(jax.vmap(jax.grad(lambda x, y: loss.value(x, y, theta)), in_axes=(1, 1), out_axes=1)(X, Y)) / N
    L = float(np.sum(vals) / N)
    gnorm = float(np.linalg.norm(G, 2))
    s = 1.0 if gnorm <= tau else tau / gnorm
    conj_G = float(np.sum(G * pt.X)) - L
    if problem.bias and pt.lam_b == 0:  # a free bias needs Lambda 1 = 0 exactly: not certified here
        return L, G, gnorm, s, -math.inf, 0.0
    pen = float(np.sum((s * G).sum(axis=1) ** 2)) / (2 * pt.lam_b) if problem.bias else 0.0
    scaling_cost = (1 - s) * abs(conj_G + float(loss.lower_bound))
    return L, G, gnorm, s, -s * conj_G + (1 - s) * float(loss.lower_bound) - pen, scaling_cost


def certifiable(problem: UFMProblem) -> str:
    """'' when `certify` applies to the problem, else the reason it does not."""
    if problem.loss == "ce":
        return ""
    from ufm.nc.objective import problem_loss

    loss = problem_loss(problem)
    if not loss.convex:
        return (f"the loss {problem.loss_label} is not convex in the logits, so the convex "
                "reformulation's dual does not bound its minimum")
    if loss.lower_bound is None:
        return f"the loss {problem.loss_label} declares no lower bound (Loss.lower_bound), which the dual needs"
    if problem.bias and problem.lam_b == 0:
        return ("a free bias (lam_b = 0) needs a dual point with Lambda 1 = 0 exactly, which only the "
                "cross-entropy conjugate provides here")
    if problem.d < problem.K and not loss.shift_invariant(problem.K):
        return (f"d={problem.d} < K={problem.K} with a loss that is not shift invariant: the convex "
                "relaxation's minimizer may have rank K (a mean logit), so F* = P* is not guaranteed "
                "and a gap would not refute optimality")
    return ""


def certify(problem: UFMProblem, params) -> Certificate:
    """The certificate of the point `params` = (W, H, b) (float64, numpy).

    Cross-entropy (any class sizes, any bias mode) uses the exact conjugate;
    another loss needs to be convex in the logits with a lower bound
    (`certifiable` says why not otherwise, and this raises ValueError).
    """
    p = problem
    why = certifiable(p)
    if why:
        raise validate.invalid("problem", p.describe(), f"cannot be certified: {why}",
                               "cross-entropy, or a convex loss with Loss.lower_bound")
    pt = _point(p, params)
    tau = math.sqrt(p.lam_W * p.lam_H)
    if p.loss == "ce":
        L, G, gnorm, s, dual = _ce_dual(p, pt, tau)
        scaling_cost = 0.0  # the exact conjugate: the scaling is inside the gap, budgeted by 2 eps ||x||
    else:
        from ufm.nc.objective import problem_loss

        L, G, gnorm, s, dual, scaling_cost = _convex_dual(p, pt, tau, problem_loss(p))
    bias_pen = 0.5 * pt.lam_b * float(np.sum(pt.b**2))
    F = L + 0.5 * (p.lam_W * np.sum(pt.W**2) + p.lam_H * np.sum(pt.H**2)) + bias_pen
    Pconv = L + tau * float(np.sum(pt.sv)) + bias_pen
    bias_res = float(np.linalg.norm(G.sum(axis=1) + pt.lam_b * pt.b)) if p.bias else 0.0
    return Certificate(
        objective=float(F), convex_primal=float(Pconv), dual=dual, tau=tau, spectral_norm=gnorm,
        dual_scale=s, bias_residual=bias_res, range_residual=_range_residual(pt, G, tau),
        rank=_rank(pt.sv), params_norm=float(math.sqrt(np.sum(pt.W**2) + np.sum(pt.H**2) + np.sum(pt.b**2))),
        grad_bias_norm=float(np.linalg.norm(G.sum(axis=1))), _lam_b=pt.lam_b, _size=p.K * p.N,
        _scaling_cost=scaling_cost,
    )


def _rank(sv: np.ndarray) -> int:
    # numerical rank: singular values above 1e-8 of the largest and above 1e-10 absolute, so a
    # collapsed solve, Z ~ 1e-15, has rank 0
    return int(np.sum(sv > max(1e-8 * sv[0], 1e-10))) if sv.size else 0


def _range_residual(pt: _Point, G: np.ndarray, tau: float) -> float:
    """||U^T G V + tau I||_2 / tau on the r leading singular pairs of Z (0 if Z = 0)."""
    r = _rank(pt.sv)
    if not r:
        return 0.0
    U, _, Vt = np.linalg.svd(pt.W @ pt.H, full_matrices=False)
    M = U[:, :r].T @ G @ Vt[:r].T + tau * np.eye(r)
    return float(np.linalg.norm(M, 2) / tau)


def zero_params(problem: UFMProblem):
    p = problem
    return (np.zeros((p.K, p.d)), np.zeros((p.d, p.N)), np.zeros(p.K))


def zero_ratio(problem: UFMProblem) -> float:
    """||G(0)||_2 / tau measured at W = H = 0, b = 0 (numerically: SVD of the logit gradient)."""
    return certify(problem, zero_params(problem)).ratio
