"""The data sources mnist-cli ships: keywords (auto, digits, TFDS) and files (CSV, npz, IDX).

Each is a `DataSource` listed once in `mnist_cli.data.registry`; loaders are imported only
when used, so recognising a spec stays cheap.
"""

from __future__ import annotations

from mnist_cli.data.raw import RawData
from mnist_cli.data.source import DataSource, SpecRequest, file_description
from mnist_cli.errors import DataError

TFDS_KEYWORDS = ("mnist", "fashion_mnist")


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


def _load_auto(req: SpecRequest) -> RawData:
    from mnist_cli.data.auto import load_auto

    return load_auto(req.data_dir, req.image_shape, req.pixel_max)


def _describe_auto(req: SpecRequest) -> str:
    from mnist_cli.data.auto import describe_auto

    return describe_auto(req.data_dir)


def _load_digits(req: SpecRequest) -> RawData:
    from mnist_cli.data.sources_digits import load_digits

    return load_digits()


def _load_tfds(req: SpecRequest) -> RawData:
    from mnist_cli.data.sources_tfds import load_tfds

    return load_tfds(str(tfds_name(req.spec)), req.data_dir, req.image_shape)


def _describe_tfds(req: SpecRequest) -> str:
    from mnist_cli.data.sources_tfds import is_prepared_on_disk

    name = str(tfds_name(req.spec))
    state = "prepared" if is_prepared_on_disk(name, req.data_dir) else "needs a download once"
    return f"{req.spec}: TensorFlow Datasets '{name}' ({state})"


def _load_csv(req: SpecRequest) -> RawData:
    from mnist_cli.data.sources_csv import load_csv

    return load_csv(req.path, req.image_shape, req.label_column, req.pixel_max)


def _load_npz(req: SpecRequest) -> RawData:
    from mnist_cli.data.sources_npz import load_npz

    return load_npz(req.path, req.image_shape, req.pixel_max)


def _load_idx(req: SpecRequest) -> RawData:
    from mnist_cli.data.sources_idx import load_idx

    return load_idx(req.path, req.image_shape, req.pixel_max)


def _is_idx(req: SpecRequest) -> bool:
    name = req.path.name.lower()
    return req.path.is_dir() or "ubyte" in name or "idx" in name


def _describe_idx(req: SpecRequest) -> str:
    if req.path.is_dir():
        return f"{req.spec}: directory of IDX files"
    return file_description(req, "IDX")


AUTO = DataSource("auto", "auto", lambda r: r.spec == "auto", _load_auto, _describe_auto)
DIGITS = DataSource(
    "digits", "digits", lambda r: r.spec == "digits", _load_digits,
    lambda r: "digits: scikit-learn's bundled 8x8 digits (1,797 images), no download needed")
TFDS = DataSource("tfds", ", ".join([*TFDS_KEYWORDS, "tfds:NAME"]),
                  lambda r: tfds_name(r.spec) is not None, _load_tfds, _describe_tfds)
CSV = DataSource("csv", ".csv", lambda r: r.path.name.lower().endswith(".csv"), _load_csv,
                 lambda r: file_description(r, "CSV"), on_disk=True, suffixes=(".csv",))
NPZ = DataSource("npz", ".npz", lambda r: r.path.name.lower().endswith(".npz"), _load_npz,
                 lambda r: file_description(r, "NPZ"), on_disk=True, suffixes=(".npz",))
IDX = DataSource("idx", "IDX", _is_idx, _load_idx, _describe_idx, on_disk=True,
                 suffixes=(".gz", "-ubyte"))
