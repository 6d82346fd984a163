"""The Markdown proofs in proofs/ are regenerated from SymPy and fully verified."""

import pathlib
import subprocess
import sys

import pytest

PROOFS = pathlib.Path(__file__).parent.parent / "proofs"


@pytest.mark.parametrize("script", ["thm41_minimizer.py"])
def test_proof_is_verified_and_up_to_date(script):
    proc = subprocess.run([sys.executable, str(PROOFS / script), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
