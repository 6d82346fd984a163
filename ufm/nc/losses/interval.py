"""Rigorous interval evaluation of SymPy expressions, and interval-certified roots.

`interval_eval` walks a SymPy expression tree and evaluates it in
`mpmath.iv` interval arithmetic (outward rounding): the returned interval is
guaranteed to contain the exact value of the expression at the given
arguments. Numbers enter *exactly*: a SymPy ``Float`` or a Python ``float``
is its exact binary value (0.1 is 3602879701896397 / 2^55, not 1/10), a
``Rational`` is enclosed by an interval as tight as the working precision;
problem parameters are doubles, and this is the value they have.

`certified_root` finds a root of a continuous g by bisection, keeping a
bracket [a, b] at whose ends the interval values of g have strictly opposite
signs (the whole interval < 0 at one end, > 0 at the other). By the
intermediate value theorem g has a root in [a, b]; bisection stops when
``(b - a) / |(a + b)/2| < 10^-digits``. Uniqueness is certified when an
interval enclosure of g' over the bracket excludes 0 (g strictly monotone).
Interval arithmetic: Moore, Kearfott & Cloud (2009), *Introduction to Interval
Analysis*, SIAM, ch. 5-6 (the interval extension and the bisection test).

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> r = certified_root(x**2 - 2, x, 1, 2, digits=30)
>>> r.value_str[:32], r.unique
('1.414213562373095048801688724209', True)
>>> with interval_precision(30):
...     str(interval_eval(sp.Symbol("a") + 1, {"a": 0.5}))
'[1.5, 1.5]'
"""

from __future__ import annotations

import contextlib
import dataclasses
import fractions
import numbers

import mpmath
import sympy as sp
from mpmath import iv, mp

from ufm.core import validate

__all__ = [
    "CertifiedRoot",
    "certified_root",
    "interval_eval",
    "interval_precision",
    "sign",
    "to_interval",
]

DEFAULT_DPS = 60  # working precision of `interval_eval` when none is set by the caller
_ACTIVE: list[int] = []  # the precisions of the open `interval_precision` blocks


@contextlib.contextmanager
def interval_precision(dps: int):
    """Set `mpmath.iv` and `mpmath.mp` to `dps` decimal digits; restore both on exit."""
    dps = validate.integer("dps", dps, minimum=15)
    old_iv, old_mp = iv.prec, mp.prec
    _ACTIVE.append(dps)
    try:
        iv.dps = dps
        mp.dps = dps
        yield
    finally:
        _ACTIVE.pop()
        iv.prec, mp.prec = old_iv, old_mp


_IVMPF = type(iv.mpf(0))


def _endpoints(v) -> tuple[mpmath.mpf, mpmath.mpf]:
    """The exact end points of an `iv` interval as `mp` numbers (no rounding)."""
    lo, hi = v._mpi_
    return mp.make_mpf(lo), mp.make_mpf(hi)


def to_interval(value):
    """`value` as an `iv` interval containing it exactly.

    An `iv` interval is returned as it is; a Python float, an `mp` number and a
    SymPy Float are exact binary numbers; an int, a ``fractions.Fraction`` or a
    SymPy Rational is enclosed; a string is read as a decimal number (enclosed).
    """
    if isinstance(value, _IVMPF):
        return value
    if isinstance(value, sp.Float):
        return iv.mpf(mp.make_mpf(value._mpf_))
    if isinstance(value, (sp.Rational, fractions.Fraction)):
        p, q = (int(value.p), int(value.q)) if isinstance(value, sp.Rational) else \
            (value.numerator, value.denominator)
        return iv.mpf(p) / iv.mpf(q) if q != 1 else iv.mpf(p)
    if isinstance(value, (bool,)):
        raise validate.invalid("value", value, "is not a number", "a real number or an interval")
    if isinstance(value, (numbers.Integral, float, mpmath.mpf, str)):
        return iv.mpf(value)
    raise validate.invalid("value", value, "is not a number", "a real number or an iv interval")


def sign(v) -> int | None:
    """+1 if the interval `v` lies in (0, inf), -1 if in (-inf, 0), 0 if it is {0}, else None."""
    lo, hi = _endpoints(v)
    if lo > 0:
        return 1
    if hi < 0:
        return -1
    if lo == 0 and hi == 0:
        return 0
    return None


