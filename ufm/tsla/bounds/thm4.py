"""Theorem 4 of the TSLA paper: two-stage label smoothing (TSLA).

Stage 1 runs with label smoothing (``theta = 1/(1+delta)``, ``eta_1 = 1/L``)
for ``T_1`` steps, solved from the PL recursion (eq. (16)-(18)); stage 2
drops the smoothing and runs Theorem 5's analysis from the stage-1 gap
(eq. (19)). The totals are then compared with Theorem 5's baseline.
"""

from typing import NamedTuple

import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds.symbols import F0, G, L, T1, T2, V, delta, eps, eta, eta2, mu, sigma2
from ufm.tsla.bounds.thm3 import _solved, split_bound


def pl_recursion(D: Derivation) -> sp.Expr:
    """eq. (16)-(17): the PL recursion solved by ``sympy.rsolve`` and relaxed;
    returns the stage-1 bound ``exp(-eta mu T1) F0 + V/(2 mu)`` (eq. 17)."""
    r = sp.Function("r")
    tt = sp.Symbol("t", integer=True, nonnegative=True)
    r0 = sp.Symbol("r_0", positive=True)
    D.note("PL recursion (eq. 16)",
           r"With per-step $E F(w_{t+1})-E F(w_t)\le-\frac\eta2 E\|\nabla F\|^2+\frac\eta2V$ and "
           r"Assumption 2 ($\|\nabla F\|^2\ge2\mu(F-F^*)$): "
           r"$r_{t+1}\le(1-\eta\mu)r_t+\eta V/2$, $r_t=E F(w_t)-F^*$.")
    sol = sp.rsolve(r(tt + 1) - (1 - eta * mu) * r(tt) - eta * V / 2, r(tt), {r(0): r0})
    step_rhs = (1 - eta * mu) * sp.Symbol("r_t") + eta * V / 2  # the recursion, as displayed
    closed = r0 * (1 - eta * mu) ** tt + V / (2 * mu) * (1 - (1 - eta * mu) ** tt)
    D.identity("PL recursion solved by sympy.rsolve", sol, closed,
               display=rf"\left(r_t\ \text{{solving}}\ {{r_{{t+1}} = {sp.latex(step_rhs)},"
                       rf"\ r_0 = {sp.latex(r0)}}}\right)")
    D.note("typo in the paper's eq. (16)",
           r"The paper's unrolled recursion sums $(1-\eta_1\mu/2)^i$; the recursion above has ratio "
           r"$1-\eta_1\mu$ (as the paper's next line, $\sum_i(1-\eta_1\mu)^i\le1/(\eta_1\mu)$, uses). "
           r"The result (17) is unaffected.")
    D.cited("(1 - eta mu)^t <= exp(-eta mu t) and 1 - q^t <= 1",
            r"$1-x\le e^{-x}$ with $x=\eta_1\mu\in(0,1]$ ($\eta_1=1/L$, $\mu\le L$); "
            r"$r_0=F(w_0)-F^*\le F(w_0)$ needs $F^*\ge0$ (unstated).",
            source=r"standard: $1-x\le e^{-x}$ for all real $x$, the convex $e^{-x}$ lying above its "
                   r"tangent at 0 (first-order condition for convexity, Boyd & Vandenberghe (2004), *Convex "
                   r"Optimization*, Sec. 3.1.3, eq. (3.2)); so $(1-\eta_1\mu)^t\le e^{-\eta_1\mu t}$, as used "
                   r"in the TSLA paper's proof of Theorem 4 to reach eq. (17).")
    return sp.exp(-eta * mu * T1) * F0 + V / (2 * mu)  # eq. (17)


class Stage1(NamedTuple):
    T1: sp.Expr  # the stage-1 horizon at eta_1 = 1/L
    gap: sp.Expr  # the relaxed stage-1 gap bound 2 delta sigma^2/mu (eq. 18)


def thm4_stage1(D: Derivation, stage1: sp.Expr, V3: sp.Expr) -> Stage1:
    """Theorem 4's T1 from ``exp(-eta1 mu T1) F0 = V3/(2 mu)`` (`stage1` at the
    Lemma 1 variance `V3`), and eq. (18): the optimality gap after stage 1."""
    R = D.results
    transient, floor = split_bound(stage1.subs(V, V3), T1)
    T1_sol = sp.solve(sp.Eq(transient, floor), T1)[0]  # transient of the stage-1 bound = its floor
    T1_paper = sp.log(2 * mu * F0 * (1 + delta) / (2 * delta * sigma2)) / (eta * mu)
    D.identity("Theorem 4: T1 solved from the stage-1 bound, transient = floor V/(2 mu)", T1_sol, T1_paper,
               display=_solved(T1, sp.Eq(transient, floor)),
               text=r"The paper's $T_1=\log\left(\frac{2\mu F(w_0)(1+\delta)}{2\delta\sigma^2}\right)/(\eta_1\mu)$.")
    r_T1 = sp.simplify(stage1.subs({T1: T1_sol, V: V3}))
    D.identity("eq. (18): E[F(w_T1) - F*] <= 2 delta sigma^2/(mu (1+delta))", r_T1,
               2 * delta * sigma2 / (mu * (1 + delta)), display=sp.Subs(stage1, (T1, V), (T1_sol, V3)))
    D.positive("eq. (18) relaxed: 2 delta sigma^2/mu - that >= 0",
               sp.simplify(2 * delta * sigma2 / mu - r_T1))
    R["thm4_T1"] = sp.expand_log(T1_sol.subs(eta, 1 / L), force=True)  # no overflow at large L/mu
    R["thm4_stage1_gap"] = r_T1
    R["thm4_stage1_gap_relaxed"] = 2 * delta * sigma2 / mu
    # T1 >= 0 iff the log's argument >= 1.
    arg = sp.exp(T1_sol * eta * mu)
    D.identity("T1 >= 0 iff mu F0 (1+delta) >= delta sigma^2", sp.simplify(arg),
               mu * F0 * (1 + delta) / (delta * sigma2),
               display=sp.exp(sp.UnevaluatedExpr(eta * mu * sp.Symbol("T_1")), evaluate=False))
    R["thm4_T1_log_argument"] = sp.simplify(arg)
    return Stage1(R["thm4_T1"], R["thm4_stage1_gap_relaxed"])


