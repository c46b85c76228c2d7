"""The training engine: `model.fit`'s contract, many steps per graph call, under every strategy.

One engine per backend, chosen once (`Engine.for_strategy`): it trains (`fit`), predicts
(`predict`: the one predict path of a run's own test score, `evaluate` and `predict`) and
records itself (`record`, metrics.json's `engine`). It drives the Keras callbacks through their
standard hooks (a `CallbackList` with the model set: train begin, epoch begin, one batch end
per graph call with the latest batch index, epoch end with loss/accuracy/val_loss/
val_accuracy, train end; `model.stop_training` honoured), so backup, early stopping, progress
and guards work unchanged. Calls last about `TARGET_CALL_S` (or a whole epoch when shorter),
so the progress display moves and a signal lands at a call boundary within half a second. A
callback whose `every_batch` attribute is true gets one step per call; multi-worker calls are
a fixed `WORKER_CALL_STEPS`, so every worker cuts its epochs the same way. The graphs are in
`fused_graph` (TensorFlow, any `tf.distribute` strategy) and `fused_jax` (JAX), one interface.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

import mnist_cli.signals as signals
from mnist_cli.backend import import_keras, is_jax
from mnist_cli.config.schema import RunConfig
from mnist_cli.data.pipeline import storage_dtype
from mnist_cli.data.types import Dataset, Split
from mnist_cli.distribute import is_multi_worker
from mnist_cli.training.epochs import drive_epochs
from mnist_cli.training.guards import Diverged

TARGET_CALL_S = 0.2  # <= ~0.25 s per call with margin for a noisy step time
FIRST_CALL_STEPS = 4  # the first call traces; the second measures the step time
WORKER_CALL_STEPS = 16  # multi-worker: the same cut on every worker (collectives pair up)
# From this many planned steps XLA pays for its compile (~2 s on 2 cores, against ~0.25 ms
# saved a step on the MLP): shorter runs keep the plain graph, which traces in ~0.4 s.
XLA_MIN_STEPS = 8000


def kit() -> ModuleType:
    """The running backend's graphs and `placement`: `fused_jax` or `fused_graph`."""
    if is_jax():
        import mnist_cli.training.fused_jax as graphs
    else:
        import mnist_cli.training.fused_graph as graphs
    return graphs


@dataclass(frozen=True)
class Engine:
    """The engine of one run: its backend's graphs, why, and how it cuts epochs into calls."""

    graphs: ModuleType
    why: str
    fixed_call_steps: int | None = None
    """Steps per call when every process must cut its epochs the same way (multi-worker)."""
    xla: bool = False
    """TensorFlow: full batches through XLA (`fused_graph.xla_wins`)."""

    @classmethod
    def for_strategy(cls, strategy: Any, model: Any, steps: int = 0) -> Engine:
        """`steps`: the run's planned training steps (epochs x steps per epoch), fixed for a
        run and its resumes, so a resumed run keeps its engine."""
        if is_jax():
            return cls(kit(), "training.backend: jax (jitted steps)")
        graphs, replicas = kit(), int(strategy.num_replicas_in_sync)
        if is_multi_worker(strategy):
            return cls(graphs, f"tf.function steps, {replicas} replicas over the workers",
                       WORKER_CALL_STEPS)
        if steps >= XLA_MIN_STEPS and graphs.xla_wins(model, strategy):
            return cls(graphs, "XLA-compiled tf.function steps (an MLP on the CPU), 1 replica",
                       xla=True)
        return cls(graphs, f"tf.function steps, {replicas} replica(s)")

    def record(self, data: Dataset, strategy: Any, global_batch: int) -> dict[str, Any]:
        """metrics.json's `engine`: its name, why, how it held the images, and the rows of
        each epoch's last batch left out (TF, when fewer than the replicas: see
        `fused_graph.TrainGraph`)."""
        dtype = storage_dtype(data.train)
        dropped = 0 if is_jax() else self.graphs.dropped_rows(
            len(data.train), global_batch, int(strategy.num_replicas_in_sync))
        return {"name": "fused", "why": self.why,
                "images": dtype if dtype == "float32" else "uint8, scaled in the graph",
                "dropped_per_epoch": dropped}

    def fit(self, cfg: RunConfig, data: Dataset, model: Any, global_batch: int,
            callbacks: list[Any], initial_epoch: int = 0
            ) -> tuple[dict[str, list[float]], float]:
        """Train like `model.fit` (same history keys and callback hooks); returns history
        and seconds."""
        t, graphs = cfg.training, self.graphs
        dtype = storage_dtype(data.train)
        val = data.validation if data.validation is not None and len(data.validation) else None
        with graphs.placement(model):
            model.optimizer.build(model.trainable_variables)
            train = graphs.TrainGraph(model, data.train, global_batch, cfg.data.scale, dtype)
            if self.xla:
                train.use_xla()
            check = None if val is None else graphs.EvalGraph(model, val, global_batch,
                                                              cfg.data.scale, dtype)
        cbs = import_keras().callbacks.CallbackList(callbacks, model=model, epochs=t.epochs,
                                                    steps=train.steps, verbose=0)
        fixed = 1 if any(getattr(cb, "every_batch", False) for cb in callbacks) else None
        pacer = Pacer(fixed or self.fixed_call_steps)
        val_pacer = Pacer(self.fixed_call_steps)
        together = contextlib.nullcontext()
        if self.fixed_call_steps:  # multi-worker (TF): same start, same stop on every worker
            from mnist_cli.distribute.collectives import agreement

            check_same_start(model.distribute_strategy, initial_epoch)
            together = signals.agreed(agreement(model.distribute_strategy))

        def one_epoch(epoch: int) -> dict[str, float]:
            with graphs.placement(model):
                logs = train_epoch(train, epoch, t.seed or 0, pacer, cbs)
                logs.update(evaluate(check, val_pacer) if check else {})
            return logs

        with together:
            return drive_epochs(cbs, model, t.epochs, initial_epoch, one_epoch)

    @staticmethod
    def predict(model: Any, split: Split, batch_size: int, scale: bool = True,
                callbacks: list[Any] | None = None) -> np.ndarray:
        """Raw outputs for every example, in order, many batches per call, in this process;
        `callbacks` hear `model.predict`'s hooks (one batch end per call)."""
        return predict_fused(model, split, batch_size, scale, callbacks)


