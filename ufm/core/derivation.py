"""A derivation: a list of steps, each algebraic identity confirmed by SymPy.

`Derivation` is the common currency of the symbolic side. A step is one of

* a *definition* (nothing to check); `Derivation.abbreviate` is a definition
  that also introduces a display symbol (``c`` for ``sqrt(n lam_W lam_H)``),
  substituted for its expression in the rendering of every later step (the
  checks always run on the real expressions),
* an *identity* ``lhs == rhs``, confirmed by `sympy.simplify` (falling back to
  other canonical forms); an identity SymPy cannot confirm is kept and
  flagged ``verified=False`` (never skipped), with a numeric spot check
  recorded so a reader can see whether it is a SymPy weakness or an error,
* a *cited* fact that is not algebra (e.g. a matrix inequality from the
  literature), stated with its reference and flagged as such.

`Derivation.to_markdown()` renders the proof documents in ``proofs/``. An
identity is displayed as the computation: the unevaluated left side (``display=``,
or an unevaluated ``lhs`` such as ``sp.Derivative``/``sp.Limit``/``sp.Subs``, which
is checked after ``doit()``), the computed value when it differs from both, and
the right side, e.g. ``d/dx x^2 = 2 x``, never ``2 x = 2 x``.

>>> import sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> d = Derivation("demo", source="none")
>>> d.identity("square", (x + 1) ** 2, x**2 + 2 * x + 1)
True
>>> d.identity("derivative", sp.Derivative(x**2, x), 2 * x)
True
>>> d.steps[-1].lhs, d.steps[-1].display
(2*x, Derivative(x**2, x))
>>> d.all_verified
True
"""

from __future__ import annotations

import dataclasses
import pathlib
import random

import sympy as sp


_POSITIVE = sp.Symbol("(>0)")  # marks a positivity step's rhs


@dataclasses.dataclass
class Step:
    kind: str  # "definition" | "identity" | "cited" | "note"
    title: str
    text: str = ""
    lhs: sp.Basic | None = None
    rhs: sp.Basic | None = None
    verified: bool | None = None  # None: nothing to verify
    method: str = ""
    # the unevaluated computation shown before `lhs` (an expression, or raw LaTeX)
    display: sp.Basic | str | None = None
    abbreviates: bool = False  # a definition whose lhs symbol stands for rhs in later steps


_UNEVALUATED = (sp.Derivative, sp.Integral, sp.Limit, sp.Sum, sp.Product, sp.Subs,
                sp.UnevaluatedExpr)


def _has_unevaluated(expr) -> bool:
    return isinstance(expr, sp.Basic) and any(isinstance(a, _UNEVALUATED)
                                              for a in sp.preorder_traversal(expr))


def _numeric_spot_check(expr: sp.Expr, trials: int = 5) -> float | None:
    """Largest |expr| at random positive points; None if it cannot evaluate."""
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    rng = random.Random(0)
    worst = 0.0
    for _ in range(trials):
        subs = {s: sp.Rational(rng.randint(1, 97), rng.randint(100, 997)) for s in free}
        try:
            v = complex(sp.N(expr.subs(subs), 30))
        except (TypeError, ValueError):
            return None
        worst = max(worst, abs(v))
    return worst


