"""Monte Carlo of SGD with label smoothing: Algorithm 1, plain SGD and Algorithm 2 (TSLA).

All three are *stages* ``(eta, theta, T)`` run one after the other from w0:
Algorithm 1 is one stage (eta, theta, T); SGD is (eta, 0, T); TSLA is
(eta1, theta, T1) then (eta2, 0, T2). Every seed runs independently (`jax.vmap`
over seeds, a compiled `lax.fori_loop` over steps; horizons are traced, so a
new T does not recompile). The problem supplies a single-seed stochastic
oracle ``oracle(arr, w, key, theta)`` (linear in the label, as cross-entropy
is) and ``grad_norm_sq(arr, w)``.

Estimate of ``E_R ||grad F(w_R)||^2`` (R uniform over a stage's iterates): for
each seed, the stage average ``(1/T) sum_t ||grad F(w_t)||^2`` is an unbiased
estimator of it (R is independent of the trajectory); the seeds give i.i.d.
copies, and the one-sided 99% upper confidence bound is
``mean + z_{0.99} s / sqrt(n)`` (CLT, z_{0.99} = 2.326, s the sample standard
deviation; valid for n in the thousands with finite variance), computed by
`upper_confidence`, which lives in `ufm.core.stats` and is re-exported here.

>>> from ufm.tsla.problems import QuadraticLSRProblem
>>> q = QuadraticLSRProblem(L=1.0, mu=0.5, sigma2=0.1, delta=0.1, F0=1.0)
>>> r = simulate(q, [(1.0, 0.0, 50)], n_seeds=256, seed=0)
>>> r["avg_grad_sq"].shape
(256, 1)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import norm

from ufm.core import validate
from ufm.core.precision import require_x64
from ufm.core.stats import upper_confidence  # noqa: F401 (re-exported; it lives in ufm.core.stats)

Z99 = float(norm.ppf(0.99))


_STATIC = ("oracle", "grad_norm_sq", "value", "n_stages", "record")


def _run_impl(arr, w0, etas, thetas, Ts, keys, *, oracle, grad_norm_sq, value, n_stages, record):
    def one_seed(key):
        w = w0
        avgs = []
        for s in range(n_stages):  # stages are few and static; horizons are traced
            ks = jax.random.fold_in(key, s)

            def body(t, carry, s=s, ks=ks):
                w, acc = carry
                if record:
                    acc = acc + grad_norm_sq(arr, w)
                g = oracle(arr, w, jax.random.fold_in(ks, t), thetas[s])
                return w - etas[s] * g, acc

            w, acc = jax.lax.fori_loop(0, Ts[s], body, (w, jnp.zeros((), w.dtype)))
            avgs.append(acc / jnp.maximum(Ts[s], 1))
        return w, jnp.stack(avgs), value(arr, w)

    return jax.vmap(one_seed)(keys)


_run = jax.jit(_run_impl, static_argnames=_STATIC)


@functools.partial(jax.jit, static_argnames=_STATIC + ("n", "split"))
def _run_split(arr, w0, etas, thetas, Ts, key, *, n, split, **static):
    """`_run` on the keys ``split(key, n)``, split in the same program (one program per run
    instead of a separate eager split). `split` is `jax.random.split` as looked up at the call
    (static: a replaced one, as the tests' reused-key fault does, is traced anew)."""
    return _run_impl(arr, w0, etas, thetas, Ts, split(key, n), **static)


_STAGE = "(eta > 0, 0 <= theta <= 1, integer 0 <= T < 2^31)"


def _validate_stages(stages):
    out = []
    for k, st in enumerate(stages):
        try:
            eta, theta, T = st
        except (TypeError, ValueError):
            raise validate.invalid(f"stages[{k}]", st, "is not a triple", _STAGE) from None
        try:
            out.append((validate.real("eta", eta, 0.0, lo_open=True),
                        validate.real("theta", theta, 0.0, 1.0),
                        validate.integer("T", T, 0, 2**31 - 1)))
        except ValueError as e:  # say which stage
            raise ValueError(f"stages[{k}]: {e}") from None
    if not out:
        raise validate.invalid("stages", list(stages), "is empty", f"at least one {_STAGE}")
    return out


def simulate(problem, stages, n_seeds: int, seed: int = 0, *, yhat=None, record: bool = True,
             chunk: int | None = None, w0=None) -> dict:
    """Run the stages on `n_seeds` independent seeds.

    Returns per-seed arrays: ``avg_grad_sq`` (n_seeds, n_stages), the stage
    averages of ||grad F(w_t)||^2 over t in the stage (zero when record=False);
    ``w_final`` and ``F_final``. `problem` is a `QuadraticLSRProblem` or a
    `LogRegProblem` (then `yhat` is the smoothing label per sample, uniform by
    default). `chunk` seeds are run at a time (memory and cache locality).
    """
    require_x64()
    stages = _validate_stages(stages)
    n_seeds = validate.integer("n_seeds", n_seeds, minimum=1, integral_floats=False)
    seed = validate.integer("seed", seed, minimum=0, integral_floats=False)
    cls = type(problem)
    arr = problem.arrays(yhat) if yhat is not None else problem.arrays()
    if w0 is None:
        w0 = problem.w0 if hasattr(problem, "w0") else np.zeros((problem.K, problem.d))
    # NumPy arrays straight into the compiled run (jnp.asarray would run an eager program each)
    w0 = np.asarray(w0, dtype=np.float64)
    etas = np.asarray([s[0] for s in stages])
    thetas = np.asarray([s[1] for s in stages])
    Ts = np.asarray([s[2] for s in stages], dtype=np.int32)
    chunk = n_seeds if chunk is None else max(1, min(int(chunk), n_seeds))
    static = dict(oracle=cls.oracle, grad_norm_sq=cls.grad_norm_sq, value=cls.value, n_stages=len(stages),
                  record=record)
    if chunk == n_seeds:  # one chunk: the keys are split inside the run's program
        o = _run_split(arr, w0, etas, thetas, Ts, jax.random.PRNGKey(seed), n=n_seeds, split=jax.random.split,
                       **static)
        w, avg, F = (np.array(x) for x in o)  # writable copies, as np.concatenate gives
        return {"avg_grad_sq": avg, "w_final": w, "F_final": F, "stages": stages, "n_seeds": n_seeds}
    keys = jax.random.split(jax.random.PRNGKey(seed), n_seeds)
    outs = []
    for start in range(0, n_seeds, chunk):
        kc = keys[start:start + chunk]
        if kc.shape[0] < chunk:  # pad the last chunk: same shape, no recompilation
            kc = jnp.concatenate([kc, keys[: chunk - kc.shape[0]]])
        o = _run(arr, w0, etas, thetas, Ts, kc, oracle=cls.oracle, grad_norm_sq=cls.grad_norm_sq,
                 value=cls.value, n_stages=len(stages), record=record)
        outs.append(jax.tree_util.tree_map(np.asarray, o))
    w, avg, F = (np.concatenate([o[i] for o in outs])[:n_seeds] for i in range(3))
    return {"avg_grad_sq": avg, "w_final": w, "F_final": F, "stages": stages, "n_seeds": n_seeds}


def sgd_stages(eta: float, T: int) -> list:
    """Plain SGD (Theorem 5): one stage with theta = 0."""
    return [(eta, 0.0, T)]


def lsr_stages(eta: float, theta: float, T: int) -> list:
    """Algorithm 1: SGD with LSR."""
    return [(eta, theta, T)]


def tsla_stages(eta1: float, theta: float, T1: int, eta2: float, T2: int) -> list:
    """Algorithm 2 with A = SGD: LSR for T1 steps, then one-hot labels for T2 steps."""
    return [(eta1, theta, T1), (eta2, 0.0, T2)]


@jax.jit
def _logreg_block(arr, W, key, eta, theta, T):
    n = W.shape[0]

    def body(t, W):
        # one index per seed per step: the entries of one randint vector are independent
        i = jax.random.randint(jax.random.fold_in(key, t), (n,), 0, arr["X"].shape[0])
        x = arr["X"][i]
        lab = (1 - theta) * arr["Yoh"][i] + theta * arr["Yhat"][i]
        p = jax.nn.softmax(jnp.einsum("nkd,nd->nk", W, x), axis=-1)
        return W - eta * ((p - lab)[:, :, None] * x[:, None, :] + arr["lam"] * W)

    return jax.lax.fori_loop(0, T, body, W)


def sgd_logreg_seeds(problem, eta: float, theta: float, T: int, n_seeds: int, seed: int = 0, *,
                     yhat=None, chunk: int = 1000, W0=None) -> np.ndarray:
    """Single-sample SGD with LSR (Algorithm 1; theta = 0 is plain SGD) on a `LogRegProblem`
    for `n_seeds` independent seeds, batched over seeds (one key per step and chunk): the
    fast path for many seeds (e.g. 10,000 seeds x 10,000 steps of logistic regression, d = 20,
    K = 10, N = 1000). Returns the final weights (n_seeds, K, d)."""
    require_x64()
    _validate_stages([(eta, theta, T)])
    n_seeds = validate.integer("n_seeds", n_seeds, minimum=1, integral_floats=False)
    arr = problem.arrays(yhat)
    chunk = max(1, min(int(chunk), n_seeds))
    base = jax.random.PRNGKey(seed)
    W0 = jnp.zeros((problem.K, problem.d)) if W0 is None else jnp.asarray(W0, jnp.float64)
    outs = []
    for c, start in enumerate(range(0, n_seeds, chunk)):
        W = jnp.broadcast_to(W0, (chunk,) + W0.shape)
        outs.append(np.asarray(_logreg_block(arr, W, jax.random.fold_in(base, c), eta, theta,
                                                 jnp.asarray(int(T), jnp.int32))))
    return np.concatenate(outs)[:n_seeds]
