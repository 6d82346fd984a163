"""`python -m ufm.verify`: every claim of the two papers, checked.

Runs groups of checks (``--only GROUP[,GROUP]``), prints a table (id, claim,
expected, observed, error, tolerance, PASS/FAIL, seconds) and a final line
``N passed, M failed``. ``--json PATH`` writes the full record atomically.
Exit code: 0 if every applicable check passes, 1 if any fails, 2 for bad
usage or bad input (with a message naming the argument, its value and the
allowed range; never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import tempfile
import time

# Entry point: float64 is switched on here, once, before any array exists.
import jax

jax.config.update("jax_enable_x64", True)

import sympy  # noqa: E402

from ufm.verify.result import CheckResult, failed, to_jsonable  # noqa: E402
from ufm.verify.context import VerifyContext  # noqa: E402
from ufm.nc.problem import UFMProblem  # noqa: E402

# name -> module implementing `run(ctx) -> list[CheckResult]` and DESCRIPTION.
GROUPS: dict[str, str] = {
    "minimizer": "ufm.verify.groups.minimizer",
    "hessian": "ufm.verify.groups.hessian",
    "lsr": "ufm.verify.groups.lsr",
    "dynamics": "ufm.verify.groups.dynamics",
    "calibration": "ufm.verify.groups.calibration",
}

DEFAULTS = dict(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3, seed=0)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        print(f"ufm.verify: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _real(name):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not a number") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name}={text} is not finite")
        return v

    return parse


def _integer(name):
    def parse(text):
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not an integer") from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m ufm.verify", description=__doc__.split("\n\n")[0])
    p.add_argument("--K", type=_integer("K"), default=DEFAULTS["K"], help="classes, >= 2 (default %(default)s)")
    p.add_argument("--d", type=_integer("d"), default=DEFAULTS["d"], help="feature dimension, >= 1 (default %(default)s)")
    p.add_argument("--n", type=_integer("n"), default=DEFAULTS["n"], help="samples per class, >= 1 (default %(default)s)")
    p.add_argument("--alpha", type=_real("alpha"), default=DEFAULTS["alpha"], help="label smoothing in [0, 1) (default %(default)s)")
    p.add_argument("--lam-W", dest="lam_W", type=_real("lam_W"), default=DEFAULTS["lam_W"], help="weight decay of W, > 0")
    p.add_argument("--lam-H", dest="lam_H", type=_real("lam_H"), default=DEFAULTS["lam_H"], help="weight decay of H, > 0")
    p.add_argument("--lam-b", dest="lam_b", type=_real("lam_b"), default=DEFAULTS["lam_b"], help="weight decay of b, >= 0")
    p.add_argument("--seed", type=_integer("seed"), default=DEFAULTS["seed"], help="seed of random starts, >= 0")
    p.add_argument("--only", default=None, help=f"comma-separated groups among: {', '.join(GROUPS)}")
    p.add_argument("--quick", action="store_true", help="smaller Monte Carlo / sweeps where a group has them")
    p.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="write the full record as JSON")
    p.add_argument("--list", action="store_true", help="list the groups and exit")
    return p


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        return f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        s = "[" + ", ".join(_fmt(v) for v in x) + "]"
        return s if len(s) <= 28 else s[:25] + "...]"
    s = str(x)
    return s if len(s) <= 28 else s[:25] + "..."


def _row(r: CheckResult) -> str:
    status = "PASS" if r.passed else ("n/a" if not r.applicable else "FAIL")
    claim = r.claim if len(r.claim) <= 48 else r.claim[:45] + "..."
    return (f"{r.id:<30} {claim:<48} {_fmt(r.expected):>14} {_fmt(r.observed):>14} "
            f"{_fmt(r.error):>10} {_fmt(r.tolerance):>8} {status:>5} {r.seconds:7.2f}")


def _write_json_atomic(path: str, record: dict) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ufm-verify-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=2, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_groups(ctx: VerifyContext, groups: list[str]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for name in groups:
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(GROUPS[name])
            results.extend(module.run(ctx))
        except Exception as exc:  # a crashing group is a failed check, not a traceback
            results.append(failed(f"{name}.error", name, f"group {name} runs to completion", "ufm",
                                  f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        for name, mod in GROUPS.items():
            print(f"{name:<12} {importlib.import_module(mod).DESCRIPTION}")
        return 0
    try:
        if args.seed < 0:
            raise ValueError(f"seed={args.seed} is out of range; allowed: integers >= 0")
        problem = UFMProblem(K=args.K, d=args.d, n=args.n, alpha=args.alpha,
                             lam_W=args.lam_W, lam_H=args.lam_H, lam_b=args.lam_b)
        groups = list(GROUPS) if args.only is None else [g.strip() for g in args.only.split(",") if g.strip()]
        unknown = [g for g in groups if g not in GROUPS]
        if unknown or not groups:
            raise ValueError(f"only={args.only!r} names unknown groups {unknown}; allowed: {', '.join(GROUPS)}")
        if args.json_path is not None:
            folder = os.path.dirname(os.path.abspath(args.json_path))
            if not os.path.isdir(folder):
                raise ValueError(f"json={args.json_path!r}: folder {folder} does not exist")
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"ufm.verify: error: {exc}", file=sys.stderr)
        return 2

    ctx = VerifyContext(problem=problem, seed=args.seed, quick=args.quick)
    print(f"ufm.verify  K={problem.K} d={problem.d} n={problem.n} alpha={problem.alpha:g} "
          f"lam_W={problem.lam_W:g} lam_H={problem.lam_H:g} lam_b={problem.lam_b:g} seed={args.seed}"
          f"  backend={jax.default_backend()} x64={jax.config.jax_enable_x64}")
    results = run_groups(ctx, groups)

    header = (f"{'id':<30} {'claim':<48} {'expected':>14} {'observed':>14} "
              f"{'error':>10} {'tol':>8} {'':>5} {'seconds':>7}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(_row(r))
    for r in results:
        if not r.applicable:
            print(f"  {r.id}: not applicable: {r.details.get('reason', '')}")
        elif not r.passed:
            print(f"  {r.id}: FAILED: {r.details.get('reason', r.details.get('problem', 'error above tolerance'))}")
    n_pass = sum(r.passed for r in results if r.applicable)
    n_fail = sum(not r.passed for r in results if r.applicable)
    n_na = sum(not r.applicable for r in results)
    if n_na:
        print(f"{n_na} not applicable (reasons above)")
    print(f"{n_pass} passed, {n_fail} failed")

    if args.json_path is not None:
        from ufm import __version__

        record = {
            "ufm_version": __version__,
            "config": {**problem.as_dict(), "seed": args.seed, "quick": args.quick, "groups": groups},
            "environment": {"backend": jax.default_backend(), "x64": bool(jax.config.jax_enable_x64),
                            "jax": jax.__version__, "sympy": sympy.__version__},
            "checks": [r.to_json() for r in results],
            "passed": n_pass,
            "failed": n_fail,
        }
        _write_json_atomic(args.json_path, to_jsonable(record))
    return 0 if n_fail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
