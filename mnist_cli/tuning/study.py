"""Optuna itself: the import (an optional extra), the storage, the sampler and the pruner, and
creating or continuing a study.

Storage: Optuna's RDBStorage on any SQLAlchemy URL. The default is a SQLite file in the run
directory; `--workers N` processes share it. SQLite takes one writer at a time and a trial
writes only a few rows per epoch, so a busy timeout (`SQLITE_TIMEOUT_S`) is all that sharing
needs on one machine; several machines need a server database (PostgreSQL, MySQL). Optuna's
FAQ points parallel workers on one host to JournalStorage's file backend instead, but only
RDBStorage has heartbeats, Optuna's one way to find the trials of a process that died
(docs/scaling.md): SQLite stays the default, heartbeats on.
"""

from __future__ import annotations

import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.redact import redact
from mnist_cli.tuning.space import Param

STUDY_DB = "study.db"
SQLITE_TIMEOUT_S = 120
MEDIAN_STARTUP_TRIALS = 5
EXTRA_HINT = "pip install 'mnist-cli[tune]'"
POSTGRES_HINT = "pip install 'mnist-cli[postgres]'"
SCHEMA_RETRIES = 3
GRACE_BEATS = 3
"""A trial is stale after 3 missed heartbeats (30 s by default): a busy machine may delay
one, never three."""
OnStale = Callable[[Any, Any], None]


def require_optuna() -> Any:
    """The optuna module, or a usage error (exit 2) naming the extra that installs it."""
    try:
        import optuna
    except ImportError:
        raise UsageError(f"tune needs Optuna, an optional dependency: {EXTRA_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we print our own lines
    return optuna


def storage_url(storage: str | None, run_dir: Path) -> str:
    """`--storage`, or the run directory's SQLite file."""
    return storage or f"sqlite:///{(Path(run_dir) / STUDY_DB).resolve()}"


def open_storage(optuna: Any, url: str, heartbeat: int | None = None,
                 on_stale: OnStale | None = None) -> Any:
    """An RDBStorage on `url`; a bad URL, a missing driver or a refused connection is a
    usage error naming the URL. Sessions that start together on an empty database race to
    create Optuna's tables: the loser's error is retried (`SCHEMA_RETRIES`).

    With `heartbeat` (seconds), each running trial records a heartbeat that often, and a
    RUNNING trial without one for `GRACE_BEATS` heartbeats is failed (its process died) by
    the next trial any process of the study starts, calling `on_stale(study, trial)`."""
    import sqlalchemy.exc

    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if url.startswith("sqlite") else {}
    beats = {} if heartbeat is None else {
        "heartbeat_interval": heartbeat, "grace_period": GRACE_BEATS * heartbeat,
        "heartbeat_stale_trial_callback": on_stale}
    for attempt in range(SCHEMA_RETRIES + 1):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, **beats)
        except ImportError as exc:  # Optuna re-raises the driver's own ImportError
            name = exc.name or getattr(exc.__cause__, "name", None)
            raise UsageError(f"--storage {redact(url)}: its database driver is not "
                             f"installed ({name or exc}); {driver_hint(name)}") from None
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as exc:
            if attempt == SCHEMA_RETRIES:
                raise refused(url, exc) from None
            time.sleep(1.0)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy's many connection errors
            raise refused(url, exc) from None
    raise AssertionError("unreachable")


def refused(url: str, exc: BaseException) -> UsageError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return UsageError(f"--storage {redact(url)}: cannot open it: {redact(first)}")


def driver_hint(module: str | None) -> str:
    """How to install the driver a URL names (PostgreSQL's comes with an extra)."""
    if module == "psycopg":
        return f"{POSTGRES_HINT} (PostgreSQL's driver, psycopg 3)"
    if module == "psycopg2":
        return (f"write the URL as postgresql+psycopg://... and {POSTGRES_HINT}, or pip "
                "install psycopg2")
    return "pip install it"


def make_sampler(optuna: Any, name: str, params: list[Param], seed: int) -> Any:
    """TPE, random, or grid over every choice (grid needs every parameter as a choice)."""
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        ranged = [p.key for p in params if p.kind != "choice"]
        if ranged:
            raise UsageError(f"--sampler grid needs every parameter as {{choice: [...]}}; "
                             f"{', '.join(ranged)} is a range")
        return optuna.samplers.GridSampler({p.key: list(p.choices) for p in params}, seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(optuna: Any, name: str) -> Any:
    """median: stop a trial whose epoch value is worse than the median of earlier trials at
    the same epoch, once `MEDIAN_STARTUP_TRIALS` trials have finished."""
    if name == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS)


def sampler_seed(seed: int, worker: int, finished: int, run_dir: Path) -> int:
    """Each worker and each session samples its own sequence: a random sampler seeded alike
    would repeat the previous session's trials, and two machines that start a study together
    (both with 0 trials finished) would draw the same values but for their run directories."""
    key = f"{seed}/{worker}/{finished}/{Path(run_dir).resolve()}"
    return zlib.crc32(key.encode()) % (2**31 - 1)


def open_study(optuna: Any, url: str, name: str, direction: str, heartbeat: int,
               on_stale: OnStale) -> Any:
    """Create the study, or load it when the storage already has one by that name."""
    storage = open_storage(optuna, url, heartbeat, on_stale)
    study = optuna.create_study(storage=storage, study_name=name, direction=direction,
                                load_if_exists=True)
    kept = study.direction.name.lower()
    if kept != direction:
        raise UsageError(f"study {name!r} in {redact(url)} was created to {kept} its metric; "
                         f"pass the same --metric, or a new --study")
    return study


def settle_seed(study: Any, seed: int | None, fallback: int | None = None) -> int:
    """The study's seed, recorded in the study by its first session (`seed`, else the
    config's `fallback`, else drawn); a different --seed later is refused (its trials would
    not be comparable with the earlier ones)."""
    from mnist_cli.training.seeding import resolve_seed

    kept = study.user_attrs.get("seed")
    if kept is not None and seed is not None and int(kept) != seed:
        raise UsageError(f"study {study.study_name!r} uses seed {kept}; drop --seed or pass "
                         f"--seed {kept} (or start a new --study)")
    if kept is None:
        kept = resolve_seed(seed if seed is not None else fallback)
        study.set_user_attr("seed", int(kept))
    return int(kept)


def attach(optuna: Any, url: str, name: str, sampler: Any, pruner: Any, heartbeat: int,
           on_stale: OnStale) -> Any:
    """The existing study with this process's sampler and pruner (workers)."""
    return optuna.load_study(study_name=name, storage=open_storage(optuna, url, heartbeat,
                                                                   on_stale),
                             sampler=sampler, pruner=pruner)


def fail_stale(optuna: Any, study: Any) -> None:
    """Fail the study's RUNNING trials whose heartbeat is older than the grace period (the
    storage's `on_stale` hears of each); Optuna also does this before every trial."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def first_heartbeat(study: Any, trial: Any) -> None:
    """Optuna's heartbeat thread records a trial's first beat in the background (behind
    other writers on a busy SQLite file): a process killed before that leaves a RUNNING
    trial without a heartbeat, which Optuna never finds stale. Record one before the trial
    does anything (Optuna has no public accessor for the storage or the trial id)."""
    storage = study._storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)() is not None:
        storage.record_heartbeat(trial._trial_id)
