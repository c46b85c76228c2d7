"""Keras 3 on JAX (`training.backend: jax`): what holds on TensorFlow holds on JAX.

Keras picks its backend at its first import, and this pytest process runs TensorFlow, so the
JAX side runs once, in a fresh process (tests/backend_scripts/jax_scenarios.py: the CLI end to
end, same seed same weights however the epochs are cut into calls, the exact divergence step
with nothing applied, resume, early stopping, data parallel over two host devices, refusals)
and the tests here check what it recorded. What needs TensorFlow (reading the event files,
exporting and evaluating the JAX-trained model) runs here, on the files it left.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import ConfigError, UsageError
from mnist_cli.runs.timings import PHASES
from tests.helpers import ROOT, run_jax_script, scenario_result, slow_fixture

SCRIPT = ROOT / "tests" / "backend_scripts" / "jax_scenarios.py"


@pytest.fixture(scope="module")
@slow_fixture
def jax_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(its output folder, results.json) of the JAX scenario process."""
    pytest.importorskip("jax", reason="optional extra mnist-cli[jax] (in the dev install)")
    out = tmp_path_factory.mktemp("jax")
    return out, run_jax_script(SCRIPT, out, host_devices=2)


def result(jax_run: tuple[Path, dict[str, Any]], name: str) -> dict[str, Any]:
    return scenario_result(jax_run[1], name)


def test_cli_train_on_jax_imports_no_tensorflow(jax_run: tuple[Path, dict[str, Any]]) -> None:
    """--json, a failing gate (exit 1, every artifact written), the CI step summary, curves,
    timings, and not one TensorFlow import for the bundled digits."""
    out, results = jax_run
    run = result(jax_run, "cli_run")
    assert run["code"] == 1 and "gate test_accuracy >= 0.999 FAILED" in run["stderr"]
    metrics = run["metrics"]
    assert metrics["status"] == "completed" and metrics["backend"] == "jax"
    assert metrics["engine"]["name"] == "fused" and metrics["test_accuracy"] > 0.8
    assert metrics["strategy"]["class"] == "OneJaxDevice"
    assert list(metrics["timings"]) == list(PHASES)
    assert metrics["timings"]["train"] > 0 and metrics["timings"]["plots"] > 0
    assert {"curves.png", "model.keras", "history.csv", "tensorboard"} <= set(run["files"])
    assert run["keras_backend"] == "jax" and run["tensorflow_imported"] is False
    assert results["tensorflow_imported_at_end"] is False
    assert "test accuracy" in (out / "summary.md").read_text().lower()


def test_tensorboard_scalars_of_a_jax_run(jax_run: tuple[Path, dict[str, Any]]) -> None:
    import tensorflow as tf

    run = jax_run[0] / "cli"
    scalars: dict[str, dict[int, float]] = {}
    for path in sorted((run / "tensorboard").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):  # checks every CRC
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalars.setdefault(value.tag, {})[event.step] = float(
                        tf.make_ndarray(value.tensor))
    with open(run / "history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert scalars[key] == pytest.approx({int(r["epoch"]): float(r[key]) for r in rows},
                                             rel=1e-5)
    metrics = json.loads((run / "metrics.json").read_text())
    assert scalars["test/test_accuracy"] == pytest.approx({3: metrics["test_accuracy"]})


def test_same_seed_same_weights_however_epochs_are_cut(
        jax_run: tuple[Path, dict[str, Any]]) -> None:
    """Whole epochs per call vs one step per call with uint8 images scaled in the program:
    bit-identical weights and history, on the padded path (MLP) and on the partial-batch
    step of a model with BatchNormalization and Dropout (one step per call only)."""
    for name in ("reproducible_mlp", "reproducible_bn_dropout"):
        run = result(jax_run, name)
        assert run["same_history"] and run["same_weights"], name
        losses = run["history"]["loss"]
        assert len(losses) >= 2 and losses[-1] < losses[0], name
    assert result(jax_run, "reproducible_mlp")["images"] == ["float32",
                                                              "uint8, scaled in the graph"]
    assert result(jax_run, "reproducible_bn_dropout")["per_example"] is False
    assert result(jax_run, "reproducible_mlp")["test_accuracy"] > 0.8


def test_divergence_stops_at_the_exact_step_with_nothing_applied(
        jax_run: tuple[Path, dict[str, Any]]) -> None:
    nan = result(jax_run, "nan_loss")
    step = nan["step"]
    assert nan["raised"]["type"] == "Diverged" and nan["raised"]["what"] in ("loss",
                                                                             "gradients")
    assert f"at epoch 1, step {step}" in nan["raised"]["message"]
    assert (nan["failure"]["epoch"], nan["failure"]["step"]) == (1, step)
    for mode in ("loop", "stepwise"):  # many steps per program / one program per step
        assert nan[mode]["weights_finite"] and nan[mode]["iterations"] == step - 1, mode
    grads = result(jax_run, "nan_gradients")
    assert grads["raised"]["what"] == "gradients" and np.isfinite(grads["raised"]["value"])
    assert f"gradients became non-finite (loss {grads['raised']['value']:.4g}) at epoch 1, " \
        f"step {grads['step']}" in grads["raised"]["message"]
    assert grads["weights_finite"] and grads["iterations"] == grads["step"] - 1


