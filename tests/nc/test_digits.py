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


def test_digits_float32_training():
    # float32 training (the calibration group's setting) returns float64 arrays and trains as well
    out = train_digits([0.0, 0.2], [0, 1], steps=200, dtype="float32")
    assert out["test_logits"].dtype == np.float64 and out["config"]["dtype"] == "float32"
    assert out["test_logits"].shape == (2, 2, 447, 10)
    err = (out["test_logits"].argmax(-1) != out["test_labels"][None]).mean(axis=-1)
    assert np.all(err < 0.2)
    with pytest.raises(ValueError, match="dtype='float16'"):
        train_digits([0.0], [0], steps=1, dtype="float16")


def test_digits_checkpoints():
    """``checkpoints=`` records the test set inside the same program; the final outputs are unchanged
    and the last checkpoint equals them."""
    plain = train_digits([0.0, 0.1], [0], steps=40, dtype="float32")
    out = train_digits([0.0, 0.1], [0], steps=40, dtype="float32", checkpoints=[10, 25, 40])
    for k in ("test_logits", "val_logits", "train_logits", "classifier", "bias", "train_features"):
        np.testing.assert_array_equal(out[k], plain[k])
    assert out["checkpoint_test_logits"].shape == (2, 1, 3, 447, 10)
    assert out["checkpoint_test_features"].shape == (2, 1, 3, 447, 32)
    assert out["checkpoint_train_error"].shape == (2, 1, 3) and list(out["checkpoint_steps"]) == [10, 25, 40]
    np.testing.assert_array_equal(out["checkpoint_test_logits"][:, :, -1], out["test_logits"])
    assert not np.array_equal(out["checkpoint_test_logits"][:, :, 0], out["test_logits"])
    assert "checkpoint_test_logits" not in plain and out["config"]["checkpoints"] == [10, 25, 40]
    for bad in ([], [20, 10], [0], [41]):
        with pytest.raises(ValueError, match="checkpoint"):
            train_digits([0.0], [0], steps=40, checkpoints=bad)
