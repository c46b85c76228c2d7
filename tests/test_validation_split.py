"""The validation hold-out is stratified like train/test whenever every class can be, and
metrics.json says whether it was."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset
from mnist_cli.data.split import hold_out
from mnist_cli.data.types import Split


def shares_kept(train: Split, validation: Split) -> float:
    """Largest gap, in examples, between a class's validation count and its fair share."""
    y = np.concatenate([train.y, validation.y])
    frac = len(validation) / len(y)
    return max(abs(int((validation.y == c).sum()) - (y == c).sum() * frac)
               for c in np.unique(y))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.slow
def test_digits_validation_keeps_class_shares(seed: int) -> None:
    """A random 20% hold-out of digits misses a class's share by 6-10 examples; a stratified
    one by at most 1. Same seed, same split; recorded as stratified."""
    cfg = DataConfig(spec="digits", validation_split=0.2)
    ds = load_dataset(cfg, seed)
    assert len(ds.validation) == round(1437 * 0.2) and len(ds.train) == 1437 - len(ds.validation)
    assert shares_kept(ds.train, ds.validation) <= 1
    assert ds.description.stratified is True and ds.description.to_dict()["stratified"] is True
    again = load_dataset(cfg, seed)
    np.testing.assert_array_equal(ds.validation.x, again.validation.x)


def test_class_with_one_example_falls_back_to_random() -> None:
    """Stratifying needs >= 2 examples per class: otherwise a seeded random split, same size,
    recorded as not stratified."""
    y = np.array([0] * 10 + [1] * 10 + [2])
    x = np.arange(len(y), dtype=np.uint8).reshape(-1, 1, 1, 1)
    train, val, stratified = hold_out(Split(x, y), 0.3, seed=5)
    assert not stratified and len(val) == round(21 * 0.3) and len(train) == 21 - len(val)
    assert sorted(np.concatenate([train.x, val.x]).ravel()) == list(range(21))
    again = hold_out(Split(x, y), 0.3, seed=5)[1]
    np.testing.assert_array_equal(val.x, again.x)


def test_more_classes_than_validation_slots_falls_back() -> None:
    y = np.repeat(np.arange(10), 3)
    x = np.zeros((30, 1, 1, 1), np.uint8)
    _, val, stratified = hold_out(Split(x, y), 0.2, seed=0)
    assert len(val) == 6 and not stratified  # 6 slots cannot hold 10 classes


def test_no_validation_is_not_stratified() -> None:
    ds = load_dataset(DataConfig(spec="digits", validation_split=0), 0)
    assert ds.validation is None and ds.description.stratified is False
