"""Output that suits a CI log, gates that fail a job, a job summary, help that fits 80
columns, and one-line errors for bad choices."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from tests.helpers import run_cli

EPOCH_LINE = re.compile(r"^epoch (\d+)/3  loss \d+\.\d{4}  acc \d\.\d{4}  val_loss \d+\.\d{4}"
                        r"  val_acc \d\.\d{4}  \d+\.\d s  [\d,]+ samples/s$")
BAR_CHARS = ("━", "█", "…", "╸")


def help_lines(*args: str) -> list[str]:
    proc = run_cli(*args, "--help", env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rstrip("\n").splitlines()


@pytest.mark.parametrize("command", ["train", "compare", "evaluate", "predict"])
@pytest.mark.slow
def test_help_reads_at_80_columns(command: str) -> None:
    lines = help_lines(command)
    # train was 134 lines before the panels; 72 with --backend (JAX) added
    assert len(lines) <= 76, "\n".join(lines)
    assert all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    assert "<list[str]>" not in text and "<str>" not in text
    assert "…" not in text  # no option name cut short


@pytest.mark.slow
def test_train_help_groups_options_into_panels() -> None:
    text = "\n".join(help_lines("train"))
    for panel in ("Model & training", "Data", "Output", "Distribution"):
        assert f"─ {panel} ─" in text
    assert "METRIC=VALUE" in text and "KEY=VALUE" in text and "HOST:PORT" in text


@pytest.mark.parametrize(("args", "choices"), [
    (["train", "--cross-device-ops", "bogus"], "'auto', 'nccl', 'hierarchical-copy'"),
    (["evaluate", "x.keras", "--cross-device-ops", "bogus"], "'reduce-to-one'"),
    (["train", "--strategy", "bogus"], "auto, default, one-device, mirrored"),
    (["train", "--progress", "bogus"], "auto, bar, plain, none"),
    (["compare", "--progress", "fancy"], "auto, bar, plain, none"),
    (["train", "--fail-under", "accuracy=0.9"], "test_accuracy, balanced_accuracy"),
    (["evaluate", "x.keras", "--fail-under", "f1=0.9"], "accuracy, balanced_accuracy"),
    (["compare", "--fail-under", "test_accuracy"], "METRIC=VALUE"),
    (["train", "--epochs", "many"], "'--epochs'"),
])
def test_bad_values_are_one_line_exit_2_naming_the_choices(
        args: list[str], choices: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert choices in lines[0]
    assert not any(c in result.stderr for c in "╭╰│")


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A CI-style train: stderr is not a terminal, gates on, GITHUB_STEP_SUMMARY set."""
    tmp = tmp_path_factory.mktemp("ci")
    summary = tmp / "summary.md"
    summary.write_text("earlier step\n")
    run = tmp / "run"
    old = os.environ.get("GITHUB_STEP_SUMMARY")
    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    try:
        result = CliRunner().invoke(app, [
            "train", "--data", "digits", "--epochs", "3", "--seed", "2", "--run-dir", str(run),
            "--fail-under", "test_accuracy=0.01", "--fail-under", "balanced_accuracy=1.01"])
    finally:
        if old is None:
            os.environ.pop("GITHUB_STEP_SUMMARY", None)
        else:
            os.environ["GITHUB_STEP_SUMMARY"] = old
    return {"result": result, "run": run, "summary": summary}


@pytest.mark.slow
def test_log_gets_one_plain_line_per_epoch(ci_run: dict) -> None:
    stderr = ci_run["result"].stderr
    epochs = [m for m in map(EPOCH_LINE.match, stderr.splitlines()) if m]
    assert [int(m.group(1)) for m in epochs] == [1, 2, 3], stderr
    assert not any(c in stderr for c in BAR_CHARS), stderr
    history = (ci_run["run"] / "history.csv").read_text().splitlines()
    last_loss = float(history[-1].split(",")[history[0].split(",").index("loss")])
    assert f"loss {last_loss:.4f}" in epochs[-1].group(0)


