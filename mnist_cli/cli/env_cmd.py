"""`mnist-cli env`: what this machine offers for training, ready to paste into a bug report."""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.options import JsonOpt, VerboseOpt


def env(json_out: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Show versions (against their tested ranges), devices, strategies, GPU hints, TF_CONFIG.

    Usable strategies say why not where they are not; pinned libraries say whether they are
    inside the range mnist-cli was tested with."""
    from mnist_cli.backend import set_verbose
    from mnist_cli.distribute import env_report

    set_verbose(verbose)
    report = env_report()
    if json_out:
        console.print_json(report)
        return
    table = Table(title="Environment", show_header=False)
    pins = {pin["name"]: pin["summary"] for pin in report["pins"]}
    for key, value in report["versions"].items():
        table.add_row(key, escape(pins.pop(key, value)))
    for name, summary in pins.items():
        table.add_row(name, escape(summary))
    backend = report["backend"]
    table.add_row("keras backends", f"{', '.join(backend['installed'])} (default "
                                    f"{backend['default']}; {backend['choose_with']})")
    for kind, names in report["devices"].items():
        table.add_row(f"{kind} devices", ", ".join(names) or "none")
    for line in report["gpu"]["advice"]:
        table.add_row("gpu", escape(line))
    console.out.print(table)
    strat = Table(title="Strategies")
    for col in ("strategy", "usable", "why"):
        strat.add_column(col)
    for name, row in report["strategies"].items():
        strat.add_row(name, "yes" if row["usable"] else "no", row["why"])
    console.out.print(strat)
    tf_config = report["tf_config"]
    console.out.print(f"TF_CONFIG: {json.dumps(tf_config) if tf_config else 'not set'}")
