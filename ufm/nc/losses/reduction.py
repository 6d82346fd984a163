"""The symmetric reduction of the UFM for any permutation-symmetric loss.

For a per-sample loss with ``l(Pi x, Pi y) = l(x, y)`` for every class
permutation Pi, the UFM objective (balanced, n samples per class, N = nK)

    F = (1/N) sum_i l(W h_i + b, y_i) + lam_W/2 ||W||^2 + lam_H/2 ||H||^2 + lam_b/2 ||b||^2

restricted to the neural-collapse (simplex ETF) ansatz -- logits
``rho (e_k - 1/K) + beta 1`` for a class-k sample, W and the class means a
scaled simplex ETF, b = beta 1 -- reduces to two scalars:

    f(rho, beta) = l(rho (e_1 - 1/K) + beta 1, y_1) + c (K - 1) rho + (lam_b/2) K beta^2,

``c = sqrt(n lam_W lam_H)``, rho >= 0 (beta = 0 without a bias, no beta
penalty with a free bias). `derive_reduction` derives this at a concrete K
with SymPy (every step checked; the penalty ``c (K - 1) rho`` and the norms
``||w_k||^2``, ``||h_{k,i}||^2`` are derived from the ETF factorization), the
first-order conditions, the bias, the collapse threshold and, where SymPy finds
it, the closed-form logit gap. `reduced_minimizer` evaluates the result at a
concrete problem: in closed form (CE, MSE) or, otherwise (focal loss), as a
root of df/drho certified to 30 digits by interval bisection.

Threshold convention: ``T = alpha + (1 - alpha) c / c_crit`` where ``c_crit``
solves ``df/drho(0+, beta*) = 0`` for c; for ``0 <= alpha < 1`` the one-sided
condition ``df/drho(0+) >= 0`` (rho = 0 locally optimal) holds iff ``T >= 1``.
For CE and MSE, ``T = alpha + K c`` (NC paper, Theorem 4.1).

References: NC paper, "Cross Entropy versus Label Smoothing: A Neural Collapse
Perspective", Theorem 4.1 (CE); Zhou et al. (2022), "Are All Losses Created
Equal: A Neural Collapse Perspective", NeurIPS (focal loss, label smoothing);
Zhou et al. (2022), "On the Optimization Landscape of Neural Collapse under MSE
Loss", ICML (MSE).

>>> from ufm.nc.losses.sympy_forms import sympy_form
>>> r = reduced_minimizer(sympy_form("mse"), K=4, n=2, alpha=0.1, lam_W=1e-3, lam_H=1e-3,
...                       lam_b=1e-3, bias="penalized", name="mse")
>>> round(r.rho, 12), r.method
(0.894343145751, 'closed form')
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import re
import warnings
from typing import Callable, NamedTuple

import mpmath
import numpy as np
import sympy as sp
from mpmath import mp

from ufm.core import validate
from ufm.core.cache import cached
from ufm.core.derivation import Derivation, is_zero
from ufm.nc.losses.interval import certified_root, interval_eval, interval_precision, sign
from ufm.nc.losses.sympy_forms import softmax_sym

__all__ = [
    "BIAS_MODES",
    "ReducedMinimizer",
    "derive_reduction",
    "is_permutation_symmetric",
    "reduced_minimizer",
    "reduction_derivation",
]

SOURCE = ("NC paper (Cross Entropy versus Label Smoothing), Theorem 4.1; Zhou et al. (2022), "
          "Are All Losses Created Equal: A Neural Collapse Perspective")
BIAS_MODES = ("penalized", "free", "none")
DIGITS = 30  # digits of a certified logit gap
SymLoss = Callable[[list, list], sp.Expr]


class Symbols(NamedTuple):
    alpha: sp.Symbol
    c: sp.Symbol
    lam_b: sp.Symbol
    n: sp.Symbol
    lW: sp.Symbol
    lH: sp.Symbol
    rho: sp.Symbol
    beta: sp.Symbol
    t: sp.Symbol  # the balance scalar of the factorization


def make_symbols() -> Symbols:
    """The symbols of the reduction, with the assumptions the steps rely on."""
    return Symbols(
        alpha=sp.Symbol("alpha", nonnegative=True), c=sp.Symbol("c", positive=True),
        lam_b=sp.Symbol("lambda_b", positive=True), n=sp.Symbol("n", positive=True, integer=True),
        lW=sp.Symbol("lambda_W", positive=True), lH=sp.Symbol("lambda_H", positive=True),
        rho=sp.Symbol("rho", positive=True), beta=sp.Symbol("beta", real=True),
        t=sp.Symbol("t", positive=True),
    )


def soft_label(K: int, alpha, k: int = 0) -> list[sp.Expr]:
    """``(1 - alpha) e_k + alpha/K 1`` as a list of SymPy expressions."""
    return [(1 - alpha) * (1 if j == k else 0) + alpha / sp.Integer(K) for j in range(K)]


def etf_logits(K: int, rho, beta, k: int = 0) -> list[sp.Expr]:
    """``rho (e_k - 1/K) + beta 1`` as a list of SymPy expressions."""
    return [rho * ((1 if j == k else 0) - sp.Rational(1, K)) + beta for j in range(K)]


# ----------------------------------------------------------------------------- symmetry


def _random_point(K: int, rng: random.Random) -> tuple[list, list]:
    x = [sp.Rational(rng.randint(-300, 300), rng.randint(50, 150)) for _ in range(K)]
    w = [sp.Integer(rng.randint(1, 50)) for _ in range(K)]
    return x, [wj / sum(w) for wj in w]


def is_permutation_symmetric(sym_loss: SymLoss, K: int, trials: int = 3, *, dps: int = 50,
                             seed: int = 0) -> bool:
    """True if ``l(Pi x, Pi y) = l(x, y)`` at `trials` random rational points, for Pi a
    transposition and a K-cycle (values compared at `dps` digits, to 10^(10 - dps) relative).

    Free parameters of the loss (gamma) are set to random positive rationals.
    A numeric test: False is a proof of asymmetry, True is evidence.
    """
    K = validate.integer("K", K, minimum=2)
    trials = validate.integer("trials", trials, minimum=1)
    rng = random.Random(seed)
    perms = [[1, 0] + list(range(2, K)), list(range(1, K)) + [0]]
    for _ in range(trials):
        x, y = _random_point(K, rng)
        base = sp.sympify(sym_loss(x, y))
        params = {s: sp.Rational(rng.randint(1, 30), 10) for s in base.free_symbols}
        v = sp.N(base.xreplace(params), dps)
        for perm in perms:
            w = sp.N(sp.sympify(sym_loss([x[i] for i in perm], [y[i] for i in perm])).xreplace(params), dps)
            if not abs(v - w) <= sp.Float(10) ** (10 - dps) * max(1, abs(v)):
                return False
    return True


# ----------------------------------------------------------------------------- derivation steps


def penalty_step(D: Derivation, S: Symbols, K: int) -> dict:
    """The weight decay of the ETF factorization of Z = rho P (x) 1_n^T, minimised over the
    balance t: ``c (K - 1) rho``, and the resulting ||w_k||^2, ||h_{k,i}||^2 (derived)."""
    rho, t, n, lW, lH = S.rho, S.t, S.n, S.lW, S.lH
    P = sp.eye(K) - sp.ones(K, K) / K
    W, Hbar = t * P, (rho / t) * P  # rows of W: t (e_k - 1/K); class means h_k = (rho/t)(e_k - 1/K)
    sq = lambda M: sp.Add(*[e**2 for e in M])  # noqa: E731  (squared Frobenius norm)
    D.identity("the factorization gives the ETF logits: ||W Hbar - rho P||_F^2 = 0", sq(W * Hbar - rho * P),
               0, display=r"\|W \bar H - \rho P\|_F^2",
               text=rf"With $P = I_{{{K}}} - J/{K}$, $W = t P$ (rows: a simplex ETF scaled by $t$) and "
                    r"$H = \bar H \otimes 1_n^\top$, $\bar H = (\rho/t) P$, so $WH = \rho P \otimes 1_n^\top$.")
    WF2, HF2 = sq(W), n * sq(Hbar)
    D.identity("||W||_F^2 = t^2 (K - 1)", WF2, t**2 * (K - 1), display=r"\|W\|_F^2")
    D.identity("||H||_F^2 = n (rho/t)^2 (K - 1)", HF2, n * (rho / t) ** 2 * (K - 1), display=r"\|H\|_F^2")
    g = lW / 2 * WF2 + lH / 2 * HF2
    (t_star,) = [s for s in sp.solve(sp.diff(g, t), t) if s.is_positive]
    ts = D.define("balance minimising the penalty (SymPy solve of dg/dt = 0, t > 0)", sp.Symbol("t^*"),
                  t_star)
    D.positive("second-order condition g''(t*) > 0", sp.diff(g, t, 2).subs(t, ts))
    g_star = sp.simplify(g.subs(t, ts))
    D.identity("penalty at the balance: sqrt(lam_W lam_H) ||Z||_*", g_star,
               sp.sqrt(lW * lH) * sp.sqrt(n) * (K - 1) * rho, display=sp.Subs(sp.Function("g")(t), t, sp.Symbol("t^*")))
    eig = P.eigenvals()
    nuclear = sp.Add(*[m * sp.sqrt(n * rho**2 * e) for e, m in eig.items()])
    D.identity("||Z||_* from Z Z^T = n rho^2 P (eigenvalues of P)", nuclear, sp.sqrt(n) * (K - 1) * rho,
               display=r"\|Z\|_*", text=f"SymPy: the eigenvalues of P (with multiplicity) are {eig}.")
    D.cited("The balanced ETF factorization attains the minimal penalty",
            r"$\min_{WH = Z} \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2 = "
            r"\sqrt{\lambda_W\lambda_H}\,\|Z\|_*$; the two steps above show the ETF factorization "
            r"at $t^*$ attains it.",
            source="Srebro, Rennie & Jaakkola (2005), Maximum-Margin Matrix Factorization, Lemma 1; "
                    "Zhu et al. (2021), A Geometric Analysis of Neural Collapse, Lemma A.3.")
    D.define("c, the penalty per unit of logit gap and non-target class", S.c, sp.sqrt(n * lW * lH))
    D.identity("penalty = c (K - 1) rho", g_star, sp.sqrt(n * lW * lH) * (K - 1) * rho,
               display=S.c * (K - 1) * rho)
    w2 = sp.simplify((W.row(0) * W.row(0).T)[0].subs(t, t_star))
    h2 = sp.simplify((Hbar.col(0).T * Hbar.col(0))[0].subs(t, t_star))
    D.identity("||w_k||^2 at the balance", w2, sp.Rational(K - 1, K) * rho * sp.sqrt(n * lH / lW),
               display=r"\|w_k\|^2")
    D.identity("||h_{k,i}||^2 at the balance", h2, sp.Rational(K - 1, K) * rho * sp.sqrt(lW / (n * lH)),
               display=r"\|h_{k,i}\|^2")
    return {"penalty": S.c * (K - 1) * rho, "w_norm_sq": w2, "h_norm_sq": h2}


class Reduced(NamedTuple):
    x: list  # the ETF logits of a class-1 sample
    y: list  # its soft label
    loss: sp.Expr  # l(x, y)
    f: sp.Expr  # the reduced objective f(rho, beta)


def reduced_objective(D: Derivation, S: Symbols, K: int, sym_loss: SymLoss, bias: str,
                      penalty: sp.Expr) -> Reduced:
    """f(rho, beta) = l(rho (e_1 - 1/K) + beta 1, y_1) + c (K - 1) rho (+ lam_b K beta^2 / 2)."""
    beta = S.beta if bias != "none" else sp.Integer(0)
    D.cited("Symmetric (neural collapse) ansatz",
            r"At the ETF logits $\rho(e_k - 1/K) + \beta 1$ every sample has the same per-sample loss "
            r"(permutation symmetry), so the data term of $F$ is $\ell$ of a class-1 sample. For a loss "
            r"convex in the logits (CE, MSE) averaging a minimizer over the symmetry group shows that a "
            r"global minimizer has this form. Zhou et al. (2022) prove that neural collapse solutions are "
            r"the global minimizers for a broad family of losses, label smoothing and the focal loss "
            r"(one-hot labels) among them; for the focal loss with a soft label, or any other loss, $f$ is "
            r"the objective restricted to the ansatz and its minimizer the best symmetric point.",
            source="Zhu et al. (2021), A Geometric Analysis of Neural Collapse with Unconstrained Features, "
                   "proof of Theorem 3.1 (symmetrization); Zhou et al. (2022), Are All Losses Created Equal: "
                   "A Neural Collapse Perspective, NeurIPS (global optimality of neural collapse for LS and FL).")
    x, y = etf_logits(K, S.rho, beta), soft_label(K, S.alpha)
    D.identity("soft label sums to one", sp.Add(*y), 1, display=r"\sum_j y_j")
    loss = sp.sympify(sym_loss(x, y))
    bias_term = {"penalized": S.lam_b / 2 * K * S.beta**2, "free": 0, "none": 0}[bias]
    f = loss + penalty + bias_term
    text = {"penalized": r"$\|b\|^2 = K\beta^2$ for $b = \beta 1$.",
            "free": r"The bias $b = \beta 1$ is not penalised ($\lambda_b = 0$).",
            "none": r"No bias: $\beta = 0$."}[bias]
    D.define("reduced objective f(rho, beta)", sp.Function("f")(S.rho, S.beta), f, text)
    return Reduced(x, y, loss, f)


def first_order(D: Derivation, S: Symbols, K: int, sym_loss: SymLoss, red: Reduced,
                bias: str) -> tuple[sp.Expr, sp.Expr | None]:
    """df/drho and df/dbeta, each checked against the chain rule through a generic loss gradient."""
    xs = sp.symbols(f"x_1:{K + 1}", real=True)
    generic = sp.sympify(sym_loss(list(xs), red.y))
    grad = [sp.diff(generic, xj).xreplace(dict(zip(xs, red.x))) for xj in xs]
    e1 = [(1 if j == 0 else 0) - sp.Rational(1, K) for j in range(K)]
    drho = sp.diff(red.f, S.rho)
    D.identity("df/drho by the chain rule", sp.Add(*[gj * ej for gj, ej in zip(grad, e1)]) + S.c * (K - 1),
               drho, display=r"\sum_j \partial_j \ell \,(e_1 - 1/K)_j + c (K - 1)",
               text=r"$\partial_j\ell$: the gradient of the loss in generic logits, at the ETF logits.")
    if bias == "none":
        return drho, None
    dbeta = sp.diff(red.f, S.beta)
    extra = S.lam_b * K * S.beta if bias == "penalized" else 0
    D.identity("df/dbeta by the chain rule", sp.Add(*grad) + extra, dbeta,
               display=r"\sum_j \partial_j \ell" + (r" + \lambda_b K \beta" if extra else ""))
    return drho, dbeta


def bias_optimum(D: Derivation, S: Symbols, red: Reduced, dbeta: sp.Expr | None,
                 bias: str) -> tuple[sp.Expr | None, bool]:
    """beta* from df/dbeta = 0, and whether the loss is shift invariant (dl/dbeta = 0 identically)."""
    if bias == "none":
        D.note("no bias", r"$\beta^* = 0$ by definition of the model without a bias.")
        return sp.Integer(0), False
    dl = sp.diff(red.loss, S.beta)
    invariant, method = is_zero(dl)
    if invariant:
        D.identity("shift invariance: dl/dbeta = 0 identically", sp.Derivative(red.loss, S.beta), 0,
                   text=r"The loss depends on the logits only through their differences.")
        if bias == "free":
            D.note("free bias of a shift-invariant loss",
                   r"$f$ does not depend on $\beta$: $\beta$ is undetermined; $\beta^* = 0$ is reported "
                   r"as the representative.")
            return sp.Integer(0), True
    else:
        D.note("not shift invariant", f"dl/dbeta = 0 is not an identity ({method}).")
    sols = sp.solve(dbeta, S.beta)
    if len(sols) != 1:
        D.note("no closed-form bias", f"SymPy finds {len(sols)} solutions of df/dbeta = 0 for beta.")
        return None, invariant
    beta_star = sp.simplify(sols[0])
    bs = sp.Symbol(r"\beta^*")
    D.define("beta* (SymPy solve of df/dbeta = 0)", bs, beta_star)
    D.identity("df/dbeta = 0 at beta*", dbeta.subs(S.beta, beta_star), 0,
               display=sp.Subs(sp.Derivative(sp.Function("f")(S.rho, S.beta), S.beta), S.beta, bs))
    d2 = sp.simplify(sp.diff(dbeta, S.beta))
    D.positive("d2f/dbeta2 > 0: beta* minimises f in beta", d2)
    return beta_star, invariant


def envelope(D: Derivation, S: Symbols, red: Reduced, drho: sp.Expr, beta_star: sp.Expr) -> sp.Expr:
    """g(rho) = d/drho f(rho, beta*(rho)), which equals df/drho at beta* (envelope theorem)."""
    g = sp.diff(red.f.subs(S.beta, beta_star), S.rho)
    D.identity("d/drho f(rho, beta*) = df/drho (rho, beta*) (envelope)", g, drho.subs(S.beta, beta_star),
               display=sp.Derivative(sp.Function("f")(S.rho, sp.Symbol(r"\beta^*")), S.rho))
    return g


def threshold_step(D: Derivation, S: Symbols, K: int, g: sp.Expr) -> tuple[sp.Expr | None, sp.Expr | None]:
    """c_crit solving g(0+) = 0 for c, and T = alpha + (1 - alpha) c / c_crit (collapse iff T >= 1)."""
    c, alpha = S.c, S.alpha
    g0 = sp.simplify(g.subs(S.rho, 0))
    sols = sp.solve(g0, c)
    if sp.diff(g0, c, 2) != 0 or len(sols) != 1:
        D.note("no threshold", "g(0+) is not affine in c; the collapse is decided numerically.")
        return None, None
    c_crit = sp.simplify(sols[0])
    cc = sp.Symbol("c_crit")
    D.define("critical c: g(0+) = 0 (SymPy solve for c)", cc, c_crit)
    D.identity("g(0+) = (K - 1)(c - c_crit)", g0, (K - 1) * (c - c_crit),
               display=sp.Subs(sp.Function("g")(S.rho), S.rho, 0),
               text=r"$g(\rho) = \partial_\rho f(\rho, \beta^*)$; $g(0^+) \ge 0$ iff $c \ge c_{crit}$.")
    sigma = sp.Symbol("sigma", positive=True)
    D.positive("c_crit > 0 for alpha < 1 (alpha = 1 - sigma, sigma > 0)", c_crit.subs(alpha, 1 - sigma))
    T = sp.simplify(alpha + (1 - alpha) * c / c_crit)
    D.define("threshold T = alpha + (1 - alpha) c / c_crit", sp.Symbol("T"), T)
    D.identity("T - 1 = (1 - alpha)(c - c_crit)/c_crit: collapse condition g(0+) >= 0 iff T >= 1",
               T - 1, (1 - alpha) * (c - c_crit) / c_crit)
    return c_crit, T


def closed_form_step(D: Derivation, S: Symbols, g: sp.Expr) -> sp.Expr | None:
    """rho solving g(rho) = 0, tried only where g is rational in u = exp(rho) or polynomial in rho."""
    rho, u = S.rho, sp.Symbol("u", positive=True)
    g_u = g.subs(sp.exp(rho), u)
    if rho not in g_u.free_symbols and g_u.is_rational_function(u):
        num = sp.numer(sp.together(g_u))
        if sp.degree(num, u) > 4:
            D.note("no closed form", "g is rational in u = exp(rho) of degree > 4; not solved.")
            return None
        cands = [sp.log(sp.simplify(r)) for r in sp.solve(num, u) if r.is_positive is not False]
        how = "SymPy solve of g = 0 in u = exp(rho)"
    elif g.is_polynomial(rho) and sp.degree(g, rho) <= 4:
        cands = [sp.simplify(r) for r in sp.solve(g, rho) if r.is_real is not False]
        how = "SymPy solve of g = 0 (polynomial in rho)"
    else:
        D.note("no closed form", "g(rho) = 0 is neither polynomial in rho nor rational in exp(rho): "
                                 "the logit gap is certified numerically.")
        return None
    if len(cands) != 1:
        D.note("no closed form", f"{how} gives {len(cands)} admissible solutions.")
        return None
    rs = sp.Symbol(r"\rho^*")
    D.define(f"rho* ({how}); valid where T < 1", rs, cands[0])
    D.identity("g(rho*) = 0", g.subs(rho, cands[0]), 0, display=sp.Subs(sp.Function("g")(rho), rho, rs))
    return cands[0]


# ----------------------------------------------------------------------------- the derivation


def _check_loss(sym_loss: SymLoss, K: int, name: str) -> None:
    if not callable(sym_loss):
        raise validate.invalid("sym_loss", sym_loss, "is not callable", "a callable (x, y) -> SymPy Expr")
    if not is_permutation_symmetric(sym_loss, K):
        raise validate.invalid("sym_loss", name, "is not symmetric under class permutations",
                               "a loss with l(Pi x, Pi y) = l(x, y) for every permutation Pi")


def derive_reduction(sym_loss: SymLoss, K: int, bias: str, name: str) -> Derivation:
    """The symmetric reduction of the UFM for `sym_loss` at the integer K (uncached; seconds).

    `sym_loss(x, y)`: the per-sample loss of K logits and a K soft label
    (see `ufm.nc.losses.sympy_forms`); its own parameters (gamma) stay symbolic.
    `bias`: "penalized" | "free" | "none". `name` titles the derivation.

    ``D.results``: ``f`` (f(rho, beta)), ``drho``, ``dbeta`` (None without a
    bias), ``beta_star`` (None if SymPy finds no closed form), ``g`` (df/drho at
    beta*), ``c_crit``, ``threshold`` (T: collapse condition g(0+) >= 0 iff
    T >= 1; None if g(0+) is not affine in c), ``rho_closed`` (the stationary
    point where T < 1, or None), ``shift_invariant``, ``p_target``,
    ``penalty``, ``w_norm_sq``, ``h_norm_sq``.
    """
    K = validate.integer("K", K, minimum=2)
    bias = validate.choice("bias", bias, BIAS_MODES)
    _check_loss(sym_loss, K, name)
    S = make_symbols()
    D = Derivation(f"Symmetric reduction of the UFM: loss {name}, K = {K}, bias {bias}", SOURCE)
    D.symbols.update(alpha=S.alpha, c=S.c, lambda_b=S.lam_b, n=S.n, lambda_W=S.lW, lambda_H=S.lH,
                     rho=S.rho, beta=S.beta)
    pen = penalty_step(D, S, K)
    red = reduced_objective(D, S, K, sym_loss, bias, pen["penalty"])
    params = sorted(red.loss.free_symbols - set(S), key=lambda s: s.name)
    D.symbols.update({s.name: s for s in params})
    drho, dbeta = first_order(D, S, K, sym_loss, red, bias)
    beta_star, invariant = bias_optimum(D, S, red, dbeta, bias)
    g = c_crit = T = rho_closed = None
    if beta_star is not None:
        g = envelope(D, S, red, drho, beta_star)
        c_crit, T = threshold_step(D, S, K, g)
        rho_closed = closed_form_step(D, S, g)
    beta_p = S.beta if beta_star is None else beta_star
    D.results.update(
        f=red.f, drho=drho, dbeta=dbeta, beta_star=beta_star, g=g, c_crit=c_crit, threshold=T,
        rho_closed=rho_closed, shift_invariant=sp.true if invariant else sp.false,
        p_target=softmax_sym(etf_logits(K, S.rho, beta_p))[0], penalty=pen["penalty"],
        w_norm_sq=pen["w_norm_sq"], h_norm_sq=pen["h_norm_sq"],
    )
    return D


def _fingerprint(sym_loss: SymLoss, K: int) -> str:
    """A hash of the loss's expression at generic logits and labels (keys the disk cache)."""
    xs, ys = sp.symbols(f"x_1:{K + 1}", real=True), sp.symbols(f"y_1:{K + 1}", nonnegative=True)
    return hashlib.sha256(sp.srepr(sp.sympify(sym_loss(list(xs), list(ys)))).encode()).hexdigest()[:12]


