"""Theorem 3 of the TSLA paper (SGD with label smoothing, LSR) and the steps of its proof.

The descent lemma (eq. (12)-(13)), the telescoped per-step inequality, then
Theorem 3's bound at ``theta = 1/(1+delta)``, ``eta = 1/L`` and its two
horizons, solved from that bound (`split_bound`): case (1), ``delta <= eps^2/(4
sigma^2)``, reaches ``eps^2``; case (2) reaches ``4 delta sigma^2``.
"""

from typing import NamedTuple

import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds.symbols import F0, G, L, T, V, delta, eps, eta, sigma2, theta


def descent_lemma(D: Derivation) -> sp.Expr:
    """eq. (12): the descent lemma with the polarization identity, and the step-size
    condition ``eta <= 1/L`` (``D.results["eta_max_descent"]``); returns the per-step
    bound of eq. (13), ``-eta/2 G + eta/2 V``."""
    Gs, C = sp.symbols("g2 C", real=True)  # ||g||^2, <grad F, g>
    descent = -eta * C + L * eta**2 / 2 * Gs  # <grad F, -eta g> + L/2 ||eta g||^2
    diff2 = G + Gs - 2 * C  # ||grad F - g||^2
    coeff = eta * (L * eta - 1) / 2  # coefficient of ||g||^2 after the polarization identity
    polar = -eta / 2 * G + eta / 2 * diff2 + coeff * Gs
    D.identity("descent lemma with the polarization identity (eq. 12)", descent, polar,
               r"$F(w_{t+1})-F(w_t)\le-\eta\langle\nabla F,g\rangle+\frac{L\eta^2}{2}\|g\|^2"
               r"=-\frac\eta2\|\nabla F\|^2+\frac\eta2\|\nabla F-g\|^2+\frac{\eta(L\eta-1)}2\|g\|^2$.")
    cond = sp.solve_univariate_inequality(coeff <= 0, eta, relational=False)
    D.identity("the ||g||^2 term drops exactly when eta <= 1/L", cond.sup, 1 / L,
               display=r"\sup\{\eta>0:\ " + sp.latex(coeff) + r"\le0\}",
               text=r"SymPy solves $\eta(L\eta-1)/2\le0$ over $\eta>0$.")
    D.results["eta_max_descent"] = cond.sup
    return -eta / 2 * G + eta / 2 * V  # E[F(w_{t+1}) - F(w_t)] <= per_step (eq. 13)


def telescoping(D: Derivation, per_step: sp.Expr) -> sp.Expr:
    """Sum `per_step` over T steps with ``F(w_T) >= F* >= 0``; returns the generic
    bound ``2 F0/(eta T) + V`` on the average squared gradient (``bound_generic``)."""
    t_ = sp.Symbol("t", integer=True, nonnegative=True)
    Dfun = sp.Function("D")
    tele = sp.summation(Dfun(t_ + 1) - Dfun(t_), (t_, 0, 4))
    D.identity("telescoping sum (checked at T = 5)", tele, Dfun(5) - Dfun(0),
               display=sp.Sum(Dfun(t_ + 1) - Dfun(t_), (t_, 0, 4)),
               text=r"$\sum_{t<T}(E F(w_{t+1})-E F(w_t))=E F(w_T)-F(w_0)$.")
    # (1/T) sum_t G_t <= (2/(eta T)) (F0 - E F(w_T)) + V, and E F(w_T) >= F* >= 0.
    Gavg = sp.solve(sp.Eq(T * per_step, -F0), G)[0]  # sum of per-steps = E F(w_T) - F0 >= -F0
    D.identity("averaged bound from the telescoped per-step inequality",
               Gavg, 2 * F0 / (eta * T) + V,
               display=_solved(G, sp.Eq(T * per_step, -F0)),
               text=r"$\frac1T\sum_t E\|\nabla F(w_t)\|^2\le\frac{2(F(w_0)-E F(w_T))}{\eta T}+V"
                    r"\le\frac{2F(w_0)}{\eta T}+V$ using $F(w_T)\ge F^*\ge0$ (unstated: $F^*\ge0$).")
    D.results["bound_generic"] = Gavg
    return Gavg


class Thm3Bound(NamedTuple):
    V3: sp.Expr  # Lemma 1's bound at theta = 1/(1+delta)
    bound: sp.Expr  # Theorem 3's stated bound, 2 L F0/T + 2 delta sigma^2


