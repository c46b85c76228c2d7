"""`mnist-cli predict`: labels and class probabilities for images, with or without labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.cli.evaluate_cmd import TargetArg

PredictDataOpt = Annotated[str | None, typer.Option(
    "--data", metavar="SPEC", rich_help_panel=opt.DATA,
    help="Images to label: a .csv/.npz/IDX path (labels optional), digits, mnist...")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", metavar="FILE", rich_help_panel=opt.OUTPUT,
    help="Output file (default: <input>-predictions.csv in the run directory).")]
FormatOpt = Annotated[str, typer.Option(
    "--format", metavar="FORMAT", rich_help_panel=opt.OUTPUT, show_default=False,
    autocompletion=opt.completes("mnist_cli.predictions:FORMATS"),
    help="csv (default: label and probabilities), kaggle (ImageId,Label) or json.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", metavar="", rich_help_panel=opt.OUTPUT, help="Overwrite an existing output file.")]


def predict(
    target: TargetArg,
    data: PredictDataOpt = None,
    out: OutOpt = None,
    format: FormatOpt = "csv",
    force: ForceOpt = False,
    image_shape: opt.ImageShapeOpt = None,
    data_dir: opt.DataDirOpt = None,
    label_column: opt.LabelColumnOpt = None,
    pixel_max: opt.PixelMaxOpt = None,
    class_names: opt.ClassNamesOpt = None,
    backend: opt.BackendOpt = None,
    json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
    progress: opt.ProgressOpt = "auto",
) -> None:
    """Predict a label for every image and write csv, Kaggle csv or JSON."""
    keywords = console.api_keywords(locals())
    ui = console.start(progress, quiet=quiet, json_out=json_out, verbose=verbose)
    result = api.predict(**keywords, progress=ui)
    if json_out:
        console.print_json(result.to_dict())
    elif not quiet:
        console.out.print(f"wrote {result.examples:,} predictions ({format}) to {result.path}")
