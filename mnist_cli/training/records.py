"""What a finished run records about how it ran: the strategy, and its test-split scores
computed through the engine's one predict path."""

from __future__ import annotations

from typing import Any

from mnist_cli.config.schema import RunConfig
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyDescription
from mnist_cli.runs.timings import phase


def strategy_record(strategy: Any, desc: StrategyDescription | None,
                    batch_per_replica: int) -> dict[str, Any]:
    """metrics.json's `strategy`: the user-facing name and why, class, replicas, batches."""
    from mnist_cli.backend import is_jax

    cls, replicas = type(strategy).__name__, int(strategy.num_replicas_in_sync)
    if desc:
        name, why = desc.name, desc.why
    else:  # `default` for TensorFlow's default strategy and JAX's one device
        one = replicas == 1 if is_jax() else is_tf_default(strategy)
        name, why = "default" if one else cls, "no strategy flag (library call)"
    return {"name": name, "why": why, "class": cls, "replicas": replicas,
            "devices": replica_devices(strategy),
            "batch_size_per_replica": batch_per_replica,
            "global_batch_size": batch_per_replica * replicas}


def replica_devices(strategy: Any) -> list[str]:
    """The devices the replicas ran on (`CPU:0`, `GPU:1`, a JAX device): where the run
    really trained, for a GPU user to check; [] for TensorFlow's default strategy, which
    places ops where TensorFlow does (a visible GPU first)."""
    from mnist_cli.backend import import_jax, is_jax

    if is_jax():
        devices = getattr(strategy, "devices", None) or [getattr(strategy, "device", None)]
        return [str(d) for d in (import_jax().devices()[:1] if devices == [None] else devices)]
    if is_tf_default(strategy):
        return []
    return [str(d).rsplit("device:", 1)[-1] for d in strategy.extended.worker_devices]


def is_tf_default(strategy: Any) -> bool:
    """TensorFlow's default strategy: what `get_strategy()` returns outside any scope."""
    from mnist_cli.backend import import_tf

    return strategy is import_tf().distribute.get_strategy()


def score_run(cfg: RunConfig, data: Dataset, model: Any, engine: Any, global_batch: int,
              score_test: bool) -> tuple[Any, dict[str, Any]]:
    """(test outputs, metrics): the engine's predictions on the test split and their scores
    (loss, accuracy, ...); none unless `score_test` (tune's trials never see the test)."""
    from mnist_cli.scoring.metrics import score

    if not score_test:
        return None, {}
    with phase("evaluate"):
        outputs = engine.predict(model, data.test, global_batch, cfg.data.scale)
        return outputs, score(outputs, data.test.y, cfg.model.output)
