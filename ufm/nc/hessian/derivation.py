"""Theorem 4.2 derived in SymPy: Hessian spectra at the UFM minimizer.

NC paper, Theorem 4.2 and its appendix; the spectra are derived here, not
transcribed from the paper's formula (15). At the closed-form minimizer of
Theorem 4.1 (`ufm.nc.minimizer.derivation`) we derive
the exact eigenvalues, with multiplicities as functions of K, d, n, of

* the W-block (H, b fixed) and the H-block (W, b fixed),
* each for the *loss* reading (the data term alone) and the *full* reading
  (the regularized objective: the loss block plus lambda_W I or lambda_H I),
* the joint Hessian of the full objective in (W, H, b): its nullity, from the
  rotation symmetry W -> W Q, H -> Q^T H (and the bias shift when lambda_b = 0),
  and its whole spectrum: closed forms, plus the eigenvalues of one explicit
  4 x 4 matrix (the standard S_K-isotypic block; a quartic factor),

then the condition number within the non-zero eigenvalue space, its
derivative in alpha and the exact sign condition, reading by reading.

Nothing is obtained by `eigenvals` of a big symbolic matrix. The spectra come
from the structure of the minimizer: the softmax Hessian A_k = diag(p) - p p^T
(one per class, three eigenvalues), the simplex ETF W W^T = ||w||^2 K/(K-1) P
and the Kronecker form of the W-block, whose eigenvectors are written down as
four families of K x K matrices; SymPy checks every eigen-equation as a
coefficient identity for symbolic K, and the characteristic polynomial of the
reduced K^2 x K^2 matrix is confirmed exactly for K = 2, 3, 4.

`derive` builds the derivation by calling one function per lemma or step
group, in order: `setting`, `softmax_hessian` (A_k), `h_block`,
`w_block_kronecker`, `w_block_family_c`, `w_block_multiplicities`,
`at_minimizer`, `condition_numbers`, `alpha_derivatives`,
`joint_nullity_steps`, `joint_off_span`, `joint_in_span_2x2`,
`standard_block`, `summary`, `collect_results`. The structural facts that
`h_block` and `w_block_kronecker` cite (block diagonal over samples,
W^T A W, the Kronecker form) are also checked on the real per-sample
cross-entropy at a generic symbolic point (`generic_ce`, `mismatch_count`).

>>> D = hessian_derivation()
>>> D.all_verified
True
>>> p = UFMProblem(K=4, d=5, n=3, alpha=0.1, lam_W=5e-3, lam_H=5e-3)
>>> [[round(v, 8), m] for v, m in spectrum(p, "W", "loss")]
[[0.0, 11], [0.01595991, 5], [0.04358201, 3], [0.05739306, 1]]
>>> round(condition_number(p, "W", "full"), 6), derivative_sign(p, "W", "full")
(12.478612, 1)
>>> sum(m for _, m in joint_spectrum(p)), joint_spectrum(p)[0]   # dimension, null space
(84, [0.0, 9])
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sympy as sp

from ufm.core.cache import cached
from ufm.core.derivation import Derivation
from ufm.core.ij_algebra import IJ
from ufm.core.roots import bisect
from ufm.nc.problem import UFMProblem
from ufm.nc.minimizer.derivation import minimizer_derivation

SOURCE = "NC paper (Cross Entropy versus Label Smoothing), Theorem 4.2 and appendix"

BLOCKS = ("W", "H")
READINGS = ("loss", "full")


def _interior(expr: sp.Expr) -> sp.Expr:
    """The non-collapsed branch of a Theorem 4.1 Piecewise result."""
    return expr.args[0].expr if isinstance(expr, sp.Piecewise) else expr


def _charpoly_confirms(Kc: int) -> bool:
    """Exact confirmation on a concrete K: the reduced W-block matrix
    Q = D (I (x) P) (K^2 x K^2, D = blockdiag_k A_k) has characteristic
    polynomial prod (x - lambda)^m with the derived eigenvalues."""
    x = sp.Symbol("x")
    pnt = sp.Rational(1, 7 * Kc)  # any 0 < p_nt < 1/K will do
    pt = 1 - (Kc - 1) * pnt
    P = sp.eye(Kc) - sp.ones(Kc, Kc) / Kc
    blocks = []
    for k in range(Kc):
        p = sp.Matrix([pt if j == k else pnt for j in range(Kc)])
        blocks.append(sp.diag(*p) - p * p.T)
    # Y[j, k] stored column-major (index k*K + j): D acts column by column,
    # the right factor P mixes columns.
    Dm = sp.diag(*blocks)
    Pr = sp.kronecker_product(P, sp.eye(Kc))
    Q = Dm * Pr
    lt = Kc * pt * pnt
    ls = pnt * ((Kc - 1) * pt + pnt)
    if Kc >= 3:
        expected = (x - lt) * (x - ls) ** (Kc - 1) * (x - pnt) ** (Kc**2 - 3 * Kc + 1) * x ** (2 * Kc - 1)
    else:
        expected = (x - lt) * x ** (Kc**2 - 1)
    return sp.expand(Q.charpoly(x).as_expr() - expected) == 0


def _zero_diag_space_dim(Kc: int) -> int:
    """dim {Y : diag Y = 0, Y 1 = 0, 1^T Y = 0} for a concrete K (rank count)."""
    rows = []
    for j in range(Kc):  # diagonal entries
        r = [0] * Kc**2
        r[j * Kc + j] = 1
        rows.append(r)
    for j in range(Kc):  # row sums
        rows.append([1 if a // Kc == j else 0 for a in range(Kc**2)])
    for k in range(Kc):  # column sums
        rows.append([1 if a % Kc == k else 0 for a in range(Kc**2)])
    return Kc**2 - sp.Matrix(rows).rank()


class Symbols(NamedTuple):
    """The symbols of Theorem 4.2 (K, n, alpha, lambda_W, lambda_H shared with
    Theorem 4.1) and the generic ones of the structural steps: p_t, p_nt,
    ||w||^2, ||h||^2 before they are evaluated at the minimizer."""

    K: sp.Symbol
    n: sp.Symbol
    d: sp.Symbol
    alpha: sp.Symbol
    lW: sp.Symbol
    lH: sp.Symbol
    lb: sp.Symbol  # lambda_b, enters with the joint Hessian
    pt: sp.Symbol
    pnt: sp.Symbol
    w2: sp.Symbol
    h2: sp.Symbol

    @property
    def N(self) -> sp.Expr:
        """Number of samples, n K."""
        return self.n * self.K

    @property
    def c(self) -> sp.Expr:
        """c = sqrt(n lam_W lam_H)."""
        return sp.sqrt(self.n * self.lW * self.lH)

    @property
    def on_simplex(self) -> dict:
        """p_t eliminated through p_t + (K-1) p_nt = 1 (probabilities sum to one)."""
        return {self.pt: 1 - (self.K - 1) * self.pnt}

    @property
    def delta(self) -> sp.Expr:
        """p_t - p_nt."""
        return self.pt - self.pnt


def make_symbols(M: Derivation) -> Symbols:
    """Theorem 4.2's symbols, sharing K, n, alpha, lambda_W, lambda_H with the
    Theorem 4.1 derivation `M`."""
    S = M.symbols
    pt, pnt, w2, h2 = sp.symbols("p_t p_nt w2 h2", positive=True)
    return Symbols(K=S["K"], n=S["n"], d=sp.Symbol("d", positive=True, integer=True),
                   alpha=S["alpha"], lW=S["lambda_W"], lH=S["lambda_H"],
                   lb=sp.Symbol("lambda_b", nonnegative=True), pt=pt, pnt=pnt, w2=w2, h2=h2)


class Minimizer(NamedTuple):
    """Theorem 4.1's minimizer in the non-collapsed regime (alpha + K c < 1)."""

    rho: sp.Expr
    p_t: sp.Expr
    p_nt: sp.Expr
    w2: sp.Expr  # ||w_k||^2
    h2: sp.Expr  # ||h_{k,i}||^2


def minimizer_values(M: Derivation) -> Minimizer:
    """The non-collapsed branch of the Theorem 4.1 results in `M`."""
    R = M.results
    return Minimizer(_interior(R["rho_interior"]), _interior(R["p_target"]),
                     _interior(R["p_nontarget"]), _interior(R["w_norm_sq"]), _interior(R["h_norm_sq"]))


def new_derivation(S: Symbols) -> Derivation:
    """An empty Theorem 4.2 derivation with its public symbols registered."""
    D = Derivation("Theorem 4.2: Hessian spectra at the UFM minimizer", SOURCE)
    D.symbols.update(K=S.K, n=S.n, d=S.d, alpha=S.alpha, lambda_W=S.lW, lambda_H=S.lH)
    return D


def setting(D: Derivation) -> None:
    """The structure of the minimizer the spectra are read from."""
    D.note(
        "Setting",
        r"At the minimizer of Theorem 4.1 (non-collapsed regime $\alpha + Kc < 1$, "
        r"$c=\sqrt{n\lambda_W\lambda_H}$, $d \ge K-1$) every sample of class $k$ has "
        r"the same feature $h_k$, the same logits and the same probability vector "
        r"$p^{(k)} = p_{nt}\mathbf 1 + (p_t - p_{nt}) e_k$. The loss Hessian in the "
        r"logits of one sample is the softmax Hessian "
        r"$A_k = \operatorname{diag}(p^{(k)}) - p^{(k)} p^{(k)\top}$ (divided by $N$). "
        r"Write $P = I - J/K$, $\|w\|^2 = \|w_k\|^2$, $\|h\|^2 = \|h_{k,i}\|^2$.",
    )


Pairs = list  # [(eigenvalue, multiplicity)], each pair checked in the step that returns it


class SoftmaxSpectrum(NamedTuple):
    """A_k = diag(p) - p p^T: the target eigenvalue and the verified pairs."""

    lam_t: sp.Expr  # K p_t p_nt, on e_k - 1/K
    pairs: Pairs  # [(0, 1), (p_nt, K-2), (lambda_t, 1)]


def _A_k_coefficients(S: Symbols) -> sp.Matrix:
    """C with A_k = p_nt I + B C B^T, B = [1, e_k] (K x 2): diag(p) = p_nt I +
    delta e_k e_k^T and p = B (p_nt, delta)^T."""
    pnt, delta = S.pnt, S.delta
    pv = sp.Matrix([pnt, delta])
    return sp.Matrix([[0, 0], [0, delta]]) - pv * pv.T


