"""SymPy loss forms: values at hand-computed points, focal(gamma=0) = CE, shift invariance."""

import math
import random

import pytest
import sympy as sp

from ufm.nc.losses.sympy_forms import (GAMMA, cross_entropy_sym, focal_sym, log_softmax_sym, mse_sym,
                                       softmax_sym, sympy_form)

# K = 2, x = (0, log 3): p = (1/4, 3/4); y = (0.9, 0.1)
X = [sp.Integer(0), sp.log(3)]
Y = [sp.Rational(9, 10), sp.Rational(1, 10)]


def num(e) -> float:
    return float(sp.N(e, 30))


def test_softmax_at_hand_point():
    assert [num(p) for p in softmax_sym(X)] == pytest.approx([0.25, 0.75], abs=1e-15)
    assert [num(lp) for lp in log_softmax_sym(X)] == pytest.approx([math.log(0.25), math.log(0.75)], abs=1e-15)


def test_cross_entropy_at_hand_point():
    expected = -(0.9 * math.log(0.25) + 0.1 * math.log(0.75))
    assert num(cross_entropy_sym(X, Y)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("gamma", [1, 2, 0.5])
def test_focal_at_hand_point(gamma):
    expected = -(0.9 * 0.75**gamma * math.log(0.25) + 0.1 * 0.25**gamma * math.log(0.75))
    assert num(focal_sym(X, Y, gamma)) == pytest.approx(expected, rel=1e-14)
    assert num(sympy_form("focal", gamma=gamma)(X, Y)) == pytest.approx(expected, rel=1e-14)
    # the symbolic gamma substituted later gives the same number
    assert num(sympy_form("focal")(X, Y).subs(GAMMA, gamma)) == pytest.approx(expected, rel=1e-14)


def test_mse_at_hand_point():
    expected = 0.5 * ((0 - 0.9) ** 2 + (math.log(3) - 0.1) ** 2)
    assert num(mse_sym(X, Y)) == pytest.approx(expected, rel=1e-15)


def test_focal_gamma_zero_is_cross_entropy_identically():
    x = list(sp.symbols("x1:5", real=True))
    y = list(sp.symbols("y1:5", nonnegative=True))
    assert sp.simplify(focal_sym(x, y, 0) - cross_entropy_sym(x, y)) == 0
    # and at random rational points with a symbolic gamma set to 0 afterwards
    rng = random.Random(1)
    for _ in range(3):
        xv = [sp.Rational(rng.randint(-50, 50), 7) for _ in range(4)]
        yv = [sp.Rational(rng.randint(1, 9), 10) for _ in range(4)]
        a = sp.N(focal_sym(xv, yv, GAMMA).subs(GAMMA, 0), 40)
        b = sp.N(cross_entropy_sym(xv, yv), 40)
        assert abs(a - b) < 1e-35


def test_focal_differs_from_ce_for_positive_gamma():
    assert abs(num(focal_sym(X, Y, 1)) - num(cross_entropy_sym(X, Y))) > 0.1


def test_softmax_forms_agree_with_exp_over_sum():
    x = [sp.Rational(3, 2), sp.Rational(-1, 3), sp.Integer(2)]
    z = sum(sp.exp(v) for v in x)
    for p, v in zip(softmax_sym(x), x):
        assert abs(sp.N(p - sp.exp(v) / z, 40)) < 1e-38


def test_cross_entropy_is_shift_invariant_structurally():
    x = list(sp.symbols("x1:4", real=True))
    y = list(sp.symbols("y1:4", nonnegative=True))
    s = sp.Symbol("s", real=True)
    assert cross_entropy_sym([v + s for v in x], y) - cross_entropy_sym(x, y) == 0
    assert focal_sym([v + s for v in x], y, GAMMA) - focal_sym(x, y, GAMMA) == 0
    assert sp.simplify(mse_sym([v + s for v in x], y) - mse_sym(x, y)) != 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="name='hinge'"):
        sympy_form("hinge")
    with pytest.raises(ValueError, match="gamma=2"):
        sympy_form("ce", gamma=2)
    with pytest.raises(ValueError, match="gamma=-1"):
        sympy_form("focal", gamma=-1)
    with pytest.raises(ValueError, match="y=.*length 3"):
        cross_entropy_sym(X, [1, 0, 0])
