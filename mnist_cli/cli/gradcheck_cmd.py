"""`mnist-cli gradcheck`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from mnist_cli.cli import console
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import (
    ActivationOpt,
    ConfigOpt,
    DataOptions,
    OutputOptions,
    SetOpt,
    group_overrides,
)
from mnist_cli.config import resolve_config


class ModelKind(str, Enum):
    config = "config"
    logistic = "logistic"


@with_groups(source=DataOptions.pick("data", "image_shape", "data_dir", "label_column",
                                     "pixel_max"),
             out=OutputOptions.pick("json_out", "quiet", "verbose"))
def gradcheck(
    config: ConfigOpt = None,
    model: Annotated[ModelKind, typer.Option(
        help="'config': the config's network; 'logistic': the seed's hand-derived logistic "
             "regression checked against finite differences and GradientTape.")] = ModelKind.config,
    digit: Annotated[int | None, typer.Option(
        help="With --model logistic: one-vs-rest on this digit (default: one unit per class).")]
    = None,
    batch: Annotated[int, typer.Option(help="Real training examples in the batch.")] = 64,
    params: Annotated[str, typer.Option(
        help="Entries checked one by one per variable (seeded sample; the per-entry table "
             "and kink report), or 'all'. 100 checks small variables fully; --directions "
             "covers every entry.")] = "100",
    epsilon: Annotated[float, typer.Option(
        help="Finite-difference step (float64). 1e-5 balances rounding against ReLU kinks.")]
    = 1e-5,
    seed: Annotated[int, typer.Option(help="Seed for weights, data split and sampling.")] = 0,
    activation: ActivationOpt = None,
    source: DataOptions = GROUP,
    sets: SetOpt = None,
    run_dir: Annotated[Path | None, typer.Option(
        "--run-dir", help="Also write gradcheck.json into this directory.")] = None,
    out: OutputOptions = GROUP,
    directions: Annotated[int, typer.Option(
        "--directions", help="Random unit directions (seeded) along which autodiff g·v is "
        "compared with finite differences, over the whole model and per variable: every "
        "entry is involved. 0 skips this check.")] = 16,
) -> None:
    """Compare autodiff gradients with float64 finite differences, on sampled entries and
    along random directions that involve every entry (pass < 1e-7 <= warning < 1e-5 <=
    fail). Exit 1 on fail, or when nothing could be judged (inconclusive)."""
    out.apply()
    cfg = resolve_config(config, group_overrides(source, activation=activation, sets=sets))
    from mnist_cli.gradients import render
    from mnist_cli.gradients.command import gradcheck as run
    from mnist_cli.gradients.command import parse_params

    console.info(f"checking gradients of {model.value if model.value == 'logistic' else cfg.name}")
    result = run(cfg, model=model.value, batch=batch, params=parse_params(params),
                 epsilon=epsilon, seed=seed, digit=digit, run_dir=run_dir,
                 directions=directions)
    if out.json_out:
        console.print_json(result.to_dict())
    elif not out.quiet:
        console.out.print(render(result))
        for note in result.notes:
            console.out.print(f"[dim]note:[/] {note}")
    if result.verdict == "inconclusive":
        raise console.fail(f"gradcheck inconclusive: {result.reason}", result.exit_code)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
