"""The verifier: claims registry, check groups, report and command line.

``python -m ufm.verify`` (see `ufm.verify.cli`). The pieces, in the order a
result flows through them:

- `ufm.verify.claims`: the registry, one record per claim (paper, location,
  statement, reading, kind);
- `ufm.verify.groups`: one module per check group; each measures and judges;
- `ufm.verify.run`: runs the groups and settles each result against its claim;
- `ufm.verify.result`: `CheckResult`, with its evidence status and verdict;
- `ufm.verify.report`: the screen, the summary and the JSON record;
- `ufm.verify.markdown`: the Markdown report with figures (``--report``).
"""

from ufm.verify.claims import CLAIMS as CLAIMS, Claim as Claim, claim_of_check as claim_of_check
from ufm.verify.cli import main as main
from ufm.verify.result import (
    EVIDENCE as EVIDENCE,
    VERDICTS as VERDICTS,
    CheckResult as CheckResult,
)
from ufm.verify.run import GROUPS as GROUPS, run_group as run_group, run_groups as run_groups
