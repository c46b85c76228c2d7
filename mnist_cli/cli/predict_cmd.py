"""`mnist-cli predict`: labels and class probabilities for images, with or without labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli.cli import console
from mnist_cli.cli.evaluate_cmd import TargetArg
from mnist_cli.cli.options import (
    ClassNamesOpt,
    DataDirOpt,
    ImageShapeOpt,
    JsonOpt,
    LabelColumnOpt,
    PixelMaxOpt,
    QuietOpt,
    VerboseOpt,
    class_names_flag,
)
from mnist_cli.errors import UsageError
from mnist_cli.tfenv import set_verbose

PROGRESS_MIN = 5000  # examples; smaller inputs finish before a bar would help

PredictDataOpt = Annotated[str | None, typer.Option(
    "--data", help="Images to label: a .csv/.npz/IDX path (labels optional), digits, mnist...")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Output file (default: <input name>-predictions.csv in the run directory).")]
FormatOpt = Annotated[str, typer.Option(
    "--format", help="csv (label, probability, per-class probabilities), kaggle "
    "(ImageId,Label), or json.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]


def predict_callback(progress: Any, total: int) -> Any:
    """A Keras callback advancing one bar per predicted batch."""
    from mnist_cli.tfenv import import_keras

    keras = import_keras()
    task = progress.add_task("predict", total=total, stats="")

    class PredictProgress(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
            progress.update(task, completed=batch + 1)

    return PredictProgress()


def predict(
    target: TargetArg,
    data: PredictDataOpt = None,
    out: OutOpt = None,
    fmt: FormatOpt = "csv",
    force: ForceOpt = False,
    image_shape: ImageShapeOpt = None,
    data_dir: DataDirOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    label_column: LabelColumnOpt = None,
    pixel_max: PixelMaxOpt = None,
    class_names: ClassNamesOpt = None,
) -> None:
    """Predict a label for every image and write csv, Kaggle csv or JSON."""
    console.set_mode(quiet=quiet or json_out, json_out=json_out)
    set_verbose(verbose)
    if data is None:
        raise UsageError("pass --data with the images to label, e.g. --data test.csv")
    from mnist_cli.evaluate import BATCH_SIZE
    from mnist_cli.flows.evaluate import predict_flow

    def progress_for(examples: int) -> tuple[Any, list[Any]]:
        from mnist_cli.cli.progress import make_progress

        if examples < PROGRESS_MIN or console.Mode.quiet:
            return None, []
        progress = make_progress()
        return progress, [predict_callback(progress, -(-examples // BATCH_SIZE))]

    result, source = predict_flow(target, data, out=out, fmt=fmt, force=force,
                                  image_shape=list(image_shape) if image_shape else None,
                                  data_dir=data_dir, label_column=label_column,
                                  pixel_max=pixel_max, class_names=class_names_flag(class_names),
                                  progress_for=progress_for, notify=console.info)
    if json_out:
        console.print_json({**result.to_dict(), "source": source})
    elif not quiet:
        console.out.print(f"wrote {result.examples:,} predictions ({fmt}) to {result.path}")
