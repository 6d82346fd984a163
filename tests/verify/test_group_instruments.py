"""The `instruments` check group (`ufm.verify.groups.instruments`): every instrument against a
known answer, and every check's judging logic against a deliberately wrong instrument."""

import dataclasses

import numpy as np
import pytest

import ufm.verify.groups.instruments as inst
from ufm import LogRegProblem, QuadraticLSRProblem, UFMProblem, VerifyContext
from ufm.verify import GROUPS, run_group
from ufm.verify.claims import CLAIMS

IDS = {
    "ext.instrument.nc_metrics": ("instruments.nc1", "instruments.nc2", "instruments.nc3"),
    "ext.instrument.ece": ("instruments.ece", "instruments.ece.edges"),
    "ext.instrument.ucb": ("instruments.ucb.coverage", "instruments.ucb.width"),
    "ext.instrument.lanczos": ("instruments.dense_hessian", "instruments.lanczos"),
    "ext.instrument.smoothness": ("instruments.smoothness.quadratic", "instruments.smoothness.noise",
                                  "instruments.smoothness.logreg"),
    "ext.instrument.moments": ("instruments.moments",),
    "ext.instrument.solver_flag": ("instruments.solver.capped", "instruments.solver.full"),
}


def _run():
    ctx = VerifyContext(problem=UFMProblem(K=4, d=5, n=3), seed=0, progress=lambda m: None)
    return {r.id: r for r in run_group(ctx, "instruments")[0]}


def test_instruments_group_first_and_every_check_confirmed():
    assert list(GROUPS)[0] == "instruments" and not GROUPS["instruments"].uses_problem
    results = _run()
    assert set(results) == {i for ids in IDS.values() for i in ids}
    for cid, ids in IDS.items():
        c = CLAIMS[cid]
        assert c.kind == "derived" and c.group == "instruments" and set(c.checks) == set(ids)
        assert c.paper == ("nc" if cid in ("ext.instrument.nc_metrics", "ext.instrument.ece",
                                           "ext.instrument.lanczos", "ext.instrument.solver_flag") else "tsla")
        for i in ids:
            r = results[i]
            assert r.status == "confirmed", (i, r.error, r.tolerance, r.details.get("reason"))
            assert r.claim_id == cid and r.verdict is None
            assert r.details.get("tolerance_reason") and r.tolerance is not None
    # the moments check resolves the recursion's smallest term
    m = results["instruments.moments"].details
    assert m["se_over_smallest_term"] < 0.25


def test_known_answers_are_what_the_docstring_says():
    W, H, K, exp = inst.nc_configuration(0)
    assert W.shape == (4, 5) and H.shape == (5, 12) and all(v > 0.01 for v in exp.values())
    (_, _), _, by_hand, exact = inst.ece_table()
    assert by_hand == exact
    params, p, spec, _ = inst.hessian_configuration(0)
    assert int(np.sum(spec == 0)) == p.d + (p.K - 1)  # d from P's null vector, K-1 from sigma = 0


def _wrong_ece(probs, labels, n_bins=15):
    """ECE with the bins shifted to [b/B, (b+1)/B): every confidence at an edge moves up a bin."""
    p, y = np.asarray(probs, float), np.asarray(labels)
    conf, ok = p.max(1), (p.argmax(1) == y).astype(float)
    idx = np.clip(np.floor(conf * n_bins).astype(int), 0, n_bins - 1)
    out = 0.0
    for b in np.unique(idx):
        m = idx == b
        out += m.mean() * abs(ok[m].mean() - conf[m].mean())
    return out


def _scaled_metric(key, f=1.01):
    orig = inst.nc_metrics

    def wrong(*a, **k):
        d = orig(*a, **k)
        d[key] *= f
        return d
    return wrong


