"""The lazy top-level API: every listed name resolves, and importing ufm is light."""

import subprocess
import sys

import ufm


def test_every_public_name_resolves_to_its_module_object():
    for name in ufm.__all__:
        value = getattr(ufm, name)
        assert value is not None, name
    assert ufm.UFMProblem.__module__ == "ufm.nc.problem"
    assert ufm.hessian_spectrum.__name__ == "spectrum"  # renamed on export


def test_unknown_name_is_an_attribute_error():
    try:
        ufm.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("ufm.no_such_name resolved")


def test_import_ufm_does_not_import_jax_or_sympy():
    code = "import sys, ufm; print(sorted(m for m in ('jax', 'sympy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "[]"
