"""Regenerate proofs/thm41_minimizer.md: Theorem 4.1 derived step by step.

    python proofs/thm41_minimizer.py          # writes the .md next to this file
    python proofs/thm41_minimizer.py --check  # exit 1 if a step is unverified
                                     # or the .md is out of date
"""

import sys

from ufm.core.derivation import proof_main
from ufm.nc.minimizer.derivation import derive

if __name__ == "__main__":
    sys.exit(proof_main(sys.argv[1:], __file__, derive))
