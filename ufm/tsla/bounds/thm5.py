"""Theorem 5 of the TSLA paper: the baseline, SGD without label smoothing (theta = 0).

An unbiased oracle with ``E||g||^2 = ||grad F||^2 + sigma^2`` (eq. (15)),
step ``eta = min(1/L, eps^2/(2 L sigma^2))`` and the same budget split as
Theorem 3 (1).
"""

from typing import NamedTuple

import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds.symbols import F0, G, L, T, eps, eta, sigma2
from ufm.tsla.bounds.thm3 import _solved, split_bound


class Thm5(NamedTuple):
    per_step: sp.Expr  # relaxed per-step bound, -eta/2 G + eta^2 L sigma^2/2 (eta <= 1/L)
    total: sp.Expr  # total samples 8 F0 L sigma^2/eps^4 (eps^2 <= 2 sigma^2)


def thm5_horizon(D: Derivation, bound5: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Theorem 5's step and horizon solved from its bound `bound5` (in eta and T): the
    noise floor ``lim_{T->oo}`` set to eps^2/2 gives eta, the optimisation term set to
    eps^2/2 gives T (eta free). A change to `bound5` reaches both."""
    opt, floor = split_bound(bound5, T)
    eta5 = sp.solve(sp.Eq(floor, eps**2 / 2), eta)[0]
    D.identity("Theorem 5: eta solved from the bound's noise floor = eps^2/2", eta5,
               eps**2 / (2 * L * sigma2), display=_solved(eta, sp.Eq(floor, eps**2 / 2)))
    T5 = sp.solve(sp.Eq(opt, eps**2 / 2), T)[0]
    D.identity("Theorem 5: T solved from the bound's optimisation term = eps^2/2", T5,
               4 * F0 / (eta * eps**2), display=_solved(T, sp.Eq(opt, eps**2 / 2)))
    return eta5, T5


def thm5_baseline(D: Derivation, T_case1: sp.Expr) -> Thm5:
    """Theorem 5's per-step inequality, bound, and step size and horizon solved from that
    bound (`thm5_horizon`; at eta = 1/L the horizon is compared with Theorem 3 (1)'s
    `T_case1`); returns the per-step bound and the total."""
    R = D.results
    # E||g||^2 = ||grad F||^2 + sigma^2 for an unbiased oracle (eq. 15).
    per5 = (-eta * G + L * eta**2 / 2 * (G + sigma2))
    per5_relaxed = -eta / 2 * G + eta**2 * L * sigma2 / 2
    gap = sp.factor(per5_relaxed - per5)
    D.identity("Theorem 5 per-step: relaxation gap", gap, eta * G * (1 - L * eta) / 2,
               r"$-\eta G+\frac{L\eta^2}{2}(G+\sigma^2)\le-\frac\eta2G+\frac{L\eta^2\sigma^2}2$ "
               r"iff $\eta G(1-L\eta)/2\ge0$, i.e. $\eta\le1/L$.")
    Gavg5 = sp.solve(sp.Eq(T * per5_relaxed, -F0), G)[0]
    D.identity("Theorem 5 bound", Gavg5, 2 * F0 / (eta * T) + eta * L * sigma2,
               display=_solved(G, sp.Eq(T * per5_relaxed, -F0)))
    R["thm5_bound"] = Gavg5
    eta5, T5 = thm5_horizon(D, Gavg5)
    D.identity("Theorem 5 horizon at eta = 1/L is Theorem 3 (1)'s", T5.subs(eta, 1 / L),
               T_case1.subs(eta, 1 / L), display=sp.Subs(T5, eta, 1 / L))
    R["thm5_eta_noise"] = eta5  # the step is min(1/L, eta5)
    R["thm5_T"] = T5
    total5 = sp.simplify(T5.subs(eta, eta5))
    D.identity("Theorem 5 total samples when eps^2 <= 2 sigma^2 (eta = eps^2/(2 L sigma^2))",
               total5, 8 * F0 * L * sigma2 / eps**4, display=sp.Subs(T5, eta, eta5))
    R["baseline_total"] = total5
    R["baseline_total_large_eps"] = sp.simplify(T5.subs(eta, 1 / L))
    return Thm5(per5_relaxed, total5)
