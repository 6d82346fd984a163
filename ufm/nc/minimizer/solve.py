"""The UFM solved numerically: L-BFGS on the real objective, jitted end to end.

We use `optax.lbfgs` with its zoom line search because the whole solve,
line search included, runs inside one `jax.lax.while_loop`: one compilation
per shape and no host round trip per iteration (SciPy's L-BFGS-B pays a
device-to-host copy and a Python call per evaluation, and its own stopping
rules stop it short of 1e-9 on K=100, d=128, n=20). The zoom line search accepts
*approximate* Wolfe steps (Hager-Zhang), which is what lets it keep making
progress when the objective's decrease falls below float64 resolution near
the optimum, i.e. down to relative gradient norms of 1e-10 and below.

The solve runs in the scaled variables W~ = sqrt(lam_W) W, H~ = sqrt(lam_H) H
(b~ = sqrt(lam_b) b when lam_b > 0), a fixed diagonal change of variables.
It leaves the objective and its minimizers unchanged but balances the two
factors: the optimal ||w||^2 / ||h||^2 is n lam_H / lam_W, and in the raw
variables L-BFGS stalls on that scale mismatch (lam_W = 0.1, lam_H = 1e-5 stalls at rel. gradient
1e-6). The gradient in the *original* variables is what the stopping test
and the reported norms use.

Near the float64 floor the line search loses its footing: at a gradient of
1e-10 the decrease per step, ~||g||^2 / L, is far below the resolution
eps |F| of the objective, and with small lambda (curvature ~ lambda, so the
condition number is ~1/lambda) L-BFGS can stall short of 1e-10. When it
stalls, a damped Newton-CG polish takes over: steps p solving
(Hess F + ||g|| I) p = -g by conjugate gradients (`jax.scipy.sparse.linalg.cg`
on exact Hessian-vector products), accepted while they reduce ||g||. It needs
no objective values, converges quadratically (the damping ||g|| vanishes at
the solution) and copes with the singular Hessian (the rotation symmetry
W -> W Q, H -> Q^T H leaves a null space; the damping keeps CG well posed).

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
import functools
import math
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
import optax.tree_utils as otu

from ufm.core import validate
from ufm.core.precision import require_x64
from ufm.nc.objective import (ObjectiveData, ObjectiveSpec, UFMParams, general_objective, init_params,
                              objective_data, objective_spec)
from ufm.nc.problem import UFMProblem


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


# A stall: for this many iterations neither the objective reached a new
# lowest value nor the gradient norm a new smallest value. Away from the
# float64 floor L-BFGS lowers the objective at every accepted step, so this
# only fires once the line search can no longer make progress.
_STALL_PATIENCE = 200

# L-BFGS history length. At K=100, d=128, n=20 (270k parameters) a
# value-and-gradient costs ~2.2 ms, while the two-loop recursion over 20 pairs
# cost ~8 ms more per iteration (memory-bound passes over the history); with 5
# pairs the solve at lam_W = lam_H = lam_b = 1e-3, alpha = 0.1
# takes ~0.5 s against a floor of ~0.35 s (125 evaluations), instead of ~1 s.
# Small ill-conditioned problems need up to ~2x more iterations with 5 pairs,
# but there an iteration costs microseconds.
_MEMORY = 5


class _Scaled(NamedTuple):
    """The objective in the scaled variables q = (W~, H~, b~), and the maps."""

    to_scaled: Callable
    to_original: Callable
    fun: Callable
    original_grad_norm: Callable


def _scaled(data: ObjectiveData, spec: ObjectiveSpec) -> _Scaled:
    lam_W, lam_H, lam_b = data.lams[0], data.lams[1], data.lams[2]
    scale = UFMParams(jnp.sqrt(lam_W), jnp.sqrt(lam_H),
                      jnp.where(lam_b > 0, jnp.sqrt(lam_b), jnp.ones_like(lam_b)))

    def to_original(q):
        return UFMParams(*(x / s for x, s in zip(q, scale)))

    def original_grad_norm(gq):
        # dF/dW = sqrt(lam_W) dF/dW~ (chain rule through W = W~ / sqrt(lam_W))
        return otu.tree_norm(UFMParams(*(g * s for g, s in zip(gq, scale))))

    return _Scaled(
        to_scaled=lambda p: UFMParams(*(x * s for x, s in zip(p, scale))),
        to_original=to_original,
        fun=lambda q: general_objective(to_original(q), data, spec),
        original_grad_norm=original_grad_norm,
    )


@functools.partial(jax.jit, static_argnames=("spec",))
def _lbfgs(params0, data, rtol, max_iter, spec):
    S = _scaled(data, spec)
    fun, to_original, original_grad_norm = S.fun, S.to_original, S.original_grad_norm

    opt = optax.lbfgs(
        memory_size=_MEMORY,
        linesearch=optax.scale_by_zoom_linesearch(
            max_linesearch_steps=40, initial_guess_strategy="one"
        ),
    )
    value_and_grad = optax.value_and_grad_from_state(fun)
    q0 = S.to_scaled(params0)
    g0 = original_grad_norm(jax.grad(fun)(q0))
    target = rtol * g0

    def cond(carry):
        _, _, it, gnorm, best, since_best, evals, _ = carry
        return (it < max_iter) & (gnorm > target) & jnp.isfinite(gnorm) & (since_best < _STALL_PATIENCE)

    def body(carry):
        params, state, it, _, best, since_best, evals, best_f = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        params = optax.apply_updates(params, updates)
        gnorm = original_grad_norm(otu.tree_get(state, "grad"))
        ls = otu.tree_get(state, "num_linesearch_steps")
        new_f = otu.tree_get(state, "value")
        improved = (gnorm < best) | (new_f < best_f)
        return (
            params,
            state,
            it + 1,
            gnorm,
            jnp.where(improved, gnorm, best),
            jnp.where(improved, 0, since_best + 1),
            evals + ls,
            jnp.minimum(new_f, best_f),
        )

    state = opt.init(q0)
    init = (q0, state, jnp.asarray(0), g0, g0, jnp.asarray(0), jnp.asarray(1), fun(q0))
    params, state, it, gnorm, best, since_best, evals, _ = jax.lax.while_loop(cond, body, init)
    value = otu.tree_get(state, "value")
    return to_original(params), it, gnorm, g0, value, since_best, evals


_NEWTON_MAX_STEPS = 30
_CG_MAX_ITER = 200


@functools.partial(jax.jit, static_argnames=("spec",))
def _newton_polish(params, data, rtol, g0, spec):
    S = _scaled(data, spec)
    fun, original_grad_norm = S.fun, S.original_grad_norm
    q = S.to_scaled(params)
    grad = jax.grad(fun)

    def cond(carry):
        _, _, gnorm, k, ok = carry
        return ok & (k < _NEWTON_MAX_STEPS) & (gnorm > rtol * g0)

    def body(carry):
        q, g, gnorm, k, _ = carry
        mu = otu.tree_norm(g)

        def matvec(v):
            hv = jax.jvp(grad, (q,), (v,))[1]
            return jax.tree.map(lambda a, b: a + mu * b, hv, v)

        step, _ = jax.scipy.sparse.linalg.cg(matvec, jax.tree.map(jnp.negative, g),
                                             tol=1e-3, maxiter=_CG_MAX_ITER)
        q_new = jax.tree.map(jnp.add, q, step)
        g_new = grad(q_new)
        gnorm_new = original_grad_norm(g_new)
        ok = jnp.isfinite(gnorm_new) & (gnorm_new < gnorm)
        return (
            jax.tree.map(lambda a, b: jnp.where(ok, a, b), q_new, q),
            jax.tree.map(lambda a, b: jnp.where(ok, a, b), g_new, g),
            jnp.where(ok, gnorm_new, gnorm),
            k + 1,
            ok,
        )

    g = grad(q)
    q, g, gnorm, k, _ = jax.lax.while_loop(cond, body, (q, g, original_grad_norm(g), 0, True))
    return S.to_original(q), gnorm, k, fun(q)


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
    rtol = validate.real("rtol", rtol, 0.0, 1.0, lo_open=True, hi_open=True)
    max_iter = validate.integer("max_iter", max_iter, minimum=0)
    if params0 is None:
        init_scale = validate.real("init_scale", init_scale, 0.0, lo_open=True)
        params0 = init_params(jax.random.PRNGKey(seed), problem, init_scale)
    data, spec = objective_data(problem), objective_spec(problem)
    t0 = time.perf_counter()
    out = _lbfgs(params0, data, jnp.asarray(rtol), jnp.asarray(max_iter), spec)
    out = jax.block_until_ready(out)
    params, it, gnorm, g0, value, since_best, evals = out
    gnorm, g0, it = float(gnorm), float(g0), int(it)
    newton = ""
    if math.isfinite(gnorm) and gnorm > rtol * g0 and it < max_iter:
        lbfgs_rel = gnorm / g0
        params, gnorm, steps, value = jax.block_until_ready(
            _newton_polish(params, data, jnp.asarray(rtol), jnp.asarray(g0), spec))
        gnorm, steps = float(gnorm), int(steps)
        newton = (f" (L-BFGS stalled at {lbfgs_rel:.1e} after {it} iterations; "
                  f"{steps} damped Newton-CG steps)")
    seconds = time.perf_counter() - t0
    value = float(value)
    if not math.isfinite(gnorm) or not math.isfinite(value):
        converged, reason = False, "non-finite objective or gradient"
    elif gnorm <= rtol * g0:
        converged, reason = True, f"relative gradient norm {gnorm / g0:.2e} <= rtol {rtol:.0e}{newton}"
    elif it >= max_iter:
        converged, reason = False, f"iteration cap {max_iter} reached"
    else:
        converged, reason = False, f"stalled at relative gradient norm {gnorm / g0:.1e}{newton}"
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
