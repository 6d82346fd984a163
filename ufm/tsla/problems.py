"""Stochastic problems with known constants for the TSLA bounds.

The bounds are those of the TSLA paper ("Towards Understanding Label
Smoothing": Lemma 1, Theorems 3-5, Table 1) under its Assumption 1.

`QuadraticLSRProblem`: F(w) = 1/2 sum_i a_i w_i^2 + F*, a_i evenly spaced in
[mu, L], so the smoothness constant is exactly L and the PL constant exactly
mu (a strongly convex quadratic satisfies 2 mu (F - F*) <= ||grad F||^2 with
equality along the a = mu eigenvector). The one-hot oracle is
``grad F + xi`` with ``xi = sqrt(sigma^2/d) z``, z i.i.d. Rademacher signs, unbiased with
``E||xi||^2 = sigma^2`` exactly (Assumption 1 (i)); the smoothing oracle is
``grad F + b + zeta`` with a fixed bias ``||b||^2 = beta delta sigma^2`` and
``E||zeta||^2 = (1 - beta) delta sigma^2``, so ``E||. - grad F||^2 = delta
sigma^2`` exactly (eq. 4), biased whenever beta > 0. ``corr(xi_i, zeta_i) =
rho``. As for cross-entropy, the LSR gradient is linear in the label:
``(1 - theta) (one-hot oracle) + theta (smoothing oracle)``.

The iteration is linear with additive noise, so the first two moments of each
coordinate follow a linear recursion. Its coefficients are *derived* in SymPy
(`moment_recursion`) by expanding ``E[w_{t+1}]`` and ``E[w_{t+1}^2]`` with the
noise moments, and the exact ``E||grad F(w_t)||^2`` averaged over a stage is a
matrix power (`QuadraticLSRProblem.exact_average`), for any horizon.

`LogRegProblem`: L2-regularised multinomial logistic regression on a
generated Gaussian mixture (finite data set; sampling a point uniformly gives
an unbiased gradient of F). ``L <= lam + lambda_max(X^T X / N)/2`` because the
softmax Hessian ``diag(p) - p p^T`` has norm <= 1/2 and the Hessian of the CE
term is ``E[(diag(p) - p p^T) (x) x x^T]``; ``mu >= lam`` (strong convexity).
sigma^2(W) and delta(W) sigma^2(W) are *exact* averages over the data set at a
given W; since Assumption 1 asks for one constant, `estimate_constants` takes
their maximum over iterates sampled from simulated SGD runs (Monte Carlo over
the visited region, not a worst case over all W; stated wherever used).

>>> q = QuadraticLSRProblem(L=1.0, mu=0.2, sigma2=1.0, delta=0.1, F0=2.0)
>>> round(q.lemma1_exact(0.5), 6), round(q.lemma1_exact(0.0), 6)  # Lemma 1's bound: 0.55, 1.0
(0.275, 1.0)
>>> round(q.exact_average([(1.0, 0.0, 10)]), 6) > 0
True
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ufm.core import validate
from ufm.core.cache import cached


# ----------------------------------------------------------------------------------
# The moment recursion of SGD on one coordinate, derived in SymPy.

def _derive_moments():
    w, xi, ze = sp.symbols("w xi zeta", real=True)
    a, eta, th, b, sx, sz, rho, m, s = sp.symbols("a eta theta b s_xi s_zeta rho m s", real=True)
    w_next = w - eta * (a * w + (1 - th) * xi + th * (b + ze))
    # moments: w independent of this step's noise; xi, zeta zero-mean with covariance given
    Ew = {0: 1, 1: m, 2: s}
    En = {(0, 0): 1, (1, 0): 0, (0, 1): 0, (2, 0): sx**2, (0, 2): sz**2, (1, 1): rho * sx * sz}

    def expect(expr):
        poly = sp.Poly(sp.expand(expr), w, xi, ze)
        return sp.expand(sum(coef * Ew[i] * En[(j, k)] for (i, j, k), coef in poly.terms()))

    m_next, s_next = expect(w_next), expect(w_next**2)
    # rows of the transition on (m, s, 1, acc), acc += a^2 s (the coordinate's E (dF/dw)^2)
    row_m = [m_next.coeff(m), m_next.coeff(s), m_next.subs({m: 0, s: 0}), 0]
    row_s = [s_next.coeff(m), s_next.coeff(s), s_next.subs({m: 0, s: 0}), 0]
    return {"m_next": m_next, "s_next": s_next, "rows": [row_m, row_s],
            "args": (a, eta, th, b, sx, sz, rho)}


@functools.lru_cache(maxsize=1)
def moment_recursion():
    """SymPy: E[w'] and E[w'^2] of one coordinate as functions of (m, s) and the noise."""
    return cached(_derive_moments, __name__, "lsr_moments")


@functools.lru_cache(maxsize=1)
def _moment_rows_fn():
    r = moment_recursion()
    return sp.lambdify(r["args"], r["rows"], "numpy")


def _mpow(M: np.ndarray, n: int) -> np.ndarray:
    """Batched matrix power (..., k, k)^n by repeated squaring (n may be 0)."""
    out = np.broadcast_to(np.eye(M.shape[-1]), M.shape).copy()
    base = M.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # an unstable step size may overflow: inf
        while n > 0:
            if n & 1:
                out = out @ base
            n >>= 1
            if n:
                base = base @ base
    return out


# ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class QuadraticLSRProblem:
    """Quadratic with exact L, mu, sigma^2, delta and F(w0) = F0 (see module docstring).

    beta: fraction of delta sigma^2 that is bias (0: unbiased smoothing oracle).
    rho: correlation of the two oracles' noises, in [-1, 1].
    F_star: optimal value (the theorems silently assume F* >= 0).
    """

    L: float
    mu: float
    sigma2: float
    delta: float
    F0: float
    d: int = 4
    beta: float = 0.5
    rho: float = 0.0
    F_star: float = 0.0

    def __post_init__(self):
        L = validate.real("L", self.L, 0.0, lo_open=True)
        mu = validate.real("mu", self.mu, 0.0, L, lo_open=True, note="mu <= L")
        validate.real("sigma2", self.sigma2, 0.0, lo_open=True)
        validate.real("delta", self.delta, 0.0)
        validate.real("beta", self.beta, 0.0, 1.0)
        validate.real("rho", self.rho, -1.0, 1.0)
        F_star = validate.real("F_star", self.F_star)
        validate.real("F0", self.F0, F_star, lo_open=True, note="F0 > F_star")
        d_allowed = "integers >= 2 (d = 1 only if mu == L)"
        if isinstance(self.d, bool) or not isinstance(self.d, (int, np.integer)):
            raise validate.invalid("d", self.d, "is not an integer", d_allowed)
        if self.d < 1 or (self.d == 1 and mu != L):
            raise validate.out_of_range("d", self.d, d_allowed)

    # --- constants -----------------------------------------------------------
    @property
    def a(self) -> np.ndarray:
        return np.linspace(self.mu, self.L, self.d) if self.d > 1 else np.array([self.L])

    @property
    def w0(self) -> np.ndarray:
        # along (1, ..., 1), scaled so that F(w0) = F0
        u = np.ones(self.d)
        return u * math.sqrt(2 * (self.F0 - self.F_star) / float(np.sum(self.a)))

    @property
    def s_xi(self) -> np.ndarray:
        return np.full(self.d, math.sqrt(self.sigma2 / self.d))

    @property
    def s_zeta(self) -> np.ndarray:
        return np.full(self.d, math.sqrt((1 - self.beta) * self.delta * self.sigma2 / self.d))

    @property
    def bias(self) -> np.ndarray:
        return np.full(self.d, math.sqrt(self.beta * self.delta * self.sigma2 / self.d))

    # --- JAX side (one seed) -------------------------------------------------
    def arrays(self) -> dict:
        # jax.device_put, not jnp.asarray: the same arrays without an eager program per shape
        return {k: jax.device_put(getattr(self, k)) for k in ("a", "s_xi", "s_zeta", "bias")} | {
            "rho": jax.device_put(self.rho), "F_star": jax.device_put(self.F_star)}

    @staticmethod
    def oracle(arr: dict, w, key, theta):
        """(1 - theta) (grad F + xi) + theta (grad F + b + zeta): linear in the label."""
        # Rademacher signs: zero mean, unit variance, independent (only second moments matter
        # to the theorems and the moment recursion), and cheaper than Gaussians on a CPU
        bits = jax.random.bits(key, (2,) + w.shape, dtype=jnp.uint8)
        z1, z2 = (2.0 * (bits & 1).astype(w.dtype) - 1.0)
        xi = arr["s_xi"] * z1
        ze = arr["s_zeta"] * (arr["rho"] * z1 + jnp.sqrt(1 - arr["rho"] ** 2) * z2)
        g = arr["a"] * w
        return g + (1 - theta) * xi + theta * (arr["bias"] + ze)

    @staticmethod
    def grad_norm_sq(arr: dict, w):
        return jnp.sum((arr["a"] * w) ** 2)

    @staticmethod
    def value(arr: dict, w):
        return 0.5 * jnp.sum(arr["a"] * w**2) + arr["F_star"]

    # --- exact expectations --------------------------------------------------
    def lemma1_exact(self, theta: float) -> float:
        """E||grad l(y_LS) - grad F||^2 = theta^2 ||b||^2 + sum of the noise variances."""
        validate.real("theta", theta, 0.0, 1.0)
        var = ((1 - theta) ** 2 * self.s_xi**2 + theta**2 * self.s_zeta**2
               + 2 * theta * (1 - theta) * self.rho * self.s_xi * self.s_zeta)
        return float(theta**2 * np.sum(self.bias**2) + np.sum(var))

    def transition(self, eta: float, theta: float) -> np.ndarray:
        """(d, 4, 4) exact transition of (E w_i, E w_i^2, 1, sum_t a_i^2 E w_i^2) per step."""
        rows = _moment_rows_fn()
        out = np.zeros((self.d, 4, 4))
        for i, (ai, bi, sx, sz) in enumerate(zip(self.a, self.bias, self.s_xi, self.s_zeta)):
            (r_m, r_s) = rows(ai, eta, theta, bi, sx, sz, self.rho)
            out[i, 0] = np.array(r_m, dtype=float)
            out[i, 1] = np.array(r_s, dtype=float)
            out[i, 2] = [0, 0, 1, 0]
            out[i, 3] = [0, ai**2, 0, 1]
        return out

    def exact_state(self, stages) -> np.ndarray:
        """State (d, 4) after the stages [(eta, theta, T), ...]; acc restarts with each stage."""
        x = np.stack([self.w0, self.w0**2, np.ones(self.d), np.zeros(self.d)], axis=1)
        for eta, theta, T in stages:
            x = x.copy()
            x[:, 3] = 0.0
            x = np.einsum("dij,dj->di", _mpow(self.transition(eta, theta), int(T)), x)
        return x

    def exact_average(self, stages) -> float:
        """E_R ||grad F(w_R)||^2, R uniform over the last stage's iterates (exact)."""
        x = self.exact_state(stages)
        return float(np.sum(x[:, 3]) / stages[-1][2])

    def exact_values(self, stages) -> dict:
        x = self.exact_state(stages)
        return {"E_w_sq": float(np.sum(x[:, 1])),
                "E_F_minus_Fstar": float(0.5 * np.sum(self.a * x[:, 1])),
                "E_grad_sq": float(np.sum(self.a**2 * x[:, 1]))}

    def min_samples(self, eps2: float, prefix, eta: float, theta: float, T_max: int = 10**12) -> float:
        """Smallest T with E_R||grad F||^2 <= eps2, R uniform over a final stage (eta, theta, T)
        run after the `prefix` stages; inf if not reached by T_max. Exponential search then
        bisection (assumes one crossing; the running average of a geometric-plus-constant
        sequence crosses a level at most once from above in our settings)."""
        x0 = self.exact_state(prefix) if prefix else np.stack(
            [self.w0, self.w0**2, np.ones(self.d), np.zeros(self.d)], axis=1)
        x0 = x0.copy()
        x0[:, 3] = 0.0
        M = self.transition(eta, theta)

        def avg(T):
            x = np.einsum("dij,dj->di", _mpow(M, T), x0)
            return float(np.sum(x[:, 3]) / T)

        hi = 1
        while not avg(hi) <= eps2:
            hi *= 2
            if hi > T_max:
                return math.inf
        lo = hi // 2
        if lo == 0:
            return 1.0
        while hi - lo > 1:  # avg(lo) > eps2 >= avg(hi)
            mid = (lo + hi) // 2
            if avg(mid) <= eps2:
                hi = mid
            else:
                lo = mid
        return float(hi)


# ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)
class LogRegProblem:
    """L2-regularised multinomial logistic regression on a finite Gaussian-mixture sample."""

    X: np.ndarray  # (N, d)
    Y: np.ndarray  # (N,) int labels in [0, K)
    K: int
    lam: float

    @classmethod
    def generate(cls, d: int = 20, K: int = 10, N: int = 1000, lam: float = 1e-2,
                 separation: float = 2.0, seed: int = 0) -> "LogRegProblem":
        """Class means ~ N(0, separation^2 I/d), points = mean + N(0, I/d) (so ||x||^2 ~ 1)."""
        d, K, N = (validate.integer(name, v, minimum=lo, integral_floats=False)
                   for name, v, lo in (("d", d, 1), ("K", K, 2), ("N", N, 1)))
        validate.real("lam", lam, 0.0, lo_open=True, note="strong convexity gives PL")
        separation = validate.real("separation", separation, 0.0)
        rng = np.random.default_rng(seed)
        means = rng.normal(0, separation / math.sqrt(d), (K, d))
        Y = rng.integers(0, K, N)
        X = means[Y] + rng.normal(0, 1 / math.sqrt(d), (N, d))
        return cls(X=X, Y=Y, K=K, lam=float(lam))

    @property
    def N(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def L_bound(self) -> float:
        """lam + lambda_max(X^T X/N)/2 (softmax Hessian norm <= 1/2)."""
        return float(self.lam + 0.5 * np.linalg.eigvalsh(self.X.T @ self.X / self.N)[-1])

    @property
    def mu_bound(self) -> float:
        return self.lam

    def uniform_yhat(self) -> np.ndarray:
        return np.full((self.N, self.K), 1.0 / self.K)

    def teacher_yhat(self, W_teacher) -> np.ndarray:
        """LSR-pre: a teacher's predicted distribution softmax(W_teacher x) per sample."""
        return np.asarray(_softmax_scores(self.X, W_teacher))

    def arrays(self, yhat=None) -> dict:
        yhat = self.uniform_yhat() if yhat is None else np.asarray(yhat)
        Y = np.asarray(self.Y)
        # one-hot as jax.nn.one_hot builds it (Y == k; all zeros for a label outside 0..K-1),
        # in NumPy and moved with jax.device_put: no eager programs
        onehot = (Y[..., None] == np.arange(self.K)).astype(jnp.result_type(float))
        return {"X": jax.device_put(self.X), "Yoh": jax.device_put(onehot),
                "Yhat": jax.device_put(yhat), "lam": jax.device_put(self.lam)}

    # --- JAX side --------------------------------------------------------------
    @staticmethod
    def sample_grads(arr: dict, W, theta):
        """Per-sample gradients (N, K, d) of CE(W x_i, y_i^LS) + lam/2 ||W||^2."""
        P = jax.nn.softmax(arr["X"] @ W.T, axis=1)
        lab = (1 - theta) * arr["Yoh"] + theta * arr["Yhat"]
        return (P - lab)[:, :, None] * arr["X"][:, None, :] + arr["lam"] * W

    @staticmethod
    def full_grad(arr: dict, W):
        P = jax.nn.softmax(arr["X"] @ W.T, axis=1)
        return (P - arr["Yoh"]).T @ arr["X"] / arr["X"].shape[0] + arr["lam"] * W

    @staticmethod
    def value(arr: dict, W):
        Z = arr["X"] @ W.T
        ce = -jnp.sum(arr["Yoh"] * jax.nn.log_softmax(Z, axis=1), axis=1)
        return jnp.mean(ce) + 0.5 * arr["lam"] * jnp.sum(W**2)

    @staticmethod
    def grad_norm_sq(arr: dict, W):
        return jnp.sum(LogRegProblem.full_grad(arr, W) ** 2)

    @staticmethod
    def oracle(arr: dict, W, key, theta):
        i = jax.random.randint(key, (), 0, arr["X"].shape[0])
        x = arr["X"][i]
        p = jax.nn.softmax(W @ x)
        lab = (1 - theta) * arr["Yoh"][i] + theta * arr["Yhat"][i]
        return jnp.outer(p - lab, x) + arr["lam"] * W

    @staticmethod
    def noise_at(arr: dict, W, theta):
        """Exact E_i ||g_i(theta) - grad F||^2 over the data set, at W.

        g_i = (p_i - l_i) x_i^T + lam W, so ||g_i - grad F||^2 = ||r_i x_i^T - E_j[...]||^2 with
        r_i = p_i - l_i, and E_i||u_i - v||^2 = E_i||u_i - u_bar||^2 + ||u_bar - v||^2 with
        ||r_i x_i^T||^2 = ||r_i||^2 ||x_i||^2: O(N K d) instead of forming (N, K, d).
        """
        X = arr["X"]
        P = jax.nn.softmax(X @ W.T, axis=1)
        Rl = P - ((1 - theta) * arr["Yoh"] + theta * arr["Yhat"])
        Ry = P - arr["Yoh"]
        N = X.shape[0]
        ubar = Rl.T @ X / N  # mean of the CE parts with these labels
        v = Ry.T @ X / N  # grad F minus the regularizer (one-hot labels)
        spread = jnp.mean(jnp.sum(Rl**2, axis=1) * jnp.sum(X**2, axis=1)) - jnp.sum(ubar**2)
        return spread + jnp.sum((ubar - v) ** 2)


@jax.jit
def _softmax_scores(X, W):
    """softmax(X W^T) over the classes, one compiled program."""
    return jax.nn.softmax(X @ W.T, axis=1)


@jax.jit
def _noise_batch(arr, Ws):
    f = jax.vmap(lambda W: jnp.stack([LogRegProblem.noise_at(arr, W, 0.0), LogRegProblem.noise_at(arr, W, 1.0)]))
    out = f(Ws)
    return out[:, 0], out[:, 1]


def estimate_constants(problem: LogRegProblem, yhat, W_samples) -> dict:
    """sigma^2 = max_W E||g(y) - grad F||^2 and delta = max_W E||g(yhat) - grad F||^2 / sigma^2
    over the sampled iterates W_samples (S, K, d): exact data-set averages at each W, maximum
    over the Monte-Carlo sample of visited iterates."""
    arr = problem.arrays(yhat)
    s2, ds2 = (np.asarray(v) for v in _noise_batch(arr, W_samples))  # max/min on the host: exact
    sigma2 = float(np.max(s2))
    return {"sigma2": sigma2, "delta": float(np.max(ds2)) / sigma2,
            "sigma2_range": (float(np.min(s2)), sigma2),
            "delta_sigma2_range": (float(np.min(ds2)), float(np.max(ds2))),
            "n_iterates": int(W_samples.shape[0]), "L": problem.L_bound, "mu": problem.mu_bound}
