"""Regenerate proofs/thm42_hessian.md: Theorem 4.2, the Hessian spectra, derived step by step.

    python proofs/thm42_hessian.py          # writes the .md next to this file
    python proofs/thm42_hessian.py --check  # exit 1 if a step is unverified
                                              # or the .md is out of date
"""

import pathlib
import sys

from ufm._symbolic_hessian import _derive

OUT = pathlib.Path(__file__).with_suffix(".md")


def main(argv):
    D = _derive()  # not the disk cache: a proof is regenerated from scratch
    text = D.to_markdown()
    if "--check" in argv:
        stale = not OUT.exists() or OUT.read_text() != text
        bad = [s.title for s in D.unverified]
        if bad:
            print("UNVERIFIED steps:", *bad, sep="\n  ")
        if stale:
            print(f"{OUT.name} is out of date: run python {__file__}")
        return 1 if bad or stale else 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(D.steps)} steps, {len(D.unverified)} unverified)")
    return 0 if not D.unverified else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
