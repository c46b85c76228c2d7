"""Optuna itself: the import (an optional extra), the storage, the sampler and the pruner, and
creating or continuing a study.

Storage: Optuna's RDBStorage on any SQLAlchemy URL. The default is a SQLite file in the run
directory; `--workers N` processes share it. SQLite takes one writer at a time and a trial
writes only a few rows per epoch, so a busy timeout (`SQLITE_TIMEOUT_S`) is all that sharing
needs on one machine; several machines need a server database (PostgreSQL, MySQL).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.tuning.space import Param

STUDY_DB = "study.db"
SQLITE_TIMEOUT_S = 120
MEDIAN_STARTUP_TRIALS = 5
EXTRA_HINT = "pip install 'mnist-cli[tune]'"


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


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages and tune.json."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported by open_storage
        return url


def open_storage(optuna: Any, url: str) -> Any:
    """An RDBStorage on `url`; a bad URL, a missing driver or a refused connection is a
    usage error naming the URL."""
    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if url.startswith("sqlite") else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    except ImportError as exc:
        raise UsageError(f"--storage {shown_url(url)}: its database driver is not installed "
                         f"({exc.name or exc}); pip install it") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's many connection errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(f"--storage {shown_url(url)}: cannot open it: {first}") from None


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


def sampler_seed(seed: int, worker: int, finished: int) -> int:
    """Each worker and each session samples its own sequence (a random sampler seeded alike
    would repeat the previous session's trials)."""
    return zlib.crc32(f"{seed}/{worker}/{finished}".encode()) % (2**31 - 1)


def open_study(optuna: Any, url: str, name: str, direction: str) -> Any:
    """Create the study, or load it when the storage already has one by that name."""
    storage = open_storage(optuna, url)
    study = optuna.create_study(storage=storage, study_name=name, direction=direction,
                                load_if_exists=True)
    kept = study.direction.name.lower()
    if kept != direction:
        raise UsageError(f"study {name!r} in {shown_url(url)} was created to {kept} its metric; "
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


def attach(optuna: Any, url: str, name: str, sampler: Any, pruner: Any) -> Any:
    """The existing study with this process's sampler and pruner (workers)."""
    return optuna.load_study(study_name=name, storage=open_storage(optuna, url),
                             sampler=sampler, pruner=pruner)