def softmax_hessian(D: Derivation, S: Symbols) -> SoftmaxSpectrum:
    """Eigenvalues of A_k = diag(p) - p p^T for symbolic K (Theorem 4.2's
    building block, Appendix E): A_k = p_nt I + B C B^T with B = [1, e_k], so
    A_k acts by p_nt on {y : B^T y = 0} (dimension K - 2) and by the 2 x 2
    matrix R = p_nt I + C B^T B on span(1, e_k)."""
    K, pt, pnt, on_simplex = S.K, S.pt, S.pnt, S.on_simplex
    C = _A_k_coefficients(S)
    D.identity("A_k = p_nt I + B C B^T, entry (k, k): p_nt + C_11 + 2 C_12 + C_22 = p_t (1 - p_t)",
               pnt + C[0, 0] + 2 * C[0, 1] + C[1, 1], pt * (1 - pt),
               text=r"$B = [\mathbf 1, e_k]$, $p = p_{nt}\mathbf 1 + \delta e_k$, $\delta = p_t - p_{nt}$, "
                    r"$C = \operatorname{diag}(0,\delta) - (p_{nt},\delta)^\top(p_{nt},\delta)$; entry $(k,k)$ of "
                    r"$B C B^\top$ is $C_{11}+2C_{12}+C_{22}$, entry $(j,k)$ is $C_{11}+C_{12}$, entry $(j,j')$ "
                    r"is $C_{11}$ ($j, j' \ne k$).")
    D.identity("entry (j, k), j != k: C_11 + C_12 = -p_nt p_t", C[0, 0] + C[0, 1], -pnt * pt)
    D.identity("entry (j, j'), j, j' != k: C_11 = -p_nt^2 (off the diagonal, -p_j p_j')", C[0, 0], -pnt**2,
               display=r"C_{11}")
    G = sp.Matrix([[K, 1], [1, 1]])  # B^T B: 1^T 1 = K, 1^T e_k = 1, e_k^T e_k = 1
    s, yk = sp.symbols(r"s_y y_k")  # B^T y = (1^T y, y_k) for a generic y
    res = C * sp.Matrix([s, yk])  # A_k y - p_nt y = B C B^T y
    for i, name in enumerate(("1", "e_k")):
        D.identity(f"A_k y - p_nt y = B C B^T y: coefficient of {name} vanishes when 1^T y = 0, y_k = 0",
                   res[i].subs({s: 0, yk: 0}), 0, display=sp.Subs(res[i], (s, yk), (0, 0)))
    D.identity("B has rank 2: det B^T B = K - 1 != 0, so {y : B^T y = 0} has dimension K - 2",
               G.det(), K - 1, display=sp.Determinant(G))
    R = (pnt * sp.eye(2) + C * G).subs(on_simplex)
    D.define("A_k on span(1, e_k): A_k B xi = B R xi", sp.Symbol("R"), pnt * sp.eye(2) + C * G)
    for i, name in enumerate(("1", "e_k")):
        D.identity(f"A_k 1 = 0: coefficient of {name} of R (1, 0)^T", R[i, 0], 0,
                   display=rf"\big(R\,(1, 0)^\top\big)_{i + 1}", text=r"With $p_t = 1 - (K-1)p_{nt}$.")
    lam_t = K * pt * pnt
    D.define("target eigenvalue of A_k", sp.Symbol(r"\lambda_t"), lam_t)
    xi = sp.Matrix([-1 / K, 1])  # e_k - 1/K
    for i, name in enumerate(("1", "e_k")):
        D.identity(f"A_k (e_k - 1/K) = lambda_t (e_k - 1/K): coefficient of {name}",
                   (R * xi)[i] - (lam_t * xi[i]).subs(on_simplex), 0,
                   display=rf"(R\xi - \lambda_t\xi)_{i + 1}",
                   text=r"$\xi = (-1/K, 1)^\top$, i.e. $e_k - \mathbf 1/K$.")
    D.identity("1 and e_k - 1/K are independent: det [(1, 0), (-1/K, 1)] = 1",
               sp.Matrix([[1, -1 / K], [0, 1]]).det(), 1,
               display=r"\det\begin{pmatrix}1 & -1/K\\ 0 & 1\end{pmatrix}")
    pairs = [(sp.Integer(0), sp.Integer(1)), (pnt, K - 2), (lam_t, sp.Integer(1))]
    D.identity("A_k: multiplicities 1 + (K-2) + 1 sum to K", sum(m for _, m in pairs), K,
               display=r"1 + (K - 2) + 1")
    D.identity("trace check: tr A_k = sum p_j(1-p_j) = lambda_t + (K-2) p_nt",
               (pt * (1 - pt) + (K - 1) * pnt * (1 - pnt) - sum(v * m for v, m in pairs)).subs(on_simplex), 0)
    return SoftmaxSpectrum(lam_t, pairs)


# ---- the structural facts checked on the real per-sample objective ---------------


class GenericCE(NamedTuple):
    """The per-sample cross-entropy at a generic symbolic point (concrete K, d)."""

    W: sp.Matrix  # K x d symbols
    h: sp.Matrix  # d symbols
    b: sp.Matrix  # K symbols
    y: sp.Matrix  # soft label, y_K = 1 - y_1 - ... - y_{K-1}
    ce: sp.Expr  # CE(W h + b, y) = log sum_j exp(z_j) - y.z
    p: sp.Matrix  # softmax(W h + b)


def generic_ce(K: int, d: int, tag: str = "") -> GenericCE:
    """CE(W h + b, y) for a K x d symbol matrix W, symbol vectors h, b and a
    generic soft label y; `tag` distinguishes the symbols of several samples."""
    W = sp.Matrix(K, d, lambda j, r: sp.Symbol(f"W_{j + 1}{r + 1}"))
    h = sp.Matrix(d, 1, lambda r, _: sp.Symbol(f"h{tag}_{r + 1}"))
    b = sp.Matrix(K, 1, lambda j, _: sp.Symbol(f"b_{j + 1}"))
    ys = sp.symbols(f"y{tag}_1:{K}")
    y = sp.Matrix([*ys, 1 - sum(ys)])
    z = W * h + b
    e = [sp.exp(zj) for zj in z]
    p = sp.Matrix([ej / sum(e) for ej in e])
    return GenericCE(W, h, b, y, sp.log(sum(e)) - (y.T * z)[0], p)


def softmax_cov(p: sp.Matrix) -> sp.Matrix:
    """diag(p) - p p^T."""
    return sp.diag(*p) - p * p.T


def mismatch_count(lhs: sp.Matrix, rhs: sp.Matrix) -> int:
    """The number of entries of lhs - rhs that do not reduce to 0.

    Each exp(q a), q rational (SymPy writes exp(a)^2 as exp(2 a)), is replaced
    by E_a^q with E_a a positive symbol, and the entry is put over one
    denominator (`sp.cancel`): an entry that cancels is 0 for every value of
    the E_a, so a count of 0 proves lhs = rhs; an identity that needed
    exp(a) exp(c) = exp(a + c) for unrelated a, c would be counted (never
    missed)."""
    diff = lhs - rhs
    args = sorted({a.args[0] for a in diff.atoms(sp.exp)}, key=sp.default_sort_key)
    rep, E = {}, {}
    for a in args:
        q, prim = a.as_content_primitive()
        if prim.could_extract_minus_sign():
            q, prim = -q, -prim
        E.setdefault(prim, sp.Symbol(f"E_{len(E)}", positive=True))
        rep[sp.exp(a)] = E[prim] ** q
    return sum(1 for e in diff if sp.cancel(sp.together(e.xreplace(rep))) != 0)


def two_sample_objective() -> tuple[sp.Expr, GenericCE, GenericCE]:
    """CE(W h_1 + b, y_1) + CE(W h_2 + b, y_2) + lambda_H (|h_1|^2 + |h_2|^2)/2 at
    K = 2, d = 2 (the same symbolic W, b; each sample its own h_i, y_i)."""
    G1, G2 = generic_ce(2, 2, "1"), generic_ce(2, 2, "2")
    lH = sp.Symbol("lambda_H", positive=True)
    return G1.ce + G2.ce + lH / 2 * ((G1.h.T * G1.h)[0] + (G2.h.T * G2.h)[0]), G1, G2


def _h_block_structure(D: Derivation) -> None:
    """The H-block claims of `h_block`, checked on CE(W h + b, y) at K = 3, d = 2."""
    G = generic_ce(3, 2)
    D.identity(
        "H-block per sample, checked at K = 3, d = 2: the Hessian of CE(W h + b, y) in h "
        "is W^T (diag p - p p^T) W",
        mismatch_count(sp.hessian(G.ce, list(G.h)), G.W.T * softmax_cov(G.p) * G.W), 0,
        display=r"\#\Big\{(r,s) : \big(\nabla^2_h\,\mathrm{CE}(Wh+b, y) - W^\top"
                r"(\operatorname{diag}p - pp^\top)W\big)_{rs} \ne 0\Big\}",
        text=r"At a generic point: $W$ ($3\times 2$), $h$, $b$ all symbols, a soft label "
             r"$y = (y_1, y_2, 1 - y_1 - y_2)$, $\mathrm{CE}(z, y) = \log\sum_j e^{z_j} - y^\top z$, "
             r"$p = \operatorname{softmax}(Wh+b)$; `sympy.hessian` in $h$, and each of the $d^2 = 4$ "
             r"entries of the difference reduced by `cancel` with the $e^{z_j}$ as independent "
             r"positive symbols (`mismatch_count`; the count is computed, so the check below compares two "
             r"integers). Shown, not only cited: the computation is "
             r"entrywise and the same for every $K$, $d$, since for an affine map "
             r"$\partial^2_{h_r h_s}\ell(Wh+b) = \sum_{j,l} W_{jr}\,\partial^2_{z_j z_l}\ell\,W_{ls}$ "
             r"(chain rule), $y^\top z$ is affine, and "
             r"$\partial^2_{z_j z_l}\log\sum e^{z} = p_j\delta_{jl} - p_jp_l$.",
    )
    obj, G1, G2 = two_sample_objective()
    Hs = sp.hessian(obj, [*G1.h, *G2.h])
    D.identity(
        "H-block is block diagonal over samples, checked for two samples at K = 2, d = 2: "
        "the cross block d^2/dh_1 dh_2 has no non-zero entry",
        mismatch_count(Hs[:2, 2:], sp.zeros(2, 2)), 0,
        display=r"\#\Big\{(r,s) : \frac{\partial^2}{\partial h_{1,r}\,\partial h_{2,s}}\Big("
                r"\mathrm{CE}(Wh_1+b, y_1) + \mathrm{CE}(Wh_2+b, y_2) + \tfrac{\lambda_H}{2}"
                r"(\|h_1\|^2 + \|h_2\|^2)\Big) \ne 0\Big\}",
        text=r"`sympy.hessian` of the two-sample objective (shared symbolic $W$, $b$; own $h_i$ "
             r"and soft labels $y_i$) in $(h_1, h_2)$. It generalizes to any number of samples, "
             r"$K$, $d$: each term depends on one $h_i$ only, so every mixed derivative between "
             r"two samples' features is 0, whatever the per-sample loss.",
    )


