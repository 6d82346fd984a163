"""The `lsr` check group (`ufm.verify.groups.lsr`) catches the faults a loose bound check lets through.

Each test injects one fault into what a check uses (a lower bound reported as the
UCB, reused PRNG keys, a simulated curvature above the L given to the theorems, an
exact recursion without its noise-correlation term, a bound total too small, a
log(1/eps) entry that grows like eps^-0.4) and asserts the check is contradicted;
the sound run of the same check is confirmed.
"""

import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ufm.tsla.bounds as LB
import ufm.tsla.problems as problems
import ufm.verify.groups.lsr as lsr
from ufm import QuadraticLSRProblem, simulate_lsr

CTX = types.SimpleNamespace(seed=0, quick=True, progress=lambda *_: None)
N = 1000


def statuses(results):
    return {r.id: r.status for r in results}


def test_sound_bound_checks_are_confirmed():
    out = lsr._thm3(CTX, N) + lsr._thm4(CTX, N)
    assert set(statuses(out).values()) == {"confirmed"}
    for r in out:
        inst = r.details["instrument"]
        assert inst["seeds_independent"] and inst["ucb_is_upper"] and inst["mean_matches_exact"]


def test_a_lower_confidence_bound_as_ucb_is_caught(monkeypatch):
    real = lsr.upper_confidence

    def lower(x, level=0.99):
        r = real(x, level)
        return {**r, "ucb": r["mean"] - r["z"] * r["std"] / math.sqrt(r["n"])}

    monkeypatch.setattr(lsr, "upper_confidence", lower)
    out = lsr._thm3(CTX, N)
    assert statuses(out) == {"lsr.thm3.case1": "contradicted", "lsr.thm3.case2": "contradicted"}
    assert not out[0].details["instrument"]["ucb_is_upper"]


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_reused_prng_keys_are_caught(monkeypatch, fraction):
    """All seeds, or half of them, reusing keys: the samples are no longer i.i.d."""
    real = jax.random.split

    def reused(key, num=2):
        keys = real(key, num)
        k = max(1, int(num * (1 - fraction)))
        return jnp.concatenate([keys[:k], jnp.broadcast_to(keys[0], (num - k,) + keys.shape[1:])])

    monkeypatch.setattr(jax.random, "split", reused)
    out = lsr._thm3(CTX, N)
    assert set(statuses(out).values()) == {"contradicted"}
    assert not out[0].details["instrument"]["seeds_independent"]


def test_independent_seeds_differ():
    q = QuadraticLSRProblem(L=1.0, mu=0.2, sigma2=0.7, delta=0.1, F0=5.0)
    a = simulate_lsr(q, [(1.0, 0.5, 20)], 64, seed=0)["w_final"]
    b = simulate_lsr(q, [(1.0, 0.5, 20)], 64, seed=1)["w_final"]
    assert np.unique(a, axis=0).shape[0] == 64 and not np.any(np.all(a == b, axis=1))


def test_a_curvature_above_the_given_L_is_caught(monkeypatch):
    assert lsr._constants(CTX).status == "confirmed"
    monkeypatch.setattr(QuadraticLSRProblem, "a",
                        property(lambda self: np.linspace(self.mu, 1.5 * self.L, self.d)))
    r = lsr._constants(CTX)
    assert r.status == "contradicted" and r.observed["L"] == pytest.approx(1.5)


def test_a_noise_level_other_than_sigma2_is_caught(monkeypatch):
    monkeypatch.setattr(QuadraticLSRProblem, "s_xi",
                        property(lambda self: np.full(self.d, math.sqrt(self.sigma2 / self.d) * 1.1)))
    assert lsr._constants(CTX).status == "contradicted"


def test_moments_resolve_the_noise_correlation_term(monkeypatch):
    out = lsr._moments(CTX, N)
    assert statuses(out) == {"lsr.sim.moments": "confirmed", "lsr.sim.moments.correlation": "confirmed"}
    d = out[1].details
    assert abs(d["term_relative_to_E"]) == pytest.approx(0.004, rel=0.05)  # the 0.4% term
    assert abs(d["term_over_se"]) >= 6
    # an exact recursion that drops the correlation rho: the term it predicts is 0
    real = problems._moment_rows_fn()
    monkeypatch.setattr(problems, "_moment_rows_fn",
                        lambda: (lambda a, eta, th, b, sx, sz, rho: real(a, eta, th, b, sx, sz, 0.0)))
    out = lsr._moments(CTX, N)
    assert out[1].status == "contradicted"


def test_delta_ge_1_measures_exact_complexities_within_the_bounds(monkeypatch):
    r = [c for c in lsr._assumptions(CTX, N) if c.id == "lsr.assume.delta_ge_1"][0]
    assert r.status == "confirmed" and r.verdict == "false"
    rows = r.details["per_delta"]
    assert any(x["delta"] >= 1 and x["tsla_exact"] < x["baseline_exact"] for x in rows)
    real = LB.total_samples
    monkeypatch.setattr(LB, "total_samples", lambda m, **k: real(m, **k) / 100)  # a bound too small
    r = [c for c in lsr._assumptions(CTX, N) if c.id == "lsr.assume.delta_ge_1"][0]
    assert r.status == "contradicted"


def test_table1_log_entry_tells_log_from_eps_power(monkeypatch):
    out = lsr._table1_empirical(CTX)
    assert set(statuses(out).values()) == {"confirmed"}
    assert out[1].details["per_method"]["LSR"]["judged"] is False  # the inf entry
    real = lsr.empirical_complexities

    def power(eps_grid, p, c, consts=None, methods=("TSLA", "LSR", "baseline")):
        res = real(eps_grid, p, c, consts, methods)
        if p == 4.0 and "TSLA" in methods:
            res["TSLA"] = [30 * float(e) ** -0.4 for e in eps_grid]
        return res

    monkeypatch.setattr(lsr, "empirical_complexities", power)
    out = lsr._table1_empirical(CTX)
    assert statuses(out)["lsr.table1.empirical.row4"] == "contradicted"


def test_parameters_from_a_too_small_L_are_caught(monkeypatch):
    """eta = 1/(0.7 L) still converges on the quadratic and the bounds' slack hides it (UCB/bound
    stays below 1); the proofs' eta <= 1/L, with the simulator's curvature, does not."""
    real = LB.thm3_parameters
    monkeypatch.setattr(LB, "thm3_parameters", lambda L, *a, **k: real(0.7 * L, *a, **k))
    out = lsr._thm3(CTX, N)
    assert set(statuses(out).values()) == {"contradicted"}
    assert all(r.error <= 1 for r in out)  # the bound alone would have passed
    assert out[0].details["instrument"]["max_eta_times_L"] == pytest.approx(1 / 0.7)
