"""What pip installs: the wheel (built from the sdist, as pip would) carries every module and
exactly the configs in configs/, installs outside the clone and runs from anywhere; the
version is set once, in pyproject.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

import mnist_cli
from mnist_cli.config.load import shipped_configs
from tests.helpers import ROOT


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist + wheel built from a copy of the tracked files (nothing stale can leak in)."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    for name in tracked_files():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            target.write_bytes((ROOT / name).read_bytes())
    res = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                          str(work / "dist"), str(src)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert len(list((work / "dist").glob("*.tar.gz"))) == 1
    (found,) = (work / "dist").glob("*.whl")
    return found


def test_configs_dir_is_the_package_copy() -> None:
    """One source of truth: the top-level configs/ is a link to mnist_cli/configs."""
    assert (ROOT / "configs").is_symlink()
    assert (ROOT / "configs").resolve() == (ROOT / "mnist_cli" / "configs").resolve()
    assert set(shipped_configs()) == {p.stem for p in (ROOT / "configs").glob("*.yaml")}


@pytest.mark.slow
def test_wheel_holds_every_module_and_the_configs_of_configs_dir(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {f for f in tracked_files() if f.startswith("mnist_cli/") and f.endswith(".py")}
    assert modules and not sorted(modules - names)
    # the configs and their default `tune` search spaces (configs/spaces/)
    yamls = sorted([*(ROOT / "configs").glob("*.yaml"), *(ROOT / "configs").glob("spaces/*.yaml")])
    inside = [p.relative_to(ROOT / "configs").as_posix() for p in yamls]
    assert any(name.startswith("spaces/") for name in inside)
    assert {n for n in names if n.startswith("mnist_cli/configs/")} == {
        f"mnist_cli/configs/{name}" for name in inside}
    with zipfile.ZipFile(wheel) as z:
        for p, name in zip(yamls, inside, strict=True):
            assert z.read(f"mnist_cli/configs/{name}") == p.read_bytes(), name


@pytest.mark.slow
def test_installed_wheel_runs_outside_the_clone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def cli(*args: str) -> str:
        return subprocess.run([str(site / "bin" / "mnist-cli"), *args], env=env, cwd=elsewhere,
                              capture_output=True, text=True, check=True).stdout

    where = subprocess.run([sys.executable, "-c", "import mnist_cli; print(mnist_cli.__file__)"],
                           env=env, cwd=elsewhere, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site))
    assert cli("--version").strip() == f"mnist-cli {mnist_cli.__version__}"
    listed = cli("config", "list")
    assert all(name in listed for name in ("mlp_relu", "mlp_softmax", "cnn"))
    shown = cli("config", "show", "-c", "cnn", "--json")
    assert '"Conv2D"' in shown


def test_version_is_set_once_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    (declared,) = re.findall(r'(?m)^version = "([^"]+)"', text)
    assert mnist_cli.__version__ == version("mnist-cli") == declared
    assert declared not in (ROOT / "mnist_cli" / "__init__.py").read_text()  # read, not kept
