"""Atomic file writes: a crash never leaves a truncated artifact (temp file, then rename).

A write that fails (full disk, permissions, a directory removed under it) removes its temp
file, leaves any previous version of the file whole, and raises `mnist_cli.runs.faults.WriteFailed`
(an `OSError`) whose message names the file and the fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mnist_cli.redact import redact
from mnist_cli.runs.faults import write_failed


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temp file beside `path`, then rename it into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise write_failed(exc, path) from exc
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError):
            raise write_failed(exc, path) from exc
        raise
    return path


def _discard(tmp: Path) -> None:
    """Remove a temp file; its directory may be gone too (that is reported already)."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Every text file of a run directory: no URL's password or token is ever written."""
    text = redact(text)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, default=_jsonable) + "\n")


def write_yaml(path: Path, obj: Any) -> Path:
    return write_text(path, yaml.safe_dump(obj, sort_keys=False))


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays and paths into plain JSON types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def save_model(model: Any, path: Path) -> Path:
    """`model.save` through a temp name ending in .keras (Keras insists on the suffix)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    from mnist_cli.backend import tensorflow_hidden_from_keras

    try:
        with tensorflow_hidden_from_keras():  # on JAX, saving needs no TensorFlow
            model.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise write_failed(exc, path) from exc
    finally:
        _discard(tmp)
    return path
