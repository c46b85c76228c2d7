"""The image shape (and class count) a run's data will load as, read without loading them:
from the spec, an IDX or .npy header, or a CSV file's first line. None wherever that cannot
be known cheaply and exactly, so that a check built on it never refuses data that would load.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

import mnist_cli.data.csv_layout as lay
from mnist_cli.config.schema import DataConfig
from mnist_cli.data.auto import choose
from mnist_cli.data.csv_scan import first_line, refuse_binary
from mnist_cli.data.dataset import MIN_CLASSES
from mnist_cli.data.shape import as_images, infer_hw
from mnist_cli.data.sources_idx import IMAGES_MAGIC, PREFIXES, find
from mnist_cli.data.spec import request, source_for

Shape = tuple[int, ...]
CSV_HEAD = 1 << 20
"""Bytes read for a CSV file's first line (a 785-column header is ~7 kB)."""


def peek(cfg: DataConfig) -> tuple[Shape, int | None] | None:
    """(image shape, number of classes or None) of the training data, or None when unknown.

    Classes are known only for digits and CSV files (their labels are 0-9: 10 classes)."""
    try:
        kinds = [_kind(spec, cfg) for spec in (cfg.spec, cfg.test_spec) if spec]
        shape = _shape(*kinds[0], cfg)
    except Exception:  # whatever the loader would say about these data, it says it later
        return None
    ten = all(kind in ("digits", "csv") for kind, _ in kinds)
    return (None if shape is None else (shape, MIN_CLASSES if ten else None))


def _kind(spec: str, cfg: DataConfig) -> tuple[str, Path]:
    """(source name, path) with `auto` settled as its loader settles it."""
    req = request(spec, data_dir=cfg.data_dir)
    name = source_for(req).name
    if name == "auto":
        kind, where = choose(cfg.data_dir)
        return {"keras": "npz"}.get(kind, kind), Path(where)
    return name, req.path


def _shape(kind: str, path: Path, cfg: DataConfig) -> Shape | None:
    if kind == "digits":  # the bundled set ignores --image-shape
        return (8, 8, 1)
    if kind == "csv":
        return _csv(path, cfg)
    if kind == "tfds":  # known only when given: the loader reshapes to --image-shape
        dims = None if cfg.image_shape is None else (0, *cfg.image_shape)
    else:
        dims = {"npz": _npy_dims, "idx": _idx_dims}[kind](path)
    return None if dims is None else _image_shape(dims, cfg, path)


def _image_shape(dims: Shape, cfg: DataConfig, path: Path) -> Shape:
    """The loader's own reshaping (`as_images`), run on no images of those dimensions."""
    return as_images(np.zeros((0, *dims[1:]), np.uint8), cfg.image_shape, str(path)).shape[1:]


def _idx_dims(path: Path) -> Shape | None:
    """The header's dimensions of the images file the IDX loader trains on."""
    if path.is_dir():  # train, else t10k: the set `load_idx` puts first
        path = next(p for pre in PREFIXES.values()
                    if (p := find(path, f"{pre}-images-idx3-ubyte")) is not None)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        head = f.read(16)
    if len(head) < 16 or int.from_bytes(head[:4], "big") != IMAGES_MAGIC:
        return None
    return tuple(int(d) for d in np.frombuffer(head, ">u4", count=3, offset=4))


def _npy_dims(path: Path) -> Shape | None:
    """x_train's shape from its .npy header inside the .npz (no array is read)."""
    fmt = np.lib.format
    with zipfile.ZipFile(path) as z, z.open("x_train.npy") as f:
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        return None if version not in read else tuple(read[version](f)[0])


def _csv(path: Path, cfg: DataConfig) -> Shape | None:
    """The first line's width less the label column, chosen as `load_csv` chooses it."""
    with open(path, "rb") as f:
        head = f.read(CSV_HEAD)
    refuse_binary(head[:65536], path)
    _, text, end = first_line(head, path)
    if end >= len(head) == CSV_HEAD:  # the first line may go on past what was read
        return None
    cells = lay.split_cells(text)
    header = cells if lay.is_header(cells) else None
    # No rows: the choice from the header and width alone (first_or_last then says first;
    # first or last, the same number of pixels is left).
    label = lay.label_index(np.zeros((0, len(cells))), header, cfg.label_column,
                            cfg.image_shape, str(path))
    return (*infer_hw(len(cells) - (label is not None), cfg.image_shape, str(path)), 1)
