"""Benchmark B4: the UFM dynamics sweep.

Configuration B4 (defined here, in CFG, ALPHAS, SEEDS and STEPS): 6 alphas x
5 seeds x 10,000 full-batch gradient-descent steps at K=10, d=32, n=50,
lam_W = lam_H = lam_b = 5e-4, GD step 1, start of scale 0.1, metrics (NC1-3,
loss, training error, norms, gradient norm) every 100 steps, with `ufm.sweep`
(one jitted program: vmap over alpha and seeds, lax.scan over records).
Target: <= 60 s on the 2-core CPU.

Baseline, measured in the same run: the obvious implementation, a Python
loop of a jitted single GD step per run (and a jitted metrics call every
100 steps), timed on one run for 1,000 steps and scaled linearly to the 30
runs x 10,000 steps of the sweep (the loop is serial, so the scaling is
exact up to noise; the scaled figure is labelled as such).

    python benchmarks/bench_dynamics.py
"""

import jax

jax.config.update("jax_enable_x64", True)

import time  # noqa: E402

import jax.numpy as jnp  # noqa: E402

from ufm import UFMProblem, init_params, objective, sweep  # noqa: E402
from ufm.internal import measure_metrics  # noqa: E402

CFG = dict(K=10, d=32, n=50, lam_W=5e-4, lam_H=5e-4, lam_b=5e-4, lr=1.0, record_every=100, init_scale=0.1)
ALPHAS = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8]
SEEDS = [0, 1, 2, 3, 4]
STEPS = 10_000


def vectorized():
    t0 = time.perf_counter()
    tr = sweep(alphas=ALPHAS, seeds=SEEDS, steps=STEPS, **CFG)
    jax.block_until_ready(tr.nc1)
    return time.perf_counter() - t0, tr


def baseline(steps=1000):
    """Per-run Python loop of jitted GD steps; returns seconds per (run x step), metrics included."""
    p = UFMProblem(K=CFG["K"], d=CFG["d"], n=CFG["n"], alpha=0.1, lam_W=CFG["lam_W"], lam_H=CFG["lam_H"],
                   lam_b=CFG["lam_b"])
    hyper = (p.lam_W, p.lam_H, p.lam_b)

    @jax.jit
    def step(params):
        g = jax.grad(objective)(params, p.alpha, *hyper)
        return jax.tree_util.tree_map(lambda x, gx: x - CFG["lr"] * gx, params, g)

    measure = jax.jit(lambda params: measure_metrics(params, p.alpha, hyper, p.K))
    params = init_params(jax.random.PRNGKey(0), p, CFG["init_scale"])
    jax.block_until_ready(step(params))
    jax.block_until_ready(measure(params))  # compile outside the timing
    t0 = time.perf_counter()
    for i in range(steps):
        params = step(params)
        if (i + 1) % CFG["record_every"] == 0:
            jax.block_until_ready(measure(params))
    jax.block_until_ready(params)
    return (time.perf_counter() - t0) / steps


def main():
    runs = len(ALPHAS) * len(SEEDS)
    print(f"B4: {len(ALPHAS)} alphas x {len(SEEDS)} seeds x {STEPS} GD steps, K={CFG['K']} d={CFG['d']} "
          f"n={CFG['n']}, metrics every {CFG['record_every']} steps ({jax.default_backend()}, float64)")
    cold, tr = vectorized()
    warm, _ = vectorized()
    per = baseline()
    base = per * runs * STEPS
    print(f"  vectorized sweep, first call (with compilation): {cold:7.2f} s   target <= 60 s: "
          f"{'OK' if cold <= 60 else 'MISSED'}")
    print(f"  vectorized sweep, second call (compiled):        {warm:7.2f} s")
    print(f"  baseline, Python loop of jitted steps: {per * 1e6:.1f} us/step measured on 1 run x 1000 steps,")
    print(f"    scaled to {runs} runs x {STEPS} steps:           {base:7.2f} s (scaled, not run)")
    print(f"  speed-up of the sweep over the baseline: {base / warm:.1f}x (compiled), {base / cold:.1f}x (cold)")
    print(f"  sanity: final NC1 at alpha=0.1, mean over seeds = {float(jnp.mean(tr.nc1[2, :, -1])):.3g}")


if __name__ == "__main__":
    main()
