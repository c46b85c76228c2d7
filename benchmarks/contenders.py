"""The three training contenders of `make bench`, each timed from reading the data to accuracy.

(a) seed:  the seed notebook's recipe, as read here: a pandas DataFrame of unscaled 0-255 pixels
    (int64 columns, as `pd.read_csv` gives) and a label Series passed straight to `fit`, batch
    32, `compile(optimizer="adam", loss="sparse_categorical_crossentropy")` (Adam lr 0.001) on
    a softmax output layer. The CNN takes the same flat DataFrame through a Reshape layer.
(b) keras: a hand-tuned plain-Keras script: scaled float32 pixels in tf.data (cache, seeded
    shuffle, batch 128, prefetch), logits + from_logits loss, Adam at the config's tuned rate.
(c) cli:   mnist-cli's Python API, `run_training(cfg, run_dir, dataset=...)` with the shipped
    config (mlp_relu / cnn), writing a full run directory, as `mnist-cli train` does.
(d) bare:  the fused engine's graph alone (`TrainGraph`, one call per epoch): no run
    directory, callbacks, guards or validation; (c)/(d) is what the engine around it costs.

All three train on the same first 8,000 real MNIST test digits and score the last 2,000 (or the
bundled 8x8 digits, 80/20, when ../shared/data/mnist is absent), with the same seed per repeat.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# $MNIST_BENCH_DATA points elsewhere (a git worktree's ../shared is not the project's)
MNIST = Path(os.environ.get("MNIST_BENCH_DATA", ROOT / ".." / "shared" / "data" / "mnist"))
IMAGES, LABELS = MNIST / "t10k-images-idx3-ubyte.gz", MNIST / "t10k-labels-idx1-ubyte.gz"
N_TRAIN = 8000
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def read_idx(path: Path) -> np.ndarray:
    """A gz IDX file -> numpy array (big-endian header: magic, then one uint32 per dim)."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def data_source() -> str:
    return "mnist t10k (8,000 train / 2,000 test)" if IMAGES.exists() else "sklearn digits 8x8"


def load_arrays(n_train: int = N_TRAIN) -> Arrays:
    """uint8 images (N, H, W) and int labels: train, train labels, test, test labels; with
    `n_train` above 8,000 the 8,000 training digits are tiled to that many."""
    if IMAGES.exists() and LABELS.exists():
        x, y = read_idx(IMAGES), read_idx(LABELS).astype(np.int64)
        reps = -(-n_train // N_TRAIN)
        xtr, ytr = np.tile(x[:N_TRAIN], (reps, 1, 1))[:n_train], np.tile(y[:N_TRAIN], reps)
        return xtr, ytr[:n_train], x[N_TRAIN:], y[N_TRAIN:]
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images * (255 / 16)).round().astype(np.uint8)
    cut = int(len(x) * 0.8)
    return x[:cut], d.target[:cut], x[cut:], d.target[cut:]


def hidden_layers(keras: Any, model: str) -> list[Any]:
    """The shipped configs' stacks, minus the output layer."""
    if model == "mlp":
        return [keras.layers.Flatten(), keras.layers.Dense(25, activation="relu"),
                keras.layers.Dense(15, activation="relu")]
    return [keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(), keras.layers.Dense(64, activation="relu")]


def result(fit_s: float, samples: int, wall_s: float, acc: float) -> dict[str, float]:
    return {"fit_seconds": fit_s, "samples_per_second": samples / fit_s,
            "wall_seconds": wall_s, "test_accuracy": acc}


def seed_recipe(model: str, epochs: int, seed: int, n_train: int = N_TRAIN
                ) -> dict[str, float]:
    """(a) DataFrame of raw pixels -> fit(batch_size=32), Adam defaults, softmax + SCCE."""
    import keras
    import pandas as pd

    start = time.perf_counter()
    xtr, ytr, xte, yte = load_arrays(n_train)
    h, w = xtr.shape[1:]
    df = pd.DataFrame(xtr.reshape(len(xtr), -1).astype(np.int64))
    labels = pd.Series(ytr)
    keras.utils.set_random_seed(seed)
    head = [] if model == "mlp" else [keras.layers.Reshape((h, w, 1))]
    net = keras.Sequential([keras.Input((h * w,)), *head, *hidden_layers(keras, model),
                            keras.layers.Dense(10, activation="softmax")])
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    net.fit(df, labels, batch_size=32, epochs=epochs, verbose=0)
    fit_s = time.perf_counter() - t0
    test_df = pd.DataFrame(xte.reshape(len(xte), -1).astype(np.int64))
    acc = float((net.predict(test_df, verbose=0).argmax(1) == yte).mean())
    return result(fit_s, len(xtr) * epochs, time.perf_counter() - start, acc)


