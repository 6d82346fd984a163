"""Training dynamics of the UFM: gradient descent and minibatch SGD, vectorized.

The NC paper's empirical claims ("Cross Entropy versus Label Smoothing: A
Neural Collapse Perspective", Section 3; Fig. 9-10 for the simulated UFM) are
about *how* training reaches neural collapse, for cross-entropy (alpha = 0)
against label smoothing (alpha > 0). `sweep` trains the UFM of
eq. (9)-(10) from random starts, for a grid of alpha x seeds at once:

* the objective and its gradient are `ufm.nc.objective.objective` and
  `jax.grad` of it (no second objective is written here);
* runs are vectorized with `jax.vmap` over alpha and over seeds, steps run
  in `jax.lax.scan` (records) around `jax.lax.fori_loop` (steps between
  records), so the whole sweep is one compiled program;
* every `record_every` steps it records the objective F, the data term,
  the training error, NC1-3 (paper definitions, `ufm.nc.metrics`), the norm
  of the full gradient, the mean classifier norm ||w_k||, the mean feature
  norm ||h_{k,i}|| and the mean centred class-mean norm ||mu_k - mu_G||.

Minibatch SGD (``batch_size``) draws class-balanced batches (batch_size/K
samples of each class, without replacement within the class) and takes the
gradient of ``loss_term(W, H[:, batch], b) + regularizer(W, H, b)``, an
unbiased estimate of the full objective built from the same functions.

>>> import jax
>>> jax.config.update("jax_enable_x64", True)
>>> tr = sweep(K=3, d=4, n=2, alphas=[0.0, 0.1], seeds=[0], lam_W=1e-2, lam_H=1e-2,
...            lam_b=1e-2, lr=0.5, steps=200, record_every=100)
>>> tr.nc1.shape                      # (alphas, seeds, records at steps 0, 100, 200)
(2, 1, 3)
>>> bool(tr.loss[0, 0, -1] < tr.loss[0, 0, 0])
True
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ufm.core import validate
from ufm.core.precision import require_x64
from ufm.nc.metrics import nc1_unchecked, nc2_unchecked, nc3_unchecked
from ufm.nc.objective import UFMParams, init_params, labels, logits, loss_term, objective, regularizer
from ufm.nc.problem import UFMProblem


class Trajectory(NamedTuple):
    """Recorded quantities; every array has leading axes (alpha, seed, record)."""

    alphas: np.ndarray       # (A,)
    seeds: np.ndarray        # (S,)
    steps: np.ndarray        # (R,) the step index of each record (0 = the start)
    loss: jax.Array          # full objective F
    data_loss: jax.Array     # (1/N) sum CE, without the regularizer
    train_error: jax.Array   # fraction of samples with argmax logit != label
    nc1: jax.Array
    nc2: jax.Array
    nc3: jax.Array
    grad_norm: jax.Array     # ||grad F|| over (W, H, b), full batch
    w_norm: jax.Array        # mean_k ||w_k||
    h_norm: jax.Array        # mean_{k,i} ||h_{k,i}||
    mu_norm: jax.Array       # mean_k ||mu_k - mu_G||
    final: UFMParams         # the parameters after the last step, leading axes (A, S)
    config: dict


def _flat_norm(tree):
    return jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(tree)))


def _measure(params, alpha, hyper, K):
    lam_W, lam_H, lam_b = hyper
    W, H, b = params
    F, g = jax.value_and_grad(objective)(params, alpha, lam_W, lam_H, lam_b)
    y = labels(K, H.shape[1] // K)
    err = jnp.mean(jnp.argmax(logits(params), axis=0) != y)
    Hbar_norms = jnp.linalg.norm(_centred_means(H, K), axis=0)
    return dict(
        loss=F,
        data_loss=loss_term(params, alpha),
        train_error=err,
        nc1=nc1_unchecked(H, K),
        nc2=nc2_unchecked(W, H, K),
        nc3=nc3_unchecked(W, H, K),
        grad_norm=_flat_norm(g),
        w_norm=jnp.mean(jnp.linalg.norm(W, axis=1)),
        h_norm=jnp.mean(jnp.linalg.norm(H, axis=0)),
        mu_norm=jnp.mean(Hbar_norms),
    )


def _centred_means(H, K):
    d, N = H.shape
    M = H.reshape(d, K, N // K).mean(axis=2)
    return M - M.mean(axis=1, keepdims=True)


def _batch_columns(key, K, n, per_class):
    """Class-balanced column indices: `per_class` distinct samples from each class."""
    keys = jax.random.split(key, K)
    pick = jax.vmap(lambda k: jax.random.permutation(k, n)[:per_class])(keys)  # K x per_class
    return (pick + n * jnp.arange(K)[:, None]).reshape(-1)


def _train(params0, key, alpha, hyper, K, n, lr, n_records, record_every, per_class):
    lam_W, lam_H, lam_b = hyper
    full_grad = jax.grad(objective)

    def step(i, carry):
        params, key = carry
        if per_class is None:
            g = full_grad(params, alpha, lam_W, lam_H, lam_b)
        else:
            key, sub = jax.random.split(key)
            cols = _batch_columns(sub, K, n, per_class)

            def stochastic(p):
                batch = UFMParams(p.W, p.H[:, cols], p.b)
                return loss_term(batch, alpha) + regularizer(p, lam_W, lam_H, lam_b)

            g = jax.grad(stochastic)(params)
        params = jax.tree_util.tree_map(lambda x, gx: x - lr * gx, params, g)
        return params, key

    def record(carry, _):
        params, key = carry
        params, key = jax.lax.fori_loop(0, record_every, step, (params, key))
        return (params, key), _measure(params, alpha, hyper, K)

    first = _measure(params0, alpha, hyper, K)
    (final, _), recs = jax.lax.scan(record, (params0, key), None, length=n_records - 1)
    recs = jax.tree_util.tree_map(lambda a, r: jnp.concatenate([a[None], r]), first, recs)
    return final, recs


def sweep(K: int, d: int, n: int, alphas: Sequence[float], seeds: Sequence[int], *,
          lam_W: float, lam_H: float, lam_b: float, lr: float, steps: int,
          record_every: int, init_scale: float = 0.1, batch_size: int | None = None) -> Trajectory:
    """Train the UFM for every (alpha, seed) and record metrics every `record_every` steps.

    Arguments:
        K, d, n, lam_W, lam_H, lam_b: the UFM (validated through `UFMProblem`).
        alphas: smoothing parameters in [0, 1); seeds: integers >= 0, one random
            normal start (standard deviation `init_scale`, `init_params`) each;
            the same start is used for every alpha, so alphas are compared on
            paired starts.
        lr: the fixed step size. steps: number of steps, a multiple of
            record_every. batch_size: None for full-batch gradient descent;
            else minibatch SGD with class-balanced batches (a multiple of K,
            at most N).
    Returns a `Trajectory`; records are at steps 0, record_every, ..., steps.
    """
    require_x64()
    alphas, seeds = validate.alpha_seed_grid(alphas, seeds)
    for a in alphas:  # UFMProblem validates every hyper-parameter with a clear message
        problem = UFMProblem(K=K, d=d, n=n, alpha=a, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b)
    alphas = [float(a) for a in alphas]
    K, d, n = problem.K, problem.d, problem.n
    lr = validate.real("lr", lr, 0.0, lo_open=True)
    init_scale = validate.real("init_scale", init_scale, 0.0, lo_open=True)
    steps = validate.integer("steps", steps, minimum=1)
    record_every = validate.integer("record_every", record_every, minimum=1)
    if steps % record_every:
        raise validate.invalid("steps", steps, f"is not a multiple of record_every={record_every}",
                               f"multiples of record_every={record_every}")
    per_class = None
    if batch_size is not None:
        allowed = f"None (full batch) or a multiple of K={K} in [{K}, N={problem.N}]"
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise validate.invalid("batch_size", batch_size, "is not an integer", allowed)
        if batch_size < K or batch_size % K or batch_size > problem.N:
            raise validate.out_of_range("batch_size", batch_size, allowed)
        per_class = int(batch_size) // K
    n_records = steps // record_every + 1
    hyper = (problem.lam_W, problem.lam_H, problem.lam_b)

    keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])
    unit0, sgd_keys = _starts(keys, problem=problem)
    # init_params(k, problem, s) = s * (its unit-scale draw); the product is taken here, on the
    # host (one IEEE multiply, as the eager path did: bit-identical starts; inside the compiled
    # program XLA would fold s into the normal's own constant factor and round differently)
    params0 = UFMParams(*(init_scale * np.asarray(x) for x in unit0))
    final, recs = _run(params0, sgd_keys, np.asarray(alphas), hyper, K, n, float(lr),
                       n_records, record_every, per_class)
    config = dict(K=K, d=d, n=n, lam_W=lam_W, lam_H=lam_H, lam_b=lam_b, lr=lr, steps=steps,
                  record_every=record_every, init_scale=init_scale, batch_size=batch_size)
    return Trajectory(alphas=np.asarray(alphas), seeds=np.asarray(seeds),
                      steps=np.arange(n_records) * record_every, final=final, config=config, **recs)


@functools.partial(jax.jit, static_argnames=("problem",))
def _starts(keys, *, problem):
    """The unit-scale random starts ``init_params(key, problem, 1.0)`` and the SGD keys
    (fold_in 1) of each seed's key, in one compiled program."""
    sgd_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    return jax.vmap(lambda k: init_params(k, problem, 1.0))(keys), sgd_keys


def _run_impl(params0, keys, alphas, hyper, K, n, lr, n_records, record_every, per_class):
    one = lambda p, k, a: _train(p, k, a, hyper, K, n, lr, n_records, record_every, per_class)  # noqa: E731
    over_seeds = jax.vmap(one, in_axes=(0, 0, None))
    return jax.vmap(over_seeds, in_axes=(None, None, 0))(params0, keys, alphas)


_run = jax.jit(_run_impl, static_argnames=("K", "n", "n_records", "record_every", "per_class"))


def steps_to_reach(values, steps, threshold):
    """First recorded step at which `values` <= threshold (last axis = records).

    Resolution is the record spacing. Runs that never reach it get +inf
    (censored at the budget; callers must report them as such).
    """
    values = np.asarray(values)
    hit = values <= threshold
    first = np.argmax(hit, axis=-1)
    return np.where(hit.any(axis=-1), np.asarray(steps)[first], np.inf)
