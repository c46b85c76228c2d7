"""`--data` spec strings -> the loader for that source (and a cheap one-line description)."""

from __future__ import annotations

from pathlib import Path

from mnist_cli.data.raw import RawData
from mnist_cli.errors import DataError

TFDS_KEYWORDS = ("mnist", "fashion_mnist")
FILE_SUFFIXES = (".csv", ".npz", ".gz", "-ubyte")


def unknown(spec: str) -> DataError:
    return DataError(
        f"no such data '{spec}': use auto, digits, mnist, fashion_mnist, tfds:NAME, "
        "or a path to .csv/.npz/IDX"
    )


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


def file_kind(path: Path) -> str:
    """'csv' | 'npz' | 'idx' for an existing path; DataError for anything else."""
    if path.is_dir():
        return "idx"
    name = path.name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".npz"):
        return "npz"
    if "ubyte" in name or "idx" in name:
        return "idx"
    raise DataError(
        f"{path}: unrecognised data file type; use a .csv, .npz, IDX file "
        "(e.g. train-images-idx3-ubyte.gz) or a directory of IDX files"
    )


def load_source(
    spec: str, image_shape: list[int] | None, data_dir: str | None, *,
    label_column: str = "auto", pixel_max: int | None = None,
) -> RawData:
    """Dispatch on the spec; every loader returns RawData with sets as the source ships them.

    `label_column` applies to CSV files only; `pixel_max` to files (CSV, npz, IDX).
    """
    spec = spec.strip()
    if spec == "auto":
        from mnist_cli.data.auto import load_auto

        return load_auto(data_dir, image_shape, pixel_max)
    if spec == "digits":
        from mnist_cli.data.sources_digits import load_digits

        return load_digits()
    name = tfds_name(spec)
    if name is not None:
        from mnist_cli.data.sources_tfds import load_tfds

        return load_tfds(name, data_dir, image_shape)
    path = Path(spec).expanduser()
    if not path.exists():
        if spec.lower().endswith(FILE_SUFFIXES):
            raise DataError(f"no such file '{spec}': check the path")
        raise unknown(spec)
    return _load_path(path, image_shape, label_column, pixel_max)


def _load_path(
    path: Path, image_shape: list[int] | None, label_column: str, pixel_max: int | None
) -> RawData:
    kind = file_kind(path)
    if kind == "csv":
        from mnist_cli.data.sources_csv import load_csv

        return load_csv(path, image_shape, label_column, pixel_max)
    if kind == "npz":
        from mnist_cli.data.sources_npz import load_npz

        return load_npz(path, image_shape, pixel_max)
    from mnist_cli.data.sources_idx import load_idx

    return load_idx(path, image_shape, pixel_max)


def describe_spec(spec: str, data_dir: str | None = None) -> str:
    """One line on what a spec means, from names and the filesystem only (no loading)."""
    spec = spec.strip()
    if spec == "auto":
        from mnist_cli.data.auto import describe_auto

        return describe_auto(data_dir)
    if spec == "digits":
        return "digits: scikit-learn's bundled 8x8 digits (1,797 images), no download needed"
    name = tfds_name(spec)
    if name is not None:
        from mnist_cli.data.sources_tfds import is_prepared_on_disk

        state = "prepared" if is_prepared_on_disk(name, data_dir) else "needs a download once"
        return f"{spec}: TensorFlow Datasets '{name}' ({state})"
    path = Path(spec).expanduser()
    if not path.exists():
        return str(unknown(spec))
    try:
        kind = file_kind(path)
    except DataError as e:
        return str(e)
    if path.is_dir():
        return f"{spec}: directory of IDX files"
    return f"{spec}: {kind.upper()} file, {path.stat().st_size:,} bytes"
