"""The epoch-end backup writes only when due, yet a graceful stop loses no completed epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_cli.training import backup


def tiny_model():
    from mnist_cli.backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = np.random.default_rng(0).normal(size=(32, 4)), np.arange(32) % 3
    return model, x, y


@pytest.mark.slow
def test_writes_are_throttled_and_flush_writes_the_last_completed_epoch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup, "MIN_INTERVAL_S", 3600.0)
    model, x, y = tiny_model()
    cb = backup.epoch_backup(tmp_path / "bk")
    state = tmp_path / "bk" / "state.npz"
    model.fit(x, y, epochs=3, verbose=0)  # build optimizer state before the callback sees it
    cb.set_model(model)
    cb.set_params({"epochs": 10})
    cb.on_train_begin()
    for epoch in range(4):
        model.train_on_batch(x, y)
        cb.on_epoch_end(epoch)
    assert not state.exists()  # nothing due yet: 4 epochs in far less than the interval
    at_epoch_4 = [w.copy() for w in model.get_weights()]
    optimizer_4 = [np.array(v.numpy()) for v in model.optimizer.variables]
    model.train_on_batch(x, y)  # a partial epoch 5, as when a signal stops it mid-way
    backup.flush([cb])
    assert backup.saved_epochs(tmp_path / "bk") == 4
    restored, _, _ = tiny_model()
    restored.fit(x, y, epochs=1, verbose=0)
    cb2 = backup.epoch_backup(tmp_path / "bk")
    cb2.set_model(restored)
    cb2.on_train_begin()
    for got, want in zip(restored.get_weights(), at_epoch_4, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(restored.optimizer.variables, optimizer_4, strict=True):  # Adam m, v
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.slow
def test_last_epoch_is_always_written(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup, "MIN_INTERVAL_S", 3600.0)
    model, x, y = tiny_model()
    cb = backup.epoch_backup(tmp_path / "bk")
    cb.set_model(model)
    cb.set_params({"epochs": 2})
    model.fit(x, y, epochs=1, verbose=0)
    cb.on_epoch_end(0)
    assert not (tmp_path / "bk" / "state.npz").exists()
    cb.on_epoch_end(1)
    assert backup.saved_epochs(tmp_path / "bk") == 2
