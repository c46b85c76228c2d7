"""The tracking server a command logs to: the optional dependency, which URI (`--mlflow`,
`mlflow.uri`, `env`), and the check that it answers before anything trains (exit 2).

MLflow's HTTP client retries 7 times with backoff and waits 120 s per request by default:
minutes of stall for a server that is down. The start check asks once with a short timeout;
logging during a run retries a little (a blip), then gives up and leaves the rest to the
end-of-run upload or `mnist-cli log`. A user's own MLFLOW_HTTP_REQUEST_* settings win.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.redact import redact

DEFAULT_EXPERIMENT = "mnist-cli"
FROM_ENV = "env"
"""`--mlflow env`: the URI in MLFLOW_TRACKING_URI."""
CHECK_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
LOG_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "15", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
              "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
              # set_terminated prints the run's URL on stdout, which is --json's
              "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}
INSTALL = "pip install 'mnist-cli[mlflow]'"


def require_mlflow() -> Any:
    """The `mlflow` module (mlflow-skinny is enough), or exit 2 naming the extra."""
    try:
        import mlflow
        from mlflow.tracking import MlflowClient  # noqa: F401  (skinny has it; check now)
    except ImportError as exc:
        raise UsageError(f"--mlflow needs the MLflow client, which is not installed "
                         f"({exc.name or exc}); {INSTALL}") from None
    return mlflow


def resolve_uri(flag: str | None, configured: str | None = None) -> str | None:
    """The tracking URI a command uses: the flag, else the config's `mlflow.uri`; `env`
    means MLFLOW_TRACKING_URI (refused when unset). None: no tracking."""
    uri = flag if flag is not None else configured
    if uri is None or not str(uri).strip():
        return None
    uri = str(uri).strip()
    if uri == FROM_ENV:
        uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        if not uri:
            raise UsageError("--mlflow env: MLFLOW_TRACKING_URI is not set; set it to the "
                             "tracking server's URI or pass --mlflow URI")
    return uri


@contextlib.contextmanager
def limits(values: dict[str, str]) -> Iterator[None]:
    """MLflow settings (HTTP timeouts/retries, read per request) for a block, unless the
    user set them; restored afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if saved[key] is None:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


def reason(exc: BaseException) -> str:
    """One short, credential-free line about an MLflow/HTTP failure."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 300:
        text = text[:300] + "..."
    return redact(text)


def unreachable(exc: BaseException) -> bool:
    """Whether a failure means the server is gone (not that it refused one value)."""
    text = str(exc)
    return any(s in text for s in ("Max retries exceeded", "Connection refused",
                                   "ConnectionError", "timed out", "Read timed out"))


@dataclass
class Tracker:
    """A reachable tracking server and the experiment runs go to."""

    uri: str
    """The URI as given (may hold credentials: used to connect, never written)."""
    experiment: str
    experiment_id: str
    client: Any
    problems: list[str] = field(default_factory=list)
    """What could not be logged (filled by uploads; empty when everything went)."""
    down: bool = False
    """The server stopped answering: later steps are skipped and named in `problems`."""

    @property
    def shown(self) -> str:
        """The URI safe to print and record."""
        return redact(self.uri)


def connect(uri: str, experiment: str = DEFAULT_EXPERIMENT, flag: str = "--mlflow") -> Tracker:
    """A Tracker for `uri`, its experiment created if missing; exit 2 when the server does
    not answer (checked quickly, before any training)."""
    require_mlflow()
    from mlflow.tracking import MlflowClient

    if not experiment or not experiment.strip():
        raise UsageError("--mlflow-experiment: give a non-empty experiment name")
    client = MlflowClient(tracking_uri=uri)
    try:
        with limits(CHECK_LIMITS):
            found = client.get_experiment_by_name(experiment)
            if found is None:
                experiment_id = client.create_experiment(experiment)
            elif found.lifecycle_stage == "deleted":
                raise UsageError(f"--mlflow-experiment {experiment!r} is deleted on "
                                 f"{redact(uri)}; restore it in the MLflow UI or choose "
                                 "another name")
            else:
                experiment_id = found.experiment_id
    except UsageError:
        raise
    except Exception as exc:  # connection refused, DNS, HTTP 4xx/5xx, bad scheme
        raise UsageError(f"{flag} {redact(uri)}: the MLflow tracking server cannot be "
                         f"reached ({reason(exc)}); start it, fix the URI, or leave out "
                         f"{flag}") from None
    return Tracker(uri, experiment, str(experiment_id), client)
