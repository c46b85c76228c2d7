"""`mnist-cli predict`: labels and class probabilities for images, with or without labels."""

from __future__ import annotations

from contextlib import nullcontext
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
    from mnist_cli.evaluate import BATCH_SIZE, load_split, model_class_names
    from mnist_cli.modelio import load_model
    from mnist_cli.predict import check_format, check_target, default_out, predict_to_file

    fmt = check_format(fmt)
    names = class_names_flag(class_names)
    loaded = load_model(target)
    model_class_names(loaded, names)  # a wrong count is refused before reading the data
    path = out or default_out(loaded, data, fmt)
    check_target(path, force)
    notes: list[str] = []
    split, source = load_split(loaded, data, image_shape=list(image_shape) if image_shape else None,
                               data_dir=data_dir, require_labels=False,
                               label_column=label_column or "auto", pixel_max=pixel_max,
                               notes=notes)
    console.notes(notes)
    from mnist_cli.cli.progress import make_progress

    progress = make_progress() if len(split) >= PROGRESS_MIN and not console.Mode.quiet else None
    callbacks = [predict_callback(progress, -(-len(split) // BATCH_SIZE))] if progress else []
    with progress or nullcontext():
        result = predict_to_file(loaded, split, path, fmt, source=source, force=force,
                                 callbacks=callbacks, class_names=names)
    if json_out:
        console.print_json({**result.to_dict(), "source": source})
    elif not quiet:
        console.out.print(f"wrote {result.examples:,} predictions ({fmt}) to {result.path}")
