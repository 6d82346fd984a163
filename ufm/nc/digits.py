"""A small MLP on scikit-learn's bundled digits, trained with CE and with LS.

The real-data side of the NC paper's calibration claims (Section 3.3,
Appendix B.5). scikit-learn ships the 8x8 digits data set
inside the package (`sklearn.datasets.load_digits`, 1,797 images, 10
classes), so nothing is downloaded.

Per seed, the data are split at random into train / validation (held out,
for temperature scaling and for choosing alpha) / test. The network is
64 -> `hidden` -> `width` (penultimate features h, ReLU) -> 10 logits
W h + b, trained full-batch with Adam on the label-smoothing loss of
eq. (9) (soft labels (1 - alpha) e_y + alpha/K, `ufm.nc.objective.soft_labels`'s
definition) plus weight decay on all weights. All (alpha, seed) runs are one
`jax.vmap`-ed (alpha x seed), jitted program. Training runs in ``dtype``
(float64 by default; ``"float32"`` is about 3x faster on CPU, the usual
precision for networks); the returned arrays are float64 either way.

>>> import jax
>>> jax.config.update("jax_enable_x64", True)
>>> out = train_digits(alphas=[0.0, 0.1], seeds=[0], steps=20)
>>> out["test_logits"].shape                 # (alphas, seeds, test samples, classes)
(2, 1, 447, 10)
>>> out = train_digits(alphas=[0.0], seeds=[0], steps=20, checkpoints=[10, 20])
>>> out["checkpoint_test_features"].shape    # (alphas, seeds, checkpoints, test samples, width)
(1, 1, 2, 447, 32)
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ufm.core import validate
from ufm.core.precision import require_x64

K_DIGITS = 10
SPLIT = (1000, 350)  # train, validation; the rest (447) is the test set


def load_splits(seed: int):
    """Digits scaled to [0, 1], split at random by `seed` into train / val / test."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(y))
    X, y = X[perm] / 16.0, y[perm]
    a, b = SPLIT[0], SPLIT[0] + SPLIT[1]
    return (X[:a], y[:a]), (X[a:b], y[a:b]), (X[b:], y[b:])


def _init(key, sizes, dtype=jnp.float64):
    params = []
    for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        W = jax.random.normal(k, (m, n), dtype=jnp.float64) * jnp.sqrt(2.0 / m)  # He init
        params.append((W.astype(dtype), jnp.zeros(n, dtype=dtype)))
    return params


def features(params, X):
    """Penultimate features (after the last ReLU), one row per sample."""
    h = X
    for Wl, bl in params[:-1]:
        h = jax.nn.relu(h @ Wl + bl)
    return h


def forward(params, X):
    """Logits, one row per sample."""
    Wl, bl = params[-1]
    return features(params, X) @ Wl + bl


def _ls_loss(params, X, y, alpha, wd):
    Y = (1.0 - alpha) * jax.nn.one_hot(y, K_DIGITS, dtype=X.dtype) + alpha / K_DIGITS
    ce = -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(forward(params, X), axis=1), axis=1))
    return ce + 0.5 * wd * sum(jnp.sum(Wl**2) for Wl, _ in params)


