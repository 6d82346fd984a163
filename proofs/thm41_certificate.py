"""Regenerate proofs/thm41_certificate.md: the optimality certificate of the UFM.

The convex reformulation in the logits (nuclear norm plus bias), its dual,
the duality gap used to certify every numerical solve, and the collapse
threshold alpha + K c >= 1 read off the certificate at Z = 0.

    python proofs/thm41_certificate.py          # writes the .md next to this file
    python proofs/thm41_certificate.py --check  # exit 1 if a step is unverified
                                      # or the .md is out of date
"""

import sys

from ufm.core.derivation import proof_main
from ufm.nc.minimizer.certificate import derive

if __name__ == "__main__":
    sys.exit(proof_main(sys.argv[1:], __file__, derive))
