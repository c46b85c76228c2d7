"""A custom distributed training loop for strategies where Keras 3 `fit` fails.

Keras 3 `fit` breaks under MultiWorkerMirroredStrategy (keras#20585), so this loop runs
`strategy.run` inside a `tf.function` and all-reduces loss sums and correct counts. Every
step sees exactly one global batch: each epoch's order comes from a seeded NumPy permutation
(identical on every worker), the batch is padded to full size with zero weights and sliced
per replica, and the loss is divided by the batch's true size, so gradients equal a
single-process run on the same batch and every worker ends with identical weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_cli.backend import import_keras, import_tf
from mnist_cli.config.schema import RunConfig
from mnist_cli.data.pipeline import scale_images
from mnist_cli.data.types import Dataset, Split
from mnist_cli.modeling.precision import loss_scaling
from mnist_cli.training.epochs import drive_epochs
from mnist_cli.training.fused import diverged_at
from mnist_cli.training.fused_graph import all_finite


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The example order of one epoch, the same in every process."""
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


def replica_dataset(split: Split, order: np.ndarray, global_batch: int, ctx: Any,
                    scale: bool) -> Any:
    """This worker's replicas' slices of each padded global batch: (x, y, weight, n)."""
    tf = import_tf()
    replicas = ctx.num_replicas_in_sync
    local = replicas // ctx.num_input_pipelines
    first = ctx.input_pipeline_id * local
    per = global_batch // replicas
    x_all = tf.constant(scale_images(split.x, scale))
    y_all = tf.constant(split.y.astype(np.int32))

    def to_slices(idx: Any) -> tuple[Any, ...]:
        n = tf.shape(idx)[0]
        pad = global_batch - n
        idx = tf.pad(idx, [[0, pad]])
        w = tf.concat([tf.ones([n]), tf.zeros([pad])], 0)
        parts = (tf.gather(x_all, idx), tf.gather(y_all, idx), w)
        parts = tuple(tf.reshape(p, [replicas, per, *p.shape[1:]])[first:first + local]
                      for p in parts)
        return (*parts, tf.fill([local], tf.cast(n, tf.float32)))

    ds = tf.data.Dataset.from_tensor_slices(order).batch(global_batch).map(to_slices)
    return ds.unbatch().prefetch(tf.data.AUTOTUNE)


def distributed(strategy: Any, split: Split, order: np.ndarray, global_batch: int,
                scale: bool) -> Any:
    tf = import_tf()
    opts = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(
        lambda ctx: replica_dataset(split, order, global_batch, ctx, scale), opts)


def replica_fns(model: Any, from_logits: bool) -> tuple[Any, Any, Any]:
    """(gradients, apply, evaluate) for one replica. `gradients` returns (grads, loss sum,
    correct, batch loss, loss non-finite, gradients non-finite); the flags are 1.0/0.0 (so
    a SUM over replicas counts the bad ones: tf.distribute reduces only by SUM or MEAN)."""
    tf, keras = import_tf(), import_keras()
    loss_obj = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits,
                                                          reduction=None)
    variables = model.trainable_variables
    # mixed_float16: the LossScaleOptimizer skips non-finite (scaled) gradients itself
    check_grads = not loss_scaling(model.optimizer)

    def forward(batch: Any, training: bool) -> tuple[Any, Any, Any]:
        x, y, w, n = batch
        out = model(x, training=training)
        per = loss_obj(y, out) * w
        hits = tf.cast(tf.equal(tf.argmax(out, -1, output_type=tf.int32), y), tf.float32)
        return per, tf.reduce_sum(hits * w), n

    def gradients(batch: Any) -> tuple[Any, ...]:
        with tf.GradientTape() as tape:
            per, correct, n = forward(batch, True)
            loss = tf.reduce_sum(per) / n
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = model.optimizer.scale_loss(loss)  # mixed_float16: LossScaleOptimizer
        grads = tape.gradient(scaled, variables)
        grads_ok = all_finite(grads) if check_grads else tf.constant(True)
        bad = [tf.cast(tf.logical_not(ok), tf.float32)
               for ok in (tf.math.is_finite(loss), grads_ok)]
        return (grads, tf.reduce_sum(per), correct, tf.cast(loss, tf.float32), *bad)

    def apply(grads: Any) -> None:
        model.optimizer.apply_gradients(zip(grads, variables, strict=True))

    def evaluate(batch: Any) -> tuple[Any, Any]:
        per, correct, _ = forward(batch, False)
        return tf.reduce_sum(per), correct

    return gradients, apply, evaluate


