"""ufm.core.stats against known answers.

Coverage checks repeat an experiment R times on data whose true mean, shift
or slope is known and count how often the instrument's bound or interval
contains the truth. The count is Binomial(R, level) when the instrument is
right, so the tolerance is 4 binomial standard deviations,
``4 sqrt(level (1 - level) / R)`` (a correct instrument fails it with
probability < 1e-4; all seeds are fixed, so the tests are deterministic).
Each coverage check also feeds a wrong value and asserts the judgment flips.
"""

import math

import numpy as np
import pytest
from scipy import stats as sps

from ufm.core.stats import paired_difference, slope_fit, upper_confidence


def coverage_ok(hits: int, R: int, level: float) -> bool:
    return abs(hits / R - level) <= 4 * math.sqrt(level * (1 - level) / R)


# ------------------------------------------------------------------ upper_confidence

def _ucb_hits(samples, true_mean, level, bound=lambda r: r["ucb"]):
    return sum(true_mean <= bound(upper_confidence(x, level)) for x in samples)


def test_upper_confidence_exact_formula():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    r = upper_confidence(x, level=0.975)
    z = sps.norm.ppf(0.975)
    assert r["z"] == pytest.approx(1.959963984540054, rel=1e-12)
    assert r["ucb"] == pytest.approx(3.5 + z * np.std(x, ddof=1) / 2, rel=1e-14)
    assert (r["mean"], r["n"]) == (3.5, 4)


def test_upper_confidence_covers_a_normal_mean_at_its_level():
    # N(3, 2^2), n = 200: the CLT bound covers with probability P(T_199 <= z_0.95) = 0.9493
    R, n, level, mu = 4000, 200, 0.95, 3.0
    samples = np.random.default_rng(1).normal(mu, 2.0, (R, n))
    hits = _ucb_hits(samples, mu, level)
    assert coverage_ok(hits, R, level), hits / R
    # judgment flips: the lower bound mean - z s/sqrt(n) used as the upper bound covers ~5%
    lower = lambda r: 2 * r["mean"] - r["ucb"]  # noqa: E731
    assert not coverage_ok(_ucb_hits(samples, mu, level, lower), R, level)
    # judgment flips: a 95% bound claimed as a 99% bound under-covers
    assert not coverage_ok(hits, R, 0.99)
    # judgment flips: the wrong true mean (mu + 2 standard errors) is covered far less often
    assert not coverage_ok(_ucb_hits(samples, mu + 2 * 2.0 / math.sqrt(n), level), R, level)


def test_upper_confidence_covers_a_skewed_mean_at_its_level():
    # Exponential with mean 2 (skewness 2): the CLT error at n = 2000 is ~0.004, below the tolerance 0.02
    R, n, level = 2000, 2000, 0.9
    samples = np.random.default_rng(2).exponential(2.0, (R, n))
    assert coverage_ok(_ucb_hits(samples, 2.0, level), R, level)


def test_upper_confidence_validation():
    with pytest.raises(ValueError, match=r"level=1 is out of range; allowed range: \(0.5, 1\)"):
        upper_confidence([1.0, 2.0], level=1.0)
    with pytest.raises(ValueError, match=r"samples has shape \(1,\); allowed: 1-D with at least 2 entries"):
        upper_confidence([1.0])
    # a diverged run gives an infinite bound (which fails any finite bound check), not an error
    with np.errstate(invalid="ignore"):
        ucb = upper_confidence([1.0, np.inf])["ucb"]
    assert not ucb <= 1e300


# ------------------------------------------------------------------ paired_difference

def test_paired_difference_matches_scipy_paired_t():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 12), rng.normal(0.4, 1.0, 12)
    r = paired_difference(a, b, level=0.9)
    ref = sps.ttest_rel(a, b, alternative="greater")
    assert r["mean"] == pytest.approx(np.mean(a - b), rel=1e-14)
    assert r["se"] == pytest.approx(np.std(a - b, ddof=1) / math.sqrt(12), rel=1e-14)
    assert r["t"] == pytest.approx(ref.statistic, rel=1e-12) and r["df"] == 11
    assert r["p_greater"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["p_less"] == pytest.approx(sps.ttest_rel(a, b, alternative="less").pvalue, rel=1e-10)
    ci = sps.ttest_rel(a, b).confidence_interval(0.9)
    assert r["interval"] == pytest.approx([ci.low, ci.high], rel=1e-12)


def _shifted_pairs(rng, R, n, shift):
    base = rng.normal(0.0, 10.0, (R, n))  # shared per seed: pairing removes it
    return base + shift + rng.normal(0, 1, (R, n)), base + rng.normal(0, 1, (R, n))


def test_paired_difference_interval_covers_a_known_shift():
    R, n, level, shift = 3000, 50, 0.9, 0.5
    A, B = _shifted_pairs(np.random.default_rng(4), R, n, shift)
    res = [paired_difference(a, b, level) for a, b in zip(A, B)]
    hits = sum(lo <= shift <= hi for lo, hi in (r["interval"] for r in res))
    assert coverage_ok(hits, R, level), hits / R
    assert np.mean([r["mean"] for r in res]) == pytest.approx(shift, abs=4 * math.sqrt(2 / n / R))
    # judgment flips: the wrong shift 0 (2.5 standard errors away) is covered ~30% of the time
    assert not coverage_ok(sum(lo <= 0.0 <= hi for lo, hi in (r["interval"] for r in res)), R, level)
    # judgment flips: an unpaired standard error (the shared base left in) over-covers, ~100%
    q = sps.t.ppf(0.5 + level / 2, n - 1)
    unpaired = [abs(a.mean() - b.mean() - shift) <= q * math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / n)
                for a, b in zip(A, B)]
    assert not coverage_ok(sum(unpaired), R, level)


