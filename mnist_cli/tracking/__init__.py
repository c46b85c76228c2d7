"""Experiment tracking on MLflow (`--mlflow URI`, `mnist-cli log`).

One concept per module: `secrets` (credentials never leave the process), `client` (the
optional dependency, the URI, the reachability check), `record` (RUN_DIR/mlflow.json: which
MLflow run a directory is), `params` (config -> dotted params), `upload` (one run directory
-> one MLflow run, idempotently), `live` (per-epoch metrics while `train` runs), `nested`
(compare and tune: a parent with children) and `session` (what the API calls).
MLflow itself is imported lazily, only when a command asks for tracking.
"""
