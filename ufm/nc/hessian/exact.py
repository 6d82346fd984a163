"""Theorem 4.2 checked exactly: `sympy.hessian` of the objective at the ETF point.

`ufm.nc.hessian.derivation` derives the block and joint spectra from the
structure of the minimizer. This module does not use that structure: it
writes the UFM objective itself as a SymPy expression in the flattened
variables (log-sum-exp cross-entropy with smoothed labels plus the three
weight decays), takes `sympy.hessian` with respect to the W block, the H
block or all of (W, H, b), substitutes the closed-form minimizer of
Theorem 4.1 built explicitly as a simplex ETF, and compares the exact
characteristic polynomial with prod (x - lambda)^m over the derived spectrum
(`hessian_derivation().results`, evaluated at the same exact parameters).

Exact parameters. With q = 2 and r = e^rho = q^K, every softmax value at the
point is rational (exp(m rho / K) = q^m). Theorem 4.1's p_nt = alpha/K + c
fixes alpha + K c = K/(r + K - 1); we take c = p_nt/2, alpha = K p_nt/2 and
lambda_W = c/s, lambda_H = c s/n with s = 4, so n lambda_H/lambda_W = s^2 =
2^4 and c = sqrt(n lambda_W lambda_H) are rational and the derivation's rho
evaluates to log(r) exactly; lambda_b = 1/7.

The ETF point. Rows u_k of a K x d matrix U with U U^T = g P (P = I - J/K):
e_k - 1/K embedded in the first K coordinates when d >= K (g = 1), and an
explicit (K-1)-dimensional simplex when d = K-1 (K = 3 needs sqrt(3), K = 5
sqrt(5); kept exact). W = a U, h_{k,i} = beta u_k, b = 0, with
a^2 g (K-1)/K = ||w||^2 and beta^2 g (K-1)/K = ||h||^2 taken from the
Theorem 4.1 derivation; `point` asserts that the logits are rho P and the
gradient of the objective vanishes there, exactly.

Exactness. After substitution the entries are polynomials in sqrt(log 2)
(log r = K log 2; coefficients in Q, Q(sqrt 3) or Q(sqrt 5)); we write sigma
for sqrt(log 2) and compare the characteristic polynomials as polynomials in
(x, sigma). Equal polynomials are equal at sigma = sqrt(log 2); different ones
differ there too, because log 2 is transcendental (Lindemann), so the
comparison is exactly the comparison at the real point.

>>> case = exact_case(2, 1, 1)
>>> compare(case, "W", "loss").equal
True
"""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from ufm.core.cache import cached
from ufm.nc.hessian.derivation import hessian_derivation
from ufm.nc.minimizer.derivation import minimizer_derivation

Q_BASE = 2  # r = e^rho = Q_BASE**K
S_RATIO = 4  # s = sqrt(n lam_H / lam_W)
LAM_B = sp.Rational(1, 7)

X = sp.Symbol("x")
SIGMA = sp.Symbol("sigma", positive=True)  # sqrt(log Q_BASE); log r = K sigma^2

# (K, d, n) of the issue: K = 2..5, d in {K-1, K, K+1}, n in {1, 2}
CASES = [(K, d, n) for K in range(2, 6) for d in (K - 1, K, K + 1) for n in (1, 2)]


class ExactCase(NamedTuple):
    """Sizes and exact (rational) hyper-parameters of one comparison."""

    K: int
    d: int
    n: int
    r: sp.Integer  # e^rho
    alpha: sp.Rational
    lam_W: sp.Rational
    lam_H: sp.Rational
    lam_b: sp.Rational

    @property
    def N(self) -> int:
        return self.n * self.K

    @property
    def rho(self) -> sp.Expr:
        return sp.log(self.r)

    def subs(self) -> dict:
        """The derivation's symbols -> this case's exact values."""
        s = hessian_derivation().symbols
        return {s["K"]: self.K, s["d"]: self.d, s["n"]: self.n, s["alpha"]: self.alpha,
                s["lambda_W"]: self.lam_W, s["lambda_H"]: self.lam_H, s["lambda_b"]: self.lam_b}


def exact_case(K: int, d: int, n: int) -> ExactCase:
    """Rational parameters at which Theorem 4.1's rho is log(2^K) (see module doc)."""
    if K < 2 or d < K - 1 or n < 1:
        raise ValueError(f"(K, d, n) = ({K}, {d}, {n}); allowed: K >= 2, d >= K-1, n >= 1")
    r = sp.Integer(Q_BASE) ** K
    pnt = 1 / (r + K - 1)
    c = pnt / 2
    alpha = K * pnt / 2
    s = sp.Integer(S_RATIO)
    return ExactCase(K, d, n, r, alpha, c / s, c * s / n, LAM_B)


