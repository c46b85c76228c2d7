"""The Python API: same run directories as the CLI, typed results, the tool's own errors,
quiet by default, cheap to import; the example runs as written (the docs' API blocks run in
tests/test_docs.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mnist_cli
from mnist_cli import evaluate, gradcheck, load_run, predict, train
from mnist_cli.api import Evaluation, GradCheck, Prediction, Run
from mnist_cli.cli.app import app
from mnist_cli.config import resolve_config
from mnist_cli.errors import ConfigError, UsageError
from tests.helpers import ROOT, slow_fixture

ARTIFACTS = {"config.yaml", "model.keras", "history.csv", "metrics.json", "curves.png"}


def test_import_does_not_load_tensorflow() -> None:
    code = ("import sys\nfrom mnist_cli import train, evaluate, predict, compare, gradcheck, "
            "load_run\nimport mnist_cli.api\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'pandas', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_api_names_are_plain_functions_beside_the_packages() -> None:
    """No module subclass, no proxy: the API names are functions, the packages have their own
    names (training, scoring, predictions, comparison, gradients)."""
    import types

    import mnist_cli.training

    assert type(mnist_cli) is types.ModuleType
    assert isinstance(train, types.FunctionType) and train is mnist_cli.train
    assert mnist_cli.training is not train
    assert "activation" in str(__import__("inspect").signature(train))


def test_python_config_is_validated_like_yaml_and_never_modified(tmp_path: Path) -> None:
    cfg = resolve_config("mlp_relu")
    cfg.training.optimizer = "adamm"
    before = cfg.to_dict()
    with pytest.raises(ConfigError) as api_err:
        train(cfg, data="digits", run_dir=tmp_path / "run")
    assert cfg.to_dict() == before and not (tmp_path / "run").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(__import__("yaml").safe_dump(before))
    res = CliRunner().invoke(app, ["train", "-c", str(bad)])
    assert res.exit_code == 2
    problem = str(api_err.value).removeprefix("config: ")
    assert problem.startswith("training.optimizer: unknown 'adamm' (did you mean adam?)")
    assert problem in " ".join(res.output.split())  # the CLI's message, word for word


def test_unknown_keyword_and_bad_values_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown option 'epoch' \\(did you mean epochs\\?\\)"):
        train(data="digits", epoch=1)
    with pytest.raises(ConfigError, match="training.epochs: must be >= 1"):
        train(data="digits", epochs=0)
    with pytest.raises(UsageError, match="strategy 'bogus'"):
        train(data="digits", epochs=1, strategy="bogus")
    with pytest.raises(UsageError, match=re.escape("drop --epochs, --[no-]deterministic")):
        train(resume="runs/x", epochs=3, deterministic=False)


@pytest.fixture(scope="module")
@slow_fixture
def api_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One quiet API training run on digits (its output is captured and checked)."""
    run_dir = tmp_path_factory.mktemp("api") / "run"
    return train(config="mlp_relu", activation="relu", data="digits", epochs=2, seed=3,
                 run_dir=run_dir, sets={"training.batch_size": 64})


@pytest.mark.slow
def test_train_matches_the_cli_run_dir_and_load_run(api_run: Run, tmp_path: Path) -> None:
    cli_dir = tmp_path / "cli"
    res = CliRunner().invoke(app, ["train", "-c", "mlp_relu", "--activation", "relu",
                                   "--data", "digits", "--epochs", "2", "--seed", "3",
                                   "--set", "training.batch_size=64", "--run-dir",
                                   str(cli_dir), "--quiet"])
    assert res.exit_code == 0, res.output
    files = {p.name for p in api_run.run_dir.iterdir()}
    assert files == {p.name for p in cli_dir.iterdir()} and files >= ARTIFACTS
    cli = load_run(cli_dir)
    for key in ("test_accuracy", "test_loss", "balanced_accuracy", "epochs_run", "seed",
                "final", "dataset", "params"):
        assert api_run.metrics[key] == cli.metrics[key], key
    pd.testing.assert_frame_equal(api_run.history, cli.history)
    assert (api_run.run_dir / "config.yaml").read_text() == (cli_dir / "config.yaml").read_text()
    assert list(api_run.history.index) == [1, 2] and "val_loss" in api_run.history
    assert api_run.model.count_params() == api_run.metrics["params"]
    assert api_run.metrics["versions"]["mnist_cli"] == mnist_cli.__version__
    assert api_run.metrics["command"][0].startswith("mnist_cli.train(")
    again = load_run(api_run.run_dir)
    assert again.metrics == api_run.metrics and again.config == api_run.config
    pd.testing.assert_frame_equal(again.history, api_run.history)


