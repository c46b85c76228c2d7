"""`evaluate` and `predict` on both Keras backends (issue 22): the same run scored on
TensorFlow and on JAX gives the same accuracy, confusion matrix and predicted classes, and
probabilities within PROB_TOL; by default a run is scored on the backend it trained on; the
JAX side never imports TensorFlow; mismatches are exit 2.

Keras picks its backend once per process and this one runs TensorFlow, so the JAX side runs
once, in a fresh process (tests/backend_scripts/jax_scoring.py), on a run trained here; it
also trains a run on JAX, which is scored here on TensorFlow.

Why not bit-equal: the two backends run the same float32 model through different kernels
(TensorFlow's oneDNN matmuls, XLA's on JAX), which sum in different orders, so outputs differ
in their last bits (about 3e-7 measured on these runs). PROB_TOL = 1e-5 is ~40x that and far
below any margin that decides a class; an example whose top two probabilities are closer than
TIE (never seen on these runs) could flip class legitimately, so it is left out of the class
comparison, and accuracy and the confusion matrix must then match exactly whenever there is
no such near-tie.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import ROOT, run_cli, run_jax_script, scenario_result, slow_fixture

SCRIPT = ROOT / "tests" / "backend_scripts" / "jax_scoring.py"
PROB_TOL = 1e-5
TIE = 1e-4


def unlabelled_csv(path: Path, x: np.ndarray) -> Path:
    """Kaggle test.csv style: a header of pixel names, no label column."""
    header = ",".join(f"pixel{i}" for i in range(x[0].size))
    np.savetxt(path, x.reshape(len(x), -1), fmt="%d", delimiter=",", header=header,
               comments="")
    return path


def predict_json(run: Path, images: Path, out: Path, *flags: str) -> dict[str, Any]:
    """`predict --format json --json`, in this process: stdout's object and the file's."""
    done = run_cli("predict", str(run), "--data", str(images), "--format", "json", "--out",
                   str(out), "--json", *flags)
    assert done.returncode == 0, done.stderr
    return {"json": json.loads(done.stdout), "file": json.loads(out.read_text())}


@pytest.fixture(scope="module")
@slow_fixture
def scored(tmp_path_factory: pytest.TempPathFactory, digits_dataset: Any) -> dict[str, Any]:
    """A run trained and scored here on TensorFlow, then the JAX process's results."""
    pytest.importorskip("jax", reason="optional extra mnist-cli[jax] (in the dev install)")
    from mnist_cli import api

    out = tmp_path_factory.mktemp("scoring")
    tf_run = out / "tf_run"
    api.train("mlp_relu", data="digits", epochs=3, seed=0, run_dir=tf_run, no_plots=True,
              no_tensorboard=True)
    tf_eval = api.evaluate(tf_run, no_plots=True)
    images = unlabelled_csv(out / "images.csv", digits_dataset.test.x[:120])
    tf_predict = predict_json(tf_run, images, out / "tf_predict.json")
    jax = run_jax_script(SCRIPT, out, str(tf_run), str(images), host_devices=2, timeout=300)
    return {"out": out, "tf_run": tf_run, "images": images, "tf_eval": tf_eval,
            "tf_predict": tf_predict, "jax": jax}


def result(scored: dict[str, Any], name: str) -> dict[str, Any]:
    return scenario_result(scored["jax"], name)


def decisive(probs: np.ndarray) -> np.ndarray:
    """Rows whose top two probabilities are more than TIE apart."""
    top = np.sort(probs, axis=1)
    return top[:, -1] - top[:, -2] > TIE


def assert_same_scores(a: dict[str, Any], pa: np.ndarray, b: dict[str, Any],
                       pb: np.ndarray) -> None:
    """Two evaluations of one model: probabilities within PROB_TOL, the same classes where
    they are decisive, and (with no near-tie) the same accuracy and confusion matrix."""
    np.testing.assert_allclose(pa, pb, rtol=0, atol=PROB_TOL)
    sure = decisive(pa) & decisive(pb)
    assert (pa.argmax(1) == pb.argmax(1))[sure].all()
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    if sure.all():
        assert a["accuracy"] == b["accuracy"]
        assert a["balanced_accuracy"] == b["balanced_accuracy"]
        assert a["confusion_matrix"] == b["confusion_matrix"]
        assert a["per_class"] == b["per_class"]


def predicted_rows(doc: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probabilities) of a predict JSON file."""
    rows = doc["predictions"]
    return (np.array([r["label"] for r in rows]),
            np.array([r["probabilities"] for r in rows]))


def assert_same_predictions(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Two predict files of one model: the same classes where decisive, probabilities
    within PROB_TOL plus the file's 6-decimal rounding."""
    (la, pa), (lb, pb) = predicted_rows(a), predicted_rows(b)
    np.testing.assert_allclose(pa, pb, rtol=0, atol=PROB_TOL + 1e-6)
    sure = decisive(pa) & decisive(pb)
    assert (la == lb)[sure].all() and sure.mean() > 0.9


def test_a_tensorflow_run_scores_the_same_on_jax(scored: dict[str, Any]) -> None:
    """evaluate --backend jax (one device, and data parallel over two devices) of a run
    trained on TensorFlow == its evaluation on TensorFlow; evaluation.json names the
    backend."""
    tf = scored["tf_eval"]
    on_jax = result(scored, "tf_run_on_jax")
    assert tf.metrics["backend"] == "tensorflow" and on_jax["metrics"]["backend"] == "jax"
    assert tf.metrics["accuracy"] > 0.5  # it learned (3 epochs: ~0.74)
    jax_probs = np.load(scored["out"] / "tf_run_on_jax.npy")
    assert_same_scores(tf.metrics, tf.probabilities, on_jax["metrics"], jax_probs)
    parallel = on_jax["data_parallel"]
    assert parallel["code"] == 0, parallel["stderr"]
    assert parallel["json"]["backend"] == "jax"
    assert_same_scores(on_jax["metrics"], jax_probs, parallel["json"], jax_probs)
    assert on_jax["evaluation_json"]["backend"] == "jax"
    assert on_jax["evaluation_json"]["confusion_matrix"] == parallel["json"]["confusion_matrix"]


