"""Seeded, deterministic splits: train/test for one-set sources and the validation hold-out."""

from __future__ import annotations

import numpy as np

from mnist_cli.data.raw import hash_arrays
from mnist_cli.data.types import Split
from mnist_cli.errors import DataError

TEST_FRACTION = 0.2


def train_test(
    data: Split, seed: int, source: str, fraction: float = TEST_FRACTION
) -> tuple[Split, Split]:
    """Stratified when every class can be, else a plain seeded permutation split."""
    from sklearn.model_selection import train_test_split

    n = len(data)
    if n < 2:
        raise DataError(f"{source}: {n} example(s) is too few to split into train and test")
    idx = np.arange(n)
    try:
        tr, te = train_test_split(idx, test_size=fraction, random_state=seed, stratify=data.y)
    except ValueError:  # a class with a single example, or fewer test slots than classes
        perm = np.random.default_rng(seed).permutation(n)
        n_test = max(1, int(round(n * fraction)))
        te, tr = perm[:n_test], perm[n_test:]
    return take(data, np.sort(tr)), take(data, np.sort(te))


def hold_out(train: Split, fraction: float, seed: int) -> tuple[Split, Split | None, bool]:
    """Move `fraction` of train to validation: (train, validation, stratified).

    Stratified by class (as train/test is) whenever it can be: every class has at least 2
    examples and each side has room for every class. Otherwise a plain
    default_rng(seed) permutation, and `stratified` is False.
    """
    if fraction <= 0:
        return train, None, False
    n = len(train)
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise DataError(
            f"validation_split {fraction} of {n} training examples leaves an empty set; "
            "use a fraction that keeps at least one example on each side (or 0)"
        )
    if can_stratify(train.y, n_val, n - n_val):
        from sklearn.model_selection import train_test_split

        tr, val = train_test_split(np.arange(n), test_size=n_val, random_state=seed,
                                   stratify=train.y)
        return take(train, np.sort(tr)), take(train, np.sort(val)), True
    perm = np.random.default_rng(seed).permutation(n)
    return take(train, np.sort(perm[n_val:])), take(train, np.sort(perm[:n_val])), False


def can_stratify(y: np.ndarray | None, *sides: int) -> bool:
    """Every class has >= 2 examples and every side of the split has room for each class."""
    if y is None or len(y) == 0:
        return False
    counts = np.unique(y, return_counts=True)[1]
    return bool(counts.min() >= 2 and min(sides) >= len(counts))


def fingerprint(data: Split | None) -> str:
    """sha256 of a split's images and labels (shape, dtype and order included): equal only
    when the rows are the same rows in the same order."""
    if data is None:
        return hash_arrays()
    return hash_arrays(data.x, data.y, layout=True)


def take(data: Split, idx: np.ndarray) -> Split:
    return Split(data.x[idx], None if data.y is None else data.y[idx])


def class_counts(data: Split | None) -> dict[int, int]:
    if data is None or data.y is None or len(data) == 0:
        return {}
    labels, counts = np.unique(data.y, return_counts=True)
    return {int(k): int(v) for k, v in zip(labels, counts, strict=True)}
