"""Environment faults never crash the tool: one line naming the path and the fix, the right
exit code, the run marked failed where possible, and no half-written file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import RunFailed
from mnist_cli.runs.artifacts import write_text
from mnist_cli.runs.faults import WriteFailed
from mnist_cli.training import backup, extra_state
from tests.helpers import cli_cmd

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    """A small RAM file system at `path` (root only), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size}", *options])
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def temp_leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_run_dir_naming_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("not a directory")
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--run-dir", str(target)])
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert str(target) in line and "is an existing file" in line
    assert target.read_text() == "not a directory"


def test_run_dir_below_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = CliRunner().invoke(app, ["train", "--data", "digits",
                                      "--run-dir", str(tmp_path / "afile" / "run")])
    assert result.exit_code == 2, result.output
    assert "is a file, not a directory" in one_error_line(result.stderr)


def test_interrupted_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    from mnist_cli.runs.artifacts import atomic_write

    target = write_text(tmp_path / "metrics.json", "old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half of the new")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailed) as info:
        atomic_write(target, half_then_fail)
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value) and "free some space" in str(info.value)
    assert target.read_text() == "old"
    assert temp_leftovers(tmp_path) == []


def small_cfg(epochs: int = 3) -> object:
    return resolve_config("mlp_relu", Overrides(epochs=epochs, seed=11, data="digits",
                                                batch_size=64))


