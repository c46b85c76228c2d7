"""TensorBoard event files: written by every run, read back and checked against history.csv."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.comparison import build_variants, run_comparison
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.distribute import StrategyDescription
from mnist_cli.tracking.tensorboard import board_callbacks, make_board
from mnist_cli.training import run_training
from tests.helpers import make_digits_dataset, run_cli


def read_events(log_dir: Path) -> tuple[dict[str, dict[int, float]], dict[str, str]]:
    """{tag: {step: value}} for scalars and {tag: text} for text summaries, from every
    event file under `log_dir`, decoded with TensorFlow's own Event proto reader."""
    import tensorflow as tf

    scalars: dict[str, dict[int, float]] = {}
    texts: dict[str, str] = {}
    files = sorted(log_dir.glob("events.out.tfevents.*"))
    assert files, f"no event files in {log_dir}"
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                arr = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name == "text":
                    texts[value.tag] = arr.item().decode()
                else:
                    scalars.setdefault(value.tag, {})[event.step] = float(arr)
    return scalars, texts


def read_history(run_dir: Path) -> dict[str, dict[int, float]]:
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: {int(r["epoch"]): float(r[k]) for r in rows} for k in rows[0] if k != "epoch"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = resolve_config("mlp_relu", Overrides(epochs=3, seed=4))
    run_dir = tmp_path_factory.mktemp("tb") / "run"
    run_training(cfg, run_dir, dataset=make_digits_dataset())
    return run_dir


def test_epoch_scalars_match_history_csv(trained: Path) -> None:
    scalars, _ = read_events(trained / "tensorboard")
    history = read_history(trained)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, per_epoch in history.items():
        assert sorted(scalars[key]) == [1, 2, 3], key
        for epoch, value in per_epoch.items():  # TensorBoard: the float32 of the same value
            assert scalars[key][epoch] == float(np.float32(value)), key
    assert scalars["learning_rate"] == pytest.approx({1: 0.01, 2: 0.01, 3: 0.01})
    sps = json.loads((trained / "metrics.json").read_text())["samples_per_second"]
    assert all(0 < v < 100 * sps for v in scalars["samples_per_second"].values())


def test_history_csv_is_full_precision(trained: Path) -> None:
    """history.csv's last row is metrics.json's `final`, float for float (it kept 6
    significant digits, so it differed in the 7th)."""
    history = read_history(trained)
    final = json.loads((trained / "metrics.json").read_text())["final"]
    assert {key: per_epoch[3] for key, per_epoch in history.items()} == final


def test_test_metrics_and_config_text(trained: Path) -> None:
    scalars, texts = read_events(trained / "tensorboard")
    metrics = json.loads((trained / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy", "balanced_accuracy"):
        assert scalars[f"test/{key}"] == pytest.approx({3: metrics[key]}, rel=1e-6)
    assert "seed: 4" in texts["config"] and "name: mlp_relu" in texts["config"]


def test_board_works_with_only_epoch_hooks(tmp_path: Path) -> None:
    """A loop that calls only on_epoch_begin/on_epoch_end/on_train_end (no on_train_begin,
    no set_model) still gets every scalar written."""
    cfg = resolve_config("mlp_relu", Overrides(seed=1))
    board = make_board(cfg, tmp_path, train_examples=100)
    for epoch in range(2):
        board.on_epoch_begin(epoch)
        board.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5})
    board.on_train_end()
    board.write_test({"test_accuracy": 0.75}, step=2)
    scalars, texts = read_events(tmp_path / "tensorboard")
    assert scalars["loss"] == {1: 1.0, 2: 0.5}
    assert scalars["test/test_accuracy"] == {2: 0.75}
    assert "learning_rate" not in scalars and "config" in texts


def test_only_the_chief_writes_and_the_switch_turns_it_off(tmp_path: Path) -> None:
    cfg = resolve_config("mlp_relu")
    worker = StrategyDescription("multi-worker", "test", "X", 2, is_chief=False)
    assert board_callbacks(cfg, tmp_path, 10, worker) == []
    assert len(board_callbacks(cfg, tmp_path, 10, replace(worker, is_chief=True))) == 1
    cfg.training.tensorboard = False
    assert board_callbacks(cfg, tmp_path, 10, None) == []


@pytest.mark.slow
@pytest.mark.extended  # a whole compare (~8 s); train's boards stay in make test
def test_compare_writes_one_board_per_variant_and_seed(tmp_path: Path) -> None:
    variants = build_variants(None, ["relu", "tanh"], None, Overrides(epochs=2))
    run_comparison(variants, [3, 4], tmp_path / "cmp", dataset=make_digits_dataset())
    boards = sorted(p.parent.name for p in (tmp_path / "cmp").glob("*/tensorboard"))
    assert boards == ["relu-seed3", "relu-seed4", "tanh-seed3", "tanh-seed4"]
    for name in boards:
        scalars, _ = read_events(tmp_path / "cmp" / name / "tensorboard")
        hist = read_history(tmp_path / "cmp" / name)
        assert np.allclose([scalars["loss"][e] for e in (1, 2)], [hist["loss"][e] for e in (1, 2)],
                           rtol=1e-5)


def test_cli_no_tensorboard_and_precision(tmp_path: Path, cli_env: dict[str, str]) -> None:
    run_dir = tmp_path / "run"
    proc = run_cli("train", "--data", "digits", "--epochs", "1", "--seed", "2",
                   "--no-tensorboard", "--precision", "mixed_bfloat16", "--json",
                   "--run-dir", str(run_dir), env=cli_env)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["precision"] == {"policy": "mixed_bfloat16", "loss_scaling": False,
                                    "output_dtype": "float32"}
    assert not (run_dir / "tensorboard").exists()
    assert (run_dir / "model.keras").is_file()


@pytest.mark.parametrize(("tag", "value", "plugin", "step"), [
    ("loss", 0.123, "scalars", 3), ("test/x", float("nan"), "scalars", 300_000),
    ("x", -2.5e30, "scalars", 1), ("config", "    name: a\n    b: [1]", "text", 0)])
def test_event_records_are_tensorflows_own_bytes(tag: str, value: float | str, plugin: str,
                                                 step: int, tmp_path: Path) -> None:
    """The pure-Python encoder (no TensorFlow, so JAX runs write TensorBoard files too) gives
    byte for byte what TensorFlow's Event protos and TFRecordWriter give."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2
    from tensorflow.core.util import event_pb2

    from mnist_cli.tracking import events

    data_class = (summary_pb2.DATA_CLASS_SCALAR if plugin == "scalars"
                  else summary_pb2.DATA_CLASS_TENSOR)
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class)
    tensor = (tf.make_tensor_proto(float(value), dtype=tf.float32) if plugin == "scalars"
              else tf.make_tensor_proto(value))
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, metadata=metadata, tensor=tensor)])
    theirs = event_pb2.Event(wall_time=1234.5, step=step, summary=summary).SerializeToString()
    ours = events.event(1234.5, step, summary=events.summary_value(tag, value, plugin))
    assert ours == theirs
    version = event_pb2.Event(wall_time=7.0, file_version="brain.Event:2").SerializeToString()
    assert events.event(7.0, file_version="brain.Event:2") == version
    with tf.io.TFRecordWriter(str(tmp_path / "records")) as writer:
        writer.write(theirs)
    assert (tmp_path / "records").read_bytes() == events.record(ours)
