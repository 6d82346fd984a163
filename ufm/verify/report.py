"""Saying the results: the screen, the per-paper summary and the JSON record.

This layer words and formats; it never judges (the check groups and
`ufm.verify.run.settle` do). The Markdown report with figures is
`ufm.verify.markdown`.

>>> fmt_value([[0.0, 11], [0.0159599, 5]])
'0 ×11, 0.0159599 ×5'
"""

from __future__ import annotations

import json
import os
import tempfile
import textwrap

from ufm.verify.claims import CLAIMS, PAPER_SHORT, PAPERS
from ufm.verify.result import CheckResult, to_jsonable
from ufm.verify.run import GROUPS, claim_verdict, claims_checked

WIDTH = 100
_VERDICT_WORDS = {
    "holds": "hold",
    "holds_under_conditions": "hold under conditions",
    "false": "false here",
    "not_reproduced": "not reproduced",
    "inconclusive": "inconclusive",
}


def _is_spectrum(x) -> bool:
    return (isinstance(x, (list, tuple)) and len(x) > 0
            and all(isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[1], int) for v in x))


def fmt_value(x) -> str:
    """A value for the screen: numbers to 6 digits, spectra as value ×multiplicity."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        return f"{x:.6g}"
    if _is_spectrum(x):
        return ", ".join(f"{float(v):.6g} ×{m}" for v, m in x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(fmt_value(v) for v in x) + "]"
    if hasattr(x, "tolist"):
        return fmt_value(x.tolist())
    return str(x)


def _wrap(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH - indent, initial_indent=" " * indent,
                         subsequent_indent=" " * indent, break_on_hyphens=False) or [" " * indent]


def _measure_line(r: CheckResult) -> str:
    e, o = fmt_value(r.expected), fmt_value(r.observed)
    parts = [f"expected = observed: {e}"] if e == o else [f"expected {e}", f"observed {o}"]
    if r.error is not None:
        kind = f" ({r.error_kind})" if r.error_kind else ""
        tol = f" vs tolerance {fmt_value(r.tolerance)}" if r.tolerance is not None else ""
        parts.append(f"error{kind} {fmt_value(r.error)}{tol}")
    return " · ".join(parts)


def format_check(r: CheckResult) -> list[str]:
    """Lines for one check: id and its two answers; claim id and source; what
    was checked; the numbers; why contradicted; the verdict's reason."""
    lines = [f"  {r.id:<34} evidence: {r.status:<13} verdict: {r.verdict or '-'}"]
    lines += _wrap(f"[{r.claim_id or 'no registered claim'}] {r.source}", 6)
    lines += _wrap(r.claim, 6)
    if r.status in ("confirmed", "contradicted"):
        lines += _wrap(_measure_line(r), 6)
    if r.status == "contradicted" and r.details.get("reason"):
        lines += _wrap("why contradicted: " + str(r.details["reason"]), 6)
    if r.verdict_reason and r.verdict not in (None, "holds"):
        lines += _wrap(f"{r.verdict.replace('_', ' ')}: {r.verdict_reason}", 6)
    if r.details.get("finding"):
        lines += _wrap("finding (extension): " + str(r.details["finding"]), 6)
    return lines


def _grouped_reasons(results: list[CheckResult]) -> list[str]:
    """not_applicable and skipped reasons, each said once with the checks it covers."""
    by: dict[tuple[str, str], list[str]] = {}
    for r in results:
        if r.status in ("not_applicable", "skipped"):
            by.setdefault((r.status, str(r.details.get("reason", ""))), []).append(r.id)
    lines = []
    for (status, reason), ids in by.items():
        lines += _wrap(f"{status.replace('_', ' ')} ({len(ids)}: {', '.join(ids)}): {reason}", 2)
    return lines


def format_group(name: str, results: list[CheckResult], seconds: float) -> str:
    """The block printed when group `name` finishes."""
    base, _, label = name.partition(" [")
    g = GROUPS.get(base)
    title = g.title if g else name
    lines = [f"== {name} ({seconds:.1f} s) " + "=" * max(0, WIDTH - len(name) - 16)]
    lines += _wrap(title, 0)
    if label and results:
        prob = results[0].details.get("problem", {})
        shown = {k: v for k, v in prob.items() if v is not None and not (k == "loss" and v == "ce")
                 and not (k == "bias" and v is True)}
        lines += _wrap("Side problem, run beside yours: " + " ".join(
            f"{k}={v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{k}={v}"
            for k, v in shown.items()), 0)
    if g and not g.uses_problem:
        lines += _wrap("This group does not use the problem above: " + g.note, 0)
    for r in results:
        if r.status in ("confirmed", "contradicted"):
            lines += format_check(r)
    lines += _grouped_reasons(results)
    return "\n".join(lines)