@pytest.mark.slow
def test_enospc_in_backup_fails_the_run_keeps_the_last_backup_and_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk at epoch 3's backup: exit-1 error naming the file, run marked failed,
    epoch 2's backup intact, and a resume after the disk is freed completes the run."""
    from mnist_cli.training import run_training

    monkeypatch.setattr(backup, "MIN_INTERVAL_S", 0.0)  # write every epoch
    monkeypatch.setattr(backup, "COST_SHARE", 1.0)
    real_savez, calls = extra_state._savez, []

    def full_disk_on_third(path: Path, arrays: dict) -> None:
        calls.append(path)
        if len(calls) == 3:
            with open(path, "wb") as fh:  # part of the file reaches the disk, then ENOSPC
                fh.write(b"PK\x03\x04 partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_savez(path, arrays)

    monkeypatch.setattr(extra_state, "_savez", full_disk_on_third)
    run = tmp_path / "run"
    with pytest.raises(WriteFailed) as info:
        run_training(small_cfg(4), run, command=["mnist-cli", "train"])
    message = str(info.value)
    assert "\n" not in message
    assert str(run / "backup" / "keras" / "state.npz") in message
    assert "No space left on device" in message and "--resume" in message
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["failure"]["errno"] == errno.ENOSPC
    assert metrics["epochs_completed"] == 2
    assert backup.saved_epochs(run / "backup" / "keras") == 2
    assert temp_leftovers(run) == []

    monkeypatch.setattr(extra_state, "_savez", real_savez)  # space freed
    resumed = run_training(small_cfg(4), run)
    assert resumed.metrics["status"] == "completed"
    assert resumed.metrics["resumed_from_epoch"] == 2 and resumed.metrics["epochs_run"] == 4


@pytest.mark.slow
def test_full_disk_while_drawing_curves_is_one_line_exit_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC inside matplotlib's PNG writer (it was a 40-line traceback): one line naming
    curves.png, exit 1, no partial PNG, the finished model and metrics kept."""
    from matplotlib.figure import Figure

    def full_disk(self: Figure, fname: object, **kwargs: object) -> None:
        Path(str(fname)).write_bytes(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--epochs", "1",
                                      "--progress", "none", "--run-dir", str(run)])
    assert result.exit_code == 1, result.output
    line = one_error_line(result.stderr)
    assert f"cannot write {run / 'curves.png'}: No space left on device" in line
    assert not (run / "curves.png").exists() and temp_leftovers(run) == []
    assert (run / "model.keras").is_file()
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_run_dir_removed_mid_run_stops_with_one_line(tmp_path: Path) -> None:
    import shutil

    from mnist_cli.backend import import_keras
    from mnist_cli.training import run_training

    run = tmp_path / "run"

    class RemoveRunDir(import_keras().callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch == 0:
                shutil.rmtree(run)

    with pytest.raises(RunFailed) as info:
        run_training(small_cfg(3), run, callbacks=[RemoveRunDir()])
    assert "config.yaml" in str(info.value) and "removed while the command ran" in str(
        info.value)
    assert not run.exists()  # not silently re-created with half the files


def test_backup_changed_on_disk_refuses_resume_exit_2(tmp_path: Path) -> None:
    run = tmp_path / "run"
    state = run / "backup" / "keras" / "state.npz"
    state.parent.mkdir(parents=True)
    from mnist_cli.runs.artifacts import write_yaml

    write_yaml(run / "config.yaml", small_cfg(3).to_dict())
    state.write_bytes(b"garbage, not a zip")
    result = CliRunner().invoke(app, ["train", "--resume", str(run)])
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert str(state) in line and "start a new run" in line


def test_internal_error_is_one_line_with_the_traceback_in_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mnist_cli.data.dataset as dataset

    def bug(*args: object) -> None:
        raise ZeroDivisionError("division by zero in the data loader")

    monkeypatch.setattr(dataset, "load_run_dataset", bug)  # the CLI's train calls the API,
    # whose pipeline calls it
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--data", "digits", "--run-dir", str(run)])
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert line.startswith("error: internal error: ZeroDivisionError: division by zero")
    assert "please report it; full traceback in" in line
    log = Path(line.rsplit("full traceback in ", 1)[1].rstrip(")"))
    assert "Traceback (most recent call last)" in log.read_text()
    log.unlink()
    verbose = CliRunner().invoke(app, ["train", "--data", "digits", "--verbose",
                                       "--run-dir", str(tmp_path / "run2")])
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "ZeroDivisionError: division by zero in the data loader" in verbose.stderr


@ROOT_ONLY
def test_read_only_and_full_file_systems_are_refused_before_training(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", "ro") as ro:
        result = CliRunner().invoke(app, ["train", "--data", "digits",
                                          "--run-dir", str(ro / "run")])
        assert result.exit_code == 2, result.output
        assert "Read-only file system" in one_error_line(result.stderr)
    with tmpfs(tmp_path / "tiny", "64k") as tiny:
        result = CliRunner().invoke(app, ["train", "--data", "digits",
                                          "--run-dir", str(tiny / "run")])
        assert result.exit_code == 2, result.output
        assert "KiB free" in one_error_line(result.stderr)
        assert not (tiny / "run").exists()


WIDE = """name: wide
model:
  output: logits
  layers:
    - Flatten: {}
    - Dense: {units: 512, activation: relu}
    - Dense: {units: 10}
training: {epochs: 2, batch_size: 256, seed: 1}
data: {spec: digits}
"""


@ROOT_ONLY
def test_disk_filling_up_mid_run_exits_1_without_a_crash(tmp_path: Path,
                                                         cli_env: dict) -> None:
    """A real full disk: the backup (~460 kB for this model) does not fit. Keras's HDF5
    backup writer died with SIGSEGV (exit 139) here; now it is one line and exit 1."""
    config = tmp_path / "wide.yaml"
    config.write_text(WIDE)
    with tmpfs(tmp_path / "disk", "1m") as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (600 * 1024))  # leaves ~420 kB: enough to start
        run = disk / "run"
        proc = subprocess.run(cli_cmd("train", "-c", str(config), "--run-dir", str(run)),
                              capture_output=True, text=True, env=cli_env, timeout=600)
        assert proc.returncode == 1, (proc.returncode, proc.stderr)
        line = one_error_line(proc.stderr)
        assert "No space left on device" in line and str(run) in line
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["status"] == "failed" and metrics["failure"]["errno"] == errno.ENOSPC
        assert temp_leftovers(run) == []
