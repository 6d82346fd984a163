"""The theorems' parameter choices, evaluated at numbers from the derived expressions.

Every function here evaluates an expression of the SymPy derivation
(`ufm.tsla.bounds.derivation.bounds`); nothing is typed in from the paper.
"""

import functools
import math

import sympy as sp

from ufm.tsla.bounds.derivation import bounds


def _validate(**kw) -> None:
    """Theorem constants: finite and in range; ValueError names the argument."""
    ranges = {
        "L": (lambda v: v > 0, "L > 0"),
        "mu": (lambda v: v > 0, "mu > 0"),
        "sigma2": (lambda v: v > 0, "sigma2 > 0 (Assumption 1 (i))"),
        "delta": (lambda v: v > 0, "delta > 0 (eq. 4)"),
        "eps": (lambda v: v > 0, "eps > 0"),
        "F0": (lambda v: v > 0, "F0 = F(w0) > 0"),
        "eta": (lambda v: v > 0, "eta > 0"),
        "T": (lambda v: v > 0, "T > 0"),
        "theta": (lambda v: 0 <= v <= 1, "0 <= theta <= 1"),
    }
    for name, value in kw.items():
        if value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r} is not a number; allowed: {ranges[name][1]}") from None
        ok, allowed = ranges[name]
        if not math.isfinite(v) or not ok(v):
            raise ValueError(f"{name}={value!r} is out of range; allowed: {allowed}")
    if kw.get("mu") is not None and kw.get("L") is not None and float(kw["mu"]) > float(kw["L"]):
        raise ValueError(f"mu={kw['mu']!r} is out of range; allowed: 0 < mu <= L = {kw['L']!r}")


@functools.lru_cache(maxsize=None)
def _fn(name: str):
    expr = bounds().results[name]
    args = sorted(expr.free_symbols, key=lambda s: s.name)
    f = sp.lambdify(args, expr, "math")
    names = {s: s.name for s in args}
    return f, [names[a] for a in args]


_KW = {"L": "L", "mu": "mu", "sigma^2": "sigma2", "delta": "delta", "epsilon": "eps", "F_0": "F0",
       "T": "T", "eta": "eta", "theta": "theta", "eta_2": "eta2", "T_2": "T2", "V": "V"}


def evaluate(name: str, **values) -> float:
    """Evaluate the derived expression `name` at the given constants."""
    f, args = _fn(name)
    return float(f(*[values[_KW[a]] for a in args]))
def lemma1_bound(sigma2: float, delta: float, theta: float) -> float:
    """Lemma 1: E||grad l(y_LS) - grad F||^2 <= (1 - theta) sigma^2 + theta delta sigma^2."""
    _validate(sigma2=sigma2, delta=delta, theta=theta)
    return evaluate("V_lemma1", sigma2=sigma2, delta=delta, theta=theta)


def thm3_parameters(L: float, sigma2: float, delta: float, eps: float, F0: float) -> dict:
    """Theorem 3: eta = 1/L, theta = 1/(1+delta), the case, T, the bound at T."""
    _validate(L=L, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    v = dict(L=L, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    case = 1 if delta <= evaluate("thm3_delta_threshold", **v) else 2
    T = evaluate("thm3_T_case1" if case == 1 else "thm3_T_case2", **v)
    Ti = math.ceil(T - 1e-9)  # an integer horizon; the bound decreases in T
    return {"case": case, "eta": 1.0 / L, "theta": evaluate("theta3", **v), "T_real": T, "T": Ti,
            "bound": evaluate("thm3_bound", **v, T=Ti),
            "bound_sharp": evaluate("thm3_bound_sharp", **v, T=Ti),
            "target": eps**2 if case == 1 else evaluate("thm3_bound_at_T_case2", **v)}


def thm5_parameters(L: float, sigma2: float, eps: float, F0: float) -> dict:
    """Theorem 5: eta = min(1/L, eps^2/(2 L sigma^2)), T = 4 F0/(eta eps^2), the bound at T."""
    _validate(L=L, sigma2=sigma2, eps=eps, F0=F0)
    v = dict(L=L, sigma2=sigma2, eps=eps, F0=F0)
    e = min(1.0 / L, evaluate("thm5_eta_noise", **v))
    T = evaluate("thm5_T", **v, eta=e)
    Ti = math.ceil(T - 1e-9)
    return {"eta": e, "theta": 0.0, "T_real": T, "T": Ti,
            "bound": evaluate("thm5_bound", **v, eta=e, T=Ti), "target": eps**2}


def thm4_parameters(L: float, mu: float, sigma2: float, delta: float, eps: float, F0: float) -> dict:
    """Theorem 4 (TSLA): theta, eta1 = 1/L, T1, eta2, T2; the conditions the proof needs."""
    _validate(L=L, mu=mu, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    v = dict(L=L, mu=mu, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    T1 = evaluate("thm4_T1", **v)
    T2 = evaluate("thm4_T2", **v)
    return {"theta": evaluate("theta3", **v), "eta1": 1.0 / L, "T1_real": T1,
            "T1": max(0, math.ceil(T1 - 1e-9)), "eta2": evaluate("thm4_eta2", **v), "T2_real": T2,
            "T2": math.ceil(T2 - 1e-9), "stage1_gap_bound": evaluate("thm4_stage1_gap_relaxed", **v),
            "target": eps**2,
            "conditions": {
                "eps2_le_2sigma2 (eta2 <= 1/L, unstated)": eps**2 <= evaluate("thm4_eps2_max", **v),
                "sigma2 delta/mu <= F0 (stated)": sigma2 * delta / mu <= F0,
                "T1 >= 0 (log argument >= 1)": evaluate("thm4_T1_log_argument", **v) >= 1.0,
            }}


def total_samples(method: str, L: float, mu: float, sigma2: float, delta: float, eps: float,
                  F0: float) -> float:
    """Total sample complexity of the theorems' parameter choices (inf where LSR cannot reach eps)."""
    _validate(L=L, mu=mu, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    v = dict(L=L, mu=mu, sigma2=sigma2, delta=delta, eps=eps, F0=F0)
    if method == "tsla":
        p4 = thm4_parameters(**v)
        return float(p4["T1"] + p4["T2"])
    if method == "lsr":
        p3 = thm3_parameters(L, sigma2, delta, eps, F0)
        return float(p3["T"]) if p3["case"] == 1 else math.inf
    if method == "baseline":
        return float(thm5_parameters(L, sigma2, eps, F0)["T"])
    raise ValueError(f"method={method!r} is not one of 'tsla', 'lsr', 'baseline'")
