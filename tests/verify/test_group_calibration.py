"""The `calibration` check group (`ufm.verify.groups.calibration`): the alpha
choice on the validation split, the training-time checks (their judging flips
with the recorded series, too few wrong samples), and a quick run with its
verdicts and effect sizes pinned."""

import numpy as np
import pytest

from ufm import UFMProblem, VerifyContext


def _synthetic():
    """Measurements where the validation split and the test split pick different alphas."""
    import ufm.verify.groups.calibration as gcal

    A, S = len(gcal.ALPHAS), 4
    rng = np.random.default_rng(1)
    m = {k: np.zeros((A, S)) for k in ("ece_raw", "ece_ts", "ece_val_raw", "temperature", "test_error")}
    m["ece_val_raw"][:] = np.array([0.05, 0.04, 0.02, 0.06, 0.08])[:, None]   # validation picks alpha = 0.1
    m["ece_raw"][:] = np.array([0.05, 0.01, 0.06, 0.06, 0.08])[:, None]       # test would pick alpha = 0.05
    m["ece_raw"] += 0.001 * rng.standard_normal((A, S))
    return gcal, {"m": m, "common": {}, "seconds": 0.0, "S": S}


def test_suitable_alpha_is_chosen_on_validation():
    gcal, r = _synthetic()
    assert gcal.CHOOSE_ALPHA_ON == "validation"
    c = gcal.check_ls_lower_raw(r)
    assert c.details["alpha_chosen_on"] == "validation" and c.details["suitable_alpha"] == 0.1
    assert c.details["alpha_the_other_split_would_choose"] == 0.05
    m = r["m"]
    np.testing.assert_allclose(c.details["effect"]["mean"], np.mean(m["ece_raw"][2] - m["ece_raw"][0]))
    # choosing on the test set would change what is checked: another alpha, another effect and verdict
    t = gcal.check_ls_lower_raw(r, choose_on="test")
    assert t.details["suitable_alpha"] == 0.05 and t.details["effect"]["mean"] < c.details["effect"]["mean"] - 0.02
    assert (c.details["verdict"], t.details["verdict"]) == ("not reproduced", "reproduced")
    with pytest.raises(ValueError, match="on='train'"):
        gcal.choose_alpha(m, "train")