def test_failed_gate_exits_1_after_every_artifact(ci_run: dict) -> None:
    result, run = ci_run["result"], ci_run["run"]
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    metrics = json.loads((run / "metrics.json").read_text())
    assert errors == [f"error: gate balanced_accuracy >= 1.01 FAILED: got "
                      f"{metrics['balanced_accuracy']:.4f}"]
    assert metrics["status"] == "completed"
    for name in ("model.keras", "history.csv", "curves.png", "config.yaml"):
        assert (run / name).is_file(), name


def test_step_summary_is_appended(ci_run: dict) -> None:
    text = ci_run["summary"].read_text()
    metrics = json.loads((ci_run["run"] / "metrics.json").read_text())
    assert text.startswith("earlier step\n### mnist-cli train")
    assert f"| test accuracy | {metrics['test_accuracy']:.4f} |" in text
    assert "| `balanced_accuracy` >= 1.01 |" in text and "**FAIL**" in text
    assert "| `test_accuracy` >= 0.01 |" in text and "| pass |" in text


@pytest.mark.slow
def test_progress_none_prints_no_epoch_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--epochs", "1",
                                      "--progress", "none", "--run-dir", str(tmp_path / "r"),
                                      "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "epoch 1/1" not in result.stderr


def test_unknown_gate_is_refused_before_training(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--run-dir", str(run),
                                      "--fail-under", "test_acc=0.9"])
    assert result.exit_code == 2
    assert "unknown metric 'test_acc'" in result.stderr
    assert not run.exists()


