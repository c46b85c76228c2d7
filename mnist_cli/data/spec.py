"""`--data` spec -> its source: the known kinds in one ordered table (keywords first, then
files by name), the one dispatch over it, and a cheap one-line description of a spec.

Adding a source is a loader module plus one line in `KEYWORDS` or `FILES`; the dispatch, the
'no such data' message and the one-line descriptions (`describe_spec`) all read the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from mnist_cli.data.auto import describe_auto, load_auto
from mnist_cli.data.raw import RawData
from mnist_cli.data.sources_csv import load_csv
from mnist_cli.data.sources_digits import load_digits
from mnist_cli.data.sources_idx import load_idx
from mnist_cli.data.sources_npz import load_npz
from mnist_cli.data.sources_tfds import is_prepared_on_disk, load_tfds
from mnist_cli.errors import DataError

TFDS_KEYWORDS = ("mnist", "fashion_mnist")
DIGITS_LINE = "digits: scikit-learn's bundled 8x8 digits (1,797 images), no download needed"


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


class Source(NamedTuple):
    """One line of the table."""

    name: str
    hint: str
    """How the 'no such data' error names it: a keyword ('digits') or a file kind ('.csv')."""
    matches: Callable[[SpecRequest], bool]
    """Keywords: from the spec; files: from an existing `path`."""
    load: Callable[[SpecRequest], RawData]
    describe: Callable[[SpecRequest], str]
    """One line from names and the filesystem only (never loads)."""
    suffixes: tuple[str, ...] = ()
    """Files: name endings that mean 'this was meant as a path' when the file is missing."""


def tfds_name(spec: str) -> str | None:
    """The TFDS dataset name a spec asks for, if it is a TFDS spec."""
    if spec in TFDS_KEYWORDS:
        return spec
    if spec.startswith("tfds:"):
        name = spec.removeprefix("tfds:").strip()
        if not name:
            raise DataError("tfds: needs a dataset name, e.g. tfds:mnist or tfds:kmnist")
        return name
    return None


def describe_tfds(req: SpecRequest) -> str:
    name = str(tfds_name(req.spec))
    state = "prepared" if is_prepared_on_disk(name, req.data_dir) else "needs a download once"
    return f"{req.spec}: TensorFlow Datasets '{name}' ({state})"


def named(suffix: str) -> Callable[[SpecRequest], bool]:
    return lambda req: req.path.name.lower().endswith(suffix)


def file_line(kind: str) -> Callable[[SpecRequest], str]:
    """'PATH: CSV file, 1,234 bytes'."""
    return lambda req: f"{req.spec}: {kind} file, {req.path.stat().st_size:,} bytes"


def is_idx(req: SpecRequest) -> bool:
    name = req.path.name.lower()
    return req.path.is_dir() or "ubyte" in name or "idx" in name


def describe_idx(req: SpecRequest) -> str:
    if req.path.is_dir():
        return f"{req.spec}: directory of IDX files"
    return file_line("IDX")(req)


KEYWORDS = (
    Source("auto", "auto", lambda r: r.spec == "auto",
           lambda r: load_auto(r.data_dir, r.image_shape, r.pixel_max),
           lambda r: describe_auto(r.data_dir)),
    Source("digits", "digits", lambda r: r.spec == "digits", lambda r: load_digits(),
           lambda r: DIGITS_LINE),
    Source("tfds", ", ".join([*TFDS_KEYWORDS, "tfds:NAME"]),
           lambda r: tfds_name(r.spec) is not None,
           lambda r: load_tfds(str(tfds_name(r.spec)), r.data_dir, r.image_shape), describe_tfds),
)
FILES = (  # tried only when the spec is an existing path, after every keyword
    Source("csv", ".csv", named(".csv"),
           lambda r: load_csv(r.path, r.image_shape, r.label_column, r.pixel_max),
           file_line("CSV"), (".csv",)),
    Source("npz", ".npz", named(".npz"), lambda r: load_npz(r.path, r.image_shape, r.pixel_max),
           file_line("NPZ"), (".npz",)),
    Source("idx", "IDX", is_idx, lambda r: load_idx(r.path, r.image_shape, r.pixel_max),
           describe_idx, (".gz", "-ubyte")),
)


def unknown(spec: str) -> DataError:
    words = ", ".join(s.hint for s in KEYWORDS)
    files = "/".join(s.hint for s in FILES)
    return DataError(f"no such data '{spec}': use {words}, or a path to {files}")


def unrecognised(path: Path) -> DataError:
    kinds = ", ".join(s.hint for s in FILES)
    return DataError(
        f"{path}: unrecognised data file type; use a {kinds} file "
        "(e.g. train-images-idx3-ubyte.gz) or a directory of IDX files"
    )


def keyword_source(req: SpecRequest) -> Source | None:
    """The keyword source (auto, digits, TFDS, ...) the spec names, if any."""
    return next((s for s in KEYWORDS if s.matches(req)), None)


def source_for(req: SpecRequest) -> Source:
    """The dispatch: the keyword the spec names, else the file kind of an existing path;
    DataError naming what is accepted for anything else."""
    keyword = keyword_source(req)
    if keyword is not None:
        return keyword
    if not req.path.exists():
        if req.spec.lower().endswith(tuple(x for s in FILES for x in s.suffixes)):
            raise DataError(f"no such file '{req.spec}': check the path")
        raise unknown(req.spec)
    found = next((s for s in FILES if s.matches(req)), None)
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
    """Every loader returns RawData with sets as the source ships them.

    `label_column` applies to CSV files only; `pixel_max` to files (CSV, npz, IDX).
    """
    req = request(spec, image_shape, data_dir, label_column, pixel_max)
    return source_for(req).load(req)


def describe_spec(spec: str, data_dir: str | None = None) -> str:
    """One line on what a spec means, from names and the filesystem only (no loading)."""
    req = request(spec, data_dir=data_dir)
    keyword = keyword_source(req)
    if keyword is not None:
        return keyword.describe(req)
    if not req.path.exists():
        return str(unknown(req.spec))
    try:
        return source_for(req).describe(req)
    except DataError as e:
        return str(e)
