"""float64 is a precondition of every verification, checked, never toggled.

Entry points (the CLI, tests/conftest.py, notebooks, benchmarks) enable
``jax_enable_x64`` once, before any array is created. Library code only
checks: toggling it mid-program would silently mix float32 and float64
arrays, and a float32 solve cannot reach the 1e-10 gradient tolerance.
"""

from __future__ import annotations

import jax


def x64_enabled() -> bool:
    return bool(jax.config.jax_enable_x64)


def require_x64() -> None:
    if not x64_enabled():
        raise RuntimeError(
            "ufm needs float64: call jax.config.update('jax_enable_x64', True) "
            "once at the start of your program (before creating any JAX array)."
        )
