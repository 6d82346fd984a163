"""Eigenvalue spectra: clusters with multiplicities, zeros, condition numbers.

One tolerance rule for every spectrum in `ufm`: with ``scale`` the largest
``|eigenvalue|`` (or a scale the caller states),

* two sorted eigenvalues belong to the same cluster when their gap is at
  most ``tol = rtol * scale`` (`CLUSTER_RTOL` = 1e-6);
* an eigenvalue, or a cluster mean, counts as zero when its absolute value is
  at most ``tol`` (`ZERO_RTOL` = 1e-6).

`tolerance` computes ``tol``; `cluster_eigenvalues`, `is_zero`,
`condition_number_from_eigenvalues` and `spectrum_error` all apply it.

Why a relative rule (Weyl): perturbing a symmetric matrix by Delta moves each
eigenvalue by at most ||Delta||_2, so eigenvalues of one cluster of the exact
matrix stay within 2 ||Delta||_2 of each other in the computed one, and a
computed zero is at most ||Delta||_2 from 0. With float64 and a well-solved
point, ||Delta||_2 / lambda_max is far below 1e-6, while distinct eigenvalues
of the Hessians studied here are separated by far more than that.

>>> cluster_eigenvalues([3.0, 1e-12, 1.0, 3.0 + 1e-9, 0.0, 1.0])
[[0.0, 2], [1.0, 2], [3.0000000005, 2]]
>>> condition_number_from_eigenvalues([0.0, 1e-12, 0.5, 2.0])["kappa"]
4.0
"""

from __future__ import annotations

import numpy as np

from ufm.core import validate

__all__ = [
    "CLUSTER_RTOL",
    "ZERO_RTOL",
    "cluster_eigenvalues",
    "condition_number_from_eigenvalues",
    "expand_clusters",
    "is_zero",
    "spectrum_error",
    "tolerance",
]

CLUSTER_RTOL = 1e-6
ZERO_RTOL = 1e-6


def _eigenvalues(eigenvalues) -> np.ndarray:
    return validate.finite("eigenvalues", np.sort(np.asarray(eigenvalues, dtype=float).ravel()))


def tolerance(eigenvalues, rtol: float, scale: float | None = None) -> float:
    """``rtol * scale``; scale defaults to max |eigenvalue| (0 for an empty spectrum).

    >>> tolerance([-4.0, 1.0, 2.0], 1e-6)
    4e-06
    >>> tolerance([1.0], 0.1, scale=10.0)
    1.0
    """
    rtol = validate.real("rtol", rtol, 0, 1, lo_open=True, hi_open=True)
    if scale is None:
        ev = _eigenvalues(eigenvalues)
        scale = float(np.max(np.abs(ev))) if ev.size else 0.0
    else:
        scale = validate.real("scale", scale, 0)
    return rtol * scale


def is_zero(eigenvalues, rtol: float = ZERO_RTOL, scale: float | None = None) -> np.ndarray:
    """Boolean mask (in the given order): ``|eigenvalue| <= rtol * scale``.

    >>> is_zero([2.0, -1e-9, 1e-3]).tolist()
    [False, True, False]
    """
    ev = validate.finite("eigenvalues", np.asarray(eigenvalues, dtype=float))
    return np.abs(ev) <= tolerance(ev, rtol, scale)