def _w_block_structure(D: Derivation) -> None:
    """The Kronecker form of `w_block_kronecker`, checked on CE(W h + b, y) at K = 3, d = 2."""
    G = generic_ce(3, 2)
    D.identity(
        "W-block per sample, checked at K = 3, d = 2: the Hessian of CE(W h + b, y) in vec(W) "
        "(row-major) is (diag p - p p^T) kron h h^T",
        mismatch_count(sp.hessian(G.ce, list(G.W)),
                       sp.kronecker_product(softmax_cov(G.p), G.h * G.h.T)), 0,
        display=r"\#\Big\{(\iota,\kappa) : \big(\nabla^2_{\operatorname{vec}W}\,\mathrm{CE}(Wh+b, y)"
                r" - (\operatorname{diag}p - pp^\top)\otimes hh^\top\big)_{\iota\kappa} \ne 0\Big\}",
        text=r"The same generic point as the H-block check; $\operatorname{vec}W = (W_{11}, W_{12}, "
             r"W_{21}, \dots)$ row by row, so all $(Kd)^2 = 36$ entries are compared (`mismatch_count`). "
             r"It holds for every $K$, $d$: $z_j = \sum_r W_{jr}h_r + b_j$ is affine in $W$ with "
             r"$\partial z_j/\partial W_{ir} = \delta_{ij}h_r$, so $\partial^2_{W_{ir}W_{ls}}\ell = "
             r"h_r\,\partial^2_{z_iz_l}\ell\,h_s$ (chain rule), entry $(ir, ls)$ of "
             r"$\nabla^2_z\ell\otimes hh^\top$. Summed over the samples this is the first equality above.",
    )


class HBlock(NamedTuple):
    """The H-block of the loss: its scale and its verified spectrum."""

    nu: sp.Expr  # ||w||^2 K / ((K-1) N)
    per_sample: Pairs  # one d x d diagonal block: [(0, d-K+1), (nu p_nt, K-2), (nu lambda_t, 1)]
    pairs: Pairs  # the whole H-block: multiplicities times N


def h_block(D: Derivation, S: Symbols, A: SoftmaxSpectrum) -> HBlock:
    """The H-block is blockdiag_i W^T A_k W / N; its non-zero eigenvalues are
    those of nu A_k (Appendix E, eq. (49): three eigenvalues); returns the
    spectrum built from the pairs of `softmax_hessian`."""
    K, d, N, w2 = S.K, S.d, S.N, S.w2
    D.cited(
        "H-block is block diagonal over samples",
        r"The data term is a sum over samples of $\mathrm{CE}(W h_{k,i} + b)/N$ and "
        r"$\lambda_H\|H\|^2/2$ is separable, so $\nabla^2_H = \operatorname{blockdiag}_i"
        r"\big(\tfrac1N W^\top A_{k(i)} W\big)$ (chain rule; $+\lambda_H I$ in the full reading).",
        source=r"standard: the Hessian of a sum of functions of disjoint variable blocks is block "
               r"diagonal, and $\nabla^2_h\,\ell(Wh + b) = W^\top\nabla^2\ell\,W$ for an affine map "
               r"(chain rule; Magnus & Neudecker (2019), *Matrix Differential Calculus*, 3rd ed., Ch. 10); "
               r"the softmax cross-entropy Hessian $\operatorname{diag}(p) - pp^\top$ is that of "
               r"log-sum-exp (Boyd & Vandenberghe (2004), *Convex Optimization*, Sec. 3.1.5).",
    )
    _h_block_structure(D)
    D.cited(
        "Simplex ETF (Theorem 4.1)",
        r"$W W^\top = \|w\|^2 \tfrac{K}{K-1} P$ and $\bar H^\top \bar H = \|h\|^2 \tfrac{K}{K-1} P$ "
        r"for the class means $\bar H = [h_1,\dots,h_K]$; the row space of $W$ is the span of the $h_k$, "
        r"of dimension $K-1$.",
        source=r"Theorem 4.1 of the NC paper (Cross Entropy versus Label Smoothing), derived in "
               r"`proofs/thm41_minimizer.md` (the class means and classifiers form a simplex ETF, "
               r"$\|h_{k,i}\|^2/\|w_k\|^2 = \lambda_W/(n\lambda_H)$); the Gram entries are checked below.",
    )
    # diagonal entries of ||w||^2 K/(K-1) P are ||w||^2; off-diagonal -||w||^2/(K-1)
    D.identity("ETF Gram: diagonal of ||w||^2 K/(K-1) (I - J/K) is ||w||^2",
               w2 * K / (K - 1) * (1 - 1 / K), w2)
    D.identity("ETF Gram: off-diagonal is -||w||^2/(K-1) (equal angles)",
               w2 * K / (K - 1) * (-1 / K), -w2 / (K - 1),
               display=r"w_{2}\,\frac{K}{K - 1}\left(-\frac{1}{K}\right)")
    nu_g = w2 * K / ((K - 1) * N)
    D.define(
        "scale of the H-block, nu = ||w||^2 K / ((K-1) N)", sp.Symbol(r"\nu"), nu_g,
        r"The non-zero eigenvalues of $W^\top (A_k W)/N$ are those of $A_k W W^\top/N = "
        r"\nu A_k P$ (non-zero eigenvalues of $XY$ and $YX$ agree: Horn & Johnson (2013), *Matrix "
        r"Analysis*, Theorem 1.3.22), and $A_k P = A_k - (A_k\mathbf 1)\mathbf 1^\top/K = A_k$ "
        r"because $A_k\mathbf 1 = 0$ (checked above). So each $d\times d$ block has the non-zero "
        r"eigenvalues of $\nu A_k$, with their multiplicities, and 0 on the rest.",
    )
    nonzero = [(nu_g * v, m) for v, m in A.pairs if v != 0]
    zero = d - sum(m for _, m in nonzero)
    D.identity("H-block zero multiplicity per sample: d minus the non-zero multiplicities of A_k = d - K + 1",
               zero, d - K + 1, display=sp.Symbol("d") - sp.Add(*[sp.Symbol(f"m_{{{i}}}") for i in
                                                                  range(len(nonzero))], evaluate=False),
               text=r"$m_i$: the multiplicities of the non-zero eigenvalues of $A_k$ ($K-2$ and $1$).")
    per_sample = [(sp.Integer(0), zero)] + nonzero
    pairs = [(v, N * m) for v, m in per_sample]
    D.identity("H-block multiplicities sum to the dimension d N", sum(m for _, m in pairs), d * N)
    return HBlock(nu_g, per_sample, pairs)


class WKronecker(NamedTuple):
    """The W-block as mu Q, and the verified pairs of families (a), (b)."""

    mu: sp.Expr  # ||h||^2 / (K-1)
    pairs: Pairs  # eigenvalues of Q: [(lambda_t, 1) family (a), (0, K-1) family (b)]


def w_block_kronecker(D: Derivation, S: Symbols, A: SoftmaxSpectrum) -> WKronecker:
    """The W-block as mu Q on K x K matrices (Appendix E, eq. (56): four
    eigenvalues), its four eigenvector families, family (a) (eigenvalue
    lambda_t) and (b) (kernel), checked column by column with the A_k
    identities of `softmax_hessian` and the I, J algebra for symbolic K."""
    K, h2 = S.K, S.h2
    D.cited(
        "W-block in Kronecker form",
        r"With $z_i = W h_i + b$, $\nabla^2_W = \tfrac1N\sum_i A_{k(i)} \otimes h_i h_i^\top "
        r"= \tfrac1K\sum_k A_k \otimes h_k h_k^\top = \tfrac1K (I\otimes\bar H)\,\mathcal D\,"
        r"(I\otimes \bar H^\top)$ with $\mathcal D = \sum_k A_k\otimes e_k e_k^\top$. Non-zero "
        r"eigenvalues of $XY$ and $YX$ agree, so they are those of "
        r"$\tfrac1K\mathcal D (I\otimes\bar H^\top\bar H) = \mu\,\mathcal D(I\otimes P)$: "
        r"on $K\times K$ matrices $Y$, $Q(Y) = [A_1 y_1,\dots,A_K y_K]\,P$ ($y_k$ the columns); "
        r"as $P^2 = P$, the non-zero eigenvalues of $Q$ are those of $Y\mapsto Q(Y)P$ on "
        r"$\{Y: YP = Y\}$, of dimension $K(K-1)$.",
        source=r"chain rule for $z_i = Wh_i + b$ (Magnus & Neudecker (2019), *Matrix Differential "
               r"Calculus*, 3rd ed., Ch. 10); $(A\otimes B)(C\otimes D) = AC\otimes BD$ (Horn & Johnson "
               r"(1991), *Topics in Matrix Analysis*, Lemma 4.2.10); $XY$ and $YX$ have the same non-zero "
               r"eigenvalues (Horn & Johnson (2013), *Matrix Analysis*, 2nd ed., Theorem 1.3.22).",
    )
    _w_block_structure(D)
    mu_g = h2 / (K - 1)
    D.identity("mu: (1/K) ||h||^2 K/(K-1) = ||h||^2/(K-1)", h2 * K / (K - 1) / K, mu_g,
               display=r"\frac{1}{K}\,h_{2}\,\frac{K}{K - 1}")
    D.note(
        "Four families of eigenvectors of Q (on Y with Y P = Y, dimension K(K-1))",
        r"(a) $Y = P$; (b) $Y = \mathbf 1 v^\top$, $v\perp\mathbf 1$; "
        r"(c) $Y = \operatorname{diag}(v) - (v\mathbf 1^\top + \mathbf 1 v^\top)/K$, $v\perp\mathbf 1$; "
        r"(d) $Y$ with zero diagonal and zero row and column sums. Each eigen-equation is checked "
        r"below, and so are the mutual (Frobenius) orthogonality and the dimensions, which add up to "
        r"$K(K-1)$: the families exhaust the space.",
    )
    P = IJ(sp.Integer(1), -1 / K, K)  # P = I - J/K
    PP = P * P
    D.identity("(a) columns of P are e_k - 1/K, so D(P) = lambda_t P (A_k); Q(P) = lambda_t P^2 = lambda_t P: "
               "coefficient of J in P^2", PP.b, P.b, display=r"b_{P^2} = 2ab + Kb^2",
               text=r"In the algebra $aI + bJ$ ($J^2 = KJ$, `ufm.core.ij_algebra.IJ`): "
                    r"$(aI+bJ)^2 = a^2 I + (2ab + Kb^2)J$, at $a = 1$, $b = -1/K$.")
    D.identity("(a) coefficient of I in P^2", PP.a, P.a, display=r"a_{P^2} = a^2")
    s = sp.Symbol(r"s_v")  # 1^T v
    D.identity("(b) column k of D(1 v^T) is v_k A_k 1 = 0 (A_k 1 = 0 above); (1 v^T) P = 1 v^T: "
               "P v = v + b_P (1^T v) 1", (P.b * s).subs(s, 0), 0, display=sp.Subs(P.b * s, s, 0))
    m_b = P.eigenvalues()[0][1]  # 1-perp: the eigenvalue-1 space of P
    D.identity("(b) dimension: v ranges over 1-perp (eigenvalue 1 of P), v -> 1 v^T is injective",
               m_b, K - 1, display=r"\dim\ker(P - I)")
    return WKronecker(mu_g, [(A.lam_t, sp.Integer(1)), (sp.Integer(0), m_b)])


