"""Table 1 of the TSLA paper recovered from the derived total sample complexities.

Substitute ``delta = c eps^p`` into the totals of Theorem 4 (TSLA), Theorem 3 (1)
(LSR) and Theorem 5 (baseline) and read the order off
``lim_{eps -> 0} log T / log(1/eps)`` (a ``log(1/eps)`` growth when that
limit is 0), one row per delta regime; each entry is then judged against the
paper's.
"""

import functools

import sympy as sp

from ufm.core.cache import cached
from ufm.tsla.bounds.derivation import bounds
from ufm.tsla.bounds.symbols import c, delta, eps

TABLE1_PAPER = [
    # (row label, p range for delta = c eps^p, sample p values, paper's TSLA, LSR, baseline)
    ("Omega(eps^2) < delta (< 1)", "p = 0 (delta constant)", [0], "delta/eps^4", "inf", "1/eps^4"),
    ("delta = O(eps^2)", "p = 2", [2], "1/eps^2", "1/eps^2", "1/eps^4"),
    ("Omega(eps^4) < delta < O(eps^2)", "2 < p < 4", [sp.Rational(5, 2), 3, sp.Rational(7, 2)],
     "1/eps^(2-theta'), theta' in (0,2)", "1/eps^2", "1/eps^4"),
    ("Omega(eps^(4+c)) <= delta <= O(eps^4)", "4 <= p <= 4 + c", [4, 5, 6], "log(1/eps)", "1/eps^2",
     "1/eps^4"),
]

TABLE1_EXPONENTS = {
    # paper's exponent k (complexity ~ eps^-k) per row, for delta = c eps^p at the sample p;
    # None = infinite; "log" = log(1/eps)
    0: {"TSLA": 4, "LSR": None, "baseline": 4},
    2: {"TSLA": 2, "LSR": 2, "baseline": 4},
    3: {"TSLA": 1, "LSR": 2, "baseline": 4},
    4: {"TSLA": "log", "LSR": 2, "baseline": 4},
}


def order_in_eps(expr: sp.Expr) -> tuple[sp.Expr, str]:
    """(k, label): expr ~ eps^-k as eps -> 0, or k = 0 with a log(1/eps) growth."""
    k = sp.limit(sp.log(expr) / sp.log(1 / eps), eps, 0)
    if k == 0:
        lg = sp.limit(expr / sp.log(1 / eps), eps, 0)
        if lg.is_positive and lg.is_finite:
            return k, "log(1/eps)"
        return k, "1"
    return k, f"1/eps^{k}" if k.is_integer else f"1/eps^({k})"


def derived_orders(results: dict, ps: list) -> dict:
    """The orders in eps of the TSLA, LSR and baseline totals in `results` (the
    derivation's), with delta = c eps^p for each p in `ps`."""
    b = results
    derived = {"TSLA": [], "LSR": [], "baseline": []}
    for pv in ps:
        sub = {delta: c * eps**pv}
        kt, lt = order_in_eps(b["tsla_total"].subs(sub))
        if pv == 0:
            # delta constant: the eps^-4 coefficient carries delta (Table 1's "delta/eps^4")
            coef = sp.limit(b["tsla_total"].subs(sub) * eps**4, eps, 0)
            lt = f"1/eps^{kt} (coefficient {sp.factor(coef)}, linear in delta={c})"
        derived["TSLA"].append({"p": str(pv), "k": str(kt), "order": lt,
                                "theta_prime": str(2 - kt) if 2 < pv < 4 else None})
        # LSR: finite only where delta <= eps^2/(4 sigma^2) as eps -> 0.
        thr = sp.limit(sub[delta] / b["thm3_delta_threshold"], eps, 0)
        if thr == 0:
            kl, ll = order_in_eps(b["lsr_total"])
            derived["LSR"].append({"p": str(pv), "order": ll, "k": str(kl)})
        elif thr.is_infinite:
            derived["LSR"].append({"p": str(pv), "order": "inf", "k": "oo"})
        else:
            kl, ll = order_in_eps(b["lsr_total"])
            derived["LSR"].append({"p": str(pv), "k": str(kl),
                                   "order": f"{ll} if c <= 1/(4 sigma2), else inf",
                                   "condition": f"delta/threshold -> {thr}"})
        kb, lb = order_in_eps(b["baseline_total"])
        derived["baseline"].append({"p": str(pv), "k": str(kb), "order": lb})
    return derived


