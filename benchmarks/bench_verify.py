"""Whole-process timings of `python -m ufm.verify` and of CI, beside their targets.

Each row runs a command as a separate process, `--repeats` times, and prints
the median wall time next to the target (issue "Fast: every claim checked in
seconds"). Rows:

* ``--help``, ``--list`` and a usage error (``--K 1``): target < 1 s;
* ``--only minimizer``, warm caches: target <= 3 s;
* every group on the defaults, warm caches: target <= 20 s;
* every group on the defaults, cold (empty derivation and compilation
  caches, ``UFM_CACHE_DIR`` pointed at a fresh folder): target <= 90 s;
* with ``--ci``: ``.ci/run`` from a fresh clone, pip install included:
  target < 180 s (slow; off by default).

Warm rows run the command once first, unmeasured, to fill the caches. The
machine is shared: compare ratios within one run, and read absolute seconds
as this machine's. Usage::

    python benchmarks/bench_verify.py [--repeats 3] [--skip-cold] [--ci]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
VERIFY = [sys.executable, "-m", "ufm.verify"]


def wall(cmd: list[str], env: dict | None = None, cwd: pathlib.Path = ROOT) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, proc.returncode


def row(name: str, cmd: list[str], target: float, repeats: int, warm: bool = True,
        env_for_run=None) -> None:
    if warm:
        wall(cmd)
    times, codes = [], set()
    for _ in range(repeats):
        env = env_for_run() if env_for_run else None
        s, rc = wall(cmd, env)
        times.append(s)
        codes.add(rc)
    med = statistics.median(times)
    verdict = "within" if med <= target else f"OVER by {med / target:.2f}x"
    print(f"{name:<46} median {med:7.2f} s  target {target:6.1f} s  {verdict}  "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}; exit {sorted(codes)})", flush=True)


def cold_env() -> dict:
    return {**os.environ, "UFM_CACHE_DIR": tempfile.mkdtemp(prefix="ufm-cold-")}


def ci_row(repeats: int) -> None:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            clone = pathlib.Path(tmp) / "ufm"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            env = {**os.environ, "UFM_CACHE_DIR": str(pathlib.Path(tmp) / "cache")}
            s, rc = wall(["bash", ".ci/run"], env=env, cwd=clone)
            times.append(s)
            print(f"  .ci/run exit {rc} in {s:.1f} s", flush=True)
    med = statistics.median(times)
    print(f"{'.ci/run from a clean clone (pip included)':<46} median {med:7.1f} s  target  180.0 s  "
          f"{'within' if med <= 180 else f'OVER by {med / 180:.2f}x'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-cold", action="store_true", help="skip the cold full run (about a minute or more)")
    ap.add_argument("--ci", action="store_true", help="also time .ci/run from a clean clone (minutes)")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error(f"repeats={a.repeats} is out of range; allowed: integers >= 1")
    row("python -m ufm.verify --help", VERIFY + ["--help"], 1.0, a.repeats)
    row("python -m ufm.verify --list", VERIFY + ["--list"], 1.0, a.repeats)
    row("python -m ufm.verify --K 1 (usage error)", VERIFY + ["--K", "1"], 1.0, a.repeats)
    row("python -m ufm.verify --only minimizer (warm)", VERIFY + ["--only", "minimizer"], 3.0, a.repeats)
    row("python -m ufm.verify (defaults, warm)", VERIFY, 20.0, a.repeats)
    if not a.skip_cold:
        row("python -m ufm.verify (defaults, cold caches)", VERIFY, 90.0, 1, warm=False,
            env_for_run=cold_env)
    if a.ci:
        ci_row(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