def check_same_start(strategy: Any, initial_epoch: int) -> None:
    """Every worker must resume from the same epoch (each restores its own backup)."""
    from mnist_cli.distribute.collectives import same_everywhere

    if not same_everywhere(strategy, initial_epoch):
        from mnist_cli.errors import UsageError

        raise UsageError(
            f"multi-worker resume: this worker's backup holds {initial_epoch} epoch(s) but "
            "another worker's holds a different count (a worker stopped between two backups, "
            "or one was started without --resume); start a new run on every worker")


class Pacer:
    """Steps for the next call: as many as fit in TARGET_CALL_S at the last measured rate."""

    def __init__(self, fixed: int | None = None) -> None:
        self.fixed, self.per_step, self.calls = fixed, None, 0

    def next(self, remaining: int) -> int:
        if self.fixed:
            return min(self.fixed, remaining)
        if self.per_step is None:
            return min(FIRST_CALL_STEPS, remaining)
        return max(1, min(remaining, int(TARGET_CALL_S / max(self.per_step, 1e-9))))

    def record(self, steps: int, seconds: float) -> None:
        self.calls += 1
        if self.calls > 1:  # the first call's time is mostly tracing
            self.per_step = seconds / max(steps, 1)


def paced_calls(graph: Any, pacer: Pacer, first: int = 0) -> Iterator[tuple[int, Any]]:
    """Run `graph` from step `first` to the end in timed calls; yields (last step, result)."""
    step = first
    while step < graph.steps:
        count = pacer.next(graph.steps - step)
        began = time.perf_counter()
        result = graph.call(step, count)  # NumPy: waits for the call
        pacer.record(count, time.perf_counter() - began)
        step += count
        yield step - 1, result


def train_epoch(graph: Any, epoch: int, seed: int, pacer: Pacer, cbs: Any) -> dict:
    """One epoch; raises Diverged at the first non-finite loss or gradient (that step not
    applied)."""
    graph.shuffle(seed, epoch)
    graph.reset()
    logs: dict[str, float] = {}
    for last, (bad, bad_loss, grads_ok) in paced_calls(graph, pacer):
        if int(bad) >= 0:
            raise diverged_at(float(bad_loss), bool(grads_ok), epoch + 1, int(bad) + 1)
        loss, acc = graph.means()
        logs = {"loss": loss, "accuracy": acc}
        cbs.on_train_batch_end(last, logs)
        if graph.model.stop_training:
            break
    return logs


def diverged_at(loss: float, grads_ok: bool, epoch: int, step: int) -> Diverged:
    """The loss when it is non-finite, else the gradients (with the finite loss)."""
    if not np.isfinite(loss) or grads_ok:
        return Diverged("loss", loss, epoch, step)
    return Diverged("gradients", loss, epoch, step, what_detail="became non-finite (loss")


def evaluate(graph: Any, pacer: Pacer) -> dict[str, float]:
    graph.reset()
    for _ in paced_calls(graph, pacer):
        signals.check()
    loss, acc = graph.means()
    return {"val_loss": loss, "val_accuracy": acc}


def predict_fused(model: Any, split: Split, batch_size: int, scale: bool = True,
                  callbacks: list[Any] | None = None) -> np.ndarray:
    """Raw outputs for every example, in order, many batches per call; `callbacks` hear
    `model.predict`'s hooks (one batch end per call, with the latest batch index)."""
    graphs = kit()
    with graphs.placement(model):
        graph = graphs.PredictGraph(model, split, batch_size, scale, storage_dtype(split))
        calls = paced_calls(graph, Pacer())
        if callbacks:
            calls = reported(calls, model, graph.steps, callbacks)
        parts = [out for _, out in calls]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def reported(calls: Iterator[tuple[int, Any]], model: Any, steps: int,
             callbacks: list[Any]) -> Iterator[tuple[int, Any]]:
    """`calls`, with `model.predict`'s callback hooks: begin, a batch end after each, end."""
    hooks = import_keras().callbacks.CallbackList(callbacks, model=model, verbose=0,
                                                  steps=steps)
    hooks.on_predict_begin()
    for last, out in calls:
        hooks.on_predict_batch_end(last)
        yield last, out
    hooks.on_predict_end()
