"""A tuning session from start to end: check everything (exit 2 before any trial), open or
continue the study, run the trials here or in worker processes, test the best config once,
and write the session's files. `run_tune` is the core entry point; it prints nothing and
reports through `notify` (status lines) and `on_trial` (each finished trial)."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mnist_cli.tuning.outputs as outputs
from mnist_cli.config import resolve_config
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import RunFailed
from mnist_cli.redact import redact, redact_command
from mnist_cli.runs.artifacts import write_json, write_text
from mnist_cli.tuning.best import best_header, reproduction_note, test_best
from mnist_cli.tuning.checks import check_space, check_validation, tune_run_dir
from mnist_cli.tuning.objective import TrialContext, load_study_data, record
from mnist_cli.tuning.settings import TrialRecord, TuneResult, TuneSettings
from mnist_cli.tuning.space import Param, read_space
from mnist_cli.tuning.study import (
    GRACE_BEATS,
    fail_stale,
    make_sampler,
    open_study,
    require_optuna,
    settle_seed,
    storage_url,
)

Notify = Callable[[str], None]
OnTrial = Callable[[TrialRecord], None]


def silent(line: Any) -> None:
    """The default `notify` and `on_trial`: say nothing."""


def plan(optuna: Any, settings: TuneSettings) -> tuple[RunConfig, list[Param]]:
    """The base config and the space, checked against each other (all exit 2)."""
    settings.check()
    cfg = resolve_config(settings.config, settings.overrides)
    check_validation(cfg)
    params, source = read_space(settings.space, settings.config)
    make_sampler(optuna, settings.sampler, params, 0)  # grid needs choices only
    check_space(params, cfg.to_dict(), source)
    return cfg, params


def open_session(optuna: Any, settings: TuneSettings, cfg: RunConfig, params: list[Param],
                 run_dir: Path, on_trial: OnTrial) -> tuple[TrialContext, Any, set[int]]:
    """Create or continue the study, failing its stale trials (each reported through
    `on_trial`); the context every trial of this session runs with, the study, and the
    trials RUNNING before the stale ones were failed (`settle_stale` checks them again)."""
    url = storage_url(settings.storage, run_dir)
    name = settings.study or f"tune-{cfg.name}"
    study = open_study(optuna, url, name, settings.direction, settings.heartbeat,
                       lambda _study, frozen: on_trial(record(frozen, 0, stale=True)))
    suspects = running(study)
    fail_stale(optuna, study)
    seed = settle_seed(study, settings.seed, cfg.training.seed)
    base = cfg.to_dict()
    base["training"]["seed"] = seed
    if base["data"]["split_seed"] is None:  # one split for every trial and the best's test
        base["data"]["split_seed"] = seed
    finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    ctx = TrialContext(base, params, settings.metric, Path(run_dir), url, name,
                       settings.sampler, settings.pruner, seed, finished, None,
                       redact_command(settings.command), settings.heartbeat,
                       uuid.uuid4().hex[:12])
    return ctx, study, suspects


def run_tune(settings: TuneSettings, *, on_trial: OnTrial = silent,
             notify: Notify = silent) -> TuneResult:
    """Run one tuning session (see the module docstring) and return its result."""
    optuna = require_optuna()
    started = time.perf_counter()
    cfg, params = plan(optuna, settings)
    run_dir = tune_run_dir(cfg.name, settings.run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    recovered: list[int] = []

    def seen(rec: TrialRecord) -> None:
        if rec.stale:
            recovered.append(rec.number)
        on_trial(rec)

    try:
        ctx, study, suspects = open_session(optuna, settings, cfg, params, run_dir, seen)
    except Exception:  # a refused --storage or study leaves no empty run directory
        if created and not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise
    opened = time.perf_counter()
    dataset = load_study_data(ctx)
    for note in dataset.description.notes:
        notify(f"note: {note}")
    notify(f"tuning {cfg.name} in {run_dir}: {settings.trials} trial(s), {settings.workers} "
           f"process(es), {settings.sampler} sampler, pruner {settings.pruner}, ranked on "
           f"{settings.metric} (validation data); study {ctx.study!r} in {redact(ctx.url)}"
           f" ({ctx.finished} trial(s) finished before), seed {ctx.seed}")
    if settings.timeout:  # counted from the first trial, like Optuna's own timeout
        ctx.deadline = time.time() + settings.timeout
    run_trials_of(ctx, study, settings, dataset, seen)
    settle_stale(optuna, study, suspects, ctx.heartbeat, opened, notify)
    return finish(ctx, study, settings, dataset, started, notify, recovered)


def run_trials_of(ctx: TrialContext, study: Any, settings: TuneSettings, dataset: Any,
                  on_trial: OnTrial) -> None:
    """The session's trials; an interrupt leaves none of them RUNNING and exits 128 + N."""
    import mnist_cli.signals as signals
    from mnist_cli.tuning.workers import run_local, run_workers

    try:
        with signals.handle_interrupts():
            if settings.workers == 1:
                run_local(ctx, settings.trials, dataset, on_trial)
            else:
                run_workers(ctx, settings.trials, settings.workers, on_trial)
    except RunFailed:  # a worker died: every worker has ended, none of its trials runs
        fail_leftovers(study, ctx.session)
        raise
    except KeyboardInterrupt as exc:
        fail_leftovers(study, ctx.session)
        signum = int(getattr(exc, "signum", signal.SIGINT))
        finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
        raise signals.Interrupted(signum, (
            f"{signals.Interrupted(signum).message}: tune stopped; the running trial is "
            f"marked failed and study {ctx.study!r} keeps its {finished} finished trial(s); "
            f"run the same command with --run-dir {ctx.run_dir} to continue it")) from None


