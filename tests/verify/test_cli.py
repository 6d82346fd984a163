"""`python -m ufm.verify`: exit codes, messages, the screen, the JSON record."""

import json
import subprocess
import sys

import pytest

import ufm.verify.cli as cli
from ufm.verify import CLAIMS, CheckResult
from ufm.verify import run as run_mod

FIELDS = {"id", "group", "claim", "source", "expected", "observed", "error", "tolerance", "passed",
          "applicable", "seconds", "details", "claim_id", "paper", "status", "verdict"}


def run(capsys, *args):
    """Exit code, stdout, stderr of the CLI on the user's problem only (--no-side)."""
    code = cli.main([*args, "--no-side"])
    out = capsys.readouterr()
    return code, out.out, out.err


def flat(text):
    return " ".join(text.split())


def test_defaults_minimizer_confirmed_holds_and_json(capsys, tmp_path):
    path = tmp_path / "r.json"
    code, out, _ = run(capsys, "--only", "minimizer", "--json", str(path))
    assert code == 0
    assert "NC paper: 6 claims hold" in flat(out) and "12 confirmed, 0 contradicted" in flat(out)
    assert out.strip().splitlines()[-1].startswith("exit 0: no check is contradicted")
    rec = json.loads(path.read_text())
    assert set(rec) >= {"ufm_version", "config", "environment", "checks", "passed", "failed", "summary"}
    assert rec["environment"]["x64"] is True and rec["passed"] == 12 and rec["failed"] == 0
    assert rec["summary"]["nc"]["claims"]["holds"] == 6
    ids = [c["id"] for c in rec["checks"]]
    assert ids == [f"minimizer.{k}" for k in
                   ("rho", "p_target", "w_norm_sq", "h_norm_sq", "bias", "nc1", "nc2", "nc3", "objective",
                    "certificate", "multistart", "threshold")]
    for c in rec["checks"]:
        assert set(c) >= FIELDS
        assert c["status"] == "confirmed" and c["verdict"] == "holds" and c["paper"] == "nc"
        assert c["claim_id"] in CLAIMS and c["id"] in CLAIMS[c["claim_id"]].checks
        assert isinstance(c["expected"], float) and isinstance(c["observed"], float)
        assert c["error"] <= c["tolerance"] and c["details"]["tolerance_reason"]


