"""A real PostgreSQL server for the tests, on 127.0.0.1 and a free port, from the binaries
the `pgserver` wheel ships (the dev extra installs it: no apt, no download at test time).

PostgreSQL refuses to run as root. As root (CI, containers) the server runs as `nobody`
(Python's `subprocess.run(user=...)`, no new system user): its data directory is a fresh
temp folder that `nobody` owns, and the binaries are copied there when `nobody` cannot
reach the virtual environment's copy (a venv under /root). TCP connections need a password
(scram-sha-256): the URL's password is really checked.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 30


@dataclass
class Server:
    host: str
    port: int
    superuser_password: str

    def url(self, user: str, password: str, database: str) -> str:
        return f"postgresql+psycopg://{user}:{password}@{self.host}:{self.port}/{database}"

    def add_role(self, user: str, database: str) -> str:
        """A login role with a fresh random password owning a new database; the password."""
        import psycopg

        password = f"pw{secrets.token_hex(10)}"
        with psycopg.connect(host=self.host, port=self.port, user="postgres",
                             password=self.superuser_password, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
            conn.execute(f"CREATE DATABASE {database} OWNER {user}")
        return password


def pginstall() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("the tests need a PostgreSQL server: pip install -e '.[dev]' "
                           "(the dev extra installs pgserver, which ships one)")
    return Path(spec.origin).parent / "pginstall"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    """Start a throwaway server (initdb, pg_ctl start), yield it, stop it, remove its files."""
    root = Path(tempfile.mkdtemp(prefix="mnist-cli-pg-"))
    as_user: dict = {}
    install = pginstall()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        root.chmod(0o755)
        if subprocess.run([install / "bin" / "postgres", "--version"], capture_output=True,
                          check=False, **as_user).returncode != 0:
            install = Path(shutil.copytree(install, root / "pginstall", symlinks=True))
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
    bin_dir, data, password = install / "bin", root / "data", secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password)
    if as_user:
        os.chown(pwfile, as_user["user"], as_user["group"])

    def run(*args: str | Path) -> None:
        subprocess.run([str(a) for a in args], check=True, capture_output=True,
                       timeout=START_TIMEOUT_S, **as_user)

    port = free_port()
    run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--pwfile", pwfile, "-E", "UTF8",
        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
    options = (f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=50")
    try:
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-o", options, "-w", "-t",
            str(START_TIMEOUT_S), "start")
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    try:
        yield Server("127.0.0.1", port, password)
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