def agreement(paper: dict, derived: dict) -> dict:
    """{method: bool}: whether each `derived` order (of `derived_orders`) is the `paper`'s."""
    agree = {}
    ps = [float(sp.sympify(e["p"])) for e in derived["TSLA"]]
    ks = [float(sp.sympify(e["k"])) for e in derived["TSLA"]]
    tsla_paper = paper["TSLA"]
    if tsla_paper == "delta/eps^4":
        agree["TSLA"] = all(k == 4 for k in ks)
    elif tsla_paper == "1/eps^2":
        agree["TSLA"] = all(k == 2 for k in ks)
    elif tsla_paper.startswith("1/eps^(2-theta')"):
        agree["TSLA"] = all(abs(k - (4 - pv)) < 1e-12 and 0 < 2 - k < 2 for k, pv in zip(ks, ps))
    else:
        agree["TSLA"] = all(e["order"] == "log(1/eps)" for e in derived["TSLA"])
    if paper["LSR"] == "inf":
        agree["LSR"] = all(e["order"] == "inf" for e in derived["LSR"])
    else:
        agree["LSR"] = all(e["order"].startswith("1/eps^2") for e in derived["LSR"])
    agree["baseline"] = all(e["order"] == "1/eps^4" for e in derived["baseline"])
    return agree


def row_notes(results: dict, paper: dict, derived: dict) -> list[str]:
    """Where and why a row's derived orders need a qualification."""
    notes = []
    for e in derived["LSR"]:
        if "condition" in e:
            notes.append("LSR = 1/eps^2 only when delta <= eps^2/(4 sigma^2), i.e. the constant "
                         "c in delta = c eps^2 is <= 1/(4 sigma^2); for larger c Theorem 3 (1) "
                         "does not apply and LSR's bound does not reach eps (inf)")
    if paper["TSLA"] == "log(1/eps)":
        notes.append("TSLA's log(1/eps) is the T1 = (L/mu) log(mu F0 (1+delta)/(delta sigma2)) "
                     "term with delta = c eps^p: (L/mu) p log(1/eps); T2 = 16 L c sigma2^2 "
                     "eps^(p-4)/mu stays bounded only for p >= 4")
    if paper["TSLA"] == "delta/eps^4":
        notes.append("the paper adds 'for delta >= 1 the baseline beats TSLA'; the derived totals "
                     f"have ratio TSLA/baseline -> {results['tsla_baseline_ratio']} as eps -> 0, so the "
                     f"TSLA bound is smaller exactly when delta < {results['tsla_beats_baseline_below_delta']}"
                     ", which is not delta < 1 in general")
    return notes


def derive_table1() -> list[dict]:
    """Table 1's rows recovered from the derivation (uncached; seconds): per
    delta regime the paper's orders, the derived ones, their agreement and notes."""
    b = bounds().results
    rows = []
    for label, prange, ps, paper_tsla, paper_lsr, paper_base in TABLE1_PAPER:
        paper = {"TSLA": paper_tsla, "LSR": paper_lsr, "baseline": paper_base}
        derived = derived_orders(b, ps)
        rows.append({"row": label, "delta": prange, "paper": paper, "derived": derived,
                     "agree": agreement(paper, derived), "notes": row_notes(b, paper, derived)})
    return rows


@functools.lru_cache(maxsize=1)
def table1_orders() -> list[dict]:
    """Table 1's orders recovered by eps -> 0 limits of the derived totals, per delta regime."""
    return cached(derive_table1, __name__, "lsr_table1")
