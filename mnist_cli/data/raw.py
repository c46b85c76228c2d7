"""What a source loader hands back before splitting: named sets plus provenance."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_cli.data.types import Split


@dataclass
class RawData:
    """Sets as the source ships them: 'train' and/or 'test', or 'all' when there is one set.

    Loaders stop here so that splitting, validation hold-out and description happen once,
    the same way for every source.
    """

    sets: dict[str, Split]
    source: str
    sha256: str
    notes: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    """The source's own label names (TFDS metadata), None when it has none."""

    def image_shape(self) -> tuple[int, int, int]:
        first = next(iter(self.sets.values()))
        return tuple(int(d) for d in first.x.shape[1:])  # type: ignore[return-value]

    def everything(self) -> Split:
        """All examples in one set (labels only if every set has them)."""
        splits = [self.sets[k] for k in sorted(self.sets)]
        x = np.concatenate([s.x for s in splits])
        if any(s.y is None for s in splits):
            return Split(x, None)
        return Split(x, np.concatenate([s.y for s in splits]))  # type: ignore[misc]


def hash_files(paths: Iterable[Path]) -> str:
    """sha256 over the raw bytes of files, in sorted name order (stable across listings)."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: q.name):
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_arrays(*arrays: np.ndarray | None, layout: bool = False) -> str:
    """sha256 over array bytes, for bundled or TFDS data with no single source file;
    `layout` also hashes each array's dtype and shape (split fingerprints)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is not None:
            a = np.ascontiguousarray(a)
            if layout:
                h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()
