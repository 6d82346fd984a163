"""Interval evaluation and certified roots: known roots to 30 digits, enclosures, exact doubles."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from mpmath import iv

from ufm.nc.losses.interval import (CertifiedRoot, certified_root, interval_eval, interval_precision,
                                    sign, to_interval)

x = sp.Symbol("x")
a = sp.Symbol("a")


def ends(v) -> tuple[Fraction, Fraction]:
    """The interval's end points as exact fractions."""
    out = []
    for sgn, man, exp, _ in v._mpi_:  # mpmath's raw (sign, mantissa, exponent, bits) tuples
        q = Fraction(man) * Fraction(2) ** exp
        out.append(-q if sgn else q)
    return tuple(out)


def mp40(fn):
    with mpmath.workdps(40):
        return fn()


def test_sqrt2_to_30_digits():
    r = certified_root(x**2 - 2, x, 1, 2, digits=30)
    assert isinstance(r, CertifiedRoot) and r.digits == 30 and r.unique
    with mpmath.workdps(40):
        true = mpmath.sqrt(2)
        assert r.lo <= true <= r.hi  # the enclosure holds the true root
        assert (r.hi - r.lo) / abs(r.value) < mpmath.mpf(10) ** -30
        assert abs(r.value - true) / true < mpmath.mpf(10) ** -30
        assert abs(mpmath.mpf(r.value_str) - true) / true < mpmath.mpf(10) ** -30
    assert len(r.value_str.replace(".", "").lstrip("0")) >= 30
    c = r.certificate
    assert (c["sign_g_lo"], c["sign_g_hi"]) == ("-", "+")
    assert c["derivative_excludes_zero"] and c["unique_in_initial_bracket"]
    assert c["dps"] >= 50 and c["iterations"] > 90


def test_log3_enclosure_contains_true_value():
    r = certified_root(sp.exp(x) - 3, x, 0, 2, digits=30)
    with mpmath.workdps(50):
        assert r.lo <= mpmath.log(3) <= r.hi
        assert mpmath.nstr(mpmath.log(3), 30) == mpmath.nstr(r.value, 30)
        assert mpmath.log(3) in r
    assert mpmath.log(3) not in r  # log 3 rounded to a double lies outside the 30-digit enclosure


def test_decreasing_function_and_env():
    # g = c - x^3 with c = 5 given through env: root 5^(1/3)
    c = sp.Symbol("c")
    r = certified_root(c - x**3, x, 0.5, 3, env={c: 5})
    assert r.certificate["sign_g_lo"] == "+" and r.certificate["sign_g_hi"] == "-"
    with mpmath.workdps(45):
        assert r.lo <= mpmath.cbrt(5) <= r.hi


def test_shifted_root_is_caught():
    # a g whose root is shifted by ~3.5e-21 gives an enclosure that excludes sqrt(2)
    r = certified_root(x**2 - 2 - sp.Rational(1, 10**20), x, 1, 2, digits=30)
    with mpmath.workdps(50):
        assert not r.lo <= mpmath.sqrt(2) <= r.hi
        assert r.lo <= mpmath.sqrt(2 + mpmath.mpf(10) ** -20) <= r.hi


def test_same_signs_raise():
    with pytest.raises(ValueError, match=r"lo=2 and hi=3 does not have strictly opposite signs"):
        certified_root(x**2 - 2, x, 2, 3)
    with pytest.raises(ValueError, match="lo=1.5"):  # lo above hi
        certified_root(x**2 - 2, x, 1.5, 1)


def test_several_roots_not_unique_in_initial_bracket():
    g = (x - 1) * (x - 2) * (x - 3)
    r = certified_root(g, x, 0.5, 3.5)
    assert r.unique  # monotone on the final bracket
    assert not r.certificate["unique_in_initial_bracket"]
    with mpmath.workdps(40):
        assert min(abs(r.value - k) for k in (1, 2, 3)) < mpmath.mpf(10) ** -29


def test_double_is_exact_binary_not_decimal():
    with interval_precision(60):
        v = interval_eval(a, {a: 0.1})
        lo, hi = ends(v)
        assert lo == hi == Fraction(0.1) == Fraction(3602879701896397, 2**55)
        assert Fraction(1, 10) != lo  # the decimal 1/10 is not the double 0.1
        # a SymPy Float node is its binary value too
        assert ends(interval_eval(sp.Float(0.1) + 0 * a, {a: 0}))[0] == Fraction(0.1)
        # a Rational and a decimal string are enclosed, tightly, without being the double
        lo, hi = ends(interval_eval(sp.Rational(1, 10) * a, {a: 1}))
        assert lo < Fraction(1, 10) < hi and hi - lo < Fraction(1, 10**55)
        assert not lo <= Fraction(0.1) <= hi
        lo, hi = ends(to_interval("0.1"))
        assert lo <= Fraction(1, 10) <= hi


def test_expression_nodes():
    g, y = sp.Symbol("gamma"), sp.Symbol("y")
    with interval_precision(50):
        assert ends(interval_eval(x ** sp.Rational(3, 2), {x: 4})) == (8, 8)
        v = interval_eval(x**g, {x: 2, g: 0.5})  # a general exponent: exp(g log x)
        with mpmath.workdps(50):
            assert v.a <= mpmath.sqrt(2) <= v.b and v.delta < mpmath.mpf(10) ** -45
        assert ends(interval_eval(y**2, {y: iv.mpf([-1, 2])})) == (0, 4)  # not [-2, 4]
        lo, hi = ends(interval_eval(sp.log(sp.exp(x)) + 0 * a, {x: 1, a: 0}))
        assert lo <= 1 <= hi and hi - lo < Fraction(1, 10**45)
        v = interval_eval(sp.pi * sp.E, {})
        with mpmath.workdps(50):
            assert v.a <= mpmath.pi * mpmath.e <= v.b
        assert float(v.mid) == pytest.approx(8.539734222673566, rel=1e-15)
        assert sign(interval_eval(x - 1, {x: 1})) == 0
        assert sign(interval_eval(x, {x: iv.mpf([-1, 1])})) is None


def test_errors():
    with pytest.raises(TypeError, match="unsupported expression node sin"):
        interval_eval(sp.sin(x), {x: 1})
    with pytest.raises(ValueError, match="symbol a has no value"):
        interval_eval(a + x, {x: 1})
    with pytest.raises(ValueError, match="log of an interval"):
        interval_eval(sp.log(x), {x: -1})
    with pytest.raises(ValueError, match="non-integer power"):
        interval_eval(x ** sp.Rational(1, 3), {x: -1})


def test_precision_restored():
    before = (iv.prec, mpmath.mp.prec)
    interval_eval(sp.exp(x), {x: 1}, dps=80)
    certified_root(x**2 - 2, x, 1, 2)
    with pytest.raises(ValueError):
        with interval_precision(70):
            raise ValueError("inside")
    assert (iv.prec, mpmath.mp.prec) == before