def running(study: Any) -> set[int]:
    from optuna.trial import TrialState

    return {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}


def settle_stale(optuna: Any, study: Any, suspects: set[int], heartbeat: int,
                 opened: float, notify: Notify) -> None:
    """Trials that were RUNNING when this session opened the study (`opened`) and are still
    RUNNING now are either alive (another process or machine) or dead: once a grace period
    has passed since then, the heartbeat check tells which, so a session never ends leaving
    a dead process's trial RUNNING (it waits out the rest of the grace period if needed)."""
    if not suspects & running(study):
        return
    left = GRACE_BEATS * heartbeat + 1 - (time.perf_counter() - opened)
    if left > 0:
        notify(f"waiting {left:.0f} s for the heartbeats of trial(s) "
               f"{', '.join(map(str, sorted(suspects & running(study))))}, RUNNING when this "
               "session started: a trial without heartbeats is marked failed")
        time.sleep(left)
    fail_stale(optuna, study)


def fail_leftovers(study: Any, session: str) -> None:
    """Mark FAIL any trial of this session still RUNNING (a worker stopped hard)."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get("session") == session:
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)


def finish(ctx: TrialContext, study: Any, settings: TuneSettings, dataset: Any,
           started: float, notify: Notify, recovered: list[int]) -> TuneResult:
    """trials.csv; the best config tested once; best.yaml, plots and tune.json."""
    keys = [p.key for p in ctx.params]
    frame = outputs.trials_frame(study, keys)
    write_text(ctx.run_dir / outputs.TRIALS_CSV, frame.to_csv(index=False))
    counts = {str(k): int(v) for k, v in frame["state"].value_counts().items()}
    if not counts.get("complete"):
        reasons = frame["fail_reason"].dropna() if "fail_reason" in frame else []
        first = f"; first failure: {reasons.iloc[0]}" if len(reasons) else ""
        raise RunFailed(f"no trial of study {ctx.study!r} completed ({counts}){first}; see "
                        f"{ctx.run_dir / outputs.TRIALS_CSV}")
    best = study.best_trial
    best_dir, metrics, tested_by = test_best(ctx, study, best, dataset, notify, settings.plots)
    finished = sum(counts.get(s, 0) for s in ("complete", "pruned", "fail"))
    best_cfg = ctx.config(best.params, source=f"trial {best.number}").to_dict()
    best_cfg["name"] = f"{best_cfg['name']}-tuned"
    outputs.write_best_yaml(ctx.run_dir, best_cfg, best_header(ctx, best, metrics, finished,
                                                                  best_dir))
    notes = reproduction_note(metrics, ctx.metric, best.value) + recovery_note(recovered)
    if settings.plots:
        notes += outputs.write_plots(study, ctx.run_dir, ctx.metric, keys)
    result = TuneResult(ctx.study, redact(ctx.url), ctx.run_dir, ctx.metric,
                        settings.direction, best.number, float(best.value), dict(best.params),
                        best_dir, metrics, frame, counts, time.perf_counter() - started,
                        ctx.seed, notes, sorted(recovered), tested_by)
    write_json(ctx.run_dir / outputs.SUMMARY, result.to_dict())
    return result


def recovery_note(recovered: list[int]) -> list[str]:
    if not recovered:
        return []
    return [f"recovered {len(recovered)} stale trial(s) ({', '.join(map(str, sorted(recovered)))})"
            f": their process died while they were RUNNING; they are marked failed"]
