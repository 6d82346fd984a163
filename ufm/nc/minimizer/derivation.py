"""Theorem 4.1 derived in SymPy: the closed-form global minimizer of the UFM.

NC paper, Theorem 4.1 and eq. (13)-(14). Nothing here is transcribed: the
logit gap rho comes out of `sympy.solve` applied to the first-order
condition of the scalar problem that the objective reduces to, and the
regime threshold comes from the sign of that derivative at 0.

The reduction, one function per step group (each step recorded in the
`Derivation`; `derive` calls them in order):

1. `factorization_penalty`: for fixed logits Z = W H,
   min lam_W/2 ||W||^2 + lam_H/2 ||H||^2 over the factorizations of Z equals
   sqrt(lam_W lam_H) ||Z||_* (cited, plus the AM-GM balancing solved by SymPy).
2. `symmetric_logits`: cross-entropy is convex in the logits and the problem
   is symmetric under class permutations, so an optimal logit matrix is
   Z = rho P (x) 1_n^T with P = I - J/K (cited symmetrisation argument, Zhu
   et al. 2021). Its nuclear norm follows from P^2 = P and tr P = K - 1
   (SymPy, in the I/J algebra).
3. `reduced_objective`, `first_order_condition`, `stationary_point`: the
   objective becomes f(rho) = CE_alpha(rho) + c (K - 1) rho with
   c = sqrt(n lam_W lam_H); SymPy differentiates, proves convexity, finds the
   threshold from f'(0), and solves f'(rho) = 0 (eq. (13)-(14)).
4. `norms_and_bias`: the feature and classifier norms and the bias at the
   optimum; `collect_results` assembles the regime-wise closed forms.

>>> import sympy as sp
>>> m = minimizer_derivation()
>>> s = m.symbols
>>> rho = m.results["rho_interior"]   # the stationary point, alpha + K c < 1
>>> sp.simplify(m.results["dfdrho"].subs(s["rho"], rho))
0
>>> cf = closed_form(UFMProblem(K=4, d=3, n=2, alpha=0.1, lam_W=1e-3, lam_H=1e-3))
>>> round(cf["rho"], 10)
3.5512942902
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import sympy as sp

from ufm.core.cache import cached
from ufm.core.derivation import Derivation
from ufm.core.ij_algebra import IJ
from ufm.nc.problem import UFMProblem

SOURCE = "NC paper (Cross Entropy versus Label Smoothing), Theorem 4.1, eq. (9)-(14)"


class Symbols(NamedTuple):
    """The symbols of Theorem 4.1 (and the auxiliary x, s, u of its proof)."""

    K: sp.Symbol
    n: sp.Symbol
    alpha: sp.Symbol
    lW: sp.Symbol
    lH: sp.Symbol
    rho: sp.Symbol
    x: sp.Symbol  # ||W||_F^2 of a factorization
    s: sp.Symbol  # ||Z||_*
    u: sp.Symbol  # u = exp(rho)

    @property
    def c(self) -> sp.Expr:
        """c = sqrt(n lam_W lam_H), the scale of the regularizer per logit."""
        return sp.sqrt(self.n * self.lW * self.lH)


def make_symbols() -> Symbols:
    """The symbols with the assumptions the derivation relies on."""
    x, s = sp.symbols("x s", positive=True)
    return Symbols(
        K=sp.Symbol("K", positive=True, integer=True),
        n=sp.Symbol("n", positive=True, integer=True),
        alpha=sp.Symbol("alpha", nonnegative=True),
        lW=sp.Symbol("lambda_W", positive=True),
        lH=sp.Symbol("lambda_H", positive=True),
        rho=sp.Symbol("rho", nonnegative=True),
        x=x,
        s=s,
        u=sp.Symbol("u", positive=True),
    )


def new_derivation(S: Symbols) -> Derivation:
    """An empty Theorem 4.1 derivation with its public symbols registered."""
    D = Derivation("Theorem 4.1: the global minimizer of the UFM", SOURCE)
    D.symbols.update(K=S.K, n=S.n, alpha=S.alpha, lambda_W=S.lW, lambda_H=S.lH, rho=S.rho)
    return D


def factorization_penalty(D: Derivation, S: Symbols) -> sp.Expr:
    """Step 1: the weight decay of a balanced factorization is sqrt(lam_W lam_H) ||Z||_*.

    Returns x* = ||W||_F^2 at the balanced factorization, as a function of s = ||Z||_*.
    """
    lW, lH, x, s = S.lW, S.lH, S.x, S.s
    D.cited(
        "Nuclear norm as a factorization penalty",
        r"For every factorization $Z = WH$, $\|Z\|_* \le \|W\|_F \|H\|_F$, with "
        r"equality for a balanced SVD factorization (Srebro et al. 2005; used by "
        r"Zhu et al. 2021, Lemma A.3). Hence, at $\|W\|_F^2 = x$, "
        r"$\|H\|_F^2 = s^2/x$ with $s = \|Z\|_*$, the penalty is minimised over $x$.",
        source=r"Srebro, Rennie & Jaakkola (2005), *Maximum-Margin Matrix Factorization*, NeurIPS, "
               r"Lemma 1 ($\|Z\|_* = \min_{WH=Z}\frac12(\|W\|_F^2+\|H\|_F^2)$, whose AM-GM form is the "
               r"statement above); as used by Zhu et al. (2021), *A Geometric Analysis of Neural Collapse "
               r"with Unconstrained Features*, Lemma A.3.",
    )
    g = lW / 2 * x + lH / 2 * s**2 / x
    (x_star,) = sp.solve(sp.diff(g, x), x)
    D.define("balanced Frobenius norm of W", sp.Symbol("x^*"), x_star,
             r"SymPy solves $\partial_x(\lambda_W x/2 + \lambda_H s^2/(2x)) = 0$.")
    D.positive("second-order condition: g''(x*) > 0", sp.diff(g, x, 2).subs(x, x_star))
    D.identity("penalty at the balanced factorization", g.subs(x, x_star), sp.sqrt(lW * lH) * s,
               display=sp.Subs(g, x, sp.Symbol("x^*")),
               text=r"So $\min_{WH=Z} \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2 "
                    r"= \sqrt{\lambda_W\lambda_H}\,\|Z\|_*$.")
    return x_star


def symmetric_logits(D: Derivation, S: Symbols) -> sp.Expr:
    """Step 2: optimal logits Z = rho P (x) 1_n^T; returns ||Z||_* = (K-1) sqrt(n) rho."""
    K, n, rho = S.K, S.n, S.rho
    D.cited(
        "Symmetric optimal logits",
        r"CE is convex in the logits and the objective is invariant under "
        r"permuting classes (with their samples) and under permuting samples "
        r"within a class. Averaging an optimal $Z$ over this group keeps the "
        r"nuclear norm from increasing and the loss from increasing (Jensen), so "
        r"an optimal $Z$ has the form $Z = \rho\,P \otimes 1_n^\top$ (+ a shift "
        r"along $1_K$, which softmax ignores and the bias penalty sets to 0), "
        r"with $P = I_K - J_K/K$ (Zhu et al. 2021, proof of Thm 3.1).",
        source=r"Zhu et al. (2021), *A Geometric Analysis of Neural Collapse with Unconstrained "
               r"Features*, NeurIPS, proof of Theorem 3.1 (symmetrization of a minimizer); Jensen's "
               r"inequality for the convex CE and the convex nuclear norm.",
    )
    P = IJ(sp.Integer(1), -1 / K, K)
    a, b = sp.symbols("a b")  # P = a I + b J; (a I + b J)^2 = a^2 I + (2 a b + K b^2) J as J^2 = K J
    D.identity("P is a projector: P^2 = P (coefficient on I)", (P * P).a, P.a,
               display=sp.Subs(a**2, a, P.a),
               text=r"In the algebra of $aI + bJ$ ($J = 1 1^\top$, $J^2 = KJ$), $P = I - J/K$.")
    D.identity("P is a projector: P^2 = P (coefficient on J)", (P * P).b, P.b,
               display=sp.Subs(2 * a * b + K * b**2, (a, b), (P.a, P.b)))
    D.identity("rank of P = tr P", P.trace(), K - 1, display=sp.Subs(K * a + K * b, (a, b), (P.a, P.b)),
               text=r"$\operatorname{tr}(aI + bJ) = Ka + Kb$.")
    # Z Z^T = n rho^2 P P^T = n rho^2 P: K-1 singular values sqrt(n) rho.
    nuc = (K - 1) * sp.sqrt(n) * rho
    D.define("nuclear norm of Z (Z Z^T = n rho^2 P)", sp.Symbol(r"\|Z\|_*"), nuc)
    return nuc


class ScalarProblem(NamedTuple):
    """The reduced objective f(rho) and its ingredients (functions of rho)."""

    f: sp.Expr
    p_t: sp.Expr  # softmax probability of the target class
    p_nt: sp.Expr  # of each non-target class
    y_t: sp.Expr  # soft label of the target class
    y_nt: sp.Expr  # of each non-target class


def reduced_objective(D: Derivation, S: Symbols, nuc: sp.Expr) -> ScalarProblem:
    """Step 3a: the objective at symmetric logits, f(rho) = CE_alpha(rho) + sqrt(lam_W lam_H) ||Z||_*."""
    K, alpha, rho, u = S.K, S.alpha, S.rho, S.u
    # Logits (rho, 0, ..., 0) up to shift; soft label (1 - alpha + alpha/K, alpha/K, ...).
    p_t_u = u / (u + K - 1)
    p_nt_u = 1 / (u + K - 1)
    y_t = 1 - alpha + alpha / K
    y_nt = alpha / K
    D.identity("soft labels sum to one", y_t + (K - 1) * y_nt, 1,
               display=rf"\left({sp.latex(y_t)}\right) + \left(K - 1\right) {sp.latex(y_nt)}")
    D.identity("probabilities sum to one", p_t_u + (K - 1) * p_nt_u, 1,
               display=rf"{sp.latex(p_t_u)} + \left(K - 1\right) {sp.latex(p_nt_u)}",
               text=r"with $u = e^\rho$.")
    p_t = p_t_u.subs(u, sp.exp(rho))
    p_nt = p_nt_u.subs(u, sp.exp(rho))
    D.abbreviate("c = sqrt(n lam_W lam_H), the penalty per unit of logit gap", sp.Symbol("c", positive=True),
                 S.c, r"A display symbol: in the steps below $c$ stands for $\sqrt{n\lambda_W\lambda_H}$.")
    D.abbreviate("p_t, the softmax probability of the target class", sp.Symbol("p_t", positive=True), p_t)
    D.abbreviate("p_nt, the softmax probability of each non-target class", sp.Symbol("p_nt", positive=True),
                 p_nt)
    ce = -y_t * sp.log(p_t) - (K - 1) * y_nt * sp.log(p_nt)
    f = ce + sp.sqrt(S.lW * S.lH) * nuc
    D.define("reduced objective f(rho) (per-sample CE + penalty)", sp.Function("f")(rho), f)
    return ScalarProblem(f, p_t, p_nt, y_t, y_nt)


class FirstOrder(NamedTuple):
    df: sp.Expr  # f'(rho)
    d2f: sp.Expr  # f''(rho)
    threshold: sp.Expr  # alpha + K c: collapsed regime iff >= 1


def first_order_condition(D: Derivation, S: Symbols, sc: ScalarProblem) -> FirstOrder:
    """Step 3b: f' and f'', strict convexity, and the regime threshold from the sign of f'(0)."""
    K, alpha, rho, c = S.K, S.alpha, S.rho, S.c
    df = sp.diff(sc.f, rho)
    D.identity("f'(rho) = p_t - y_t + c (K - 1)", df, sc.p_t - sc.y_t + c * (K - 1),
               display=sp.Derivative(sp.Function("f")(rho), rho))
    d2f = sp.diff(sc.f, rho, 2)
    D.identity("f''(rho) = p_t (1 - p_t) > 0: f is strictly convex", d2f, sc.p_t * (1 - sc.p_t),
               display=sp.Derivative(sp.Function("f")(rho), (rho, 2)))
    df0 = sp.simplify(df.subs(rho, 0))
    D.identity("f'(0): its sign decides the regime", df0, (K - 1) * (alpha + K * c - 1) / K,
               display=sp.Subs(sp.Derivative(sp.Function("f")(rho), rho), rho, 0),
               text=r"$f'(0) \ge 0 \iff \alpha + K c \ge 1$: then, by convexity, $\rho^* = 0$ "
                    r"(the collapsed regime, $W = H = 0$).")
    return FirstOrder(df, d2f, alpha + K * c)


class Optimum(NamedTuple):
    rho: sp.Expr  # rho* in the non-collapsed regime
    p_t: sp.Expr  # p_t at rho* (eq. 13)
    p_nt: sp.Expr  # p_nt at rho* (eq. 14)


def stationary_point(D: Derivation, S: Symbols, sc: ScalarProblem, df: sp.Expr) -> Optimum:
    """Step 3c: solve f'(rho) = 0 in u = e^rho (where it is rational): rho*, and eq. (13)-(14)."""
    K, alpha, rho, u, c = S.K, S.alpha, S.rho, S.u, S.c
    df_u = sp.together(df.subs(sp.exp(rho), u))
    u_sols = [r for r in sp.solve(sp.numer(df_u), u) if r != 0]
    if len(u_sols) != 1:  # pragma: no cover - a SymPy regression would land here
        raise RuntimeError(f"expected one stationary point, SymPy found {u_sols}")
    rho_star = sp.log(sp.simplify(u_sols[0]))
    rs = sp.Symbol("rho^*", positive=True)
    D.define("solution of f'(rho) = 0 (SymPy solve in u = e^rho)", rs, rho_star)
    D.identity("rho* = log(K/(alpha + K c) - (K - 1)), the logit gap of Theorem 4.1", rho_star,
               sp.log(K / (alpha + K * c) - (K - 1)), display=rs)
    D.identity("f'(rho*) = 0", df.subs(rho, rho_star), 0,
               display=sp.Subs(sp.Derivative(sp.Function("f")(rho), rho), rho, rs))
    p_t_star = sp.simplify(sc.p_t.subs(rho, rho_star))
    p_nt_star = sp.simplify(sc.p_nt.subs(rho, rho_star))
    D.identity("p_nt at the optimum (eq. 14)", p_nt_star, alpha / K + c,
               display=sp.Function("p_nt")(rs))
    D.identity("p_t at the optimum (eq. 13)", p_t_star, 1 - (K - 1) * (alpha / K + c),
               display=sp.Function("p_t")(rs))
    return Optimum(rho_star, p_t_star, p_nt_star)