def _ucb(kind):
    orig = inst.upper_confidence

    def wrong(x, level=0.99):
        r = dict(orig(x, level))
        w = r["ucb"] - r["mean"]
        r["ucb"] = r["mean"] - w if kind == "lower" else r["mean"] + 1.5 * w
        return r
    return wrong


def _lanczos_scaled(*a, **k):
    r = dict(_ORIG_LANCZOS(*a, **k))
    r["lambda_max"] *= 1.01
    r["lambda_min_nonzero"] *= 1.01
    return r


_ORIG_LANCZOS = inst.lanczos_extremes
_ORIG_DENSE = inst.block_hessian
_ORIG_SOLVE = inst.solve
_ORIG_VALUE = QuadraticLSRProblem.value
_ORIG_EXACT = QuadraticLSRProblem.exact_average
_ORIG_LBOUND = LogRegProblem.L_bound.fget


def _patch_value(mp):
    mp.setattr(QuadraticLSRProblem, "value", staticmethod(lambda arr, w: 1.01 * _ORIG_VALUE(arr, w)))


def _patch_s_xi(mp):
    mp.setattr(QuadraticLSRProblem, "s_xi",
               property(lambda self: 1.01 * np.full(self.d, np.sqrt(self.sigma2 / self.d))))


WRONG = {
    "instruments.nc1": lambda mp: mp.setattr(inst, "nc_metrics", _scaled_metric("nc1")),
    "instruments.nc2": lambda mp: mp.setattr(inst, "nc_metrics", _scaled_metric("nc2")),
    "instruments.nc3": lambda mp: mp.setattr(inst, "nc_metrics", _scaled_metric("nc3")),
    "instruments.ece": lambda mp: mp.setattr(inst, "expected_calibration_error", _wrong_ece),
    "instruments.ece.edges": lambda mp: mp.setattr(inst, "expected_calibration_error", _wrong_ece),
    "instruments.ucb.coverage": lambda mp: mp.setattr(inst, "upper_confidence", _ucb("lower")),
    "instruments.ucb.width": lambda mp: mp.setattr(inst, "upper_confidence", _ucb("loose")),
    "instruments.dense_hessian": lambda mp: mp.setattr(inst, "block_hessian",
                                                       lambda *a, **k: 1.01 * _ORIG_DENSE(*a, **k)),
    "instruments.lanczos": lambda mp: mp.setattr(inst, "lanczos_extremes", _lanczos_scaled),
    "instruments.smoothness.quadratic": _patch_value,
    "instruments.smoothness.noise": _patch_s_xi,
    "instruments.smoothness.logreg": lambda mp: mp.setattr(LogRegProblem, "L_bound",
                                                           property(lambda self: 0.5 * _ORIG_LBOUND(self))),
    "instruments.moments": lambda mp: mp.setattr(QuadraticLSRProblem, "exact_average",
                                                 lambda self, st: 1.05 * _ORIG_EXACT(self, st)),
    "instruments.solver.capped": lambda mp: mp.setattr(
        inst, "solve", lambda *a, **k: dataclasses.replace(_ORIG_SOLVE(*a, **k), converged=True)),
}


@pytest.mark.parametrize("check", sorted(WRONG))
def test_a_wrong_instrument_is_contradicted(monkeypatch, check):
    WRONG[check](monkeypatch)
    r = _run()[check]
    assert r.status == "contradicted" and r.verdict == "inconclusive", (r.error, r.tolerance)


def test_the_loose_bound_also_fails_coverage(monkeypatch):
    monkeypatch.setattr(inst, "upper_confidence", _ucb("loose"))
    r = _run()["instruments.ucb.coverage"]
    assert r.status == "contradicted" and r.observed > 0.999  # covers always: not its level


def test_moments_too_few_seeds_cannot_resolve_the_smallest_term(monkeypatch):
    monkeypatch.setattr(inst, "MOM_SEEDS", 16)
    r = _run()["instruments.moments"]
    assert r.status == "contradicted" and r.details["se_over_smallest_term"] >= 0.25
