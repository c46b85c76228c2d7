"""`auto`: full MNIST if it is already on this machine, else bundled digits; never the network."""

from __future__ import annotations

import os
from pathlib import Path

from mnist_cli.data.raw import RawData
from mnist_cli.data.sources_digits import load_digits
from mnist_cli.data.sources_npz import load_npz
from mnist_cli.data.sources_tfds import is_prepared_on_disk, load_tfds

DIGITS_NOTE = (
    "auto: using scikit-learn's bundled 8x8 digits (1,797 images); for full MNIST run "
    "`mnist-cli train --data mnist` once online, or pass --data PATH to MNIST CSV/IDX/npz"
)


def keras_mnist_path() -> Path:
    """Where keras.datasets.mnist caches its file (KERAS_HOME, else ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "mnist.npz"


def choose(data_dir: str | None) -> tuple[str, str]:
    """('tfds' | 'keras' | 'digits', where) with filesystem checks only."""
    if is_prepared_on_disk("mnist", data_dir):
        return "tfds", data_dir or ""
    if keras_mnist_path().is_file():
        return "keras", str(keras_mnist_path())
    return "digits", ""


def load_auto(
    data_dir: str | None, image_shape: list[int] | None = None, pixel_max: int | None = None
) -> RawData:
    kind, where = choose(data_dir)
    if kind == "tfds":
        raw = load_tfds("mnist", data_dir, image_shape)
        raw.notes.append(f"auto: using MNIST prepared by TFDS ({raw.source})")
    elif kind == "keras":
        raw = load_npz(Path(where), image_shape, pixel_max)
        raw.notes.append(f"auto: using MNIST cached by Keras at {where}")
    else:
        raw = load_digits()
        raw.notes.append(DIGITS_NOTE)
    return raw


def describe_auto(data_dir: str | None) -> str:
    kind, where = choose(data_dir)
    if kind == "tfds":
        return "auto: MNIST, prepared by TFDS on this machine"
    if kind == "keras":
        return f"auto: MNIST, cached by Keras at {where}"
    return "auto: " + DIGITS_NOTE.removeprefix("auto: ")
