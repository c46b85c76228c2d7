"""Data loading: every source (bundled digits, TFDS, CSV, IDX, npz) -> uint8 images + int labels.

Nothing here imports TensorFlow at import time; TFDS sources import it lazily via `import_tf`.
"""

from __future__ import annotations

from mnist_cli.data.dataset import load_dataset, load_inputs
from mnist_cli.data.spec import describe_spec
from mnist_cli.data.types import DataDescription, Dataset, Split

__all__ = ["DataDescription", "Dataset", "Split", "describe_spec", "load_dataset", "load_inputs"]
