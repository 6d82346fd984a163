"""Argument validation: one wording for every "out of range" message.

Every public function of `ufm` that checks an argument raises `ValueError`
through this module, so the message always names the argument, the value it
got and what is allowed::

    {name}={value} is out of range; allowed: {allowed}
    {name}={value} is out of range; allowed range: {interval} ({inequality})
    {name}={value} is not an integer; allowed: {allowed}
    {name} has {what}; allowed: {allowed}            (arrays: shape, dtype, entries)

`invalid` is the one place that words the message; `out_of_range` is its
common case. The checkers (`integer`, `real`, `choice`, `finite`, `labels`)
return the value converted (``int``, ``float``, ``str``, ``numpy`` array) so a
caller can write ``K = integer("K", K, minimum=2)``.

Values are shown by `show`: the shortest repr of a number, with an integral
float written without ``.0`` (``alpha=1``, not ``alpha=1.0``), numpy scalars as
plain numbers, anything else by ``repr``.

>>> integer("K", 1, minimum=2)
Traceback (most recent call last):
...
ValueError: K=1 is out of range; allowed: integers >= 2
>>> real("alpha", 1.0, 0, 1, hi_open=True)
Traceback (most recent call last):
...
ValueError: alpha=1 is out of range; allowed range: [0, 1) (0 <= alpha < 1)
>>> choice("block", "V", ("W", "H"))
Traceback (most recent call last):
...
ValueError: block='V' is not one of the choices; allowed: 'W', 'H'
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

__all__ = [
    "Interval",
    "bad_array",
    "choice",
    "finite",
    "integer",
    "invalid",
    "labels",
    "out_of_range",
    "real",
    "show",
]


def show(value) -> str:
    """How a value is written in a message.

    >>> show(1.0), show(-0.001), show(2.5), show(float("inf")), show(np.float64(0.5))
    ('1', '-0.001', '2.5', 'inf', '0.5')
    >>> show(3), show(np.int64(3)), show(True), show("abc"), show(None)
    ('3', '3', 'True', "'abc'", 'None')
    """
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isfinite(v) and v == int(v) and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    return repr(value)


@dataclasses.dataclass(frozen=True)
class Interval:
    """A real interval with open or closed ends; infinite ends are always open.

    ``str`` gives the interval notation, `inequality` the same set as an
    inequality in a named variable.

    >>> i = Interval(0, 1, hi_open=True)
    >>> str(i), i.inequality("alpha"), 0.5 in i, 1.0 in i
    ('[0, 1)', '0 <= alpha < 1', True, False)
    >>> str(Interval(0, math.inf, lo_open=True)), Interval(0, math.inf, lo_open=True).inequality("lam")
    ('(0, inf)', 'lam > 0')
    """

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __post_init__(self):
        if not self.lo <= self.hi:
            raise ValueError(f"Interval lo={show(self.lo)}, hi={show(self.hi)}; allowed: lo <= hi")

    @property
    def _open(self) -> tuple[bool, bool]:
        return self.lo_open or self.lo == -math.inf, self.hi_open or self.hi == math.inf

    def __str__(self) -> str:
        lo_open, hi_open = self._open
        return f"{'(' if lo_open else '['}{show(self.lo)}, {show(self.hi)}{')' if hi_open else ']'}"

    def inequality(self, name: str) -> str:
        lo_open, hi_open = self._open
        lo = None if self.lo == -math.inf else f"{show(self.lo)} {'<' if lo_open else '<='} "
        hi = None if self.hi == math.inf else f" {'<' if hi_open else '<='} {show(self.hi)}"
        if lo is None and hi is None:
            return f"{name} finite"
        if lo is None:
            return f"{name}{hi}"
        if hi is None:
            return f"{name} {'>' if lo_open else '>='} {show(self.lo)}"
        return f"{lo}{name}{hi}"

    def __contains__(self, v) -> bool:
        lo_open, hi_open = self._open
        v = float(v)
        if math.isnan(v):
            return False
        above_lo = v > self.lo if lo_open else v >= self.lo
        below_hi = v < self.hi if hi_open else v <= self.hi
        return above_lo and below_hi


def invalid(name: str, value, what: str, allowed) -> ValueError:
    """The one wording: ``{name}={value} {what}; allowed: {allowed}``.

    An `Interval` as `allowed` is written ``allowed range: [lo, hi) (lo <= name < hi)``.
    Returns the exception (the caller raises it, so tracebacks point at the caller).

    >>> str(invalid("K", 2.5, "is not an integer", "integers >= 2"))
    'K=2.5 is not an integer; allowed: integers >= 2'
    >>> str(invalid("lam_W", 0.0, "is out of range", Interval(0, math.inf, lo_open=True)))
    'lam_W=0 is out of range; allowed range: (0, inf) (lam_W > 0)'
    """
    if isinstance(allowed, Interval):
        return ValueError(f"{name}={show(value)} {what}; allowed range: {allowed} ({allowed.inequality(name)})")
    return ValueError(f"{name}={show(value)} {what}; allowed: {allowed}")


def out_of_range(name: str, value, allowed) -> ValueError:
    """``{name}={value} is out of range; allowed: {allowed}`` (an exception, not raised).

    >>> str(out_of_range("n_bins", 0, "integers >= 1"))
    'n_bins=0 is out of range; allowed: integers >= 1'
    """
    return invalid(name, value, "is out of range", allowed)


def _integers(minimum, maximum) -> str:
    if minimum is None and maximum is None:
        return "integers"
    if maximum is None:
        return f"integers >= {minimum}"
    if minimum is None:
        return f"integers <= {maximum}"
    return f"integers in [{minimum}, {maximum}]"


def integer(name: str, value, minimum: int | None = None, maximum: int | None = None, *,
            integral_floats: bool = True) -> int:
    """`value` as an ``int`` in ``[minimum, maximum]`` (None: unbounded), else ValueError.

    Python and numpy integers pass, and so does a float with an integral value
    (``3.0``) unless ``integral_floats=False`` (for sizes that become array
    shapes); ``bool`` is refused (``K=True`` is almost certainly a mistake).

    >>> integer("n", 3.0, minimum=1)
    3
    >>> integer("n", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: n=0 is out of range; allowed: integers >= 1
    >>> integer("K", 2.5, minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: K=2.5 is not an integer; allowed: integers >= 2
    >>> integer("T", 2**31, 0, 2**31 - 1)
    Traceback (most recent call last):
    ...
    ValueError: T=2147483648 is out of range; allowed: integers in [0, 2147483647]
    >>> integer("n_bins", 10.0, minimum=1, integral_floats=False)
    Traceback (most recent call last):
    ...
    ValueError: n_bins=10 is not an integer; allowed: integers >= 1
    """
    allowed = _integers(minimum, maximum)
    if isinstance(value, (bool, np.bool_)):
        raise invalid(name, value, "is not an integer", allowed)
    if not isinstance(value, numbers.Integral):
        if integral_floats and isinstance(value, numbers.Real) and math.isfinite(float(value)) \
                and float(value) == int(value):
            value = int(value)
        else:
            raise invalid(name, value, "is not an integer", allowed)
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise out_of_range(name, value, allowed)
    return value


def real(name: str, value, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False,
         hi_open: bool = False, note: str | None = None) -> float:
    """`value` as a finite ``float`` in the interval from `lo` to `hi`, else ValueError.

    `lo_open`/`hi_open` exclude the end points; infinite ends are open and a
    finite value is always required. `note` is appended to the allowed range
    (e.g. where a bound comes from another argument).

    >>> real("lam_b", -1e-3, 0)
    Traceback (most recent call last):
    ...
    ValueError: lam_b=-0.001 is out of range; allowed range: [0, inf) (lam_b >= 0)
    >>> real("mu", 2.0, 0, 1.0, lo_open=True, note="mu <= L")
    Traceback (most recent call last):
    ...
    ValueError: mu=2 is out of range; allowed range: (0, 1] (0 < mu <= 1); mu <= L
    >>> real("lr", "1e-3", 0, lo_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lr='1e-3' is not a real number; allowed range: (0, inf) (lr > 0)
    >>> real("x", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: x=nan is not finite; allowed range: (-inf, inf) (x finite)
    """
    interval = Interval(lo, hi, lo_open, hi_open)

    def error(what):
        err = invalid(name, value, what, interval)
        return ValueError(f"{err}; {note}") if note else err

    if isinstance(value, (bool, np.bool_)):
        raise error("is not a real number")
    if not isinstance(value, numbers.Real):  # a 0-d numpy/jax array of a real dtype is a number too
        dtype = getattr(value, "dtype", None)
        if dtype is None or np.ndim(value) != 0 or not (np.issubdtype(dtype, np.integer)
                                                         or np.issubdtype(dtype, np.floating)):
            raise error("is not a real number")
    value = float(value)
    if not math.isfinite(value):
        raise error("is not finite")
    if value not in interval:
        raise error("is out of range")
    return value


def choice(name: str, value, allowed):
    """`value` if it is one of `allowed` (compared with ``==``), else ValueError.

    >>> choice("reading", "loss", ("loss", "full"))
    'loss'
    >>> choice("reading", "both", ("loss", "full"))
    Traceback (most recent call last):
    ...
    ValueError: reading='both' is not one of the choices; allowed: 'loss', 'full'
    """
    allowed = tuple(allowed)
    try:
        ok = any(value == a for a in allowed)
    except (TypeError, ValueError):  # arrays compare elementwise
        ok = False
    if not ok:
        raise invalid(name, value, "is not one of the choices", ", ".join(map(repr, allowed)))
    return value


def alpha_seed_grid(alphas, seeds) -> tuple[list[float], list[int]]:
    """A sweep's grid: non-empty `alphas` in [0, 1) and non-empty integer `seeds` >= 0.

    >>> alpha_seed_grid([0, 0.1], [3])
    ([0.0, 0.1], [3])
    >>> alpha_seed_grid([], [0])
    Traceback (most recent call last):
    ...
    ValueError: alphas=[] is empty; allowed: at least one alpha in [0, 1)
    """
    alphas, seeds = list(alphas), list(seeds)
    if not alphas:
        raise invalid("alphas", alphas, "is empty", "at least one alpha in [0, 1)")
    if not seeds:
        raise invalid("seeds", seeds, "is empty", "at least one integer seed >= 0")
    return ([real("alpha", a, 0.0, 1.0, hi_open=True) for a in alphas],
            [integer(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)])


def bad_array(name: str, what: str, allowed: str) -> ValueError:
    """``{name} has {what}; allowed: {allowed}`` for array arguments (an exception, not raised).

    >>> str(bad_array("W", "shape (3,)", "a 2-D array K x d"))
    'W has shape (3,); allowed: a 2-D array K x d'
    """
    return ValueError(f"{name} has {what}; allowed: {allowed}")


def finite(name: str, array, allowed: str = "finite values") -> np.ndarray:
    """`array` as a numpy array if every entry is finite, else ValueError counting the bad ones.

    >>> finite("H", [1.0, float("nan"), float("inf")])
    Traceback (most recent call last):
    ...
    ValueError: H has 2 non-finite entries (NaN or inf); allowed: finite values
    """
    a = np.asarray(array)
    bad = int(a.size - np.count_nonzero(np.isfinite(a)))
    if bad:
        raise bad_array(name, f"{bad} non-finite entries (NaN or inf)", allowed)
    return a


def labels(name: str, value, N: int, K: int, per: str = "one per sample") -> np.ndarray:
    """Integer class labels: shape ``(N,)``, values in ``0..K-1``; returned as a numpy int array.

    >>> labels("labels", [0, 1, 2], N=3, K=3)
    array([0, 1, 2])
    >>> labels("labels", [0, 3], N=2, K=3)
    Traceback (most recent call last):
    ...
    ValueError: labels has values in [0, 3]; allowed: 0..2
    >>> labels("labels", [0, 1], N=3, K=3, per="one per row")
    Traceback (most recent call last):
    ...
    ValueError: labels has shape (2,); allowed: (3,), one per row
    """
    y = np.asarray(value)
    if y.shape != (N,):
        raise bad_array(name, f"shape {y.shape}", f"({N},), {per}")
    if not np.issubdtype(y.dtype, np.integer):
        raise bad_array(name, f"dtype {y.dtype}", f"integers in 0..{K - 1}")
    if N and (y.min() < 0 or y.max() >= K):
        raise bad_array(name, f"values in [{y.min()}, {y.max()}]", f"0..{K - 1}")
    return y.astype(np.int64)
