"""Every Markdown proof in proofs/ is regenerated from SymPy and fully verified."""

import pathlib
import subprocess
import sys

import pytest

PROOFS = sorted((pathlib.Path(__file__).parent.parent / "proofs").glob("*.py"))


def test_there_are_proofs():
    assert {p.stem for p in PROOFS} >= {"thm41_minimizer", "thm42_hessian", "thm3_4_5_lsr"}


@pytest.mark.parametrize("script", PROOFS, ids=[p.name for p in PROOFS])
def test_proof_is_verified_and_up_to_date(script):
    proc = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = script.with_suffix(".md").read_text()
    assert "identity, **UNVERIFIED**" not in text and "## Results" in text
