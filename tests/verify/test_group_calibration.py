"""The `calibration` check group (`ufm.verify.groups.calibration`): a quick run."""

from ufm import UFMProblem, VerifyContext


def test_calibration_group_quick():
    from ufm.verify import run_group

    ctx = VerifyContext(problem=UFMProblem(K=4, d=5, n=3), seed=0, quick=True, progress=lambda m: None)
    results = run_group(ctx, "calibration")[0]
    ids = {r.id for r in results}
    assert {"calibration.ls_lower_ece_raw", "calibration.ce_lower_ece_after_ts",
            "calibration.temperature_falls_with_alpha"} <= ids
    for r in results:
        assert r.status == "confirmed" and r.details["verdict"] in ("reproduced", "not reproduced")
        assert r.verdict == ("holds" if r.details["verdict"] == "reproduced" else "not_reproduced")
        assert "per_alpha_mean_pm_std" in r.details
        if r.verdict == "not_reproduced":
            assert r.verdict_reason