def w_block_family_c(D: Derivation, S: Symbols) -> sp.Expr:
    """Family (c), Y = diag(v) - (v 1^T + 1 v^T)/K: returns its eigenvalue
    lambda_s = p_nt((K-1) p_t + p_nt)."""
    K, pt, pnt, delta, on_simplex = S.K, S.pt, S.pnt, S.delta, S.on_simplex
    # (c) the coefficient computation, in the basis diag(v), v 1^T, 1 v^T.
    gamma = pt - delta / K
    # A_k y_k = v_k gamma (1 - delta) e_k - v_k gamma p_nt 1 - p_nt v / K, so
    # D(Y) = gamma(1-delta) diag(v) - gamma p_nt 1 v^T - (p_nt/K) v 1^T, and
    # Q(Y) = D(Y) P = gamma(1-delta) (diag(v) - v 1^T/K) - gamma p_nt 1 v^T.
    lam_s = gamma * (1 - delta)
    D.identity("(c) coefficient of v_k e_k in A_k y_k: p_t - delta/K - delta(p_t - delta/K) = gamma(1-delta)",
               (pt - delta * pt) - (delta / K) * (1 - delta), lam_s)
    D.identity("(c) coefficient of v_k 1 in A_k y_k: -p_t p_nt + delta p_nt/K = -gamma p_nt",
               -pt * pnt + delta * pnt / K, -gamma * pnt)
    D.identity("(c) eigen-equation, coefficient of 1 v^T: gamma p_nt = lambda_s / K",
               (gamma * pnt - lam_s / K).subs(on_simplex), 0)
    lam_s_closed = pnt * ((K - 1) * pt + pnt)
    D.identity("(c) eigenvalue lambda_s = p_nt((K-1) p_t + p_nt)",
               (lam_s - lam_s_closed).subs(on_simplex), 0)
    vv = sp.Symbol(r"\|v\|^2", positive=True)
    D.identity(
        "(c) ||Y||_F^2 = ||v||^2 (K-2)/K: the family is empty for K = 2",
        vv * (K - 2) ** 2 / K**2 + vv * (2 * K - 4) / K**2, vv * (K - 2) / K,
        r"Diagonal entries $v_j(1-2/K)$; off-diagonal $-(v_j+v_k)/K$ with "
        r"$\sum_{j\ne k}(v_j+v_k)^2 = (2K-4)\|v\|^2$ when $\sum v = 0$.",
    )
    return lam_s_closed


class WMultiplicities(NamedTuple):
    """The W-block spectrum (Piecewise in K >= 3), from the verified families."""

    m_s: sp.Expr  # of mu lambda_s, family (c)
    m_n: sp.Expr  # of mu p_nt, family (d)
    m0: sp.Expr  # of 0
    pairs: Pairs  # the W-block of the loss: [(0, m0), (mu p_nt, m_n), (mu lambda_s, m_s), (mu lambda_t, 1)]


def _family_d_dimension(D: Derivation, S: Symbols) -> sp.Expr:
    """dim {Y : Y 1 = 0, 1^T Y = 0, diag Y = 0} = (K-1)^2 - K for symbolic K >= 3:
    the first two constraints cut out range(P (x) P), of dimension tr(P)^2
    (P idempotent), on which the diagonal map onto R^K is surjective."""
    K = S.K
    P = IJ(sp.Integer(1), -1 / K, K)
    D.identity("(d) {Y : Y 1 = 0, 1^T Y = 0} = {P Z P}: dimension rank(P (x) P) = tr(P)^2 (P^2 = P)",
               P.trace() ** 2, (K - 1) ** 2, display=r"(\operatorname{tr}P)^2")
    # diag(P E_kk P) = (P_jk^2)_j = 1/K^2 1 + (1 - 2/K) e_k; diag(P) = (1 - 1/K) 1.
    on1, onk = (P.b) ** 2, (P.a + P.b) ** 2 - P.b**2
    t = on1 / (P.a + P.b)  # the multiple of P that cancels the 1-component
    D.identity("(d) diag(P E_kk P - t P) has no 1-component for t = 1/(K(K-1))", on1 - t * (P.a + P.b), 0,
               display=r"\tfrac{1}{K^2} - t\,(1 - \tfrac1K)",
               text=r"$\operatorname{diag}(PE_{kk}P)_j = P_{jk}^2$: $\tfrac1{K^2}\mathbf 1 + (1-\tfrac2K)e_k$; "
                    r"$\operatorname{diag}P = (1-\tfrac1K)\mathbf 1$.")
    D.identity("(d) its e_k-component is 1 - 2/K != 0 for K >= 3: the diagonal map is onto R^K",
               onk, 1 - 2 / K, display=r"(1-\tfrac1K)^2 - \tfrac1{K^2}")
    m_n = sp.expand((K - 1) ** 2 - K)
    D.identity("(d) dimension (K-1)^2 - K = K^2 - 3K + 1 (K >= 3)", m_n, K**2 - 3 * K + 1,
               display=(K - 1) ** 2 - K,
               text=r"Equivalently the $3K$ constraints have rank $(2K-1) + K = 3K - 1$: their only "
                    r"dependency is that the row sums and the column sums both add up to $\mathbf 1^\top Y\mathbf 1$.")
    checks = {Kc: _zero_diag_space_dim(Kc) for Kc in (3, 4, 5, 6)}
    D.identity("(d) cross-check: number of K = 3..6 where a rank count of the constraints differs",
               sum(int(checks[Kc] != m_n.subs(K, Kc)) for Kc in checks), 0,
               display=r"\#\{K\in\{3,\dots,6\}:\ \dim\{Y:\operatorname{diag}Y = 0,\ Y\mathbf 1 = 0,"
                       r"\ \mathbf 1^\top Y = 0\}\ne K^2 - 3K + 1\}",
               text="The rank of the explicit 3K x K^2 constraint matrix, for K = 3..6.")
    return m_n


def _families_orthogonal(D: Derivation, S: Symbols) -> None:
    """The six Frobenius inner products of the families vanish (v, v' orthogonal to 1;
    s = 1^T v, Y_d with zero trace, row and column sums)."""
    K = S.K
    s, V = sp.symbols(r"s_v \|v\|^2")
    # <Y_1, Y_2> = tr(Y_1^T Y_2) expanded in s, |v|^2 and the (d) constraints (all 0 for (d))
    prods = {
        "<P, 1 v^T> = 1^T P v = (1 - K/K) s": (1 - K / K) * s,
        "<P, Y_c> = tr Y_c - 1^T Y_c 1 / K = s(1 - 2/K) + s/K": s * (1 - 2 / K) + s / K,
        "<1 v^T, Y_c> = 1^T Y_c v = |v|^2 - s^2/K - |v|^2": V - s**2 / K - V,
    }
    for title, e in prods.items():
        D.identity(f"families (a), (b), (c) orthogonal: {title} = 0 at s = 0", e.subs(s, 0), 0,
                   display=sp.Subs(e, s, 0))
    D.note("families (a)-(c) orthogonal to (d)",
           r"$\langle P, Y_d\rangle = \operatorname{tr}Y_d - \mathbf 1^\top Y_d\mathbf 1/K$, "
           r"$\langle \mathbf 1v^\top, Y_d\rangle = (\mathbf 1^\top Y_d)v$, "
           r"$\langle Y_c, Y_d\rangle = \sum_j v_j (Y_d)_{jj} - (v^\top Y_d\mathbf 1 + \mathbf 1^\top Y_d v)/K$: "
           r"each is a combination of the diagonal, row sums and column sums of $Y_d$, all zero.")


def w_block_multiplicities(D: Derivation, S: Symbols, A: SoftmaxSpectrum, Wk: WKronecker,
                           lam_s: sp.Expr) -> WMultiplicities:
    """Family (d) (eigenvalue p_nt), the dimension counts, the exact
    characteristic polynomial for K = 2, 3, 4, and the W-block spectrum
    assembled from the verified pairs of families (a)-(d)."""
    K, d, pnt = S.K, S.d, S.pnt
    r = sp.Symbol(r"r_Y")  # a row sum of Y
    D.identity("(d) columns y_k have (y_k)_k = 0 and 1^T y_k = 0: A_k y_k = p_nt y_k (above); "
               "Y P = Y - (Y 1) 1^T / K = Y when Y 1 = 0", (r / K).subs(r, 0), 0, display=sp.Subs(r / K, r, 0))
    m_n3 = _family_d_dimension(D, S)
    _families_orthogonal(D, S)
    D.identity("(a)-(d) dimensions add up to K(K-1) (K >= 3)",
               1 + Wk.pairs[1][1] + (K - 1) + m_n3, K * (K - 1))
    D.identity("exact characteristic polynomial of Q for K = 2, 3, 4: number of mismatches",
               sum(int(not _charpoly_confirms(Kc)) for Kc in (2, 3, 4)), 0,
               display=r"\#\{K\in\{2,3,4\}:\ \det(x - Q)\ne(x-\lambda_t)(x-\lambda_s)^{K-1}"
                       r"(x-p_{nt})^{K^2-3K+1}x^{2K-1}\}",
               text=r"At $p_{nt} = 1/(7K)$, exact rationals; for $K = 2$ the expected polynomial is "
                    r"$(x-\lambda_t)x^{3}$.")
    K3 = sp.Ge(K, 3)
    m_s = sp.Piecewise((K - 1, K3), (0, True))
    m_n = sp.Piecewise((m_n3, K3), (0, True))
    # non-zero eigenvalues of Q, ascending (p_nt <= lambda_s <= lambda_t, see at_minimizer): (d), (c), (a)
    nonzero_Q = [(pnt, m_n), (lam_s, m_s)] + [(v, m) for v, m in Wk.pairs if v != 0]
    nonzero = [(Wk.mu * v, m) for v, m in nonzero_Q]
    m0W = K * d - sum(m for _, m in nonzero)
    D.identity("W-block zero multiplicity (K >= 3): Kd - (K-1)^2 = K(d-K+1) + (K-1)",
               K * d - 1 - (K - 1) - m_n3, K * (d - K + 1) + (K - 1), display=r"Kd - 1 - (K-1) - (K^2-3K+1)")
    D.identity("W-block zero multiplicity (K = 2): 2d - 1",
               m0W.subs(K, 2), 2 * d - 1, display=sp.Subs(m0W, K, 2))
    return WMultiplicities(m_s, m_n, m0W, [(sp.Integer(0), m0W)] + nonzero)


