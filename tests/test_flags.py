"""Flags declared once: the CLI's flags and the API's keywords are one name with one default,
values with fixed choices complete in the shell, switches show no value type in --help, and
a bad value is reported under the flag (or keyword) that gave it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mnist_cli import api
from mnist_cli.cli.app import app
from mnist_cli.errors import ConfigError

COMMANDS = ["train", "evaluate", "predict", "compare", "gradcheck", "export", "tune"]

OUTPUT_ONLY = {"progress"}
"""Keywords whose default differs from the same-named flag's on purpose, because they only
decide what is printed: the CLI shows progress unless told not to (`--progress auto`); the
library prints nothing unless asked (`progress=False`)."""

API_ONLY = {"command"}
"""Keywords with no flag: `command` is what metrics.json records (the CLI passes its argv)."""

CLI_ONLY = {"json_out", "quiet", "verbose", "fail_under"}
"""Flags with no keyword: what the CLI prints (--json, --quiet, --verbose) and its gates."""


def cli_options(name: str) -> dict[str, Any]:
    """Parameter name -> default of the command's click parameters (--help aside)."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {p.name: p.default for p in command.params}


def api_keywords(name: str) -> dict[str, Any]:
    """Keyword -> default of the API function (parameters without a default left out)."""
    params = inspect.signature(getattr(api, name)).parameters.values()
    return {p.name: p.default for p in params if p.default is not p.empty}


def plain(value: Any) -> str | None:
    """A default as text: an enum's value, a flag's text ("100") like the keyword's 100."""
    value = getattr(value, "value", value)
    return None if value is None else str(value)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_keyword_has_the_default_of_its_flag(name: str) -> None:
    cli, keywords = cli_options(name), api_keywords(name)
    assert sorted(set(keywords) - set(cli) - API_ONLY - OUTPUT_ONLY) == []  # each keyword a flag
    assert sorted(set(cli) - set(keywords) - CLI_ONLY - {"target"}) == []  # and back
    differ = {k: (cli[k], keywords[k]) for k in set(keywords) & set(cli) - OUTPUT_ONLY
              if plain(cli[k]) != plain(keywords[k])}
    assert differ == {}


def test_gradcheck_checks_100_entries_per_variable_by_default() -> None:
    """Issue 20: the API's default was 200 while the CLI's and the README's was 100."""
    assert api_keywords("gradcheck")["params"] == 100
    assert cli_options("gradcheck")["params"] == "100"


def complete(line: str) -> list[str]:
    """What bash's completion function gets for `line` (the word being typed last): the
    environment typer's bash script sets, with the words joined by newlines as its IFS does."""
    words = line.split(" ")
    env = {"_MNIST_CLI_COMPLETE": "complete_bash", "COMP_WORDS": "\n".join(words),
           "COMP_CWORD": str(len(words) - 1)}
    result = CliRunner().invoke(app, [], prog_name="mnist-cli", env=env)
    assert result.exit_code == 0, result.output
    return result.output.split()


@pytest.mark.parametrize(("line", "offered"), [
    ("mnist-cli train --progress ", ["auto", "bar", "plain", "none"]),
    ("mnist-cli evaluate run --progress p", ["plain"]),
    ("mnist-cli predict run --format ", ["csv", "kaggle", "json"]),
    ("mnist-cli export run --format t", ["tflite"]),
    ("mnist-cli train --precision mixed", ["mixed_float16", "mixed_bfloat16"]),
    ("mnist-cli compare --strategy ", ["auto", "default", "one-device", "mirrored",
                                       "multi-worker", "tpu", "data-parallel"]),
    ("mnist-cli gradcheck --label-column ", ["auto", "first", "last"]),
    ("mnist-cli train --class-names f", ["fashion"]),
    ("mnist-cli compare -c mlp_", ["mlp_relu", "mlp_softmax"]),
])
def test_values_complete_in_bash(line: str, offered: list[str]) -> None:
    assert complete(line) == offered


def test_config_completes_shipped_names_and_yaml_files(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("small.yaml", "wide.yml", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert complete("mnist-cli train --config ") == ["cnn", "mlp_relu", "mlp_softmax",
                                                     "small.yaml", "wide.yml"]
    assert complete("mnist-cli config show -c s") == ["small.yaml"]
    assert complete("mnist-cli train -c nothing") == []  # bash then completes files itself


def test_switches_show_no_value_type_in_help() -> None:
    """Issue 20: the top-level --help showed `<bool>` after --version, --help and
    --install-completion (and every command's --help after --help)."""
    for path in ([], ["export"], ["config", "validate"]):  # group, command, sub-command
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output, path
        assert "--help" in result.output
    top = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}).output
    assert "--version" in top and "--install-completion" in top


def test_a_bad_value_is_named_by_its_flag_not_the_config_file(tmp_path: Path) -> None:
    """Issue 20: `--optimizer adamm` blamed configs/mlp_relu.yaml."""
    res = CliRunner().invoke(app, ["train", "--optimizer", "adamm", "--run-dir",
                                   str(tmp_path / "r")])
    assert res.exit_code == 2
    line = " ".join(res.stderr.split())
    assert line.startswith("error: --optimizer: training.optimizer: unknown 'adamm' "
                           "(did you mean adam?)"), line
    assert "mlp_relu.yaml" not in line and not (tmp_path / "r").exists()
    res = CliRunner().invoke(app, ["config", "show", "--set", "training.epoks=3"])
    assert res.exit_code == 2
    assert " ".join(res.stderr.split()).startswith(
        "error: --set training.epoks=3: training.epoks: unknown key (did you mean epochs?)")


def test_the_api_names_the_keyword(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        api.train(optimizer="adamm", epochs=0, run_dir=tmp_path / "r")
    text = str(exc.value)
    assert "mlp_relu.yaml" not in text and "2 problem(s)" in text
    assert "  - keyword optimizer: training.optimizer: unknown 'adamm'" in text
    assert "  - keyword epochs: training.epochs: must be >= 1, got 0" in text
    with pytest.raises(ConfigError, match=r"^sets item 'data.pixel_max=0': data.pixel_max"):
        api.gradcheck(sets={"data.pixel_max": 0})


def test_a_problem_of_the_file_itself_still_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {layers: [{Dense: {units: 10}}]}\ntraining: {optimizer: adamm}\n")
    res = CliRunner().invoke(app, ["config", "show", "-c", str(bad), "--epochs", "0"])
    assert res.exit_code == 2
    text = res.stderr
    assert f"{bad}: 2 problem(s)" in " ".join(text.split())
    assert "- training.optimizer: unknown 'adamm'" in text
    assert "- --epochs: training.epochs: must be >= 1" in text
