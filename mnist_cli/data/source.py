"""What a data source is to the registry: how a `--data` spec is recognised, how it loads,
and how it is described without loading (`data show`, `config show`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mnist_cli.data.raw import RawData


@dataclass(frozen=True)
class SpecRequest:
    """A `--data` spec and the data options that loaders may use."""

    spec: str
    """The spec, stripped."""
    path: Path
    """The spec read as a path (`~` expanded); it need not exist."""
    image_shape: list[int] | None = None
    data_dir: str | None = None
    label_column: str = "auto"
    """CSV files only."""
    pixel_max: int | None = None
    """Files only (CSV, npz, IDX)."""


@dataclass(frozen=True)
class DataSource:
    """One entry of the data-source registry (`mnist_cli.data.registry`)."""

    name: str
    hint: str
    """How the 'no such data' error names it: a keyword ('digits') or a file kind ('.csv')."""
    recognises: Callable[[SpecRequest], bool]
    """Keyword sources: from the spec; file sources: from an existing `path`."""
    load: Callable[[SpecRequest], RawData]
    describe: Callable[[SpecRequest], str]
    """One line from names and the filesystem only (never loads)."""
    on_disk: bool = False
    """A file source: tried only when the spec is an existing path, after every keyword."""
    suffixes: tuple[str, ...] = ()
    """File-name endings that mean 'this was meant as a path' when the file is missing."""


def file_description(req: SpecRequest, kind: str) -> str:
    """'PATH: CSV file, 1,234 bytes' (file sources' `describe`)."""
    return f"{req.spec}: {kind} file, {req.path.stat().st_size:,} bytes"
