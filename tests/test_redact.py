"""`mnist_cli.redact`: a URL's password or token never reaches a file or the terminal. The
end-to-end check (a password-protected role on a real PostgreSQL, every file of the run
directories grepped) is tests/test_tune_postgres.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnist_cli.redact import redact, redact_command

SECRET = "S3cret"


@pytest.mark.parametrize(("text", "shown"), [
    (f"postgresql+psycopg://tuner:{SECRET}@db.example:5432/optuna",
     "postgresql+psycopg://tuner:***@db.example:5432/optuna"),
    (f"--storage=mysql+pymysql://u:{SECRET}@h/db", "--storage=mysql+pymysql://u:***@h/db"),
    (f"postgresql://u:{SECRET}@x@h/db", "postgresql://u:***@h/db"),  # an unescaped "@"
    (f"https://{SECRET}@github.com/o/r.git", "https://***@github.com/o/r.git"),
    (f"http://h:5000/x?a=1&access_token={SECRET}&b=2", "http://h:5000/x?a=1&access_token=***&b=2"),
    (f"cannot open postgresql://a:{SECRET}@h/d: refused; and http://b:{SECRET}@k/",
     "cannot open postgresql://a:***@h/d: refused; and http://b:***@k/"),
])
def test_the_secret_of_a_url_is_hidden(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize("text", [
    "sqlite:////tmp/run dir/study.db", "postgresql://tuner@h/db", "grpc://10.0.0.2:8470",
    "--set training.learning_rate=0.1", "runs/tune-mlp_relu-20260101-000000",
])
def test_text_without_a_secret_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_a_command_line_and_every_run_file_are_redacted(tmp_path: Path) -> None:
    from mnist_cli.runs.artifacts import write_json

    argv = ["mnist-cli", "tune", "--storage", f"postgresql+psycopg://u:{SECRET}@h/db"]
    assert redact_command(argv)[-1] == "postgresql+psycopg://u:***@h/db"
    path = write_json(tmp_path / "metrics.json", {"command": argv})  # the last line of defence
    assert SECRET not in path.read_text() and json.loads(path.read_text())["command"][:2] == \
        argv[:2]
