"""Original MNIST IDX files (`train-images-idx3-ubyte[.gz]` and friends), parsed with numpy."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from mnist_cli.data.pixels import white_level
from mnist_cli.data.raw import RawData, hash_files
from mnist_cli.data.shape import as_images
from mnist_cli.data.types import Split
from mnist_cli.errors import DataError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
PREFIXES = {"train": "train", "test": "t10k"}


def find(directory: Path, stem: str) -> Path | None:
    """`stem` or `stem.gz` in `directory`, whichever exists."""
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_idx(
    path: Path, image_shape: list[int] | None = None, pixel_max: int | None = None
) -> RawData:
    """A directory of IDX pairs (train and/or t10k) or one images file with labels beside it.

    One pixel scale for every set, decided over all images (`pixels.white_level`).
    """
    if path.is_dir():
        pairs = {
            key: (find(path, f"{pre}-images-idx3-ubyte"), find(path, f"{pre}-labels-idx1-ubyte"))
            for key, pre in PREFIXES.items()
        }
        pairs = {k: v for k, v in pairs.items() if v[0] is not None}
        if not pairs:
            raise DataError(
                f"{path}: no IDX files found; expected train-images-idx3-ubyte[.gz] and/or "
                "t10k-images-idx3-ubyte[.gz] with their labels files"
            )
        if len(pairs) == 1:
            pairs = {"all": next(iter(pairs.values()))}
    else:
        labels = find(path.parent, _labels_name(path))
        pairs = {"all": (path, labels)}
    arrays = {k: read_idx(img, IMAGES_MAGIC) for k, (img, _) in pairs.items()}  # type: ignore[arg-type]
    white, note = white_level(list(arrays.values()), pixel_max, str(path))
    sets = {k: _load_pair(arrays[k], img, lab, image_shape, white)  # type: ignore[arg-type]
            for k, (img, lab) in pairs.items()}
    files = [p for pair in pairs.values() for p in pair if p is not None]
    return RawData(sets, f"idx:{path}", hash_files(files), [note] if note else [])


def _labels_name(images: Path) -> str:
    name = images.name.removesuffix(".gz")
    return name.replace("images-idx3", "labels-idx1").replace("idx3", "idx1")


def _load_pair(x: np.ndarray, images: Path, labels: Path | None,
               image_shape: list[int] | None, white: float) -> Split:
    x = as_images(x, image_shape, str(images), white)
    if labels is None:
        return Split(x, None)
    y = read_idx(labels, LABELS_MAGIC).astype(np.int64)
    if len(y) != len(x):
        raise DataError(
            f"{images} has {len(x)} images but {labels} has {len(y)} labels; "
            "use the matching pair of files"
        )
    return Split(x, y)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Check magic (0x0803 images, 0x0801 labels) and size; return the uint8 array."""
    data = _read_bytes(path)
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        found = data[:4].hex() or "nothing"
        raise DataError(
            f"{path}: not an IDX {kind} file (magic number 0x{found}, expected 0x{magic:08x}); "
            f"pass the {kind} file of an MNIST-style IDX pair, e.g. train-{kind}-idx*-ubyte"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX file (header cut short); download it again")
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(np.int64)
    need = header + int(np.prod(dims))
    if len(data) != need:
        state = "truncated" if len(data) < need else "oversized"
        raise DataError(
            f"{path}: {state} IDX file: header says {'x'.join(map(str, dims))} "
            f"({need} bytes) but the file has {len(data)}; download it again"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(tuple(dims))


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"no such file '{path}': check the path")
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip file ({e}); download it again") from None