def norms_and_bias(D: Derivation, S: Symbols, x_star: sp.Expr, nuc: sp.Expr, sc: ScalarProblem,
                   rho_star: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Step 4: ||w_k||^2 and ||h_{k,i}||^2 at the optimum, and b* = 0; returns (w2, h2)."""
    K, n, lW, lH, s = S.K, S.n, S.lW, S.lH, S.s
    nuc_star = nuc.subs(S.rho, rho_star)
    WF2 = x_star.subs(s, nuc_star)  # ||W||_F^2 at the balanced factorization
    HF2 = (nuc_star**2 / x_star).subs(s, nuc_star)
    w2 = sp.simplify(WF2 / K)
    h2 = sp.simplify(HF2 / (n * K))
    rs, xs = sp.Symbol("rho^*", positive=True), sp.Symbol("x^*", positive=True)
    D.identity("||w_k||^2 = ||W||_F^2 / K", w2,
               (K - 1) / K * rho_star * sp.sqrt(n * lH / lW),
               display=sp.Subs(x_star / K, s, nuc.subs(S.rho, rs)),
               text=r"$\|W\|_F^2 = x^*$ at $s = \|Z\|_*$ for $\rho = \rho^*$.")
    D.identity("||h_{k,i}||^2 = ||H||_F^2 / N", h2,
               (K - 1) / K * rho_star * sp.sqrt(lW / (n * lH)),
               display=sp.Subs(s**2 / (n * K * xs), (xs, s), (x_star, nuc.subs(S.rho, rs))),
               text=r"$\|H\|_F^2 = s^2/x^*$ at $s = \|Z\|_*$ for $\rho = \rho^*$, over $N = nK$ samples.")
    D.identity("h = sqrt(lam_W/(n lam_H)) w: ratio of squared norms", h2 / w2, lW / (n * lH),
               display=r"\frac{\|h_{k,i}\|^2}{\|w_k\|^2}")
    D.identity(
        "bias gradient vanishes at the symmetric point",
        (sc.p_t + (K - 1) * sc.p_nt) / K - (sc.y_t + (K - 1) * sc.y_nt) / K,
        0,
        r"The gradient of the data term in $b_j$ is the sample mean of "
        r"$p_j - y_j$; each class contributes once as target and $K-1$ times as "
        r"non-target, so it vanishes. With $\lambda_b > 0$ the $b$-block is "
        r"strictly convex, so $b^* = 0$; with $\lambda_b = 0$, $b^*$ is any "
        r"multiple of $1_K$ (softmax shift invariance).",
    )
    return w2, h2


def collect_results(D: Derivation, S: Symbols, sc: ScalarProblem, fo: FirstOrder, opt: Optimum,
                    w2: sp.Expr, h2: sp.Expr) -> None:
    """The results: each quantity as a Piecewise over the two regimes (alpha + K c < 1 or not)."""
    K = S.K
    f_star = sp.simplify(sc.f.subs(S.rho, opt.rho))
    regime = sp.StrictLessThan(fo.threshold, 1)
    pw = lambda e, e0: sp.Piecewise((e, regime), (e0, True))  # noqa: E731
    D.results.update(
        threshold=fo.threshold,
        rho_interior=opt.rho,
        rho=pw(opt.rho, sp.Integer(0)),
        p_target=pw(opt.p_t, 1 / K),
        p_nontarget=pw(opt.p_nt, 1 / K),
        w_norm_sq=pw(w2, sp.Integer(0)),
        h_norm_sq=pw(h2, sp.Integer(0)),
        objective=pw(f_star, sp.log(K)),
        f=sc.f,
        dfdrho=fo.df,
        d2fdrho2=fo.d2f,
    )


def derive() -> Derivation:
    """Build the Theorem 4.1 derivation from scratch (uncached; seconds)."""
    S = make_symbols()
    D = new_derivation(S)
    x_star = factorization_penalty(D, S)
    nuc = symmetric_logits(D, S)
    sc = reduced_objective(D, S, nuc)
    fo = first_order_condition(D, S, sc)
    opt = stationary_point(D, S, sc, fo.df)
    w2, h2 = norms_and_bias(D, S, x_star, nuc, sc, opt.rho)
    collect_results(D, S, sc, fo, opt, w2, h2)
    return D


@functools.lru_cache(maxsize=1)
def minimizer_derivation() -> Derivation:
    """The Theorem 4.1 derivation (cached on disk after the first run)."""
    return cached(derive, __name__, "minimizer")


_NAMES = ("rho", "p_target", "p_nontarget", "w_norm_sq", "h_norm_sq", "objective", "threshold")


@functools.lru_cache(maxsize=1)
def _numeric_functions():
    D = minimizer_derivation()
    s = D.symbols
    args = [s["K"], s["n"], s["alpha"], s["lambda_W"], s["lambda_H"]]
    return {k: sp.lambdify(args, D.results[k], modules="mpmath") for k in _NAMES}


def closed_form(problem: UFMProblem) -> dict[str, float]:
    """Evaluate the derived expressions at `problem` (mpmath, then float).

    Returns rho, p_target, p_nontarget, w_norm_sq, h_norm_sq, objective,
    threshold, and bias_norm (0: b* = 0 for lam_b > 0; for lam_b = 0 the
    bias is only determined up to a multiple of 1, and 0 refers to its
    centred part).
    """
    fns = _numeric_functions()
    args = (problem.K, problem.n, problem.alpha, problem.lam_W, problem.lam_H)
    out = {k: float(fn(*args)) for k, fn in fns.items()}
    out["bias_norm"] = 0.0
    for k, v in out.items():
        if not math.isfinite(v):  # pragma: no cover - would be a derivation bug
            raise ArithmeticError(f"closed form {k} is not finite at {problem}")
    return out
