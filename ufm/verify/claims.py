"""The claims registry: one record per claim that ``python -m ufm.verify`` checks.

A *claim* is what a paper states (or what the package derives beyond it); a
*check* is one measurement that bears on it. Several checks may bear on one
claim (Theorem 4.1's minimizer is checked through its logit gap, norms, bias
and collapse). Each record says

* ``paper``: ``"nc"`` (Cross Entropy versus Label Smoothing: A Neural
  Collapse Perspective), ``"tsla"`` (Towards Understanding Label
  Smoothing), or ``"lit"``: the results of the UFM literature that a variant
  (``--loss``, ``--class-sizes``, ``--no-bias``) is checked against
  (Zhou et al. 2022; Thrampoulidis et al. 2022; Fang et al. 2021);
* ``location``: theorem, equation, figure or section in that paper;
* ``statement``: the paper's statement, in a short sentence of our own;
* ``reading``: how the package reads it where the paper is ambiguous, and
  which reading is the paper's own;
* ``kind``: ``theorem`` (a stated result with a proof), ``empirical`` (a
  finding from experiments, reproduced on small fixed experiments here) or
  ``derived`` (a result the package derives beyond the paper: an extension,
  never a refutation of the paper);
* ``group`` and ``checks``: the check group and the check ids that bear on it.

Claim ids are stable: reports, JSON records and tests refer to them.

>>> CLAIMS["nc.thm41.logit_gap"].location
'Theorem 4.1'
>>> claim_of_check("minimizer.w_norm_sq").id
'nc.thm41.norms'
"""

from __future__ import annotations

import dataclasses

PAPERS = {
    "nc": "Cross Entropy versus Label Smoothing: A Neural Collapse Perspective",
    "tsla": "Towards Understanding Label Smoothing",
    "lit": "The UFM literature on other losses and unbalanced classes (checked on your variant)",
}
PAPER_SHORT = {"nc": "NC paper", "tsla": "TSLA paper", "lit": "literature"}
KINDS = ("theorem", "empirical", "derived")


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    location: str
    statement: str
    kind: str
    group: str
    checks: tuple[str, ...]
    reading: str = ""

    def __post_init__(self):
        if self.paper not in PAPERS:
            raise ValueError(f"paper={self.paper!r} is not known; allowed: {', '.join(PAPERS)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} is not known; allowed: {', '.join(KINDS)}")

    @property
    def source(self) -> str:
        return f"{PAPER_SHORT[self.paper]}, {self.location}"


def _c(*args, **kw) -> Claim:
    return Claim(*args, **kw)


_LOSS_READING = ("the paper's own reading: the Hessian of the empirical loss (the CE/LS term, "
                 "without the regularizers; Appendix E, eq. (40)), condition number taken in "
                 "its non-zero eigenspace")
_FULL_READING = ("extension, not the paper's reading: the Hessian of the whole regularized "
                 "objective (9), which governs gradient descent on that objective")

