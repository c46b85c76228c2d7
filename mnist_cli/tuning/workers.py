"""Where trials run: in this process (`--workers 1`), or in N worker processes on this
machine that share the study's storage (`--workers N`).

Workers are started with multiprocessing's `spawn` (a fresh interpreter each: no TensorFlow
state is forked) in their own process group, so a Ctrl-C in the terminal reaches only the
parent, which forwards exactly one SIGINT to each worker: each marks its running trial FAIL
and stops, and the parent exits 130. The trial count is one shared counter, so N workers run
exactly `--trials` trials between them. Each worker gets cores / N TensorFlow threads.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
from functools import partial
from typing import Any

from mnist_cli.compat import bare_main_module, exit_now
from mnist_cli.errors import MnistCliError, RunFailed
from mnist_cli.tuning.objective import TrialContext, run_trials

STOP_GRACE_S = 60


class SharedSlots:
    """The trials left to start, shared by the worker processes (a locked shared int)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self) -> bool:
        with self.value.get_lock():
            if self.value.value <= 0:
                return False
            self.value.value -= 1
            return True


def run_local(ctx: TrialContext, trials: int, dataset: Any, on_trial: Any) -> None:
    slots = partial(next, iter([True] * trials), False)  # True `trials` times, then False
    run_trials(ctx, 0, slots, on_trial, dataset)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def limit_threads(workers: int) -> None:
    """Share the cores: TensorFlow's intra-op pool sized cores / workers (before any op)."""
    from mnist_cli.backend import import_tf

    tf = import_tf()
    tf.config.threading.set_intra_op_parallelism_threads(max(1, usable_cores() // workers))


def worker_main(ctx: TrialContext, worker: int, workers: int, slots: Any, events: Any) -> None:
    """One worker process: runs trials until the shared count is used up; reports each
    finished trial (and a fatal error) on `events`; exits 0, 1, 2, or 128 + signal."""
    import mnist_cli.signals as signals

    os.setpgrp()  # the parent forwards signals; a terminal's Ctrl-C reaches only the parent
    code = 0
    with signals.handle_interrupts():
        try:
            limit_threads(workers)
            run_trials(ctx, worker, slots, events.put)
        except KeyboardInterrupt as exc:
            code = int(getattr(exc, "exit_code", 130))
        except MnistCliError as exc:
            events.put(("error", worker, exc.message))
            code = exc.exit_code
        except Exception as exc:  # noqa: BLE001 - reported by the parent as one line
            events.put(("error", worker, f"internal error: {type(exc).__name__}: {exc}"))
            code = 1
    events.close()
    events.join_thread()  # everything put reaches the parent before this process ends
    sys.stdout.flush()
    sys.stderr.flush()
    exit_now(code)  # every trial is told to the storage: skip TensorFlow's slow teardown


def run_workers(ctx: TrialContext, trials: int, workers: int, on_trial: Any) -> None:
    """Run `trials` trials in `workers` processes, calling `on_trial(TrialRecord)` here as
    each finishes. An interrupt stops every worker first, then propagates."""
    import multiprocessing

    mp = multiprocessing.get_context("spawn")
    slots, events = mp.Value("i", trials), mp.Queue()
    procs = [mp.Process(target=worker_main, name=f"mnist-cli-tune-{i}",
                        args=(ctx, i, workers, SharedSlots(slots), events))
             for i in range(workers)]
    with bare_main_module():
        for proc in procs:
            proc.start()
    try:
        errors = drain(procs, events, on_trial)
    except KeyboardInterrupt as exc:
        stop_workers(procs, int(getattr(exc, "signum", signal.SIGINT)))
        raise
    check_exits(procs, errors)


def drain(procs: list[Any], events: Any, on_trial: Any) -> list[str]:
    """Pass on finished trials until every worker has ended; returns their error lines."""
    import mnist_cli.signals as signals

    errors: list[str] = []
    while True:
        signals.check()
        alive = any(p.is_alive() for p in procs)
        try:
            event = events.get(timeout=0.2)
        except queue.Empty:
            if not alive:
                return errors
            continue
        if isinstance(event, tuple):
            errors.append(f"worker {event[1]}: {event[2]}")
        else:
            on_trial(event)


def stop_workers(procs: list[Any], signum: int) -> None:
    """Forward the signal once to each worker and wait for it to record its trial."""
    for proc in procs:
        if proc.is_alive() and proc.pid is not None:
            os.kill(proc.pid, signum)
    for proc in procs:
        proc.join(STOP_GRACE_S)
        if proc.is_alive():
            proc.terminate()
            proc.join()


def check_exits(procs: list[Any], errors: list[str]) -> None:
    """A worker stopped by a signal stops the session the same way; one that failed is a
    failed session naming it."""
    import mnist_cli.signals as signals

    for proc in procs:
        proc.join()
    codes = [p.exitcode for p in procs]
    signalled = [c for c in codes if c in (130, 143)]
    if signalled:
        raise signals.Interrupted(signalled[0] - 128)
    if errors:
        raise RunFailed("; ".join(errors))
    bad = [(p.name, c) for p, c in zip(procs, codes, strict=True) if c != 0]
    if bad:
        raise RunFailed(f"worker {bad[0][0]} ended with exit code {bad[0][1]}")
