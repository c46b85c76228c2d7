"""`mnist-cli config show|validate|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.syntax import Syntax

from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.cli.console import guarded
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import shipped_configs

app = typer.Typer(no_args_is_help=True, help="Show, validate and list model configs.")


@app.command(cls=opt.Command)
@guarded
def show(
    config: opt.ConfigOpt = None,
    activation: opt.ActivationOpt = None,
    epochs: opt.EpochsOpt = None,
    batch_size: opt.BatchOpt = None,
    optimizer: opt.OptimizerOpt = None,
    learning_rate: opt.LrOpt = None,
    seed: opt.SeedOpt = None,
    sets: opt.SetOpt = None,
    data: opt.DataOpt = None,
    json_out: opt.JsonOpt = False,
    explain: Annotated[bool, typer.Option(
        "--explain", metavar="", rich_help_panel=opt.OUTPUT,
        help="Document each key (YAML comments; with --json: value and doc).")] = False,
) -> None:
    """Print the resolved config (file + flags) without training."""
    cfg = resolve_config(config, Overrides(
        activation=activation, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
        learning_rate=learning_rate, seed=seed, sets=sets, data=data))
    if explain:
        from mnist_cli.config.docs import explain_json, explain_yaml

    if json_out:
        console.print_json(explain_json(cfg) if explain else cfg.to_dict())
    else:
        text = explain_yaml(cfg) if explain else yaml.safe_dump(cfg.to_dict(), sort_keys=False)
        console.out.print(Syntax(text, "yaml"))


@app.command(cls=opt.Command)
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
        from mnist_cli.modeling.build import check_layers

        check_layers(cfg.model, source=str(path))
    layers = len(cfg.model.layers)
    console.out.print(f"[green]ok:[/] {path} ({layers} layers, output {cfg.model.output})")


@app.command("list", cls=opt.Command)
def list_configs() -> None:
    """List the shipped configs."""
    for name, path in shipped_configs().items():
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        console.out.print(f"[bold]{name}[/]  {first}")
