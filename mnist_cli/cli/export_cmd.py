"""`mnist-cli export`: a run's model as a SavedModel (servers) or a TFLite file (phones)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli.evaluate_cmd import TargetArg
from mnist_cli.cli.options import JsonOpt, QuietOpt, VerboseOpt, completes

ExportFormatOpt = Annotated[str, typer.Option(
    "--format", metavar="saved-model|tflite|onnx",
    autocompletion=completes("mnist_cli.modeling.export:FORMATS"),
    help="saved-model (TensorFlow Serving, tf.saved_model.load), tflite (LiteRT) or onnx "
    "(needs the onnx extra).")]
QuantizeOpt = Annotated[str | None, typer.Option(
    "--quantize", metavar="dynamic|float16",
    autocompletion=completes("mnist_cli.modeling.export:QUANTIZE"),
    help="TFLite only: dynamic-range int8 weights (~4x smaller) or float16 weights (~2x).")]
ExportOutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Where to write (default RUN_DIR/export/saved_model, "
    "RUN_DIR/export/model[-QUANTIZE].tflite or RUN_DIR/export/model.onnx).")]
ExportForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing export.")]


def result_table(info: dict) -> Table:
    table = Table(title="Exported", show_header=False)
    shape = "x".join("N" if d is None else str(d) for d in info["input"]["shape"])
    rows = [("format", info["format"] + (f" ({info['quantize']})" if info["quantize"] else "")),
            ("path", info["path"]), ("size", f"{info['bytes'] / 1024:,.1f} KiB"),
            ("input", f"{info['input']['name']}: uint8 {shape}, pixels 0-255"),
            ("output", f"float32 Nx{info['output']['shape'][1]} class probabilities")]
    if info["signature"]:
        rows.append(("signature", info["signature"]))
    for key, value in rows:
        table.add_row(key, value)
    return table


def export(
    target: TargetArg,
    format: ExportFormatOpt = "saved-model",
    quantize: QuantizeOpt = None,
    out: ExportOutOpt = None,
    force: ExportForceOpt = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export a trained model: uint8 images in, class probabilities out."""
    console.start(quiet=quiet, json_out=json_out, verbose=verbose)
    info = api.export(target, format=format, quantize=quantize, out=out, force=force).to_dict()
    if json_out:
        console.print_json(info)
    elif not quiet:
        console.out.print(result_table(info))