def summarize(results: list[CheckResult]) -> dict:
    """Per paper: claims by verdict, the package's own results, evidence counts."""
    out: dict = {}
    by_claim = claims_checked(results)
    for paper in PAPERS:
        verdicts = {v: 0 for v in _VERDICT_WORDS}
        derived = {"confirmed": 0, "contradicted": 0}
        not_judged = 0
        evidence = {"confirmed": 0, "contradicted": 0, "not_applicable": 0, "skipped": 0}
        for cid, rs in by_claim.items():
            claim = CLAIMS.get(cid)
            if claim is None or claim.paper != paper:
                continue
            for r in rs:
                evidence[r.status] += 1
            if claim.kind == "derived":
                bad = any(r.status == "contradicted" for r in rs)
                if any(r.status in ("confirmed", "contradicted") for r in rs):
                    derived["contradicted" if bad else "confirmed"] += 1
                continue
            v = claim_verdict(rs)
            if v is None:
                not_judged += 1
            else:
                verdicts[v] += 1
        out[paper] = {"title": PAPERS[paper], "claims": verdicts, "claims_not_judged": not_judged,
                      "package_results": derived, "evidence": evidence}
    unregistered = [r for r in results if r.claim_id is None]
    if unregistered:
        out["unregistered"] = {"evidence": {s: sum(r.status == s for r in unregistered)
                                            for s in ("confirmed", "contradicted",
                                                      "not_applicable", "skipped")}}
    return out


def format_summary(summary: dict) -> str:
    lines = ["== summary " + "=" * (WIDTH - 11)]
    for paper, s in summary.items():
        if paper not in PAPERS:
            continue
        if not any(s["evidence"].values()):
            continue
        claims = ", ".join(f"{n} {'claim' if n == 1 else 'claims'} "
                           f"{_VERDICT_WORDS[v] if n != 1 else _VERDICT_WORDS[v].replace('hold', 'holds', 1)}"
                           for v, n in s["claims"].items() if n)
        text = f"{PAPER_SHORT[paper]}: {claims or 'no claim judged'}"
        if s["claims_not_judged"]:
            text += f"; {s['claims_not_judged']} not judged (not applicable or skipped here)"
        if any(s["package_results"].values()):
            d = s["package_results"]
            text += (f"; the package's own results (extensions): {d['confirmed']} confirmed"
                     + (f", {d['contradicted']} contradicted" if d["contradicted"] else ""))
        ev = s["evidence"]
        text += "; evidence: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in ev.items()
                                           if n or k in ("confirmed", "contradicted"))
        lines += _wrap(text, 0)
    if "unregistered" in summary:
        lines += _wrap(f"checks on no registered claim: {summary['unregistered']['evidence']}", 0)
    return "\n".join(lines)


def exit_code(results: list[CheckResult], strict: bool = False) -> int:
    """0 when no check is contradicted, 1 when any is; with `strict`, also 1
    when any verdict is other than ``holds``."""
    if any(r.status == "contradicted" for r in results):
        return 1
    if strict and any(r.verdict not in (None, "holds") for r in results):
        return 1
    return 0


def explain_exit(results: list[CheckResult], strict: bool) -> str:
    code = exit_code(results, strict)
    bad = [r.id for r in results if r.status == "contradicted"]
    if bad:
        return (f"exit 1: {len(bad)} check(s) contradicted ({', '.join(bad)}): the package's "
                "derivation and measurement disagree, or a step it needs failed.")
    off = [r.id for r in results if r.verdict not in (None, "holds")]
    if strict and off:
        return (f"exit 1 (--strict): no check is contradicted, but {len(off)} verdict(s) on the "
                "papers are other than 'holds'.")
    assert code == 0
    return ("exit 0: no check is contradicted. Verdicts on the papers (false here, not reproduced, "
            "...) are findings, not failures; --strict exits 1 on them.")


def record(results: list[CheckResult], config: dict, environment: dict, version: str) -> dict:
    """The JSON record (see the README for its fields)."""
    return to_jsonable({
        "ufm_version": version,
        "config": config,
        "environment": environment,
        "checks": [{**r.to_json(), "paper": CLAIMS[r.claim_id].paper if r.claim_id in CLAIMS else None}
                   for r in results],
        "passed": sum(r.status == "confirmed" for r in results),
        "failed": sum(r.status == "contradicted" for r in results),
        "summary": summarize(results),
    })


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ufm-verify-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str, rec: dict) -> None:
    write_atomic(path, json.dumps(rec, indent=2, allow_nan=False))
