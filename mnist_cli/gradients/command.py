"""Glue between the resolved config, the data and the gradient checks (no printing here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_cli.backend import select_backend
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import UsageError
from mnist_cli.gradients.logistic import run_logistic_gradcheck
from mnist_cli.gradients.numeric import DEFAULT_DIRECTIONS, run_gradcheck
from mnist_cli.gradients.report import GradcheckResult
from mnist_cli.runs.artifacts import write_json
from mnist_cli.runs.rundir import GRADCHECK


def parse_params(text: str) -> int | None:
    """'all' -> None (every entry); a positive integer -> that many entries per variable."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"--params {text!r}: give a positive integer or 'all'")
    return value


def real_batch(cfg: RunConfig, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The first `batch` training examples of the config's data, scaled, plus the class count."""
    from mnist_cli.data import load_dataset
    from mnist_cli.data.pipeline import scale_images

    if batch < 1:
        raise UsageError(f"--batch {batch}: must be >= 1")
    data = load_dataset(cfg.data, seed)
    x = scale_images(data.train.x[:batch], cfg.data.scale)
    return x, np.asarray(data.train.y[:batch]), data.description.num_classes


def gradcheck(cfg: RunConfig, *, model: str, batch: int, params: int | None, epsilon: float,
              seed: int, digit: int | None, run_dir: Path | None,
              directions: int = DEFAULT_DIRECTIONS) -> GradcheckResult:
    """Check the config's model (or the seed's logistic regression) on a real batch, in
    float64 whatever dtype policy the config or Keras's global state asks for, on the backend
    `resolve_config` selected (the config's `training.backend`, or `--backend`)."""
    if directions < 0:
        raise UsageError(f"--directions {directions}: must be >= 0 (16 is the default)")
    if epsilon <= 0:
        raise UsageError(f"--epsilon {epsilon}: must be > 0 (1e-5 is a good default)")
    if digit is not None and model != "logistic":
        raise UsageError("--digit only applies with --model logistic")
    select_backend(cfg.training.backend)  # as resolve_config did: before Keras loads
    x, y, num_classes = real_batch(cfg, batch, seed)
    if model == "logistic":
        if digit is not None and not 0 <= digit < num_classes:
            raise UsageError(f"--digit {digit}: must be a class label 0..{num_classes - 1}")
        result = run_logistic_gradcheck(x, y, digit=digit, epsilon=epsilon, seed=seed,
                                        params=params, directions=directions)
    else:
        result = run_gradcheck(cfg.model, x, y, params=params, epsilon=epsilon, seed=seed,
                               num_classes=num_classes, name=cfg.name, directions=directions)
    if run_dir is not None:
        write_json(Path(run_dir) / GRADCHECK, result.to_dict())
    return result
