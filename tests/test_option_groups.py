"""Option groups (cli/groups.py): shared flags are declared once and every command that
shows them gets the same flag, and the command receives one group object."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import DataOptions, OutputOptions, StrategyOptions, TrainingOptions


def options_of(*path: str) -> dict[str, Any]:
    """`--flag` -> click Option of the command at `path`."""
    cmd: Any = get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return {decl: p for p in cmd.params for decl in p.opts if decl.startswith("--")}


def describe(opt: Any) -> tuple[Any, ...]:
    return (opt.name, opt.default, opt.metavar, opt.help, opt.rich_help_panel, opt.multiple)


@pytest.mark.parametrize(("group", "commands"), [
    (StrategyOptions, [("train",), ("evaluate",), ("compare",)]),
    (TrainingOptions, [("train",), ("compare",), ("config", "show")]),
    (DataOptions, [("train",), ("compare",), ("evaluate",), ("gradcheck",)]),
    (OutputOptions, [("train",), ("evaluate",), ("predict",), ("export",)]),
])
@pytest.mark.slow
def test_a_group_flag_is_the_same_flag_in_every_command(group: Any, commands: list) -> None:
    names = {f.name for f in dataclasses.fields(group)}
    seen: dict[str, set[tuple[Any, ...]]] = {}
    for path in commands:
        for flag, opt in options_of(*path).items():
            if opt.name in names:
                seen.setdefault(flag, set()).add(describe(opt))
    assert seen, group
    assert len(seen) == len(names)  # every flag of the group is shown by one of them
    assert {flag: len(kinds) for flag, kinds in seen.items() if len(kinds) > 1} == {}


def test_picked_flags_and_defaults_reach_the_command_as_one_object() -> None:
    got: dict[str, Any] = {}

    @with_groups(source=DataOptions.pick("data", "validation_split", validation_split=0.25))
    def cmd(source: DataOptions = GROUP) -> None:
        got["source"] = source

    demo = typer.Typer()
    demo.command()(cmd)
    demo.command("other")(lambda: None)
    result = CliRunner().invoke(demo, ["cmd", "--data", "digits"])
    assert result.exit_code == 0, result.output
    assert got["source"] == DataOptions(data="digits", validation_split=0.25)
    refused = CliRunner().invoke(demo, ["cmd", "--pixel-max", "3"])
    assert refused.exit_code == 2  # not picked: not a flag of this command


def test_a_flag_declared_twice_or_unknown_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="declared twice"):
        @with_groups(source=DataOptions.pick("data"))
        def twice(data: str = "x", source: DataOptions = GROUP) -> None: ...
    with pytest.raises(TypeError, match="has no flag"):
        DataOptions.pick("dta")