_MEMORY: dict[tuple, Derivation] = {}


def reduction_derivation(sym_loss: SymLoss, K: int, bias: str, name: str) -> Derivation:
    """`derive_reduction`, cached in memory and on disk (`ufm.core.cache.cached`).

    The disk key is the source of this module and its ufm imports; the file
    name holds `name`, K, `bias` and a hash of the loss's expression at
    generic arguments, so two different losses never share an entry even under
    one name.
    """
    K = validate.integer("K", K, minimum=2)
    bias = validate.choice("bias", bias, BIAS_MODES)
    fp = _fingerprint(sym_loss, K)
    key = (fp, K, bias)
    if key not in _MEMORY:
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", str(name))[:40]
        _MEMORY[key] = cached(lambda: derive_reduction(sym_loss, K, bias, name), __name__,
                              f"loss-reduction-{safe}-K{K}-{bias}-{fp}")
    return _MEMORY[key]


# ----------------------------------------------------------------------------- numbers


@dataclasses.dataclass(frozen=True)
class ReducedMinimizer:
    """The minimizer of the reduced objective at a concrete problem (see `reduced_minimizer`).

    rho (= logit_gap) and beta: the ETF logits ``rho (e_k - 1/K) + beta 1``;
    objective: F at the ETF point (= f(rho, beta)); p_target: softmax target
    probability of those logits; w_norm_sq / h_norm_sq: ||w_k||^2, ||h_{k,i}||^2;
    threshold: T (collapse condition iff T >= 1; nan if not derived);
    collapsed: rho = 0 minimises f; method: "closed form" | "interval certified"
    | "collapsed"; rho_str: rho with >= 30 significant digits (certified
    enclosure midpoint); digits: the certified relative digits of rho (None if
    collapsed); certificate: how rho was obtained.
    """

    loss: str
    K: int
    n: int
    alpha: float
    lam_W: float
    lam_H: float
    lam_b: float | None
    bias: str
    params: dict
    rho: float
    beta: float
    objective: float
    p_target: float
    logit_gap: float
    w_norm_sq: float
    h_norm_sq: float
    collapsed: bool
    threshold: float
    c_crit: float
    method: str
    certificate: dict | None
    digits: int | None
    rho_str: str


