"""What `make_strategy` built and why, typed: every reader (status line, chief-only run
directories, TensorBoard, metrics.json) reads fields, never dict keys with defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskRole:
    """This process's place in a multi-worker cluster."""

    type: str
    index: int


@dataclass(frozen=True)
class StrategyDescription:
    """The strategy as the user chose it; only multi-worker tasks other than the chief
    have `is_chief` False (they train but keep no run directory)."""

    name: str
    """The registry name: default, one-device, mirrored, multi-worker, tpu."""
    why: str
    """Why this one: 'chosen by --strategy' or what `auto` saw."""
    cls: str
    """The TensorFlow class name."""
    replicas: int
    is_chief: bool = True
    devices: list[str] = field(default_factory=list)
    cross_device_ops: str | None = None
    tpu: str | None = None
    workers: list[str] = field(default_factory=list)
    task: TaskRole | None = None

    @classmethod
    def of(cls, strategy: Any, name: str, why: str, **extra: Any) -> StrategyDescription:
        """Describe a built `tf.distribute.Strategy`."""
        return cls(name=name, why=why, cls=type(strategy).__name__,
                   replicas=int(strategy.num_replicas_in_sync), **extra)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, keyed as metrics.json's `strategy` is (`class`), without the fields this
        strategy does not use."""
        body = {("class" if k == "cls" else k): v for k, v in asdict(self).items()}
        return {k: v for k, v in body.items() if v not in (None, [])}
