"""Figures for the Markdown report: where a plot says more than a number.

One function per figure. Each takes the check results (`CheckResult`
objects, or their JSON records as dicts) and, where it needs one, the
problem (the run's config dict with K, d, n, alpha, lam_W, lam_H, lam_b, or a
`UFMProblem`), and returns a matplotlib `Figure`, or None when the data it
draws is absent:

* `kappa_vs_alpha`: the derived condition numbers of the W- and H-block
  Hessians at the minimizer against alpha on [0, 1 - K c), in the loss
  reading (the paper's) and the full reading (an extension), with the
  condition numbers measured at solved problems (group ``hessian``) on top;
* `bounds_vs_simulation`: each TSLA bound (group ``lsr``) against the Monte
  Carlo mean and its upper confidence bound, on a log scale;
* `nc_curves`: NC1, NC2 and the training error against gradient-descent
  steps, one curve per alpha (group ``dynamics``, means over seeds).

Figures are drawn on matplotlib's Agg canvas (no display, no pyplot state);
`save_png` writes one. matplotlib is imported only when a figure is drawn,
so the rest of the package works without it (`available` says whether it
is installed).

>>> kappa_vs_alpha([], {"K": 4}) is None      # no problem to draw: no figure
True
>>> bounds_vs_simulation([]) is None, nc_curves([]) is None
(True, True)
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Mapping

import numpy as np

DPI = 110
_PROBLEM_KEYS = ("K", "d", "n", "alpha", "lam_W", "lam_H", "lam_b")


def available() -> bool:
    """True when matplotlib can be imported (figures can be drawn)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _new_figure(width: float, height: float):
    """A Figure on an Agg canvas: no display and no pyplot global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path, dpi: int = DPI) -> pathlib.Path:
    """Write `fig` to `path` as a PNG (dpi ~110); return the path."""
    path = pathlib.Path(path)
    fig.savefig(path, format="png", dpi=dpi)
    return path


# ---------------------------------------------------------------- helpers
def _get(r, name: str, default=None):
    """A field of a result, whether a `CheckResult` or its JSON record."""
    if isinstance(r, Mapping):
        return r.get(name, default)
    return getattr(r, name, default)


def _number(x) -> float | None:
    """`x` as a finite float, else None (JSON writes inf/nan as text)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _problem(config):
    """The UFM problem of `config` (a dict or a UFMProblem), or None when it
    does not name one, or names one outside Theorem 4.2's range."""
    from ufm.nc.problem import UFMProblem

    if isinstance(config, UFMProblem):
        p = config
    elif isinstance(config, Mapping) and all(k in config for k in _PROBLEM_KEYS):
        try:
            p = UFMProblem(**{k: config[k] for k in _PROBLEM_KEYS})
        except (TypeError, ValueError):
            return None
    else:
        return None
    return None if (p.collapsed or not p.etf_fits) else p


def _fmt(x: float) -> str:
    return f"{x:g}"