def _validated(K, n, alpha, lam_W, lam_H, lam_b, bias) -> tuple:
    K = validate.integer("K", K, minimum=2)
    n = validate.integer("n", n, minimum=1)
    alpha = validate.real("alpha", alpha, 0, 1, hi_open=True)
    lam_W = validate.real("lam_W", lam_W, 0, lo_open=True)
    lam_H = validate.real("lam_H", lam_H, 0, lo_open=True)
    bias = validate.choice("bias", bias, BIAS_MODES)
    if bias == "penalized":
        lam_b = validate.real("lam_b", lam_b, 0, lo_open=True, note='bias="penalized"')
    elif bias == "free":
        lam_b = validate.real("lam_b", 0.0 if lam_b is None else lam_b, 0, 0, note='bias="free" has lam_b = 0')
    elif lam_b not in (None, 0, math.inf):
        raise validate.invalid("lam_b", lam_b, 'is given with bias="none"', "None, 0 or inf (no bias)")
    return K, n, alpha, lam_W, lam_H, (None if bias == "none" else lam_b), bias


def _environment(D: Derivation, n, alpha, lam_W, lam_H, lam_b, params) -> tuple[dict, dict]:
    """(substitution c -> sqrt(n lam_W lam_H), values of the symbols: exact binary numbers)."""
    s = D.symbols
    env = {s["alpha"]: float(alpha), s["n"]: int(n), s["lambda_W"]: float(lam_W),
           s["lambda_H"]: float(lam_H), s["lambda_b"]: float(lam_b or 0.0)}
    known = {k for k in s if k not in ("rho", "beta", "alpha", "c", "lambda_b", "n", "lambda_W", "lambda_H")}
    params = dict(params or {})
    for k in known:
        if k not in params:
            raise validate.invalid("params", params, f"has no value for the loss parameter {k}",
                                   f"a dict with a number for each of {sorted(known)}")
        env[s[k]] = float(validate.real(f"params[{k!r}]", params[k]))
    extra = set(params) - known
    if extra:
        raise validate.invalid("params", params, f"names unknown parameters {sorted(extra)}",
                               f"the loss parameters {sorted(known)}")
    return {s["c"]: sp.sqrt(s["n"] * s["lambda_W"] * s["lambda_H"])}, env