class AtMinimizer(NamedTuple):
    """The block spectra evaluated at the Theorem 4.1 minimizer."""

    mu: sp.Expr  # W-block scale
    nu: sp.Expr  # H-block scale
    lt: sp.Expr  # lambda_t = K p_t p_nt
    ls: sp.Expr  # lambda_s = p_nt((K-1) p_t + p_nt)
    spectra: dict  # (block, reading) -> [(eigenvalue, multiplicity), ...]
    h_per_sample: list  # one sample's d x d H-block of the loss, [(eigenvalue, multiplicity)]


def at_minimizer(D: Derivation, S: Symbols, X: Minimizer, A: SoftmaxSpectrum, H: HBlock,
                 Wk: WKronecker, lam_s: sp.Expr, mW: WMultiplicities) -> AtMinimizer:
    """Evaluate the block spectra at the minimizer: the scales mu, nu, the
    ordering lambda_t >= lambda_s >= p_nt, and both readings of both blocks,
    each the verified pairs of `h_block` / `w_block_multiplicities` evaluated
    (the full reading adds lambda_W I or lambda_H I: every eigenvalue shifts)."""
    mu_g, nu_g, lam_t = Wk.mu, H.nu, A.lam_t
    K, lW, lH, c = S.K, S.lW, S.lH, S.c
    pt, pnt, on_simplex = S.pt, S.pnt, S.on_simplex
    at_min = {S.pt: X.p_t, S.pnt: X.p_nt, S.w2: X.w2, S.h2: X.h2}
    mu = mu_g.subs(at_min)
    nu = nu_g.subs(at_min)
    D.abbreviate("c = sqrt(n lam_W lam_H)", sp.Symbol("c", positive=True), c,
                 r"Display symbols for the values at the minimizer (Theorem 4.1): in the steps below "
                 r"$c$, $\rho$, $p_t$, $p_{nt}$ stand for these expressions.")
    D.abbreviate("rho, the logit gap at the minimizer (Theorem 4.1)", sp.Symbol("rho", positive=True), X.rho)
    D.abbreviate("p_t at the minimizer (eq. 13)", pt, X.p_t)
    D.abbreviate("p_nt at the minimizer (eq. 14)", pnt, X.p_nt)
    D.identity("mu K / lambda_W = rho / c at the minimizer", mu * K / lW, X.rho / c,
               display=r"\frac{\mu K}{\lambda_W}")
    D.identity("nu K / lambda_H = rho / c at the minimizer", nu * K / lH, X.rho / c,
               display=r"\frac{\nu K}{\lambda_H}")
    D.identity("K p_t - 1 = (K-1)(1 - alpha - K c) > 0 in the non-collapsed regime",
               K * X.p_t - 1, (K - 1) * (1 - S.alpha - K * c), display=K * pt - 1)
    D.identity("ordering: lambda_t - lambda_s = p_nt (K p_t - 1)/(K-1) >= 0",
               (lam_t - lam_s - pnt * (K * pt - 1) / (K - 1)).subs(on_simplex), 0)
    D.identity("ordering: lambda_s - p_nt = p_nt (K-2)(K p_t - 1)/(K-1) >= 0",
               (lam_s - pnt - pnt * (K - 2) * (K * pt - 1) / (K - 1)).subs(on_simplex), 0)

    lt_v = lam_t.subs(at_min)
    ls_v = lam_s.subs(at_min)
    W_loss = [(v.subs(at_min), m) for v, m in mW.pairs]
    H_loss = [(v.subs(at_min), m) for v, m in H.pairs]
    spectra = {
        ("W", "loss"): W_loss,
        ("W", "full"): [(lW + v, m) for v, m in W_loss],
        ("H", "loss"): H_loss,
        ("H", "full"): [(lH + v, m) for v, m in H_loss],
    }
    return AtMinimizer(mu, nu, lt_v, ls_v, spectra, [(v.subs(at_min), m) for v, m in H.per_sample])


def full_ratio(S: Symbols, X: Minimizer) -> sp.Expr:
    """q = rho p_t p_nt / c: kappa of the full reading is 1 + q (W-block; H-block when d > K-1)."""
    return X.rho * X.p_t * X.p_nt / S.c


def condition_numbers(D: Derivation, S: Symbols, X: Minimizer, A: AtMinimizer) -> dict:
    """kappa = lambda_max / lambda_min over the non-zero eigenvalues, per block
    and reading; returns {case: kappa}."""
    K, lW, lH = S.K, S.lW, S.lH
    mu, nu, lt_v = A.mu, A.nu, A.lt
    q = full_ratio(S, X)
    kappa = {
        ("loss", "K>=3"): K * X.p_t,
        ("loss", "K=2"): sp.Integer(1),
        ("W", "full"): sp.Integer(1) + q,
        ("H", "full", "d>K-1"): sp.Integer(1) + q,
        ("H", "full", "d=K-1"): (lH + nu * lt_v) / (lH + nu * X.p_nt),
    }
    D.identity("kappa loss (K >= 3) = lambda_t / p_nt = K p_t (both blocks: same ratio)",
               (mu * lt_v) / (mu * X.p_nt), K * X.p_t, display=r"\frac{\mu\lambda_t}{\mu p_{nt}}")
    D.note("kappa loss (K = 2) = 1", r"For $K=2$ both blocks have one non-zero eigenvalue "
           r"($\lambda_t$ only; families (c), (d) and the $p_{nt}$ eigenvalue of $A_k$ are empty).")
    D.identity("kappa W full = (lambda_W + mu lambda_t)/lambda_W = 1 + rho p_t p_nt / c",
               (lW + mu * lt_v) / lW, 1 + q,
               r"The full W-block always has eigenvalue $\lambda_W$: the $K-1 \ge 1$ kernel "
               r"directions of family (b) (a common shift of all logits).")
    D.identity("kappa H full (d > K-1) = (lambda_H + nu lambda_t)/lambda_H = 1 + rho p_t p_nt / c",
               (lH + nu * lt_v) / lH, 1 + q)
    D.note("kappa H full (d = K-1)", r"No zero loss eigenvalue: $\kappa = (\lambda_H + \nu\lambda_t)/"
           r"(\lambda_H + \nu p_{nt})$ for $K \ge 3$, and $1$ for $K = 2$, $d = 1$.")
    return kappa


def alpha_derivatives(D: Derivation, S: Symbols, X: Minimizer) -> sp.Expr:
    """d kappa / d alpha, reading by reading, and the exact sign condition of
    the full reading; returns g = rho (2 p_t - 1) (kappa_full rises iff g > 1)."""
    K, alpha, c = S.K, S.alpha, S.c
    rho, pt_a, pnt_a = X.rho, X.p_t, X.p_nt
    dq = sp.diff(full_ratio(S, X), alpha)
    g = rho * (2 * pt_a - 1)
    D.identity("d kappa_loss / d alpha = -(K-1) < 0 (K >= 3)", sp.diff(K * pt_a, alpha), -(K - 1))
    D.identity("d kappa_full / d alpha = (rho (2 p_t - 1) - 1) / (K c)", dq, (g - 1) / (K * c),
               r"So the full W-block (and the full H-block when $d > K-1$) is better conditioned "
               r"at larger $\alpha$ **iff** $\rho(2p_t-1) < 1$. For $2p_t - 1 > 0$, $\rho$ and "
               r"$2p_t - 1$ are positive and decreasing in $\alpha$, so $\{\rho(2p_t-1) > 1\}$ is an "
               r"interval $[0, \alpha^*)$: there $\kappa$ *increases* with $\alpha$, contrary to "
               r"Theorem 4.2.")
    D.identity("d p_t / d alpha = -(K-1)/K", sp.diff(pt_a, alpha), -(K - 1) / K)
    D.identity("d rho / d alpha = -1/(K p_nt) - (K-1)/(K p_t) < 0",
               sp.diff(rho, alpha), -1 / (K * pnt_a) - (K - 1) / (K * pt_a))
    # sign of d kappa / d alpha for d = K-1: numerator of the derivative
    # written with q_t = nu lambda_t / lambda_H, q_n = nu p_nt / lambda_H.
    D.note("Sign for the full H-block with d = K-1",
           r"$\operatorname{sign} d\kappa/d\alpha = \operatorname{sign}\big(q_t'(1+q_n) - "
           r"q_n'(1+q_t)\big)$ with $q_t = \rho p_t p_{nt}/c$, $q_n = \rho p_{nt}/(Kc)$; no factor "
           r"simpler than this; the package evaluates it exactly (mpmath) at the user's parameters.")
    return g


