"""Experiment tracking: every run's TensorBoard event files (`tensorboard`, written through
`events` without TensorFlow) and MLflow (`--mlflow URI`, `mnist-cli log`).

For MLflow, one concept per module (credentials masked by `mnist_cli.redact`): `client` (the
optional dependency, the URI, the reachability check), `record` (RUN_DIR/mlflow.json: which
MLflow run a directory is), `params` (config -> dotted params), `upload` (one run directory
-> one MLflow run, idempotently), `live` (per-epoch metrics while `train` runs), `nested`
(compare and tune: a parent with children) and `session` (what the API calls).
MLflow itself is imported lazily, only when a command asks for tracking.
"""