def _scan(g: sp.Expr, rho: sp.Symbol, env: dict, points: int = 4001) -> tuple[np.ndarray, np.ndarray, float]:
    """g on a float grid of [0, rho_max]: rho_max doubled from 32 until g(rho_max) > 0 (a grid
    point where g is not a finite float counts as sign 0, i.e. is skipped)."""
    args = sorted(env, key=lambda s: s.name)
    fn = sp.lambdify([rho, *args], g, "numpy")
    vals = [float(env[a]) for a in args]
    rho_max = 32.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while not fn(rho_max, *vals) > 0:
            rho_max *= 2
            if rho_max > 2.0**12:
                raise ArithmeticError(f"df/drho stays <= 0 up to rho = {rho_max / 2}: no minimizer found")
        grid = np.linspace(0.0, rho_max, points)
        gv = np.asarray(fn(grid, *vals), dtype=float) * np.ones_like(grid)
    return grid, gv, rho_max


def _certified_minima(g, rho, env, grid, gv) -> tuple[list, dict]:
    """Certified roots of g at its -/+ sign changes on the grid (local minima of f), and scan facts."""
    s = np.sign(np.nan_to_num(gv, nan=0.0))
    idx = [i for i in range(len(grid) - 1) if s[i] != 0 and s[i + 1] != 0 and s[i] != s[i + 1]]
    roots = []
    for i in idx:
        if s[i] > 0:  # + to -: a local maximum of f
            continue
        for w in range(4):  # widen if a float sign was wrong
            lo, hi = grid[max(i - w, 0)], grid[min(i + 1 + w, len(grid) - 1)]
            try:
                roots.append(certified_root(g, rho, lo, hi, DIGITS, env=env))
                break
            except ValueError:
                continue
        else:
            raise ArithmeticError(f"could not certify the sign change of df/drho in [{grid[i]}, {grid[i + 1]}]")
    scan = {"points": len(grid), "rho_max": float(grid[-1]), "sign_changes": len(idx),
            "local_minima": len(roots), "g(0)": float(gv[0])}
    return roots, scan


