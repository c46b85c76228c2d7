"""Configuration: typed dataclasses, YAML loading and command-line overrides."""

from mnist_cli.config.resolve import Overrides, resolve_config
from mnist_cli.config.schema import (
    DataConfig,
    LayerSpec,
    ModelConfig,
    RunConfig,
    TrainingConfig,
)

__all__ = [
    "DataConfig",
    "LayerSpec",
    "ModelConfig",
    "Overrides",
    "RunConfig",
    "TrainingConfig",
    "resolve_config",
]
