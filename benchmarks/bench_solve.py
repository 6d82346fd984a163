"""Benchmark B1: solving the UFM to relative gradient 1e-9.

Configurations (defined here, in CONFIGS), both float64 from a random normal
start of scale 0.1:

* B1a: K=100, d=128, n=20, lam_W=lam_H=1e-3, lam_b=1e-3, alpha=0.1 (not
  collapsed: alpha + K sqrt(n lam_W lam_H) = 0.55);
* B1b: K=100, d=128, n=20, lam_W=lam_H=1e-4, lam_b=1e-3, alpha=0 (harder).

    python benchmarks/bench_solve.py            # B1a and B1b, plus verify timing
    python benchmarks/bench_solve.py --no-verify

For each configuration, in one process and to the same accuracy
(||grad F|| <= 1e-9 ||grad F(x0)||, float64, random normal start of scale 0.1):

* ufm.solve: optax L-BFGS (+ Newton-CG polish if it stalls), jitted end to end;
* SciPy L-BFGS-B driven by a jitted JAX value-and-gradient (the anchor);
* full-batch gradient descent with the best fixed step of {8, 32, 128, 512}
  (what public neural-collapse code uses), also jitted in a while loop. The
  best step is the one with the smallest gradient after a 2,000-step trial;
  its run to the target is capped at 120 s, and a capped run is reported as a
  lower bound (">=").

Times exclude compilation (each jitted function is run once first; the
compile time of ufm.solve is printed separately). Ratios are baseline / ufm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from ufm import UFMProblem, closed_form, init_params, objective, solve  # noqa: E402

RTOL = 1e-9
CONFIGS = {
    "B1a": UFMProblem(K=100, d=128, n=20, alpha=0.1, lam_W=1e-3, lam_H=1e-3, lam_b=1e-3),
    "B1b": UFMProblem(K=100, d=128, n=20, alpha=0.0, lam_W=1e-4, lam_H=1e-4, lam_b=1e-3),
}


def fun_of(p):
    return lambda params: objective(params, p.alpha, p.lam_W, p.lam_H, p.lam_b)


def bench_ufm(p, params0):
    t0 = time.perf_counter()
    solve(p, params0=params0, rtol=RTOL)  # compile + first run
    first = time.perf_counter() - t0
    sol = solve(p, params0=params0, rtol=RTOL)
    return sol, first


def bench_scipy(p, params0, g0):
    flat0, unravel = ravel_pytree(params0)
    vg = jax.jit(jax.value_and_grad(lambda x: fun_of(p)(unravel(x))))
    vg(flat0)[0].block_until_ready()
    evals = [0]

    def f(x):
        evals[0] += 1
        v, g = vg(jnp.asarray(x))
        return float(v), np.asarray(g)

    t0 = time.perf_counter()
    res = minimize(f, np.asarray(flat0), jac=True, method="L-BFGS-B",
                   options={"maxiter": 20000, "gtol": RTOL * g0, "ftol": 0.0, "maxcor": 20})
    secs = time.perf_counter() - t0
    gn = float(jnp.linalg.norm(vg(jnp.asarray(res.x))[1]))
    return secs, res.nit, evals[0], gn / g0


def gd_runner(p):
    grad = jax.grad(fun_of(p))

    @jax.jit
    def run(params, step, target, max_steps):
        def cond(c):
            _, gn, k = c
            return (gn > target) & (k < max_steps) & jnp.isfinite(gn)

        def body(c):
            x, _, k = c
            g = grad(x)
            x = jax.tree.map(lambda a, b: a - step * b, x, g)
            return x, jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(grad(x)))), k + 1

        g0 = jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(grad(params))))
        x, gn, k = jax.lax.while_loop(cond, body, (params, g0, 0))
        return gn, k

    return run


def bench_gd_capped(p, params0, g0, cap_seconds=120.0):
    run = gd_runner(p)
    target = RTOL * g0
    trials = {}
    for step in (8.0, 32.0, 128.0, 512.0):
        gn, _ = run(params0, step, target, 2000)
        trials[step] = float(gn) if np.isfinite(float(gn)) else np.inf
    best = min(trials, key=trials.get)
    t0 = time.perf_counter()
    jax.block_until_ready(run(params0, best, target, 500))
    per_step = (time.perf_counter() - t0) / 500
    max_steps = int(cap_seconds / per_step)
    t0 = time.perf_counter()
    gn, k = jax.block_until_ready(run(params0, best, target, max_steps))
    secs = time.perf_counter() - t0
    return best, trials, secs, int(k), float(gn) / g0, int(k) >= max_steps


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--gd-cap", type=float, default=120.0)
    args = ap.parse_args(argv)
    print(f"backend={jax.default_backend()}  target: ||grad|| <= {RTOL:g} ||grad(x0)||")
    for name, p in CONFIGS.items():
        params0 = init_params(jax.random.PRNGKey(0), p, 0.1)
        g0 = float(jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(jax.grad(fun_of(p))(params0)))))
        sol, first_s = bench_ufm(p, params0)
        cf = closed_form(p)
        print(f"\n{name}: K={p.K} d={p.d} n={p.n} alpha={p.alpha} lam={p.lam_W:g}/{p.lam_H:g}/{p.lam_b:g} "
              f"({p.num_params} parameters)")
        print(f"  ufm.solve      {sol.seconds:7.2f} s  {sol.iterations} iterations, {sol.evaluations} evaluations, "
              f"rel grad {sol.rel_grad_norm:.1e}, |F - F*|/F* = {abs(sol.objective / cf['objective'] - 1):.1e} "
              f"(first call, compile included: {first_s:.1f} s)")
        s_secs, s_it, s_ev, s_rel = bench_scipy(p, params0, g0)
        reached = "reached" if s_rel <= RTOL else "stopped short"
        print(f"  SciPy L-BFGS-B {s_secs:7.2f} s  {s_it} iterations, {s_ev} evaluations, rel grad {s_rel:.1e} "
              f"({reached});  ratio {s_secs / sol.seconds:.1f}x")
        best, trials, g_secs, g_k, g_rel, capped = bench_gd_capped(p, params0, g0, args.gd_cap)
        bound = ">=" if capped else ""
        print(f"  GD step {best:g}   {bound}{g_secs:6.2f} s  {g_k} steps, rel grad {g_rel:.1e}"
              f"{' (capped: lower bound)' if capped else ''};  ratio {bound}{g_secs / sol.seconds:.1f}x"
              f"   [2000-step trial rel grads: "
              + ", ".join(f"{s:g}: {v / g0:.1e}" for s, v in trials.items()) + "]")
    if not args.no_verify:
        print("\npython -m ufm.verify (defaults), wall time of the whole command:")
        for only in (["--only", "minimizer"], []):
            for attempt in ("first run", "second run (SymPy cache warm)"):
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "ufm.verify", *only], capture_output=True, text=True)
                last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
                label = " ".join(only) or "all groups"
                print(f"  {label:<16} {attempt:<32} {time.perf_counter() - t0:6.1f} s  exit {proc.returncode}: {last}")


if __name__ == "__main__":
    main()
