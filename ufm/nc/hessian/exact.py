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
(log r = K log 2) and square roots of integers (sqrt 2, sqrt 3, sqrt 5 from
the ETF coordinates and the norms); we write sigma for sqrt(log 2). A
diagonal similarity D M D^{-1} (`rational_form`: D scales each variable by
sigma^{g_i} prod_p sqrt(p)^{g_i,p}, the grading found on the matrix itself and
checked entry by entry) leaves the characteristic polynomial unchanged and
makes the matrix A_0 + tau A_1 over QQ, tau = sigma^2. Its characteristic
polynomial has degree at most rank(A_1) in tau, so its values at rank(A_1) + 1
rational points tau (characteristic polynomials of rational matrices, fast)
determine it: Newton interpolation gives it exactly as a polynomial in
(x, sigma), compared with the derived one as polynomials. Equal polynomials
are equal at sigma = sqrt(log 2); different ones differ there too, because
log 2 is transcendental (Lindemann), so the comparison is exactly the
comparison at the real point.

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


def objective_terms(case: ExactCase, V: Variables) -> tuple[list, list]:
    """The summands of the UFM objective, eq. (9)-(10): the N data terms
    (1/N)[log sum_j exp(z_ij) - y_k . z_i] with z_i = W h_i + b, and the
    weight-decay terms lam/2 v^2, one per variable."""
    K, N, n, alpha = case.K, case.N, case.n, case.alpha
    data = []
    for i in range(N):
        k = i // n
        z = V.W * V.H[:, i] + V.b
        y = [(1 - alpha) * int(j == k) + alpha / K for j in range(K)]
        data.append((sp.log(sum(sp.exp(z[j]) for j in range(K))) - sum(y[j] * z[j] for j in range(K))) / N)
    reg = ([case.lam_W * w**2 / 2 for w in V.W] + [case.lam_H * h**2 / 2 for h in V.H]
           + [case.lam_b * c**2 / 2 for c in V.b])
    return data, reg