def test_calibration_group_quick():
    """Quick mode: 3 seeds x 300 Adam steps (`sizes`). Verdicts pinned; each effect band is
    about +-50% (or the sign) around the 10-seed pilot's value, wider than the seed-to-seed sd."""
    pytest.importorskip("sklearn")
    from ufm.verify import run_group
    import ufm.verify.groups.calibration as gcal

    ctx = VerifyContext(problem=UFMProblem(K=4, d=5, n=3), seed=0, quick=True, progress=lambda m: None)
    assert gcal.sizes(ctx)[1] == 3 and gcal.sizes(ctx)[0]["steps"] == 300
    results = {r.id: r for r in run_group(ctx, "calibration")[0]}
    assert set(results) == {f"calibration.{k}" for k in (
        "ls_lower_ece_raw", "ce_lower_ece_after_ts", "temperature_falls_with_alpha", "test_error_u_shape",
        "wrong_nc1_falls", "wrong_entropy_falls", "ece_rises_terminal")}
    for r in results.values():
        assert r.status == "confirmed" and r.details["verdict"] in ("reproduced", "not reproduced")
        assert r.verdict == ("holds" if r.details["verdict"] == "reproduced" else "not_reproduced")
        assert "per_alpha_mean_pm_std" in r.details and r.verdict_reason
        assert r.details["effect"]["n_seeds"] == 3
    # 1. raw ECE: LS at the validation-chosen alpha is *worse* than CE (about +0.07; opposite established)
    r = results["calibration.ls_lower_ece_raw"]
    runs = r.details["per_run"]
    j = 1 + int(np.argmin(np.mean(runs["ece_val_raw"], axis=1)[1:]))
    assert r.details["alpha_chosen_on"] == "validation" and r.details["suitable_alpha"] == gcal.ALPHAS[j]
    np.testing.assert_allclose(r.details["effect"]["mean"],
                               np.mean(np.subtract(runs["ece_raw"][j], runs["ece_raw"][0])), rtol=1e-12)
    assert r.verdict == "not_reproduced" and 0.04 < r.details["effect"]["mean"] < 0.10
    assert r.details["paired_tests"][f"alpha={gcal.ALPHAS[j]:g}"]["opposite_established"]
    # 2. after temperature scaling, LS - CE is slightly negative (about -0.005), not positive
    r = results["calibration.ce_lower_ece_after_ts"]
    assert r.verdict == "not_reproduced" and -0.015 < r.details["effect"]["mean"] < 0.0
    # 3. the optimal temperature falls at every step of the grid (weakest step about -0.075)
    r = results["calibration.temperature_falls_with_alpha"]
    assert r.verdict == "holds" and -0.2 < r.details["effect"]["mean"] < -0.02
    # 4. test error: minimum interior, but the right end is not established above it (tiny effect)
    r = results["calibration.test_error_u_shape"]
    assert r.verdict == "not_reproduced" and abs(r.details["effect"]["mean"]) < 0.02
    # 5-7. training-time claims (Fig. 4), steps 75 -> 300 (NC1, entropy) and 150 -> 300 (ECE), every alpha.
    # Bands: about +-50% of the measured quick value (or the sign), wider than its standard error.
    for name in ("wrong_nc1_falls", "wrong_entropy_falls", "ece_rises_terminal"):
        r = results[f"calibration.{name}"]
        assert r.details["checkpoint_steps"] == [75, 150, 225, 300] and not r.details["untestable_alphas"]
        assert set(r.details["paired_tests"]) == {f"alpha={a:g}" for a in gcal.ALPHAS}
        assert r.verdict_reason.startswith(f"step {r.details['early_step']} -> 300")
    t = results["calibration.wrong_nc1_falls"].details["paired_tests"]
    # NC1 of the wrong samples falls under LS (each alpha about -0.2 to -0.35) but not under CE (about +0.09)
    assert results["calibration.wrong_nc1_falls"].verdict == "not_reproduced"
    assert results["calibration.wrong_nc1_falls"].details["effect"]["comparison"] == "alpha=0"
    assert -0.2 < t["alpha=0"]["mean"] < 0.5 and not t["alpha=0"]["established"]
    assert all(t[f"alpha={a:g}"]["mean"] < -0.08 for a in gcal.ALPHAS[1:])
    # their entropy falls under CE (about -0.33, established) but not under LS (about 0 to +0.08)
    t = results["calibration.wrong_entropy_falls"].details["paired_tests"]
    assert results["calibration.wrong_entropy_falls"].verdict == "not_reproduced"
    assert -0.5 < t["alpha=0"]["mean"] < -0.15 and t["alpha=0"]["established"]
    assert all(-0.05 < t[f"alpha={a:g}"]["mean"] < 0.2 for a in gcal.ALPHAS[1:])
    # the test ECE falls slightly from step 150 to 300 at every alpha (about -0.004 to -0.011)
    r = results["calibration.ece_rises_terminal"]
    assert r.verdict == "not_reproduced" and r.details["max_train_error_early_late"][0] <= 0.01
    assert all(-0.025 < t["mean"] < 0.0 and not t["established"] for t in r.details["paired_tests"].values())