def train_digits(alphas: Sequence[float], seeds: Sequence[int], *, hidden: int = 64, width: int = 32,
                 steps: int = 600, lr: float = 3e-3, wd: float = 5e-4, dtype: str = "float64",
                 checkpoints: Sequence[int] | None = None) -> dict:
    """Train one MLP per (alpha, seed); return logits and features of every split.

    The seed fixes both the data split and the initialization; every alpha
    uses the same ones (paired comparison). Returned arrays have leading axes
    (alpha, seed): ``{train,val,test}_logits``, ``train_features``, and the
    labels ``{train,val,test}_labels`` with leading axis (seed), and the last
    layer ``classifier`` (K x width, rows w_k) and ``bias``. ``dtype``
    ("float32" or "float64") is the precision of training; outputs are float64.

    ``checkpoints`` (optional): increasing step counts in [1, steps] after
    which the test set is recorded, in the same program (a ``lax.cond`` inside
    the training scan). Then the output also holds ``checkpoint_steps`` (C,),
    ``checkpoint_test_logits`` (alpha, seed, C, test samples, K),
    ``checkpoint_test_features`` (alpha, seed, C, test samples, width) and
    ``checkpoint_train_error`` (alpha, seed, C). A checkpoint at ``steps``
    equals the final outputs.
    """
    require_x64()
    alphas, seeds = validate.alpha_seed_grid(alphas, seeds)
    hidden, width, steps = (validate.integer(name, v, minimum=1)
                            for name, v in (("hidden", hidden), ("width", width), ("steps", steps)))
    lr = validate.real("lr", lr, 0.0, lo_open=True)
    wd = validate.real("wd", wd, 0.0)
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"dtype={dtype!r} is not known; allowed: float32, float64")
    dt = jnp.dtype(str(dtype))
    ckpts = _checkpoints(checkpoints, steps)
    splits = [load_splits(s) for s in seeds]
    # NumPy arrays moved with jax.device_put (jnp.asarray would run an eager program per shape)
    stack = lambda i, j: jax.device_put(np.asarray(np.stack([sp[i][j] for sp in splits]),  # noqa: E731
                                                   dtype=dt if j == 0 else None))
    Xtr, ytr, Xva, yva, Xte, yte = (stack(i, j) for i in range(3) for j in range(2))
    keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])
    sizes = (Xtr.shape[-1], hidden, width, K_DIGITS)
    out = _train(keys, Xtr, ytr, Xva, Xte, np.asarray(alphas, dtype=dt), sizes, steps, lr, wd, ckpts)
    out = {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
    if ckpts:
        out["checkpoint_steps"] = np.asarray(ckpts)
    out.update(train_labels=np.asarray(ytr), val_labels=np.asarray(yva), test_labels=np.asarray(yte),
               alphas=np.asarray(alphas), seeds=np.asarray(seeds),
               config=dict(hidden=hidden, width=width, steps=steps, lr=lr, wd=wd, split=SPLIT,
                           optimizer="full-batch Adam", dtype=str(dt), checkpoints=list(ckpts)))
    return out


def _checkpoints(checkpoints, steps: int) -> tuple[int, ...]:
    """`checkpoints` as a tuple of strictly increasing step counts in [1, steps] (() for None)."""
    if checkpoints is None:
        return ()
    c = tuple(validate.integer("checkpoint", v, minimum=1, maximum=steps) for v in checkpoints)
    if not c or any(b <= a for a, b in zip(c, c[1:])):
        raise ValueError(f"checkpoints={list(checkpoints)!r} is not allowed; allowed: a non-empty, strictly "
                         f"increasing sequence of step counts in [1, {steps}]")
    return c


def _train_one(key, Xtr, ytr, Xva, Xte, alpha, sizes, steps, lr, wd, ckpts=()):
    params = _init(key, sizes, Xtr.dtype)
    opt = optax.adam(lr)
    state = opt.init(params)
    C, at = len(ckpts), jnp.asarray(ckpts if ckpts else (0,))
    buf = (jnp.zeros((C, Xte.shape[0], sizes[-1]), Xte.dtype), jnp.zeros((C, Xte.shape[0], sizes[-2]), Xte.dtype),
           jnp.zeros((C,), Xte.dtype))

    def record(params, buf, t):
        i = jnp.searchsorted(at, t)
        h = features(params, Xte)
        err = jnp.mean(jnp.argmax(forward(params, Xtr), axis=1) != ytr).astype(Xte.dtype)
        return (buf[0].at[i].set(h @ params[-1][0] + params[-1][1]), buf[1].at[i].set(h), buf[2].at[i].set(err))

    def step(carry, t):
        params, state, buf = carry
        g = jax.grad(_ls_loss)(params, Xtr, ytr, alpha, wd)
        upd, state = opt.update(g, state, params)
        params = optax.apply_updates(params, upd)
        if C:  # the step index is not batched, so this stays a branch under vmap (no cost off the checkpoints)
            buf = jax.lax.cond(jnp.any(at == t + 1), record, lambda p, b, t: b, params, buf, t + 1)
        return (params, state, buf), None

    (params, _, buf), _ = jax.lax.scan(step, (params, state, buf), jnp.arange(steps))
    out = {"train_logits": forward(params, Xtr), "val_logits": forward(params, Xva),
           "test_logits": forward(params, Xte), "train_features": features(params, Xtr),
           "classifier": params[-1][0].T, "bias": params[-1][1]}
    if C:
        out.update(checkpoint_test_logits=buf[0], checkpoint_test_features=buf[1], checkpoint_train_error=buf[2])
    return out


def _train_impl(keys, Xtr, ytr, Xva, Xte, alphas, sizes, steps, lr, wd, ckpts=()):
    one = lambda k, a, b, c, d, al: _train_one(k, a, b, c, d, al, sizes, steps, lr, wd, ckpts)  # noqa: E731
    over_seeds = jax.vmap(one, in_axes=(0, 0, 0, 0, 0, None))
    return jax.vmap(over_seeds, in_axes=(None, None, None, None, None, 0))(keys, Xtr, ytr, Xva, Xte, alphas)


_train = jax.jit(_train_impl, static_argnames=("sizes", "steps", "ckpts"))
