"""Python internals: modules hidden while a library imports, the `__main__` spawned workers
re-import, ending a process without the interpreter's teardown, and a process pool's
worker processes."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
import types
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from mnist_cli.compat.report import broken


def import_hiding(module: str, hidden: Sequence[str], package: str) -> types.ModuleType:
    """`import module` while each of `hidden` (those not imported yet) fails to import.

    Patches `sys.modules[name] = None` for the duration (Python then raises ImportError on
    `import name`), relying on `module` (of distribution `package`) treating each hidden name
    as optional, i.e. catching that ImportError. Why (the callers): tf.lite imports JAX
    (~0.5 s) only for a converter mnist-cli never calls; Keras imports scikit-learn, pandas
    and matplotlib (~0.9 s of its import on JAX) only for wrappers mnist-cli never calls.
    Checked: TensorFlow 2.21.0 (jax), Keras 3.15.1 (sklearn, pandas, matplotlib).

    Loud: `module`'s import failing on a hidden name (it no longer treats it as optional);
    reported, then imported again with nothing hidden."""
    names = [name for name in hidden if name not in sys.modules]
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        culprit = _hidden_cause(exc, names)
        if culprit is None:
            raise
        broken(f"{module}'s optional import of {culprit}", package,
               f"no longer survives `import {culprit}` failing ({exc})",
               f"{module} is imported with {culprit} (slower start)")
    finally:
        for name in names:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return importlib.import_module(module)


def _hidden_cause(exc: BaseException | None, names: list[str]) -> str | None:
    """The hidden module an ImportError (or one it was raised from) failed on, if any."""
    seen = 0
    while exc is not None and seen < 10:
        name = getattr(exc, "name", None) or ""
        if name.split(".")[0] in names:
            return name.split(".")[0]
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


@contextlib.contextmanager
def bare_main_module() -> Iterator[None]:
    """Processes started by multiprocessing's spawn during the block do not re-import
    `__main__`.

    Patches `sys.modules["__main__"]` (an empty module for the duration). Why: a spawned
    child first re-imports the parent's `__main__`, as recorded by
    `multiprocessing.spawn.get_preparation_data` from `sys.modules["__main__"]`: a user's
    unguarded script would run again in each worker, and `python -` has no file to import;
    `mnist-cli tune`'s workers need only mnist_cli's modules. Checked: Python 3.10-3.13.

    Loud: spawn's preparation data still naming a main module to re-import."""
    import multiprocessing.spawn as spawn

    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        prepare = getattr(spawn, "get_preparation_data", None)
        data = prepare("mnist-cli") if callable(prepare) else {"init_main_from_name": "?"}
        if {"init_main_from_path", "init_main_from_name"} & set(data):
            broken("multiprocessing.spawn.get_preparation_data", "python",
                   "no longer reads sys.modules['__main__']",
                   "spawned workers re-import the caller's __main__ module")
        yield
    finally:
        sys.modules["__main__"] = main


def run_exit_handlers() -> bool:
    """Run the `atexit` handlers now, as the interpreter's exit would; False (reported) if
    they cannot be, and the caller then lets the interpreter exit normally.

    Calls `atexit._run_exitfuncs`. Why: a successful CLI run ends with `exit_now`, skipping
    the interpreter's teardown (~0.5 s of a 3.5 s JAX run, only freeing memory), but the
    handlers (logging's flush, multiprocessing's joins, JAX's) must still run. Checked:
    CPython 3.10-3.13.

    Loud: `atexit._run_exitfuncs` missing."""
    run = getattr(atexit, "_run_exitfuncs", None)
    if not callable(run):
        broken("atexit._run_exitfuncs", "python", "is missing",
               "the process ends through the interpreter's normal (slower) exit")
        return False
    run()
    return True


def exit_now(code: int) -> NoReturn:
    """End the process with `code` now, without the interpreter's teardown or atexit handlers
    (flush what must be written first).

    Calls `os._exit` (documented, underscored because it skips cleanup). Why: the CLI after
    `run_exit_handlers` and `tune`'s workers, whose every trial is already stored, would
    otherwise spend ~0.5 s tearing TensorFlow or JAX down. Checked: CPython 3.10-3.13.

    Loud: `os._exit` missing; then a normal exit with `code`."""
    hard_exit = getattr(os, "_exit", None)
    if not callable(hard_exit):
        broken("os._exit", "python", "is missing", "the process exits normally (slower)")
        sys.exit(code)
    hard_exit(code)
    raise AssertionError("unreachable")  # os._exit does not return


def pool_processes(pool: Any) -> list[Any]:
    """The worker processes of a `concurrent.futures.ProcessPoolExecutor`.

    Reads the private `_processes` (pid -> Process): the executor has no public handle on its
    workers, and `shutdown(cancel_futures=True)` lets a running task finish, while Ctrl-C
    must stop `compare --workers` sub-runs at once (each is then terminated). Checked:
    CPython 3.10-3.13.

    Loud: the attribute missing or not a mapping (reported; no worker is terminated, so
    running sub-runs finish before the pool shuts down)."""
    processes = getattr(pool, "_processes", None)
    if not isinstance(processes, dict):
        broken("ProcessPoolExecutor._processes", "python", "is missing or not a dict",
               "running compare sub-runs finish before Ctrl-C takes effect")
        return []
    return list(processes.values())
