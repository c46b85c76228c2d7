"""The README documents every command and flag that exists, and none that does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from mnist_cli.cli.app import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def commands_and_flags() -> tuple[set[str], set[str]]:
    names: set[str] = set()
    flags: set[str] = set()

    def walk(command: Any) -> None:
        for param in getattr(command, "params", []):
            flags.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        for name, sub in getattr(command, "commands", {}).items():
            names.add(name)
            walk(sub)

    walk(typer.main.get_command(app))
    return names, flags


def test_every_command_and_flag_is_documented() -> None:
    names, flags = commands_and_flags()
    assert not sorted(n for n in names if f"`{n}" not in README and f" {n}" not in README)
    # `--build/--no-build`: the README documents the switch people use, `--no-build`.
    assert not sorted(f for f in flags - {"--build"} if f not in README)


def test_readme_names_no_flag_that_does_not_exist() -> None:
    _, flags = commands_and_flags()
    documented = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", README))
    # `--logdir`: TensorBoard's own flag, in the README's `tensorboard --logdir runs`.
    assert not sorted(documented - flags - {"--help", "--logdir"})
