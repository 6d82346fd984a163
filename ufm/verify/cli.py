"""`python -m ufm.verify`: every claim of the two papers, checked.

Runs groups of checks (``--only GROUP[,GROUP]``) and prints each group's
results as soon as it finishes: per check, its evidence (do the package's
derivation and its measurement agree?) and its verdict (what that means for
the paper's claim), then a summary per paper. ``--list`` prints the claims
registry. ``--json PATH`` writes the full record and ``--report DIR`` a
Markdown report with figures, both atomically.

Exit code: 0 when no check is contradicted, 1 when any is (with ``--strict``
also when any verdict is other than ``holds``), 2 for bad usage or bad input
(with a message naming the argument, its value and the allowed range; never a
traceback). The arguments are parsed and validated before jax or sympy is
imported.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ufm.verify.claims import PAPERS, claims_of
from ufm.verify.run import GROUPS

DEFAULTS = dict(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3, seed=0)
LOSSES = ("ce", "focal", "mse")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its usage line
        self.print_usage(sys.stderr)
        print(f"ufm.verify: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _real(name, allow_inf: bool = False):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not a number") from None
        if not math.isfinite(v) and not (allow_inf and v == math.inf):
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
    p.add_argument("--n", type=_integer("n"), default=None,
                   help=f"samples per class, >= 1 (default {DEFAULTS['n']}; not with --class-sizes)")
    p.add_argument("--alpha", type=_real("alpha"), default=DEFAULTS["alpha"], help="label smoothing in [0, 1) (default %(default)s)")
    p.add_argument("--lam-W", dest="lam_W", type=_real("lam_W"), default=DEFAULTS["lam_W"], help="weight decay of W, > 0")
    p.add_argument("--lam-H", dest="lam_H", type=_real("lam_H"), default=DEFAULTS["lam_H"], help="weight decay of H, > 0")
    p.add_argument("--lam-b", dest="lam_b", type=_real("lam_b", allow_inf=True), default=None,
                   help=f"weight decay of b, >= 0; inf is --no-bias (default {DEFAULTS['lam_b']})")
    p.add_argument("--loss", default="ce", help="ce (the paper's), focal or mse (default %(default)s)")
    p.add_argument("--gamma", type=_real("gamma"), default=None, help="focal-loss parameter, >= 0 (default 2)")
    p.add_argument("--class-sizes", dest="class_sizes", default=None, metavar="N1,...,NK",
                   help="samples per class, comma-separated (unbalanced classes; replaces --n)")
    p.add_argument("--no-bias", dest="no_bias", action="store_true",
                   help="remove the bias from the model (lambda_b = infinity; not lam_b = 0)")
    p.add_argument("--user-loss", dest="user_loss", default=None, metavar="MODULE:NAME",
                   help="your own loss: a ufm.Loss (or a JAX function of (logits, soft label)) "
                        "importable as MODULE:NAME; not with --loss")
    p.add_argument("--seed", type=_integer("seed"), default=DEFAULTS["seed"], help="seed of random starts, >= 0")
    p.add_argument("--only", default=None, help=f"comma-separated groups among: {', '.join(GROUPS)}")
    p.add_argument("--quick", action="store_true", help="smaller Monte Carlo / sweeps where a group has them")
    p.add_argument("--full", action="store_true",
                   help="paper-scale experiments where a group has them (slower); not with --quick")
    p.add_argument("--no-side", dest="no_side", action="store_true",
                   help="check only your problem, not also K=2, d=K-1 and near the collapse threshold")
    p.add_argument("--strict", action="store_true",
                   help="also exit 1 when any verdict on a paper's claim is other than 'holds'")
    p.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="write the full record as JSON")
    p.add_argument("--report", dest="report_dir", default=None, metavar="DIR",
                   help="write DIR/report.md with figures in DIR/figures/")
    p.add_argument("--list", action="store_true", help="list the claims by paper and group, and exit")
    return p


def format_claims_list() -> str:
    """The claims registry, grouped by paper and group (``--list``)."""
    import textwrap

    lines = []
    for paper, title in PAPERS.items():
        lines.append(f"{title}")
        for name, g in GROUPS.items():
            cs = claims_of(paper=paper, group=name)
            if not cs:
                continue
            lines.append(f"  group {name}: {g.title}")
            if not g.uses_problem:
                lines += textwrap.wrap(f"does not use the problem flags: {g.note}", 96,
                                       initial_indent="    (", subsequent_indent="     ")
                lines[-1] += ")"
            for c in cs:
                lines.append(f"    {c.id:<26} {c.kind:<10} {c.location}")
                lines += textwrap.wrap(c.statement, 90, initial_indent=" " * 8, subsequent_indent=" " * 8)
                if c.reading:
                    lines += textwrap.wrap("reading: " + c.reading, 90, initial_indent=" " * 8,
                                           subsequent_indent=" " * 10)
                lines += textwrap.wrap("checks: " + ", ".join(c.checks), 90, initial_indent=" " * 8,
                                       subsequent_indent=" " * 10)
        lines.append("")
    return "\n".join(lines).rstrip()


def _validated(args, parser):
    """The problem and the group names, or ValueError with a clear message."""
    from ufm.nc.problem import UFMProblem  # plain Python: no jax, no sympy

    if args.quick and args.full:
        raise ValueError("quick=True with full=True: choose one; allowed: --quick, --full or neither")
    if args.seed < 0:
        raise ValueError(f"seed={args.seed} is out of range; allowed: integers >= 0")
    sizes = _class_sizes(args.class_sizes)
    n = args.n if (args.n is not None or sizes is not None) else DEFAULTS["n"]
    if args.user_loss is not None:
        if args.loss != "ce":
            raise ValueError(f"loss={args.loss!r} with user_loss={args.user_loss!r}: choose one; "
                             "allowed: --loss or --user-loss")
        if ":" not in args.user_loss:
            raise ValueError(f"user_loss={args.user_loss!r} is not MODULE:NAME; allowed: e.g. mylosses:hinge")
    if args.no_bias and args.lam_b is not None:
        raise ValueError(f"lam_b={args.lam_b:g} with --no-bias: without a bias there is no lam_b; "
                         "allowed: one of --lam-b, --no-bias")
    lam_b = DEFAULTS["lam_b"] if args.lam_b is None else args.lam_b
    problem = UFMProblem(K=args.K, d=args.d, n=n, alpha=args.alpha, lam_W=args.lam_W, lam_H=args.lam_H,
                         lam_b=lam_b, loss=args.loss, gamma=args.gamma, class_sizes=sizes,
                         bias=not args.no_bias)
    groups = list(GROUPS) if args.only is None else [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"only={args.only!r} names unknown groups {unknown}; allowed: {', '.join(GROUPS)}")
    for flag, path in (("json", args.json_path), ("report", args.report_dir)):
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise ValueError(f"{flag}={path!r}: folder {folder} does not exist")
    return problem, groups


def _class_sizes(text):
    if text is None:
        return None
    parts = [t.strip() for t in text.split(",")]
    try:
        return tuple(int(t) for t in parts)
    except ValueError:
        raise ValueError(f"class_sizes={text!r} is not a comma-separated list of integers; "
                         "allowed: e.g. 10,10,2,2 (one size >= 1 per class)") from None


def _load_user_loss(spec: str):
    """The `ufm.Loss` named MODULE:NAME (a plain function is wrapped, with no SymPy form)."""
    import importlib

    from ufm.nc.losses.loss import Loss

    module, _, name = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"user_loss={spec!r} cannot be loaded ({exc}); allowed: MODULE:NAME importable "
                         "from the current directory or the environment") from None
    return obj if isinstance(obj, Loss) else Loss(name, obj)


def _progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print(format_claims_list())
        return 0
    try:
        problem, groups = _validated(args, parser)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"ufm.verify: error: {exc}", file=sys.stderr)
        return 2

    # Entry point: float64 is switched on here, once, before any array exists.
    import jax

    jax.config.update("jax_enable_x64", True)
    import sympy

    from ufm.core.cache import enable_compilation_cache

    enable_compilation_cache()  # compiled programs are reused by the next run

    if args.user_loss is not None:
        sys.path.insert(0, os.getcwd())
        try:
            problem = problem.replace(loss=_load_user_loss(args.user_loss))
        except ValueError as exc:
            print(f"ufm.verify: error: {exc}", file=sys.stderr)
            return 2

    from ufm import __version__
    from ufm.verify import report
    from ufm.verify.context import VerifyContext
    from ufm.verify.run import run_groups

    ctx = VerifyContext(problem=problem, seed=args.seed, quick=args.quick, full=args.full, progress=_progress)
    sizes = f"n={problem.n}" if problem.balanced else "class sizes " + ",".join(map(str, problem.sizes))
    variant = f"  variant: {problem.describe()}" if not problem.standard else ""
    print(f"ufm.verify  K={problem.K} d={problem.d} {sizes} alpha={problem.alpha:g} "
          f"lam_W={problem.lam_W:g} lam_H={problem.lam_H:g} lam_b={problem.lam_b:g} seed={args.seed}"
          f"  backend={jax.default_backend()} x64={jax.config.jax_enable_x64}{variant}", flush=True)

    def show(name, results, seconds):
        print("\n" + report.format_group(name, results, seconds), flush=True)

    results = run_groups(ctx, groups, on_group=show, side=not args.no_side)
    summary = report.summarize(results)
    print("\n" + report.format_summary(summary))
    code = report.exit_code(results, args.strict)
    print(report.explain_exit(results, args.strict))

    environment = {"backend": jax.default_backend(), "x64": bool(jax.config.jax_enable_x64),
                   "jax": jax.__version__, "sympy": sympy.__version__}
    config = {**problem.as_dict(), "seed": args.seed, "quick": args.quick, "full": args.full,
              "strict": args.strict, "side_problems": not args.no_side,
              "groups": groups}
    if args.json_path is not None:
        report.write_json(args.json_path, report.record(results, config, environment, __version__))
    if args.report_dir is not None:
        from ufm.verify.markdown import write_report

        path = write_report(args.report_dir, results, config, environment, __version__)
        print(f"report written to {path}")
    return code
