"""A run directory records how its data was split (split seed + per-split fingerprints in
split.json), and every reader rebuilds that split or refuses: `evaluate RUN` of a compare
sub-run scores exactly the images it was scored on, `--resume` trains on the same split, and a
changed file is an error (exit 2), never a silently different number."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mnist_cli
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import DataError
from mnist_cli.runs.rundir import SPLIT


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """compare --repeats 3 (seeds 11, 12, 13): the data is split once, with seed 11."""
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    mnist_cli.compare(activation=["relu", "tanh"], repeats=3, epochs=1, seed=11,
                      data="digits", run_dir=out, sets=["training.tensorboard=false"])
    return out


@pytest.mark.slow
def test_every_compare_sub_run_evaluates_to_its_recorded_accuracy(compared: Path) -> None:
    runs = sorted(p for p in compared.iterdir() if (p / "metrics.json").is_file())
    assert len(runs) == 6
    for run in runs:
        recorded = json.loads((run / "metrics.json").read_text())
        assert recorded["dataset"]["split_seed"] == 11
        assert json.loads((run / SPLIT).read_text())["split_seed"] == 11
        scored = mnist_cli.evaluate(run, no_plots=True)
        # the same images scored by the same model: exactly equal, not approximately
        assert scored.metrics["accuracy"] == recorded["test_accuracy"], run.name


@pytest.mark.slow
def test_evaluate_refuses_a_split_that_no_longer_matches(compared: Path,
                                                         tmp_path: Path) -> None:
    """A file changed under the run (simulated by a different recorded fingerprint)."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(compared / "relu-seed12", run)
    record = json.loads((run / SPLIT).read_text())
    record["fingerprints"]["test"] = "0" * 64
    (run / SPLIT).write_text(json.dumps(record))
    with pytest.raises(DataError, match=r"test split rebuilt from .* differs .*--data"):
        mnist_cli.evaluate(run, no_plots=True)


@pytest.mark.slow
def test_resume_of_a_sub_run_trains_on_its_recorded_split(tmp_path: Path) -> None:
    """A run trained on data split with another seed than its own (as a compare sub-run is)
    is interrupted after epoch 1; `--resume` rebuilds the recorded split and ends exactly
    where the uninterrupted run ends. A tampered record is refused before training."""
    from mnist_cli.backend import import_keras
    from mnist_cli.data import load_dataset
    from mnist_cli.signals import Interrupted
    from mnist_cli.training import run_training

    def cfg():
        return resolve_config(None, Overrides(data="digits", epochs=3, seed=12,
                                              sets=["training.tensorboard=false"]))

    data = load_dataset(cfg().data, 11)  # split with the comparison's first seed
    whole = run_training(cfg(), tmp_path / "whole", dataset=data).metrics

    class StopAfterFirstEpoch(import_keras().callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            raise Interrupted()

    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        run_training(cfg(), run, dataset=data, callbacks=[StopAfterFirstEpoch()])
    assert json.loads((run / SPLIT).read_text())["split_seed"] == 11
    resumed = mnist_cli.train(resume=run, no_plots=True).metrics
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["dataset"]["fingerprints"] == whole["dataset"]["fingerprints"]
    for key in ("test_loss", "test_accuracy", "final"):
        assert resumed[key] == whole[key], key

    tampered = tmp_path / "tampered"
    with pytest.raises(Interrupted):
        run_training(cfg(), tampered, dataset=data, callbacks=[StopAfterFirstEpoch()])
    record = json.loads((tampered / SPLIT).read_text())
    record["fingerprints"]["train"] = "0" * 64
    (tampered / SPLIT).write_text(json.dumps(record))
    with pytest.raises(DataError, match="train split rebuilt .* differs"):
        mnist_cli.train(resume=tampered, no_plots=True)


def test_fingerprint_tells_rows_and_order_apart() -> None:
    from mnist_cli.data.split import fingerprint
    from mnist_cli.data.types import Split

    x = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8, 1)
    a = Split(x, np.array([0, 1]))
    assert fingerprint(a) == fingerprint(Split(x.copy(), np.array([0, 1])))
    assert fingerprint(a) != fingerprint(Split(x[::-1], np.array([1, 0])))  # order
    assert fingerprint(a) != fingerprint(Split(x, np.array([0, 2])))  # one label
    assert fingerprint(a) != fingerprint(Split(x, None))
