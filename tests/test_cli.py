"""The command tree: help everywhere, instant start-up, JSON and run directories from real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from tests.helpers import run_cli

HEAVY = ("tensorflow", "keras", "pandas", "sklearn", "matplotlib", "tensorflow_datasets")


def all_command_paths() -> list[list[str]]:
    """Every command and sub-command, as argument lists."""
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "root")
@pytest.mark.slow
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.strip().splitlines()) > 3


def imported_after(args: list[str]) -> dict[str, bool]:
    """Run the CLI in a fresh interpreter and report which heavy modules got imported."""
    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from mnist_cli.cli.app import app\n"
        f"r = CliRunner().invoke(app, {args!r})\n"
        f"seen = {{m: m in sys.modules for m in {HEAVY!r}}}\n"
        "print(json.dumps({'exit': r.exit_code, **seen}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["config", "show"]])
@pytest.mark.slow
def test_help_and_config_do_not_import_heavy_modules(args: list[str]) -> None:
    seen = imported_after(args)
    assert seen.pop("exit") == 0
    assert not any(seen.values()), seen


@pytest.mark.slow
def test_config_error_reported_before_tensorflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {layers: [{Dense: {units: 10}}]}\ntraining: {epochs: 0}\n")
    seen = imported_after(["train", "--config", str(bad), "--run-dir", str(tmp_path / "r")])
    assert seen.pop("exit") == 2
    assert not seen["tensorflow"] and not seen["keras"]
    assert not (tmp_path / "r").exists()


def test_unknown_flag_is_usage_error() -> None:
    result = CliRunner().invoke(app, ["train", "--epoch", "3"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_config_error_message_and_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {layers: [{Dense: {units: 10}}]}\ntraining: {epochs: 0}\n")
    proc = run_cli("config", "validate", str(bad))
    assert proc.returncode == 2
    assert "training.epochs: must be >= 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One real CLI training run on the bundled digits, shared by the assertions below."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    proc = run_cli("train", "--data", "digits", "--activation", "relu", "--seed", "3",
                   "--run-dir", str(run_dir), "--json", "--verbose")
    return proc, run_dir


def test_train_json_is_one_object_and_accurate(trained: tuple) -> None:
    proc, run_dir = trained
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["status"] == "completed"
    assert metrics["test_accuracy"] >= 0.90
    assert metrics["seed"] == 3
    assert metrics["dataset"]["image_shape"] == [8, 8, 1]
    assert metrics["strategy"]["replicas"] == 1
    assert 0 < metrics["balanced_accuracy"] <= 1
    # --verbose: where the time went, on stderr (stdout stays one JSON document)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("timings: "))
    assert [p.split()[0] for p in line.removeprefix("timings: ").split(", ")] == \
        list(metrics["timings"])


def test_run_directory_files_parse(trained: tuple) -> None:
    proc, run_dir = trained
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["training"]["seed"] == 3
    assert config["data"]["spec"] == "digits"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_accuracy"] == json.loads(proc.stdout)["test_accuracy"]
    for key in ("train_seconds", "eval_seconds", "samples_per_second", "versions", "command"):
        assert key in metrics
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,")
    assert len(lines) == 1 + metrics["epochs_run"]
    import keras

    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.output_shape == (None, 10)


def test_existing_run_dir_is_refused(trained: tuple) -> None:
    _, run_dir = trained
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--run-dir", str(run_dir)])
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_config_show_explain_documents_each_key() -> None:
    """--explain: the resolved config (flags applied) with each key's docstring above it;
    with --json, value and doc per dotted key."""
    import json

    result = CliRunner().invoke(app, ["config", "show", "--explain", "--epochs", "7"])
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.output.splitlines()]
    at = lines.index("  epochs: 7")
    assert lines[at - 1] == "  # Passes over the training data; must be >= 1."
    result = CliRunner().invoke(app, ["config", "show", "--explain", "--json"])
    doc = json.loads(result.output)["data.validation_split"]
    assert doc == {"value": 0.1, "doc": "Fraction of the training data held out for "
                   "validation, in [0, 1)."}
