"""What every peer script shares: its arguments, the data, epoch timing and the JSON line.

Only numpy and the standard library here, so importing this costs a peer nothing that a
plain training script would not pay anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

# Keras defaults that every contender copies (glorot_uniform kernels, zero biases are in
# each script); Adam's epsilon is Keras's 1e-7, not optax's/PyTorch's 1e-8.
ADAM_EPSILON = 1e-7
KEYS = ("contender", "model", "epochs", "train_images", "steady_samples_per_second",
        "first_epoch_seconds", "wall_seconds", "test_accuracy", "epoch_seconds")


@dataclass
class Data:
    """Training and test arrays: float32 NHWC images in [0, 1], int32 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def parser(description: str) -> argparse.ArgumentParser:
    """The options every peer takes; a script adds its own before parsing."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help=".npz with x_train, y_train, x_test, y_test")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=128)
    return p


def load(path: str) -> Data:
    """The shared .npz (uint8 pixels, 255 = white) scaled to float32 [0, 1], NHWC."""
    with np.load(path, allow_pickle=False) as z:
        def images(key: str) -> np.ndarray:
            return (z[key].astype(np.float32) / 255.0)[..., None]

        return Data(images("x_train"), z["y_train"].astype(np.int32),
                    images("x_test"), z["y_test"].astype(np.int32))


def batches_per_epoch(n: int, batch_size: int) -> int:
    """Keras counts the last partial batch: ceil(n / batch)."""
    return -(-n // batch_size)


def process_seconds() -> float:
    """Seconds since this process was exec'd (Linux /proc start time; perf_counter origin
    elsewhere): the wall of a whole run, interpreter start and imports included."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


class EpochClock:
    """Wall seconds of each epoch; the caller marks the start and the (synchronised) end."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        self.seconds.append(time.perf_counter() - self._t0)


def summary(contender: str, args: argparse.Namespace, n_train: int,
            epoch_seconds: list[float], accuracy: float) -> dict[str, object]:
    """The one result record: steady = median samples/s of the epochs after the first."""
    later = epoch_seconds[1:] or epoch_seconds
    return {"contender": contender, "model": args.model, "epochs": len(epoch_seconds),
            "train_images": n_train,
            "steady_samples_per_second": n_train / statistics.median(later),
            "first_epoch_seconds": epoch_seconds[0], "wall_seconds": process_seconds(),
            "test_accuracy": accuracy, "epoch_seconds": epoch_seconds}


def emit(record: dict[str, object]) -> None:
    """One JSON line on stdout, flushed (the bench driver reads the last such line)."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()