def objective(case: ExactCase, V: Variables) -> tuple[sp.Expr, sp.Expr]:
    """(data term, regularizer) of the UFM objective, eq. (9)-(10), as SymPy
    expressions: (1/N) sum_i [log sum_j exp(z_ij) - y_k . z_i] and
    lam_W/2 ||W||^2 + lam_H/2 ||H||^2 + lam_b/2 ||b||^2."""
    data, reg = objective_terms(case, V)
    return sp.Add(*data), sp.Add(*reg)


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
    with the weight decays) w.r.t. `block` ("W", "H" or "WHb"), at the point.

    Taken summand by summand (the Hessian of a sum is the sum of the
    Hessians): each sample's term only involves W, its own h_i and b, and
    differentiating it in those variables alone is several times faster than
    differentiating the whole sum in all of them (a term's derivatives in a
    variable it does not contain vanish; `free_symbols` decides which)."""
    V = variables(case.K, case.d, case.n)
    data, reg = objective_terms(case, V)
    xs = V.flat(block)
    index = {v: i for i, v in enumerate(xs)}
    vals = point(case, V)
    M = sp.zeros(len(xs), len(xs))
    for term in data + (reg if reading == "full" else []):
        local = [v for v in xs if v in term.free_symbols]
        if not local:
            continue
        Hl = sp.hessian(term, local)
        for a, va in enumerate(local):
            for b, vb in enumerate(local):
                if Hl[a, b] != 0:
                    M[index[va], index[vb]] += _at(Hl[a, b], vals, case)
    return M.applyfunc(sp.expand)


def _poly(expr: sp.Expr) -> sp.Poly:
    return sp.Poly(sp.expand(expr), X, SIGMA, extension=True)


TAU = sp.Symbol("tau")  # sigma^2 = log 2


def _parities(M: sp.Matrix, gens: list) -> dict:
    """{(i, j): exponent parities of the generators} for the non-zero entries;
    every monomial of an entry must have the same parities."""
    out = {}
    for i in range(M.rows):
        for j in range(M.cols):
            if M[i, j] == 0:
                continue
            pars = {tuple(e % 2 for e in m) for m in sp.Poly(M[i, j], *gens).monoms()}
            if len(pars) != 1:
                raise ArithmeticError(f"entry ({i}, {j}) mixes parities of {gens}: {M[i, j]}")
            out[i, j] = pars.pop()
    return out


def _grading(M: sp.Matrix, gens: list) -> list:
    """Per variable, exponents g_i in {0, 1} (one per generator) with every
    entry M_ij homogeneous of parity g_i + g_j (mod 2), found along the
    non-zero pattern and then checked on every entry."""
    par = _parities(M, gens)
    zero = (0,) * len(gens)
    g: list = [None] * M.rows
    for root in range(M.rows):
        if g[root] is not None:
            continue
        g[root], todo = zero, [root]
        while todo:
            i = todo.pop()
            for j in range(M.cols):
                if (i, j) in par and g[j] is None:
                    g[j] = tuple((p - q) % 2 for p, q in zip(par[i, j], g[i]))
                    todo.append(j)
    for (i, j), p in par.items():
        if p != tuple((a + b) % 2 for a, b in zip(g[i], g[j])):
            raise ArithmeticError(f"no grading: entry ({i}, {j}) has parities {p}")
    return g


def rational_form(M: sp.Matrix) -> list:
    """Matrices [A_0, A_1, ...] over QQ with D M D^{-1} = sum_k tau^k A_k
    (tau = sigma^2) for a diagonal D: the same characteristic polynomial.

    The entries of M are polynomials in sigma and square roots sqrt(p) (from
    the ETF coordinates and the norms). With the grading g of `_grading`,
    D = diag(prod_gen gen^{g_i}) turns M_ij into M_ij gen^{g_i - g_j}, whose
    monomials have even exponents only: sigma^2 = tau, sqrt(p)^2 = p."""
    roots = {a for e in M for a in e.atoms(sp.Pow) if a.exp == sp.Rational(1, 2) and a.base.is_Integer}
    # sqrt(6) = sqrt(2) sqrt(3): one generator t_p per prime (SymPy keeps sqrt(m) for m squarefree)
    primes = sorted({q for a in roots for q in sp.factorint(a.base)})
    t = {q: sp.Symbol(f"t_{q}") for q in primes}
    ts = {a: sp.prod([t[q] ** e for q, e in sp.factorint(a.base).items()]) for a in roots}
    gens = [SIGMA] + [t[q] for q in primes]
    sq = [TAU] + primes  # gen^2
    Mt = M.applyfunc(lambda e: sp.expand(e.xreplace(ts)))
    g = _grading(Mt, gens)
    out: dict = {}
    for i in range(M.rows):
        for j in range(M.cols):
            if Mt[i, j] == 0:
                continue
            for mono, coef in sp.Poly(Mt[i, j], *gens).terms():
                e = [m + a - b for m, a, b in zip(mono, g[i], g[j])]  # all even (grading)
                val = sp.Rational(coef) * sp.prod([s ** (k // 2) for s, k in zip(sq[1:], e[1:])])
                A = out.setdefault(e[0] // 2, sp.zeros(M.rows, M.cols))
                A[i, j] += val
    return [out.get(k, sp.zeros(M.rows, M.cols)) for k in range(max(out, default=0) + 1)]


def tau_degree_bound(As: list) -> int:
    """A bound on the degree in tau of det(x - sum_k tau^k A_k): rank(A_1)
    when the entries are at most linear in tau (det(X - tau A_1) is a sum over
    row subsets S of +-tau^|S| det(rows S of A_1, the rest of X), zero when
    |S| > rank A_1); otherwise the sum over rows of the largest degree."""
    if len(As) <= 2:
        return DomainMatrix.from_Matrix(As[1]).convert_to(sp.QQ).rank() if len(As) == 2 else 0
    n = As[0].rows
    return sum(max((k for k, A in enumerate(As) if any(A[i, j] != 0 for j in range(n))), default=0)
               for i in range(n))


def _interpolate(points: list, values: list) -> list:
    """Newton interpolation over QQ: dense coefficients (low to high) of the
    polynomial of degree < len(points) through (points, values)."""
    QQ = sp.QQ
    c = list(values)
    for k in range(1, len(points)):
        for i in range(len(points) - 1, k - 1, -1):
            c[i] = (c[i] - c[i - 1]) / (points[i] - points[i - k])
    poly = [QQ(0)] * len(points)
    for k in range(len(points) - 1, -1, -1):  # Horner on the Newton basis
        poly = [QQ(0)] + poly[:-1]  # times tau
        poly = [p - points[k] * q for p, q in zip(poly, poly[1:] + [QQ(0)])]
        poly[0] += c[k]
    return poly


def hessian_charpoly(case: ExactCase, block: str, reading: str) -> sp.Expr:
    """det(x I - Hessian) expanded, in x and sigma (exact).

    `rational_form` writes a matrix similar to the Hessian as sum_k tau^k A_k
    over QQ (tau = sigma^2); its characteristic polynomial has degree at most
    D = `tau_degree_bound` in tau, so it is determined by its values at the
    D + 1 points tau = 0, 1, ..., D: each is the characteristic polynomial of
    a rational matrix (`DomainMatrix.charpoly`, which also splits off the
    diagonal blocks it finds), and Newton interpolation coefficient by
    coefficient recovers the polynomial in (x, tau) exactly."""
    M = hessian_at_point(case, block, reading)
    forms = rational_form(M)
    D = tau_degree_bound(forms)
    As = [DomainMatrix.from_Matrix(A).convert_to(sp.QQ) for A in forms]
    n = M.rows
    taus = [sp.QQ(t) for t in range(D + 1)]
    rows = []
    for t in taus:
        Mt = As[0]
        for k, A in enumerate(As[1:], 1):
            Mt = Mt + A * (t**k)
        rows.append(Mt.charpoly())
    cp = sp.Integer(0)
    for i in range(n + 1):  # coefficient of x^(n - i)
        coeffs = _interpolate(taus, [r[i] for r in rows])
        cp += X ** (n - i) * sum(sp.QQ.to_sympy(a) * SIGMA ** (2 * k) for k, a in enumerate(coeffs))
    return sp.expand(cp)


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
