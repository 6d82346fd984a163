"""Each check group, fed a deliberately wrong derivation or a wrong measurement,
reports `contradicted` and `python -m ufm.verify` exits 1.

The faults are injected through the names each group module uses (a wrong
factor in a derived closed form, a derivation step SymPy did not confirm, a
non-finite measurement), one at a time, on problems small enough to run fast.
"""

import json

import numpy as np
import pytest

import ufm.tsla.bounds as LB
import ufm.verify.cli as cli
import ufm.verify.groups.calibration as gcal
import ufm.verify.groups.dynamics as gdyn
import ufm.verify.groups.hessian as ghes
import ufm.verify.groups.minimizer as gmin

SMALL = ["--K", "3", "--d", "3", "--n", "2", "--alpha", "0.1", "--lam-W", "1e-2", "--lam-H", "1e-2"]


def verify(tmp_path, *args):
    path = tmp_path / "r.json"
    code = cli.main([*args, "--no-side", "--json", str(path)])
    return code, {c["id"]: c for c in json.loads(path.read_text())["checks"]}


def test_sound_small_problem_is_confirmed(tmp_path):
    # the baseline the faults below are measured against
    code, checks = verify(tmp_path, "--only", "minimizer,hessian", *SMALL)
    assert code == 0 and all(c["status"] in ("confirmed", "skipped") for c in checks.values())


def test_minimizer_wrong_factor_in_closed_form(tmp_path, monkeypatch):
    real = gmin.closed_form
    monkeypatch.setattr(gmin, "closed_form", lambda p: {**real(p), "w_norm_sq": 1.001 * real(p)["w_norm_sq"]})
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL)
    assert code == 1
    assert checks["minimizer.w_norm_sq"]["status"] == "contradicted"
    assert checks["minimizer.w_norm_sq"]["verdict"] == "inconclusive"
    assert checks["minimizer.rho"]["status"] == "confirmed"


def test_minimizer_unverified_derivation_step(tmp_path, monkeypatch):
    real = gmin.minimizer_derivation()
    broken = type(real)(real.title, real.source, list(real.steps), real.results, real.symbols)
    i = next(k for k, s in enumerate(broken.steps) if s.kind == "identity")
    step = broken.steps[i]
    broken.steps[i] = type(step)(step.kind, step.title, step.text, step.lhs, step.rhs, False, "injected")
    monkeypatch.setattr(gmin, "minimizer_derivation", lambda: broken)
    code, checks = verify(tmp_path, "--only", "minimizer", *SMALL)
    assert code == 1
    assert all(c["status"] == "contradicted" for c in checks.values())
    assert "not confirmed by SymPy" in checks["minimizer.rho"]["details"]["reason"]


def test_hessian_wrong_factor_in_spectrum(tmp_path, monkeypatch):
    real = ghes.spectrum
    monkeypatch.setattr(ghes, "spectrum", lambda p, b, r: [(1.01 * v, m) for v, m in real(p, b, r)])
    code, checks = verify(tmp_path, "--only", "hessian", *SMALL)
    assert code == 1
    assert checks["hessian.W.loss.spectrum"]["status"] == "contradicted"
    assert checks["hessian.H.full.spectrum"]["status"] == "contradicted"


def test_hessian_wrong_sign_of_kappa_slope(tmp_path, monkeypatch):
    real = ghes.condition_number_derivative
    monkeypatch.setattr(ghes, "condition_number_derivative", lambda p, b, r: -real(p, b, r))
    code, checks = verify(tmp_path, "--only", "hessian", *SMALL)
    assert code == 1
    assert checks["hessian.thm42.loss"]["status"] == "contradicted"


def test_lsr_wrong_factor_in_lemma1_bound(tmp_path, monkeypatch):
    real = LB.lemma1_bound
    monkeypatch.setattr(LB, "lemma1_bound", lambda *a, **k: 0.5 * real(*a, **k))
    code, checks = verify(tmp_path, "--only", "lsr", "--quick")
    assert code == 1
    assert checks["lsr.lemma1"]["status"] == "contradicted"


def test_dynamics_non_finite_measurement(tmp_path, monkeypatch):
    monkeypatch.setitem(gdyn.STANDARD, "steps", 400)  # a short sweep: the fault shows at once
    real = gdyn.closed_form
    monkeypatch.setattr(gdyn, "closed_form", lambda p: {**real(p), "w_norm_sq": float("nan")})
    code, checks = verify(tmp_path, "--only", "dynamics", "--quick")
    assert code == 1
    assert checks["dynamics.norms_match_theory"]["status"] == "contradicted"


def test_calibration_non_finite_measurement(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setitem(gcal.SETTINGS, "steps", 20)
    real = gcal.train_digits

    def broken(*a, **k):
        out = dict(real(*a, **k))
        out["test_logits"] = np.full_like(np.asarray(out["test_logits"]), np.nan)
        return out

    monkeypatch.setattr(gcal, "train_digits", broken)
    code, checks = verify(tmp_path, "--only", "calibration", "--quick")
    assert code == 1
    assert any(c["status"] == "contradicted" for c in checks.values())


def test_calibration_non_finite_checkpoint(tmp_path, monkeypatch):
    """A non-finite recorded checkpoint (a diverged run mid-training) makes the training-time
    check's evidence contradicted; it is not dropped as 'too few wrong samples'."""
    pytest.importorskip("sklearn")
    monkeypatch.setitem(gcal.SETTINGS, "steps", 20)
    real = gcal.train_digits

    def broken(*a, **k):
        out = dict(real(*a, **k))
        out["checkpoint_test_features"] = np.full_like(out["checkpoint_test_features"], np.nan)
        return out

    monkeypatch.setattr(gcal, "train_digits", broken)
    code, checks = verify(tmp_path, "--only", "calibration", "--quick")
    assert code == 1
    assert checks["calibration.wrong_nc1_falls"]["status"] == "contradicted"
    assert checks["calibration.ece_rises_terminal"]["status"] == "confirmed"
