"""The `hessian` check group (`ufm.verify.groups.hessian`): the verdicts on Theorem 4.2 at the
defaults, not-applicable cases, and a non-circularity check of the verdicts."""

import pytest

from ufm import UFMProblem, VerifyContext
from ufm.verify import run_group


def run(ctx):
    return run_group(ctx, "hessian")[0]


def test_verify_group_defaults_pass():
    p = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
    res = run(VerifyContext(problem=p, progress=lambda m: None))
    ids = [r.id for r in res]
    assert ids == [f"hessian.{b}.{r}.{k}" for b in "WH" for r in ("loss", "full")
                   for k in ("spectrum", "condition")] + ["hessian.joint.nullity", "hessian.joint.spectrum",
                                                          "hessian.thm42.loss", "hessian.thm42.full"]
    assert all(r.status == "confirmed" for r in res), [(r.id, r.details.get("reason")) for r in res
                                                         if r.status != "confirmed"]
    by = {r.id: r for r in res}
    # the paper's reading: kappa falls with alpha, read off the measured slopes (-3 = -(K-1))
    loss = by["hessian.thm42.loss"]
    assert loss.claim_id == "nc.thm42.condition" and loss.verdict == "holds"
    assert all(v["observed_fd"] < -v["tolerance_abs"] for v in loss.details["per_block"].values())
    # the regularized reading is an extension: no verdict on the paper, a finding instead
    full = by["hessian.thm42.full"]
    assert full.claim_id == "ext.hessian.full" and full.verdict is None
    assert "kappa grows with alpha" in full.details["finding"]
    # Appendix E's counts: four distinct eigenvalues for W (eq. 56), three for H (eq. 49)
    assert by["hessian.W.loss.spectrum"].details["distinct_eigenvalues"] == {"measured": 4, "paper": 4}
    assert by["hessian.H.loss.spectrum"].details["distinct_eigenvalues"] == {"measured": 3, "paper": 3}
    assert by["hessian.W.loss.spectrum"].verdict == by["hessian.H.loss.spectrum"].verdict == "holds"


def test_K2_loss_reading_is_false_with_counterexample():
    """K = 2: each block has one non-zero eigenvalue, kappa = 1 for every alpha."""
    p = UFMProblem(K=2, d=2, n=2, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
    by = {r.id: r for r in run(VerifyContext(problem=p))}
    loss = by["hessian.thm42.loss"]
    assert loss.status == "confirmed" and loss.verdict == "false"
    assert "constant in alpha" in loss.verdict_reason and "K=2" in loss.verdict_reason
    assert by["hessian.W.loss.spectrum"].verdict == "false"


@pytest.mark.parametrize("kwargs,word", [
    (dict(K=4, d=5, n=3, alpha=0.99), "collapsed"),
    (dict(K=5, d=2, n=3, alpha=0.1), "d=2 < K-1"),
])
def test_verify_group_not_applicable(kwargs, word):
    res = run(VerifyContext(problem=UFMProblem(**kwargs), progress=lambda m: None))
    assert len(res) == 12 and all(r.status == "not_applicable" and r.verdict is None for r in res)
    assert all(word in r.details["reason"] for r in res)


def test_verdict_check_is_not_circular(monkeypatch):
    """A wrong symbolic derivative (sign flipped) must make the verdict checks
    fail: they compare it with finite differences of measured kappa."""
    import ufm.verify.groups.hessian as ch

    true = ch.condition_number_derivative
    monkeypatch.setattr(ch, "condition_number_derivative", lambda p, b, r: -true(p, b, r))
    p = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3, lam_b=1e-3)
    res = {r.id: r for r in run(VerifyContext(problem=p, progress=lambda m: None))}
    assert res["hessian.thm42.full"].status == "contradicted"
    assert res["hessian.thm42.loss"].status == "contradicted"
    assert res["hessian.thm42.loss"].verdict == "inconclusive"