def simplex_rows(K: int, d: int) -> tuple[sp.Matrix, sp.Rational]:
    """(U, g): K x d rows u_k with U U^T = g (I - J/K), exact."""
    if d >= K:
        U = sp.zeros(K, d)
        for k in range(K):
            for j in range(K):
                U[k, j] = sp.Integer(int(j == k)) - sp.Rational(1, K)
        return U, sp.Integer(1)
    if d != K - 1:
        raise ValueError(f"d={d} < K-1={K - 1}: no simplex ETF fits")
    h = sp.Rational(1, 2)
    tables = {
        2: ([[1], [-1]], 2),
        3: ([[1, 0], [-h, sp.sqrt(3) / 2], [-h, -sp.sqrt(3) / 2]], sp.Rational(3, 2)),
        4: ([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], 4),
        5: ([[1, 1, 1, -1 / sp.sqrt(5)], [1, -1, -1, -1 / sp.sqrt(5)], [-1, 1, -1, -1 / sp.sqrt(5)],
             [-1, -1, 1, -1 / sp.sqrt(5)], [0, 0, 0, 4 / sp.sqrt(5)]], 4),
    }
    if K in tables:
        rows, g = tables[K]
        return sp.Matrix(rows), sp.sympify(g)
    # general K: coordinates of e_k - 1/K in an orthonormal basis of 1-perp (Helmert)
    basis = [sp.Matrix([1] * j + [-j] + [0] * (K - j - 1)) / sp.sqrt(j * (j + 1)) for j in range(1, K)]
    U = sp.Matrix(K, K - 1, lambda k, j: basis[j][k])
    return U, sp.Integer(1)


class Variables(NamedTuple):
    W: sp.Matrix  # K x d
    H: sp.Matrix  # d x N, sample i has class i // n
    b: sp.Matrix  # K x 1

    def flat(self, block: str) -> list:
        parts = {"W": list(self.W), "H": [self.H[j, i] for i in range(self.H.cols) for j in range(self.H.rows)],
                 "b": list(self.b)}
        return [v for name in block for v in parts[name]]


def variables(K: int, d: int, n: int) -> Variables:
    N = n * K
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"W_{k}_{j}", real=True))
    H = sp.Matrix(d, N, lambda j, i: sp.Symbol(f"H_{j}_{i}", real=True))
    b = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b_{k}", real=True))
    return Variables(W, H, b)


def objective(case: ExactCase, V: Variables) -> tuple[sp.Expr, sp.Expr]:
    """(data term, regularizer) of the UFM objective, eq. (9)-(10), as SymPy
    expressions: (1/N) sum_i [log sum_j exp(z_ij) - y_k . z_i] with
    z_i = W h_i + b, and lam_W/2 ||W||^2 + lam_H/2 ||H||^2 + lam_b/2 ||b||^2."""
    K, N, n, alpha = case.K, case.N, case.n, case.alpha
    data = sp.Integer(0)
    for i in range(N):
        k = i // n
        z = V.W * V.H[:, i] + V.b
        y = [(1 - alpha) * int(j == k) + alpha / K for j in range(K)]
        data += sp.log(sum(sp.exp(z[j]) for j in range(K))) - sum(y[j] * z[j] for j in range(K))
    data = data / N
    reg = (case.lam_W * sum(w**2 for w in V.W) + case.lam_H * sum(h**2 for h in V.H)
           + case.lam_b * sum(c**2 for c in V.b)) / 2
    return data, reg


def _minimizer_values(case: ExactCase) -> dict:
    """rho, ||w||^2, ||h||^2 from the Theorem 4.1 derivation, at `case` (exact)."""
    M = minimizer_derivation()
    s = M.symbols
    sub = {s["K"]: case.K, s["n"]: case.n, s["alpha"]: case.alpha,
           s["lambda_W"]: case.lam_W, s["lambda_H"]: case.lam_H}
    out = {k: sp.simplify(M.results[k].subs(sub)) for k in ("rho", "w_norm_sq", "h_norm_sq")}
    if sp.simplify(out["rho"] - case.rho) != 0:  # pragma: no cover - parameter choice bug
        raise ArithmeticError(f"rho = {out['rho']} at {case}, expected log({case.r})")
    return out