_REGISTRY: tuple[Claim, ...] = (
    # ---- NC paper, Theorem 4.1 (group minimizer) --------------------------------------
    _c("nc.thm41.logit_gap", "nc", "Theorem 4.1",
       "At every global minimizer of the UFM the logit gap is rho = log(K/(alpha + K c) - (K - 1)), "
       "c = sqrt(n lam_W lam_H); the minimizer is 0 when alpha + K c >= 1.",
       "theorem", "minimizer", ("minimizer.rho", "minimizer.threshold")),
    _c("nc.thm41.p_target", "nc", "eq. (13)-(14)",
       "At the minimizer the target probability is p_t = 1 - (K - 1)(alpha/K + c), and it falls as "
       "alpha grows.", "theorem", "minimizer", ("minimizer.p_target",)),
    _c("nc.thm41.norms", "nc", "Theorem 4.1",
       "||w_k||^2 = (K-1)/K rho sqrt(n lam_H/lam_W) and ||h_{k,i}||^2 = (K-1)/K rho "
       "sqrt(lam_W/(n lam_H)) at every global minimizer.", "theorem", "minimizer",
       ("minimizer.w_norm_sq", "minimizer.h_norm_sq")),
    _c("nc.thm41.bias", "nc", "Theorem 4.1",
       "The minimizer's bias is 0 when lam_b > 0 (free along the all-ones vector when lam_b = 0).",
       "theorem", "minimizer", ("minimizer.bias",)),
    _c("nc.thm41.collapse", "nc", "Theorem 4.1, eq. (4)-(6)",
       "Every global minimizer is a neural-collapse configuration: features at their class means "
       "(NC1), a simplex ETF (NC2), classifier and class means aligned (NC3).",
       "theorem", "minimizer", ("minimizer.nc1", "minimizer.nc2", "minimizer.nc3")),
    _c("nc.thm41.objective", "nc", "Theorem 4.1, eq. (9)-(10)",
       "The closed-form configuration attains the global minimum value of the objective.",
       "theorem", "minimizer",
       ("minimizer.objective", "minimizer.certificate", "minimizer.multistart")),
    # ---- NC paper, Theorem 4.2 (group hessian) ----------------------------------------
    _c("nc.thm42.W_spectrum", "nc", "Theorem 4.2, Appendix E, eq. (56)",
       "At the minimizer the W-block Hessian (H fixed) has four distinct eigenvalues, zero "
       "included, with their multiplicities.", "theorem", "hessian",
       ("hessian.W.loss.spectrum",), reading=_LOSS_READING),
    _c("nc.thm42.H_spectrum", "nc", "Theorem 4.2, Appendix E, eq. (49)",
       "At the minimizer the H-block Hessian (W fixed) is block diagonal over samples with three "
       "distinct eigenvalues, zero included, with their multiplicities.", "theorem", "hessian",
       ("hessian.H.loss.spectrum",), reading=_LOSS_READING),
    _c("nc.thm42.condition", "nc", "Theorem 4.2, eq. (15)",
       "The condition number of the W- and H-block Hessians at the minimizer is a function of p_t; "
       "a larger smoothing parameter alpha gives a smaller p_t and so a smaller condition number.",
       "theorem", "hessian",
       ("hessian.W.loss.condition", "hessian.H.loss.condition", "hessian.thm42.loss"),
       reading=_LOSS_READING),
    _c("ext.hessian.full", "nc", "extension of Theorem 4.2",
       "Spectra and condition numbers of the W- and H-block Hessians of the regularized objective "
       "at the minimizer, and how the condition number moves with alpha.",
       "derived", "hessian",
       ("hessian.W.full.spectrum", "hessian.W.full.condition", "hessian.H.full.spectrum",
        "hessian.H.full.condition", "hessian.thm42.full"), reading=_FULL_READING),
    _c("ext.hessian.joint", "nc", "extension of Theorem 4.2",
       "The joint Hessian in (W, H, b) at the minimizer: nullity (K-1)(2d-K)/2 (+1 when lam_b = 0) "
       "from the rotation symmetry, and its whole spectrum.", "derived", "hessian",
       ("hessian.joint.nullity", "hessian.joint.spectrum"), reading=_FULL_READING),
    # ---- NC paper, empirical claims (groups dynamics, calibration) --------------------
    _c("nc.emp.ls_faster", "nc", "Section 3.1, Fig. 1, Table 1; Fig. 9-10 (UFM)",
       "Label smoothing converges faster than cross-entropy in training error, NC1, NC2 and the "
       "gradient norm; on the simulated UFM, larger alpha converges faster over a wide range.",
       "empirical", "dynamics",
       ("dynamics.ls_faster_nc1", "dynamics.ls_faster_nc2", "dynamics.ls_faster_grad_rel",
        "dynamics.ls_faster_train_error"),
       reading="read on gradient descent on the UFM (K=10, d=32, n=50): steps to reach fixed "
               "levels, every alpha > 0 of the grid against alpha = 0, paired one-sided t-test over "
               "seeds at level 0.05"),
    _c("nc.emp.nc2_at_equal_nc1", "nc", "Section 3.2, Fig. 2",
       "At the same level of NC1, label smoothing has the smaller NC2.", "empirical", "dynamics",
       ("dynamics.nc2_at_equal_nc1",)),
    _c("nc.emp.norms", "nc", "Appendix B.6, Fig. 8",
       "Trained norms of W and H approach the Theorem 4.1 values, to a relative error below 0.01.",
       "empirical", "dynamics", ("dynamics.norms_match_theory",)),
    _c("nc.emp.u_shape", "nc", "Appendix B.4, Fig. 6",
       "NC1, NC2 and the test error are U-shaped in alpha: very small and very large alpha "
       "collapse less.", "empirical", "dynamics",
       ("dynamics.u_shape", "calibration.test_error_u_shape")),
    _c("nc.emp.ece_raw", "nc", "Section 3.3, Fig. 3",
       "Without temperature scaling, label smoothing with a suitable alpha has a lower ECE than "
       "cross-entropy.", "empirical", "calibration", ("calibration.ls_lower_ece_raw",),
       reading="read on a small MLP on scikit-learn's digits, alpha chosen on a validation split; "
               "paired one-sided t-test over seeds at level 0.05"),
    _c("nc.emp.ece_after_ts", "nc", "Section 3.3, Fig. 3",
       "After temperature scaling, cross-entropy has the lower ECE.", "empirical", "calibration",
       ("calibration.ce_lower_ece_after_ts",)),
    _c("nc.emp.temperature", "nc", "Section 3.3, Fig. 3",
       "The optimal temperature falls as alpha grows.", "empirical", "calibration",
       ("calibration.temperature_falls_with_alpha",)),
    _c("nc.emp.wrong_nc1_falls", "nc", "Section 3.3, Fig. 4",
       "During training, NC1 of the wrongly classified test samples, measured against their "
       "predicted class, falls.", "empirical", "calibration", ("calibration.wrong_nc1_falls",),
       reading="read on the digits MLP: nc1_subset of the test features, class means and Sigma_B of "
               "all test samples, centres = predicted classes; step 1/4 against the end of the "
               "budget, every alpha of the grid, paired one-sided t-test over seeds at level 0.05"),
    _c("nc.emp.wrong_entropy_falls", "nc", "Section 3.3, Fig. 4",
       "During training, the mean predictive entropy of the wrongly classified test samples falls.",
       "empirical", "calibration", ("calibration.wrong_entropy_falls",),
       reading="read on the digits MLP: step 1/4 against the end of the budget, every alpha of the "
               "grid, paired one-sided t-test over seeds at level 0.05"),
    _c("nc.emp.ece_rises_terminal", "nc", "Section 3.3, Fig. 4",
       "In the terminal phase of training (training error near 0), the test ECE rises.",
       "empirical", "calibration", ("calibration.ece_rises_terminal",),
       reading="read on the digits MLP: step 1/2 of the budget (training error at most about 0.5%) "
               "against the end, every alpha of the grid, paired one-sided t-test over seeds at "
               "level 0.05"),
    # ---- TSLA paper (group lsr) --------------------------------------------------------
    _c("tsla.lemma1", "tsla", "Lemma 1",
       "The variance of the smoothed-label stochastic gradient is at most (1 - theta) sigma^2 + "
       "theta delta sigma^2.", "theorem", "lsr", ("lsr.lemma1",)),
    _c("tsla.thm3", "tsla", "Theorem 3",
       "SGD with LSR (eta = 1/L, theta = 1/(1 + delta)) reaches E||grad F||^2 <= eps^2 in "
       "O(1/eps^2) steps when delta <= eps^2/(4 sigma^2), and only 4 delta sigma^2 otherwise.",
       "theorem", "lsr", ("lsr.thm3.case1", "lsr.thm3.case2", "lsr.thm3.logreg")),
    _c("tsla.thm5", "tsla", "Theorem 5 (Appendix C)",
       "SGD without LSR reaches E||grad F||^2 <= eps^2 in O(1/eps^4) steps.", "theorem", "lsr",
       ("lsr.thm5", "lsr.thm5.logreg")),
    _c("tsla.thm4", "tsla", "Theorem 4",
       "TSLA with SGD (theta = 1/(1 + delta) for T1 steps, then one-hot labels with eta2 = "
       "eps^2/(2 L sigma^2) for T2 steps) reaches E_R||grad F(w_R)||^2 <= eps^2, given "
       "sigma^2 delta/mu <= F(w0).", "theorem", "lsr",
       ("lsr.thm4", "lsr.thm4.stage1", "lsr.assume.eps2_le_2sigma2", "lsr.assume.T1_condition")),
    _c("tsla.setting.F_nonneg", "tsla", "Section 3 (setting), Theorems 3-5",
       "The bounds of Theorems 3-5 are stated with F(w0) in place of the gap F(w0) - F*.",
       "theorem", "lsr", ("lsr.assume.F_star_nonneg",),
       reading="the loss is a cross-entropy, so F* >= 0; the check shows what the bounds need"),
    _c("tsla.sec5.delta_ge_1", "tsla", "Section 5, after Theorem 4",
       "For delta >= 1 the baseline (SGD without LSR) beats TSLA.", "theorem", "lsr",
       ("lsr.assume.delta_ge_1",)),
    _c("tsla.table1", "tsla", "Table 1",
       "The total sample complexities of TSLA, LSR and the baseline in four regimes of delta.",
       "theorem", "lsr",
       ("lsr.table1", "lsr.table1.row1", "lsr.table1.row2", "lsr.table1.row3", "lsr.table1.row4",
        "lsr.table1.empirical", "lsr.table1.empirical.row1", "lsr.table1.empirical.row2",
        "lsr.table1.empirical.row3", "lsr.table1.empirical.row4")),
    _c("tsla.sec6.lsr_pre", "tsla", "Section 6 (LSR-pre)",
       "A teacher's predicted distribution as yhat gives a smaller delta than the uniform yhat.",
       "empirical", "lsr", ("lsr.logreg.lsr_pre",),
       reading="read on L2 logistic regression with a teacher trained on the same data"),
    _c("ext.tsla.simulator", "tsla", "instrument for Theorems 3-5",
       "The Monte Carlo simulator of Algorithms 1-2 agrees with the exact moment recursion of "
       "the quadratic problem (including its noise-correlation term), has the constants the "
       "theorems are given, and the closed-form noise levels of logistic regression equal brute-force "
       "per-sample gradients.", "derived", "lsr",
       ("lsr.sim.moments", "lsr.sim.moments.correlation", "lsr.sim.constants", "lsr.lemma1.logreg")),
    # ---- your variant: other losses, unbalanced classes, no bias (groups minimizer, hessian) --
    _c("ext.variant.reduction", "lit", "symmetric reduction (extension of Theorem 4.1)",
       "For a loss symmetric under class permutations, the objective at the simplex-ETF ansatz "
       "reduces to f(rho, beta) = l(rho(e_k - 1/K) + beta 1, y_k) + c(K-1) rho + lam_b K beta^2/2; its "
       "minimizer (closed form, or certified to 30 digits by interval arithmetic) gives the logit gap, "
       "p_t, the norms, the bias and the optimal value of the solve.", "derived", "minimizer",
       tuple(f"minimizer.variant.{k}" for k in ("rho", "p_target", "w_norm_sq", "h_norm_sq", "bias",
                                                 "objective", "threshold"))),
    _c("lit.zhou22.collapse", "lit", "Zhou et al. (2022), Are All Losses Created Equal, Sec. 3",
       "With balanced classes and d >= K-1, the global minimizers of the regularized UFM under "
       "cross-entropy, label smoothing, focal and MSE losses are neural-collapse solutions: features "
       "at their class means, class means and classifiers a self-dual simplex ETF.", "theorem", "minimizer",
       tuple(f"minimizer.variant.{k}" for k in ("nc1", "nc2", "nc3", "certificate", "multistart")),
       reading="checked on the user's loss; global optimality is certified for convex losses (CE, "
               "MSE) and rests on agreeing random starts for the focal loss (not convex in the logits)"),
    _c("lit.imbalance.nc1", "lit", "Thrampoulidis et al. (2022), Imbalance Trouble",
       "With unbalanced classes the features of each class still collapse to their class mean at the "
       "global minimizer of the UFM (NC1 = 0).", "theorem", "minimizer", ("minimizer.imbalance.nc1",)),
    _c("lit.imbalance.geometry", "lit", "Thrampoulidis et al. (2022), Imbalance Trouble",
       "With unbalanced classes the class means and classifiers are not a simplex ETF (NC2 > 0).",
       "empirical", "minimizer", ("minimizer.imbalance.etf_lost",)),
    _c("lit.fang21.minority_collapse", "lit", "Fang et al. (2021), PNAS, minority collapse",
       "As the imbalance ratio grows, the angle between the minority classes' classifiers shrinks, "
       "and beyond a finite ratio they collapse onto one direction.", "empirical", "minimizer",
       ("minimizer.imbalance.minority_collapse",),
       reading="stated for the norm-constrained Layer-Peeled Model; read here on the regularized UFM "
               "(weight decay), majority classes of R samples and minority classes of 1"),
    _c("ext.variant.hessian", "lit", "extension of Theorem 4.2 to your variant",
       "At the variant's minimizer the Hessian is positive semi-definite, its null space contains the "
       "rotation orbit (dimension (K-1)(2d-K)/2 at rank K-1, + 1 for a free bias with a shift-invariant "
       "loss) and, where the minimizer is the simplex ETF, is exactly that, "
       "and, where the reduction applies, the W- and H-block loss spectra follow from the per-sample "
       "loss Hessian at the reduced logits (the structure of Theorem 4.2, with the loss's own Hessian "
       "in place of diag(p) - p p^T).", "derived", "hessian",
       ("hessian.variant.psd", "hessian.variant.nullity", "hessian.variant.W_spectrum",
        "hessian.variant.H_spectrum")),
    # ---- instruments, each against a known answer (group instruments) ------------------
    _c("ext.instrument.nc_metrics", "nc", "instrument for eq. (4)-(6)",
       "NC1, NC2 and NC3 as implemented equal their closed forms on a configuration with known "
       "within-class spread and a classifier turned off the simplex ETF by a known angle.",
       "derived", "instruments", ("instruments.nc1", "instruments.nc2", "instruments.nc3")),
    _c("ext.instrument.ece", "nc", "instrument for Section 3.3 (ECE)",
       "The expected calibration error as implemented equals the exact value on hand-built bins, "
       "confidences exactly at the bin edges (1/K .. 1) included.", "derived", "instruments",
       ("instruments.ece", "instruments.ece.edges")),
    _c("ext.instrument.lanczos", "nc", "instrument for Theorem 4.2",
       "Dense and Lanczos Hessian spectra as implemented equal a known spectrum with zero "
       "eigenvalues (the W-block loss Hessian (P/K) (x) (H H^T/N) at W = 0).", "derived",
       "instruments", ("instruments.dense_hessian", "instruments.lanczos")),
    _c("ext.instrument.solver_flag", "nc", "instrument for Theorem 4.1 (the numerical solve)",
       "The solver's converged flag is False on a run capped before convergence and True on a full "
       "run, as the recomputed gradient norm says.", "derived", "instruments",
       ("instruments.solver.capped", "instruments.solver.full")),
    _c("ext.instrument.ucb", "tsla", "instrument for Lemma 1, Theorems 3-5 (Monte Carlo bounds)",
       "The one-sided CLT upper confidence bound covers a known mean with its exact coverage and is "
       "not loose (its width is z c4 sigma/sqrt(n)).", "derived", "instruments",
       ("instruments.ucb.coverage", "instruments.ucb.width")),
    _c("ext.instrument.smoothness", "tsla", "instrument for Assumption 1 (L, mu, sigma^2)",
       "The test problems' constants hold as measured: the quadratic's L, mu, sigma^2 and "
       "delta sigma^2 exactly, logistic regression's Hessian within [lam, L_bound].", "derived",
       "instruments", ("instruments.smoothness.quadratic", "instruments.smoothness.noise",
                       "instruments.smoothness.logreg")),
    _c("ext.instrument.moments", "tsla", "instrument for Theorems 3-5 (exact moment recursion)",
       "The exact moment recursion agrees with Monte Carlo to within a standard error smaller than "
       "a quarter of its smallest term.", "derived", "instruments", ("instruments.moments",)),
)

CLAIMS: dict[str, Claim] = {c.id: c for c in _REGISTRY}
_BY_CHECK: dict[str, Claim] = {chk: c for c in _REGISTRY for chk in c.checks}


def claim_of_check(check_id: str) -> Claim | None:
    """The claim a check bears on; None for a check id the registry does not know."""
    return _BY_CHECK.get(check_id)


def claims_of(paper: str | None = None, group: str | None = None) -> list[Claim]:
    """The registered claims, optionally of one paper and/or one group, in registry order."""
    return [c for c in _REGISTRY if (paper is None or c.paper == paper)
            and (group is None or c.group == group)]
