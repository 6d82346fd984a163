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

__version__ = "0.1.0"

# shared
from ufm.core.derivation import Derivation as Derivation

# NC paper: the UFM problem and objective
from ufm.nc.problem import UFMProblem as UFMProblem
from ufm.nc.objective import (
    UFMParams as UFMParams,
    init_params as init_params,
    loss_term as loss_term,
    objective as objective,
    regularizer as regularizer,
    soft_labels as soft_labels,
)

# NC paper: Theorem 4.1, the global minimizer (SymPy closed form, JAX solve)
from ufm.nc.minimizer.derivation import (
    closed_form as closed_form,
    minimizer_derivation as minimizer_derivation,
)
from ufm.nc.minimizer.solve import Solution as Solution, solve as solve

# NC paper: Theorem 4.2, Hessian spectra and condition numbers (SymPy closed forms)
from ufm.nc.hessian.derivation import (
    hessian_derivation as hessian_derivation,
    spectrum as hessian_spectrum,
    condition_number as hessian_condition_number,
    condition_number_derivative as hessian_condition_number_derivative,
    full_reading_turning_point as hessian_full_reading_turning_point,
    joint_nullity as hessian_joint_nullity,
    joint_partial_spectrum as hessian_joint_partial_spectrum,
    joint_spectrum as hessian_joint_spectrum,
)

# NC paper: Theorem 4.2, Hessians measured (JAX, dense and matrix-free)
from ufm.nc.hessian.numeric import (
    block_hessian as block_hessian,
    joint_hessian as joint_hessian,
    cluster_eigenvalues as cluster_eigenvalues,
    condition_number_from_eigenvalues as condition_number_from_eigenvalues,
    hvp as hvp,
    lanczos_extremes as lanczos_extremes,
)

# NC paper: neural-collapse metrics NC1-NC3 and norms
from ufm.nc.metrics import (
    nc1 as nc1,
    nc2 as nc2,
    nc3 as nc3,
    nc_metrics as nc_metrics,
    class_mean_norms as class_mean_norms,
    classifier_norms as classifier_norms,
)

# NC paper: training dynamics on the UFM
from ufm.nc.dynamics import (
    Trajectory as Trajectory,
    steps_to_reach as steps_to_reach,
    sweep as sweep,
)

# NC paper: calibration (Section 3.3) and the digits experiment
from ufm.nc.calibration import (
    expected_calibration_error as expected_calibration_error,
    fit_temperature as fit_temperature,
    nll as nll,
    reliability_diagram as reliability_diagram,
)
from ufm.nc.digits import (
    load_splits as load_digits_splits,
    train_digits as train_digits,
)

# TSLA paper: Lemma 1, Theorems 3-5 and Table 1 (SymPy-derived bounds)
from ufm.tsla.bounds import (
    bounds as lsr_derivation,
    evaluate as evaluate_bound,
    lemma1_bound as lemma1_bound,
    thm3_parameters as thm3_parameters,
    thm4_parameters as thm4_parameters,
    thm5_parameters as thm5_parameters,
    total_samples as total_samples,
    table1_orders as table1_orders,
)

# TSLA paper: test problems with known constants
from ufm.tsla.problems import (
    LogRegProblem as LogRegProblem,
    QuadraticLSRProblem as QuadraticLSRProblem,
    estimate_constants as estimate_constants,
    moment_recursion as moment_recursion,
)

# TSLA paper: the SGD Monte Carlo simulator
from ufm.tsla.simulate import (
    simulate as simulate_lsr,
    sgd_logreg_seeds as sgd_logreg_seeds,
    tsla_stages as tsla_stages,
    upper_confidence as upper_confidence,
)

# TSLA paper: Algorithm 2 (two-stage label smoothing) around an optax optimizer
from ufm.tsla.algorithm import (
    OnlineConstants as OnlineConstants,
    TSLAState as TSLAState,
    make_tsla_step as make_tsla_step,
    smooth_labels as smooth_labels,
    theory_switch_step as theory_switch_step,
    tsla_labels as tsla_labels,
)

# verifier
from ufm.verify.result import CheckResult as CheckResult
from ufm.verify.context import VerifyContext as VerifyContext
