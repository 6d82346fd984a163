"""What a group of checks receives: the problem, the seed, and shared work.

Groups share expensive results through the context (the numerical solve is
computed once and used by the `minimizer` and `hessian` groups alike).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Callable

from ufm.nc.problem import UFMProblem
from ufm.nc.minimizer.solve import Solution, solve


def _stderr_progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class VerifyContext:
    problem: UFMProblem
    seed: int = 0
    quick: bool = False
    progress: Callable[[str], None] = _stderr_progress
    cache: dict = dataclasses.field(default_factory=dict)

    def solution(self) -> Solution:
        """The UFM solved from a random start (seed), to rel. gradient 1e-10."""
        if "solution" not in self.cache:
            p = self.problem
            self.progress(f"solving the UFM (K={p.K}, d={p.d}, n={p.n}, {p.num_params} parameters) with L-BFGS")
            self.cache["solution"] = solve(p, seed=self.seed)
        return self.cache["solution"]