@pytest.mark.slow
def test_evaluate_and_predict_in_a_log(ci_run: dict, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluate: gates on its own metrics and a summary headed by the run; predict on 6,000
    images: progress by time, so a pass of a few seconds gets its final line only."""
    run = ci_run["run"]
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = CliRunner().invoke(app, ["evaluate", str(run), "--fail-under", "accuracy=0.01",
                                      "--fail-under", "macro_f1=1.5", "--no-plots"])
    assert result.exit_code == 1, result.output
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert "error: gate macro_f1 >= 1.5 FAILED: got " in result.stderr
    assert f"| accuracy | {evaluation['accuracy']:.4f} |" in summary.read_text()
    assert summary.read_text().startswith(f"### mnist-cli evaluate: {run.name}\n")
    images = np.random.default_rng(0).integers(0, 17, size=(6000, 64))
    data = tmp_path / "many.csv"
    np.savetxt(data, images, fmt="%d", delimiter=",",
               header=",".join(f"pixel{i}" for i in range(64)), comments="")
    result = CliRunner().invoke(app, ["predict", str(run), "--data", str(data),
                                      "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    steps = re.findall(r"^predict (\d+)%  ([\d,]+)/6,000 examples", result.stderr, re.M)
    assert steps[-1] == ("100", "6,000") and len(steps) <= 2, result.stderr
    assert not any(c in result.stderr for c in BAR_CHARS)


@pytest.mark.slow
def test_compare_summary_ranks_variants_and_gates_the_winner(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary_md = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_md))
    target = tmp_path / "cmp"
    result = CliRunner().invoke(app, [
        "compare", "--data", "digits", "--epochs", "2", "--seed", "4", "--run-dir", str(target),
        "--fail-under", "test_accuracy=1.01"])
    assert result.exit_code == 1, result.output
    summary = json.loads((target / "comparison.json").read_text())
    winner = next(v for v in summary["variants"] if v["name"] == summary["winner"])
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        f"error: gate test_accuracy >= 1.01 FAILED: got {winner['test_accuracy']:.4f}"]
    assert not any(c in result.stderr for c in BAR_CHARS)
    assert re.search(rf"^{winner['name']}: epoch 2/2  loss ", result.stderr, re.M)
    text = summary_md.read_text()
    assert text.startswith(f"### mnist-cli compare: winner {summary['winner']}")
    assert ("| # | variant | validation accuracy (ranked) | test accuracy | balanced accuracy "
            "| status |") in text  # the ranking metric's column, as in the terminal table
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \| ", line)]
    assert [r.split(" | ")[1] for r in rows] == [v["name"] for v in summary["variants"]]
    assert [r.split(" | ")[2] for r in rows] == [f"{v['val_accuracy']:.4f}"
                                                 for v in summary["variants"]]
    assert summary["ranked_by"] == "val_accuracy"
    assert f"\n\n{summary['ranking']}\n\n" in text  # the "Ranked by ..." caption
    for pair in summary["pairs"]:
        assert f"- {pair['sentence']}" in text


@pytest.mark.parametrize(("value", "threshold", "passed", "shown"), [
    (0.94698, 0.947, False, "0.94698"),  # was "0.9470": a failure that looked like a pass
    (0.94700001, 0.947, True, "0.94700001"),
    (0.947, 0.947, True, "0.9470"),
    (0.9523, 0.947, True, "0.9523"),
    (0.8, 0.9, False, "0.8000"),
    (0.9999999999999999, 1.0, False, "0.9999999999999999"),
])
def test_gate_shows_a_value_visibly_on_its_side_of_the_threshold(
        value: float, threshold: float, passed: bool, shown: str) -> None:
    from mnist_cli.cli.ci_summary import gates_section
    from mnist_cli.scoring.gates import Gate, GateResult

    result = GateResult(Gate("balanced_accuracy", threshold, "balanced_accuracy"), value)
    assert result.passed is passed
    verdict = "passed" if passed else "FAILED"
    assert result.line() == f"gate balanced_accuracy >= {threshold:g} {verdict}: got {shown}"
    assert (float(shown) < threshold) is not passed  # the printed value is on its side
    row = f"| `balanced_accuracy` >= {threshold:g} | {shown} | " + (
        "pass" if passed else "**FAIL**") + " |"
    assert row in gates_section([result]).splitlines()


def test_compare_summary_ranked_on_test_data_says_so() -> None:
    """Without a validation split the test accuracy column is the ranked one, the caption
    says the ranking used test data, and ± is the CI half-width the caption names."""
    from mnist_cli.cli.ci_summary import compare_markdown

    entry = {"rank": 1, "name": "relu", "status": "completed", "test_accuracy": 0.9,
             "test_accuracy_ci95": [0.85, 0.95], "balanced_accuracy": 0.89}
    summary = {"winner": "relu", "ranked_by": "test_accuracy", "tied_with_winner": [],
               "ranking": "Ranked by test accuracy (mean over 3 seeds): no validation split",
               "repeats": 3, "seeds": [1, 2, 3], "variants": [entry], "pairs": []}
    text = compare_markdown(summary, [])
    assert "| # | variant | test accuracy (ranked) | balanced accuracy | status |" in text
    assert "| 1 | relu | 0.9000 ± 0.0500 | 0.8900 | completed |" in text
    assert summary["ranking"] in text and "half-width of its t-based 95% confidence" in text


def test_gate_threshold_keeps_every_digit_given() -> None:
    from mnist_cli.scoring.gates import GateResult, parse_gates

    (gate,) = parse_gates(["test_accuracy=0.9471234"], {"test_accuracy": "test_accuracy"})
    line = GateResult(gate, 0.94712).line()  # "%g" would have shown ">= 0.947123"
    assert line == "gate test_accuracy >= 0.9471234 FAILED: got 0.947120"


def test_every_command_summary_is_one_unbroken_line_at_80_columns() -> None:
    """The command list shows a docstring's first paragraph with its hard line breaks kept
    (rich markup mode): a summary must be one line, or `--help` shows ragged fragments."""
    import click
    import typer

    def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
        found = []
        for name, cmd in group.commands.items():
            found.append((prefix + name, cmd))
            if isinstance(cmd, click.Group):
                found += commands(cmd, f"{prefix}{name} ")
        return found

    for name, cmd in commands(typer.main.get_command(app)):  # type: ignore[arg-type]
        summary = (cmd.help or "").strip().split("\n\n")[0]
        assert "\n" not in summary, f"{name}: {summary!r}"
    listed = " ".join(" ".join(line.strip("│ ").split()) for line in help_lines())
    assert ("compare Train several variants on the same data and seeds, rank them, test every "
            "pair. gradcheck Compare autodiff gradients with float64 finite differences. "
            "env") in listed
