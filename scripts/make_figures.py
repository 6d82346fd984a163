"""Regenerate the README's key figures into docs/figures/.

    python scripts/make_figures.py [--only kappa,bounds,nc] [--out docs/figures]

Each figure comes from a real run of the check group that measures it, on
the CPU, with public names only (`ufm.verify.run.run_group`,
`ufm.verify.figures`):

* ``kappa_vs_alpha.png``: the derived condition numbers of the W- and H-block
  Hessians against alpha in both readings at the verify defaults (K=4, d=5,
  n=3, lam_W=lam_H=5e-3, lam_b=1e-3, alpha=0.1), with the condition numbers
  measured by group ``hessian`` (about 10 s);
* ``bounds_vs_simulation.png``: every TSLA bound against its Monte Carlo mean
  and 99% upper confidence bound, group ``lsr`` with ``--quick`` (about 15 s);
* ``nc_curves.png``: NC1, NC2 and the training error against steps per
  alpha, group ``dynamics`` with ``--quick`` (2 seeds, about 15 s).

The script exits 1, naming the figure, when a group gives no data for it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

from ufm.nc.problem import UFMProblem  # noqa: E402
from ufm.verify import figures  # noqa: E402
from ufm.verify.context import VerifyContext  # noqa: E402
from ufm.verify.run import run_group  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The verify defaults (python -m ufm.verify without problem options).
DEFAULT_PROBLEM = dict(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
SEED = 0

# figure -> (group whose results it draws, figure function, file name)
FIGURES = {
    "kappa": ("hessian", figures.kappa_vs_alpha, "kappa_vs_alpha.png"),
    "bounds": ("lsr", figures.bounds_vs_simulation, "bounds_vs_simulation.png"),
    "nc": ("dynamics", figures.nc_curves, "nc_curves.png"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(FIGURES),
                        help=f"comma-separated figures among: {', '.join(FIGURES)} (default: all)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures"), help="output folder")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in names if s not in FIGURES]
    if unknown or not names:
        parser.error(f"--only={args.only!r} names unknown figures {unknown}; allowed: {', '.join(FIGURES)}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    problem = UFMProblem(**DEFAULT_PROBLEM)
    config = {**DEFAULT_PROBLEM, "seed": SEED, "quick": True}
    ctx = VerifyContext(problem=problem, seed=SEED, quick=True,
                        progress=lambda m: print(f"  ... {m}", file=sys.stderr, flush=True))
    status = 0
    for name in names:
        group, draw, filename = FIGURES[name]
        t0 = time.perf_counter()
        results, seconds = run_group(ctx, group)
        bad = [r.id for r in results if r.status == "contradicted"]
        fig = draw(results, config)
        if fig is None:
            print(f"{name}: group {group} gave no data for this figure "
                  f"(contradicted: {', '.join(bad) or 'none'})", file=sys.stderr)
            status = 1
            continue
        path = figures.save_png(fig, out / filename)
        note = f"; contradicted checks: {', '.join(bad)}" if bad else ""
        print(f"{path} (group {group}: {seconds:.1f} s, figure {time.perf_counter() - t0 - seconds:.1f} s{note})")
    return status


if __name__ == "__main__":
    sys.exit(main())
