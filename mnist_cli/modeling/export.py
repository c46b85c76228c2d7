"""Export a trained model for serving (SavedModel), phones (TFLite) or ONNX runtimes.

Every format takes images shaped like the training images, (H, W, C), as uint8 0-255 and
return class probabilities: the pixel scaling and (for logits models) the softmax live
inside the exported graph, so a server or an app needs no knowledge of either.

ONNX goes through `tf2onnx` (optional extra `mnist-cli[onnx]`: tf2onnx 1.17 and onnxruntime
1.32 install and convert with TF 2.21 / Keras 3.15; probabilities match Keras within 1e-6).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.modeling.exported import ONNX_HINT, SIGNATURE, tflite_signature
from mnist_cli.modeling.io import LoadedModel, load_model
from mnist_cli.runs.artifacts import atomic_write

FORMATS = ("saved-model", "tflite", "onnx")
QUANTIZE = ("dynamic", "float16")
INPUT_NAME = "images"


@dataclass
class ExportResult:
    """What was written: where, in which format, how big, and its input/output contract."""

    path: Path
    format: str
    quantize: str | None
    bytes: int
    input_shape: tuple[int, ...]
    num_classes: int
    signature: str | None = None  # the signature to call (SavedModel, TFLite); ONNX has none
    output_name: str | None = None  # that signature's (or the ONNX graph's) output

    def __repr__(self) -> str:
        quantized = f", quantize={self.quantize!r}" if self.quantize else ""
        return (f"ExportResult({str(self.path)!r}, {self.format}{quantized}, "
                f"{self.bytes:,} bytes)")

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "quantize": self.quantize,
                "bytes": self.bytes,
                "input": {"name": INPUT_NAME, "dtype": "uint8",
                          "shape": [None, *self.input_shape], "range": [0, 255]},
                "output": {"dtype": "float32", "shape": [None, self.num_classes],
                           "meaning": "class probabilities (rows sum to 1)"},
                "signature": self.signature, "output_name": self.output_name}


def check_choice(fmt: str, quantize: str | None) -> tuple[str, str | None]:
    """Normalise --format/--quantize, refusing unknown values and quantized SavedModels."""
    fmt = fmt.lower().replace("_", "-")
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if quantize is not None:
        quantize = quantize.lower()
        if quantize not in QUANTIZE:
            raise UsageError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZE)}")
        if fmt != "tflite":
            raise UsageError(f"--quantize applies to --format tflite only; drop it for "
                             f"{fmt} (which keeps float32 weights)")
    return fmt, quantize


def default_out(loaded: LoadedModel, fmt: str, quantize: str | None) -> Path:
    """RUN_DIR/export/saved_model, RUN_DIR/export/model[-QUANTIZE].tflite."""
    base = loaded.out_dir / "export"
    if fmt == "saved-model":
        return base / "saved_model"
    if fmt == "onnx":
        return base / "model.onnx"
    return base / (f"model-{quantize}.tflite" if quantize else "model.tflite")


def check_out(path: Path, force: bool) -> None:
    """Refuse to replace an existing export unless asked, before spending time converting."""
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to replace it or --out to "
                         "choose another path")


def float32_copy(model: Any) -> Any:
    """The model with float32 compute: a mixed-precision model's weights are float32 already,
    and TFLite's converter cannot translate its 16-bit MatMuls."""
    from mnist_cli.backend import import_keras

    if all(layer.compute_dtype == "float32" for layer in model.layers):
        return model
    keras = import_keras()

    def clone(layer: Any) -> Any:
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def serving_model(loaded: LoadedModel) -> Any:
    """uint8 (H, W, C) -> the trained model's scaling -> model -> softmax (for logits)."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    images = keras.Input(shape=loaded.image_shape, dtype="uint8", name=INPUT_NAME)
    x = keras.layers.Rescaling(1.0 / 255.0 if loaded.scale else 1.0, dtype="float32")(images)
    out = float32_copy(loaded.model)(x)
    if loaded.output_form == "logits":
        out = keras.layers.Softmax(dtype="float32")(out)
    return keras.Model(images, out, name="serving")


def write_saved_model(serving: Any, path: Path) -> None:
    """`model.export` into a temporary directory beside `path`, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        serving.export(str(tmp / "sm"), format="tf_saved_model", verbose=False)
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        (tmp / "sm").rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tflite_bytes(serving: Any, quantize: str | None) -> bytes:
    """Convert through a temporary SavedModel with TF's converter (the Keras 3 route)."""
    from mnist_cli.backend import import_tf

    tf = import_tf()
    with tempfile.TemporaryDirectory(prefix="mnist-cli-export-") as tmp:
        serving.export(str(Path(tmp) / "sm"), format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "sm"))
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def onnx_bytes(serving: Any, image_shape: tuple[int, ...]) -> bytes:
    """Convert with tf2onnx (opset 17) from a tf.function around the serving model."""
    import logging

    from mnist_cli.backend import import_tf

    tf = import_tf()
    try:
        import tf2onnx
    except ImportError:
        raise UsageError(f"--format onnx needs tf2onnx: {ONNX_HINT}") from None
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    spec = [tf.TensorSpec([None, *image_shape], tf.uint8, name=INPUT_NAME)]
    fn = tf.function(lambda images: {"probabilities": serving(images)})
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=17)
    return proto.SerializeToString()


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def export_model(target: Path | str, fmt: str = "saved-model", quantize: str | None = None,
                 out: Path | None = None, force: bool = False) -> ExportResult:
    """Export a run directory's model (or a .keras file) as a SavedModel or a TFLite file."""
    fmt, quantize = check_choice(fmt, quantize)
    loaded = load_model(target)
    path = Path(out) if out is not None else default_out(loaded, fmt, quantize)
    check_out(path, force)
    serving = serving_model(loaded)
    if fmt == "saved-model":
        write_saved_model(serving, path)
    else:
        data = (onnx_bytes(serving, loaded.image_shape) if fmt == "onnx"
                else tflite_bytes(serving, quantize))
        atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return ExportResult(path, fmt, quantize, size_of(path), loaded.image_shape,
                        loaded.num_classes, *written_signature(path, fmt))


def written_signature(path: Path, fmt: str) -> tuple[str | None, str | None]:
    """(signature, output name): a TFLite file's are read back from the file itself."""
    if fmt == "tflite":
        found = tflite_signature(path)
        return (found["name"], (found["outputs"] or [None])[0]) if found else (None, None)
    return (SIGNATURE, "output_0") if fmt == "saved-model" else (None, "probabilities")