def make_steps(model: Any, strategy: Any, from_logits: bool) -> tuple[Any, Any]:
    """(train_step, eval_step): each returns all-reduced (loss sum, correct count); the train
    step also returns (batch loss, loss finite, gradients finite) and applies its update
    only when the loss and gradients of every replica are finite."""
    tf = import_tf()
    gradients, apply, evaluate = replica_fns(model, from_logits)

    def total(value: Any) -> Any:
        return strategy.reduce("SUM", value, axis=None)

    @tf.function
    def train_step(batch: Any) -> tuple[Any, ...]:
        """The flags are reduced over every replica of every worker before the branch, so
        all take the same one (the update's all-reduce runs everywhere or nowhere); it is
        taken in cross-replica context, where `apply_gradients` may merge_call."""
        grads, loss_sum, correct, loss, loss_bad, grads_bad = strategy.run(gradients, (batch,))
        loss_ok, grads_ok = total(loss_bad) == 0, total(grads_bad) == 0

        def update() -> None:
            strategy.run(apply, (grads,))

        tf.cond(tf.logical_and(loss_ok, grads_ok), update, lambda: None)
        return total(loss_sum), total(correct), total(loss), loss_ok, grads_ok

    @tf.function
    def eval_step(batch: Any) -> tuple[Any, Any]:
        loss, correct = strategy.run(evaluate, (batch,))
        return total(loss), total(correct)

    return train_step, eval_step


def run_epoch(step: Any, dist_ds: Any, n: int, callbacks: Any = None,
              epoch: int = 0) -> tuple[float, float]:
    """Mean loss and accuracy over one pass (sums are exact, padding has weight 0); a train
    step whose loss or gradients are non-finite raises Diverged naming it (not applied)."""
    loss_sum = correct = 0.0
    for i, batch in enumerate(dist_ds):
        loss, hits, *check = step(batch)
        if check and not (bool(check[1]) and bool(check[2])):
            raise diverged_at(float(check[0]), bool(check[2]), epoch + 1, i + 1)
        loss_sum, correct = loss_sum + float(loss), correct + float(hits)
        if callbacks is not None:
            callbacks.on_train_batch_end(i, {"loss": loss_sum / n, "accuracy": correct / n})
    return loss_sum / max(n, 1), correct / max(n, 1)


def fit_custom(cfg: RunConfig, data: Dataset, model: Any, strategy: Any, global_batch: int,
               callbacks: list[Any], initial_epoch: int = 0
               ) -> tuple[dict[str, list[float]], float]:
    """Train like `model.fit` (same history keys, Keras callbacks honoured); returns
    history and seconds."""
    keras, t = import_keras(), cfg.training
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
    train_step, eval_step = make_steps(model, strategy, cfg.model.output == "logits")
    val = data.validation if data.validation is not None and len(data.validation) else None
    steps = -(-len(data.train) // global_batch)
    cbs = keras.callbacks.CallbackList(callbacks, model=model, epochs=t.epochs, steps=steps,
                                       verbose=0)

    def one_epoch(epoch: int) -> dict[str, float]:
        order = epoch_order(len(data.train), t.seed or 0, epoch)
        ds = distributed(strategy, data.train, order, global_batch, cfg.data.scale)
        loss, acc = run_epoch(train_step, ds, len(order), cbs, epoch)
        logs = {"loss": loss, "accuracy": acc}
        if val is not None:
            vds = distributed(strategy, val, np.arange(len(val)), global_batch, cfg.data.scale)
            logs["val_loss"], logs["val_accuracy"] = run_epoch(eval_step, vds, len(val))
        return logs

    return drive_epochs(cbs, model, t.epochs, initial_epoch, one_epoch)


def predict_local(model: Any, split: Split, batch_size: int, scale: bool = True) -> np.ndarray:
    """Outputs for every example, computed in this process alone (identical on each worker);
    Keras `predict` shares `fit`'s multi-worker failure."""
    x = scale_images(split.x, scale)
    chunks = [np.asarray(model(x[i:i + batch_size], training=False))
              for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
