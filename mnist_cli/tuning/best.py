"""The one test of a study: the best trial's config (ranked on validation data) trained again
into RUN_DIR/best/ with the same seed and split, and scored on the test split once. A session
that ends with the same best config keeps that run and does not test again, and neither does
a session (another process or machine) whose study records that test (`tuning.tested`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mnist_cli.config.schema import RunConfig
from mnist_cli.tuning import tested
from mnist_cli.tuning.objective import TrialContext
from mnist_cli.tuning.outputs import BEST_DIR

Notify = Any


def already_tested(target: Path, cfg: RunConfig) -> dict[str, Any] | None:
    """The metrics of a completed, tested run of exactly `cfg` in `target`, else None."""
    from mnist_cli.config.yaml_read import YAMLError, load_yaml
    from mnist_cli.runs.rundir import CONFIG, read_metrics

    try:
        saved = load_yaml((target / CONFIG).read_text(encoding="utf-8"))
        metrics = read_metrics(target)
    except (OSError, ValueError, YAMLError):
        return None
    if saved != cfg.to_dict() or metrics.get("status") != "completed" \
            or "test_accuracy" not in metrics:
        return None
    return metrics


def test_best(ctx: TrialContext, study: Any, best: Any, dataset: Any, notify: Notify,
              plots: bool = True) -> tuple[Path, dict[str, Any], str]:
    """(run directory, metrics with test scores, who tested it) of the best config's single
    test run: this session's, or another session's of the same study (`tuning.tested`)."""
    cfg = ctx.config(best.params, source=f"trial {best.number}")
    target = Path(ctx.run_dir) / BEST_DIR
    kept = already_tested(target, cfg)
    if kept is not None:
        notify(f"best config (trial {best.number}) was already tested in {target}; "
               "not tested again")
        return target, kept, "this run directory, earlier"
    other = tested.wait_for_record(study, best.number)
    if other is not None:
        notify(f"best config (trial {best.number}) was already tested by another session "
               f"of the study ({other['by']}); not tested again")
        host, path = other["by"].split(":", 1)
        return Path(path), other["metrics"], f"another session, on {host}"
    tested.claim(study, best.number, target, best.duration.total_seconds()
                 if best.duration else 0.0)
    try:
        metrics = train_and_test(ctx, best, cfg, target, dataset, notify, plots)
    except BaseException:
        tested.release(study, best.number)
        raise
    tested.record(study, best.number, target, metrics)
    return target, metrics, "this session"


def train_and_test(ctx: TrialContext, best: Any, cfg: RunConfig, target: Path, dataset: Any,
                   notify: Notify, plots: bool) -> dict[str, Any]:
    """Train the best config again into `target` and score the test split once."""
    import mnist_cli.signals as signals
    from mnist_cli.plots import write_curves
    from mnist_cli.runs.rundir import CURVES
    from mnist_cli.training import run_training

    if target.exists():  # an earlier session's best, now beaten
        shutil.rmtree(target)
    notify(f"testing the best config once (trial {best.number}, {ctx.metric} "
           f"{best.value:.4f}): training it again into {target} and scoring the test split")
    with signals.handle_interrupts():
        result = run_training(cfg, target, dataset=dataset, command=ctx.command)
    if plots and result.history.get("loss"):
        write_curves(target / CURVES, result.history, title=f"{cfg.name} (trial {best.number})")
    return result.metrics


def reproduction_note(metrics: dict[str, Any], metric: str, value: float) -> list[str]:
    """A note when the re-trained run's validation value is not the trial's (the same seed
    and split should give the same weights: only nondeterministic kernels differ)."""
    again = metrics.get("final", {}).get(metric)
    if again is None or abs(float(again) - value) <= 1e-6:
        return []
    return [f"the best config trained again reached {metric} {again:.4f}, its trial "
            f"{value:.4f} (nondeterministic kernels); best/ holds the run that was tested"]


def best_header(ctx: TrialContext, best: Any, metrics: dict[str, Any], finished: int,
                best_dir: Path) -> list[str]:
    """best.yaml's comment lines: where it came from, how it was selected and tested."""
    test = metrics.get("test_accuracy")
    return [
        f"mnist-cli tune: the best of {finished} finished trial(s) of study {ctx.study!r}: "
        f"trial {best.number}",
        f"ranked on {ctx.metric} (validation data): {best.value:.4f}",
        f"tested once, on the test split: test_accuracy {test:.4f} "
        f"({best_dir})" if test is not None else "not tested",
        f"searched: {', '.join(f'{k}={v}' for k, v in best.params.items())}",
        f"train it as is: mnist-cli train -c {Path(ctx.run_dir) / 'best.yaml'}",
    ]
