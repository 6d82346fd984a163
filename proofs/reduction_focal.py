"""Regenerate proofs/reduction_focal.md: the symmetric reduction for the focal loss.

The focal loss with label smoothing, gamma symbolic (gamma = 0 is the NC
paper's cross-entropy), at K = 4 with a penalized bias: the objective at the
simplex-ETF ansatz, the minimal factorization penalty and norms, the
first-order conditions, the bias optimum, and the collapse threshold c_crit
(Zhou et al. 2022 treat the focal loss in the UFM; the reduction and the
threshold are the package's own derivation).

    python proofs/reduction_focal.py          # writes the .md next to this file
    python proofs/reduction_focal.py --check  # exit 1 if a step is unverified
                                      # or the .md is out of date
"""

import sys

from ufm.core.derivation import proof_main
from ufm.nc.losses.reduction import derive_reduction
from ufm.nc.losses.sympy_forms import sympy_form


def derive():
    return derive_reduction(sympy_form("focal"), 4, "penalized", "focal")


if __name__ == "__main__":
    sys.exit(proof_main(sys.argv[1:], __file__, derive))
