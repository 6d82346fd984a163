"""Regenerate proofs/thm3_4_5_lsr.md: Lemma 1 and Theorems 3, 5, 4 of the TSLA paper, chained.

    python proofs/thm3_4_5_lsr.py          # writes the .md next to this file
    python proofs/thm3_4_5_lsr.py --check  # exit 1 if a step is unverified
                                           # or the .md is out of date

The chain (descent lemma, Lemma 1, telescoping, the PL recursion solved by
sympy.rsolve, the horizons and step sizes solved from the budget split) is
`ufm.tsla.bounds.derive`; Table 1's orders (eps -> 0 limits per delta regime,
`ufm.tsla.bounds.derive_table1`) are appended.
"""

import sys

from ufm.core.derivation import proof_main
from ufm.tsla.bounds import derive, derive_table1


def table_markdown(rows) -> str:
    out = ["## Table 1, recovered", "",
           "Totals: TSLA $T_1+T_2$, LSR $T$ of Theorem 3 (1), baseline $T$ of Theorem 5; "
           r"$\delta=c\,\varepsilon^p$ substituted and the order read off "
           r"$\lim_{\varepsilon\to0}\log T/\log(1/\varepsilon)$ (a $\log(1/\varepsilon)$ growth when that "
           "limit is 0).", "",
           "| delta regime | p | paper TSLA / LSR / baseline | derived TSLA / LSR / baseline | agree |",
           "|---|---|---|---|---|"]
    for r in rows:
        d = r["derived"]
        der = " / ".join(", ".join(sorted({e["order"] for e in d[m]})) for m in ("TSLA", "LSR", "baseline"))
        pap = " / ".join(r["paper"][m] for m in ("TSLA", "LSR", "baseline"))
        agree = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["agree"].items())
        out.append(f"| {r['row']} | {r['delta']} | {pap} | {der} | {agree} |")
    out.append("")
    for r in rows:
        for n in r["notes"]:
            out.append(f"- {r['row']}: {n}")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(proof_main(sys.argv[1:], __file__, derive, lambda: table_markdown(derive_table1())))