def joint_nullity_steps(D: Derivation, S: Symbols) -> sp.Expr:
    """Nullity of the joint Hessian: the orbit of the rotation symmetry;
    returns (K-1)(2d-K)/2."""
    K, d = S.K, S.d
    D.cited(
        "Symmetry of the objective",
        r"$F(WQ, Q^\top H, b) = F(W,H,b)$ for every $Q\in O(d)$, and, when $\lambda_b = 0$, "
        r"$F(W,H,b+t\mathbf 1) = F(W,H,b)$ (softmax shift). The minimizers form orbits of these "
        r"groups, and the Hessian vanishes on the orbit's tangent space $\{(WS, -SH, 0): S^\top=-S\}$ "
        r"($+\,(0,0,\mathbf 1)$). $(WS, -SH) = 0$ iff $S$ kills the $(K-1)$-dimensional row space "
        r"$V$ of $W$ (= span of the features); such an $S$ is a skew map of $V^\perp$: the "
        r"stabilizer is $\mathfrak{so}(d-K+1)$.",
        source=r"standard: if $F(\phi_t(x)) = F(x)$ for a one-parameter group $\phi_t$ and $x^*$ is a "
               r"minimizer, differentiating twice at $t = 0$ (with $\nabla F(x^*) = 0$) gives "
               r"$v^\top\nabla^2F(x^*)v = 0$ for $v = \dot\phi_0(x^*)$, and a positive semidefinite "
               r"matrix with $v^\top Hv = 0$ has $Hv = 0$ (Horn & Johnson (2013), *Matrix Analysis*, "
               r"2nd ed., Ch. 7); here $\phi_t = (We^{tS}, e^{-tS}H, b)$, $S^\top = -S$ (the Frobenius "
               r"penalties are $O(d)$-invariant), and the softmax shift $b + t\mathbf 1$.",
    )
    r = K - 1
    null = d * (d - 1) / 2 - (d - r) * (d - r - 1) / 2
    D.identity("orbit dimension dim so(d) - dim so(d-K+1) = (K-1)(2d-K)/2",
               null, (K - 1) * (2 * d - K) / 2)
    D.note(
        "Nullity equals the orbit dimension",
        r"Theorem 4.1 says every minimizer is such a neural-collapse configuration, so the "
        r"minimizer set is exactly this orbit; the package checks numerically that the Hessian has "
        r"no further null directions (the minimum is non-degenerate transversally to the orbit).",
    )
    D.note(
        "Further closed-form joint eigenvalues: within-class deviations and the bias",
        r"Within-class deviations $\Delta h_{k,i}$ with $\sum_i \Delta h_{k,i} = 0$ do not couple "
        r"to $W$ or $b$ (both cross terms are sums over the class), so the full H-block values "
        r"$\lambda_H + \nu\lambda_t$ (mult. $K(n-1)$), $\lambda_H + \nu p_{nt}$ (mult. $K(n-1)(K-2)$) "
        r"and $\lambda_H$ (mult. $K(n-1)(d-K+1)$) are joint eigenvalues; the bias along "
        r"$\mathbf 1$ (never coupled: $A_k\mathbf 1 = 0$) gives $\lambda_b$ (mult. 1, or the null "
        r"direction when $\lambda_b = 0$).",
    )
    return (K - 1) * (2 * d - K) / 2


def joint_off_span(D: Derivation, S: Symbols, X: Minimizer, A: AtMinimizer) -> list:
    """Joint eigenvalues outside the ETF span V (and within-class, bias), in
    closed form; registers lambda_b and returns [(eigenvalue, multiplicity)]."""
    K, n, d, N, alpha, lW, lH, lb, c = S.K, S.n, S.d, S.N, S.alpha, S.lW, S.lH, S.lb, S.c
    # Directions orthogonal to the ETF span V: the coupling goes through the
    # gradient residual G = dL/dZ = (P - Y)/N only (the bilinear term <G, dW dH>).
    y_t = 1 - alpha + alpha / K
    D.identity("residual at the minimizer, target entry: p_t - y_t = -(K-1) c", X.p_t - y_t, -(K - 1) * c)
    D.identity("residual at the minimizer, non-target entry: p_nt - alpha/K = c", X.p_nt - alpha / K, c,
               display=S.pnt - alpha / K)
    D.note(
        "Joint block orthogonal to the ETF span",
        r"So $p^{(k)} - y^{(k)} = -cK(e_k - \mathbf 1/K)$. Take $\Delta W$ with rows in $V^\perp$ and "
        r"class-mean perturbations $\Delta h_k \in V^\perp$: the logits do not move to first order "
        r"($\Delta W h_k = 0$, $W\Delta h_k = 0$) and the second-order term is $\langle G, \Delta W\Delta H"
        r"\rangle$. For one unit direction $e\in V^\perp$, with $a = \Delta W e\in\mathbb R^K$ and "
        r"$v_k = \sqrt n\,\Delta h_k\cdot e$ (so $\|\Delta H\|^2 = \|v\|^2$), "
        r"$\langle G,\Delta W\Delta H\rangle = \sum_k \tfrac{n}{N} (p^{(k)}-y^{(k)})^\top a\,\Delta h_k\cdot e "
        r"= -\tfrac{c}{\sqrt n} v^\top P a$: the Hessian on $(a, v)$ is "
        r"$\begin{pmatrix}\lambda_W I & -\tfrac{c}{\sqrt n}P\\ -\tfrac{c}{\sqrt n}P & \lambda_H I\end{pmatrix}$. "
        r"Nothing else couples to these directions ($\Delta W\Delta h = 0$ when one of the two lies in $V$ "
        r"and the other in $V^\perp$).",
    )
    D.identity("coupling scale: (n/N) c K = c", n * c * K / N, c, display=r"\frac{n}{N}\,c\,K")
    D.identity("2x2 block on range(P): determinant lambda_W lambda_H - c^2/n = 0",
               lW * lH - (c / sp.sqrt(n)) ** 2, 0,
               display=r"\lambda_W\lambda_H - \left(\frac{c}{\sqrt{n}}\right)^{2}",
               text=r"So its eigenvalues are $0$ (these are the rotations mixing $V$ and $V^\perp$) and "
                    r"$\lambda_W + \lambda_H$; on $\mathbf 1$ ($P\mathbf 1 = 0$) the block is "
                    r"$\operatorname{diag}(\lambda_W, \lambda_H)$.")
    D.identity("V-perp block: multiplicities 2(K-1) + 2 = 2K per direction e",
               2 * (K - 1) + 2, 2 * K, display=r"2(K - 1) + 2")
    D.identity("dimension count: within-class K(n-1)d + V-perp 2K(d-K+1) + rest = Kd + Nd + K",
               K * (n - 1) * d + 2 * K * (d - K + 1) + (2 * K * (K - 1) + K), K * d + N * d + K,
               r"The rest, $2K(K-1) + K$ directions ($\Delta W$ rows and class means in $V$, and $b$), "
               r"does not depend on $d$; it holds the $(K-1)(K-2)/2$ rotations within $V$ and the "
               r"bias along $\mathbf 1$, and its other eigenvalues are left to the numerics.")
    D.identity("rotation null directions: (K-1)(d-K+1) + (K-1)(K-2)/2 = (K-1)(2d-K)/2",
               (K - 1) * (d - K + 1) + (K - 1) * (K - 2) / 2, (K - 1) * (2 * d - K) / 2)
    D.symbols["lambda_b"] = lb
    # within-class deviations: the full H-block of one sample, K(n-1) times (verified pairs of h_block)
    within = [(lH + v, K * (n - 1) * m) for v, m in reversed(A.h_per_sample)]
    return within + [
        (lb, sp.Integer(1)),
        (lW + lH, (K - 1) * (d - K + 1)),
        (lW, d - K + 1),
        (lH, d - K + 1),
        (sp.Integer(0), (K - 1) * (d - K + 1)),
    ]


class InSpan2x2(NamedTuple):
    """Roots of the 2x2 blocks of the joint Hessian inside the ETF span."""

    triv_lo: sp.Expr  # trivial isotypic component (Y = P), multiplicity 1 each
    triv_hi: sp.Expr
    sym_lo: sp.Expr  # [K-2,2] (symmetric Y in family (d)), multiplicity K(K-3)/2 each
    sym_hi: sp.Expr
    anti_hi: sp.Expr  # [K-2,1,1] (antisymmetric Y), the non-zero one; the other is 0


def joint_in_span_2x2(D: Derivation, S: Symbols, X: Minimizer, A: AtMinimizer) -> InSpan2x2:
    """Inside the ETF span: the S_K-isotypic decomposition and its 2x2 blocks
    (trivial, [K-2,2], [K-2,1,1]) solved in closed form."""
    K, n, lW, lH, c, rho = S.K, S.n, S.lW, S.lH, S.c, X.rho
    mu, nu = A.mu, A.nu
    D.note(
        "Joint block inside the ETF span: coordinates",
        r"Write $w_k = \|w\| u_k$, $h_k = \|h\| u_k$ with $U^\top U = \kappa_0 P$, $\kappa_0 = K/(K-1)$. "
        r"Perturbations inside $V$: $\Delta W = A U^\top$ ($A\mathbf 1 = 0$), class means "
        r"$\Delta\bar H = U B$ ($\mathbf 1^\top B = 0$), and $\Delta b$. Then $\|\Delta W\|^2 = \kappa_0\|A\|^2$, "
        r"$\|\Delta H\|^2 = n\kappa_0\|B\|^2$, the class-mean logits move by "
        r"$X = \kappa_0(\|h\| A + \|w\| B) + \Delta b\mathbf 1^\top$ to first order and by "
        r"$\kappa_0 AB$ to second order, so the Hessian form is "
        r"$\tfrac1K\sum_k x_k^\top A_k x_k - 2c\kappa_0\operatorname{tr}(PAB) + \lambda_W\kappa_0\|A\|^2 + "
        r"\lambda_H n\kappa_0\|B\|^2 + \lambda_b\|\Delta b\|^2$ (using $p^{(k)}-y^{(k)} = -cK(e_k - \mathbf 1/K)$). "
        r"It commutes with relabelling the classes, so it is block diagonal over the $S_K$-isotypic "
        r"components: trivial (A, B, b: 3 copies), standard (5 copies, multiplicity $K-1$), $[K-2,2]$ "
        r"(symmetric part of family (d); 2 copies, multiplicity $K(K-3)/2$) and $[K-2,1,1]$ (antisymmetric "
        r"part; 2 copies, multiplicity $(K-1)(K-2)/2$).",
    )
    D.identity("isotypic dimensions add up to 2K(K-1) + K (K >= 3)",
               3 + 5 * (K - 1) + 2 * K * (K - 3) / 2 + 2 * (K - 1) * (K - 2) / 2, 2 * K * (K - 1) + K)
    # 2x2 blocks: A = a Y, B = b Y with Y = P (trivial, A_k acts by lambda_t) or Y in family (d)
    # (A_k acts by p_nt), Y^T = eps Y; normalised coordinates give
    # [[lW + mu q, (rho q/K - eps c)/sqrt(n)], [., lH + nu q]], q = lambda_t or p_nt.
    qq, eps = sp.symbols("q epsilon", real=True)
    off = (rho * qq / K - eps * c) / sp.sqrt(n)
    M2 = sp.Matrix([[lW + mu * qq, off], [off, lH + nu * qq]])
    D.identity("off-diagonal: sqrt(mu nu) = rho / (K sqrt(n)) at the minimizer",
               mu * nu, rho**2 / (K**2 * n), display=r"\mu\nu")

    def det_display(sign: str) -> str:
        off = rf"\frac{{\rho q/K {sign} c}}{{\sqrt{{n}}}}"
        return (rf"\det\begin{{pmatrix}}\lambda_W + \mu q & {off}\\ {off} & "
                rf"\lambda_H + \nu q\end{{pmatrix}}")

    D.identity("2x2 block determinant, symmetric Y (eps = +1): 4 q rho c / (K n)",
               M2.det().subs(eps, 1), 4 * qq * rho * c / (K * n), display=det_display("-"))
    D.identity("2x2 block determinant, antisymmetric Y (eps = -1): 0",
               M2.det().subs(eps, -1), 0, display=det_display("+"), text=r"$\epsilon = -1$ (antisymmetric $Y$: rotations inside $V$) gives the null eigenvalue; the "
               r"other eigenvalues are the roots of $x^2 - \operatorname{tr}x + \det$.")
    tr2 = lW + lH + (mu + nu) * qq

    def roots2(qv, ev):
        dt = 2 * qv * rho * c * (1 + ev) / (K * n)
        tv = tr2.subs(qq, qv)
        disc = sp.sqrt(tv**2 - 4 * dt)
        return (tv - disc) / 2, (tv + disc) / 2

    triv_lo, triv_hi = roots2(A.lt, 1)
    sym_lo, sym_hi = roots2(X.p_nt, 1)
    return InSpan2x2(triv_lo, triv_hi, sym_lo, sym_hi, tr2.subs(qq, X.p_nt))


