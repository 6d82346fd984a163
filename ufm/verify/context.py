"""What a group of checks receives: the problem, the seed, and shared work.

Groups share expensive results through the context (the numerical solve is
computed once and used by the `minimizer` and `hessian` groups alike).
`problem` is the UFM instance the CLI was given; groups that run their own
fixed experiments (`lsr`, `dynamics`, `calibration`) do not read it, and
say so (`ufm.verify.run.GROUPS`). Library code is silent: `progress` does
nothing unless the caller (the CLI) injects a reporter.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from ufm.nc.minimizer.solve import Solution, solve
from ufm.nc.problem import UFMProblem


def _silent(message: str) -> None:
    pass


@dataclasses.dataclass
class VerifyContext:
    problem: UFMProblem
    seed: int = 0
    quick: bool = False
    full: bool = False  # paper-scale experiments (slower); groups without any ignore it
    progress: Callable[[str], None] = _silent
    cache: dict = dataclasses.field(default_factory=dict)

    def solution(self) -> Solution:
        """The UFM solved from a random start (seed), to rel. gradient 1e-10."""
        if "solution" not in self.cache:
            p = self.problem
            self.progress(f"solving the UFM (K={p.K}, d={p.d}, n={p.n}, {p.num_params} parameters) with L-BFGS")
            self.cache["solution"] = solve(p, seed=self.seed)
        return self.cache["solution"]
