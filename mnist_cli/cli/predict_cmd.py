"""`mnist-cli predict`: labels and class probabilities for images, with or without labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_cli.cli import console
from mnist_cli.cli.evaluate_cmd import TargetArg, batch_progress
from mnist_cli.cli.options import (
    DATA,
    OUTPUT,
    ClassNamesOpt,
    DataDirOpt,
    ImageShapeOpt,
    JsonOpt,
    LabelColumnOpt,
    PixelMaxOpt,
    ProgressOpt,
    QuietOpt,
    VerboseOpt,
    class_names_flag,
)
from mnist_cli.errors import UsageError
from mnist_cli.tfenv import set_verbose

PredictDataOpt = Annotated[str | None, typer.Option(
    "--data", metavar="SPEC", rich_help_panel=DATA,
    help="Images to label: a .csv/.npz/IDX path (labels optional), digits, mnist...")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", metavar="FILE", rich_help_panel=OUTPUT,
    help="Output file (default: <input>-predictions.csv in the run directory).")]
FormatOpt = Annotated[str, typer.Option(
    "--format", metavar="FORMAT", rich_help_panel=OUTPUT, show_default=False,
    help="csv (default: label and probabilities), kaggle (ImageId,Label) or json.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", metavar="", rich_help_panel=OUTPUT, help="Overwrite an existing output file.")]


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
    progress: ProgressOpt = "auto",
) -> None:
    """Predict a label for every image and write csv, Kaggle csv or JSON."""
    console.set_mode(quiet=quiet or json_out, json_out=json_out)
    set_verbose(verbose)
    from mnist_cli.cli.progress import resolve_mode

    resolve_mode(progress)
    if data is None:
        raise UsageError("pass --data with the images to label, e.g. --data test.csv")
    from mnist_cli.flows.evaluate import predict_flow

    console.set_run_dir(Path(target) if Path(target).is_dir() else None)
    result, source = predict_flow(target, data, out=out, fmt=fmt, force=force,
                                  image_shape=list(image_shape) if image_shape else None,
                                  data_dir=data_dir, label_column=label_column,
                                  pixel_max=pixel_max, class_names=class_names_flag(class_names),
                                  progress_for=batch_progress(progress, "predict"),
                                  notify=console.info)
    if json_out:
        console.print_json({**result.to_dict(), "source": source})
    elif not quiet:
        console.out.print(f"wrote {result.examples:,} predictions ({fmt}) to {result.path}")
