"""Training: seeded, strategy-aware fit that writes a complete run directory."""

from mnist_cli.training.fit import TrainResult, run_training

__all__ = ["TrainResult", "run_training"]
