"""One trial: the sampled values on top of the study's base config, validated like a YAML
file, trained into RUN_DIR/trials/<number>/ without ever scoring the test split, and reported
to the pruner after every epoch.

A bad sample, a diverged run or a failed write marks the trial FAIL with the reason (user
attribute `fail_reason`) and the study goes on; an interrupt marks it FAIL too and stops.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_cli.config.load import parse_config
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import MnistCliError, RunFailed
from mnist_cli.redact import redact
from mnist_cli.tuning.space import Param, apply_values

TRIALS_DIR = "trials"


class TrialFailed(Exception):
    """A trial that failed for a reason the study records and moves past."""


@dataclass
class TrialContext:
    """What every process of a session needs to run trials (picklable: workers get it)."""

    base: dict[str, Any]
    """The resolved config mapping every trial starts from (seed and split seed set)."""
    params: list[Param]
    metric: str
    run_dir: Path
    url: str
    study: str
    sampler: str
    pruner: str
    seed: int
    finished: int = 0
    """Trials the study had finished before this session (seeds the samplers)."""
    deadline: float | None = None
    """time.time() after which no new trial starts (--timeout)."""
    command: list[str] = field(default_factory=list)
    heartbeat: int = 10
    """Seconds between heartbeats of a running trial (TuneSettings.heartbeat)."""
    session: str = ""
    """This session's id (trial user attribute `session`): its RUNNING trials, if an
    interrupt leaves any, are marked FAIL."""

    def config(self, values: dict[str, Any], source: str) -> RunConfig:
        """The base config with `values` set, validated like a YAML file (ConfigError)."""
        return parse_config(apply_values(self.base, values), source=source)

    def trial_dir(self, number: int) -> Path:
        return Path(self.run_dir) / TRIALS_DIR / str(number)


def epoch_reporter(trial: Any, metric: str) -> Any:
    """A Keras callback reporting `metric` to the trial after each epoch and stopping the
    training (after that epoch) when the pruner says so; after the last epoch there is
    nothing left to save, so a finished trial is never pruned."""
    from mnist_cli.backend import import_keras

    class ReportEpochs(import_keras().callbacks.Callback):
        pruned = False
        epochs = 0

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.epochs = epoch + 1
            value = (logs or {}).get(metric)
            if value is None:
                return
            trial.report(float(value), epoch + 1)
            if epoch + 1 < (self.params or {}).get("epochs", 0) and trial.should_prune():
                self.pruned = True
                self.model.stop_training = True

    return ReportEpochs()


def train_trial(ctx: TrialContext, trial: Any, dataset: Any, reporter: Any) -> float:
    """Sample, validate and train one trial; its value is the kept epoch's metric."""
    from mnist_cli.runs.lock import hold
    from mnist_cli.training import run_training

    values = {p.key: p.suggest(trial) for p in ctx.params}
    cfg = ctx.config(values, source=f"trial {trial.number}")
    with hold(ctx.trial_dir(trial.number), "tune trial"):  # one writer per run dir
        result = run_training(cfg, ctx.trial_dir(trial.number), dataset=dataset,
                              callbacks=[reporter], command=ctx.command, score_test=False)
    value = result.metrics.get("final", {}).get(ctx.metric)
    if value is None:
        raise RunFailed(f"the run recorded no {ctx.metric}")
    return float(value)


def objective(ctx: TrialContext, study: Any, dataset: Any, worker: int) -> Any:
    """The function `study.optimize` calls: a value, `TrialPruned`, or `TrialFailed`."""
    import optuna

    from mnist_cli.backend import import_keras
    from mnist_cli.signals import Interrupted
    from mnist_cli.tuning.study import first_heartbeat

    def run(trial: Any) -> float:
        first_heartbeat(study, trial)
        trial.set_user_attr("run_dir", str(ctx.trial_dir(trial.number)))
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("host", socket.gethostname())  # which machine, sharing a study
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("session", ctx.session)
        reporter = epoch_reporter(trial, ctx.metric)
        try:
            value = train_trial(ctx, trial, dataset, reporter)
        except MnistCliError as exc:  # bad sample (ConfigError), Diverged, a failed write
            fail(trial, reporter, exc.message)
            raise TrialFailed(exc.message) from None
        except BaseException as exc:  # interrupted (re-raised: the session stops), or a bug
            fail(trial, reporter, Interrupted(getattr(exc, "signum", 2)).message
                 if isinstance(exc, KeyboardInterrupt)
                 else f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            import_keras().backend.clear_session()  # each trial starts from a clean slate
        trial.set_user_attr("epochs_run", reporter.epochs)
        if reporter.pruned:
            raise optuna.TrialPruned(f"pruned after epoch {reporter.epochs}")
        return value

    return run


def fail(trial: Any, reporter: Any, reason: str) -> None:
    trial.set_user_attr("epochs_run", reporter.epochs)
    trial.set_user_attr("fail_reason", redact((reason.strip().splitlines() or ["failed"])[0]))


STALE_REASON = "its process ended without recording a result (killed, or its machine died)"


def record(frozen: Any, worker: int, stale: bool = False) -> Any:
    """A finished FrozenTrial as the progress line shows it (`stale`: one this process
    found dead and failed, whichever worker ran it)."""
    from mnist_cli.tuning.settings import TrialRecord

    start, end = frozen.datetime_start, frozen.datetime_complete
    seconds = (end - start).total_seconds() if start and end else 0.0
    reason = frozen.user_attrs.get("fail_reason") or (STALE_REASON if stale else None)
    return TrialRecord(number=frozen.number, state=frozen.state.name.lower(),
                       value=frozen.value, params=dict(frozen.params), seconds=seconds,
                       epochs_run=frozen.user_attrs.get("epochs_run"), reason=reason,
                       worker=frozen.user_attrs.get("worker", worker) if stale else worker,
                       stale=stale)


def run_trials(ctx: TrialContext, worker: int, claim: Any, emit: Any,
               dataset: Any = None) -> None:
    """Run trials while `claim()` hands out a slot and the deadline allows, reporting each
    finished one through `emit(TrialRecord)`. Signals stop at the next safe point."""
    import mnist_cli.signals as signals
    from mnist_cli.tuning.study import (
        attach,
        make_pruner,
        make_sampler,
        require_optuna,
        sampler_seed,
    )

    optuna = require_optuna()
    sampler = make_sampler(optuna, ctx.sampler, ctx.params,
                           sampler_seed(ctx.seed, worker, ctx.finished, ctx.run_dir))
    study = attach(optuna, ctx.url, ctx.study, sampler, make_pruner(optuna, ctx.pruner),
                   ctx.heartbeat, lambda _study, frozen: emit(record(frozen, worker, True)))
    dataset = dataset if dataset is not None else load_study_data(ctx)
    func = objective(ctx, study, dataset, worker)
    done = [lambda _study, frozen: emit(record(frozen, worker))]
    while (ctx.deadline is None or time.time() < ctx.deadline) \
            and not exhausted(sampler, study) and claim():
        signals.check()
        study.optimize(func, n_trials=1, catch=(TrialFailed,), callbacks=done)
        signals.check()


def exhausted(sampler: Any, study: Any) -> bool:
    """A grid sampler that has handed out every grid point."""
    check = getattr(sampler, "is_exhausted", None)
    return bool(check and check(study))


def load_study_data(ctx: TrialContext) -> Any:
    """The dataset every trial of the study trains on (one split: the study's split seed)."""
    from mnist_cli.data.dataset import load_run_dataset

    return load_run_dataset(parse_config(ctx.base, source="config"))
