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


def runs_as(program: Path, as_user: dict) -> bool:
    """Whether `program --version` runs as that user (it may not reach the file)."""
    try:
        return subprocess.run([program, "--version"], capture_output=True, check=False,
                              **as_user).returncode == 0
    except PermissionError:
        return False


def copy_install(install: Path, site: Path) -> Path:
    """The binaries and the wheel's bundled libraries (pgserver.libs, which the binaries'
    rpath finds three levels up), laid out under `site` as in site-packages."""
    copied = Path(shutil.copytree(install, site / "pgserver" / install.name, symlinks=True))
    libs = install.parent.parent / "pgserver.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    return copied


def unprivileged(root: Path, install: Path) -> tuple[dict, Path]:
    """As root: `subprocess.run` keywords that run as `nobody`, who owns `root`, and the
    binaries where `nobody` can run them. Otherwise: no keywords, the binaries as they are."""
    if os.geteuid() != 0:
        return {}, install
    nobody = pwd.getpwnam("nobody")
    as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    root.chmod(0o755)
    if not runs_as(install / "bin" / "postgres", as_user):
        install = copy_install(install, root / "site")
    os.chown(root, nobody.pw_uid, nobody.pw_gid)
    return as_user, install


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    """Start a throwaway server (initdb, pg_ctl start), yield it, stop it, remove its files."""
    root = Path(tempfile.mkdtemp(prefix="mnist-cli-pg-"))
    data, password, port = root / "data", secrets.token_hex(12), free_port()
    started = False
    try:
        as_user, install = unprivileged(root, pginstall())

        def run(*args: str | Path) -> None:
            subprocess.run([str(a) for a in args], check=True, capture_output=True,
                           timeout=START_TIMEOUT_S, **as_user)

        pwfile = root / "pw"
        pwfile.write_text(password)
        if as_user:
            os.chown(pwfile, as_user["user"], as_user["group"])
        run(install / "bin" / "initdb", "-D", data, "-U", "postgres", "--pwfile", pwfile,
            "-E", "UTF8", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        options = (f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=100")
        started = True
        try:
            run(install / "bin" / "pg_ctl", "-D", data, "-l", root / "log", "-o", options,
                "-w", "-t", str(START_TIMEOUT_S), "start")
        except subprocess.CalledProcessError as exc:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
        yield Server("127.0.0.1", port, password)
    finally:
        if started:
            with contextlib.suppress(subprocess.SubprocessError):
                run(install / "bin" / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
