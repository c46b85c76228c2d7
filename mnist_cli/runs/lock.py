"""One writer per run directory: an exclusive `flock` on a lock file inside it.

Two processes writing one run directory (a `train` and a `train --resume` beside it, an
`evaluate` into a run still training, two compare sub-runs) would leave the last writer's
files and both writers' TensorBoard events, and exit 0. So every process that writes a run
directory holds `.lock` in it for as long as it writes; a second writer is refused (exit 2)
with the holder's PID. The kernel drops the lock when its process dies (even by kill -9), so
a crash never leaves a directory locked; the file itself is removed on a clean release.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.runs.faults import describe
from mnist_cli.runs.rundir import LOCK

TRAINING = ("train", "compare", "compare sub-run", "tune trial")
"""Writers whose run directory holds a run in progress (the message says so)."""


class RunDirBusy(UsageError):
    """Another live process writes this run directory (exit 2)."""


def holder(run_dir: Path) -> dict[str, Any]:
    """What the lock file says about its holder ({} when unreadable or not yet written)."""
    try:
        found = json.loads((Path(run_dir) / LOCK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def busy_message(run_dir: Path, info: dict[str, Any]) -> str:
    """`X is being written by PID N (train, a run in progress since ...)`, and what to do."""
    pid = info.get("pid", "unknown")
    what = info.get("what", "another mnist-cli process")
    since = f" since {info['since']}" if info.get("since") else ""
    doing = f"{what}, a run in progress{since}" if what in TRAINING else f"{what}{since}"
    return (f"run directory {run_dir} is being written by PID {pid} ({doing}); one process "
            "writes a run directory at a time: wait for it to finish (or stop it, then "
            "`mnist-cli train --resume` an interrupted run), or choose another --run-dir")


def _try_lock(path: Path) -> int | None:
    """An fd holding the exclusive lock on `path`, or None while another process holds it.
    Retries when the file was replaced between open and flock (a holder releasing it
    unlinks it, so the lock must be on the inode the path names now)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def refuse_if_busy(run_dir: Path | None) -> None:
    """Raise RunDirBusy if a live process holds `run_dir`'s lock (a quick check before a
    command loads anything; the lock taken by `hold` is what keeps a second writer out)."""
    if run_dir is None or not (Path(run_dir) / LOCK).is_file():
        return
    fd = _try_lock(Path(run_dir) / LOCK)
    if fd is None:
        raise RunDirBusy(busy_message(Path(run_dir), holder(Path(run_dir))))
    os.close(fd)  # free: a stale file of a process that died (its lock went with it)


@contextlib.contextmanager
def hold(run_dir: Path, what: str, *, fresh: bool = False) -> Iterator[Path]:
    """Hold `run_dir`'s lock while writing it (creating the directory; removed again on exit
    if this created it and nothing was written). `what` names this writer in a second
    writer's message; `fresh`: refuse a directory that another writer filled meanwhile."""
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    path = run_dir / LOCK
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(path)
    except OSError as exc:  # read-only, full or vanished: the message the writes would give
        raise UsageError(describe(exc, path)) from None
    if fd is None:
        raise RunDirBusy(busy_message(run_dir, holder(run_dir)))
    try:
        if fresh and any(p.name != LOCK for p in run_dir.iterdir()):
            raise UsageError(f"run directory {run_dir} is no longer empty (another process "
                             "wrote it meanwhile); choose another --run-dir")
        record = {"pid": os.getpid(), "what": what,
                  "since": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        yield run_dir
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still locked: a waiting writer re-checks the inode
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()  # only if empty: a failed start leaves nothing behind


def multi_worker(scfg: Any) -> bool:
    """Whether these strategy flags make a multi-worker cluster."""
    return scfg.name == "multi-worker" or (scfg.name == "auto" and bool(scfg.workers))


def keeps_run_dir(scfg: Any) -> bool:
    """Whether this process writes the run directory: all but a multi-worker non-chief,
    which trains into a discarded temporary directory (`distribute.run_dir_for`)."""
    if not multi_worker(scfg):
        return True
    from mnist_cli.distribute.cluster import resolve_cluster

    try:
        return resolve_cluster(scfg).is_chief
    except UsageError:
        return True  # the strategy reports the bad flags itself


@contextlib.contextmanager
def writing(run_dir: Path, what: str, scfg: Any = None, *, fresh: bool = False
            ) -> Iterator[None]:
    """`hold` on the processes that keep the run directory; nothing on the others. A
    multi-worker chief locks only a directory that exists (a resumed run): joining the
    cluster can end the process by a hard exit (`distribute.cluster.deadline`), which must
    find nothing written, not even a directory holding a lock file."""
    if scfg is not None and (not keeps_run_dir(scfg)
                             or (multi_worker(scfg) and not Path(run_dir).exists())):
        yield
        return
    with hold(run_dir, what, fresh=fresh):
        yield
