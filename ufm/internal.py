"""Internals that tests and benchmarks need: **not stable API**.

Everything here re-exports, under a public name, a function that its own module
keeps private (a leading underscore). Tests and benchmarks import these names
from here, never the underscored ones; the names, signatures and behaviour may
change from one commit to the next without notice. Library users want
the top-level names of :mod:`ufm` instead.

* :func:`measure_metrics` -- ``ufm.nc.dynamics._measure``: the metrics one
  record of :func:`ufm.sweep` holds (loss, training error, NC1-3, gradient
  norm, mean norms), for one ``(W, H, b)``; ``measure_metrics(params, alpha,
  (lam_W, lam_H, lam_b), K) -> dict``.
* :func:`u_shaped` -- ``ufm.verify.groups.dynamics._u_shaped``: the rule of
  the ``dynamics.u_shape`` check, ``u_shaped(values) -> (ok, argmin,
  margins)`` for ``values`` of shape (alphas, seeds).
"""

from ufm.nc.dynamics import _measure as measure_metrics
from ufm.verify.groups.dynamics import _u_shaped as u_shaped

__all__ = ["measure_metrics", "u_shaped"]
