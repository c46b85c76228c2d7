"""One writer per run directory (mnist_cli.runs.lock): a second writer is refused, exit 2,
naming the holder's PID; a dead holder's lock is gone with it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mnist_cli.errors import UsageError
from mnist_cli.runs.lock import LOCK, RunDirBusy, hold, holder, refuse_if_busy
from tests.helpers import ROOT, cli_cmd, run_cli


def wait_for_holder(run_dir: Path, proc: subprocess.Popen, timeout: float = 60) -> int:
    """The PID the lock file names once `proc` holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        pid = holder(run_dir).get("pid")
        if pid:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"{run_dir} was never locked")


@pytest.mark.slow
def test_a_second_writer_is_refused_naming_the_run_in_progress(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    run_dir = tmp_path / "r"
    first = subprocess.Popen(cli_cmd("train", "--data", "digits", "--epochs", "400",
                                     "--run-dir", str(run_dir), "--progress", "none"),
                             env=cli_env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_holder(run_dir, first) == first.pid
        for args in (["train", "--resume", str(run_dir)],
                     ["train", "--data", "digits", "--run-dir", str(run_dir)]):
            second = subprocess.run(cli_cmd(*args), env=cli_env, cwd=ROOT, text=True,
                                    capture_output=True, timeout=60)
            assert second.returncode == 2, second.stderr
            assert f"being written by PID {first.pid} (train, a run in progress" in second.stderr
            assert "split" not in second.stderr and "Traceback" not in second.stderr
        scored = run_cli("evaluate", str(run_dir), "--no-plots")  # a writer too
        assert scored.returncode == 2 and f"PID {first.pid}" in scored.stderr
        assert first.poll() is None  # the holder went on untouched
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    refuse_if_busy(run_dir)  # the kernel dropped the dead holder's lock
    with hold(run_dir, "train"):
        assert holder(run_dir)["pid"] == os.getpid()


def test_hold_releases_cleanly_and_refuses_a_second_holder(tmp_path: Path) -> None:
    run_dir = tmp_path / "new"
    with hold(run_dir, "evaluate"):
        assert (run_dir / LOCK).is_file()
        with pytest.raises(RunDirBusy, match=rf"PID {os.getpid()} \(evaluate since"):
            refuse_if_busy(run_dir)  # flock locks are per open file: refused in-process too
    assert not run_dir.exists()  # created here, nothing written: removed again
    run_dir.mkdir()
    (run_dir / LOCK).write_text('{"pid": 1}')  # a stale file of a dead process
    refuse_if_busy(run_dir)
    (run_dir / "model.keras").write_text("x")
    with pytest.raises(UsageError, match="no longer empty"), hold(run_dir, "train",
                                                                    fresh=True):
        pass
    assert not (run_dir / LOCK).exists() and (run_dir / "model.keras").is_file()
