"""`python -m ufm.verify`: exit codes, messages, JSON record."""

import json
import subprocess
import sys

import pytest

import ufm.verify.cli as verify
from ufm.verify.result import CheckResult


def run(capsys, *args):
    code = verify.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_defaults_minimizer_pass_and_json(capsys, tmp_path):
    path = tmp_path / "r.json"
    code, out, _ = run(capsys, "--only", "minimizer", "--json", str(path))
    assert code == 0
    assert out.strip().splitlines()[-1] == "9 passed, 0 failed"
    rec = json.loads(path.read_text())
    assert set(rec) == {"ufm_version", "config", "environment", "checks", "passed", "failed"}
    assert rec["environment"]["x64"] is True and rec["passed"] == 9 and rec["failed"] == 0
    ids = [c["id"] for c in rec["checks"]]
    assert ids == [f"minimizer.{k}" for k in
                   ("rho", "p_target", "w_norm_sq", "h_norm_sq", "bias", "nc1", "nc2", "nc3", "objective")]
    for c in rec["checks"]:
        assert set(c) >= {"id", "group", "claim", "source", "expected", "observed", "error",
                          "tolerance", "passed", "applicable", "seconds", "details"}
        assert isinstance(c["expected"], float) and isinstance(c["observed"], float)
        assert c["error"] <= c["tolerance"] and c["details"]["tolerance_reason"]


def test_collapsed_regime_passes_with_nc_not_applicable(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--alpha", "0.9", "--lam-W", "0.1", "--lam-H", "0.1")
    assert code == 0
    assert "6 passed, 0 failed" in out and "3 not applicable" in out
    assert "collapsed regime" in out


def test_d_equals_K_minus_1_supported(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--K", "5", "--d", "4", "--n", "2", "--lam-b", "0")
    assert code == 0 and out.strip().endswith("9 passed, 0 failed")


def test_d_below_K_minus_1_not_applicable(capsys):
    code, out, _ = run(capsys, "--only", "minimizer", "--K", "5", "--d", "2")
    assert code == 0
    assert "9 not applicable" in out and "d=2 < K-1=4" in out


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
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_exit_2_with_clear_message(capsys, args, fragment):
    with pytest.raises(SystemExit) as info:
        code = verify.main(args)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_bad_input_subprocess_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "ufm.verify", "--n", "0"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "n=0 is out of range" in proc.stderr and "Traceback" not in proc.stderr


def test_failing_check_gives_exit_1(capsys, monkeypatch):
    def fake_run(groups_ctx, groups):
        return [CheckResult("x.y", "x", "a false claim", "none", 1.0, 2.0, 1.0, 1e-9, False)]

    monkeypatch.setattr(verify, "run_groups", fake_run)
    code, out, _ = run(capsys, "--only", "minimizer")
    assert code == 1 and out.strip().endswith("0 passed, 1 failed")


def test_crashing_group_is_reported_as_failure(monkeypatch):
    monkeypatch.setitem(verify.GROUPS, "broken", "ufm._no_such_module")
    ctx = verify.VerifyContext(problem=verify.UFMProblem(K=2, d=1, n=1))
    (r,) = verify.run_groups(ctx, ["broken"])
    assert r.id == "broken.error" and not r.passed and "ModuleNotFoundError" in r.details["reason"]


def test_calibration_without_scikit_learn_is_not_applicable(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    ctx = verify.VerifyContext(problem=verify.UFMProblem(K=2, d=1, n=1))
    results = verify.run_groups(ctx, ["calibration"])
    assert len(results) == 4 and all(not r.applicable for r in results)
    assert all("scikit-learn is not installed" in r.details["reason"] for r in results)