def _series(A=5, S=4, C=4, seed=0):
    """Recorded training-time series where every claim holds: NC1 and entropy fall, ECE rises."""
    rng = np.random.default_rng(seed)
    up = np.linspace(0.0, 0.3, C)[None, None, :] + 0.01 * rng.standard_normal((A, S, C))
    return {"wrong_nc1": 1.0 - up, "wrong_entropy": 1.5 - up, "ece_ckpt": 0.02 + 0.1 * up,
            "n_wrong": np.full((A, S, C), 10), "enough_wrong": np.ones((A, S, C), bool),
            "wrong_per_predicted_class": np.ones((A, S, C, 10), int),
            "train_error": np.zeros((A, S, C)), "steps": [75, 150, 225, 300]}


@pytest.mark.parametrize("name,key", [("wrong_nc1_falls", "wrong_nc1"), ("wrong_entropy_falls", "wrong_entropy"),
                                      ("ece_rises_terminal", "ece_ckpt")])
def test_training_checks_flip_with_the_series(monkeypatch, name, key):
    """Each training-time check holds on a series with the claimed trend and is not reproduced,
    its opposite established at every alpha, when the recorded series is reversed in time."""
    pytest.importorskip("sklearn")
    import ufm.verify.groups.calibration as gcal

    _, r = _synthetic()
    r["ckpt"] = _series()
    monkeypatch.setattr(gcal, "measure", lambda ctx: r)
    ctx = VerifyContext(problem=UFMProblem(K=4, d=5, n=3), seed=0, quick=True, progress=lambda m: None)
    got = {x.id: x for x in gcal.run(ctx)}[f"calibration.{name}"]
    assert (got.status, got.verdict) == ("confirmed", "holds")
    e, l = gcal.EARLY_LATE[key]
    x = r["ckpt"][key]
    np.testing.assert_allclose([t["mean"] for t in got.details["paired_tests"].values()],
                               (x[:, :, l] - x[:, :, e]).mean(axis=1), rtol=1e-12)
    r["ckpt"] = {**r["ckpt"], key: x[:, :, ::-1].copy()}
    flipped = {x.id: x for x in gcal.run(ctx)}[f"calibration.{name}"]
    assert (flipped.status, flipped.verdict) == ("confirmed", "not_reproduced")
    assert all(t["opposite_established"] for t in flipped.details["paired_tests"].values())
    assert np.sign(flipped.details["effect"]["mean"]) == -np.sign(got.details["effect"]["mean"])


def test_too_few_wrong_samples():
    """Runs with fewer than MIN_WRONG wrong test samples carry NaN: their seeds leave the comparison,
    an alpha with fewer than 2 seeds left is reported untestable, and with none left the check is skipped."""
    import ufm.verify.groups.calibration as gcal

    _, r = _synthetic()
    ck = _series()
    for idx in ((0, slice(0, 3), 0),   # alpha = 0: only one seed left -> untestable
                (1, 0, 3)):            # alpha = 0.05: three seeds left
        ck["n_wrong"][idx], ck["wrong_nc1"][idx] = 1, np.nan
    ck["enough_wrong"] = ck["n_wrong"] >= gcal.MIN_WRONG
    r["ckpt"] = ck
    c = gcal.check_training(r, "wrong_nc1_falls")
    assert set(c.details["untestable_alphas"]) == {"alpha=0"} and c.details["seeds_used"]["alpha=0.05"] == 3
    assert c.details["paired_tests"]["alpha=0.05"]["n"] == 3 and "untestable" in c.details["reason_line"]
    assert c.details["per_checkpoint_mean_pm_std"]["alpha=0"][0].endswith("+- 0")  # one seed left there
    # a non-finite value with enough wrong samples (a diverged run) is not dropped: it makes the check non-finite
    ck["wrong_nc1"][2, 1, 0] = np.nan
    assert np.isnan(gcal.check_training(r, "wrong_nc1_falls").observed)
    ck["n_wrong"][:] = 0
    ck["enough_wrong"] = ck["n_wrong"] >= gcal.MIN_WRONG
    s = gcal.check_training(r, "wrong_nc1_falls")
    assert s.status == "skipped" and "wrong test samples" in s.details["reason"]