def standard_block(D: Derivation, S: Symbols) -> sp.Matrix:
    """The standard isotypic block (multiplicity K-1): the 4 x 4 matrix in
    (a_1, b_1, b_2, b_3), in the generic p_nt, ||w||, ||h||."""
    K, pt, pnt, delta, w2, h2 = S.K, S.pt, S.pnt, S.delta, S.w2, S.h2
    # standard block: coefficients in the basis diag(v), v 1^T, 1 v^T (v orthogonal to 1, |v| = 1)
    D.identity("(A_k v)_k = p_t v_k - p_t (p.v) = p_t (1 - delta) v_k (p.v = delta v_k)",
               pt - pt * delta, pt * (1 - delta))
    D.identity("v^T A_k v = p_nt |v|^2 + delta v_k^2 - delta^2 v_k^2",
               pnt + delta - delta**2, pnt + delta * (1 - delta))
    M4 = _standard_block(K, S.n, pnt, sp.sqrt(h2), sp.sqrt(w2), S.c, S.lW, S.lH, S.lb)
    D.note(
        "Standard block",
        r"With $A = a_1(\operatorname{diag}v - (v\mathbf 1^\top + \mathbf 1 v^\top)/K) + a_2\,\mathbf 1 v^\top$, "
        r"$B = b_1(\operatorname{diag}v - (v\mathbf 1^\top+\mathbf 1v^\top)/K) + b_2\, v\mathbf 1^\top$, "
        r"$\Delta b = b_3 v$ (orthogonal coordinates) and $\sum_k x_k^\top A_k x_k = a^2 p_t(1-p_t) + "
        r"2a\beta p_t(1-\delta) + \beta^2(Kp_{nt} + \delta(1-\delta))$ for $X = a\operatorname{diag}v + "
        r"\beta v\mathbf 1^\top + \gamma\mathbf 1v^\top$: $a_2$ (a common shift of all classifier rows) "
        r"decouples with eigenvalue $\lambda_W$; $(a_1, b_1, b_2, b_3)$ give the symmetric $4\times4$ "
        r"matrix below (results: `standard_block`), whose characteristic polynomial is the remaining "
        r"quartic factor. For $K=2$, $a_1$ and $b_1$ do not exist (family (c) is empty): keep $(b_2, b_3)$.",
    )
    D.define("standard block (a_1, b_1, b_2, b_3), multiplicity K-1 each", sp.Symbol("M_4"), M4)
    return M4


def summary(D: Derivation) -> None:
    """The table of all block spectra and condition numbers."""
    D.note(
        "Summary (K >= 3; for K = 2 drop the rows with multiplicity K-2, K^2-3K+1 and the lambda_s row)",
        "| block | eigenvalue (loss reading; full: add $\\lambda_W$ / $\\lambda_H$) | multiplicity |\n"
        "|---|---|---|\n"
        "| W | $\\mu K p_t p_{nt}$ | $1$ |\n"
        "| W | $\\mu\\, p_{nt}((K-1)p_t + p_{nt})$ | $K-1$ |\n"
        "| W | $\\mu\\, p_{nt}$ | $K^2-3K+1$ |\n"
        "| W | $0$ | $K(d-K+1) + K-1$ (K=2: $2d-1$) |\n"
        "| H | $\\nu K p_t p_{nt}$ | $N$ |\n"
        "| H | $\\nu\\, p_{nt}$ | $N(K-2)$ |\n"
        "| H | $0$ | $N(d-K+1)$ |\n\n"
        "with $\\mu = \\|h\\|^2/(K-1)$, $\\nu = \\|w\\|^2 K/((K-1)N)$, $\\mu K/\\lambda_W = \\nu K/\\lambda_H "
        "= \\rho/c$. Condition numbers in the non-zero eigenspace: loss reading $K p_t$ (both blocks; 1 "
        "for K=2), $d\\kappa/d\\alpha = -(K-1)$; full reading $1 + \\rho p_t p_{nt}/c$ (W; H when d > K-1), "
        "$d\\kappa/d\\alpha = (\\rho(2p_t-1)-1)/(Kc)$, positive (Theorem 4.2 fails) iff $\\rho(2p_t-1) > 1$; "
        "full H-block with d = K-1: $(\\lambda_H + \\nu K p_t p_{nt})/(\\lambda_H + \\nu p_{nt})$. Joint "
        "Hessian nullity: $(K-1)(2d-K)/2$, $+1$ when $\\lambda_b = 0$; its whole spectrum: the closed-form "
        "pieces above, and the eigenvalues of the $4\\times4$ standard block (roots of a quartic), "
        "multiplicity $K-1$ each.",
    )


def collect_results(D: Derivation, S: Symbols, X: Minimizer, A: AtMinimizer, kappa: dict,
                    g: sp.Expr, nullity: sp.Expr, joint_partial: list, span: InSpan2x2,
                    M4: sp.Matrix) -> None:
    """The results dict: spectra as Tuples of (eigenvalue, multiplicity), the
    condition numbers and their alpha-derivatives, the standard block."""
    K, c, lW = S.K, S.c, S.lW
    D.results.update(
        rho=X.rho, p_target=X.p_t, p_nontarget=X.p_nt, c=c, mu=A.mu, nu=A.nu,
        nullity_rotation=nullity,
        kappa_loss_K3=kappa[("loss", "K>=3")],
        kappa_full=kappa[("W", "full")],
        kappa_H_full_d_eq=kappa[("H", "full", "d=K-1")],
        dkappa_loss_K3=sp.diff(K * X.p_t, S.alpha),
        dkappa_full=(g - 1) / (K * c),
        g_full=g,
    )
    for (blk, rd), spec in A.spectra.items():
        D.results[f"spectrum_{blk}_{rd}"] = sp.Tuple(*[sp.Tuple(v, m) for v, m in spec])
    D.results["joint_partial"] = sp.Tuple(*[sp.Tuple(v, m) for v, m in joint_partial])
    K3 = sp.Ge(K, 3)
    m_sym = sp.Piecewise((K * (K - 3) / 2, K3), (0, True))
    m_anti = sp.Piecewise(((K - 1) * (K - 2) / 2, K3), (0, True))
    D.results["joint_in_span"] = sp.Tuple(
        sp.Tuple(span.triv_lo, 1), sp.Tuple(span.triv_hi, 1), sp.Tuple(lW, K - 1),
        sp.Tuple(span.sym_lo, m_sym), sp.Tuple(span.sym_hi, m_sym),
        sp.Tuple(sp.Integer(0), m_anti), sp.Tuple(span.anti_hi, m_anti))
    D.results["standard_block"] = M4.subs({S.h2: X.h2, S.w2: X.w2, S.pnt: X.p_nt})


def derive() -> Derivation:
    """Build the Theorem 4.2 derivation from scratch (uncached, apart from
    the Theorem 4.1 derivation it starts from; seconds)."""
    M = minimizer_derivation()
    S = make_symbols(M)
    X = minimizer_values(M)
    D = new_derivation(S)
    setting(D)
    Ak = softmax_hessian(D, S)
    H = h_block(D, S, Ak)
    Wk = w_block_kronecker(D, S, Ak)
    lam_s = w_block_family_c(D, S)
    mW = w_block_multiplicities(D, S, Ak, Wk, lam_s)
    A = at_minimizer(D, S, X, Ak, H, Wk, lam_s, mW)
    kappa = condition_numbers(D, S, X, A)
    g = alpha_derivatives(D, S, X)
    nullity = joint_nullity_steps(D, S)
    joint_partial = joint_off_span(D, S, X, A)
    span = joint_in_span_2x2(D, S, X, A)
    M4 = standard_block(D, S)
    summary(D)
    collect_results(D, S, X, A, kappa, g, nullity, joint_partial, span, M4)
    return D