def _pow(base, expo, node):
    """base ** expo for intervals; a non-integer exponent needs base >= 0."""
    if isinstance(node.exp, sp.Integer):
        return base ** int(node.exp)
    if isinstance(node.exp, sp.Rational) and node.exp.q == 2:  # sqrt(base)^p, tighter than exp(log)
        if _endpoints(base)[0] < 0:
            raise ValueError(f"interval_eval: sqrt of an interval {base} that is not >= 0 in {node}")
        return iv.sqrt(base) ** int(node.exp.p)
    lo, hi = _endpoints(base)
    if lo > 0:
        return iv.exp(expo * iv.log(base))
    if lo == 0 and _endpoints(expo)[0] > 0:  # x^e is increasing on [0, hi] for e > 0
        top = iv.exp(expo * iv.log(iv.mpf(hi))) if hi > 0 else iv.mpf(0)
        return iv.mpf([0, _endpoints(top)[1]])
    raise ValueError(f"interval_eval: non-integer power of an interval {base} that is not > 0 in {node}")


def _eval(node, env, memo):
    if node in memo:
        return memo[node]
    if isinstance(node, sp.Symbol):
        if node in env:
            out = to_interval(env[node])
        elif node.name in env:
            out = to_interval(env[node.name])
        else:
            raise ValueError(f"interval_eval: symbol {node} has no value in env; allowed: a value "
                             f"for each of the free symbols")
    elif isinstance(node, (sp.Rational, sp.Float)):
        out = to_interval(node)
    elif node is sp.pi:
        out = iv.pi
    elif node is sp.E:
        out = iv.e
    elif isinstance(node, sp.Add):
        out = sum((_eval(a, env, memo) for a in node.args[1:]), _eval(node.args[0], env, memo))
    elif isinstance(node, sp.Mul):
        out = _eval(node.args[0], env, memo)
        for a in node.args[1:]:
            out = out * _eval(a, env, memo)
    elif isinstance(node, sp.Pow):
        out = _pow(_eval(node.base, env, memo), _eval(node.exp, env, memo), node)
    elif isinstance(node, sp.exp):
        out = iv.exp(_eval(node.args[0], env, memo))
    elif isinstance(node, sp.log) and len(node.args) == 1:
        arg = _eval(node.args[0], env, memo)
        if _endpoints(arg)[0] <= 0:
            raise ValueError(f"interval_eval: log of an interval {arg} that is not > 0 in {node}")
        out = iv.log(arg)
    else:
        raise TypeError(f"interval_eval: unsupported expression node {type(node).__name__} ({node}); "
                        f"allowed: Add, Mul, Pow, exp, log, sqrt, numbers and symbols")
    memo[node] = out
    return out


def interval_eval(expr, env=None, dps: int | None = None):
    """An `iv` interval containing the exact value of the SymPy `expr` at `env`.

    `env` maps symbols (or their names) to values: `iv` intervals, or exact
    numbers (int, float (its binary value), Fraction, SymPy Rational/Float).
    Supported nodes: Add, Mul, Pow (integer, 1/2 and general real exponents,
    the latter on a positive base), exp, log, numbers, pi, E and symbols;
    anything else raises TypeError. `dps`: the working precision in decimal
    digits (default: the caller's `interval_precision`, else 60), restored
    on return.
    """
    expr = sp.sympify(expr)
    env = dict(env or {})
    if dps is None and _ACTIVE:  # called inside interval_precision: keep its precision
        return _eval(expr, env, {})
    with interval_precision(dps or DEFAULT_DPS):
        return _eval(expr, env, {})


@dataclasses.dataclass(frozen=True)
class CertifiedRoot:
    """A root of g certified in [lo, hi] (`mp` numbers, exact binary end points).

    `value` is the midpoint; `digits` the relative accuracy asked for
    (``(hi - lo)/|value| < 10^-digits``); `unique`: an interval enclosure of g'
    over [lo, hi] excludes 0, so g has exactly one root there. `certificate`
    says how each fact was established (intervals written as strings).
    """

    lo: mpmath.mpf
    hi: mpmath.mpf
    value: mpmath.mpf
    digits: int
    unique: bool
    certificate: dict

    @property
    def value_str(self) -> str:
        """The midpoint with ``digits + 2`` significant digits."""
        return mpmath.nstr(self.value, self.digits + 2, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)

    def __contains__(self, v) -> bool:
        with interval_precision(max(self.digits + 30, 50)):
            return self.lo <= mp.mpf(v) <= self.hi


def _same_sign(dg, x, lo, hi, env, budget) -> bool:
    """`_excludes_zero` plus: every piece has the same sign (so g is monotone on [lo, hi])."""
    signs = set()

    def rec(a, b, depth):
        try:
            s = sign(_eval(dg, {**env, x: iv.mpf([a, b])}, {}))
        except ValueError:
            s = None
        if s in (1, -1):
            signs.add(s)
            return True
        if depth == 0:
            return False
        m = (a + b) / 2
        return rec(a, m, depth - 1) and rec(m, b, depth - 1)

    depth = max(0, int(budget).bit_length() - 1)
    return rec(lo, hi, depth) and len(signs) == 1


