"""Lemma 1 and Theorems 3, 5 and 4 of the TSLA paper, chained into one `Derivation`.

`derive` calls the step functions of `lemma1`, `thm3`, `thm5` and `thm4`
in the order of the paper's appendices; `bounds` is the same derivation,
cached on disk (keyed by this module and every step module it imports).
"""

import functools

from ufm.core.cache import cached
from ufm.core.derivation import Derivation
from ufm.tsla.bounds.lemma1 import lemma1_decomposition
from ufm.tsla.bounds.symbols import F0, SOURCE, L, T, V, c, delta, eps, eta, mu, p, sigma2, theta
from ufm.tsla.bounds.thm3 import descent_lemma, telescoping, thm3_bound, thm3_horizons
from ufm.tsla.bounds.thm4 import pl_recursion, thm4_stage1, thm4_stage2, tsla_versus_baseline
from ufm.tsla.bounds.thm5 import thm5_baseline


def new_derivation() -> Derivation:
    """An empty derivation with the theorems' constants registered."""
    D = Derivation("Theorems 3, 5 and 4 of the TSLA paper: SGD with label smoothing", SOURCE)
    D.symbols.update(L=L, mu=mu, sigma2=sigma2, delta=delta, eps=eps, F0=F0, eta=eta,
                     theta=theta, T=T, V=V, c=c, p=p)
    return D


def derive() -> Derivation:
    """Build the derivation from scratch (uncached; about a second)."""
    D = new_derivation()
    V_lemma1 = lemma1_decomposition(D)
    per_step = descent_lemma(D)
    bound_generic = telescoping(D, per_step)
    V3, thm3 = thm3_bound(D, V_lemma1, bound_generic)
    T_case1 = thm3_horizons(D, thm3)
    per_step5, baseline_total = thm5_baseline(D, T_case1)
    stage1 = pl_recursion(D)
    T1, gap = thm4_stage1(D, stage1, V3)
    T2 = thm4_stage2(D, per_step5, gap)
    tsla_versus_baseline(D, T1, T2, T_case1.subs(eta, 1 / L), baseline_total)
    return D


@functools.lru_cache(maxsize=1)
def bounds() -> Derivation:
    """The SymPy derivation (cached on disk, keyed by the source of every step module)."""
    return cached(derive, __name__, "lsr_bounds")
