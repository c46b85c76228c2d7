"""`--data` spec strings -> the registered source for that spec (`mnist_cli.data.registry`),
its loader and a cheap one-line description."""

from __future__ import annotations

from pathlib import Path

from mnist_cli.data.raw import RawData
from mnist_cli.data.registry import file_sources, keyword_sources
from mnist_cli.data.source import DataSource, SpecRequest
from mnist_cli.errors import DataError


def unknown(spec: str) -> DataError:
    words = ", ".join(s.hint for s in keyword_sources())
    files = "/".join(s.hint for s in file_sources())
    return DataError(f"no such data '{spec}': use {words}, or a path to {files}")


def unrecognised(path: Path) -> DataError:
    kinds = ", ".join(s.hint for s in file_sources())
    return DataError(
        f"{path}: unrecognised data file type; use a {kinds} file "
        "(e.g. train-images-idx3-ubyte.gz) or a directory of IDX files"
    )


def keyword_source(req: SpecRequest) -> DataSource | None:
    """The keyword source (auto, digits, TFDS, ...) the spec names, if any."""
    return next((s for s in keyword_sources() if s.recognises(req)), None)


def file_source(req: SpecRequest) -> DataSource:
    """The file source for an existing path; DataError for anything else."""
    found = next((s for s in file_sources() if s.recognises(req)), None)
    if found is None:
        raise unrecognised(req.path)
    return found


def request(spec: str, image_shape: list[int] | None = None, data_dir: str | None = None,
            label_column: str = "auto", pixel_max: int | None = None) -> SpecRequest:
    spec = spec.strip()
    return SpecRequest(spec, Path(spec).expanduser(), image_shape, data_dir, label_column,
                       pixel_max)


def load_source(
    spec: str, image_shape: list[int] | None, data_dir: str | None, *,
    label_column: str = "auto", pixel_max: int | None = None,
) -> RawData:
    """Dispatch on the spec; every loader returns RawData with sets as the source ships them.

    `label_column` applies to CSV files only; `pixel_max` to files (CSV, npz, IDX).
    """
    req = request(spec, image_shape, data_dir, label_column, pixel_max)
    source = keyword_source(req)
    if source is not None:
        return source.load(req)
    if not req.path.exists():
        suffixes = tuple(x for s in file_sources() for x in s.suffixes)
        if req.spec.lower().endswith(suffixes):
            raise DataError(f"no such file '{req.spec}': check the path")
        raise unknown(req.spec)
    return file_source(req).load(req)


def describe_spec(spec: str, data_dir: str | None = None) -> str:
    """One line on what a spec means, from names and the filesystem only (no loading)."""
    req = request(spec, data_dir=data_dir)
    source = keyword_source(req)
    if source is not None:
        return source.describe(req)
    if not req.path.exists():
        return str(unknown(req.spec))
    try:
        return file_source(req).describe(req)
    except DataError as e:
        return str(e)
