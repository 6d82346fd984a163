"""The constants of the TSLA paper's theorems, as SymPy symbols (all positive unless stated).

Shared by every step of the derivation (`ufm.tsla.bounds.derivation`), so
that Lemma 1 and Theorems 3, 4, 5 speak about the same ``L``, ``sigma^2``,
``delta``, ...
"""

import sympy as sp

SOURCE = "TSLA paper (Towards Understanding Label Smoothing), Lemma 1, Theorems 3-5, App. A-D"

L, mu, delta, eps, F0 = sp.symbols("L mu delta epsilon F_0", positive=True)
sigma2 = sp.Symbol("sigma^2", positive=True)  # renders as sigma^2 in the proofs
eta, eta1, eta2, T, T1, T2 = sp.symbols("eta eta_1 eta_2 T T_1 T_2", positive=True)
theta = sp.Symbol("theta", nonnegative=True)
V = sp.Symbol("V", nonnegative=True)  # E||g - grad F||^2 of the oracle in use
c, p = sp.symbols("c p", positive=True)  # delta = c * eps^p in Table 1
G = sp.Symbol("G", real=True)  # ||grad F(w_t)||^2 (in expectation), the quantity bounded