def _value(expr, env, rho: sp.Symbol, rho_value) -> mpmath.mpf:
    """The midpoint of an interval enclosure of `expr` at rho = `rho_value` (a number or an interval)."""
    with interval_precision(DIGITS + 30):
        v = interval_eval(expr, {**env, rho: rho_value})
        return (mp.make_mpf(v._mpi_[0]) + mp.make_mpf(v._mpi_[1])) / 2


def _closed_candidate(rho_closed, env) -> tuple | None:
    """(enclosure, digits, certificate, midpoint string) of the closed-form rho*, or None where it is not > 0."""
    with interval_precision(DIGITS + 30):
        try:
            r = interval_eval(rho_closed, env)
        except ValueError:  # e.g. log of a non-positive number: the threshold is crossed
            return None
        if sign(r) != 1:
            return None
        lo, hi = mp.make_mpf(r._mpi_[0]), mp.make_mpf(r._mpi_[1])
        rel = (hi - lo) / ((hi + lo) / 2)
        digits = int(-mpmath.log10(rel)) if rel > 0 else mp.dps
        cert = {"method": "closed form evaluated in mpmath.iv interval arithmetic at the exact "
                          "binary values of the parameters", "expression": str(rho_closed),
                "enclosure": str(r), "dps": mp.dps, "digits": digits}
        return r, digits, cert, mpmath.nstr((lo + hi) / 2, DIGITS + 2, min_fixed=-mp.inf, max_fixed=mp.inf)


