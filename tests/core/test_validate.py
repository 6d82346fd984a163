"""ufm.core.validate: one wording for every argument error."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ufm.core import validate
from ufm.core.validate import Interval, choice, finite, integer, invalid, labels, out_of_range, real, show


def test_message_wording_is_the_one_rule():
    assert str(out_of_range("n", 0, "integers >= 1")) == "n=0 is out of range; allowed: integers >= 1"
    assert str(invalid("K", "abc", "is not an integer", "integers >= 2")) == \
        "K='abc' is not an integer; allowed: integers >= 2"
    e = out_of_range("alpha", 1.0, Interval(0, 1, hi_open=True))
    assert str(e) == "alpha=1 is out of range; allowed range: [0, 1) (0 <= alpha < 1)"
    assert isinstance(e, ValueError)


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (0.0, "0"), (-0.001, "-0.001"), (2.5, "2.5"), (1e-20, "1e-20"), (1e300, "1e+300"),
    (math.inf, "inf"), (math.nan, "nan"), (np.float64(0.25), "0.25"), (np.float32(0.5), "0.5"),
    (np.int32(7), "7"), (True, "True"), (np.bool_(False), "False"), ("x", "'x'"), (None, "None"),
    ([1, 2], "[1, 2]"),
])
def test_show(value, text):
    assert show(value) == text


def test_integer_accepts_and_converts():
    assert integer("n", 3, minimum=1) == 3
    assert integer("n", np.int64(3), minimum=1) == 3 and type(integer("n", np.int64(3))) is int
    assert integer("n", 4.0, minimum=1) == 4
    assert integer("T", 0, 0, 10) == 0 and integer("T", 10, 0, 10) == 10
    assert integer("z", -5) == -5


@pytest.mark.parametrize("kwargs, value, text", [
    (dict(minimum=2), 1, "K=1 is out of range; allowed: integers >= 2"),
    (dict(minimum=2), 2.5, "K=2.5 is not an integer; allowed: integers >= 2"),
    (dict(minimum=2), True, "K=True is not an integer"),
    (dict(minimum=2), "3", "K='3' is not an integer"),
    (dict(minimum=2), math.inf, "K=inf is not an integer"),
    (dict(minimum=2), math.nan, "K=nan is not an integer"),
    (dict(minimum=2, integral_floats=False), 3.0, "K=3 is not an integer"),
    (dict(minimum=0, maximum=9), 10, "K=10 is out of range; allowed: integers in [0, 9]"),
    (dict(maximum=9), 10, "K=10 is out of range; allowed: integers <= 9"),
])
def test_integer_rejects(kwargs, value, text):
    with pytest.raises(ValueError) as info:
        integer("K", value, **kwargs)
    assert text in str(info.value)


@given(st.integers(-10**6, 10**6), st.integers(-50, 50), st.integers(0, 100))
def test_integer_agrees_with_the_range(v, lo, width):
    hi = lo + width
    if lo <= v <= hi:
        assert integer("v", v, lo, hi) == v
    else:
        with pytest.raises(ValueError, match=rf"v={v} is out of range; allowed: integers in \[{lo}, {hi}\]"):
            integer("v", v, lo, hi)


def test_real_ends_open_and_closed():
    assert real("a", 0, 0, 1) == 0.0 and real("a", 1, 0, 1) == 1.0
    with pytest.raises(ValueError, match=r"a=0 is out of range; allowed range: \(0, 1\] \(0 < a <= 1\)"):
        real("a", 0.0, 0, 1, lo_open=True)
    with pytest.raises(ValueError, match=r"a=1 is out of range; allowed range: \[0, 1\) \(0 <= a < 1\)"):
        real("a", 1.0, 0, 1, hi_open=True)
    with pytest.raises(ValueError, match=r"lam=-1 is out of range; allowed range: \[0, inf\) \(lam >= 0\)"):
        real("lam", -1, 0)
    with pytest.raises(ValueError, match=r"hi=2 is out of range; allowed range: \(-inf, 1\] \(hi <= 1\)"):
        real("hi", 2, hi=1)


@pytest.mark.parametrize("value, text", [
    ("1e-3", "x='1e-3' is not a real number"), (True, "x=True is not a real number"),
    (None, "x=None is not a real number"), (1 + 2j, "is not a real number"),
    (np.array([1.0, 2.0]), "is not a real number"), (math.inf, "x=inf is not finite"),
    (-math.inf, "x=-inf is not finite"), (math.nan, "x=nan is not finite"),
])
def test_real_rejects_non_reals(value, text):
    with pytest.raises(ValueError) as info:
        real("x", value, 0)
    assert text in str(info.value) and "allowed range: [0, inf)" in str(info.value)


def test_real_accepts_zero_d_arrays_and_numpy_scalars():
    import jax.numpy as jnp

    assert real("x", np.float32(0.5), 0, 1) == 0.5
    assert real("x", np.array(0.25), 0, 1) == 0.25
    assert real("x", jnp.asarray(0.75), 0, 1) == 0.75
    assert isinstance(real("x", np.int64(1), 0, 1), float)


def test_real_note_is_appended():
    with pytest.raises(ValueError) as info:
        real("mu", 2.0, 0, 1.0, lo_open=True, note="mu <= L")
    assert str(info.value) == "mu=2 is out of range; allowed range: (0, 1] (0 < mu <= 1); mu <= L"


@given(st.floats(-10, 10, allow_nan=False), st.booleans(), st.booleans())
def test_real_agrees_with_the_interval(v, lo_open, hi_open):
    inside = (v > -1 if lo_open else v >= -1) and (v < 2 if hi_open else v <= 2)
    if inside:
        assert real("v", v, -1, 2, lo_open, hi_open) == v
    else:
        with pytest.raises(ValueError, match="is out of range; allowed range"):
            real("v", v, -1, 2, lo_open, hi_open)


def test_interval():
    i = Interval(-1, 2, lo_open=True)
    assert str(i) == "(-1, 2]" and i.inequality("x") == "-1 < x <= 2"
    assert -1 not in i and -0.999 in i and 2 in i and 2.001 not in i and math.nan not in i
    assert str(Interval()) == "(-inf, inf)" and Interval().inequality("x") == "x finite"
    assert str(Interval(0, math.inf)) == "[0, inf)"  # an infinite end is open
    with pytest.raises(ValueError, match="lo <= hi"):
        Interval(1, 0)


def test_choice():
    assert choice("block", "W", ("W", "H")) == "W"
    with pytest.raises(ValueError) as info:
        choice("block", "V", ("W", "H"))
    assert str(info.value) == "block='V' is not one of the choices; allowed: 'W', 'H'"
    with pytest.raises(ValueError, match="x=.* is not one of the choices"):
        choice("x", np.array([1, 2]), (1, 2))


def test_array_helpers():
    a = finite("H", [[1.0, 2.0]])
    assert isinstance(a, np.ndarray)
    with pytest.raises(ValueError, match=r"H has 2 non-finite entries \(NaN or inf\); allowed: finite values"):
        finite("H", [np.nan, 1.0, -np.inf])
    assert str(validate.bad_array("W", "shape (3,)", "a 2-D array")) == "W has shape (3,); allowed: a 2-D array"


def test_labels():
    np.testing.assert_array_equal(labels("y", np.array([2, 0, 1], np.int32), 3, 3), [2, 0, 1])
    with pytest.raises(ValueError, match=r"y has shape \(2,\); allowed: \(3,\), one per row"):
        labels("y", [0, 1], 3, 3, per="one per row")
    with pytest.raises(ValueError, match=r"y has dtype float64; allowed: integers in 0..2"):
        labels("y", [0.0, 1.0, 2.0], 3, 3)
    with pytest.raises(ValueError, match=r"y has values in \[-1, 1\]; allowed: 0..2"):
        labels("y", [-1, 0, 1], 3, 3)
