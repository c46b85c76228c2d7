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
    cls = type(strategy).__name__
    name, why = ((desc.name, desc.why) if desc else
                 (default_name(strategy), "no strategy flag (library call)"))
    replicas = int(strategy.num_replicas_in_sync)
    return {"name": name, "why": why, "class": cls, "replicas": replicas,
            "devices": replica_devices(strategy),
            "batch_size_per_replica": batch_per_replica,
            "global_batch_size": batch_per_replica * replicas}


def replica_devices(strategy: Any) -> list[str]:
    """The devices the replicas ran on (`CPU:0`, `GPU:1`, a JAX device): where the run
    really trained, for a GPU user to check; [] for TensorFlow's default strategy, which
    places ops where TensorFlow does (a visible GPU first)."""
    extended = getattr(strategy, "extended", None)
    if extended is not None:
        try:
            return [str(d).rsplit("device:", 1)[-1] for d in extended.worker_devices]
        except RuntimeError:  # the default strategy has no device list
            return []
    devices = getattr(strategy, "devices", None) or [getattr(strategy, "device", None)]
    if devices == [None]:
        from mnist_cli.backend import import_jax

        devices = import_jax().devices()[:1]
    return [str(d) for d in devices]


def default_name(strategy: Any) -> str:
    """`default` for TensorFlow's default strategy (what `get_strategy()` returns outside
    any scope) and JAX's one device, else the class name."""
    from mnist_cli.backend import is_jax

    if is_jax():
        return "default" if int(strategy.num_replicas_in_sync) == 1 else type(strategy).__name__
    from mnist_cli.backend import import_tf

    return "default" if strategy is import_tf().distribute.get_strategy() \
        else type(strategy).__name__


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
