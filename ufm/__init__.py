"""ufm: label smoothing, machine-checked.

Two papers turned into checked mathematics: the unconstrained feature model
of "Cross Entropy versus Label Smoothing: A Neural Collapse Perspective"
(closed forms derived in SymPy, measured in JAX), and the SGD-with-label-
smoothing bounds of "Towards Understanding Label Smoothing".

float64 is required: call ``jax.config.update("jax_enable_x64", True)`` once
at the start of a program. ``python -m ufm.verify`` does so itself.
"""

__version__ = "0.1.0"

from ufm.verify.result import CheckResult as CheckResult
from ufm.verify.context import VerifyContext as VerifyContext
from ufm.core.derivation import Derivation as Derivation
from ufm.nc.metrics import nc1 as nc1, nc2 as nc2, nc3 as nc3
from ufm.nc.objective import (
    UFMParams as UFMParams,
    init_params as init_params,
    loss_term as loss_term,
    objective as objective,
    regularizer as regularizer,
    soft_labels as soft_labels,
)
from ufm.nc.problem import UFMProblem as UFMProblem
from ufm.nc.minimizer.solve import Solution as Solution, solve as solve
from ufm.nc.minimizer.derivation import (
    closed_form as closed_form,
    minimizer_derivation as minimizer_derivation,
)
from ufm.nc.hessian.derivation import (
    hessian_derivation as hessian_derivation,
    spectrum as hessian_spectrum,
    condition_number as hessian_condition_number,
    condition_number_derivative as hessian_condition_number_derivative,
    joint_nullity as hessian_joint_nullity,
    joint_spectrum as hessian_joint_spectrum,
)
from ufm.nc.hessian.numeric import (
    block_hessian as block_hessian,
    joint_hessian as joint_hessian,
    cluster_eigenvalues as cluster_eigenvalues,
    hvp as hvp,
    lanczos_extremes as lanczos_extremes,
)
from ufm.tsla.bounds import (
    bounds as lsr_derivation,
    lemma1_bound as lemma1_bound,
    thm3_parameters as thm3_parameters,
    thm4_parameters as thm4_parameters,
    thm5_parameters as thm5_parameters,
    total_samples as total_samples,
    table1_orders as table1_orders,
)
from ufm.tsla.problems import (
    LogRegProblem as LogRegProblem,
    QuadraticLSRProblem as QuadraticLSRProblem,
    estimate_constants as estimate_constants,
)
from ufm.tsla.simulate import (
    simulate as simulate_lsr,
    sgd_logreg_seeds as sgd_logreg_seeds,
    upper_confidence as upper_confidence,
)
from ufm.tsla.algorithm import (
    OnlineConstants as OnlineConstants,
    TSLAState as TSLAState,
    make_tsla_step as make_tsla_step,
    smooth_labels as smooth_labels,
    theory_switch_step as theory_switch_step,
    tsla_labels as tsla_labels,
)
from ufm.nc.calibration import (
    expected_calibration_error as expected_calibration_error,
    fit_temperature as fit_temperature,
    reliability_diagram as reliability_diagram,
)
from ufm.nc.digits import train_digits as train_digits
from ufm.nc.dynamics import Trajectory as Trajectory, steps_to_reach as steps_to_reach, sweep as sweep
from ufm.nc.metrics import (
    class_mean_norms as class_mean_norms,
    classifier_norms as classifier_norms,
    nc_metrics as nc_metrics,
)
