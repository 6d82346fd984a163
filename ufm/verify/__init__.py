"""The verifier: claims registry, check groups, report and command line."""

from ufm.verify.cli import GROUPS as GROUPS, main as main, run_groups as run_groups
from ufm.verify.context import VerifyContext as VerifyContext
from ufm.nc.problem import UFMProblem as UFMProblem