def cluster_eigenvalues(eigenvalues, rtol: float = CLUSTER_RTOL, scale: float | None = None) -> list[list]:
    """Group eigenvalues into [[mean value, multiplicity], ...], ascending.

    A new cluster starts where the gap to the previous eigenvalue exceeds
    ``rtol * scale`` (default scale: max |eigenvalue|). Values in a cluster
    closer to 0 than ``rtol * scale`` are reported as exactly 0.0. The rule
    chains: a run of eigenvalues with every consecutive gap below the
    tolerance is one cluster, however wide the run.

    >>> cluster_eigenvalues([2.0, 1.0, 1.0 + 1e-8, 2.0])
    [[1.000000005, 2], [2.0, 2]]
    >>> cluster_eigenvalues([1.0, 1.1], rtol=0.1)    # gap 0.1 <= 0.1 * 1.1: merged
    [[1.05, 2]]
    >>> cluster_eigenvalues([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: eigenvalues has 1 non-finite entries (NaN or inf); allowed: finite values
    """
    ev = _eigenvalues(eigenvalues)
    tol = tolerance(ev, rtol, scale)
    if ev.size == 0:
        return []
    out, start = [], 0
    for i in range(1, ev.size + 1):
        if i == ev.size or ev[i] - ev[i - 1] > tol:
            v = float(np.mean(ev[start:i]))
            out.append([0.0 if abs(v) <= tol else v, i - start])
            start = i
    return out


def expand_clusters(clusters) -> np.ndarray:
    """[[value, multiplicity], ...] -> the sorted eigenvalues, each repeated.

    >>> expand_clusters([[2.0, 1], [0.0, 2]]).tolist()
    [0.0, 0.0, 2.0]
    """
    clusters = list(clusters)
    if not clusters:
        return np.zeros(0)
    values = np.asarray([float(v) for v, _ in clusters])
    mult = [validate.integer(f"multiplicity of {validate.show(v)}", m, minimum=0) for v, m in clusters]
    return np.sort(np.repeat(values, mult))


def condition_number_from_eigenvalues(eigenvalues, zero_rtol: float = ZERO_RTOL) -> dict:
    """lambda_max / lambda_min over eigenvalues above ``zero_rtol * max|eig|``.

    Returns kappa, lambda_max, lambda_min_nonzero and num_zero (the number of
    eigenvalues counted as zero by `is_zero`).

    >>> r = condition_number_from_eigenvalues([0.0, 0.0, 0.25, 1.0])
    >>> r["kappa"], r["num_zero"]
    (4.0, 2)
    >>> condition_number_from_eigenvalues([0.0, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: eigenvalues has no eigenvalue above 1e-06 max|eigenvalue|; allowed: at least one non-zero eigenvalue
    """
    ev = _eigenvalues(eigenvalues)
    zero = is_zero(ev, zero_rtol)
    nz = ev[~zero]
    if nz.size == 0:
        raise validate.bad_array("eigenvalues", f"no eigenvalue above {zero_rtol:g} max|eigenvalue|",
                                 "at least one non-zero eigenvalue")
    return {"kappa": float(nz.max() / nz.min()), "lambda_max": float(nz.max()),
            "lambda_min_nonzero": float(nz.min()), "num_zero": int(ev.size - nz.size)}


def spectrum_error(expected, observed, scale: float | None = None) -> float:
    """Largest relative error between two spectra of the same size, paired in sorted order.

    ``max_i |obs_i - exp_i| / |exp_i|``, with ``scale`` (default max |observed|)
    in place of ``|exp_i|`` where the expected eigenvalue is 0. `expected` may
    be clusters ``[[value, multiplicity], ...]`` or plain eigenvalues.

    >>> spectrum_error([[0.0, 1], [2.0, 2]], [1e-9, 2.0, 2.25])    # 0.25 / 2
    0.125
    >>> spectrum_error([1.0, 2.0], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: observed has 1 eigenvalues; allowed: 2, as many as expected
    """
    exp_list = list(expected)
    if exp_list and np.ndim(exp_list[0]) == 1:
        exp = expand_clusters(exp_list)
    else:
        exp = _eigenvalues(exp_list)
    obs = _eigenvalues(observed)
    if obs.size != exp.size:
        raise validate.bad_array("observed", f"{obs.size} eigenvalues", f"{exp.size}, as many as expected")
    if obs.size == 0:
        return 0.0
    scale = float(np.max(np.abs(obs))) if scale is None else validate.real("scale", scale, 0, lo_open=True)
    denom = np.where(exp != 0, np.abs(exp), scale)
    return float(np.max(np.abs(obs - exp) / denom))
