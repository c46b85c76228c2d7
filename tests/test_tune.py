"""`mnist-cli tune` / `mnist_cli.tune`: real studies on the bundled digits, in a real
SQLite database, with a tiny model (Dense 8, 1-2 epochs) so each trial takes about a second.

What is checked: worker processes share the study and their trials overlap in time; a study
continues where it stopped (also after Ctrl-C, which leaves no RUNNING trial and exits 130);
the median pruner stops trials in a clearly bad region; diverging trials fail with the reason
and the study goes on; the test split is scored exactly once, for the best config; best.yaml
trains as is to the very same result; a bad space or no validation data exits 2 naming the
problem; without Optuna, `tune` exits 2 naming the extra.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from tests.tuning import SPACE, write_tiny

GOOD, SLOW, DIVERGES = 0.05, 1e-5, 1e30  # adam: learns / stays at chance / NaN at step 2


def load(run: Path, name: str = "tune-tiny") -> Any:
    import optuna

    return optuna.load_study(study_name=name, storage=f"sqlite:///{run / 'study.db'}")


def states(run: Path) -> list[str]:
    return [t.state.name for t in load(run).get_trials(deepcopy=False)]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    """6 trials in 2 worker processes, then 3 more in a second session of the same study."""
    from mnist_cli.api import tune

    root = tmp_path_factory.mktemp("shared")
    config, run = write_tiny(root), root / "run"
    first = tune(str(config), space=SPACE, trials=6, workers=2, run_dir=run, seed=0,
                 pruner="none", no_plots=True)
    drawn = sorted(p.relative_to(run).as_posix() for p in run.rglob("*.png"))
    assert drawn == [], f"no_plots=True drew {drawn}"  # best/curves.png included
    assert len(repr(first)) < 200 and repr(first).startswith(f"TuneResult({str(run)!r}, ")
    second = tune(str(config), space=SPACE, trials=3, run_dir=run, pruner="none")
    return run, first, second


@pytest.mark.slow
def test_two_workers_share_sqlite_and_trials_overlap(shared: tuple[Path, Any, Any]) -> None:
    run, first, _ = shared
    frame = first.trials
    assert (run / "study.db").is_file() and first.storage.startswith("sqlite:///")
    assert sorted(frame["number"]) == list(range(6))
    assert set(frame["state"]) == {"complete"} and set(frame["worker"]) == {0, 1}
    spans = [(row.worker, row.started, row.completed) for row in frame.itertuples()]
    overlap = [(a, b) for a in spans for b in spans
               if a[0] == 0 and b[0] == 1 and a[1] < b[2] and b[1] < a[2]]
    assert overlap, spans  # two processes trained at the same time
    assert all((run / "trials" / str(n) / "model.keras").is_file() for n in range(6))


@pytest.mark.slow
def test_second_session_continues_the_study(shared: tuple[Path, Any, Any]) -> None:
    run, first, second = shared
    assert len(second.trials) == 9 and sorted(second.trials["number"]) == list(range(9))
    assert states(run) == ["COMPLETE"] * 9 and second.counts == {"complete": 9}
    assert second.seed == first.seed == 0  # the study's seed, kept from its first session
    csv = (run / "trials.csv").read_text().splitlines()
    assert len(csv) == 10 and csv[0].startswith("number,state,value,duration_s,epochs_run,")
    summary = json.loads((run / "tune.json").read_text())
    assert summary["counts"] == {"complete": 9} and len(summary["trials"]) == 9
    best = max(second.trials.itertuples(), key=lambda r: r.value)
    assert (second.best_trial, second.best_value) == (best.number, best.value)


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list[int]]:
    """10 trials in a fixed order (queued in the study first): 5 good, 2 that learn nothing
    (pruned), 2 that diverge (failed), 1 good; every call that predicts a split counted."""
    import optuna

    import mnist_cli.training.fused as fused
    from mnist_cli.api import tune

    root = tmp_path_factory.mktemp("pruned")
    config, run = write_tiny(root), root / "run"
    run.mkdir()
    study = optuna.create_study(storage=f"sqlite:///{run / 'study.db'}", study_name="tune-tiny",
                                direction="maximize")
    for lr in [GOOD] * 5 + [SLOW] * 2 + [DIVERGES] * 2 + [GOOD]:
        study.enqueue_trial({"training.learning_rate": lr})
    predicted: list[int] = []
    original = fused.predict_fused

    def spy(model: Any, split: Any, *args: Any, **kwargs: Any) -> Any:
        predicted.append(len(split))
        return original(model, split, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fused, "predict_fused", spy)
        result = tune(str(config), space={"training.learning_rate":
                                          {"choice": [GOOD, SLOW, DIVERGES]}},
                      trials=10, run_dir=run, seed=0)
    return run, result, predicted


@pytest.mark.slow
def test_median_pruner_stops_the_bad_region(pruned: tuple[Path, Any, list[int]]) -> None:
    _, result, _ = pruned
    rows = result.trials.set_index("number")
    assert list(rows.loc[[5, 6], "state"]) == ["pruned", "pruned"]
    assert list(rows.loc[[5, 6], "epochs_run"]) == [1, 1]  # stopped after epoch 1 of 2
    assert (rows.loc[[0, 1, 2, 3, 4, 9], "state"] == "complete").all()
    assert (rows.loc[[0, 1, 2, 3, 4, 9], "epochs_run"] == 2).all()


@pytest.mark.slow
def test_diverging_trials_fail_with_the_reason_and_the_study_goes_on(
        pruned: tuple[Path, Any, list[int]]) -> None:
    run, result, _ = pruned
    rows = result.trials.set_index("number")
    assert list(rows.loc[[7, 8], "state"]) == ["fail", "fail"]
    for reason in rows.loc[[7, 8], "fail_reason"]:
        assert reason.startswith("training diverged: loss became")
        assert "learning rate 1e+30 is too high" in reason
    assert rows.loc[9, "state"] == "complete"  # the trial after the failures ran
    assert result.counts == {"complete": 6, "pruned": 2, "fail": 2}
    assert json.loads((run / "trials" / "7" / "metrics.json").read_text())["status"] == "failed"
    assert result.best_params == {"training.learning_rate": GOOD}


@pytest.mark.slow
def test_the_test_split_is_scored_once_for_the_best_config(
        pruned: tuple[Path, Any, list[int]]) -> None:
    run, result, predicted = pruned
    assert predicted == [result.best_metrics["dataset"]["sizes"]["test"]]
    for number in (0, 5, 9):  # completed and pruned trials alike: validation only
        metrics = json.loads((run / "trials" / str(number) / "metrics.json").read_text())
        assert not [k for k in metrics if k.startswith("test")], metrics
    best = json.loads((run / "best" / "metrics.json").read_text())
    assert best["test_accuracy"] == result.test_accuracy
    # the same seed and split: the re-trained best reaches its trial's value exactly
    assert best["final"]["val_accuracy"] == pytest.approx(result.best_value, abs=1e-9)
    text = (run / "best.yaml").read_text()
    assert "ranked on val_accuracy (validation data)" in text
    assert "tested once, on the test split" in text


@pytest.mark.slow
def test_best_yaml_trains_as_is_to_the_same_result(pruned: tuple[Path, Any, list[int]],
                                                   tmp_path: Path) -> None:
    run, result, _ = pruned
    res = CliRunner().invoke(app, ["train", "-c", str(run / "best.yaml"), "--run-dir",
                                   str(tmp_path / "again"), "--json", "--no-plots"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.stdout)
    assert metrics["test_accuracy"] == result.best_metrics["test_accuracy"]
    assert metrics["final"] == result.best_metrics["final"]


def interrupt_trial(number: int) -> Any:
    """An `epoch_reporter` that sends this process SIGINT after epoch 1 of trial `number`
    (a real Ctrl-C: the signal handler, the guard at the next batch, the trial marked)."""
    import mnist_cli.tuning.objective as objective

    original = objective.epoch_reporter

    def reporter(trial: Any, metric: str) -> Any:
        callback = original(trial, metric)
        if trial.number == number:
            inner = callback.on_epoch_end

            def on_epoch_end(epoch: int, logs: dict | None = None) -> None:
                inner(epoch, logs)
                os.kill(os.getpid(), signal.SIGINT)

            callback.on_epoch_end = on_epoch_end
        return callback

    return reporter


@pytest.mark.slow
def test_interrupted_study_exits_130_and_continues(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import mnist_cli.tuning.objective as objective

    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    run = tmp_path / "run"
    args = ["tune", "-c", str(write_tiny(tmp_path)), "--space", str(space), "--run-dir",
            str(run), "--seed", "0", "--no-plots"]
    monkeypatch.setattr(objective, "epoch_reporter", interrupt_trial(1))
    res = CliRunner().invoke(app, [*args, "--trials", "3", "--progress", "plain"])
    assert res.exit_code == 130, res.output
    assert "trial   0  val_accuracy" in res.stderr  # a progress line per finished trial
    assert "interrupted by SIGINT: tune stopped" in res.stderr
    assert f"--run-dir {run} to continue" in " ".join(res.stderr.split())
    assert states(run) == ["COMPLETE", "FAIL"]  # nothing left RUNNING
    assert load(run).trials[1].user_attrs["fail_reason"].startswith("interrupted by SIGINT")
    monkeypatch.undo()
    res = CliRunner().invoke(app, [*args, "--trials", "2", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)  # exactly one JSON object on stdout
    assert states(run) == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert summary["counts"] == {"complete": 3, "fail": 1} and len(summary["trials"]) == 4
    assert "tested once" in summary["selection"] and "test_accuracy" in summary["test"]
    assert "trial" not in res.stderr  # --json: the result only, no progress


BAD_SPACES = [
    ({"training.learnin_rate": {"float": [0.01, 0.1]}}, "training.learnin_rate: the config "
                                                        "has no key training.learnin_rate"),
    ({"model.layers.0.Dense.units": {"int": [4, 8]}},
     "model.layers.0.Dense.units: model.layers.0 is a Flatten layer, not Dense"),
    ({"model.layers.2.Dense.units": {"int": [8, 64]}},
     "model.layers.2.Dense.units: model.layers.2 is the output layer"),
    ({"training.learning_rate": {"float": [0.1, 0.01]}},
     "training.learning_rate: LOW must be below HIGH"),
    ({"training.epochs": {"int": [0, 3]}}, "training.epochs: 0 gives an invalid config: "
                                           "training.epochs: must be >= 1"),
    ({"activation": {"choice": ["relu", "bogus"]}}, "activation: 'bogus' gives an invalid"),
    ({"data.validation_split": {"float": [0.1, 0.3]}}, "data.validation_split: cannot be "
                                                       "searched"),
    ({"training.learning_rate": {"uniform": [0.1, 0.3]}}, "training.learning_rate: write one "
                                                          "of"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("space", "message"), BAD_SPACES)
def test_bad_space_exits_2_naming_the_key(tmp_path: Path, space: dict, message: str) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    res = CliRunner().invoke(app, ["tune", "-c", str(write_tiny(tmp_path)), "--space",
                                   str(path), "--run-dir", str(tmp_path / "run")])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.stderr.split()) and "Traceback" not in res.output
    assert not (tmp_path / "run").exists()  # refused before anything was written


@pytest.mark.slow
@pytest.mark.parametrize(("flags", "message"), [
    (["--validation-split", "0"], "tune ranks trials on validation data, never on the test"),
    (["--sampler", "grid"], "--sampler grid needs every parameter as {choice: [...]}"),
    (["--metric", "test_accuracy"], "--metric 'test_accuracy' is not one of val_accuracy"),
    (["--heartbeat", "0"], "--heartbeat must be >= 1 second, got 0"),
])
def test_refused_settings_exit_2(tmp_path: Path, flags: list[str], message: str) -> None:
    res = CliRunner().invoke(app, ["tune", "--data", "digits", "--run-dir",
                                   str(tmp_path / "run"), *flags])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.stderr.split())


def test_without_optuna_tune_exits_2_naming_the_extra(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    res = CliRunner().invoke(app, ["tune", "--data", "digits", "--run-dir", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "pip install 'mnist-cli[tune]'" in res.stderr


@pytest.mark.slow
def test_every_shipped_config_has_a_valid_default_space() -> None:
    from mnist_cli.config import resolve_config
    from mnist_cli.config.load import shipped_configs
    from mnist_cli.tuning.checks import check_space
    from mnist_cli.tuning.space import read_space

    for name in shipped_configs():
        params, source = read_space(None, name)
        assert len(params) >= 2, name
        check_space(params, resolve_config(name).to_dict(), source)