# ----------------------------------------------------------- kappa vs alpha
def measured_kappa(results, alpha: float | None = None) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Condition numbers measured at solved problems, by (block, reading):
    sorted [(alpha, kappa), ...] from the ``hessian.thm42.<reading>`` checks
    (``details["per_block"][block]["measured_kappa"]``: alpha -> kappa on the
    finite-difference stencil) and, when the problem's `alpha` is given, the
    ``hessian.<block>.<reading>.condition`` checks (observed kappa there).

    >>> r = {"id": "hessian.thm42.loss", "details": {"per_block": {"W": {"measured_kappa": {"0.2": 3.0}}}}}
    >>> measured_kappa([r])
    {('W', 'loss'): [(0.2, 3.0)]}
    """
    out: dict = {}
    for r in results:
        rid, details = str(_get(r, "id", "")), _get(r, "details", {}) or {}
        if rid.startswith("hessian.thm42."):
            reading = rid.rsplit(".", 1)[-1]
            for block, info in (details.get("per_block") or {}).items():
                for a, k in ((info or {}).get("measured_kappa") or {}).items():
                    a, k = _number(a), _number(k)
                    if a is not None and k is not None:
                        out.setdefault((block, reading), []).append((a, k))
        parts = rid.split(".")
        if (alpha is not None and len(parts) == 4 and parts[0] == "hessian" and parts[3] == "condition"
                and _get(r, "status") in ("confirmed", "contradicted")):
            k = _number(_get(r, "observed"))
            if k is not None:
                out.setdefault((parts[1], parts[2]), []).append((float(alpha), k))
    return {key: sorted(v) for key, v in out.items()}


def kappa_grid(problem, points: int = 300) -> dict:
    """alpha on [0, 1 - K c) and the derived condition number of each block
    in each reading there: {"alpha": array, ("W", "loss"): array, ...}."""
    from ufm.nc.hessian.derivation import condition_number

    hi = 1.0 - problem.K * problem.c
    alphas = np.linspace(0.0, hi, points + 1)[:-1]
    out = {"alpha": alphas}
    for block in ("W", "H"):
        for reading in ("loss", "full"):
            out[(block, reading)] = np.array(
                [condition_number(problem.replace(alpha=float(a)), block, reading) for a in alphas])
    return out


def kappa_vs_alpha(results, config, points: int = 300):
    """Derived kappa against alpha for W/H x loss/full, measured points on top.

    Two panels (loss reading, full reading); W solid, H dashed; a dotted
    line at the problem's alpha, and in the full reading at alpha*, where
    kappa stops rising (`full_reading_turning_point`). The y axis is
    logarithmic when a panel spans more than a factor 30. Returns None when
    `config` names no problem in Theorem 4.2's range (non-collapsed,
    d >= K - 1).
    """
    problem = _problem(config)
    if problem is None:
        return None
    from ufm.nc.hessian.derivation import full_reading_turning_point

    grid = kappa_grid(problem, points)
    measured = measured_kappa(results, problem.alpha)
    fig = _new_figure(10.0, 4.2)
    axes = fig.subplots(1, 2)
    style = {"W": dict(color="C0", ls="-", marker="o"), "H": dict(color="C1", ls="--", marker="s")}
    titles = {"loss": "loss reading (the paper's): data term alone",
              "full": "full reading (extension): regularized objective"}
    for ax, reading in zip(axes, ("loss", "full")):
        values = []
        for block in ("W", "H"):
            st = style[block]
            y = grid[(block, reading)]
            values.append(y)
            ax.plot(grid["alpha"], y, color=st["color"], ls=st["ls"], lw=1.8,
                    label=f"{block}-block, derived")
            pts = measured.get((block, reading), [])
            if pts:
                ax.plot([a for a, _ in pts], [k for _, k in pts], ls="none", marker=st["marker"],
                        mfc="none", mec=st["color"], ms=7, mew=1.4,
                        label=f"{block}-block, measured at solved problems")
        ax.axvline(problem.alpha, color="0.4", ls=":", lw=1.2, label=rf"problem's $\alpha$ = {_fmt(problem.alpha)}")
        if reading == "full":
            a_star = full_reading_turning_point(problem)
            if a_star is not None:
                ax.axvline(a_star, color="C3", ls=":", lw=1.2,
                           label=rf"$\alpha^*$ = {a_star:.3g}: $\kappa$ rises before, falls after")
        allv = np.concatenate(values)
        allv = allv[np.isfinite(allv) & (allv > 0)]
        if allv.size and allv.max() / allv.min() > 30:
            ax.set_yscale("log")
        ax.set_xlim(0.0, grid["alpha"][-1] * 1.02 if grid["alpha"][-1] > 0 else 1.0)
        ax.set_xlabel(r"$\alpha$ (label smoothing)")
        ax.set_ylabel(r"$\kappa$ = largest / smallest non-zero eigenvalue")
        ax.set_title(titles[reading], fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, loc="best")
    p = problem
    fig.suptitle(rf"Condition number at the minimizer against $\alpha$: K={p.K}, d={p.d}, n={p.n}, "
                 rf"$\lambda_W$={_fmt(p.lam_W)}, $\lambda_H$={_fmt(p.lam_H)}; "
                 rf"$\alpha \in [0, 1 - Kc) = [0, {1 - p.K * p.c:.4g})$",
                 fontsize=10.5)
    return fig


# ------------------------------------------------------ bounds vs simulation
def bound_rows(results) -> list[dict]:
    """One row per simulated bound of group ``lsr``: {"label", "id", "bound",
    "mean", "ucb", "exact" (or None)}. A check with ``details["per_theta"]``
    (Lemma 1) gives one row per theta; any other check with numeric expected
    (the derived bound), observed (the Monte Carlo upper confidence bound) and
    ``details["mean"]`` gives one row. ``equality`` marks a row the check
    tests for equality (Lemma 1 at theta = 0 and 1), not against a bound."""
    rows = []
    for r in results:
        rid = str(_get(r, "id", ""))
        if _get(r, "group") != "lsr" and not rid.startswith("lsr."):
            continue
        details = _get(r, "details", {}) or {}
        per = details.get("per_theta")
        if isinstance(per, list):
            for item in per:
                if not isinstance(item, Mapping):
                    continue
                b, m, u = (_number(item.get(k)) for k in ("bound", "mean", "ucb"))
                if None not in (b, m, u):
                    theta = _number(item.get("theta"))
                    eq = bool(item.get("equality_test"))
                    label = rf"{rid}, $\theta$ = {theta:g}" if theta is not None else rid
                    rows.append(dict(id=rid, label=label + (" (equality)" if eq else ""), bound=b, mean=m,
                                     ucb=u, exact=_number(item.get("exact")), equality=eq))
            continue
        b, u, m = _number(_get(r, "expected")), _number(_get(r, "observed")), _number(details.get("mean"))
        if None not in (b, u, m):
            rows.append(dict(id=rid, label=rid, bound=b, mean=m, ucb=u,
                             exact=_number(details.get("exact_expectation")), equality=False))
    return rows


def bounds_vs_simulation(results, config=None):
    """Derived bound against the Monte Carlo mean and upper confidence bound,
    one row per bound (`bound_rows`), on a log x axis (linear when a value is
    not positive). A row whose UCB exceeds its bound is labelled in red
    (unless the check tests it for equality).
    Returns None when no result carries a simulated bound. `config` is not
    used (the lsr group sets up its own problems); it is accepted so that
    every figure function is called alike."""
    rows = bound_rows(results)
    if not rows:
        return None
    n = len(rows)
    fig = _new_figure(9.0, 1.4 + 0.42 * n)
    ax = fig.subplots()
    ys = np.arange(n)[::-1]
    first = {}
    for y, row in zip(ys, rows):
        ax.plot([row["mean"], row["ucb"]], [y, y], color="C0", lw=1.0, alpha=0.6)
        for key, kw in (("bound", dict(marker="|", color="k", ms=16, mew=2.2, label="derived bound")),
                        ("mean", dict(marker="o", color="C0", ms=6, label="Monte Carlo mean")),
                        ("ucb", dict(marker=">", color="C3", ms=6, label="one-sided 99% UCB of the mean")),
                        ("exact", dict(marker="x", color="C2", ms=7, mew=1.5,
                                       label="exact expectation (moment recursion)"))):
            if row[key] is None:
                continue
            label = kw.pop("label")
            ax.plot([row[key]], [y], ls="none", label=None if key in first else label, **kw)
            first[key] = True
        ax.annotate(f"UCB/bound = {row['ucb'] / row['bound']:.3g}" if row["bound"] else "",
                    xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7.5, color="0.3")
    values = [row[k] for row in rows for k in ("bound", "mean", "ucb", "exact") if row[k] is not None]
    if min(values) > 0:
        ax.set_xscale("log")
    ax.set_yticks(ys)
    ax.set_yticklabels([row["label"] for row in rows], fontsize=8)
    for tick, row in zip(ax.get_yticklabels(), rows):
        if row["ucb"] > row["bound"] and not row["equality"]:
            tick.set_color("C3")
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(r"the bounded expectation (e.g. $\mathbb{E}\,\|\nabla F(w)\|^2$; Lemma 1: the gradient noise)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.suptitle("TSLA bounds (SymPy) against Monte Carlo over i.i.d. seeds (JAX)", fontsize=10.5)
    return fig


# --------------------------------------------------------------- NC curves
_CURVE_LABELS = {"nc1": "NC1 (within-class variability)", "nc2": "NC2 (distance to a simplex ETF)",
                 "nc3": "NC3 (self-duality)", "train_error": "training error"}


def find_curves(results) -> dict | None:
    """The first ``details["curves"]`` of a dynamics check: {"steps", "alphas",
    "nc1", "nc2", ...} (one row per alpha, one column per step), or None."""
    for r in results:
        curves = (_get(r, "details", {}) or {}).get("curves")
        if (isinstance(curves, Mapping) and "steps" in curves and "alphas" in curves
                and any(k in curves for k in _CURVE_LABELS)):
            return dict(curves)
    return None


def plot_nc_curves(curves: Mapping, title: str = ""):
    """Draw `curves` ({"steps": [...], "alphas": [...], "nc1": [[...] per
    alpha], ...}): one panel per metric present among NC1, NC2, NC3 and the
    training error, one line per alpha (log y for the NC metrics)."""
    steps = np.asarray(curves["steps"], dtype=float)
    alphas = [float(a) for a in curves["alphas"]]
    keys = [k for k in _CURVE_LABELS if k in curves]
    fig = _new_figure(4.0 * len(keys) + 0.5, 3.9)
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    for ax, key in zip(axes, keys):
        data = np.asarray(curves[key], dtype=float)
        log = key != "train_error"
        for i, a in enumerate(alphas):
            y = data[i]
            if log:
                y = np.where(y > 0, y, np.nan)
            label = rf"$\alpha$ = {a:g}" + (" (CE)" if a == 0 else "")
            ax.plot(steps[: y.size], y, color=cmap(i / max(len(alphas) - 1, 1) * 0.9), lw=1.5, label=label)
        panel = _CURVE_LABELS[key]
        if log:
            ax.set_yscale("log")
        else:  # the training error settles early: show the steps where it still moves
            moving = np.any(np.abs(data - data[:, -1:]) > 0, axis=0)
            if moving.any() and moving.nonzero()[0].max() + 1 < steps.size // 3:
                last = min(int(moving.nonzero()[0].max() * 1.5) + 2, steps.size - 1)
                ax.set_xlim(steps[0], steps[last])
                panel += f" (first {steps[last]:g} steps)"
        ax.set_xlabel("gradient-descent step")
        ax.set_title(panel, fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=7.5)
    fig.suptitle(title or "Training dynamics on the UFM, means over seeds", fontsize=10.5)
    return fig


def nc_curves(results, config=None):
    """NC1/NC2 (and the training error) against steps per alpha, from the
    dynamics group's ``details["curves"]`` (means over seeds); None when no
    result carries curves. `config` is not used (the dynamics group runs a
    fixed experiment, described in its details)."""
    curves = find_curves(results)
    if curves is None:
        return None
    title = "Training dynamics on the UFM, means over seeds"
    for r in results:
        exp = (_get(r, "details", {}) or {}).get("experiment")
        if isinstance(exp, Mapping) and all(k in exp for k in ("K", "d", "n")):
            seeds = exp.get("seeds")
            title = (f"Gradient descent on the UFM (K={exp['K']}, d={exp['d']}, n={exp['n']}"
                     + (f", lr={exp['lr']:g}" if _number(exp.get("lr")) is not None else "")
                     + (f"), means over {len(seeds)} seeds" if isinstance(seeds, list) else ")"))
            break
    return plot_nc_curves(curves, title)
