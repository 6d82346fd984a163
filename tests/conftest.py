"""Test configuration: float64 once, and a hypothesis profile without deadline.

JAX compiles on first call, which makes per-example timing meaningless, so
the profile sets ``deadline=None``; shapes are drawn from small fixed sets so
compilation happens once per shape, not per example.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)

from ufm.core.cache import enable_compilation_cache  # noqa: E402

enable_compilation_cache()  # slow end-to-end tests reuse compiled programs across runs

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ufm",
    deadline=None,
    max_examples=int(os.environ.get("UFM_HYPOTHESIS_EXAMPLES", "25")),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("ufm")