@pytest.mark.slow
def test_a_run_prints_as_one_short_line(api_run: Run) -> None:
    """Issue 20: a Run printed as a ~3,000-character line (metrics, history, config)."""
    text = repr(api_run)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith(f"Run('{api_run.run_dir}', completed, ")
    assert f"test_accuracy={api_run.metrics['test_accuracy']:.4f}" in text and "epochs=2" in text


def test_an_existing_run_dir_is_never_reused(api_run: Run) -> None:
    with pytest.raises(UsageError, match="already exists and is not empty"):
        train(data="digits", epochs=1, run_dir=api_run.run_dir)


@pytest.mark.slow
def test_no_output_unless_progress(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    gradcheck(data="digits", batch=8, params=5)
    assert capfd.readouterr() == ("", "")
    gradcheck(data="digits", batch=8, params=5, progress=True)
    assert "checking gradients of mlp_relu" in capfd.readouterr().err


@pytest.mark.slow
def test_evaluate_predict_gradcheck(api_run: Run, tmp_path: Path,
                                    capfd: pytest.CaptureFixture[str]) -> None:
    ev = evaluate(api_run.run_dir, progress=True)
    assert "evaluating" in capfd.readouterr().err
    assert isinstance(ev, Evaluation)
    assert ev.metrics["accuracy"] == pytest.approx(api_run.metrics["test_accuracy"])
    assert int(ev.confusion_matrix.to_numpy().sum()) == ev.metrics["examples"]
    assert {"evaluation.json", "confusion_matrix.png", "errors.png"} <= {
        p.name for p in api_run.run_dir.iterdir()}
    out = tmp_path / "p.csv"
    pred = predict(api_run.run_dir, data="digits", out=out)
    assert isinstance(pred, Prediction) and pred.path == out
    assert len(pred.predictions) == pred.examples and set(pred.predictions["label"]) <= set(
        range(10))
    with pytest.raises(UsageError, match="already exists; pass --force"):
        predict(api_run.run_dir, data="digits", out=out)
    check = gradcheck("mlp_relu", data="digits", batch=16, params=20)
    assert check.verdict == "pass" and check.exit_code == 0
    assert isinstance(check, GradCheck) and check.report["verdict"] == "pass"
    assert repr(ev).startswith(f"Evaluation('{api_run.run_dir}', accuracy=")
    assert repr(pred) == f"Prediction('{out}', csv, examples={pred.examples})"
    assert repr(check).startswith("GradCheck(pass, model='mlp_relu', rel_diff=")
    assert all(len(repr(r)) < 200 for r in (ev, pred, check))
    assert capfd.readouterr() == ("", "")


@pytest.mark.slow
@pytest.mark.extended  # a whole example script in its own process (~8 s)
def test_example_runs_the_seed_experiment(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_HOME": str(tmp_path / "keras")}
    res = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "softmax_vs_relu.py"), "--data", "digits",
         "--epochs", "2", "--run-dir", str(tmp_path / "cmp")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=280)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.splitlines()
    assert lines[0].startswith("softmax ") and lines[1].startswith("relu ")
    assert lines[2] in ("winner: relu", "winner: softmax")
    assert "McNemar" in lines[3]
    assert lines[4].split(":")[0] in ("softmax vs relu", "relu vs softmax")
    assert ("significant at α = 0.05" in lines[4]
            or "not significant: these runs cannot tell them apart" in lines[4])
    assert (tmp_path / "cmp" / "comparison.json").is_file()
