"""Hyperparameter search on Optuna (`mnist-cli tune`, `mnist_cli.tune`).

Trials are ranked on validation data only; the best config is trained again and tested
once. Studies live in a database (SQLite in the run directory by default, or any SQLAlchemy
URL), so a study can be continued and shared by worker processes or machines. Optuna is an
optional extra (`pip install 'mnist-cli[tune]'`); nothing here imports it (or TensorFlow)
until a session starts.
"""

from __future__ import annotations

__all__: list[str] = []  # the entry points: mnist_cli.api.tune and tuning.session.run_tune