def _standard_block(K, n, pnt, s, t, c, lW, lH, lb) -> sp.Matrix:
    """The 4x4 standard-isotypic block of the joint Hessian inside the ETF span.

    Quadratic form in (a1, b1, b2, b3) built from trace rules for K x K
    matrices in span{diag v, v 1^T, 1 v^T} (v orthogonal to 1, |v| = 1):
    Frobenius Gram [[1,1,1],[1,K,0],[1,0,K]], transpose swaps v1^T and 1v^T,
    P diag v = diag v - 1v^T/K, P v1^T = v1^T, P 1v^T = 0. Coordinates are
    then normalised by the metric (kappa0 ||A||^2, n kappa0 ||B||^2, b3^2).
    """
    pt = 1 - (K - 1) * pnt
    delta = pt - pnt
    k0 = K / (K - 1)
    Gam = sp.Matrix([[1, 1, 1], [1, K, 0], [1, 0, K]])
    frob = lambda x, y: (sp.Matrix(x).T * Gam * sp.Matrix(y))[0]  # noqa: E731
    T = lambda x: [x[0], x[2], x[1]]  # noqa: E731
    Pleft = lambda x: [x[0], x[1], -x[0] / K]  # noqa: E731
    a1, a2, b1, b2, b3 = sp.symbols("a1 a2 b1 b2 b3")
    A = [a1, -a1 / K, a2 - a1 / K]
    B = [b1, b2 - b1 / K, -b1 / K]
    X = [s * k0 * A[i] + t * k0 * B[i] + (b3 if i == 1 else 0) for i in range(3)]
    a, beta = X[0], X[1]
    loss = (a**2 * pt * (1 - pt) + 2 * a * beta * pt * (1 - delta) + beta**2 * (K * pnt + delta * (1 - delta))) / K
    form = sp.expand(loss - 2 * c * k0 * frob(T(Pleft(A)), B)
                     + lW * k0 * frob(A, A) + lH * n * k0 * frob(B, B) + lb * b3**2)
    metric = sp.expand(k0 * frob(A, A) + n * k0 * frob(B, B) + b3**2)
    v = [a1, b1, b2, b3]
    M = sp.Matrix(4, 4, lambda i, j: sp.diff(form, v[i], v[j]) / 2)
    S = sp.diag(*[1 / sp.sqrt(sp.factor(sp.diff(metric, x, 2) / 2)) for x in v])
    return (S * M * S).applyfunc(sp.factor)


@functools.lru_cache(maxsize=1)
def hessian_derivation() -> Derivation:
    """The Theorem 4.2 derivation (cached on disk after the first run)."""
    return cached(derive, __name__, "hessian")


def _derive_alpha_derivatives() -> dict:
    D = hessian_derivation()
    a = D.symbols["alpha"]
    out = {"dkappa_H_full_d_eq": sp.diff(D.results["kappa_H_full_d_eq"], a)}
    for key in ("loss_K3", "full", "H_full_d_eq"):
        out[f"d3kappa_{key}"] = sp.diff(D.results[f"kappa_{key}"], a, 3)
    return out


@functools.lru_cache(maxsize=1)
def _alpha_derivatives() -> dict:
    """Derivatives not worth printing in the proof: d kappa/d alpha for the
    d = K-1 full H-block, and third derivatives (only to bound the truncation
    error of finite differences in the checks). SymPy takes seconds on the
    third derivatives, so they are cached on disk with the derivation."""
    return cached(_derive_alpha_derivatives, __name__, "hessian_alpha_derivatives")


class _Lambdified(dict):
    """Numeric (mpmath) functions of the derivation's results, by name, each
    lambdified the first time it is asked for: printing all ~80 expressions
    costs about 1 s, and a check needs a handful of them."""

    def __missing__(self, key):
        D = hessian_derivation()
        s = D.symbols
        args = [s["K"], s["n"], s["d"], s["alpha"], s["lambda_W"], s["lambda_H"], s["lambda_b"]]

        def f(e):
            # docstring_limit=0: no docstring; printing each expression twice more cost half the time
            return sp.lambdify(args, e, modules="mpmath", docstring_limit=0)

        if key == "standard_block_K2":
            value = f(D.results["standard_block"][2:, 2:])  # K = 2: only (b2, b3) exist
        elif key in D.results and isinstance(D.results[key], sp.Tuple):
            value = [(f(val), f(m)) for val, m in D.results[key]]
        elif key in D.results:
            value = f(D.results[key])
        else:
            extra = _alpha_derivatives()
            if key not in extra:
                raise KeyError(key)
            value = f(extra[key])
        self[key] = value
        return value


@functools.lru_cache(maxsize=1)
def _numeric() -> _Lambdified:
    return _Lambdified()


def _args(p: UFMProblem):
    return (p.K, p.n, p.d, p.alpha, p.lam_W, p.lam_H, p.lam_b)


def _require(p: UFMProblem) -> None:
    if not isinstance(p, UFMProblem):
        raise ValueError(f"problem={p!r} is not a UFMProblem")
    if p.collapsed:
        raise ValueError(f"problem has alpha + K c = {p.threshold:g} >= 1 (collapsed regime, "
                         "minimizer 0); allowed: alpha + K sqrt(n lam_W lam_H) < 1")
    if not p.etf_fits:
        raise ValueError(f"d={p.d} < K-1={p.K - 1}; allowed: d >= K-1 (room for a simplex ETF)")


def _check_block(block: str, reading: str) -> None:
    if block not in BLOCKS:
        raise ValueError(f"block={block!r}; allowed: {BLOCKS}")
    if reading not in READINGS:
        raise ValueError(f"reading={reading!r}; allowed: {READINGS}")


def spectrum(problem: UFMProblem, block: str, reading: str) -> list[list]:
    """Exact eigenvalues [[value, multiplicity], ...] (ascending, multiplicities
    > 0, equal values merged) of the `block` Hessian ("W" or "H") in `reading`
    ("loss": data term alone, "full": regularized objective)."""
    _require(problem)
    _check_block(block, reading)
    a = _args(problem)
    pairs = [(float(v(*a)), int(m(*a))) for v, m in _numeric()[f"spectrum_{block}_{reading}"]]
    merged: dict[float, int] = {}
    for v, m in pairs:
        if m > 0:
            merged[v] = merged.get(v, 0) + m
    return [[v, m] for v, m in sorted(merged.items())]


def joint_nullity(problem: UFMProblem) -> int:
    """Nullity of the joint Hessian of the full objective in (W, H, b):
    (K-1)(2d-K)/2 rotation directions, + 1 (bias along 1) when lam_b = 0."""
    _require(problem)
    K, d = problem.K, problem.d
    return (K - 1) * (2 * d - K) // 2 + (1 if problem.lam_b == 0 else 0)


def joint_partial_spectrum(problem: UFMProblem) -> list[list]:
    """Joint-Hessian eigenvalues known in closed form, [[value, multiplicity]]
    (ascending, equal values merged), a sub-multiset of the spectrum: the
    within-class block, the bias along 1, and the block orthogonal to the ETF
    span (lam_W + lam_H, lam_W, lam_H, and rotation zeros). The other
    2K(K-1) + K - 1 eigenvalues do not depend on d."""
    _require(problem)
    a = _args(problem)
    merged: list[list] = []
    for v, m in sorted((float(v(*a)), int(m(*a))) for v, m in _numeric()["joint_partial"]):
        if m <= 0:
            continue
        if merged and abs(v - merged[-1][0]) <= 1e-12 * max(abs(v), 1e-300):
            merged[-1][1] += m  # equal values (e.g. lam_W = lam_H) add up
        else:
            merged.append([v, m])
    return merged


def joint_spectrum(problem: UFMProblem) -> list[list]:
    """The whole joint-Hessian spectrum of the full objective in (W, H, b),
    [[value, multiplicity]] ascending (values equal to 1e-12 merged): the
    closed-form pieces (`joint_partial_spectrum`, the trivial and
    [K-2,2]/[K-2,1,1] 2x2 blocks) and the eigenvalues of the 4x4 standard
    block (2x2 for K = 2; each of multiplicity K-1), the roots of the
    remaining quartic factor of the characteristic polynomial."""
    import numpy as np

    _require(problem)
    a = _args(problem)
    num = _numeric()
    pairs = [(float(v(*a)), int(m(*a))) for v, m in num["joint_partial"]]
    pairs += [(float(v(*a)), int(m(*a))) for v, m in num["joint_in_span"]]
    Mb = num["standard_block" if problem.K >= 3 else "standard_block_K2"](*a)
    Mb = np.array(Mb.tolist(), dtype=float)
    pairs += [(float(x), problem.K - 1) for x in np.linalg.eigvalsh(0.5 * (Mb + Mb.T))]
    merged: list[list] = []
    for v, m in sorted(pairs):
        if m <= 0:
            continue
        if merged and abs(v - merged[-1][0]) <= 1e-12 * max(abs(v), abs(merged[-1][0]), 1e-300):
            merged[-1][1] += m
        else:
            merged.append([v, m])
    return merged


def _case(p: UFMProblem, block: str, reading: str) -> str:
    if reading == "loss":
        return "loss_K3" if p.K >= 3 else "one"
    if block == "H" and p.d == p.K - 1:
        return "H_full_d_eq" if p.K >= 3 else "one"
    return "full"


def _kappa_derivative(problem: UFMProblem, block: str, reading: str, key: str, order: int) -> float:
    """kappa (order 0) or its order-th alpha-derivative, from the closed form
    `key_<case>`; the constant case ("one", kappa = 1) gives 1 or 0."""
    _require(problem)
    _check_block(block, reading)
    case = _case(problem, block, reading)
    if case == "one":
        return 1.0 if order == 0 else 0.0
    return float(_numeric()[f"{key}_{case}"](*_args(problem)))


def condition_number(problem: UFMProblem, block: str, reading: str) -> float:
    """lambda_max / lambda_min over the non-zero eigenvalues (closed form)."""
    return _kappa_derivative(problem, block, reading, "kappa", 0)


def condition_number_derivative(problem: UFMProblem, block: str, reading: str) -> float:
    """d kappa / d alpha at fixed K, d, n, lam_W, lam_H (closed form)."""
    return _kappa_derivative(problem, block, reading, "dkappa", 1)


def condition_number_third_derivative(problem: UFMProblem, block: str, reading: str) -> float:
    """d^3 kappa / d alpha^3 (closed form), to bound finite-difference error."""
    return _kappa_derivative(problem, block, reading, "d3kappa", 3)


def derivative_sign(problem: UFMProblem, block: str, reading: str) -> int:
    """-1 (kappa falls as alpha grows: Theorem 4.2 holds here), 0 or +1."""
    v = condition_number_derivative(problem, block, reading)
    return (v > 0) - (v < 0)


def full_reading_turning_point(problem: UFMProblem) -> float | None:
    """alpha* where rho(2 p_t - 1) = 1 (K, n, lam_W, lam_H fixed): for the full
    W-block (and full H-block when d > K-1) kappa rises on [0, alpha*) and
    falls on (alpha*, 1 - K c). None when rho(2 p_t - 1) <= 1 already at
    alpha = 0 (then kappa falls on the whole non-collapsed range)."""
    _require(problem)
    g = _numeric()["g_full"]
    K, n, d, _, lW, lH, lb = _args(problem)
    hi = 1.0 - K * problem.c
    G = lambda a: float(g(K, n, d, a, lW, lH, lb)) - 1.0  # noqa: E731
    if G(0.0) <= 0.0:
        return None
    return bisect(lambda a: -G(a), 0.0, hi * (1 - 1e-15))  # G is decreasing on [0, hi) (see derivation)
