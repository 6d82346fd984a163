"""The Markdown report (`ufm.verify.markdown`) and its figures (`ufm.verify.figures`).

A small set of hand-built results (one or more per kind of claim, with the
details the figures draw) and one real minimizer run are written to a
temporary folder; the report must name every claim, state the derived
expressions as GitHub math, give the measured numbers and the verdicts, link
figures that exist and are PNGs, and be replaced atomically.
"""

import os
import pathlib
import re
import stat

import pytest

pytest.importorskip("matplotlib")

from ufm.nc.hessian.derivation import condition_number, full_reading_turning_point  # noqa: E402
from ufm.nc.problem import UFMProblem  # noqa: E402
from ufm.verify import figures, markdown  # noqa: E402
from ufm.verify.context import VerifyContext  # noqa: E402
from ufm.verify.report import fmt_value  # noqa: E402
from ufm.verify.result import CheckResult, compare, not_applicable, skipped  # noqa: E402
from ufm.verify.run import run_group, settle  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
DEFAULTS = dict(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
CONFIG = {**DEFAULTS, "seed": 0, "quick": True, "groups": ["minimizer", "hessian", "lsr", "dynamics"]}
ENVIRONMENT = {"backend": "cpu", "x64": True, "jax": "test", "sympy": "test"}
PROBLEM = UFMProblem(**DEFAULTS)
KAPPA_LOSS = {0.09: 3.6250377212581455, 0.11: 3.5671161823324185}
CURVES = {"steps": [0, 100, 200], "alphas": [0.0, 0.1],
          "nc1": [[20.0, 1.0, 0.1], [20.0, 0.5, 0.01]],
          "nc2": [[1.0, 0.5, 0.2], [1.0, 0.3, 0.05]],
          "train_error": [[0.9, 0.1, 0.0], [0.9, 0.0, 0.0]]}


def hand_results() -> list[CheckResult]:
    """Results of every kind the report handles, settled as `run_group` settles them."""
    kw = dict(tolerance=1.0)
    rs = [
        compare("minimizer.rho", "minimizer", "logit gap", "NC paper, Theorem 4.1", 3.284986697541748,
                3.2849866975599, 1e-6),
        CheckResult("minimizer.w_norm_sq", "minimizer", "norm of w", "NC paper, Theorem 4.1", 4.2673, 4.5,
                    0.0545, 1e-6, False, details={"reason": "the solve did not converge"}),
        CheckResult("hessian.thm42.loss", "hessian", "d kappa / d alpha", "NC paper, Theorem 4.2", [-3.0, -3.0],
                    [-2.99999999, -3.00000002], 1.5e-5, 1.0, True,
                    details={"per_block": {b: {"measured_kappa": {str(a): k for a, k in KAPPA_LOSS.items()}}
                                           for b in ("W", "H")}},
                    verdict="holds", verdict_reason="measured d kappa/d alpha = -3 +- 0.0015",
                    error_kind="max over blocks of |fd - derived| / tolerance"),
        compare("hessian.W.full.condition", "hessian", "W-block (full) condition number", "NC paper",
                12.478611522734596, 12.4786115, 1e-6),
        skipped("hessian.joint.nullity", "hessian", "joint nullity", "NC paper",
                "joint dimension 9000 > 3000: too large for a dense Hessian"),
        CheckResult("lsr.thm3.case1", "lsr", "Theorem 3 (1)", "TSLA paper, Theorem 3", 0.09, 0.04415559,
                    0.4906, **kw, passed=True,
                    details={"mean": 0.0441264, "std": 0.0004, "n_seeds": 1000, "exact_expectation": 0.04413924},
                    error_kind="ratio UCB/bound"),
        CheckResult("lsr.lemma1", "lsr", "Lemma 1", "TSLA paper, Lemma 1", 0.825, 0.633017, 0.767, **kw,
                    passed=True, details={"per_theta": [
                        {"theta": 0.0, "bound": 1.0, "ucb": 1.0, "mean": 1.0, "exact": 1.0, "equality_test": True},
                        {"theta": 0.25, "bound": 0.825, "ucb": 0.633017, "mean": 0.625364, "exact": 0.624821}]}),
        CheckResult("dynamics.ls_faster_nc1", "dynamics", "LS reaches NC1 levels sooner", "NC paper, Fig. 9",
                    0, 4, None, None, True, details={"curves": CURVES, "experiment": {"K": 10, "d": 32, "n": 50,
                                                                                     "lr": 1.0, "seeds": [0, 1]}},
                    verdict="not_reproduced", verdict_reason="nc1<=0.1 at alpha=0.2: 400 vs CE 300"),
        not_applicable("extra.unregistered", "extra", "a check on no claim", "none", "nothing to check here"),
    ]
    return [settle(r) for r in rs]


def figure_links(text: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)


def leftovers(folder: pathlib.Path) -> list[str]:
    return [p.name for p in folder.iterdir() if markdown._TMP_PREFIX in p.name]


# ------------------------------------------------------------------ content
def test_report_states_claims_expressions_numbers_and_verdicts(tmp_path):
    results = hand_results()
    path = markdown.write_report(tmp_path / "rep", results, CONFIG, ENVIRONMENT, "1.2.3")
    assert path == tmp_path / "rep" / "report.md"
    text = path.read_text(encoding="utf-8")

    assert text.startswith("# ufm.verify report (ufm 1.2.3)")
    for cid in ("nc.thm41.logit_gap", "nc.thm41.norms", "nc.thm42.condition", "ext.hessian.full",
                "ext.hessian.joint", "tsla.thm3", "tsla.lemma1", "nc.emp.ls_faster"):
        assert f"### `{cid}`" in text
    # registry order within a paper, papers in order
    assert text.index("`nc.thm41.logit_gap`") < text.index("`nc.thm42.condition`") < text.index(
        "`nc.emp.ls_faster`") < text.index("`tsla.lemma1`") < text.index("`tsla.thm3`")

    # derived expressions: GitHub math blocks, from the derivations, in the paper's shorthands
    assert "```math\n\\kappa_{\\mathrm{loss}} \\;(K \\ge 3) = K p_{t}\n```" in text
    assert "1 + \\frac{p_{nt} p_{t} \\rho}{c}" in text
    assert "\\delta \\sigma^{2} \\theta + \\sigma^{2} \\left(1 - \\theta\\right)" in text  # Lemma 1
    assert "\\frac{2 F_{0} L}{T} + 2 \\delta \\sigma^{2}" in text  # Theorem 3
    assert r"$c = \sqrt{n\lambda_W\lambda_H}$" in text
    assert len(re.findall(r"```math\n[^`\n]+\n```\n", text)) == text.count("```math") >= 8  # closed blocks

    # verdicts: per claim, and the extension label
    assert "**Verdict: holds** · evidence: 1 confirmed" in text            # nc.thm41.logit_gap
    assert "**Verdict: inconclusive** · evidence: 1 contradicted" in text  # the bad norm check
    assert "**Verdict: not reproduced**" in text
    assert f"**Verdict: none** ({markdown.EXTENSION})" in text
    assert "*Kind:* extension: the package's own result, not the paper's claim" in text

    # measured numbers: the exact table rows
    assert ("| `minimizer.rho` | confirmed | holds | 3.28499 | 3.28499 | "
            f"{fmt_value(results[0].error)} (relative) | 1e-06 |") in text
    assert "| `minimizer.w_norm_sq` | contradicted | inconclusive | 4.2673 | 4.5 | 0.0545 | 1e-06 |" in text
    assert ("| `hessian.thm42.loss` | confirmed | holds | [-3, -3] | [-3, -3] | 1.5e-05 (max over blocks of "
            "\\|fd - derived\\| / tolerance) | 1 |") in text
    assert "| `hessian.joint.nullity` | skipped | - | - | - | - | - |" in text
    # reasons: contradicted, skipped, verdict, unregistered
    assert "- `minimizer.w_norm_sq` contradicted: the solve did not converge" in text
    assert "- `hessian.joint.nullity` skipped: joint dimension 9000 &gt; 3000" not in text  # only < is escaped
    assert "- `hessian.joint.nullity` skipped: joint dimension 9000 > 3000: too large for a dense Hessian" in text
    assert "- `dynamics.ls_faster_nc1`, verdict **not reproduced**: nc1&lt;=0.1 at alpha=0.2: 400 vs CE 300" in text
    assert "## Checks on no registered claim" in text and "`extra.unregistered`" in text

    # summary table: NC paper 3 holds (logit gap, condition, ...) counted by verdict
    row = next(line for line in text.splitlines() if line.startswith("| NC paper:"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:7] == ["2", "0", "0", "1", "1", "0"]  # holds, cond., false, not repr., inconcl., not judged
    assert cells[7] == "1 / 0"  # ext.hessian.full confirmed; ext.hessian.joint only skipped

    # figures: every link resolves to a PNG; the expected set is drawn
    links = figure_links(text)
    assert set(links) == {"figures/kappa_vs_alpha.png", "figures/bounds_tsla.thm3.png",
                          "figures/bounds_tsla.lemma1.png", "figures/nc_curves.png"}
    for link in links:
        f = path.parent / link
        assert f.is_file() and f.read_bytes()[:8] == PNG
    assert sorted(p.name for p in (path.parent / "figures").iterdir()) == sorted(
        pathlib.Path(link).name for link in set(links))
    assert leftovers(tmp_path) == []


def test_real_minimizer_run(tmp_path):
    results, _ = run_group(VerifyContext(problem=PROBLEM, seed=0), "minimizer")
    assert results and all(r.status == "confirmed" for r in results)
    path = markdown.write_report(tmp_path / "rep", results, {**DEFAULTS, "groups": ["minimizer"]},
                                 ENVIRONMENT, "0")
    text = path.read_text(encoding="utf-8")
    for r in results:
        assert f"### `{r.claim_id}`" in text
        assert f"| `{r.id}` | confirmed | holds | {fmt_value(r.expected)} | {fmt_value(r.observed)} |" in text
    rho = next(r for r in results if r.id == "minimizer.rho")
    assert rho.expected == pytest.approx(3.284986697541748, rel=1e-12)
    assert "```math\n\\rho^* = \\begin{cases}" in text
    assert "| NC paper:" in text and figure_links(text) == []  # no figure for Theorem 4.1


def test_derived_blocks():
    blocks, where = markdown.derived_blocks("ext.hessian.full")
    assert blocks[0] == ("```math\n\\kappa_{\\mathrm{full}} \\;(W;\\ H \\text{ when } d > K-1) = "
                         "1 + \\frac{p_{nt} p_{t} \\rho}{c}\n```")
    assert where.startswith("Derived (SymPy, `ufm.nc.hessian.derivation`)") and "$\\rho$ the logit gap" in where
    assert markdown.derived_blocks("nc.thm41.bias") == ([], "")
    spectrum, _ = markdown.derived_blocks("nc.thm42.H_spectrum")
    assert "\\begin{array}{c|c}" in spectrum[0] and "K n \\left(K - 2\\right)" in spectrum[0]


def test_without_matplotlib_the_report_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "available", lambda: False)
    path = markdown.write_report(tmp_path / "rep", hand_results(), CONFIG, ENVIRONMENT, "0")
    text = path.read_text(encoding="utf-8")
    assert "Figures were not drawn: matplotlib is not installed" in text
    assert figure_links(text) == [] and list((path.parent / "figures").iterdir()) == []


# ---------------------------------------------------------------- atomicity
def test_failing_figure_leaves_the_old_report_untouched(tmp_path, monkeypatch):
    folder = tmp_path / "rep"
    markdown.write_report(folder, hand_results(), CONFIG, ENVIRONMENT, "old")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert pathlib.Path("report.md") in before and len(before) == 5

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "nc_curves", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        markdown.write_report(folder, hand_results(), CONFIG, ENVIRONMENT, "new")
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert leftovers(tmp_path) == [] and leftovers(folder) == []


def test_failing_figure_creates_no_new_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "kappa_vs_alpha", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        markdown.write_report(tmp_path / "rep", hand_results(), CONFIG, ENVIRONMENT, "0")
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_report_and_figures_and_keeps_other_files(tmp_path):
    folder = tmp_path / "rep"
    markdown.write_report(folder, hand_results(), CONFIG, ENVIRONMENT, "old")
    (folder / "notes.txt").write_text("mine")
    assert (folder / "figures" / "nc_curves.png").exists()
    only_minimizer = [r for r in hand_results() if r.group == "minimizer"]
    path = markdown.write_report(folder, only_minimizer, CONFIG, ENVIRONMENT, "new")
    assert path.read_text(encoding="utf-8").startswith("# ufm.verify report (ufm new)")
    assert (folder / "notes.txt").read_text() == "mine"
    assert list((folder / "figures").iterdir()) == []  # stale figures gone with the old folder
    assert leftovers(tmp_path) == [] and leftovers(folder) == []


def test_new_folder_has_default_permissions_and_a_file_is_refused(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = markdown.write_report(tmp_path / "a" / "rep", [], {}, {}, "0")
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o777 & ~umask
    assert "No check of a registered claim was run." in path.read_text(encoding="utf-8")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        markdown.write_report(tmp_path / "file", [], {}, {}, "0")


# ------------------------------------------------------------------ figures
def test_kappa_vs_alpha_draws_derived_curves_and_measured_points():
    results = hand_results()
    assert figures.measured_kappa(results, PROBLEM.alpha) == {
        ("W", "loss"): sorted(KAPPA_LOSS.items()), ("H", "loss"): sorted(KAPPA_LOSS.items()),
        ("W", "full"): [(0.1, 12.4786115)]}
    grid = figures.kappa_grid(PROBLEM, points=20)
    c = PROBLEM.c
    assert grid["alpha"][0] == 0.0 and grid["alpha"][-1] < 1 - PROBLEM.K * c
    assert grid[("W", "loss")][0] == pytest.approx(PROBLEM.K * (1 - (PROBLEM.K - 1) * c), rel=1e-12)  # K p_t
    assert grid[("H", "full")][7] == pytest.approx(
        condition_number(PROBLEM.replace(alpha=float(grid["alpha"][7])), "H", "full"), rel=1e-14)

    fig = figures.kappa_vs_alpha(results, CONFIG, points=50)
    loss_ax, full_ax = fig.axes
    a_star = full_reading_turning_point(PROBLEM)
    assert a_star == pytest.approx(0.31785411160234656, rel=1e-9)
    assert any(list(line.get_xdata()) == [a_star, a_star] for line in full_ax.get_lines())
    marked = [line for line in loss_ax.get_lines() if line.get_marker() == "o"]
    assert [list(m.get_xdata()) for m in marked] == [sorted(KAPPA_LOSS)]
    assert figures.kappa_vs_alpha(results, {"K": 4}) is None                      # no problem
    assert figures.kappa_vs_alpha(results, {**DEFAULTS, "alpha": 0.99}) is None  # collapsed


def test_bounds_vs_simulation_rows_and_colours():
    rows = figures.bound_rows(hand_results())
    assert [(r["label"], r["bound"], r["ucb"], r["equality"]) for r in rows] == [
        ("lsr.thm3.case1", 0.09, 0.04415559, False),
        ("lsr.lemma1, $\\theta$ = 0 (equality)", 1.0, 1.0, True),
        ("lsr.lemma1, $\\theta$ = 0.25", 0.825, 0.633017, False)]
    above = CheckResult("lsr.thm5", "lsr", "Theorem 5", "TSLA", 0.09, 0.2, 2.2, 1.0, False,
                        details={"mean": 0.19})
    fig = figures.bounds_vs_simulation([above] + hand_results())
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels][0] == "lsr.thm5"
    assert [t.get_color() for t in labels].count("C3") == 1   # only the row above its bound
    assert figures.bounds_vs_simulation([r for r in hand_results() if r.group != "lsr"]) is None


def test_nc_curves(tmp_path):
    fig = figures.nc_curves(hand_results())
    assert [ax.get_title() for ax in fig.axes] == ["NC1 (within-class variability)",
                                                    "NC2 (distance to a simplex ETF)", "training error"]
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "log", "linear"]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
    assert list(fig.axes[0].get_lines()[1].get_ydata()) == CURVES["nc1"][1]
    assert "K=10, d=32, n=50" in fig.get_suptitle() and "2 seeds" in fig.get_suptitle()
    path = figures.save_png(fig, tmp_path / "nc.png")
    assert path.read_bytes()[:8] == PNG
    assert figures.nc_curves([r for r in hand_results() if r.group != "dynamics"]) is None
    # a training error that settles early is shown over the steps where it moves
    steps = list(range(0, 3000, 100))
    err = [[0.9, 0.4, 0.0] + [0.0] * 27, [0.9, 0.1] + [0.0] * 28]
    fig = figures.plot_nc_curves({"steps": steps, "alphas": [0.0, 0.1], "train_error": err}, "my title")
    (ax,) = fig.axes
    assert ax.get_title() == "training error (first 300 steps)" and ax.get_xlim() == (0.0, 300.0)
    assert fig.get_suptitle() == "my title"
