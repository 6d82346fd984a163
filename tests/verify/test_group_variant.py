"""The minimizer and hessian groups on variants: other losses, unbalanced classes, no bias.

Each variant's checks are confirmed on a small problem, and a wrong factor in
the reduction's prediction, in the structured Hessian or in the minority
sweep is caught (contradicted, exit 1).
"""

import json

import numpy as np
import pytest

import ufm.verify.cli as cli
import ufm.verify.groups.imbalance as gimb
import ufm.verify.groups.variant as gvar
import ufm.verify.groups.variant_hessian as gvh

SMALL = ["--K", "3", "--d", "3", "--n", "2", "--alpha", "0.1", "--lam-W", "1e-2", "--lam-H", "1e-2"]


def verify(tmp_path, *args):
    path = tmp_path / "r.json"
    code = cli.main([*args, "--no-side", "--json", str(path)])
    return code, {c["id"]: c for c in json.loads(path.read_text())["checks"]}


@pytest.mark.parametrize("variant, not_applicable", [
    (["--loss", "focal", "--gamma", "1"], {"minimizer.variant.certificate"}),
    (["--loss", "focal", "--gamma", "2", "--lam-b", "0"], {"minimizer.variant.certificate"}),
    (["--loss", "mse"], {"minimizer.variant.p_target"}),
    (["--no-bias"], {"minimizer.variant.bias"}),
    (["--lam-b", "inf"], {"minimizer.variant.bias"}),
])
def test_variant_checks_confirmed(tmp_path, variant, not_applicable):
    code, checks = verify(tmp_path, "--only", "minimizer,hessian", *SMALL, *variant)
    assert code == 0
    assert {i for i, c in checks.items() if c["status"] == "not_applicable"} == not_applicable
    confirmed = {i for i, c in checks.items() if c["status"] == "confirmed"}
    assert {"minimizer.variant.rho", "minimizer.variant.objective", "minimizer.variant.nc2",
            "minimizer.variant.threshold",
            "hessian.variant.W_spectrum", "hessian.variant.H_spectrum", "hessian.variant.nullity"} <= confirmed
    assert checks["minimizer.variant.nc1"]["verdict"] == "holds"


def test_mse_without_bias_leaves_the_etf_when_d_ge_K(tmp_path):
    # the mean target 1/K goes through W H (rank K): certified, but not the ETF ansatz
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL, "--loss", "mse", "--no-bias")
    assert code == 0
    assert checks["minimizer.variant.certificate"]["status"] == "confirmed"
    for k in ("rho", "nc2", "nc3", "objective", "threshold"):
        assert checks[f"minimizer.variant.{k}"]["status"] == "not_applicable"
    assert checks["minimizer.variant.nc3"]["details"]["observed"] > 1e-3   # really not self-dual
    # d = K-1: the relaxation need not be tight, so the certificate does not apply (a gap is no refutation)
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL, "--d", "2", "--loss", "mse", "--no-bias")
    assert code == 0
    assert "rank K" in checks["minimizer.variant.certificate"]["details"]["reason"]


def test_mse_without_bias_at_d_K_minus_1_has_one_flat_direction_more(tmp_path):
    # off the simplex ETF the symmetry gives only a lower bound on the nullity; the excess is shown
    code, checks = verify(tmp_path, "--only", "hessian", *SMALL, "--d", "2", "--loss", "mse", "--no-bias")
    null = checks["hessian.variant.nullity"]
    assert code == 0 and null["status"] == "confirmed"
    assert null["details"]["comparison"].startswith("at least")
    assert (null["expected"], null["observed"], null["details"]["excess_zero_eigenvalues"]) == (1, 2, 1)


def test_focal_reduction_is_certified_to_30_digits(tmp_path):
    _, checks = verify(tmp_path, "--only", "minimizer", *SMALL, "--loss", "focal", "--gamma", "2")
    red = checks["minimizer.variant.rho"]["details"]["reduction"]
    assert red["method"] == "interval certified"
    assert len(str(red["rho"]).replace(".", "").lstrip("0")) >= 30
    assert float(red["rho"]) == pytest.approx(checks["minimizer.variant.rho"]["observed"], rel=1e-6)


