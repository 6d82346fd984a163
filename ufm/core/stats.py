"""Statistics for the measurements: upper confidence bound, paired difference, slope fit.

Every empirical verdict of `ufm` goes through one of three instruments:

* `upper_confidence`: one-sided CLT upper bound of a mean over i.i.d. seeds
  (a measured quantity stays below a theorem's bound);
* `paired_difference`: mean of ``a_i - b_i`` over seeds that share their
  randomness, its standard error, a two-sided Student-t interval and one-sided
  p-values (method A beats method B);
* `slope_fit`: least-squares slope of ``y`` on ``x`` with its standard error
  (a rate, e.g. the exponent of a sample complexity on a log-log grid).

Inputs are validated through `ufm.core.validate`; all three return plain
dicts of Python floats, with a ``method`` string that states the statistic.

>>> r = upper_confidence([1.0, 2.0, 3.0, 4.0], level=0.99)
>>> round(r["mean"], 6), round(r["ucb"], 4)
(2.5, 4.0017)
>>> p = paired_difference([3.1, 4.2, 5.0, 6.3], [3.0, 4.0, 4.9, 6.0])
>>> round(p["mean"], 6), round(p["se"], 6), round(p["t"], 3)
(0.175, 0.047871, 3.656)
>>> s = slope_fit([0, 1, 2, 3], [1.0, 3.0, 5.0, 7.0])
>>> s["slope"], s["intercept"]
(2.0, 1.0)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from ufm.core import validate

__all__ = ["paired_difference", "slope_fit", "upper_confidence"]


def _level(level) -> float:
    return validate.real("level", level, 0.5, 1, lo_open=True, hi_open=True)


def _sample(name: str, values, minimum: int, finite: bool = True) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < minimum:
        raise validate.bad_array(name, f"shape {x.shape}", f"1-D with at least {minimum} entries")
    return validate.finite(name, x) if finite else x


def upper_confidence(samples, level: float = 0.99) -> dict:
    r"""One-sided CLT upper confidence bound of the mean of i.i.d. samples.

    With sample mean :math:`\bar x`, standard deviation :math:`s` (``ddof=1``)
    and :math:`n` samples,

    .. math:: \mathrm{ucb} = \bar x + z_{\text{level}}\, s / \sqrt n ,
              \qquad z_{\text{level}} = \Phi^{-1}(\text{level}),

    so that :math:`P(\mu \le \mathrm{ucb}) \to \text{level}` as :math:`n \to
    \infty` (central limit theorem; for small n and normal data the Student-t
    quantile would be exact and the z bound covers slightly less).
    Returns ``mean, std, n, ucb, z, method``. Non-finite samples (a diverged
    run) are allowed and give a non-finite bound, which no finite bound check
    passes.

    >>> r = upper_confidence([2.0, 4.0], level=0.5 + 0.34134474606854293)   # z = 1
    >>> round(r["z"], 9), round(r["ucb"], 9)                                # 3 + 1 * sqrt(2)/sqrt(2)
    (1.0, 4.0)
    >>> upper_confidence([1.0, 2.0], level=0.4)
    Traceback (most recent call last):
    ...
    ValueError: level=0.4 is out of range; allowed range: (0.5, 1) (0.5 < level < 1)
    """
    level = _level(level)
    x = _sample("samples", samples, 2, finite=False)
    m, s = float(np.mean(x)), float(np.std(x, ddof=1))
    z = float(_st.norm.ppf(level))
    return {"mean": m, "std": s, "n": int(x.size), "ucb": m + z * s / math.sqrt(x.size), "z": z,
            "method": f"one-sided CLT bound mean + {z:.3f} s/sqrt(n), n = {x.size} i.i.d. seeds"}


def paired_difference(a, b, level: float = 0.99) -> dict:
    r"""Mean of the paired differences ``d_i = a_i - b_i`` over seeds, with its uncertainty.

    ``a[i]`` and ``b[i]`` must come from the same seed (same data, same
    initialisation), so the shared randomness cancels in ``d_i``. With
    :math:`n \ge 2` pairs, :math:`\bar d` the mean and :math:`s_d` the standard
    deviation (``ddof=1``) of the differences:

    .. math::
        \mathrm{se} = s_d/\sqrt n, \qquad t = \bar d / \mathrm{se}, \qquad
        \bar d \pm t_{n-1,(1+\text{level})/2}\, \mathrm{se},

    the paired Student-t statistic with :math:`n-1` degrees of freedom (exact
    for normal differences, the CLT interval for large n). One-sided p-values:
    ``p_greater`` :math:`= P(T_{n-1} \ge t)` (small: evidence that the mean
    difference is > 0), ``p_less`` :math:`= P(T_{n-1} \le t)`. When all
    differences are equal (se = 0), t is :math:`\pm\infty` (0 if they are all 0).

    Returns ``mean, se, n, df, t, p_greater, p_less, level, interval (lo, hi), method``.

    >>> r = paired_difference([2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0, 1.0], level=0.95)
    >>> r["mean"], round(r["se"], 6), round(r["t"], 6)          # d = 1, 2, 3, 4
    (2.5, 0.645497, 3.872983)
    >>> [round(v, 4) for v in r["interval"]], round(r["p_greater"], 5)
    ([0.4457, 4.5543], 0.01523)
    """
    level = _level(level)
    a = _sample("a", a, 2)
    b = _sample("b", b, 2)
    if a.shape != b.shape:
        raise validate.bad_array("b", f"shape {b.shape}", f"{a.shape}, the shape of a (one entry per seed)")
    d = a - b
    n = int(d.size)
    mean, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    se = sd / math.sqrt(n)
    if se > 0:
        t = mean / se
    else:
        t = math.copysign(math.inf, mean) if mean != 0 else 0.0
    df = n - 1
    q = float(_st.t.ppf(0.5 + level / 2, df))
    return {"mean": mean, "se": se, "n": n, "df": df, "t": t,
            "p_greater": float(_st.t.sf(t, df)), "p_less": float(_st.t.cdf(t, df)),
            "level": level, "interval": [mean - q * se, mean + q * se],
            "method": (f"paired t over n = {n} seeds: mean(a - b) +- t_{{{df}}}({(1 + level) / 2:g}) "
                       f"= {q:.3f} x se, se = sd(a - b)/sqrt(n); p one-sided from t_{{{df}}}")}


def slope_fit(x, y, level: float = 0.99) -> dict:
    r"""Ordinary least-squares line ``y = intercept + slope x`` with standard errors.

    With :math:`S_{xx} = \sum (x_i-\bar x)^2`, :math:`S_{xy} = \sum (x_i-\bar
    x)(y_i-\bar y)` and :math:`n \ge 3` points:

    .. math::
        \hat b = S_{xy}/S_{xx}, \quad \hat a = \bar y - \hat b \bar x, \quad
        s^2 = \frac{\sum (y_i - \hat a - \hat b x_i)^2}{n-2}, \\
        \mathrm{se}(\hat b) = s/\sqrt{S_{xx}}, \quad
        \mathrm{se}(\hat a) = s \sqrt{1/n + \bar x^2/S_{xx}},

    and the two-sided interval :math:`\hat b \pm t_{n-2,(1+\text{level})/2}\,
    \mathrm{se}(\hat b)` (exact for independent normal errors of equal
    variance). An exact line has se 0 (up to rounding).

    Returns ``slope, slope_se, intercept, intercept_se, residual_std, n, df,
    level, slope_interval (lo, hi), method``.

    >>> r = slope_fit([0.0, 1.0, 2.0, 3.0], [0.1, 0.9, 2.1, 2.9])
    >>> round(r["slope"], 6), round(r["slope_se"], 6), round(r["intercept"], 6)
    (0.96, 0.056569, 0.06)
    >>> slope_fit([1.0, 1.0, 1.0], [0.0, 1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: x has all entries equal (1); allowed: at least two distinct values
    """
    level = _level(level)
    x = _sample("x", x, 3)
    y = _sample("y", y, 3)
    if x.shape != y.shape:
        raise validate.bad_array("y", f"shape {y.shape}", f"{x.shape}, the shape of x")
    n = int(x.size)
    xm, ym = float(np.mean(x)), float(np.mean(y))
    dx = x - xm
    sxx = float(dx @ dx)
    if not sxx > 0:
        raise validate.bad_array("x", f"all entries equal ({validate.show(x[0])})", "at least two distinct values")
    slope = float(dx @ (y - ym)) / sxx
    intercept = ym - slope * xm
    resid = y - intercept - slope * x
    df = n - 2
    s = math.sqrt(float(resid @ resid) / df)
    se_b = s / math.sqrt(sxx)
    se_a = s * math.sqrt(1.0 / n + xm * xm / sxx)
    q = float(_st.t.ppf(0.5 + level / 2, df))
    return {"slope": slope, "slope_se": se_b, "intercept": intercept, "intercept_se": se_a,
            "residual_std": s, "n": n, "df": df, "level": level,
            "slope_interval": [slope - q * se_b, slope + q * se_b],
            "method": (f"least squares on n = {n} points; se(slope) = s/sqrt(Sxx), s^2 = RSS/{df}; "
                       f"interval slope +- t_{{{df}}}({(1 + level) / 2:g}) = {q:.3f} x se")}