def hand_tuned(model: str, epochs: int, seed: int, lr: float, n_train: int = N_TRAIN
               ) -> dict[str, float]:
    """(b) Scaled float32 arrays in tf.data (cache, shuffle, batch 128, prefetch), Adam(lr)."""
    import keras
    import tensorflow as tf

    start = time.perf_counter()
    xtr, ytr, xte, yte = load_arrays(n_train)
    xtr = xtr[..., None].astype(np.float32) / 255.0
    ds = (tf.data.Dataset.from_tensor_slices((xtr, ytr.astype(np.int32))).cache()
          .shuffle(len(xtr), seed=seed).batch(128).prefetch(tf.data.AUTOTUNE))
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input(xtr.shape[1:]), *hidden_layers(keras, model),
                            keras.layers.Dense(10)])
    net.compile(optimizer=keras.optimizers.Adam(lr),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    t0 = time.perf_counter()
    net.fit(ds, epochs=epochs, verbose=0)
    fit_s = time.perf_counter() - t0
    test = xte[..., None].astype(np.float32) / 255.0
    acc = float((net.predict(test, batch_size=128, verbose=0).argmax(1) == yte).mean())
    return result(fit_s, len(xtr) * epochs, time.perf_counter() - start, acc)


def dataset_from(arrays: Arrays) -> Any:
    """The arrays as mnist-cli's Dataset (no validation hold-out: same 8,000 as the others)."""
    from mnist_cli.data.types import DataDescription, Dataset, Split

    xtr, ytr, xte, yte = (a[..., None] if a.ndim == 3 else a for a in arrays)
    desc = DataDescription(source="bench", image_shape=tuple(xtr.shape[1:]), num_classes=10,
                           sizes={"train": len(xtr), "validation": 0, "test": len(xte)})
    return Dataset(Split(xtr, ytr), None, Split(xte, yte), desc)


def config_for(model: str, epochs: int, seed: int, sets: list[str] | None = None) -> Any:
    from mnist_cli.config import Overrides, resolve_config

    name = "mlp_relu" if model == "mlp" else "cnn"
    return resolve_config(name, Overrides(epochs=epochs, seed=seed, sets=list(sets or [])))


def mnist_cli_api(model: str, epochs: int, seed: int, sets: list[str] | None = None,
                  n_train: int = N_TRAIN) -> dict[str, float]:
    """(c) `run_training` with the shipped config, writing a run directory to a temp dir."""
    from mnist_cli.training import run_training

    start = time.perf_counter()
    data = dataset_from(load_arrays(n_train))
    cfg = config_for(model, epochs, seed, sets)
    with tempfile.TemporaryDirectory() as tmp:
        res = run_training(cfg, Path(tmp) / "run", dataset=data)
    m = res.metrics
    _restore_nondeterminism()
    return result(m["train_seconds"], len(data.train) * m["epochs_run"],
                  time.perf_counter() - start, m["test_accuracy"])


def _restore_nondeterminism() -> None:
    """run_training turns op determinism on process-wide; (a) and (b) run with TF defaults."""
    from tensorflow.python.framework import config as tf_config

    tf_config.disable_op_determinism()


def tuned_lr(model: str) -> float:
    """The config's learning rate, which (b) also uses so (b) and (c) differ only in plumbing."""
    return float(config_for(model, 1, 0).training.learning_rate)


def bare_fused(model: str, epochs: int, seed: int, n_train: int = N_TRAIN) -> dict[str, float]:
    """(d) The fused graph alone: the shipped config's model, one `TrainGraph` call per epoch,
    op determinism as (c); fit seconds include tracing, as for every contender."""
    import keras
    import tensorflow as tf

    from mnist_cli.modeling.build import build_model, compile_model
    from mnist_cli.training.fused import predict_fused
    from mnist_cli.training.fused_graph import TrainGraph

    start = time.perf_counter()
    data = dataset_from(load_arrays(n_train))
    cfg = config_for(model, epochs, seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    net = build_model(cfg.model, data.description.image_shape, 10)
    compile_model(net, cfg.model, cfg.training)
    t0 = time.perf_counter()
    net.optimizer.build(net.trainable_variables)
    graph = TrainGraph(net, data.train, cfg.training.batch_size, True, "float32")
    for epoch in range(epochs):
        graph.shuffle(seed, epoch)
        graph.run(tf.constant(0), tf.constant(graph.steps))[0].numpy()
    fit_s = time.perf_counter() - t0
    acc = float((predict_fused(net, data.test, 128).argmax(1) == data.test.y).mean())
    _restore_nondeterminism()
    return result(fit_s, len(data.train) * epochs, time.perf_counter() - start, acc)


WORKLOADS = {"mlp": ("mlp", N_TRAIN), "mlp60k": ("mlp", 60000), "cnn": ("cnn", N_TRAIN)}


def contenders(workload: str, epochs: int) -> dict[str, Callable[[int], dict[str, float]]]:
    """Per workload (`WORKLOADS`: model, training images): the contenders by name; the seed
    recipe (a) only on the 8,000-image rows (it takes ~20 s per 60k run)."""
    model, n = WORKLOADS[workload]
    lr = tuned_lr(model)
    runs = {
        "a_seed": lambda seed: seed_recipe(model, epochs, seed, n),
        "b_keras": lambda seed: hand_tuned(model, epochs, seed, lr, n),
        "c_mnist_cli": lambda seed: mnist_cli_api(model, epochs, seed, n_train=n),
        "d_bare": lambda seed: bare_fused(model, epochs, seed, n),
    }
    if n != N_TRAIN:
        del runs["a_seed"]
    return runs


def warm_up() -> None:
    """One tiny fit so TensorFlow's one-off runtime start-up is charged to no contender."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # many models in one process: retracing notices are noise
    hand_tuned("mlp", 1, 0, 0.01)