def test_resume_equals_an_uninterrupted_run(jax_run: tuple[Path, dict[str, Any]]) -> None:
    run = result(jax_run, "resume")
    assert run["interrupted"] and run["resumed_from"] == 2
    assert all(run["equal"].values()), run["equal"]
    assert run["same_weights"]


def test_early_stopping_keeps_the_best_epoch(jax_run: tuple[Path, dict[str, Any]]) -> None:
    run = result(jax_run, "early_stopping")
    kept, last, losses = run["kept_epoch"], run["epochs_run"], run["history_val_loss"]
    assert 1 <= kept < last < 20
    assert kept == 1 + int(np.argmin(losses)) and last == kept + 2
    assert run["final"]["val_loss"] == losses[kept - 1]
    assert run["last_epoch"]["val_loss"] == losses[-1]
    assert run["model_val_loss"] == pytest.approx(run["final"]["val_loss"], rel=1e-4)


def test_data_parallel_over_two_devices_and_tf_only_strategies_refused(
        jax_run: tuple[Path, dict[str, Any]]) -> None:
    run = result(jax_run, "strategies")
    assert run["strategy"]["class"] == "DataParallel" and run["strategy"]["replicas"] == 2
    assert run["strategy"]["global_batch_size"] == 128
    assert run["devices_holding_weights"] == 2
    # the same global batch on one device: the same training up to summation order
    assert run["max_weight_difference"] < 1e-4
    np.testing.assert_allclose(*run["loss"], rtol=1e-4)
    assert "--strategy data-parallel" in run["refused"]["mirrored"]
    assert "TensorFlow only" in run["refused"]["multi-worker"]
    assert "training.backend: tensorflow" in run["refused"]["tpu"]
    assert "fit was removed" in result(jax_run, "engine_fit_refused")["message"]


def test_a_jax_trained_model_evaluates_and_exports_on_tensorflow(
        jax_run: tuple[Path, dict[str, Any]]) -> None:
    """model.keras is backend-independent: the TensorFlow side loads it with the same
    outputs, `evaluate` scores it as the run did, and `export` writes a SavedModel."""
    from typer.testing import CliRunner

    from mnist_cli.cli.app import app
    from mnist_cli.modeling.export import export_model
    from mnist_cli.modeling.exported import predict_exported
    from mnist_cli.modeling.io import load_model

    out = jax_run[0]
    run = out / "cli"
    loaded = load_model(run)
    probe = np.linspace(0, 1, 5 * 64, dtype=np.float32).reshape(5, 8, 8, 1)
    np.testing.assert_allclose(np.asarray(loaded.model(probe)),
                               np.load(out / "probe_outputs.npy"), rtol=1e-5, atol=1e-6)
    scored = CliRunner().invoke(app, ["evaluate", str(run), "--json"])
    assert scored.exit_code == 0, scored.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert json.loads(scored.stdout)["accuracy"] == pytest.approx(
        metrics["test_accuracy"])
    exported = export_model(run, "saved-model")
    images = (probe * 255).astype(np.uint8)
    assert predict_exported(exported.path, images).shape == (5, 10)


def test_backend_key_is_validated() -> None:
    with pytest.raises(ConfigError, match="training.backend"):
        resolve_config("mlp_relu", Overrides(sets=["training.backend=torch"]))


def test_another_backend_once_keras_runs_is_refused() -> None:
    """Keras cannot switch backends in a process: a JAX config here (Keras on TensorFlow)
    is a one-line UsageError saying to use a new process / restart the kernel."""
    from mnist_cli.backend import current_backend, import_keras

    import_keras()
    with pytest.raises(UsageError, match="restart the kernel"):
        resolve_config("mlp_relu", Overrides(sets=["training.backend=jax"]))
    assert current_backend() == "tensorflow"


def test_missing_jax_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import mnist_cli.backend as backend

    real = importlib.util.find_spec
    monkeypatch.setattr(backend.importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    with pytest.raises(UsageError, match=r"pip install 'mnist-cli\[jax\]'"):
        backend.select_backend("jax")


@pytest.mark.slow
def test_tensorflow_runs_record_their_backend_and_timings(tmp_path: Path,
                                                          digits_dataset: Any) -> None:
    from mnist_cli.training import run_training

    cfg = resolve_config("mlp_relu", Overrides(epochs=1, seed=0))
    metrics = run_training(cfg, tmp_path / "run", dataset=digits_dataset).metrics
    assert metrics["backend"] == "tensorflow"
    assert list(metrics["timings"]) == list(PHASES)
    assert all(v >= 0 for v in metrics["timings"].values())
    assert metrics["timings"]["train"] > 0 and metrics["timings"]["save"] > 0
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["timings"] == metrics["timings"] and saved["backend"] == "tensorflow"


def test_nested_phases_count_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An import inside `build` is `imports` only: the phases add up to the wall time."""
    from mnist_cli.runs import timings

    ticks = iter([0.0, 1.0, 3.0, 10.0])  # build starts, import starts, ends, build ends
    monkeypatch.setattr(timings.time, "perf_counter", lambda: next(ticks))
    timings.take()
    with timings.phase("build"), timings.phase("imports"):
        pass
    taken = timings.take()
    assert (taken["build"], taken["imports"]) == (8.0, 2.0)
    assert timings.take()["build"] == 0.0  # taken: the next run starts afresh
