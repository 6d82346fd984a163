"""The UFM solved numerically: L-BFGS on the real objective, jitted end to end.

We use `optax.lbfgs` with its zoom line search because the whole solve,
line search included, runs inside one `jax.lax.while_loop`: one compilation
per shape and no host round trip per iteration (SciPy's L-BFGS-B pays a
device-to-host copy and a Python call per evaluation, and its own stopping
rules stop it short of 1e-9; see benchmarks.md). The zoom line search accepts
*approximate* Wolfe steps (Hager-Zhang), which is what lets it keep making
progress when the objective's decrease falls below float64 resolution near
the optimum, i.e. down to relative gradient norms of 1e-10 and below.

The stopping criterion is the one the issue states: ||grad F(x_k)|| <=
rtol * ||grad F(x_0)||. A solve that stops for any other reason (iteration
cap, stall, non-finite value) is reported with ``converged=False``.

>>> import jax
>>> jax.config.update("jax_enable_x64", True)
>>> sol = solve(UFMProblem(K=3, d=2, n=1, alpha=0.1, lam_W=1e-2, lam_H=1e-2))
>>> sol.converged, sol.rel_grad_norm <= 1e-10
(True, True)
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import optax
import optax.tree_utils as otu

from ._objective import UFMParams, init_params, objective
from ._precision import require_x64
from ._problem import UFMProblem


@dataclasses.dataclass(frozen=True)
class Solution:
    """A numerical UFM solution and how it was obtained."""

    params: UFMParams
    converged: bool
    iterations: int
    evaluations: int  # objective+gradient evaluations, line search included
    grad_norm: float
    grad_norm0: float
    objective: float
    seconds: float
    reason: str
    backend: str

    @property
    def rel_grad_norm(self) -> float:
        return self.grad_norm / self.grad_norm0 if self.grad_norm0 > 0 else 0.0

    def summary(self) -> dict:
        return {
            "converged": self.converged,
            "reason": self.reason,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "grad_norm": self.grad_norm,
            "rel_grad_norm": self.rel_grad_norm,
            "objective": self.objective,
            "seconds": self.seconds,
            "backend": self.backend,
        }


# A stall: no new best gradient norm for this many iterations. L-BFGS on this
# objective improves the best gradient norm every few iterations while it
# still can, so 100 is a generous patience.
_STALL_PATIENCE = 100


@jax.jit
def _lbfgs(params0, hyper, rtol, max_iter):
    alpha, lam_W, lam_H, lam_b = hyper

    def fun(p):
        return objective(p, alpha, lam_W, lam_H, lam_b)

    opt = optax.lbfgs(
        memory_size=20,
        linesearch=optax.scale_by_zoom_linesearch(
            max_linesearch_steps=40, initial_guess_strategy="one"
        ),
    )
    value_and_grad = optax.value_and_grad_from_state(fun)
    g0 = otu.tree_norm(jax.grad(fun)(params0))
    target = rtol * g0

    def cond(carry):
        _, _, it, gnorm, best, since_best, evals = carry
        return (it < max_iter) & (gnorm > target) & jnp.isfinite(gnorm) & (since_best < _STALL_PATIENCE)

    def body(carry):
        params, state, it, _, best, since_best, evals = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        params = optax.apply_updates(params, updates)
        gnorm = otu.tree_norm(otu.tree_get(state, "grad"))
        ls = otu.tree_get(state, "num_linesearch_steps")
        improved = gnorm < best
        return (
            params,
            state,
            it + 1,
            gnorm,
            jnp.where(improved, gnorm, best),
            jnp.where(improved, 0, since_best + 1),
            evals + ls,
        )

    state = opt.init(params0)
    init = (params0, state, jnp.asarray(0), g0, g0, jnp.asarray(0), jnp.asarray(1))
    params, state, it, gnorm, best, since_best, evals = jax.lax.while_loop(cond, body, init)
    value = otu.tree_get(state, "value")
    return params, it, gnorm, g0, value, since_best, evals


def solve(
    problem: UFMProblem,
    *,
    seed: int = 0,
    rtol: float = 1e-10,
    max_iter: int = 20_000,
    init_scale: float = 0.1,
    params0: UFMParams | None = None,
) -> Solution:
    """Minimise the UFM objective from a random normal start.

    Arguments:
        problem: the UFM instance.
        seed: PRNG seed of the start (ignored when `params0` is given).
        rtol: stop when ||grad F|| <= rtol ||grad F(x0)||.
        max_iter: iteration cap; reaching it gives ``converged=False``.
        init_scale: standard deviation of the random start.
        params0: an explicit start.
    """
    require_x64()
    if not (0.0 < rtol < 1.0):
        raise ValueError(f"rtol={rtol!r} is out of range; allowed range: (0, 1)")
    if params0 is None:
        params0 = init_params(jax.random.PRNGKey(seed), problem, init_scale)
    hyper = jnp.asarray([problem.alpha, problem.lam_W, problem.lam_H, problem.lam_b])
    t0 = time.perf_counter()
    out = _lbfgs(params0, hyper, jnp.asarray(rtol), jnp.asarray(max_iter))
    out = jax.block_until_ready(out)
    seconds = time.perf_counter() - t0
    params, it, gnorm, g0, value, since_best, evals = out
    gnorm, g0, it = float(gnorm), float(g0), int(it)
    if not jnp.isfinite(gnorm) or not jnp.isfinite(value):
        converged, reason = False, "non-finite objective or gradient"
    elif gnorm <= rtol * g0:
        converged, reason = True, f"relative gradient norm {gnorm / g0:.2e} <= rtol {rtol:.0e}"
    elif it >= max_iter:
        converged, reason = False, f"iteration cap {max_iter} reached"
    else:
        converged, reason = False, f"stalled: no progress in {_STALL_PATIENCE} iterations"
    return Solution(
        params=params,
        converged=converged,
        iterations=it,
        evaluations=int(evals),
        grad_norm=gnorm,
        grad_norm0=g0,
        objective=float(value),
        seconds=seconds,
        reason=reason,
        backend=jax.default_backend(),
    )
