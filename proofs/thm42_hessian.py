"""Regenerate proofs/thm42_hessian.md: Theorem 4.2, the Hessian spectra, derived step by step.

    python proofs/thm42_hessian.py          # writes the .md next to this file
    python proofs/thm42_hessian.py --check  # exit 1 if a step is unverified
                                     # or the .md is out of date
"""

import sys

from ufm.core.derivation import proof_main
from ufm.nc.hessian.derivation import derive

if __name__ == "__main__":
    sys.exit(proof_main(sys.argv[1:], __file__, derive))