def test_collapsed_regime_nc_metrics_not_applicable(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--alpha", "0.9", "--lam-W", "0.1", "--lam-H", "0.1")
    assert code == 0
    assert "9 confirmed, 0 contradicted, 3 not applicable" in flat(out)
    # the reason is said once, for the three checks it covers
    assert flat(out).count("collapsed regime") == 1 and "not applicable (3: minimizer.nc1" in flat(out)


def test_d_equals_K_minus_1_supported(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--K", "5", "--d", "4", "--n", "2", "--lam-b", "0")
    assert code == 0 and "12 confirmed, 0 contradicted" in flat(out)


def test_d_below_K_minus_1_not_applicable(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--K", "5", "--d", "2")
    assert code == 0
    assert "12 not applicable" in flat(out) and "d=2 < K-1=4" in flat(out) and "no claim judged" in flat(out)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--K", "1"], "K=1 is out of range; allowed: integers >= 2"),
        (["--alpha", "1.5"], "alpha=1.5 is out of range; allowed range: [0, 1)"),
        (["--alpha", "nan"], "alpha=nan is not finite"),
        (["--lam-W", "0"], "lam_W=0 is out of range; allowed range: (0, inf)"),
        (["--lam-b", "-1"], "lam_b=-1 is out of range"),
        (["--K", "abc"], "K='abc' is not an integer"),
        (["--d", "0"], "d=0 is out of range"),
        (["--only", "nope"], "unknown groups ['nope']"),
        (["--seed", "-3"], "seed=-3 is out of range"),
        (["--report", "/no/such/folder/r"], "folder /no/such/folder does not exist"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_exit_2_with_clear_message(capsys, args, fragment):
    with pytest.raises(SystemExit) as info:
        raise SystemExit(cli.main(args))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_bad_input_subprocess_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "ufm.verify", "--n", "0"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "n=0 is out of range" in proc.stderr and "Traceback" not in proc.stderr


def test_list_prints_every_claim_grouped_by_paper():
    proc = subprocess.run([sys.executable, "-m", "ufm.verify", "--list"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for cid in CLAIMS:
        assert cid in out
    nc, tsla = out.index("Neural Collapse Perspective"), out.index("Towards Understanding Label Smoothing")
    assert all(nc < out.index(c) < tsla for c in CLAIMS if CLAIMS[c].paper == "nc")
    assert all(out.index(c) > tsla for c in CLAIMS if CLAIMS[c].paper == "tsla")
    # groups that run fixed experiments say so (instruments under both papers, then
    # dynamics, calibration, lsr)
    assert out.count("does not use the problem flags") == 5


def _fake(status, verdict=None, cid="minimizer.rho"):
    r = CheckResult(cid, "minimizer", "a claim", "none", 1.0, 2.0, 1.0, 1e-9,
                    status == "confirmed", status=status)
    r.verdict = verdict
    return r


@pytest.mark.parametrize("status, verdict, strict, code", [
    ("confirmed", "holds", False, 0),
    ("confirmed", "holds", True, 0),
    ("confirmed", "false", False, 0),     # a finding on the paper is not a failure
    ("confirmed", "false", True, 1),      # ... unless the user gates on the paper
    ("confirmed", "not_reproduced", True, 1),
    ("contradicted", None, False, 1),     # the package disagrees with itself
    ("not_applicable", None, True, 0),
    ("skipped", None, True, 0),
])
def test_exit_code_follows_evidence_and_strict(capsys, monkeypatch, status, verdict, strict, code):
    def fake_run_group(ctx, name):
        return [_fake(status, verdict)], 0.01

    monkeypatch.setattr(run_mod, "run_group", fake_run_group)
    monkeypatch.setattr(run_mod, "settle", lambda r: r)
    args = ["--only", "minimizer"] + (["--strict"] if strict else [])
    got, out, _ = run(capsys, *args)
    assert got == code
    assert out.strip().splitlines()[-1].startswith(f"exit {code}")


def test_crashing_group_is_contradicted(monkeypatch):
    monkeypatch.setitem(run_mod.GROUPS, "broken",
                        run_mod.Group("broken", "ufm.no_such_module", "a broken group", True))
    from ufm.nc.problem import UFMProblem
    from ufm.verify.context import VerifyContext

    ctx = VerifyContext(problem=UFMProblem(K=2, d=1, n=1))
    (r,), _ = run_mod.run_group(ctx, "broken")
    assert r.id == "broken.error" and r.status == "contradicted"
    assert "ModuleNotFoundError" in r.details["reason"]


def test_unregistered_check_is_contradicted():
    r = run_mod.settle(CheckResult("minimizer.not_a_check", "minimizer", "c", "s", 1.0, 1.0, 0.0, 1.0, True))
    assert r.status == "contradicted" and "no registered claim" in r.details["reason"]


def test_settle_theorem_verdict_and_contradicted_is_inconclusive():
    ok = run_mod.settle(CheckResult("minimizer.rho", "minimizer", "c", "s", 1.0, 1.0, 0.0, 1.0, True))
    bad = run_mod.settle(CheckResult("minimizer.rho", "minimizer", "c", "s", 1.0, 2.0, 1.0, 1e-6, False))
    ext = run_mod.settle(CheckResult("hessian.joint.nullity", "hessian", "c", "s", 9, 9, 0.0, 0.0, True))
    assert (ok.claim_id, ok.status, ok.verdict) == ("nc.thm41.logit_gap", "confirmed", "holds")
    assert (bad.status, bad.verdict) == ("contradicted", "inconclusive")
    assert (ext.claim_id, ext.status, ext.verdict) == ("ext.hessian.joint", "confirmed", None)


def test_calibration_without_scikit_learn_is_skipped(monkeypatch):
    from ufm.nc.problem import UFMProblem
    from ufm.verify.context import VerifyContext

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    ctx = VerifyContext(problem=UFMProblem(K=2, d=1, n=1))
    results = run_mod.run_groups(ctx, ["calibration"])
    assert len(results) == 7 and all(r.status == "skipped" and r.verdict is None for r in results)
    assert all("scikit-learn is not installed" in r.details["reason"] for r in results)


@pytest.mark.parametrize("args", [["--help"], ["--list"], ["--K", "1"], ["--only", "nope"]])
def test_usage_answers_before_jax_or_sympy_is_imported(args):
    """--help, --list and usage errors are answered from argparse and the
    registry alone (their speed is measured in benchmarks/bench_verify.py)."""
    code = ("import sys\nfrom ufm.verify.cli import main\n"
            "try:\n    rc = main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "print('heavy:', sorted(m for m in ('jax', 'sympy') if m in sys.modules), rc)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert "heavy: []" in proc.stdout, proc.stdout + proc.stderr


def test_side_problems_run_beside_the_users(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--K", "3", "--d", "3", "--n", "2")
    code_side = cli.main(["--only", "minimizer", "--K", "3", "--d", "3", "--n", "2", "--quick"])
    out_side = capsys.readouterr().out
    assert code == code_side == 0
    assert "minimizer [K=2]" not in out and "minimizer [K=2]" in out_side
    assert "minimizer.rho[K=2]" in out_side and "Side problem, run beside yours: K=2 d=2 n=2" in out_side
