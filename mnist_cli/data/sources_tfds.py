"""TensorFlow Datasets sources that never hang offline.

Prepared data is read with download=False; otherwise a 3 s socket probe decides between a
clear DataError and download_and_prepare, so a machine without network fails in seconds.
"""

from __future__ import annotations

import difflib
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.backend import import_tf
from mnist_cli.data.raw import RawData, hash_arrays
from mnist_cli.data.shape import as_images
from mnist_cli.data.sources_npz import labels_int64
from mnist_cli.data.types import Split
from mnist_cli.errors import DataError

PROBE_HOST = ("storage.googleapis.com", 443)


def default_data_dir() -> Path:
    """TFDS's own default, without importing it (TFDS_DATA_DIR or ~/tensorflow_datasets)."""
    return Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")


def network_reachable(timeout: float = 3.0) -> bool:
    """Bounded probe (monkeypatched in tests): can we open a TCP connection to TFDS storage?"""
    try:
        with socket.create_connection(PROBE_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def is_prepared_on_disk(name: str, data_dir: str | None) -> bool:
    """Cheap check (no TF import) for a prepared `name` under the data dir."""
    root = Path(data_dir) if data_dir else default_data_dir()
    return any((root / name).glob("*/dataset_info.json"))


def load_tfds(name: str, data_dir: str | None, image_shape: list[int] | None = None) -> RawData:
    """Train/test (whatever splits exist) as numpy, downloading only if the network answers."""
    builder = _builder(name, data_dir)
    where = data_dir or str(default_data_dir())
    if not _prepared(builder):
        if not network_reachable():
            raise DataError(
                f"TFDS dataset '{name}' is not in {where} and the network is unreachable; "
                "run once online, or use --data digits / a CSV/IDX/npz file"
            )
        try:
            builder.download_and_prepare()
        except Exception as e:  # TFDS raises many types for network/disk trouble
            raise DataError(f"TFDS dataset '{name}': download failed ({e})") from None
    sets = _read_splits(builder, name, image_shape)
    arrays = [a for s in sets.values() for a in (s.x, s.y)]
    return RawData(sets, f"tfds:{name} ({where})", hash_arrays(*arrays),
                   class_names=label_names(builder))


def label_names(builder: Any) -> list[str] | None:
    """The label feature's names from the dataset's metadata (`features["label"].names`):
    Fashion-MNIST's 'T-shirt/top', ...; None for plain digit names '0'..'9' or no names."""
    from mnist_cli.data.class_names import metadata_names

    keys = getattr(builder.info, "supervised_keys", None) or ("image", "label")
    try:
        names = builder.info.features[keys[1]].names
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return metadata_names(names)


def _builder(name: str, data_dir: str | None) -> Any:
    import_tf()
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # DatasetNotFoundError and friends; bad names should read cleanly
        close = difflib.get_close_matches(name, _known_names(tfds), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see tfds.list_builders()"
        raise DataError(f"unknown TFDS dataset '{name}' ({type(e).__name__}){hint}") from None


def _known_names(tfds: Any) -> list[str]:
    try:
        return list(tfds.list_builders(with_community_datasets=False))
    except Exception:
        return ["mnist", "fashion_mnist", "kmnist", "emnist"]


def _prepared(builder: Any) -> bool:
    try:
        return bool(builder.is_prepared())
    except Exception:
        return False


def _to_numpy(tfds: Any, ds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Batches of 4096 concatenated: batch_size=-1 aborts TF under tfds.testing.mock_data."""
    xs, ys = [], []
    for x, y in tfds.as_numpy(ds.batch(4096)):
        xs.append(x)
        ys.append(y)
    if not xs:
        raise DataError("TFDS split is empty")
    return np.concatenate(xs), np.concatenate(ys)


def _read_splits(builder: Any, name: str, image_shape: list[int] | None) -> dict[str, Split]:
    import tensorflow_datasets as tfds

    names = [s for s in ("train", "test") if s in builder.info.splits] or ["train", "test"]
    sets: dict[str, Split] = {}
    for split in names:
        try:
            ds = builder.as_dataset(split=split, as_supervised=True)
        except (KeyError, ValueError):  # the dataset has no such split
            continue
        x, y = _to_numpy(tfds, ds)
        source = f"tfds:{name}[{split}]"
        sets[split] = Split(as_images(np.asarray(x), image_shape, source), labels_int64(y, source))
    if not sets:
        raise DataError(f"TFDS dataset '{name}' has neither a train nor a test split")
    return sets if len(sets) == 2 else {"all": next(iter(sets.values()))}
