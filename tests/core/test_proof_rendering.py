"""Proofs a referee can follow: every displayed identity shows a computation.

No ``$$ a = a $$`` in any ``proofs/*.md`` (the left side was evaluated before it
was printed); the unevaluated left side, the computed value and the right side
are rendered by `Derivation.identity`'s ``display=`` / unevaluated ``lhs``; and
`Derivation.abbreviate` symbols replace their expressions in the rendering only.
"""

import pathlib
import re

import pytest
import sympy as sp

from ufm.core.derivation import Derivation

PROOFS = sorted((pathlib.Path(__file__).parent.parent.parent / "proofs").glob("*.md"))


def _split_top_level(latex: str) -> list[str]:
    """Split a displayed line on the ``=`` signs outside braces (``\\right|_{x = 1}`` stays)."""
    parts, depth, cur = [], 0, ""
    for ch in latex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "=" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def displayed_equations(text: str) -> list[str]:
    return re.findall(r"^\$\$\n(.*?)\n\$\$$", text, re.S | re.M)


def identical_sides(text: str) -> list[str]:
    """The displayed equations of `text` with two string-equal sides."""
    bad = []
    for eq in displayed_equations(text):
        sides = [_norm(s) for s in _split_top_level(eq)]
        if len(sides) > 1 and len(set(sides)) < len(sides):
            bad.append(eq)
    return bad


def test_the_checker_catches_identical_sides():
    assert identical_sides("$$\n1 = 1\n$$\n") == ["1 = 1"]
    assert identical_sides("$$\nK = K - 1 + 1 = K\n$$\n") == ["K = K - 1 + 1 = K"]
    assert identical_sides("$$\n\\left. x \\right|_{x = 1} = 1\n$$\n") == []


def test_there_are_proofs_to_check():
    assert len(PROOFS) >= 4


@pytest.mark.parametrize("md", PROOFS, ids=[p.name for p in PROOFS])
def test_no_displayed_step_has_two_identical_sides(md):
    text = md.read_text()
    assert displayed_equations(text), md
    bad = identical_sides(text)
    assert not bad, f"{md.name}: {len(bad)} displayed steps with identical sides:\n" + "\n".join(bad)


@pytest.mark.parametrize("md", PROOFS, ids=[p.name for p in PROOFS])
def test_cited_steps_name_their_source(md):
    text = md.read_text()
    blocks = re.findall(r"^## Step \d+\. .*\(cited\)\n\n(.*?)(?=^## )", text, re.S | re.M)
    for block in blocks:
        source = re.search(r"^\*Cited:\* (.+)$", block, re.M)
        assert source, f"{md.name}: a cited step without its source:\n{block}"
        # a named result (theorem, lemma, ...) or a dated reference
        assert re.search(r"Theorem|Lemma|Prop\.|Example|eq\.|\(\d{4}\)|\d{4}\)", source.group(1)), block


def _toy() -> Derivation:
    x, a = sp.symbols("x a", positive=True)
    D = Derivation("toy", source="none")
    D.identity("derivative", sp.Derivative(x**3, x), 3 * x**2)
    D.identity("explicit display", sp.diff(sp.sin(x) ** 2 + sp.cos(x) ** 2, x), 0,
               display=sp.Derivative(sp.sin(x) ** 2 + sp.cos(x) ** 2, x))
    D.identity("computed differs from both", sp.Subs((x + 1) ** 2, x, a), a**2 + 2 * a + 1)
    D.identity("latex display", 2, 2, display=r"\operatorname{rank} I_2")
    c = sp.Symbol("c", positive=True)
    D.abbreviate("c", c, sp.sqrt(a * x))
    D.identity("with the symbol", sp.sqrt(a) * sp.sqrt(x) * 2 + 1, 2 * sp.sqrt(a * x) + 1,
               display=sp.Mul(2, sp.sqrt(a * x), evaluate=False) + 1)
    D.identity("plain, backward compatible", (x + 1) ** 2, x**2 + 2 * x + 1)
    return D


def test_toy_rendering_shows_the_computation():
    D = _toy()
    assert D.all_verified and len(D.unverified) == 0
    eqs = displayed_equations(D.to_markdown())
    assert eqs[0] == r"\frac{d}{d x} x^{3} = 3 x^{2}"
    assert eqs[1] == r"\frac{d}{d x} \left(\sin^{2}{\left(x \right)} + \cos^{2}{\left(x \right)}\right) = 0"
    # unevaluated, computed (different from both) and the right side
    assert len(_split_top_level(eqs[2])) == 3 and eqs[2].startswith(r"\left. \left(x + 1\right)^{2}")
    assert eqs[3] == r"\operatorname{rank} I_2 = 2"
    assert eqs[4] == r"c = \sqrt{a} \sqrt{x}"  # the definition keeps the expression
    assert eqs[5] == r"2 c + 1 = 2 c + 1" or eqs[5].count("c") >= 2
    assert r"\sqrt" not in eqs[5]
    assert eqs[6] == r"\left(x + 1\right)^{2} = x^{2} + 2 x + 1"


def test_toy_checks_run_on_the_evaluated_expressions():
    D = _toy()
    x = sp.Symbol("x", positive=True)
    assert D.steps[0].lhs == 3 * x**2 and isinstance(D.steps[0].display, sp.Derivative)
    D.identity("wrong", sp.Derivative(x**3, x), 3 * x)  # displayed unevaluated, checked evaluated
    assert D.steps[-1].verified is False and not D.all_verified


def test_identity_without_display_is_unchanged():
    x = sp.Symbol("x")
    D = Derivation("t", source="none")
    assert D.identity("e", (x + 1) ** 2, x**2 + 2 * x + 1)
    assert D.steps[0].display is None and D.steps[0].lhs == (x + 1) ** 2
