"""The UFM problem (`ufm.nc.problem`): fields, validation of every argument, immutability."""

import math

import pytest
from hypothesis import given, strategies as st

from ufm import UFMProblem


def test_valid_problem_fields():
    p = UFMProblem(K=10, d=9, n=4, alpha=0.2, lam_W=1e-3, lam_H=2e-3, lam_b=0.0)
    assert (p.N, p.num_params) == (40, 10 * 9 + 9 * 40 + 10)
    assert p.c == pytest.approx(math.sqrt(4 * 1e-3 * 2e-3), rel=1e-15)
    assert p.threshold == pytest.approx(0.2 + 10 * p.c, rel=1e-15)
    assert p.etf_fits and not p.collapsed


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("K", 1, "K=1 is out of range; allowed: integers >= 2"),
        ("K", 2.5, "K=2.5 is not an integer"),
        ("K", True, "is not an integer"),
        ("d", 0, "d=0 is out of range"),
        ("n", 0, "n=0 is out of range"),
        ("alpha", 1.0, "alpha=1 is out of range; allowed range: [0, 1)"),
        ("alpha", -0.1, "alpha=-0.1 is out of range"),
        ("alpha", float("nan"), "alpha=nan is not finite"),
        ("lam_W", 0.0, "lam_W=0 is out of range; allowed range: (0, inf)"),
        ("lam_H", float("inf"), "lam_H=inf is not finite"),
        ("lam_b", -1e-3, "lam_b=-0.001 is out of range; allowed range: [0, inf)"),
        ("lam_W", "1e-3", "is not a real number"),
    ],
)
def test_bad_input_names_argument_value_and_range(field, value, fragment):
    kwargs = dict(K=3, d=2, n=1, alpha=0.1, lam_W=1e-3, lam_H=1e-3, lam_b=0.0)
    kwargs[field] = value
    with pytest.raises(ValueError) as info:
        UFMProblem(**kwargs)
    assert fragment in str(info.value)


@given(alpha=st.floats(1.0, 1e6) | st.floats(-1e6, -1e-12))
def test_alpha_outside_unit_interval_rejected(alpha):
    with pytest.raises(ValueError, match="alpha="):
        UFMProblem(K=3, d=3, n=1, alpha=alpha)


def test_problem_is_immutable():
    p = UFMProblem(K=3, d=3, n=1)
    with pytest.raises(AttributeError):
        p.K = 4  # type: ignore[misc]
