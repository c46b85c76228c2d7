"""`compare --workers N`: the variant x seed sub-runs in N worker processes.

Each sub-run is a whole training run, so N processes use N cores where one Python process
uses about one. The processes are *spawned* (TensorFlow is not fork-safe), each gets the
parent's already-split dataset and builds the same strategy from the same flags, and every
sub-run seeds everything itself: a sub-run's weights and numbers are bit-identical to
`--workers 1`'s. Ctrl-C (or SIGTERM) in the parent stops every worker; the sub-runs that
finished are complete run directories, each written atomically under its own lock.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from mnist_cli.comparison.sub_run import sub_run_label
from mnist_cli.comparison.types import Finished, RunOutcome
from mnist_cli.comparison.variants import Variant
from mnist_cli.data.types import Dataset
from mnist_cli.errors import UsageError

Job = tuple[Variant, int, Path]
"""(variant, seed, sub-run directory)."""

STOP_SECONDS = 30.0
"""How long a stopped worker may take to finish its batch and write its backup."""
_WORKER: dict[str, Any] = {}
"""Per worker process: the dataset, strategy and command every one of its sub-runs uses."""


def check_workers(workers: int, scfg: Any) -> None:
    """A worker count the flags allow: each worker process builds its own strategy, so a
    multi-worker cluster or a TPU (one process owns it) cannot be split among them."""
    if workers < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if workers > 1 and (scfg.name in ("multi-worker", "tpu") or scfg.workers or scfg.tpu):
        raise UsageError(f"--workers {workers} runs sub-runs in separate processes, which "
                         f"cannot share --strategy {scfg.name}'s cluster or TPU; use "
                         "--workers 1 with it")


def _start(dataset: Dataset, scfg: Any, command: list[str] | None) -> None:
    """Worker initializer: Ctrl-C in a terminal reaches the whole process group; only the
    parent acts on it (it stops the workers), so no worker dies mid-write with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(dataset=dataset, scfg=scfg, command=command)


def _train(job: Job) -> RunOutcome:
    """One sub-run in a worker, on the strategy `--strategy` names (built once per worker).
    The parent's SIGTERM stops it as `train` stops: at the next batch, its backup and
    metrics.json written (so `train --resume` continues it); then the worker exits rather
    than start a queued sub-run."""
    from mnist_cli.comparison.sub_run import train_one
    from mnist_cli.signals import Interrupted, handle_interrupts

    if "strategy" not in _WORKER:
        from mnist_cli.distribute import make_strategy

        _WORKER["strategy"], _WORKER["desc"] = make_strategy(_WORKER["scfg"])
    variant, seed, run_dir = job
    try:
        with handle_interrupts():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent relays Ctrl-C once
            return train_one(variant, seed, run_dir, _WORKER["dataset"],
                             strategy=_WORKER["strategy"], strategy_desc=_WORKER["desc"],
                             callbacks=[], command=_WORKER["command"])
    except Interrupted as exc:
        os._exit(exc.exit_code)  # its files are written; take no further job


def finished_line(outcome: RunOutcome, done: int, total: int, repeats: int) -> str:
    """`relu seed 7 done (2/4): val_acc 0.9500  test_acc 0.9400  3.2 s`, or its failure."""
    name = sub_run_label(outcome.variant, outcome.seed, repeats)
    if outcome.status != "completed":
        return f"{name} FAILED ({done}/{total}): {outcome.error}"
    m = outcome.metrics
    val = m.get("final", {}).get("val_accuracy")
    parts = [f"val_acc {val:.4f}"] if val is not None else []
    parts += [f"test_acc {m['test_accuracy']:.4f}", f"{m.get('train_seconds', 0):.1f} s"]
    return f"{name} done ({done}/{total}): " + "  ".join(parts)


def _stop(pool: ProcessPoolExecutor, futures: list[Future]) -> None:
    """Cancel what has not started and terminate the workers (SIGTERM: their files are
    written atomically, and the kernel releases their run-directory locks)."""
    for f in futures:
        f.cancel()
    from mnist_cli.compat import pool_processes

    processes = pool_processes(pool)  # no public handle on them
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=STOP_SECONDS)
        if p.is_alive():
            p.kill()
            p.join()


def train_parallel(jobs: list[Job], dataset: Dataset, workers: int, scfg: Any,
                   command: list[str] | None, finished: Finished | None = None
                   ) -> list[RunOutcome]:
    """Every job in `workers` spawned processes; outcomes in job order, `finished` told of
    each as it ends (in the order they end)."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx,
                               initializer=_start, initargs=(dataset, scfg, command))
    futures = [pool.submit(_train, job) for job in jobs]
    index = {f: i for i, f in enumerate(futures)}
    outcomes: list[RunOutcome | None] = [None] * len(jobs)
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in sorted(done, key=index.__getitem__):
                outcome = outcomes[index[f]] = f.result()
                if finished is not None:
                    finished(outcome, sum(o is not None for o in outcomes), len(jobs))
    except BaseException:
        _stop(pool, futures)
        raise
    pool.shutdown()
    return [o for o in outcomes if o is not None]
