"""Hessians of the real UFM objective in JAX: dense spectra and matrix-free Lanczos.

The numerical side of Theorem 4.2 of "Cross Entropy versus Label Smoothing: A
Neural Collapse Perspective" (the Hessian spectrum at the minimizer; Appendix
E). Everything here differentiates the actual objective
(`_objective.loss_term` / `objective`) at whatever point it is given (in the
checks: the L-BFGS solution, never the closed form) and assumes no structure:

* `block_hessian` / `joint_hessian`: dense Hessians by `jax.hessian` of the
  objective restricted to a flattened block (W: K*d, row-major; H: d*N,
  row-major; joint: (W, H, b) raveled), then `numpy.linalg.eigvalsh`.
* `cluster_eigenvalues`, `condition_number_from_eigenvalues`, `CLUSTER_RTOL`,
  `ZERO_RTOL`: re-exported from `ufm.core.spectra`, which holds the one
  tolerance rule (gaps and zeros relative to ``max|eig|``; Weyl's inequality
  says why).
* `hvp`: the matrix-free Hessian-vector product, forward-over-reverse (jvp of
  grad), and `lanczos_extremes`: Lanczos with full reorthogonalisation from
  `matfree.decomp.tridiag_sym`, stopped at the first invariant subspace, giving
  the extreme non-zero Ritz values and the condition number.

Dense size limit: `DENSE_MAX_DIM` = 3000 (a 3000 x 3000 float64 Hessian is
72 MB; building it costs 3000 Hessian-vector products and `eigvalsh` a few
seconds on 2 cores). Larger blocks go through Lanczos.

>>> import jax, numpy as np
>>> jax.config.update("jax_enable_x64", True)
>>> from ufm.nc.problem import UFMProblem
>>> from ufm.nc.minimizer.solve import solve
>>> p = UFMProblem(K=3, d=2, n=1, alpha=0.1, lam_W=1e-2, lam_H=1e-2)
>>> x = solve(p).params
>>> ev = np.linalg.eigvalsh(block_hessian(x, p, "H", "loss"))
>>> [[round(v, 6), m] for v, m in cluster_eigenvalues(ev)]
[[0.044029, 3], [0.12064, 3]]
>>> from ufm.nc.hessian.derivation import spectrum   # the closed form agrees
>>> [[round(v, 6), m] for v, m in spectrum(p, "H", "loss")]
[[0.044029, 3], [0.12064, 3]]
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from matfree import decomp

from ufm.core import validate
from ufm.core.precision import require_x64
from ufm.core.spectra import (  # noqa: F401 (re-exported: the spectrum helpers live in ufm.core.spectra)
    CLUSTER_RTOL,
    ZERO_RTOL,
    cluster_eigenvalues,
    condition_number_from_eigenvalues,
    is_zero,
)
from ufm.nc.objective import UFMParams, general_loss_term, general_objective, objective_data, objective_spec
from ufm.nc.problem import UFMProblem

DENSE_MAX_DIM = 3000


def _hyper(problem: UFMProblem):
    """The traced data and the static spec of the problem's objective (any variant)."""
    return objective_data(problem), objective_spec(problem)


def _check(block: str, reading: str) -> None:
    validate.choice("block", block, ("W", "H"))
    validate.choice("reading", reading, ("loss", "full"))


def _block_fn(params: UFMParams, hyper, block: str, reading: str):
    """x (flat block) -> objective with the other blocks held at `params`."""
    data, spec = hyper
    W, H, b = params

    def f(x):
        p = UFMParams(x.reshape(W.shape), H, b) if block == "W" else UFMParams(W, x.reshape(H.shape), b)
        if reading == "loss":
            return general_loss_term(p, data, spec)
        return general_objective(p, data, spec)

    x0 = (W if block == "W" else H).reshape(-1)
    return f, x0


@functools.partial(jax.jit, static_argnames=("spec", "block", "reading"))
def _dense_block(params, data, spec, block, reading):
    f, x0 = _block_fn(params, (data, spec), block, reading)
    return jax.hessian(f)(x0)


def block_hessian(params: UFMParams, problem: UFMProblem, block: str, reading: str) -> np.ndarray:
    """Dense Hessian of the W- or H-block ('loss' or 'full' reading) at `params`."""
    require_x64()
    _check(block, reading)
    dim = params.W.size if block == "W" else params.H.size
    if dim > DENSE_MAX_DIM:
        raise validate.bad_array("params", f"a {block}-block of dimension {dim}",
                                 f"dimension <= DENSE_MAX_DIM={DENSE_MAX_DIM} (larger: lanczos_extremes, matrix-free)")
    return np.asarray(_dense_block(params, *_hyper(problem), block, reading))


@functools.partial(jax.jit, static_argnames=("spec",))
def _dense_joint(params, data, spec):
    if not spec.bias:  # no bias: b is not a variable of the model
        params = (params.W, params.H)
    x0, unravel = ravel_pytree(params)
    f = lambda x: general_objective(UFMParams(*unravel(x), *((jnp.zeros(0),) if not spec.bias else ())),  # noqa: E731
                                    data, spec)
    return jax.hessian(f)(x0)


