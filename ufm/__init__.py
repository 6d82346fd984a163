"""ufm: label smoothing, machine-checked.

Two papers turned into checked mathematics: the unconstrained feature model
of "Cross Entropy versus Label Smoothing: A Neural Collapse Perspective"
(closed forms derived in SymPy, measured in JAX), and the SGD-with-label-
smoothing bounds of "Towards Understanding Label Smoothing".

Layout:

* ``ufm.core``: shared machinery (derivation records, the derivation cache, float64).
* ``ufm.nc``: the NC paper: UFM problem and objective, minimizer, Hessian, metrics, calibration, dynamics, digits.
* ``ufm.tsla``: the TSLA paper: bounds, test problems, the Monte Carlo simulator, the TSLA algorithm.
* ``ufm.verify``: the verifier (``python -m ufm.verify``): claims, check groups, run, report, CLI.
* ``ufm.internal``: private helpers re-exported for tests and benchmarks; not stable API.

The names below are the public API, grouped by paper.

float64 is required: call ``jax.config.update("jax_enable_x64", True)`` once
at the start of a program. ``python -m ufm.verify`` does so itself.
"""

# The public API is imported lazily: ``import ufm`` (and so ``python -m
# ufm.verify --help``) must not pay for jax and sympy before anything needs
# them. Every public name is listed here, grouped by paper, with the module
# that defines it; the first access imports that module.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS: dict[str, str | tuple[str, str]] = {
    # shared
    "Derivation": "ufm.core.derivation",
    "enable_compilation_cache": "ufm.core.cache",
    # NC paper: the UFM problem and objective
    "UFMProblem": "ufm.nc.problem",
    "UFMParams": "ufm.nc.objective",
    "init_params": "ufm.nc.objective",
    "loss_term": "ufm.nc.objective",
    "objective": "ufm.nc.objective",
    "regularizer": "ufm.nc.objective",
    "soft_labels": "ufm.nc.objective",
    "problem_objective": "ufm.nc.objective",
    # your own variant: losses (Zhou et al. 2022), class sizes and bias live in UFMProblem
    "Loss": "ufm.nc.losses.loss",
    "cross_entropy_loss": ("ufm.nc.losses.jax_forms", "cross_entropy"),
    "focal_loss": ("ufm.nc.losses.jax_forms", "focal"),
    "mse_loss": ("ufm.nc.losses.jax_forms", "mse"),
    # NC paper: Theorem 4.1, the global minimizer (SymPy closed form, JAX solve)
    "closed_form": "ufm.nc.minimizer.derivation",
    "minimizer_derivation": "ufm.nc.minimizer.derivation",
    "Solution": "ufm.nc.minimizer.solve",
    "solve": "ufm.nc.minimizer.solve",
    "Certificate": "ufm.nc.minimizer.certificate",
    "certify": "ufm.nc.minimizer.certificate",
    "certifiable": "ufm.nc.minimizer.certificate",
    # NC paper: Theorem 4.2, Hessian spectra and condition numbers (SymPy closed forms)
    "hessian_derivation": "ufm.nc.hessian.derivation",
    "hessian_spectrum": ("ufm.nc.hessian.derivation", "spectrum"),
    "hessian_condition_number": ("ufm.nc.hessian.derivation", "condition_number"),
    "hessian_condition_number_derivative": ("ufm.nc.hessian.derivation", "condition_number_derivative"),
    "hessian_full_reading_turning_point": ("ufm.nc.hessian.derivation", "full_reading_turning_point"),
    "hessian_joint_nullity": ("ufm.nc.hessian.derivation", "joint_nullity"),
    "hessian_joint_partial_spectrum": ("ufm.nc.hessian.derivation", "joint_partial_spectrum"),
    "hessian_joint_spectrum": ("ufm.nc.hessian.derivation", "joint_spectrum"),
    # NC paper: Theorem 4.2, Hessians measured (JAX, dense and matrix-free)
    "block_hessian": "ufm.nc.hessian.numeric",
    "joint_hessian": "ufm.nc.hessian.numeric",
    "cluster_eigenvalues": "ufm.nc.hessian.numeric",
    "condition_number_from_eigenvalues": "ufm.nc.hessian.numeric",
    "hvp": "ufm.nc.hessian.numeric",
    "lanczos_extremes": "ufm.nc.hessian.numeric",
    # NC paper: neural-collapse metrics NC1-NC3 and norms
    "nc1": "ufm.nc.metrics",
    "nc2": "ufm.nc.metrics",
    "nc3": "ufm.nc.metrics",
    "nc_metrics": "ufm.nc.metrics",
    "class_mean_norms": "ufm.nc.metrics",
    "classifier_norms": "ufm.nc.metrics",
    "nc4": "ufm.nc.metrics",
    "nc2_features": "ufm.nc.metrics",
    "equinorm": "ufm.nc.metrics",
    "equiangularity": "ufm.nc.metrics",
    "cdnv": "ufm.nc.metrics",
    "class_variances": "ufm.nc.metrics",
    "nc1_per_class": "ufm.nc.metrics",
    "nc1_subset": "ufm.nc.metrics",
    "VARIANT_LABELS": "ufm.nc.metrics",
    # NC paper: the metrics streamed over batches (features that do not fit in memory)
    "NCStats": "ufm.nc.accumulate",
    "NCPass2": "ufm.nc.accumulate",
    "nc_accumulate_init": ("ufm.nc.accumulate", "init"),
    "nc_accumulate_update": ("ufm.nc.accumulate", "update"),
    "nc_second_pass": ("ufm.nc.accumulate", "second_pass"),
    "nc_update_second_pass": ("ufm.nc.accumulate", "update_second_pass"),
    "nc_finalize": ("ufm.nc.accumulate", "finalize"),
    # NC paper: training dynamics on the UFM
    "Trajectory": "ufm.nc.dynamics",
    "steps_to_reach": "ufm.nc.dynamics",
    "sweep": "ufm.nc.dynamics",
    # NC paper: calibration (Section 3.3) and the digits experiment
    "expected_calibration_error": "ufm.nc.calibration",
    "fit_temperature": "ufm.nc.calibration",
    "nll": "ufm.nc.calibration",
    "reliability_diagram": "ufm.nc.calibration",
    "maximum_calibration_error": "ufm.nc.calibration",
    "classwise_calibration_error": "ufm.nc.calibration",
    "bootstrap_ci": "ufm.nc.calibration",
    "bin_indices": "ufm.nc.calibration",
    "load_digits_splits": ("ufm.nc.digits", "load_splits"),
    "train_digits": "ufm.nc.digits",
    # TSLA paper: Lemma 1, Theorems 3-5 and Table 1 (SymPy-derived bounds)
    "lsr_derivation": ("ufm.tsla.bounds", "bounds"),
    "evaluate_bound": ("ufm.tsla.bounds", "evaluate"),
    "lemma1_bound": "ufm.tsla.bounds",
    "thm3_parameters": "ufm.tsla.bounds",
    "thm4_parameters": "ufm.tsla.bounds",
    "thm5_parameters": "ufm.tsla.bounds",
    "total_samples": "ufm.tsla.bounds",
    "table1_orders": "ufm.tsla.bounds",
    # TSLA paper: test problems with known constants
    "LogRegProblem": "ufm.tsla.problems",
    "QuadraticLSRProblem": "ufm.tsla.problems",
    "estimate_constants": "ufm.tsla.problems",
    "moment_recursion": "ufm.tsla.problems",
    # TSLA paper: the SGD Monte Carlo simulator
    "simulate_lsr": ("ufm.tsla.simulate", "simulate"),
    "sgd_logreg_seeds": "ufm.tsla.simulate",
    "tsla_stages": "ufm.tsla.simulate",
    "upper_confidence": "ufm.tsla.simulate",
    # TSLA paper: Algorithm 2 (two-stage label smoothing) around an optax optimizer
    "OnlineConstants": "ufm.tsla.algorithm",
    "TSLAState": "ufm.tsla.algorithm",
    "make_tsla_step": "ufm.tsla.algorithm",
    "smooth_labels": "ufm.tsla.algorithm",
    "theory_switch_step": "ufm.tsla.algorithm",
    "tsla_labels": "ufm.tsla.algorithm",
    # verifier
    "CheckResult": "ufm.verify.result",
    "VerifyContext": "ufm.verify.context",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    try:
        where = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'ufm' has no attribute {name!r}") from None
    module, attr = (where, name) if isinstance(where, str) else where
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # the same names, for static tools
    from ufm.core.derivation import Derivation as Derivation
    from ufm.core.cache import enable_compilation_cache as enable_compilation_cache
    from ufm.nc.problem import UFMProblem as UFMProblem
    from ufm.nc.objective import UFMParams as UFMParams
    from ufm.nc.objective import init_params as init_params
    from ufm.nc.objective import loss_term as loss_term
    from ufm.nc.objective import objective as objective
    from ufm.nc.objective import regularizer as regularizer
    from ufm.nc.objective import soft_labels as soft_labels
    from ufm.nc.objective import problem_objective as problem_objective
    from ufm.nc.losses.loss import Loss as Loss
    from ufm.nc.losses.jax_forms import cross_entropy as cross_entropy_loss
    from ufm.nc.losses.jax_forms import focal as focal_loss
    from ufm.nc.losses.jax_forms import mse as mse_loss
    from ufm.nc.minimizer.derivation import closed_form as closed_form
    from ufm.nc.minimizer.derivation import minimizer_derivation as minimizer_derivation
    from ufm.nc.minimizer.solve import Solution as Solution
    from ufm.nc.minimizer.solve import solve as solve
    from ufm.nc.minimizer.certificate import Certificate as Certificate
    from ufm.nc.minimizer.certificate import certify as certify
    from ufm.nc.minimizer.certificate import certifiable as certifiable
    from ufm.nc.hessian.derivation import hessian_derivation as hessian_derivation
    from ufm.nc.hessian.derivation import spectrum as hessian_spectrum
    from ufm.nc.hessian.derivation import condition_number as hessian_condition_number
    from ufm.nc.hessian.derivation import condition_number_derivative as hessian_condition_number_derivative
    from ufm.nc.hessian.derivation import full_reading_turning_point as hessian_full_reading_turning_point
    from ufm.nc.hessian.derivation import joint_nullity as hessian_joint_nullity
    from ufm.nc.hessian.derivation import joint_partial_spectrum as hessian_joint_partial_spectrum
    from ufm.nc.hessian.derivation import joint_spectrum as hessian_joint_spectrum
    from ufm.nc.hessian.numeric import block_hessian as block_hessian
    from ufm.nc.hessian.numeric import joint_hessian as joint_hessian
    from ufm.nc.hessian.numeric import cluster_eigenvalues as cluster_eigenvalues
    from ufm.nc.hessian.numeric import condition_number_from_eigenvalues as condition_number_from_eigenvalues
    from ufm.nc.hessian.numeric import hvp as hvp
    from ufm.nc.hessian.numeric import lanczos_extremes as lanczos_extremes
    from ufm.nc.metrics import nc1 as nc1
    from ufm.nc.metrics import nc2 as nc2
    from ufm.nc.metrics import nc3 as nc3
    from ufm.nc.metrics import nc_metrics as nc_metrics
    from ufm.nc.metrics import class_mean_norms as class_mean_norms
    from ufm.nc.metrics import classifier_norms as classifier_norms
    from ufm.nc.dynamics import Trajectory as Trajectory
    from ufm.nc.dynamics import steps_to_reach as steps_to_reach
    from ufm.nc.dynamics import sweep as sweep
    from ufm.nc.calibration import expected_calibration_error as expected_calibration_error
    from ufm.nc.calibration import fit_temperature as fit_temperature
    from ufm.nc.calibration import nll as nll
    from ufm.nc.calibration import reliability_diagram as reliability_diagram
    from ufm.nc.digits import load_splits as load_digits_splits
    from ufm.nc.digits import train_digits as train_digits
    from ufm.tsla.bounds import bounds as lsr_derivation
    from ufm.tsla.bounds import evaluate as evaluate_bound
    from ufm.tsla.bounds import lemma1_bound as lemma1_bound
    from ufm.tsla.bounds import thm3_parameters as thm3_parameters
    from ufm.tsla.bounds import thm4_parameters as thm4_parameters
    from ufm.tsla.bounds import thm5_parameters as thm5_parameters
    from ufm.tsla.bounds import total_samples as total_samples
    from ufm.tsla.bounds import table1_orders as table1_orders
    from ufm.tsla.problems import LogRegProblem as LogRegProblem
    from ufm.tsla.problems import QuadraticLSRProblem as QuadraticLSRProblem
    from ufm.tsla.problems import estimate_constants as estimate_constants
    from ufm.tsla.problems import moment_recursion as moment_recursion
    from ufm.tsla.simulate import simulate as simulate_lsr
    from ufm.tsla.simulate import sgd_logreg_seeds as sgd_logreg_seeds
    from ufm.tsla.simulate import tsla_stages as tsla_stages
    from ufm.tsla.simulate import upper_confidence as upper_confidence
    from ufm.tsla.algorithm import OnlineConstants as OnlineConstants
    from ufm.tsla.algorithm import TSLAState as TSLAState
    from ufm.tsla.algorithm import make_tsla_step as make_tsla_step
    from ufm.tsla.algorithm import smooth_labels as smooth_labels
    from ufm.tsla.algorithm import theory_switch_step as theory_switch_step
    from ufm.tsla.algorithm import tsla_labels as tsla_labels
    from ufm.verify.result import CheckResult as CheckResult
    from ufm.verify.context import VerifyContext as VerifyContext
    from ufm.nc.metrics import nc4 as nc4, nc2_features as nc2_features, equinorm as equinorm
    from ufm.nc.metrics import equiangularity as equiangularity, cdnv as cdnv
    from ufm.nc.metrics import class_variances as class_variances, nc1_per_class as nc1_per_class
    from ufm.nc.metrics import nc1_subset as nc1_subset, VARIANT_LABELS as VARIANT_LABELS
    from ufm.nc.accumulate import NCStats as NCStats, NCPass2 as NCPass2
    from ufm.nc.accumulate import init as nc_accumulate_init, update as nc_accumulate_update
    from ufm.nc.accumulate import second_pass as nc_second_pass, finalize as nc_finalize
    from ufm.nc.accumulate import update_second_pass as nc_update_second_pass
    from ufm.nc.calibration import maximum_calibration_error as maximum_calibration_error
    from ufm.nc.calibration import classwise_calibration_error as classwise_calibration_error
    from ufm.nc.calibration import bootstrap_ci as bootstrap_ci, bin_indices as bin_indices