def _candidates(D: Derivation, sub: dict, env: dict) -> tuple[list, dict | None]:
    """Candidates (rho value, method, certificate, digits, rho_str) for the minimizer of f, rho = 0 first."""
    rho = D.symbols["rho"]
    out = [(sp.Integer(0), "collapsed", None, None, "0")]
    if D.results["rho_closed"] is not None:
        found = _closed_candidate(D.results["rho_closed"].xreplace(sub), env)
        if found:
            r, digits, cert, rho_str = found
            out.append((r, "closed form", cert, digits, rho_str))
        return out, None
    g = D.results["g"].xreplace(sub)
    grid, gv, _ = _scan(g, rho, env)
    roots, scan = _certified_minima(g, rho, env, grid, gv)
    for root in roots:
        cert = {**root.certificate, "bracket": (mpmath.nstr(root.lo, DIGITS + 10), mpmath.nstr(root.hi, DIGITS + 10)),
                "digits": root.digits, "unique": root.unique, "scan": scan}
        with interval_precision(DIGITS + 30):
            enclosure = mpmath.iv.mpf([root.lo, root.hi])
        out.append((enclosure, "interval certified", cert, root.digits, root.value_str))
    return out, scan


def reduced_minimizer(sym_loss: SymLoss, *, K: int, n: int, alpha: float, lam_W: float, lam_H: float,
                      lam_b: float | None, bias: str, name: str, params: dict | None = None) -> ReducedMinimizer:
    """The minimizer of the reduced objective f(rho, beta) at a concrete problem.

    Uses `reduction_derivation` (cached). rho* is the closed form where SymPy
    found one (evaluated in interval arithmetic), else each local minimum of
    f on rho > 0 is located by a float scan of df/drho (at beta*) and certified
    to 30 digits by `certified_root` at the exact binary parameter values; the
    minimizer is the candidate (those roots and rho = 0) with the least f.
    `params`: values of the loss's own symbols, e.g. ``{"gamma": 2}``.
    `lam_b` must be > 0 for bias "penalized", 0 (or None) for "free", None for "none".
    """
    K, n, alpha, lam_W, lam_H, lam_b, bias = _validated(K, n, alpha, lam_W, lam_H, lam_b, bias)
    D = reduction_derivation(sym_loss, K, bias, name)
    res, s = D.results, D.symbols
    if res["beta_star"] is None:
        raise NotImplementedError(f"loss {name}: no closed-form beta*; the two-variable reduction "
                                  f"is not implemented")
    sub, env = _environment(D, n, alpha, lam_W, lam_H, lam_b, params)
    rho, bsub = s["rho"], {s["beta"]: res["beta_star"]}
    f = res["f"].xreplace(bsub).xreplace(sub)
    cands, scan = _candidates(D, sub, env)
    fvals = [_value(f, env, rho, c[0]) for c in cands]
    best = min(range(len(cands)), key=lambda i: fvals[i])
    r, method, cert, digits, rho_str = cands[best]
    summary = [(c[4][:20], mpmath.nstr(v, 20)) for c, v in zip(cands, fvals)]
    cert = {**(cert or {"method": "rho = 0 has the least f among the candidates"}),
            "candidates (rho, f)": summary, **({"scan": scan} if scan and method == "collapsed" else {})}
    at = lambda e: float(_value(e.xreplace(bsub).xreplace(sub), env, rho, r))  # noqa: E731
    rho_f = float(_value(rho, env, rho, r))
    T, cc = res["threshold"], res["c_crit"]
    return ReducedMinimizer(
        loss=name, K=K, n=n, alpha=alpha, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b, bias=bias,
        params=dict(params or {}), rho=rho_f, beta=at(res["beta_star"]), objective=float(fvals[best]),
        p_target=at(res["p_target"]), logit_gap=rho_f, w_norm_sq=at(res["w_norm_sq"]),
        h_norm_sq=at(res["h_norm_sq"]), collapsed=method == "collapsed",
        threshold=math.nan if T is None else at(T), c_crit=math.nan if cc is None else at(cc),
        method=method, certificate=cert, digits=digits, rho_str=rho_str,
    )