def point(case: ExactCase, V: Variables) -> dict:
    """The ETF minimizer {variable: exact value}: W = a U, h_{k,i} = beta u_k, b = 0."""
    K, d, n = case.K, case.d, case.n
    U, g = simplex_rows(K, d)
    P = sp.eye(K) - sp.ones(K, K) / K
    if sp.simplify(U * U.T - g * P) != sp.zeros(K, K):  # pragma: no cover
        raise ArithmeticError(f"simplex rows for K={K}, d={d} are not an ETF")
    mv = _minimizer_values(case)
    kap = sp.Rational(K - 1, K) * g  # ||u_k||^2
    a = sp.sqrt(mv["w_norm_sq"] / kap)
    beta = sp.sqrt(mv["h_norm_sq"] / kap)
    if sp.simplify(a * beta * g - case.rho) != 0:  # pragma: no cover
        raise ArithmeticError("logits of the ETF point are not rho P")
    vals = {}
    for k in range(K):
        for j in range(d):
            vals[V.W[k, j]] = a * U[k, j]
    for i in range(case.N):
        for j in range(d):
            vals[V.H[j, i]] = beta * U[i // n, j]
    for k in range(K):
        vals[V.b[k]] = sp.Integer(0)
    return vals


def _at(expr: sp.Expr, vals: dict, case: ExactCase) -> sp.Expr:
    """Substitute the point; exp(m rho/K) evaluates to 2^m; then log 2 -> sigma^2
    (SymPy may write log(2^K) as K log 2 or not: logs are expanded first)."""
    e = expr.xreplace(vals)
    e = sp.expand_log(e, force=True).subs(sp.log(Q_BASE), SIGMA**2)
    if e.has(sp.log, sp.exp):  # pragma: no cover - the point was not substituted exactly
        raise ArithmeticError(f"non-polynomial entry {e}")
    return sp.expand(e)


def gradient_at_point(case: ExactCase) -> list:
    """The exact gradient of the full objective at the ETF point (all zeros)."""
    V = variables(case.K, case.d, case.n)
    data, reg = objective(case, V)
    F = data + reg
    vals = point(case, V)
    return [sp.simplify(_at(sp.diff(F, v), vals, case)) for v in V.flat("WHb")]


def hessian_at_point(case: ExactCase, block: str, reading: str) -> sp.Matrix:
    """`sympy.hessian` of the objective (reading "loss": data term, "full":
    with the weight decays) w.r.t. `block` ("W", "H" or "WHb"), at the point."""
    V = variables(case.K, case.d, case.n)
    data, reg = objective(case, V)
    xs = V.flat(block)
    Hs = sp.hessian(data, xs)
    if reading == "full":
        Hs = Hs + sp.hessian(reg, xs)
    vals = point(case, V)
    return Hs.applyfunc(lambda e: _at(e, vals, case))


def _poly(expr: sp.Expr) -> sp.Poly:
    return sp.Poly(sp.expand(expr), X, SIGMA, extension=True)


def hessian_charpoly(case: ExactCase, block: str, reading: str) -> sp.Expr:
    """det(x I - Hessian) expanded, in x and sigma (exact).

    Square roots of integers in the entries (sqrt 2, sqrt 3, sqrt 5 from the
    ETF coordinates and norms) are replaced by fresh symbols t_p, so the matrix
    lives in QQ[sigma, t_p, ...] where `DomainMatrix.charpoly` is fast
    (division free, with whatever block-triangular structure it detects);
    t_p -> sqrt(p) afterwards is a ring homomorphism, so it commutes with the
    division-free computation."""
    M = hessian_at_point(case, block, reading)
    roots = sorted({a for e in M for a in e.atoms(sp.Pow)
                    if a.exp == sp.Rational(1, 2) and a.base.is_Integer}, key=str)
    ts = {a: sp.Symbol(f"t_{a.base}") for a in roots}
    M = M.applyfunc(lambda e: sp.expand(e.xreplace(ts)))
    dM = DomainMatrix.from_Matrix(M)
    if dM.domain.is_EX:  # pragma: no cover - an entry is not a polynomial
        raise ArithmeticError(f"Hessian entries outside a polynomial ring: {M}")
    coeffs = dM.charpoly()
    dom = dM.domain
    n = M.rows
    cp = sum(dom.to_sympy(c) * X ** (n - i) for i, c in enumerate(coeffs))
    return sp.expand(cp.xreplace({t: a for a, t in ts.items()}))


def cached_charpoly(case: ExactCase, block: str, reading: str) -> tuple[sp.Expr, float]:
    """(hessian_charpoly, seconds it took when computed), on disk via `cached`."""
    def build():
        t0 = time.perf_counter()
        cp = hessian_charpoly(case, block, reading)
        return cp, time.perf_counter() - t0
    name = f"hessian_exact-{block}-{reading}-K{case.K}d{case.d}n{case.n}"
    return cached(build, __name__, name)


def _merge(pairs) -> list:
    out: dict = {}
    for v, m in pairs:
        m = int(m)
        if m < 0:  # pragma: no cover
            raise ArithmeticError(f"negative multiplicity {m}")
        if m:
            out[v] = out.get(v, 0) + m
    return list(out.items())


def derived_spectrum(case: ExactCase, block: str, reading: str) -> list:
    """[(eigenvalue, multiplicity)] of the derivation at `case`, exact, as
    expressions in sigma (block "W"/"H": `spectrum_<block>_<reading>`)."""
    R = hessian_derivation().results
    sub = case.subs()
    fix = lambda e: _at(sp.sympify(e).subs(sub), {}, case)  # noqa: E731
    return _merge((fix(v), sp.sympify(m).subs(sub)) for v, m in R[f"spectrum_{block}_{reading}"])


def derived_joint_charpoly(case: ExactCase) -> sp.Expr:
    """prod (x - lambda)^m over the derivation's joint spectrum: the closed-form
    pieces (`joint_partial`, `joint_in_span`) times det(x - M4)^(K-1) for the
    standard block (its (b2, b3) corner for K = 2)."""
    R = hessian_derivation().results
    sub = case.subs()
    fix = lambda e: _at(sp.sympify(e).subs(sub), {}, case)  # noqa: E731
    pairs = [(fix(v), sp.sympify(m).subs(sub)) for v, m in list(R["joint_partial"]) + list(R["joint_in_span"])]
    poly = expected_charpoly(_merge(pairs))
    M4 = R["standard_block"].subs(sub)
    if case.K == 2:
        M4 = M4[2:, 2:]
    M4 = M4.applyfunc(fix)
    block = sp.expand((X * sp.eye(M4.rows) - M4).det(method="berkowitz"))
    return sp.expand(poly * block ** (case.K - 1))


def expected_charpoly(spec: list) -> sp.Expr:
    """prod (x - lambda)^m. Eigenvalues of equal multiplicity are multiplied
    out first, so conjugate pairs (t -+ sqrt(D))/2 give polynomials."""
    by_m: dict = {}
    for v, m in spec:
        by_m.setdefault(int(m), []).append(v)
    out = sp.Poly(1, X, SIGMA, extension=True)
    for m, vs in by_m.items():
        out = out * _poly(sp.prod([X - v for v in vs])) ** m
    return out.as_expr()


class Comparison(NamedTuple):
    case: ExactCase
    block: str  # "W", "H" or "WHb" (joint)
    reading: str
    size: int
    equal: bool
    seconds: float  # time of the Hessian + characteristic polynomial when first computed


def compare(case: ExactCase, block: str, reading: str, spec: list | None = None) -> Comparison:
    """Compare det(x - Hessian) with the derived polynomial. `spec` overrides the
    derived [(eigenvalue, multiplicity)] (fault injection; blocks W, H only)."""
    if block not in ("W", "H", "WHb"):
        raise ValueError(f"block={block!r}; allowed: 'W', 'H', 'WHb'")
    if reading not in ("loss", "full"):
        raise ValueError(f"reading={reading!r}; allowed: 'loss', 'full'")
    if block == "WHb" and (reading != "full" or spec is not None):
        raise ValueError("the joint spectrum is derived for the full objective only (and has no spec override)")
    cp, secs = cached_charpoly(case, block, reading)
    if block == "WHb":
        expected = derived_joint_charpoly(case)
    else:
        expected = expected_charpoly(derived_spectrum(case, block, reading) if spec is None else spec)
    equal = _poly(cp) == _poly(expected)
    size = sp.Poly(cp, X).degree()
    return Comparison(case, block, reading, size, bool(equal), secs)


@functools.lru_cache(maxsize=None)
def size_of(K: int, d: int, n: int, block: str) -> int:
    N = n * K
    return {"W": K * d, "H": d * N, "WHb": K * d + d * N + K}[block]
