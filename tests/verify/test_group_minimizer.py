"""The `minimizer` check group (`ufm.verify.groups.minimizer`): its measurement of a solution."""

import jax.numpy as jnp
import pytest

from ufm.verify.groups.minimizer import observed_quantities


def test_observed_quantities_at_exact_zero_reports_undefined_nc():
    """W = H = 0 (the collapsed minimizer, exactly): NC metrics are 0/0, not NaN."""
    obs = observed_quantities(jnp.zeros((3, 3)), jnp.zeros((3, 6)), jnp.zeros(3), 3)
    assert obs["nc1"] is None and obs["nc2"] is None and obs["nc3"] is None
    assert obs["rho"] == 0.0 and obs["p_target"] == pytest.approx(1 / 3, rel=1e-15)
