"""`mnist-cli gradcheck` end to end: JSON verdicts, gradcheck.json, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["gradcheck", "--data", "digits", *args])
    return result.exit_code, result.stdout


@pytest.mark.slow
def test_mlp_passes_and_writes_json(tmp_path: Path) -> None:
    code, out = run("--json", "--params", "50", "--run-dir", str(tmp_path))
    assert code == 0, out
    report = json.loads(out)
    assert report["verdict"] == "pass"
    assert report["overall_rel_diff"] < 1e-7
    names = [v["name"] for v in report["variables"]]
    assert any(n.endswith("kernel") for n in names) and any(n.endswith("bias") for n in names)
    assert json.loads((tmp_path / "gradcheck.json").read_text()) == report


def test_logistic_one_vs_rest_passes() -> None:
    code, out = run("--model", "logistic", "--digit", "3", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["settings"]["digit"] == 3
    refs = {v["reference"] for v in report["variables"]}
    assert refs == {"finite-difference", "gradient-tape"}


def test_bad_params_is_usage_error() -> None:
    result = CliRunner().invoke(app, ["gradcheck", "--data", "digits", "--params", "some"])
    assert result.exit_code == 2
    assert "--params 'some': give a positive integer or 'all'" in result.output


def test_digit_needs_logistic() -> None:
    result = CliRunner().invoke(app, ["gradcheck", "--data", "digits", "--digit", "3"])
    assert result.exit_code == 2
    assert "--digit only applies with --model logistic" in result.output


@pytest.mark.slow
def test_directions_flag_reaches_json_and_table(tmp_path: Path) -> None:
    code, out = run("--json", "--params", "10", "--directions", "3", "--run-dir", str(tmp_path))
    assert code == 0, out
    report = json.loads(out)
    assert report["settings"]["directions"] == 3 and report["settings"]["dtype"] == "float64"
    rows = report["directional"]
    assert rows[0]["name"] == "all variables" and len(rows) == 1 + len(report["variables"])
    assert all(r["directions"] == 3 for r in rows)
    assert report["directional_verdict"] == "pass" and report["entry_verdict"] == "pass"
    assert json.loads((tmp_path / "gradcheck.json").read_text())["directional"] == rows


def test_negative_directions_is_usage_error() -> None:
    result = CliRunner().invoke(app, ["gradcheck", "--data", "digits", "--directions", "-1"])
    assert result.exit_code == 2
    assert "--directions -1: must be >= 0" in result.output