def test_predict_gives_the_same_classes_on_both_backends(scored: dict[str, Any]) -> None:
    tf, on_jax = scored["tf_predict"], result(scored, "tf_run_on_jax")["predict"]
    assert on_jax["code"] == 0, on_jax["stderr"]
    assert tf["json"]["backend"] == tf["file"]["backend"] == "tensorflow"
    assert on_jax["json"]["backend"] == on_jax["file"]["backend"] == "jax"
    assert on_jax["json"]["label_counts"] == tf["json"]["label_counts"]
    assert_same_predictions(tf["file"], on_jax["file"])


def test_a_jax_run_scores_on_jax_by_default_and_on_tensorflow_when_asked(
        scored: dict[str, Any], tmp_path: Path) -> None:
    """No --backend: the run's own backend (JAX there), with the accuracy its training
    recorded; --backend tensorflow here: the same numbers."""
    from mnist_cli import api

    jax = result(scored, "jax_run_by_default")
    run = scored["out"] / "jax_run"
    assert jax["metrics"]["backend"] == "jax" and jax["cli"]["json"]["backend"] == "jax"
    trained = json.loads((run / "metrics.json").read_text())
    assert trained["backend"] == "jax"
    assert jax["metrics"]["accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-12)
    on_tf = api.evaluate(run, backend="tensorflow", no_plots=True)
    assert on_tf.metrics["backend"] == "tensorflow"
    assert json.loads((run / "evaluation.json").read_text())["backend"] == "tensorflow"
    assert_same_scores(on_tf.metrics, on_tf.probabilities, jax["metrics"],
                       np.load(scored["out"] / "jax_run_on_jax.npy"))
    tf_predict = predict_json(run, scored["images"], tmp_path / "p.json", "--backend",
                              "tensorflow")
    assert jax["predict"]["json"]["backend"] == "jax"
    assert tf_predict["json"]["backend"] == "tensorflow"
    assert_same_predictions(tf_predict["file"], jax["predict"]["file"])


def test_the_jax_side_never_imports_tensorflow(scored: dict[str, Any]) -> None:
    assert scored["jax"]["keras_backend"] == "jax"
    assert scored["jax"]["tensorflow_imported"] is False


def test_backend_mismatches_exit_2_saying_what_to_do(scored: dict[str, Any]) -> None:
    refused = result(scored, "refused")
    for name in ("tensorflow", "predict_tensorflow"):
        assert refused[name]["code"] == 2, refused[name]
        assert "Keras already runs on jax" in " ".join(refused[name]["stderr"].split())
    expected = {"mirrored": "--strategy data-parallel", "tpu": "--backend tensorflow",
                "worker": "--backend tensorflow", "torch": "choose one of tensorflow, jax"}
    for name, says in expected.items():
        assert refused[name]["code"] == 2, refused[name]
        text = " ".join(refused[name]["stderr"].split())
        assert says in text and "Traceback" not in text, text
    assert "--worker on the jax backend" in " ".join(refused["worker"]["stderr"].split())
    assert not (scored["out"] / "never.csv").exists()
    here = run_cli("evaluate", str(scored["out"] / "jax_run"), "--backend", "jax")
    assert here.returncode == 2 and "Keras already runs on tensorflow" in " ".join(
        here.stderr.split())
    parallel = run_cli("evaluate", str(scored["tf_run"]), "--strategy", "data-parallel")
    assert parallel.returncode == 2 and "use --backend jax" in " ".join(
        parallel.stderr.split())


def test_by_default_a_process_on_tensorflow_scores_a_jax_run_there_with_a_note(
        scored: dict[str, Any]) -> None:
    run = scored["out"] / "jax_run"
    done = run_cli("evaluate", str(run), "--no-plots", "--progress", "none")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert "trained on jax, but Keras already runs on tensorflow" in said
    assert json.loads((run / "evaluation.json").read_text())["backend"] == "tensorflow"


def test_default_is_the_recorded_backend_or_one_that_can_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule, without Keras: a run's `training.backend`, TensorFlow for a bare .keras
    file; a JAX run where JAX is missing runs on TensorFlow with a note naming the extra,
    while --backend jax there is exit 2 naming it."""
    import importlib.util

    import yaml

    from mnist_cli.config.load import shipped_configs
    from mnist_cli.errors import UsageError
    from mnist_cli.scoring import backends

    run = tmp_path / "run"
    run.mkdir()
    config = yaml.safe_load(shipped_configs()["mlp_relu"].read_text())
    config["training"]["backend"] = "jax"
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    (run / "model.keras").write_bytes(b"")  # where `locate` looks; never loaded here
    assert backends.recorded_backend(run) == "jax"
    assert backends.recorded_backend(tmp_path / "model.keras") == "tensorflow"
    real = importlib.util.find_spec
    monkeypatch.setattr(backends.importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    monkeypatch.setattr(backends, "loaded_backend", lambda: None)
    notes: list[str] = []
    assert backends.choose_backend(None, run, notes) == "tensorflow"
    assert "pip install 'mnist-cli[jax]'" in notes[0]
    with pytest.raises(UsageError, match=r"--backend: jax needs JAX.*mnist-cli\[jax\]"):
        backends.choose_backend("jax", run, [])