def test_paired_difference_p_value_is_uniform_under_no_shift_and_small_under_a_shift():
    R, n = 4000, 8
    A, B = _shifted_pairs(np.random.default_rng(5), R, n, 0.0)
    p = np.array([paired_difference(a, b)["p_greater"] for a, b in zip(A, B)])
    assert coverage_ok(int(np.sum(p < 0.05)), R, 0.05)  # P(p < 0.05) = 0.05 exactly for normal data
    assert coverage_ok(int(np.sum(p < 0.5)), R, 0.5)
    # with a shift of 1.5 (se = sqrt(2/8) = 0.5, t ~ 3) the one-sided test rejects far more often
    A, B = _shifted_pairs(np.random.default_rng(6), R, n, 1.5)
    p = np.array([paired_difference(a, b)["p_greater"] for a, b in zip(A, B)])
    assert not coverage_ok(int(np.sum(p < 0.05)), R, 0.05) and np.mean(p < 0.05) > 0.7
    # and swapping a and b turns the evidence around
    p_swapped = np.array([paired_difference(b, a)["p_less"] for a, b in zip(A, B)])
    np.testing.assert_allclose(p_swapped, p, rtol=1e-12)


def test_paired_difference_constant_and_validation():
    r = paired_difference([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert r["se"] == 0.0 and r["t"] == math.inf and r["p_greater"] == 0.0 and r["p_less"] == 1.0
    r0 = paired_difference([1.0, 2.0], [1.0, 2.0])
    assert r0["t"] == 0.0 and r0["p_greater"] == 0.5
    with pytest.raises(ValueError, match=r"b has shape \(2,\); allowed: \(3,\)"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="level=0.2 is out of range"):
        paired_difference([1.0, 2.0], [1.0, 2.0], level=0.2)


# ------------------------------------------------------------------ slope_fit

def test_slope_fit_exact_lines():
    x = np.linspace(-3.0, 7.0, 11)
    for k, c in [(2.5, -1.0), (-0.125, 40.0), (1e3, 1e-3)]:
        r = slope_fit(x, k * x + c)
        assert r["slope"] == pytest.approx(k, rel=1e-13)
        assert r["intercept"] == pytest.approx(c, rel=1e-10, abs=1e-10 * abs(k))
        assert r["slope_se"] <= 1e-12 * abs(k)


def test_slope_fit_matches_scipy_linregress():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 5, 30)
    y = 0.3 * x + 2 + rng.normal(0, 0.4, 30)
    r, ref = slope_fit(x, y), sps.linregress(x, y)
    assert r["slope"] == pytest.approx(ref.slope, rel=1e-12)
    assert r["intercept"] == pytest.approx(ref.intercept, rel=1e-12)
    assert r["slope_se"] == pytest.approx(ref.stderr, rel=1e-10)
    assert r["intercept_se"] == pytest.approx(ref.intercept_stderr, rel=1e-10)


def test_slope_fit_noisy_lines_with_known_slope():
    R, level, k, sigma = 3000, 0.9, 0.7, 0.5
    x = np.linspace(0.0, 10.0, 20)
    rng = np.random.default_rng(8)
    fits = [slope_fit(x, 3.0 + k * x + rng.normal(0, sigma, x.size), level) for _ in range(R)]
    hits = sum(lo <= k <= hi for lo, hi in (f["slope_interval"] for f in fits))
    assert coverage_ok(hits, R, level), hits / R
    slopes = np.array([f["slope"] for f in fits])
    true_se = sigma / math.sqrt(np.sum((x - x.mean()) ** 2))
    # the fitted slopes scatter by the true standard error (sample sd: relative error ~1/sqrt(2R) = 1.3%)
    assert np.std(slopes, ddof=1) == pytest.approx(true_se, rel=4 / math.sqrt(2 * R))
    assert np.mean(slopes) == pytest.approx(k, abs=4 * true_se / math.sqrt(R))
    # and the reported se estimates it (E s^2 = sigma^2)
    assert np.mean([f["slope_se"] ** 2 for f in fits]) == pytest.approx(true_se**2, rel=4 * math.sqrt(2 / 18 / R))
    # judgment flips: a wrong slope 0.8 (~2.7 se away) is inside the interval far less often
    assert not coverage_ok(sum(lo <= 0.8 <= hi for lo, hi in (f["slope_interval"] for f in fits)), R, level)


def test_slope_fit_validation():
    with pytest.raises(ValueError, match=r"x has all entries equal \(2\)"):
        slope_fit([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"x has shape \(2,\); allowed: 1-D with at least 3 entries"):
        slope_fit([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"y has shape \(4,\); allowed: \(3,\), the shape of x"):
        slope_fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="y has 1 non-finite"):
        slope_fit([1.0, 2.0, 3.0], [1.0, np.inf, 3.0])


def test_upper_confidence_is_still_importable_from_tsla_simulate():
    from ufm.tsla import simulate

    assert simulate.upper_confidence is upper_confidence
