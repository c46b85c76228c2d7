"""`mnist-cli export`: exported SavedModel / TFLite models agree with the Keras model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.data.pipeline import scale_images
from mnist_cli.errors import UsageError
from mnist_cli.modeling.export import export_model
from mnist_cli.modeling.exported import predict_exported, tflite_interpreter
from mnist_cli.modeling.io import load_model
from mnist_cli.scoring.metrics import to_probabilities
from mnist_cli.training import run_training
from tests.helpers import make_digits_dataset, run_cli


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """500 real uint8 digits (the fixture's test and validation images)."""
    d = make_digits_dataset()
    x = np.concatenate([d.test.x, d.validation.x])[:500]
    assert x.shape == (500, 8, 8, 1) and x.dtype == np.uint8
    return x


@pytest.fixture(scope="module", params=["logits", "probabilities"])
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = resolve_config("mlp_relu", Overrides(epochs=4, seed=3, output=request.param))
    cfg.training.tensorboard = False
    target = tmp_path_factory.mktemp("export") / request.param
    run_training(cfg, target, dataset=make_digits_dataset())
    return target


def keras_probabilities(run_dir: Path, images: np.ndarray) -> np.ndarray:
    """The reference: the saved Keras model on scaled pixels, softmax for logits."""
    loaded = load_model(run_dir)
    raw = loaded.model.predict(scale_images(images, loaded.scale), verbose=0)
    return to_probabilities(np.asarray(raw, np.float64), loaded.output_form)


@pytest.mark.parametrize("fmt", ["saved-model", "tflite", "onnx"])
@pytest.mark.slow
def test_float_exports_match_keras(run_dir: Path, images: np.ndarray, fmt: str) -> None:
    if fmt == "onnx":
        pytest.importorskip("tf2onnx", reason="optional extra mnist-cli[onnx]")
        pytest.importorskip("onnxruntime", reason="optional extra mnist-cli[onnx]")
    result = export_model(run_dir, fmt)
    got = predict_exported(result.path, images)
    want = keras_probabilities(run_dir, images)
    assert got.shape == (500, 10)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert (got.argmax(1) == want.argmax(1)).mean() == 1.0
    assert np.abs(got - want).max() <= 1e-4


@pytest.mark.parametrize("quantize", ["dynamic", "float16"])
@pytest.mark.slow
@pytest.mark.extended
def test_quantized_tflite_keeps_labels_and_shrinks(run_dir: Path, images: np.ndarray,
                                                   quantize: str) -> None:
    plain = export_model(run_dir, "tflite", out=run_dir / "plain.tflite", force=True)
    small = export_model(run_dir, "tflite", quantize)
    assert small.path.name == f"model-{quantize}.tflite"
    assert small.bytes < plain.bytes
    got = predict_exported(small.path, images)
    want = keras_probabilities(run_dir, images)
    assert (got.argmax(1) == want.argmax(1)).mean() >= 0.995
    assert np.abs(got - want).max() < 0.05


@pytest.mark.slow
def test_existing_export_is_not_replaced_without_force(run_dir: Path) -> None:
    out = run_dir / "again.tflite"
    export_model(run_dir, "tflite", out=out)
    with pytest.raises(UsageError, match="--force"):
        export_model(run_dir, "tflite", out=out)
    assert export_model(run_dir, "tflite", out=out, force=True).bytes == out.stat().st_size


def test_bad_choices_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="tflite only"):
        export_model(tmp_path, "saved-model", "dynamic")
    with pytest.raises(UsageError, match="choose one of saved-model, tflite, onnx"):
        export_model(tmp_path, "coreml")
    with pytest.raises(UsageError, match="not an exported model"):
        predict_exported(tmp_path, np.zeros((1, 8, 8, 1), np.uint8))


def test_onnx_without_the_extra_says_how_to_install(run_dir: Path) -> None:
    try:
        import tf2onnx  # noqa: F401
        pytest.skip("tf2onnx is installed")
    except ImportError:
        pass
    with pytest.raises(UsageError, match=r"pip install 'mnist-cli\[onnx\]'"):
        export_model(run_dir, "onnx", out=run_dir / "x.onnx")
    assert not (run_dir / "x.onnx").exists()


def test_cli_export_json_and_error(run_dir: Path, cli_env: dict[str, str]) -> None:
    if run_dir.name != "logits":
        pytest.skip("one CLI run is enough")
    out = run_dir / "cli.tflite"
    proc = run_cli("export", str(run_dir), "--format", "tflite", "--quantize", "float16",
                   "--out", str(out), "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["path"] == str(out) and info["bytes"] == out.stat().st_size
    assert info["input"]["shape"] == [None, 8, 8, 1] and info["input"]["dtype"] == "uint8"
    # the signature named in the JSON is the file's, and callable by those names on a batch
    assert (info["signature"], info["output_name"]) == ("serving_default", "output_0")
    interp = tflite_interpreter(out)
    assert interp.get_signature_list() == {
        "serving_default": {"inputs": [info["input"]["name"]], "outputs": ["output_0"]}}
    batch = make_digits_dataset().test.x[:5]
    got = interp.get_signature_runner(info["signature"])(
        **{info["input"]["name"]: batch})[info["output_name"]]
    np.testing.assert_allclose(got, predict_exported(out, batch), atol=1e-6)
    bad = run_cli("export", str(run_dir), "--quantize", "dynamic", env=cli_env)
    assert bad.returncode == 2
    assert "--quantize applies to --format tflite only" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_mixed_precision_model_exports_in_float32(tmp_path: Path, images: np.ndarray) -> None:
    """TFLite cannot convert 16-bit MatMuls: the export computes in float32 with the trained
    (float32 master) weights, matching a float32 rebuild of the model."""
    from mnist_cli.modeling.build import build_model

    cfg = resolve_config("mlp_relu", Overrides(epochs=2, seed=5, sets=[
        "training.precision=mixed_bfloat16", "training.tensorboard=false"]))
    run_training(cfg, tmp_path / "run", dataset=make_digits_dataset())
    trained = load_model(tmp_path / "run").model
    rebuilt = build_model(cfg.model, (8, 8, 1), 10)  # float32 policy
    rebuilt.set_weights(trained.get_weights())
    want = to_probabilities(np.asarray(rebuilt.predict(scale_images(images), verbose=0),
                                       np.float64), "logits")
    got = predict_exported(export_model(tmp_path / "run", "tflite").path, images)
    assert (got.argmax(1) == want.argmax(1)).mean() == 1.0
    assert np.abs(got - want).max() <= 1e-4
    assert load_model(tmp_path / "run").model.layers[0].compute_dtype == "bfloat16"
