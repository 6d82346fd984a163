"""Lemma 1 of the TSLA paper: the variance of the label-smoothed stochastic gradient.

``E||(1-theta) a + theta b||^2 <= (1-theta) sigma^2 + theta delta sigma^2`` for
the deviations ``a``, ``b`` of the gradients at the one-hot and the smoothing
label, with ``E||a||^2 = sigma^2`` (Assumption 1 (i)) and
``E||b||^2 = delta sigma^2`` (eq. (4)).
"""

import sympy as sp

from ufm.core.derivation import Derivation
from ufm.tsla.bounds.symbols import delta, sigma2, theta


def lemma1_decomposition(D: Derivation) -> sp.Expr:
    """Lemma 1 from the exact decomposition of ``||(1-theta) a + theta b||^2``;
    returns the bound ``V(theta) = (1 - theta) sigma^2 + theta delta sigma^2``
    (also ``D.results["V_lemma1"]``)."""
    A, B, AB = sp.symbols("A B AB", real=True)  # ||a||^2, ||b||^2, <a, b>
    D.note("Lemma 1 setting",
           r"Cross-entropy is linear in the label, so with $y^{LS}=(1-\theta)y+\theta\hat y$ "
           r"the stochastic gradient is $(1-\theta)\nabla\ell(y)+\theta\nabla\ell(\hat y)$. "
           r"Write $a=\nabla\ell(y)-\nabla F$, $b=\nabla\ell(\hat y)-\nabla F$ with "
           r"$E\|a\|^2=\sigma^2$ (Assumption 1 (i)) and $E\|b\|^2=\delta\sigma^2$ (eq. 4); "
           r"$A=\|a\|^2$, $B=\|b\|^2$, $AB=\langle a,b\rangle$.")
    lhs = (1 - theta) ** 2 * A + theta**2 * B + 2 * theta * (1 - theta) * AB
    amb = A + B - 2 * AB  # ||a - b||^2
    D.identity("Lemma 1, exact decomposition", lhs,
               (1 - theta) * A + theta * B - theta * (1 - theta) * amb,
               r"$\|(1-\theta)a+\theta b\|^2=(1-\theta)\|a\|^2+\theta\|b\|^2-\theta(1-\theta)\|a-b\|^2$; "
               r"the last term is $\le 0$ for $\theta\in[0,1]$, which is Lemma 1 after taking expectations.")
    ts = sp.Symbol("theta_r", real=True)
    where = sp.solve_univariate_inequality(ts * (1 - ts) >= 0, ts, relational=False)
    D.identity("theta (1 - theta) >= 0 exactly on [0, 1]: the dropped term has the right sign "
               "(lower end)", where.inf, 0,
               display=r"\inf\{\theta\in\mathbb R:\ \theta(1-\theta)\ge0\}")
    D.identity("(upper end)", where.sup, 1,
               display=r"\sup\{\theta\in\mathbb R:\ \theta(1-\theta)\ge0\}")
    V_lemma1 = (1 - theta) * sigma2 + theta * delta * sigma2
    D.define("Lemma 1 bound V(theta)", sp.Symbol("V(theta)"), V_lemma1)
    D.results["V_lemma1"] = V_lemma1
    return V_lemma1
