"""`ufm.core.roots.bisect` against known roots, away from the bracket's ends."""

import math

import pytest

from ufm.core.roots import bisect


@pytest.mark.parametrize("target", [2.0, 3.0, 10.0, 0.5])
def test_cube_root_to_float_resolution(target):
    root = bisect(lambda x: x**3 - target, 0.0, 4.0)
    assert root == pytest.approx(target ** (1 / 3), rel=4 * 2.0**-52)
    # the ends were adjacent floats around the sign change
    assert (math.nextafter(root, -math.inf)) ** 3 - target <= 0.0 <= (math.nextafter(root, math.inf)) ** 3 - target


def test_decreasing_function_by_negation():
    assert bisect(lambda x: -(math.exp(-x) - 0.25), 0.0, 10.0) == pytest.approx(math.log(4.0), rel=1e-15)


def test_a_wrong_sign_convention_is_not_a_root():
    # f(lo) > 0 breaks the precondition: bisection walks to the bracket's end, not to the root
    root = bisect(lambda x: -(x - 0.3), 0.0, 1.0)
    assert abs(root - 0.3) > 0.1
