"""The image shape (and class count) a run's data will load as, read without loading them:
from the spec, an IDX or .npy header, or a CSV file's first line. None where that is not known
cheaply and exactly, so that a check built on it never refuses data that would load."""

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

CSV_HEAD = 1 << 20  # bytes read for a CSV file's first line (a 785-name header is ~7 kB)


def peek(cfg: DataConfig) -> tuple[tuple[int, ...], int | None] | None:
    """(image shape, class count or None) of the training data, or None when unknown; the
    class count is known for digits and CSV files (labels 0-9, so 10 classes) only."""
    try:
        kinds = [_kind(spec, cfg.data_dir) for spec in (cfg.spec, cfg.test_spec) if spec]
        kind, path = kinds[0]
        if kind == "digits":  # the bundled set ignores --image-shape
            shape: tuple[int, ...] = (8, 8, 1)
        elif kind == "csv":
            shape = _csv(path, cfg)
        elif kind == "tfds" and cfg.image_shape is None:
            return None
        else:  # TFDS: the given --image-shape, which its loader reshapes to
            dims = (0, *(cfg.image_shape or [])) if kind == "tfds" else READ[kind](path)
            shape = as_images(np.zeros((0, *dims[1:]), np.uint8), cfg.image_shape,
                              str(path)).shape[1:]  # the loaders' own reshaping, on no images
    except Exception:  # unknown: the loader says later what is wrong with these data
        return None
    return shape, MIN_CLASSES if all(k in ("digits", "csv") for k, _ in kinds) else None


def _kind(spec: str, data_dir: str | None) -> tuple[str, Path]:
    """(source name, path), `auto` settled as its loader settles it."""
    req = request(spec, data_dir=data_dir)
    if (name := source_for(req).name) != "auto":
        return name, req.path
    kind, where = choose(data_dir)
    return {"keras": "npz"}.get(kind, kind), Path(where)


def _idx_dims(path: Path) -> tuple[int, ...]:
    if path.is_dir():  # train, else t10k: the set `load_idx` trains on
        path = next(p for pre in PREFIXES.values()
                    if (p := find(path, f"{pre}-images-idx3-ubyte")) is not None)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        head = f.read(16)
    if int.from_bytes(head[:4], "big") != IMAGES_MAGIC:
        raise ValueError("not IDX images")
    return tuple(int(d) for d in np.frombuffer(head, ">u4", count=3, offset=4))


def _npy_dims(path: Path) -> tuple[int, ...]:
    """x_train's shape from its .npy header in the .npz (no array is read)."""
    fmt = np.lib.format
    with zipfile.ZipFile(path) as z, z.open("x_train.npy") as f:
        version = fmt.read_magic(f)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}[version]
        return tuple(read(f)[0])


READ = {"npz": _npy_dims, "idx": _idx_dims}


def _csv(path: Path, cfg: DataConfig) -> tuple[int, ...]:
    """The first line's width less the label column, both decided as `load_csv` decides."""
    with open(path, "rb") as f:
        head = f.read(CSV_HEAD)
    refuse_binary(head[:65536], path)
    _, text, end = first_line(head, path)
    if end >= len(head) == CSV_HEAD:
        raise ValueError("the first line may go on past what was read")
    cells = lay.split_cells(text)
    # No rows: the label column from the header and width alone (first_or_last then says
    # first; first or last, the same pixels are left).
    label = lay.label_index(np.zeros((0, len(cells))), cells if lay.is_header(cells) else None,
                            cfg.label_column, cfg.image_shape, str(path))
    return (*infer_hw(len(cells) - (label is not None), cfg.image_shape, str(path)), 1)
