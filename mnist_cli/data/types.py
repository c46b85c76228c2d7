"""The one result type every data loader returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class Split:
    """Images as uint8 (N, H, W, 1) and integer labels (N,), or None where the source has none."""

    x: np.ndarray
    y: np.ndarray | None

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class DataDescription:
    """What was loaded, recorded in metrics.json so a run says exactly what it saw."""

    source: str
    """Human name of the source, e.g. 'digits (scikit-learn)' or 'csv:/path/train.csv'."""
    image_shape: tuple[int, int, int]
    """(height, width, channels) of one image."""
    num_classes: int
    """Number of label classes (10 for MNIST-style data; 0 in `data info` of unlabeled data)."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Examples per split: train, validation, test."""
    class_counts: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per split, examples per class label."""
    sha256: str = ""
    """sha256 of the raw source bytes (files) or of the arrays (generated/bundled data)."""
    notes: list[str] = field(default_factory=list)
    """One-line remarks for the user, e.g. which data `auto` chose and how to get full MNIST."""
    stratified: bool = False
    """Whether the validation hold-out kept each class's share (False: random, or none held out)."""
    split_seed: int | None = None
    """The seed the train/test split and validation hold-out were drawn with."""
    fingerprints: dict[str, str] = field(default_factory=dict)
    """Per split, sha256 of its images and labels: a rebuilt split must match it exactly."""
    class_names: list[str] | None = None
    """Label names in label order (`--class-names` or TFDS metadata); None: labels are numbers.
    A run's config.yaml `data.class_names` is the record; this copy describes the data."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["image_shape"] = list(self.image_shape)
        d["class_counts"] = {
            split: {str(c): n for c, n in counts.items()}
            for split, counts in self.class_counts.items()
        }
        return d


@dataclass
class Dataset:
    """Train / validation / test splits plus their description."""

    train: Split
    validation: Split | None
    test: Split
    description: DataDescription