def is_zero(expr: sp.Expr) -> tuple[bool, str]:
    """Try several canonical forms; return (confirmed, method)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True, "structural"
    for name, fn in (
        ("simplify", sp.simplify),
        ("expand_log+simplify", lambda e: sp.simplify(sp.expand_log(e, force=True))),
        ("together+cancel", lambda e: sp.cancel(sp.together(e))),
        ("exp rewrite", lambda e: sp.simplify(e.rewrite(sp.exp))),
    ):
        try:
            if fn(expr) == 0:
                return True, name
        except Exception:  # SymPy may raise on exotic forms; try the next one
            continue
    return False, "not confirmed by SymPy"


@dataclasses.dataclass
class Derivation:
    title: str
    source: str
    steps: list[Step] = dataclasses.field(default_factory=list)
    results: dict[str, sp.Expr] = dataclasses.field(default_factory=dict)
    symbols: dict[str, sp.Symbol] = dataclasses.field(default_factory=dict)

    def define(self, title: str, lhs, rhs, text: str = "") -> sp.Expr:
        self.steps.append(Step("definition", title, text, sp.sympify(lhs), sp.sympify(rhs)))
        return rhs

    def abbreviate(self, title: str, symbol: sp.Symbol, expr, text: str = "") -> sp.Symbol:
        """A definition ``symbol = expr`` after which the rendering of every later
        step shows `symbol` wherever `expr` occurs (display only: checks, results
        and the returned expressions are unchanged). Returns `symbol`."""
        self.steps.append(Step("definition", title, text, sp.sympify(symbol), sp.sympify(expr),
                               abbreviates=True))
        return symbol

    def identity(self, title: str, lhs, rhs, text: str = "", display=None) -> bool:
        """Check ``lhs == rhs`` and record the step.

        `display` (a SymPy expression, unevaluated if need be, or a LaTeX string)
        is the computation shown before the computed `lhs`. An `lhs` holding
        unevaluated operations (``sp.Derivative(f, x)``, ``sp.Limit``, ``sp.Subs``,
        ``sp.UnevaluatedExpr``, ...) is shown as given and checked as ``lhs.doit()``.
        """
        lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
        if _has_unevaluated(lhs):
            display = lhs if display is None else display
            lhs = lhs.doit()
        ok, method = is_zero(lhs - rhs)
        if not ok:
            spot = _numeric_spot_check(lhs - rhs)
            method += f"; numeric spot check max|lhs-rhs| = {spot!r}"
        self.steps.append(Step("identity", title, text, lhs, rhs, ok, method, display=display))
        return ok

    def positive(self, title: str, expr, text: str = "") -> bool:
        """Record that `expr` > 0 under the symbols' assumptions."""
        e = sp.simplify(sp.sympify(expr))
        ok = bool(e.is_positive)
        method = "sympy assumptions: is_positive" if ok else "positivity not confirmed by SymPy"
        self.steps.append(Step("identity", title, text, e, _POSITIVE, ok, method))
        return ok

    def cited(self, title: str, text: str, source: str = "") -> None:
        """A fact that is not algebra; `source` names exactly what is cited (paper and
        theorem/lemma, or the standard fact and a reference), rendered as *Cited:*."""
        self.steps.append(Step("cited", title, text, verified=None, method="cited, not algebra",
                               display=source or None))

    def note(self, title: str, text: str) -> None:
        self.steps.append(Step("note", title, text))

    @property
    def all_verified(self) -> bool:
        return all(s.verified is not False for s in self.steps)

    @property
    def unverified(self) -> list[Step]:
        return [s for s in self.steps if s.verified is False]

    @staticmethod
    def _display_line(s: Step, abbrev: dict) -> str:
        """``shown = computed = rhs`` with repeats dropped (symbols of `abbrev` substituted)."""
        def tex(e):
            if isinstance(e, str):
                return e
            if abbrev:  # (an abbreviation's own symbol is added after its step)
                # longest expressions first, so that c*K is not cut inside c
                for old, new in sorted(abbrev.items(), key=lambda kv: -sp.count_ops(kv[0])):
                    e = e.subs(old, new)
            return sp.latex(e)
        if s.rhs == _POSITIVE:
            return f"{tex(s.lhs)} > 0"
        sides = [tex(s.display)] if s.display is not None else []
        for e in (s.lhs, s.rhs):
            t = tex(e)
            if not sides or " ".join(t.split()) != " ".join(sides[-1].split()):
                sides.append(t)
        if len(sides) == 1:  # rhs identical to the only shown side: keep the form lhs = rhs
            sides.append(sides[0])
        return " = ".join(sides)

    def to_markdown(self) -> str:
        out = [f"# {self.title}", "", f"Source: {self.source}", ""]
        out.append(
            "Every *identity* below was confirmed by SymPy when this file was "
            "generated; a step SymPy could not confirm is marked **UNVERIFIED**. "
            "*Cited* steps are facts from the literature, not algebra."
        )
        out.append("")
        abbrev: dict[sp.Basic, sp.Basic] = {}  # expression -> display symbol, from abbreviate()
        for i, s in enumerate(self.steps, 1):
            tag = {
                "definition": "definition",
                "identity": "identity, verified by SymPy" if s.verified else "identity, **UNVERIFIED**",
                "cited": "cited",
                "note": "note",
            }[s.kind]
            out.append(f"## Step {i}. {s.title} ({tag})")
            out.append("")
            if s.text:
                out += [s.text, ""]
            if s.kind == "cited" and s.display:
                out += [f"*Cited:* {s.display}", ""]
            if s.lhs is not None:
                out += ["$$", self._display_line(s, abbrev), "$$", ""]
            if s.abbreviates:
                abbrev[s.rhs] = s.lhs
            if s.kind == "identity":
                out += [f"Check: `{s.method}`.", ""]
        out += ["## Results", ""]
        for name, expr in self.results.items():
            out += [f"- `{name}`: $${sp.latex(expr)}$$"]
        out.append("")
        return "\n".join(out)


def proof_main(argv: list[str], script: str, derive, extra_markdown=None) -> int:
    """Command line of a ``proofs/*.py`` script, shared by all of them.

    Regenerates ``<script>.md`` from ``derive()`` (never the disk cache: a
    proof is rebuilt from scratch), plus ``extra_markdown()`` if given. With
    ``--check``, writes nothing and exits 1 if a step is unverified or the
    Markdown on disk is out of date.
    """
    out = pathlib.Path(script).with_suffix(".md")
    D = derive()
    text = D.to_markdown() + ("\n" + extra_markdown() if extra_markdown else "")
    bad = [s.title for s in D.unverified]
    if "--check" in argv:
        stale = not out.exists() or out.read_text() != text
        if bad:
            print("UNVERIFIED steps:", *bad, sep="\n  ")
        if stale:
            print(f"{out.name} is out of date: run python {script}")
        return 1 if bad or stale else 0
    out.write_text(text)
    print(f"wrote {out} ({len(D.steps)} steps, {len(bad)} unverified)")
    return 0 if not bad else 1
