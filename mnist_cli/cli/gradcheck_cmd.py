"""`mnist-cli gradcheck`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli import options as opt


class ModelKind(str, Enum):
    config = "config"
    logistic = "logistic"


def gradcheck(
    config: opt.ConfigOpt = None,
    model: Annotated[ModelKind, typer.Option(
        help="'config': the config's network; 'logistic': the seed's hand-derived logistic "
             "regression checked against finite differences and autodiff.")] = ModelKind.config,
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
    activation: opt.ActivationOpt = None,
    data: opt.DataOpt = None,
    image_shape: opt.ImageShapeOpt = None,
    data_dir: opt.DataDirOpt = None,
    label_column: opt.LabelColumnOpt = None,
    pixel_max: opt.PixelMaxOpt = None,
    sets: opt.SetOpt = None,
    run_dir: Annotated[Path | None, typer.Option(
        "--run-dir", help="Also write gradcheck.json into this directory.")] = None,
    json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
    directions: Annotated[int, typer.Option(
        "--directions", help="Random unit directions (seeded) along which autodiff g·v is "
        "compared with finite differences, over the whole model and per variable: every "
        "entry is involved. 0 skips this check.")] = 16,
    backend: opt.BackendOpt = None,
) -> None:
    """Compare autodiff gradients with float64 finite differences.

    On sampled entries and along random directions that involve every entry (pass < 1e-7 <=
    warning < 1e-5 <= fail). Exit 1 on fail, or when nothing could be judged
    (inconclusive). On JAX the check runs in JAX's x64 mode."""
    keywords = console.api_keywords(locals())
    ui = console.start(quiet=quiet, json_out=json_out, verbose=verbose)
    result = api.gradcheck(**keywords, progress=ui)
    if json_out:
        console.print_json(result.report)
    elif not quiet:
        from mnist_cli.gradients import render

        console.out.print(render(result.check))
        for note in result.check.notes:
            console.out.print(f"[dim]note:[/] {note}")
    if result.verdict == "inconclusive":
        raise console.fail(f"gradcheck inconclusive: {result.reason}", result.exit_code)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
