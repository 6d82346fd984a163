"""The Markdown report of a run: ``python -m ufm.verify --report DIR``.

`write_report` writes ``DIR/report.md`` and its figures ``DIR/figures/*.png``.
Per paper, and per claim in registry order, the report gives the claim's
statement and reading, its kind (``derived`` claims are marked as the
package's own results, not the paper's), the derived expression(s) in LaTeX
that renders on GitHub (```` ```math ```` blocks, ``$...$`` inline), the
measured numbers as a table of its checks (evidence, verdict, expected,
observed, error and its kind, tolerance), the verdict's reasons, why a check
was not carried out, and a figure where a plot says more than a number
(`ufm.verify.figures`: kappa against alpha in both readings, bound against
simulation, NC curves against steps).

The report is written atomically: everything is built in a temporary folder
next to ``DIR``; only a complete report is moved into place. A new ``DIR``
is one rename; an existing ``DIR`` keeps its other files, its ``figures/``
folder is swapped for the new one and ``report.md`` is replaced by a rename.
If anything fails (a figure, the disk), the old report is left untouched
and the temporary folder is removed. The library prints nothing.

>>> print(latex_block(sp.Symbol("kappa"), sp.Symbol("K") * sp.Symbol("p_t")))
```math
\\kappa = K p_{t}
```
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import shutil
import secrets
from collections.abc import Mapping

import sympy as sp

from ufm.verify import figures
from ufm.verify.claims import CLAIMS, PAPER_SHORT, PAPERS, claim_of_check
from ufm.verify.report import fmt_value, summarize
from ufm.verify.result import CheckResult
from ufm.verify.run import GROUPS, claim_verdict, claims_checked

REPORT_NAME = "report.md"
FIGURES_DIR = "figures"
_TMP_PREFIX = ".ufm-report-"

VERDICT_WORDS = {
    "holds": "holds",
    "holds_under_conditions": "holds under conditions",
    "false": "false",
    "not_reproduced": "not reproduced",
    "inconclusive": "inconclusive",
}
EXTENSION = "extension: the package's own result, not the paper's claim"
_KIND_WORDS = {
    "theorem": "theorem (a stated result with a proof)",
    "empirical": "empirical (a finding from experiments, reproduced on small fixed experiments here)",
    "derived": EXTENSION,
}

# ------------------------------------------------------------- derivations
# claim id -> the derivation results it states: (derivation, key, left-hand side
# in LaTeX, relation). Derivations: "minimizer" (ufm.nc.minimizer.derivation),
# "hessian" (ufm.nc.hessian.derivation), "tsla" (ufm.tsla.bounds).
_GRAD_AVG = r"\frac{1}{T}\sum_{t<T} \mathbb{E}\|\nabla F(w_t)\|^2"
DERIVED: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "nc.thm41.logit_gap": (("minimizer", "rho", r"\rho^*", "="),),
    "nc.thm41.p_target": (("minimizer", "p_target", r"p_t", "="),
                          ("minimizer", "p_nontarget", r"p_{nt}", "=")),
    "nc.thm41.norms": (("minimizer", "w_norm_sq", r"\|w_k\|^2", "="),
                       ("minimizer", "h_norm_sq", r"\|h_{k,i}\|^2", "=")),
    "nc.thm41.objective": (("minimizer", "objective", r"\min F", "="),),
    "nc.thm42.W_spectrum": (("hessian", "spectrum_W_loss", r"\operatorname{spec}\nabla^2_W \mathcal{L}", "="),),
    "nc.thm42.H_spectrum": (("hessian", "spectrum_H_loss", r"\operatorname{spec}\nabla^2_H \mathcal{L}", "="),),
    "nc.thm42.condition": (("hessian", "kappa_loss_K3", r"\kappa_{\mathrm{loss}} \;(K \ge 3)", "="),
                           ("hessian", "dkappa_loss_K3", r"\frac{d\kappa_{\mathrm{loss}}}{d\alpha}", "=")),
    "ext.hessian.full": (("hessian", "kappa_full", r"\kappa_{\mathrm{full}} \;(W;\ H \text{ when } d > K-1)", "="),
                         ("hessian", "dkappa_full", r"\frac{d\kappa_{\mathrm{full}}}{d\alpha}", "="),
                         ("hessian", "kappa_H_full_d_eq", r"\kappa^{H}_{\mathrm{full}} \;(d = K-1)", "=")),
    "ext.hessian.joint": (("hessian", "nullity_rotation", r"\dim\ker\nabla^2 F \;(\lambda_b > 0)", "="),),
    "tsla.lemma1": (("tsla", "V_lemma1", r"\mathbb{E}\|\nabla\ell(y^{LS}) - \nabla F\|^2", r"\le"),),
    "tsla.thm3": (("tsla", "thm3_bound", _GRAD_AVG, r"\le"),
                  ("tsla", "thm3_delta_threshold", r"\delta \text{ of case (1)}", r"\le"),
                  ("tsla", "thm3_T_case1", r"T \text{ (case 1)}", "="),
                  ("tsla", "thm3_bound_at_T_case2", r"\text{bound at } T \text{ (case 2)}", "=")),
    "tsla.thm5": (("tsla", "thm5_bound", _GRAD_AVG, r"\le"),
                  ("tsla", "baseline_total", r"T_{\text{baseline}} \;(\epsilon^2 \le 2\sigma^2)", "=")),
    "tsla.thm4": (("tsla", "thm4_bound", r"\mathbb{E}_R\|\nabla F(w_R)\|^2", r"\le"),
                  ("tsla", "thm4_T1", r"T_1", "="),
                  ("tsla", "thm4_eta2", r"\eta_2", "="),
                  ("tsla", "thm4_T2", r"T_2", "=")),
    "tsla.setting.F_nonneg": (("tsla", "bound_generic", _GRAD_AVG + r" \;(\text{needs } F^* \ge 0)", r"\le"),),
    "tsla.sec5.delta_ge_1": (("tsla", "tsla_baseline_ratio",
                              r"\lim_{\epsilon \to 0} T_{\text{TSLA}} / T_{\text{baseline}}", "="),
                             ("tsla", "tsla_beats_baseline_below_delta", r"\delta_{\text{crossover}}", "=")),
    "tsla.table1": (("tsla", "tsla_total", r"T_{\text{TSLA}}", "="),
                    ("tsla", "lsr_total", r"T_{\text{LSR}}", "="),
                    ("tsla", "baseline_total", r"T_{\text{baseline}}", "=")),
}
_DERIVATION_MODULES = {"minimizer": "ufm.nc.minimizer.derivation", "hessian": "ufm.nc.hessian.derivation",
                       "tsla": "ufm.tsla.bounds"}

# Shorthands of the NC derivations: c, then rho, p_t, p_nt (their closed forms
# come from the Theorem 4.1 derivation itself, never typed in here).
_C, _RHO, _PT, _PNT = (sp.Symbol(s, positive=True) for s in ("c", "rho", "p_t", "p_nt"))
_NOT_SUBSTITUTED = {"rho": {_RHO, _PT, _PNT}, "p_target": {_PT, _PNT}, "p_nontarget": {_PNT}}


@functools.lru_cache(maxsize=None)
def _derivation(name: str):
    if name == "minimizer":
        from ufm.nc.minimizer.derivation import minimizer_derivation

        return minimizer_derivation()
    if name == "hessian":
        from ufm.nc.hessian.derivation import hessian_derivation

        return hessian_derivation()
    import ufm.tsla.bounds as tsla_bounds

    return tsla_bounds.bounds()


def _interior(e):
    return e.args[0].expr if isinstance(e, sp.Piecewise) else e


def _nc_shorthands() -> list[tuple[sp.Expr, sp.Symbol]]:
    """[(closed form in terms of c, symbol)] for rho, p_t, p_nt (Theorem 4.1)."""
    M = _derivation("minimizer")
    s = M.symbols
    root = sp.sqrt(s["n"] * s["lambda_W"] * s["lambda_H"])
    return [(_interior(M.results[k]).subs(root, _C), sym)
            for k, sym in (("rho_interior", _RHO), ("p_target", _PT), ("p_nontarget", _PNT))]


def _readable(expr: sp.Expr, key: str) -> sp.Expr:
    """An NC result written with c = sqrt(n lam_W lam_H), rho, p_t, p_nt where
    they occur, checked numerically against the original (else the original)."""
    M = _derivation("minimizer")
    s = M.symbols
    root = sp.sqrt(s["n"] * s["lambda_W"] * s["lambda_H"])
    skip = _NOT_SUBSTITUTED.get(key, set())
    short = [(full, sym) for full, sym in _nc_shorthands() if sym not in skip]
    out = expr.subs(root, _C)
    for full, sym in short:
        out = out.subs(full, sym)
    if out == expr:
        return expr
    back = out.subs({sym: full for full, sym in short}).subs(_C, root)
    values = {"K": 5, "n": 3, "d": 7, "alpha": sp.Rational(7, 100), "lambda_W": sp.Rational(3, 1000),
              "lambda_H": sp.Rational(2, 1000), "lambda_b": sp.Rational(1, 1000)}
    point = {x: values[x.name] for x in expr.free_symbols | back.free_symbols if x.name in values}
    try:
        same = all(abs(u - v) <= 1e-20 * (1 + abs(u))
                   for u, v in zip(_numbers(expr.subs(point)), _numbers(back.subs(point)), strict=True))
    except (TypeError, ValueError):
        return expr
    return out if same else expr


def _numbers(x) -> list[complex]:
    """The numbers in `x` (a number or nested tuples of them), to 30 digits."""
    if isinstance(x, (sp.Tuple, tuple, list)):
        return [v for item in x for v in _numbers(item)]
    return [complex(sp.N(x, 30))]


def latex_of(expr) -> str:
    """LaTeX of a SymPy result; a tuple of (value, multiplicity) pairs (a
    spectrum) becomes a two-column array."""
    if isinstance(expr, sp.Tuple) and all(isinstance(p, sp.Tuple) and len(p) == 2 for p in expr):
        rows = r" \\ ".join(f"{sp.latex(v)} & {sp.latex(m)}" for v, m in expr)
        return (r"\begin{array}{c|c} \text{eigenvalue} & \text{multiplicity} \\ \hline "
                + rows + r" \end{array}")
    return sp.latex(expr)


def latex_block(lhs, rhs, relation: str = "=") -> str:
    """A ```` ```math ```` block ``lhs relation rhs`` (GitHub renders it)."""
    left = lhs if isinstance(lhs, str) else sp.latex(lhs)
    return f"```math\n{left} {relation} {latex_of(rhs)}\n```"


def derived_blocks(claim_id: str) -> tuple[list[str], str]:
    """The ```` ```math ```` blocks of a claim's derived expressions and a line
    saying where they come from (and the shorthands used); ([], "") for a
    claim without one, and a line saying why when a derivation fails."""
    entries = DERIVED.get(claim_id, ())
    if not entries:
        return [], ""
    blocks, used, modules = [], set(), []
    for source, key, lhs, rel in entries:
        try:
            D = _derivation(source)
            expr = D.results[key]
            if source in ("minimizer", "hessian"):
                expr = _readable(expr, key)
        except Exception as exc:  # a broken derivation is reported, not raised
            return [], (f"Derived expression unavailable: `{_DERIVATION_MODULES[source]}` raised "
                        f"{type(exc).__name__}: {_md(str(exc))}")
        used |= {_C, _RHO, _PT, _PNT} & expr.free_symbols
        blocks.append(latex_block(lhs, expr, rel))
        if _DERIVATION_MODULES[source] not in modules:
            modules.append(_DERIVATION_MODULES[source])
    line = "Derived (SymPy, " + ", ".join(f"`{m}`" for m in modules) + ")"
    if _C in used:
        line += r"; $c = \sqrt{n\lambda_W\lambda_H}$"
    names = {_RHO: r"$\rho$ the logit gap", _PT: r"$p_t$ the target probability",
             _PNT: r"$p_{nt}$ a non-target probability"}
    said = [names[s] for s in (_RHO, _PT, _PNT) if s in used]
    if said:
        line += "; " + ", ".join(said) + " at the minimizer (Theorem 4.1)"
    return blocks, line + ":"


# ----------------------------------------------------------------- Markdown
def _md(text) -> str:
    """Plain text for Markdown: one line, no raw HTML."""
    return " ".join(str(text).replace("<", "&lt;").split())


def _cell(text, limit: int = 160) -> str:
    """A table cell: escaped pipes, at most `limit` characters."""
    t = _md(text)
    if len(t) > limit:
        t = t[: limit - 1] + "…"
    return t.replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _verdict_word(v) -> str:
    return VERDICT_WORDS.get(v, "-") if v else "-"


def _check_rows(results: list[CheckResult]) -> list[list[str]]:
    rows = []
    for r in results:
        carried = r.status in ("confirmed", "contradicted")
        err = "-"
        if r.error is not None:
            err = fmt_value(r.error) + (f" ({r.error_kind})" if r.error_kind else "")
        rows.append([f"`{r.id}`", r.status.replace("_", " "), _verdict_word(r.verdict),
                     _cell(fmt_value(r.expected)) if carried else "-",
                     _cell(fmt_value(r.observed)) if carried else "-",
                     _cell(err), _cell(fmt_value(r.tolerance))])
    return rows


def _reasons(results: list[CheckResult]) -> list[str]:
    """Bullets: verdict reasons, findings, why contradicted, why not carried out."""
    out = []
    for r in results:
        if r.verdict_reason and r.verdict is not None:
            out.append(f"- `{r.id}`, verdict **{_verdict_word(r.verdict)}**: {_md(r.verdict_reason)}")
        if r.details.get("finding"):
            out.append(f"- `{r.id}`, finding ({EXTENSION}): {_md(r.details['finding'])}")
        if r.status == "contradicted":
            why = r.details.get("reason") or r.details.get("problem") or "error above the tolerance"
            out.append(f"- `{r.id}` contradicted: {_md(why)}")
        if r.status in ("not_applicable", "skipped"):
            out.append(f"- `{r.id}` {r.status.replace('_', ' ')}: {_md(r.details.get('reason', ''))}")
    return out


def _claim_verdict_line(claim, results: list[CheckResult]) -> str:
    ev = {s: sum(r.status == s for r in results) for s in ("confirmed", "contradicted", "not_applicable",
                                                            "skipped")}
    evidence = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in ev.items() if n)
    if claim is not None and claim.kind == "derived":
        return f"**Verdict: none** ({EXTENSION}) · evidence: {evidence}"
    v = claim_verdict(results)
    if v is None:
        why = ("its checks were not carried out here" if not (ev["confirmed"] or ev["contradicted"])
               else "no verdict was recorded")
        return f"**Verdict: not judged** ({why}) · evidence: {evidence}"
    return f"**Verdict: {VERDICT_WORDS[v]}** · evidence: {evidence}"


def _summary_section(summary: dict) -> list[str]:
    header = ["paper"] + [VERDICT_WORDS[v] for v in VERDICT_WORDS] + [
        "not judged", "extensions confirmed / contradicted", "evidence: confirmed / contradicted / "
        "not applicable / skipped"]
    rows = []
    for paper, s in summary.items():
        if paper not in PAPERS or not any(s["evidence"].values()):
            continue
        ev, d = s["evidence"], s["package_results"]
        rows.append([f"{PAPER_SHORT[paper]}: {PAPERS[paper]}"] + [str(s["claims"][v]) for v in VERDICT_WORDS]
                    + [str(s["claims_not_judged"]), f"{d['confirmed']} / {d['contradicted']}",
                       f"{ev['confirmed']} / {ev['contradicted']} / {ev['not_applicable']} / {ev['skipped']}"])
    lines = ["## Summary", ""]
    if not rows:
        return lines + ["No check of a registered claim was run.", ""]
    lines += ["Claims by verdict (a claim takes the most severe verdict of its checks), per paper:", ""]
    lines += _table(header, rows)
    if "unregistered" in summary:
        ev = summary["unregistered"]["evidence"]
        lines += ["", "Checks on no registered claim: " + ", ".join(f"{n} {k.replace('_', ' ')}"
                                                                   for k, n in ev.items() if n) + "."]
    return lines + [""]


def _kv_section(title: str, items: Mapping) -> list[str]:
    rows = [[f"`{_cell(k)}`", _cell(", ".join(map(str, v)) if isinstance(v, (list, tuple)) else fmt_value(v))]
            for k, v in items.items()]
    return [f"## {title}", ""] + (_table(["setting", "value"], rows) if rows else ["(none)"]) + [""]


# ----------------------------------------------------------------- figures
@dataclasses.dataclass
class _Figures:
    folder: pathlib.Path
    results: list
    config: Mapping
    made: dict = dataclasses.field(default_factory=dict)  # file name -> bool (drawn)

    def get(self, name: str, function: str, results=None) -> str | None:
        """Draw figure `name` once with ``figures.<function>``; its relative path, or None."""
        if name not in self.made:
            # looked up at call time, so a replaced figure function is the one called
            fig = getattr(figures, function)(self.results if results is None else results, self.config)
            if fig is not None:
                figures.save_png(fig, self.folder / name)
            self.made[name] = fig is not None
        return f"{FIGURES_DIR}/{name}" if self.made[name] else None


_CAPTIONS = {
    "kappa": ("Condition number of the W- and H-block Hessians at the minimizer against alpha: the "
              "derived closed forms (lines) over the whole non-collapsed range, in the paper's loss "
              "reading (left) and the regularized reading (right, an extension); markers are condition "
              "numbers measured on dense Hessians at solved problems."),
    "bounds": ("Each derived bound (black bar) against the Monte Carlo mean (dot) and its one-sided 99% "
               "upper confidence bound (triangle) over i.i.d. seeds; a row in red has its UCB above the "
               "bound."),
    "nc": ("NC1, NC2 and the training error against gradient-descent steps, one line per alpha (means "
           "over seeds); alpha = 0 is cross-entropy."),
}


def _claim_figures(claim_id: str, claim, rs: list[CheckResult], figs: _Figures | None) -> list[str]:
    if figs is None or claim is None:
        return []
    out = []
    if claim_id in ("nc.thm42.condition", "ext.hessian.full"):
        out.append(("kappa", figs.get("kappa_vs_alpha.png", "kappa_vs_alpha")))
    if claim.group == "lsr":
        out.append(("bounds", figs.get(f"bounds_{claim_id}.png", "bounds_vs_simulation", rs)))
    if claim_id in ("nc.emp.ls_faster", "nc.emp.nc2_at_equal_nc1", "nc.emp.u_shape"):
        out.append(("nc", figs.get("nc_curves.png", "nc_curves")))
    lines = []
    for kind, path in out:
        if path is not None:
            lines += [f"![{kind} figure for {claim_id}]({path})", "", f"*{_CAPTIONS[kind]}*", ""]
    return lines


# ------------------------------------------------------------------ the text
def _settled(results: list[CheckResult]) -> list[CheckResult]:
    """Results tied to their claim (copies where the run did not tie them)."""
    out = []
    for r in results:
        claim = claim_of_check(r.id) if r.claim_id is None else None
        out.append(dataclasses.replace(r, claim_id=claim.id) if claim is not None else r)
    return out


def render(results: list[CheckResult], config: Mapping, environment: Mapping, version: str,
           figure_folder: pathlib.Path | None = None) -> str:
    """The report's Markdown. Figures are drawn into `figure_folder` (none when
    it is None or matplotlib is missing)."""
    results = _settled(list(results))
    figs = _Figures(figure_folder, results, config) if figure_folder is not None and figures.available() else None
    by_claim = claims_checked(results)
    lines = [f"# ufm.verify report (ufm {version})", "",
             f"{len(results)} checks of the claims of two papers on label smoothing, each comparing a SymPy "
             "derivation with an independent JAX measurement. Every check gives two answers: the "
             "**evidence** (do the package's derivation and measurement agree: confirmed, contradicted, "
             "not applicable, skipped) and the **verdict** on the paper's claim (holds, holds under "
             "conditions, false, not reproduced, inconclusive; none for the package's own results).", ""]
    if figure_folder is not None and figs is None:
        lines += ["Figures were not drawn: matplotlib is not installed (`pip install matplotlib`).", ""]
    lines += _kv_section("Configuration", config)
    groups = config.get("groups") if isinstance(config, Mapping) else None
    if groups:
        notes = [f"- `{g}`: {_md(GROUPS[g].title)}" + (f" ({_md(GROUPS[g].note)})" if GROUPS[g].note else "")
                 for g in groups if g in GROUPS]
        lines += ["Groups run:", ""] + notes + [""]
    lines += _kv_section("Environment", environment)
    lines += _summary_section(summarize(results))

    for paper, title in PAPERS.items():
        cids = [cid for cid in by_claim if cid is not None and cid in CLAIMS and CLAIMS[cid].paper == paper]
        if not cids:
            continue
        lines += [f"## {PAPER_SHORT[paper]}: {title}", ""]
        for cid in cids:
            claim, rs = CLAIMS[cid], by_claim[cid]
            lines += [f"### `{cid}` · {_md(claim.location)}", "", _claim_verdict_line(claim, rs), "",
                      f"> {_md(claim.statement)}", ""]
            if claim.reading:
                lines += [f"*Reading:* {_md(claim.reading)}", ""]
            lines += [f"*Kind:* {_KIND_WORDS[claim.kind]}", ""]
            blocks, where = derived_blocks(cid)
            if where:
                lines += [where, ""]
            for b in blocks:
                lines += [b, ""]
            lines += ["Measured:", ""]
            lines += _table(["check", "evidence", "verdict", "expected", "observed", "error (kind)",
                             "tolerance"], _check_rows(rs))
            lines += [""]
            reasons = _reasons(rs)
            if reasons:
                lines += reasons + [""]
            lines += _claim_figures(cid, claim, rs, figs)

    loose = [r for cid, rs in by_claim.items() if cid is None or cid not in CLAIMS for r in rs]
    if loose:
        lines += ["## Checks on no registered claim", ""]
        lines += _table(["check", "evidence", "verdict", "expected", "observed", "error (kind)", "tolerance"],
                        _check_rows(loose))
        lines += [""] + _reasons(loose) + [""]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- writing it
def _install(tmp: pathlib.Path, target: pathlib.Path) -> None:
    """Move the complete report in `tmp` into `target`."""
    if not target.exists():
        os.rename(tmp, target)  # one atomic rename
        return
    fig_dst, old = target / FIGURES_DIR, tmp / (FIGURES_DIR + ".old")
    had_old = fig_dst.exists() or fig_dst.is_symlink()
    if had_old:
        os.rename(fig_dst, old)
    try:
        os.rename(tmp / FIGURES_DIR, fig_dst)
        try:
            os.replace(tmp / REPORT_NAME, target / REPORT_NAME)  # atomic: old or new report
        except BaseException:
            os.rename(fig_dst, tmp / FIGURES_DIR)
            raise
    except BaseException:
        if had_old:
            os.rename(old, fig_dst)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def _temporary_folder(target: pathlib.Path) -> pathlib.Path:
    """A new empty folder next to `target` (same file system, so renames are
    atomic), created with the default permissions (umask), not mkdtemp's 0700."""
    for _ in range(100):
        tmp = target.parent / f".{target.name}{_TMP_PREFIX}{secrets.token_hex(6)}"
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary folder name next to {target}")


def write_report(directory, results: list[CheckResult], config: dict, environment: dict,
                 version: str) -> pathlib.Path:
    """Write ``directory/report.md`` and ``directory/figures/*.png``, atomically;
    return the path of report.md. `config` is the run's configuration (the
    problem's K, d, n, alpha, lam_W, lam_H, lam_b, the seed, the groups),
    `environment` the versions and backend, as in the JSON record.

    Raises NotADirectoryError when `directory` exists and is not a folder;
    any error while building (a figure, the disk) propagates after the
    temporary folder is removed, leaving an existing report untouched."""
    target = pathlib.Path(os.path.abspath(directory))
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"report={str(directory)!r} exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_folder(target)
    try:
        (tmp / FIGURES_DIR).mkdir()
        text = render(results, config, environment, version, tmp / FIGURES_DIR)
        with open(tmp / REPORT_NAME, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        _install(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / REPORT_NAME
