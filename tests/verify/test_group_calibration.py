"""The `calibration` check group (`ufm.verify.groups.calibration`): the alpha
choice on the validation split, and a quick run with its verdicts and effect
sizes pinned."""

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
        "ls_lower_ece_raw", "ce_lower_ece_after_ts", "temperature_falls_with_alpha", "test_error_u_shape")}
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
