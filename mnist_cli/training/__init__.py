"""Training: one pipeline (`run_training`) over one engine per backend."""

from mnist_cli.training.pipeline import TrainResult, run_training

__all__ = ["TrainResult", "run_training"]