def thm3_bound(D: Derivation, V_lemma1: sp.Expr, bound_generic: sp.Expr) -> Thm3Bound:
    """Theorem 3's bound: the generic bound at ``theta = 1/(1+delta)``, ``eta = 1/L``."""
    theta3 = 1 / (1 + delta)
    V3 = sp.simplify(V_lemma1.subs(theta, theta3))
    D.identity("Lemma 1 at theta = 1/(1+delta)", V3, 2 * delta * sigma2 / (1 + delta),
               display=sp.Subs(V_lemma1, theta, theta3))
    D.note("theta = 1/(1+delta) is not the minimiser of Lemma 1's bound",
           r"$V(\theta)$ is linear in $\theta$ with slope $\sigma^2(\delta-1)$: it is minimised at "
           r"$\theta=1$ ($V=\delta\sigma^2$) for $\delta<1$. The paper's choice gives "
           r"$2\delta\sigma^2/(1+\delta)$, within a factor 2 of that.")
    thm3_sharp = bound_generic.subs({V: V3, eta: 1 / L})
    V3_relaxed = sp.simplify(V3 * (1 + delta))  # 1/(1+delta) <= 1 dropped
    D.positive("Lemma 1 at theta = 1/(1+delta) relaxed: V3 (1 + delta) - V3 >= 0",
               sp.simplify(V3_relaxed - V3))
    thm3 = bound_generic.subs({V: V3_relaxed, eta: 1 / L})
    D.identity("Theorem 3's stated bound: the generic bound at eta = 1/L with the relaxed variance",
               thm3, 2 * L * F0 / T + 2 * delta * sigma2,
               display=sp.Subs(bound_generic, (V, eta), (V3_relaxed, 1 / L)))
    D.positive("Theorem 3: sharp bound <= stated bound (1/(1+delta) <= 1)",
               sp.simplify(thm3 - thm3_sharp))
    D.results["theta3"] = theta3
    D.results["thm3_bound_sharp"] = thm3_sharp
    D.results["thm3_bound"] = thm3
    return Thm3Bound(V3, thm3)


def _solved(x: sp.Symbol, eq: sp.Eq) -> str:
    """LaTeX of "the `x` that solves `eq`", the display of a step computed by `sp.solve`."""
    return rf"\left({sp.latex(x)}\ \text{{solving}}\ {{{sp.latex(eq)}}}\right)"


def split_bound(bound: sp.Expr, horizon: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """(optimisation term, noise floor) of a bound: the floor is its limit as the
    `horizon` grows, the optimisation term the rest (it vanishes as horizon -> oo)."""
    floor = sp.limit(bound, horizon, sp.oo)
    return sp.simplify(bound - floor), floor


def thm3_horizons(D: Derivation, thm3: sp.Expr) -> sp.Expr:
    """Theorem 3 (1) and (2): the horizons T solved from the bound `thm3` itself
    (its optimisation term set to eps^2/2, resp. to its noise floor) and the delta
    threshold of case (1); returns case (1)'s ``T = 4 L F0/eps^2``.

    Nothing here is typed in but the budget split: a change to `thm3` reaches the
    horizons (the typed expressions are only the paper's, compared by `D.identity`)."""
    R = D.results
    opt, floor = split_bound(thm3, T)
    D.identity("Theorem 3 bound: its optimisation term vanishes as T -> oo", sp.Limit(opt, T, sp.oo), 0,
               rf"noise floor $\lim_{{T\to\infty}}B(T)={sp.latex(floor)}$.")
    # Case (1): budget split, optimisation term of the bound = eps^2/2.
    T_c1 = sp.solve(sp.Eq(opt, eps**2 / 2), T)[0]
    D.identity("Theorem 3 (1): T solved from the bound's optimisation term = eps^2/2", T_c1,
               4 * F0 * L / eps**2, display=_solved(T, sp.Eq(opt, eps**2 / 2)),
               text=r"The paper's $T=4F(w_0)/(\eta\varepsilon^2)$ at $\eta=1/L$.")
    at_c1 = sp.simplify(thm3.subs(T, T_c1))
    d_thr = sp.solve(sp.Eq(at_c1, eps**2), delta)[0]
    D.identity("Theorem 3 (1): bound <= eps^2 iff delta <= eps^2/(4 sigma^2)", d_thr,
               eps**2 / (4 * sigma2), display=_solved(delta, sp.Eq(at_c1, eps**2)))
    R["thm3_T_case1"] = T_c1
    R["thm3_delta_threshold"] = d_thr
    R["thm3_bound_at_T_case1"] = at_c1
    # Case (2): optimisation term of the bound = its noise floor.
    T_c2 = sp.solve(sp.Eq(opt, floor), T)[0]
    D.identity("Theorem 3 (2): T solved from optimisation term = noise floor of the bound", T_c2,
               F0 * L / (delta * sigma2), display=_solved(T, sp.Eq(opt, floor)),
               text=r"The paper's $T=F(w_0)/(\eta\delta\sigma^2)$ at $\eta=1/L$.")
    at_c2 = sp.simplify(thm3.subs(T, T_c2))
    D.identity("Theorem 3 (2): bound at that T is 4 delta sigma^2", at_c2, 4 * delta * sigma2,
               display=sp.Subs(thm3, T, T_c2))
    R["thm3_T_case2"] = T_c2
    R["thm3_bound_at_T_case2"] = at_c2
    return T_c1