def thm4_stage2(D: Derivation, per_step: sp.Expr, gap: sp.Expr) -> sp.Expr:
    """eq. (19): Theorem 5's per-step bound `per_step` (in eta) run for T2 steps
    from the stage-1 `gap`; the step eta2 and horizon T2 from the budget split.
    Returns T2 at that eta2."""
    R = D.results
    bound4 = sp.solve(sp.Eq(T2 * per_step.subs(eta, eta2), -gap), G)[0]
    D.identity("Theorem 4 stage-2 bound (eq. 19)", bound4,
               4 * delta * sigma2 / (mu * eta2 * T2) + eta2 * L * sigma2,
               display=_solved(G, sp.Eq(T2 * per_step.subs(eta, eta2), -gap)))
    R["thm4_bound"] = bound4
    opt, floor = split_bound(bound4, T2)
    eta2_sol = sp.solve(sp.Eq(floor, eps**2 / 2), eta2)[0]
    D.identity("Theorem 4: eta2 solved from the stage-2 bound's noise floor = eps^2/2", eta2_sol,
               eps**2 / (2 * L * sigma2), display=_solved(eta2, sp.Eq(floor, eps**2 / 2)))
    T2_sol = sp.solve(sp.Eq(opt, eps**2 / 2), T2)[0]
    D.identity("Theorem 4: T2 solved from the stage-2 bound's optimisation term = eps^2/2", T2_sol,
               8 * delta * sigma2 / (mu * eta2 * eps**2), display=_solved(T2, sp.Eq(opt, eps**2 / 2)))
    D.identity("Theorem 4: bound at (eta2, T2) is eps^2",
               bound4.subs(T2, T2_sol).subs(eta2, eta2_sol), eps**2,
               display=sp.Subs(sp.Subs(bound4, T2, T2_sol), eta2, eta2_sol))
    cond_e2 = sp.solve(sp.Eq(eta2_sol, 1 / L), eps)[0]
    D.identity("unstated condition: eta2 <= 1/L iff eps^2 <= 2 sigma^2", cond_e2**2, 2 * sigma2,
               display=rf"\left(\epsilon^{{2}}\ \text{{solving}}\ {{{sp.latex(sp.Eq(eta2_sol, 1 / L))}}}\right)")
    R["thm4_eta2"] = eta2_sol
    R["thm4_T2"] = T2_sol.subs(eta2, eta2_sol)
    R["thm4_eps2_max"] = cond_e2**2
    return R["thm4_T2"]


def tsla_versus_baseline(D: Derivation, T1: sp.Expr, T2: sp.Expr, lsr_total: sp.Expr,
                         baseline_total: sp.Expr) -> sp.Expr:
    """TSLA's total T1 + T2 against Theorem 5's `baseline_total` as eps -> 0, and
    the delta below which the TSLA bound is the smaller; returns that delta."""
    R = D.results
    tsla_total = T1 + sp.simplify(T2)
    T1_sym, T2_sym = sp.symbols("T_1 T_2", positive=True)
    D.identity("TSLA total samples", tsla_total,
               L * sp.log(mu * F0 * (1 + delta) / (delta * sigma2)) / mu
               + 16 * L * delta * sigma2**2 / (mu * eps**4),
               display=T1_sym + T2_sym)  # T_1 (at eta_1 = 1/L) + T_2
    R["tsla_total"] = tsla_total
    R["lsr_total"] = lsr_total
    # Constant factor TSLA / baseline as eps -> 0, and the crossover in delta.
    ratio = sp.limit(tsla_total / baseline_total, eps, 0)
    D.identity("TSLA/baseline bound ratio as eps -> 0", sp.Limit(tsla_total / baseline_total, eps, 0),
               2 * delta * sigma2 / (mu * F0))
    cross = sp.solve(sp.Eq(ratio, 1), delta)[0]
    R["tsla_baseline_ratio"] = ratio
    R["tsla_beats_baseline_below_delta"] = cross
    D.note("Paper: 'when delta >= 1, baseline has better convergence than TSLA'",
           r"Both totals are $\Theta(\varepsilon^{-4})$ for constant $\delta$; their ratio tends to "
           rf"${sp.latex(ratio)}$, so the TSLA bound is the smaller one exactly when "
           rf"$\delta<{sp.latex(cross)}$, not when $\delta<1$.")
    return cross