def test_wrong_reduction_factor_is_caught(tmp_path, monkeypatch):
    real = gvar.reduction_prediction

    def wrong(p):
        red, why = real(p)
        import dataclasses
        return dataclasses.replace(red, rho=1.001 * red.rho), why

    monkeypatch.setattr(gvar, "reduction_prediction", wrong)
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL, "--loss", "mse")
    assert code == 1
    assert checks["minimizer.variant.rho"]["status"] == "contradicted"
    assert checks["minimizer.variant.w_norm_sq"]["status"] == "confirmed"


def test_wrong_threshold_is_caught(tmp_path, monkeypatch):
    real = gvar.reduction_prediction

    def wrong(p):  # a threshold 1% too high: the solve just "above" it has not collapsed yet
        red, why = real(p)
        import dataclasses
        return dataclasses.replace(red, c_crit=1.01 * red.c_crit), why

    monkeypatch.setattr(gvar, "reduction_prediction", wrong)
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL, "--loss", "focal", "--gamma", "1")
    assert code == 1
    assert checks["minimizer.variant.threshold"]["status"] == "contradicted"
    assert checks["minimizer.variant.rho"]["status"] == "confirmed"


def test_wrong_structured_hessian_is_caught(tmp_path, monkeypatch):
    real = gvh.h_block_prediction
    monkeypatch.setattr(gvh, "h_block_prediction", lambda p, A, w: 1.01 * real(p, A, w))
    code, checks = verify(tmp_path, "--only", "hessian", *SMALL, "--loss", "focal", "--gamma", "1")
    assert code == 1
    assert checks["hessian.variant.H_spectrum"]["status"] == "contradicted"
    assert checks["hessian.variant.W_spectrum"]["status"] == "confirmed"


def test_unbalanced_checks_and_minority_collapse(tmp_path, monkeypatch):
    monkeypatch.setattr(gimb, "RATIOS", (1, 8, 64, 512))
    code, checks = verify(tmp_path, "--only", "minimizer,hessian", "--K", "4", "--d", "4",
                          "--class-sizes", "4,4,1,1", "--alpha", "0", "--lam-W", "5e-3", "--lam-H", "5e-3")
    assert code == 0
    assert checks["minimizer.variant.rho"]["status"] == "not_applicable"
    assert "unbalanced" in checks["minimizer.variant.rho"]["details"]["reason"]
    assert checks["minimizer.variant.certificate"]["status"] == "confirmed"
    assert checks["minimizer.imbalance.nc1"]["verdict"] == "holds"
    assert checks["minimizer.imbalance.etf_lost"]["verdict"] == "holds"
    mc = checks["minimizer.imbalance.minority_collapse"]
    rows = mc["details"]["sweep"]
    assert rows[0]["cosine"] == pytest.approx(-1 / 3, abs=1e-6)       # R = 1: balanced, simplex ETF
    assert rows[1]["cosine"] > rows[0]["cosine"]                       # the angle shrinks
    spread = [row["spread"] for row in rows]
    assert np.all(np.diff(spread) < 0) and spread[-1] <= gimb.COLLAPSED_SPREAD
    assert mc["verdict"] == "holds"


def test_minority_collapse_judge_fails_on_non_monotone(monkeypatch):
    pts = [gimb.SweepPoint(1, -0.3, 1.0, 1.0, 1.0, True, True), gimb.SweepPoint(4, -0.4, 1.2, 1.0, 1.0, True, True),
           gimb.SweepPoint(16, None, 0.0, 0.0, 1.0, True, True)]
    monkeypatch.setattr(gimb, "sweep", lambda *a, **k: pts)
    from ufm import UFMProblem, VerifyContext

    ctx = VerifyContext(problem=UFMProblem(K=4, d=4, class_sizes=(4, 4, 1, 1)))
    r = gimb.minority_collapse(ctx, {})
    assert r.status == "confirmed" and r.verdict == "not_reproduced"


@pytest.mark.parametrize("args, message", [
    (["--loss", "focal", "--gamma", "-1"], "gamma=-1 is out of range"),
    (["--class-sizes", "3,3"], "class_sizes=(3, 3) has 2 entries for K=4"),
    (["--loss", "mse", "--user-loss", "m:f"], "choose one"),
    (["--no-bias", "--lam-b", "0.5"], "without a bias there is no lam_b"),
    (["--user-loss", "no_such_module_xyz:f"], "cannot be loaded"),
])
def test_bad_variant_usage_exits_2(args, message, capsys):
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err
