"""`mnist-cli config show|validate|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.syntax import Syntax

from mnist_cli.cli import console
from mnist_cli.cli.console import guarded
from mnist_cli.cli.options import (
    ActivationOpt,
    BatchOpt,
    ConfigOpt,
    DataOpt,
    EpochsOpt,
    JsonOpt,
    LrOpt,
    OptimizerOpt,
    SeedOpt,
    SetOpt,
    make_overrides,
)
from mnist_cli.config import resolve_config
from mnist_cli.config.load import shipped_configs

app = typer.Typer(no_args_is_help=True, help="Show, validate and list model configs.")


@app.command()
@guarded
def show(
    config: ConfigOpt = None,
    activation: ActivationOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    optimizer: OptimizerOpt = None,
    learning_rate: LrOpt = None,
    seed: SeedOpt = None,
    data: DataOpt = None,
    sets: SetOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print the resolved config (file + flags) without training."""
    cfg = resolve_config(config, make_overrides(
        activation=activation, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
        learning_rate=learning_rate, seed=seed, data=data, sets=sets))
    if json_out:
        console.print_json(cfg.to_dict())
    else:
        console.out.print(Syntax(yaml.safe_dump(cfg.to_dict(), sort_keys=False), "yaml"))


@app.command()
@guarded
def validate(
    path: Annotated[Path, typer.Argument(help="YAML config to check.")],
    build: Annotated[bool, typer.Option(
        help="Also build each layer with Keras to check its arguments (imports TensorFlow)."),
    ] = True,
) -> None:
    """Check one config file; every problem is listed. Exit 2 if any."""
    cfg = resolve_config(str(path))
    if build:
        from mnist_cli.model import check_layers

        check_layers(cfg.model, source=str(path))
    layers = len(cfg.model.layers)
    console.out.print(f"[green]ok:[/] {path} ({layers} layers, output {cfg.model.output})")


@app.command("list")
def list_configs() -> None:
    """List the shipped configs."""
    for name, path in shipped_configs().items():
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        console.out.print(f"[bold]{name}[/]  {first}")
