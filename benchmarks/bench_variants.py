"""Your own variant at the verify defaults: focal and MSE against cross-entropy, as whole processes.

Issue "Your own variant": a focal-loss and an MSE variant finish
``python -m ufm.verify --only minimizer,hessian`` within 1.5x the time of the
cross-entropy run of the same size (K=4, d=5, n=3, alpha=0.1, lam = 5e-3, lam_b = 1e-3;
side problems off, so the three runs check one problem each). Each command runs
once unmeasured (warm caches: SymPy derivations and compiled programs), then
`--repeats` times; the median and its ratio to the CE median are printed beside
the 1.5x target. Also printed: unbalanced classes and no bias, for reference
(the unbalanced run adds a minority-collapse sweep of 6 extra solves, so it has
no target). Usage::

    python benchmarks/bench_variants.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BASE = [sys.executable, "-m", "ufm.verify", "--only", "minimizer,hessian", "--no-side"]
TARGET = 1.5
ROWS = [
    ("ce (the paper's loss)", []),
    ("focal, gamma = 1", ["--loss", "focal", "--gamma", "1"]),
    ("focal, gamma = 2", ["--loss", "focal", "--gamma", "2"]),
    ("mse", ["--loss", "mse"]),
    ("ce, no bias (reference)", ["--no-bias"]),
    ("ce, class sizes 6,6,1,1 (reference)", ["--class-sizes", "6,6,1,1"]),
]


def wall(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    ce = None
    for name, extra in ROWS:
        cmd = BASE + extra
        wall(cmd)  # fill the caches
        runs = [wall(cmd) for _ in range(args.repeats)]
        med = statistics.median(t for t, _ in runs)
        codes = sorted({rc for _, rc in runs})
        if ce is None:
            ce = med
            print(f"{name:<38} median {med:6.2f} s  (the reference; exit {codes})", flush=True)
            continue
        ratio = med / ce
        judged = "reference" not in name
        verdict = ("within" if ratio <= TARGET else "OVER") if judged else "no target"
        print(f"{name:<38} median {med:6.2f} s  ratio to ce {ratio:5.2f}  target {TARGET}x  {verdict}  "
              f"(runs: {', '.join(f'{t:.2f}' for t, _ in runs)}; exit {codes})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