def joint_hessian(params: UFMParams, problem: UFMProblem) -> np.ndarray:
    """Dense Hessian of the full objective in (W, H, b), raveled in that order."""
    require_x64()
    dim = params.W.size + params.H.size + (params.b.size if problem.bias else 0)
    if dim > DENSE_MAX_DIM:
        raise validate.bad_array("params", f"joint dimension {dim}", f"dimension <= DENSE_MAX_DIM={DENSE_MAX_DIM}")
    return np.asarray(_dense_joint(params, *_hyper(problem)))


def hvp(params: UFMParams, problem: UFMProblem, block: str, reading: str):
    """Matrix-free ``v -> Hessian @ v`` (forward-over-reverse: jvp of grad),
    jitted, on flat vectors of the block's size."""
    require_x64()
    _check(block, reading)
    hyper = _hyper(problem)
    return jax.jit(functools.partial(_hvp, params=params, hyper=hyper, block=block, reading=reading))


def _hvp(v, *, params, hyper, block, reading):
    f, x0 = _block_fn(params, hyper, block, reading)
    return jax.jvp(jax.grad(f), (x0,), (v,))[1]


@functools.partial(jax.jit, static_argnames=("spec", "num_matvecs", "block", "reading"))
def _lanczos(params, data, spec, v0, num_matvecs, block, reading):
    matvec = functools.partial(_hvp, params=params, hyper=(data, spec), block=block, reading=reading)
    tridiag = decomp.tridiag_sym(num_matvecs, reortho="full", materialize=False, custom_vjp=False)
    _, (diag, offdiag), residual, _ = tridiag(lambda v: matvec(v), v0)
    return diag, offdiag, jnp.linalg.norm(residual)


def lanczos_extremes(params: UFMParams, problem: UFMProblem, block: str, reading: str, *,
                     num_matvecs: int = 40, seed: int = 0, breakdown_rtol: float = 1e-7,
                     zero_rtol: float = ZERO_RTOL) -> dict:
    """Extreme non-zero eigenvalues and the condition number, matrix-free.

    Lanczos (matfree, full reorthogonalisation) from a Gaussian start. The
    tridiagonal matrix is cut at the first off-diagonal below
    ``breakdown_rtol * ||T||``: the Krylov space is then invariant (to that
    accuracy) and its Ritz values are eigenvalues; continuing would only add
    Ritz values of vectors outside the Krylov space, which can fall anywhere
    in the spectrum's gaps (e.g. between 0 and the smallest non-zero
    eigenvalue). Ritz values below ``zero_rtol * lambda_max`` count as 0.
    Returns kappa, lambda_max, lambda_min_nonzero, the Ritz values, the
    number of steps kept, and residual bounds |beta_m s_m| per Ritz value.
    """
    require_x64()
    _check(block, reading)
    dim = params.W.size if block == "W" else params.H.size
    num_matvecs = validate.integer("num_matvecs", num_matvecs, minimum=2)
    breakdown_rtol = validate.real("breakdown_rtol", breakdown_rtol, 0, 1, lo_open=True, hi_open=True)
    if dim < 2:
        raise validate.bad_array("params", f"a {block}-block of dimension {dim}", "dimension >= 2 for Lanczos")
    m = min(num_matvecs, dim)
    v0 = jax.random.normal(jax.random.PRNGKey(seed), (dim,), dtype=jnp.result_type(float))
    diag, offdiag, res = _lanczos(params, *_hyper(problem), v0, m, block, reading)
    diag, offdiag, res = np.asarray(diag), np.asarray(offdiag), float(res)
    scale = float(np.max(np.abs(diag)) + 2 * np.max(np.abs(offdiag), initial=0.0))
    small = np.nonzero(np.abs(offdiag) <= breakdown_rtol * scale)[0]
    keep = int(small[0]) + 1 if small.size else m
    beta_last = float(abs(offdiag[keep - 1])) if keep < m else res
    T = np.diag(diag[:keep]) + np.diag(offdiag[: keep - 1], 1) + np.diag(offdiag[: keep - 1], -1)
    theta, S = np.linalg.eigh(T)
    bounds = np.abs(beta_last * S[-1, :])
    lmax = float(np.max(np.abs(theta)))
    nz = ~is_zero(theta, zero_rtol, lmax)
    if not np.any(nz):
        raise ArithmeticError("Lanczos found no non-zero eigenvalue")
    i_max = int(np.argmax(np.where(nz, theta, -np.inf)))
    i_min = int(np.argmin(np.where(nz, theta, np.inf)))
    return {
        "kappa": float(theta[i_max] / theta[i_min]),
        "lambda_max": float(theta[i_max]),
        "lambda_min_nonzero": float(theta[i_min]),
        "residual_bound_max": float(bounds[i_max]),
        "residual_bound_min": float(bounds[i_min]),
        "ritz_values": theta.tolist(),
        "steps_kept": keep,
        "num_matvecs": m,
        "dimension": int(dim),
    }
