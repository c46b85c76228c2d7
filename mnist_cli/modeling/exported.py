"""Run an exported model (SavedModel directory, .tflite or .onnx file) on uint8 images.

TFLite files run with LiteRT (`ai_edge_litert`) when it is installed, else with
`tf.lite.Interpreter`, which TF 2.21 still ships (it warns that it is deprecated; the
warning is silenced here because the fallback is deliberate).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.errors import UsageError

SIGNATURE = "serving_default"  # what SavedModel and TFLite exports are called through
ONNX_HINT = "pip install 'mnist-cli[onnx]' (tf2onnx and onnxruntime)"


def tflite_interpreter(path: Path) -> Any:
    """A LiteRT interpreter if available, else TensorFlow's own."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from mnist_cli.backend import import_tf

        Interpreter = import_tf().lite.Interpreter  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Interpreter(model_path=str(path))


def tflite_signature(path: Path) -> dict[str, Any] | None:
    """The file's first signature: {"name", "inputs", "outputs"} (None if it has none)."""
    signatures = tflite_interpreter(path).get_signature_list()
    name = next(iter(signatures), None)
    if name is None:
        return None
    return {"name": name, "inputs": list(signatures[name].get("inputs", [])),
            "outputs": list(signatures[name].get("outputs", []))}


def tflite_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 (N, H, W, C) images -> class probabilities, through one interpreter."""
    interp = tflite_interpreter(path)
    inp = interp.get_input_details()[0]

    def run(images: np.ndarray) -> np.ndarray:
        interp.resize_tensor_input(inp["index"], list(images.shape))
        interp.allocate_tensors()
        interp.set_tensor(inp["index"], images.astype(np.uint8))
        interp.invoke()
        return np.array(interp.get_tensor(interp.get_output_details()[0]["index"]))

    return run


def saved_model_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 images -> probabilities through the SavedModel's serving_default signature."""
    from mnist_cli.backend import import_tf

    tf = import_tf()
    fn = tf.saved_model.load(str(path)).signatures[SIGNATURE]

    def run(images: np.ndarray) -> np.ndarray:
        (out,) = fn(tf.constant(images.astype(np.uint8))).values()
        return out.numpy()

    return run


def onnx_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """uint8 images -> probabilities through onnxruntime (optional extra `mnist-cli[onnx]`)."""
    try:
        import onnxruntime
    except ImportError:
        raise UsageError(f"{path}: running ONNX models needs onnxruntime: {ONNX_HINT}") from None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(images: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {name: images.astype(np.uint8)})[0])

    return run


def load_exported(path: Path | str) -> Callable[[np.ndarray], np.ndarray]:
    """A function from uint8 images to probabilities for a SavedModel dir or .tflite file."""
    path = Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return saved_model_runner(path)
    if path.is_file() and path.suffix == ".tflite":
        return tflite_runner(path)
    if path.is_file() and path.suffix == ".onnx":
        return onnx_runner(path)
    raise UsageError(f"{path}: not an exported model; pass a SavedModel directory, a "
                     ".tflite or an .onnx file written by `mnist-cli export`")


def predict_exported(path: Path | str, images: np.ndarray, batch_size: int = 1024
                     ) -> np.ndarray:
    """Probabilities from an exported model for uint8 images shaped (N, H, W, C)."""
    run = load_exported(path)
    chunks = [run(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
