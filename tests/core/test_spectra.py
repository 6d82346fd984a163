"""ufm.core.spectra on matrices whose spectra are known by construction.

Each matrix is Q diag(lambda) Q^T with Q a random orthogonal matrix, so its
eigenvalues and their multiplicities (zeros included) are the chosen ones;
`numpy.linalg.eigvalsh` recovers them to ~1e-15 lambda_max.
"""

import numpy as np
import pytest

from ufm.core.spectra import (
    CLUSTER_RTOL,
    ZERO_RTOL,
    cluster_eigenvalues,
    condition_number_from_eigenvalues,
    expand_clusters,
    is_zero,
    spectrum_error,
    tolerance,
)


def rotated(eigenvalues, seed=0):
    lam = np.asarray(eigenvalues, float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(lam.size, lam.size)))
    A = Q @ np.diag(lam) @ Q.T
    return 0.5 * (A + A.T)


KNOWN = [[-3.0, 2], [0.0, 3], [1.0, 2], [2.5, 3], [7.0, 1]]


def test_clusters_of_a_rotated_diagonal_matrix():
    ev = np.linalg.eigvalsh(rotated(expand_clusters(KNOWN), seed=1))
    got = cluster_eigenvalues(ev)
    assert [m for _, m in got] == [m for _, m in KNOWN]
    assert [v for v, _ in got][1] == 0.0  # the zero cluster is reported as exactly 0
    np.testing.assert_allclose([v for v, _ in got], [v for v, _ in KNOWN], rtol=1e-12, atol=1e-13)
    assert spectrum_error(KNOWN, ev) <= 1e-12


def test_clusters_survive_a_small_symmetric_perturbation():
    # Weyl: ||E||_2 = 1e-9 lambda_max moves each eigenvalue by <= 1e-9 lambda_max, far below the 1e-6 rule
    A = rotated(expand_clusters(KNOWN), seed=2)
    E = np.random.default_rng(3).normal(size=A.shape)
    E = 0.5 * (E + E.T)
    E *= 1e-9 * 7.0 / np.linalg.norm(E, 2)
    got = cluster_eigenvalues(np.linalg.eigvalsh(A + E))
    assert [m for _, m in got] == [m for _, m in KNOWN]
    assert spectrum_error(KNOWN, np.linalg.eigvalsh(A + E)) <= 2e-9 * 7.0 / 1.0


def test_the_tolerance_decides_merge_and_split():
    # scale 10, so the default tolerance is 1e-6 * 10 = 1e-5:
    #   a true 3-fold eigenvalue 2 smeared by +-3e-6 (gaps 3e-6 < 1e-5) must stay one cluster;
    #   eigenvalues 5 and 5 + 2e-4 (gap 2e-4 > 1e-5) must stay apart.
    ev = [2.0 - 3e-6, 2.0, 2.0 + 3e-6, 5.0, 5.0 + 2e-4, 10.0]
    assert tolerance(ev, CLUSTER_RTOL) == pytest.approx(1e-5)
    assert [m for _, m in cluster_eigenvalues(ev)] == [3, 1, 1, 1]
    # judgment flips: too tight a tolerance splits the smeared cluster ...
    assert [m for _, m in cluster_eigenvalues(ev, rtol=1e-8)] == [1, 1, 1, 1, 1, 1]
    # ... and too loose a tolerance merges the two distinct eigenvalues
    assert [m for _, m in cluster_eigenvalues(ev, rtol=1e-4)] == [3, 2, 1]


def test_the_zero_rule():
    ev = [-4e-6, 5e-6, 2e-5, 3.0, 10.0]  # tolerance 1e-5: the first two are zeros, 2e-5 is not
    assert is_zero(ev).tolist() == [True, True, False, False, False]
    got = cluster_eigenvalues(ev)
    assert got[0] == [0.0, 2] and got[1][0] == pytest.approx(2e-5) and len(got) == 4
    r = condition_number_from_eigenvalues(ev)
    assert r["num_zero"] == 2 and r["lambda_min_nonzero"] == pytest.approx(2e-5)
    assert r["kappa"] == pytest.approx(10.0 / 2e-5)
    # judgment flips: a zero tolerance 100x looser counts 2e-5 as zero and changes kappa
    assert condition_number_from_eigenvalues(ev, zero_rtol=1e-4)["kappa"] == pytest.approx(10.0 / 3.0)


def test_condition_number_of_a_rotated_matrix():
    ev = np.linalg.eigvalsh(rotated([0.0] * 4 + [0.25, 0.5, 1.0, 1.0, 3.0], seed=4))
    r = condition_number_from_eigenvalues(ev)
    assert r["num_zero"] == 4
    assert r["kappa"] == pytest.approx(12.0, rel=1e-12)
    assert r["lambda_max"] == pytest.approx(3.0, rel=1e-13)
    assert r["lambda_min_nonzero"] == pytest.approx(0.25, rel=1e-12)
    assert ZERO_RTOL == 1e-6 and CLUSTER_RTOL == 1e-6


def test_explicit_scale_and_edge_cases():
    assert cluster_eigenvalues([]) == []
    assert cluster_eigenvalues([0.0, 0.0]) == [[0.0, 2]]  # scale 0: everything is one zero cluster
    # with scale 1 instead of max|ev| = 1e-3, the tolerance is 1e-6 and 1e-3 stays a non-zero cluster
    assert cluster_eigenvalues([1e-7, 1e-3], scale=1.0) == [[0.0, 1], [1e-3, 1]]
    assert cluster_eigenvalues([1e-7, 1e-3], scale=1e4) == [[0.0, 2]]
    np.testing.assert_array_equal(expand_clusters([[1.0, 2], [0.0, 1]]), [0.0, 1.0, 1.0])
    assert spectrum_error([[1.0, 1], [2.0, 1]], [1.0, 2.2]) == pytest.approx(0.1)


def test_validation():
    with pytest.raises(ValueError, match=r"rtol=0 is out of range; allowed range: \(0, 1\)"):
        cluster_eigenvalues([1.0, 2.0], rtol=0.0)
    with pytest.raises(ValueError, match="rtol=1 is out of range"):
        cluster_eigenvalues([1.0, 2.0], rtol=1.0)
    with pytest.raises(ValueError, match=r"eigenvalues has 1 non-finite entries \(NaN or inf\)"):
        cluster_eigenvalues([1.0, np.nan])
    with pytest.raises(ValueError, match="no eigenvalue above"):
        condition_number_from_eigenvalues([0.0, 0.0])
    with pytest.raises(ValueError, match="observed has 1 eigenvalues; allowed: 2"):
        spectrum_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="multiplicity of 1=-1 is out of range"):
        expand_clusters([[1.0, -1]])


def test_reexported_from_the_hessian_module():
    import ufm.core.spectra as S
    import ufm.nc.hessian.numeric as N

    for name in ("cluster_eigenvalues", "condition_number_from_eigenvalues", "CLUSTER_RTOL", "ZERO_RTOL"):
        assert getattr(N, name) is getattr(S, name)
