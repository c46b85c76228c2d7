"""`mnist-cli predict`: labels and class probabilities for images, with or without labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_cli.cli import console
from mnist_cli.cli.evaluate_cmd import TargetArg, batch_progress
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import DATA, OUTPUT, DataOptions, OutputOptions
from mnist_cli.errors import UsageError

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


@with_groups(
    source=DataOptions.pick("image_shape", "data_dir", "label_column", "pixel_max",
                            "class_names"),
    out=OutputOptions.pick("json_out", "quiet", "verbose", "progress"))
def predict(
    target: TargetArg,
    data: PredictDataOpt = None,
    dest: OutOpt = None,
    fmt: FormatOpt = "csv",
    force: ForceOpt = False,
    source: DataOptions = GROUP,
    out: OutputOptions = GROUP,
) -> None:
    """Predict a label for every image and write csv, Kaggle csv or JSON."""
    out.apply()
    out.gates({})  # --progress checked before anything runs
    if data is None:
        raise UsageError("pass --data with the images to label, e.g. --data test.csv")
    from mnist_cli.flows.evaluate import predict_flow

    console.set_run_dir(Path(target) if Path(target).is_dir() else None)
    result, spec = predict_flow(target, data, out=dest, fmt=fmt, force=force,
                                image_shape=source.shape(), data_dir=source.data_dir,
                                label_column=source.label_column, pixel_max=source.pixel_max,
                                class_names=source.names(),
                                progress_for=batch_progress(out.progress, "predict"),
                                notify=console.info)
    if out.json_out:
        console.print_json({**result.to_dict(), "source": spec})
    elif not out.quiet:
        console.out.print(f"wrote {result.examples:,} predictions ({fmt}) to {result.path}")