def _bisect(g, x, a, b, ga, gb, env, tol, max_iter):
    """Bisection keeping rigorous opposite signs at the ends; returns (a, b, ga, gb, iterations)."""
    sa = sign(ga)
    for it in range(max_iter):
        m = (a + b) / 2
        if abs(b - a) < tol * abs(m):
            return a, b, ga, gb, it
        if not a < m < b:
            raise ArithmeticError(f"certified_root: precision exhausted at [{a}, {b}]; raise dps")
        gm = _eval(g, {**env, x: iv.mpf(m)}, {})
        s = sign(gm)
        if s == 0:  # an exact zero: the root is m
            return m, m, gm, gm, it + 1
        if s is None:
            raise ArithmeticError(f"certified_root: the sign of g({m}) is undetermined ({gm}); raise dps")
        if s == sa:
            a, ga = m, gm
        else:
            b, gb = m, gm
    raise ArithmeticError(f"certified_root: no convergence to 10^-digits in {max_iter} bisections "
                          f"(a root at 0 has no relative accuracy); bracket [{a}, {b}]")


def certified_root(g, x, lo, hi, digits: int = 30, *, env=None, dps: int | None = None,
                   max_iter: int = 4000, uniqueness_budget: int = 256) -> CertifiedRoot:
    """A root of the continuous SymPy expression `g` in the symbol `x` on [lo, hi], certified.

    `lo`, `hi`: numbers (a float is its exact binary value) with the interval
    values of g at them of strictly opposite signs, else ValueError. `env`
    gives the other symbols of `g` (see `interval_eval`). `dps` (default
    ``digits + 30``) is the working precision; it is doubled once if a sign
    cannot be decided. The result's `unique` says g' excludes 0 over the final
    bracket; the certificate also says whether g is monotone over the whole
    initial bracket (adaptive subdivision, at most `uniqueness_budget` pieces),
    which makes the root unique in [lo, hi].
    """
    digits = validate.integer("digits", digits, minimum=1, maximum=1000)
    g, env = sp.sympify(g), dict(env or {})
    dps = validate.integer("dps", dps or digits + 30, minimum=digits + 5)
    try:
        return _certify(g, x, lo, hi, digits, env, dps, max_iter, uniqueness_budget)
    except ArithmeticError:  # a sign too close to call: once more at twice the precision
        return _certify(g, x, lo, hi, digits, env, 2 * dps, max_iter, uniqueness_budget)


def _sign_text(v) -> str:
    return {1: "+", -1: "-", 0: "0"}.get(sign(v), "?")


def _certify(g, x, lo, hi, digits, env, dps, max_iter, budget) -> CertifiedRoot:
    with interval_precision(dps):
        a, b = _endpoints(to_interval(lo))[0], _endpoints(to_interval(hi))[1]
        if not a < b:
            raise validate.invalid("lo", lo, f"is not below hi={validate.show(hi)}", "lo < hi")
        ga, gb = _eval(g, {**env, x: iv.mpf(a)}, {}), _eval(g, {**env, x: iv.mpf(b)}, {})
        if sign(ga) is None or sign(gb) is None or sign(ga) * sign(gb) != -1:
            raise ValueError(f"certified_root: g({x}) at lo={lo} and hi={hi} does not have strictly "
                             f"opposite signs (g(lo) in {ga}, g(hi) in {gb}); allowed: a bracket "
                             f"[lo, hi] with g(lo) < 0 < g(hi) or g(lo) > 0 > g(hi)")
        fa, fb, fga, fgb, its = _bisect(g, x, a, b, ga, gb, env, mp.mpf(10) ** (-digits), max_iter)
        dg = sp.diff(g, x)
        try:
            dgi = _eval(dg, {**env, x: iv.mpf([fa, fb])}, {})
            unique = sign(dgi) in (1, -1)
        except ValueError as err:
            dgi, unique = f"not evaluated: {err}", False
        mid = (fa + fb) / 2
        certificate = {
            "method": "bisection; signs of g decided from mpmath.iv interval enclosures "
                      "(intermediate value theorem; g assumed continuous on the bracket)",
            "dps": dps, "prec_bits": iv.prec, "iterations": its,
            "initial_bracket": (mpmath.nstr(a, 20), mpmath.nstr(b, 20)),
            "g_lo": str(fga), "sign_g_lo": _sign_text(fga),
            "g_hi": str(fgb), "sign_g_hi": _sign_text(fgb),
            "derivative": str(dg), "derivative_enclosure": str(dgi),
            "derivative_excludes_zero": unique,
            "unique_in_initial_bracket": _same_sign(dg, x, a, b, env, budget),
            "relative_width": mpmath.nstr((fb - fa) / abs(mid) if mid else mp.inf, 5),
        }
        return CertifiedRoot(fa, fb, mid, digits, unique, certificate)
