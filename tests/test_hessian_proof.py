"""proofs/thm42_hessian.md is regenerated from the SymPy derivation, fully verified, up to date."""

import pathlib
import subprocess
import sys

PROOF = pathlib.Path(__file__).parent.parent / "proofs" / "thm42_hessian.py"


def test_hessian_proof_is_verified_and_up_to_date():
    proc = subprocess.run([sys.executable, str(PROOF), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = PROOF.with_suffix(".md").read_text()
    assert "UNVERIFIED" not in text.split("## Step 1.")[1]
    assert "Summary" in text and "## Results" in text
