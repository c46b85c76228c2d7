"""Artifacts are written atomically: a failing write leaves the old file or nothing, never half."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mnist_cli.runs.artifacts import atomic_write, save_model, write_json, write_text


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_old_file_and_no_temp(tmp_path: Path, error: BaseException) -> None:
    target = write_text(tmp_path / "metrics.json", '{"ok": 1}\n')

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text('{"trunc')
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, half_then_fail)
    assert json.loads(target.read_text()) == {"ok": 1}
    assert leftovers(tmp_path) == []


def test_unserializable_json_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_json(tmp_path / "metrics.json", {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_model_save_crash_leaves_no_model(tmp_path: Path) -> None:
    class Crashing:
        def save(self, path: Any) -> None:
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise RuntimeError("crash mid-save")

    with pytest.raises(RuntimeError):
        save_model(Crashing(), tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []


def test_real_model_save_is_complete(tmp_path: Path) -> None:
    from mnist_cli.backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = save_model(model, tmp_path / "model.keras")
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.count_params() == model.count_params()
    assert leftovers(tmp_path) == []
