"""Theorems 3, 5 and 4 of the TSLA paper, chained from per-step inequalities in SymPy.

TSLA paper ("Towards Understanding Label Smoothing"), Lemma 1, Theorems 3-5,
Appendices A-D. Nothing below is typed in from the theorems; one module per
result, one function per step:

* `lemma1`: **Lemma 1** is the identity
  ``||(1-t)a + t b||^2 = (1-t)||a||^2 + t||b||^2 - t(1-t)||a-b||^2``;
* `thm3`: the **descent lemma** step (eq. (12)) is expanded symbolically
  (inner products as symbols, the polarization identity checked by SymPy)
  and the sign of the ``||g||^2`` coefficient gives the step-size condition
  ``eta <= 1/L``; the per-step inequality is **telescoped**
  (``F(w_T) >= F* >= 0``) to give the bound ``B(T) = 2 F(w0)/(eta T) + V``;
  the horizons ``T`` and step sizes ``eta`` are solved (``sympy.solve``)
  from the derived bound itself, split by `thm3.split_bound` into its noise
  floor (``lim_{T->oo}``) and optimisation term, with the paper's budget split
  (each equal to ``eps^2/2``; in Theorem 3 (2) the optimisation term equal to
  the floor), so a change to a bound reaches its horizon;
* `thm5`: the baseline without label smoothing (eq. (15));
* `thm4`: Theorem 4's first stage solves the **PL recursion**
  ``r_{t+1} = (1 - eta mu) r_t + eta V/2`` with ``sympy.rsolve``
  (eq. (16)-(18)), its second stage is eq. (19);
* `derivation`: `derive` chains them (`bounds`: the same, cached on disk);
  `parameters`: the theorems' parameter choices evaluated at numbers;
* `table1`: Table 1 is recovered by substituting ``delta = c eps^p`` into the
  total sample complexities and taking ``eps -> 0`` limits (`table1_orders`).

>>> b = bounds()
>>> round(thm4_parameters(L=1.0, mu=0.2, sigma2=0.7, delta=0.01, eps=0.25, F0=5.0)["T2_real"], 3)
100.352
>>> thm3_parameters(L=1.0, sigma2=0.7, delta=0.01, eps=0.25, F0=5.0)["case"]
1
"""

from ufm.tsla.bounds.symbols import (  # noqa: F401  (the theorems' constants)
    SOURCE as SOURCE,
    F0 as F0,
    L as L,
    T as T,
    T1 as T1,
    T2 as T2,
    V as V,
    c as c,
    delta as delta,
    eps as eps,
    eta as eta,
    eta1 as eta1,
    eta2 as eta2,
    mu as mu,
    p as p,
    sigma2 as sigma2,
    theta as theta,
)
from ufm.tsla.bounds.derivation import bounds as bounds, derive as derive
from ufm.tsla.bounds.parameters import (
    _validate as _validate,
    evaluate as evaluate,
    lemma1_bound as lemma1_bound,
    thm3_parameters as thm3_parameters,
    thm4_parameters as thm4_parameters,
    thm5_parameters as thm5_parameters,
    total_samples as total_samples,
)
from ufm.tsla.bounds.table1 import (
    TABLE1_EXPONENTS as TABLE1_EXPONENTS,
    TABLE1_PAPER as TABLE1_PAPER,
    derive_table1 as derive_table1,
    order_in_eps as order_in_eps,
    table1_orders as table1_orders,
)
