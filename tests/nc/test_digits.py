"""The digits experiment (`ufm.nc.digits`): the fixed split and the MLP trained with CE and LS."""

import numpy as np
import pytest

from ufm import load_digits_splits, train_digits


def test_digits_split_and_shapes():
    (Xtr, ytr), (Xva, yva), (Xte, yte) = load_digits_splits(0)
    assert Xtr.shape == (1000, 64) and len(yva) == 350 and len(yte) == 447
    assert Xtr.max() <= 1.0 and Xtr.min() >= 0.0
    out = train_digits([0.0, 0.2], [0], steps=200)
    assert out["test_logits"].shape == (2, 1, 447, 10)
    assert out["classifier"].shape == (2, 1, 10, 32)
    # training works: far better than chance (10%) after 200 Adam steps
    err = (out["test_logits"].argmax(-1) != out["test_labels"][None]).mean(axis=-1)
    assert np.all(err < 0.2)
    with pytest.raises(ValueError, match="alpha=1"):
        train_digits([1.0], [0], steps=1)
