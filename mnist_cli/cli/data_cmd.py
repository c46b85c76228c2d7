"""`mnist-cli data info`: what a data spec resolves to, before any training."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.cli.console import guarded
from mnist_cli.config import DataConfig
from mnist_cli.display import status

app = typer.Typer(no_args_is_help=True, help="Inspect data sources.")


def description_table(desc: dict[str, Any]) -> Table:
    table = Table(title=f"Data: {desc['source']}", show_header=True)
    table.add_column("split")
    table.add_column("examples", justify="right")
    table.add_column("examples per class")
    for split, size in desc["sizes"].items():
        counts = desc["class_counts"].get(split, {})
        table.add_row(split, f"{size:,}", " ".join(f"{k}:{v}" for k, v in counts.items()))
    classes = f"{desc['num_classes']} classes" if desc["num_classes"] else "no labels"
    table.caption = (f"image shape {tuple(desc['image_shape'])}, {classes}, "
                     f"sha256 {desc['sha256'][:16]}...")
    return table


@app.command(cls=opt.Command)
@guarded
def info(
    spec: Annotated[str, typer.Argument(help="auto, digits, mnist, tfds:NAME or a path.")] = "auto",
    test_data: opt.TestDataOpt = None,
    validation_split: opt.ValSplitOpt = 0.1,
    image_shape: opt.ImageShapeOpt = None,
    data_dir: opt.DataDirOpt = None,
    label_column: opt.LabelColumnOpt = None,
    pixel_max: opt.PixelMaxOpt = None,
    seed: opt.SeedOpt = 0,
    json_out: opt.JsonOpt = False,
) -> None:
    """Load a data source and describe it: splits, shape, class counts, sha256 (an unlabeled
    file, such as Kaggle's test.csv, as one set)."""
    from mnist_cli.data.dataset import describe_source

    cfg = DataConfig(spec=spec, test_spec=test_data, validation_split=validation_split or 0.0,
                     image_shape=list(image_shape) if image_shape else None, data_dir=data_dir,
                     label_column=label_column or "auto", pixel_max=pixel_max)
    desc = describe_source(cfg, seed or 0).to_dict()
    if json_out:
        console.print_json(desc)
        return
    console.out.print(description_table(desc))
    for note in desc.get("notes", []):
        status(f"[yellow]note:[/] {note}")
