"""mnist_cli.compat: each patched library internal, removed or changed, is reported naming
the internal and the installed version: CompatError under tests (MNIST_CLI_STRICT_COMPAT,
set by conftest.py), one warning line for users, who go on without the patch."""

from __future__ import annotations

import atexit
import os
import sys
import types
from pathlib import Path

import pytest

import mnist_cli.compat as compat
from mnist_cli.compat import report
from mnist_cli.compat.report import CompatError


@pytest.fixture
def fake_keras(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in `keras.src.utils.module_utils` / `keras.src.backend.common.dtypes` (the
    import system returns a module found in sys.modules without importing its parents)."""
    utils = types.ModuleType("keras.src.utils.module_utils")
    monkeypatch.setitem(sys.modules, "keras", sys.modules.get("keras", types.ModuleType("k")))
    monkeypatch.setitem(sys.modules, utils.__name__, utils)
    monkeypatch.setitem(sys.modules, "keras.src.backend.common.dtypes", utils)
    return utils


def test_strict_mode_is_on_under_tests() -> None:
    assert compat.strict()


def test_keras_lazy_tensorflow_missing_is_loud(fake_keras: types.ModuleType) -> None:
    with (
        pytest.raises(CompatError, match=r"keras .*: keras\.src\.utils\.module_utils\."
                                         r"tensorflow\._available is missing.*checked "
                                         r"against keras 3\.15\.1"),
        compat.tensorflow_unavailable(),
    ):
        pass


def test_keras_lazy_tensorflow_patched_and_restored(fake_keras: types.ModuleType,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    class LazyModule:
        def __init__(self) -> None:
            self._available: bool | None = None

        @property
        def available(self) -> bool | None:
            return self._available

    fake_keras.tensorflow = LazyModule()  # type: ignore[attr-defined]
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    with compat.tensorflow_unavailable():
        assert fake_keras.tensorflow.available is False  # type: ignore[attr-defined]
    assert fake_keras.tensorflow.available is None  # type: ignore[attr-defined]
    with (
        pytest.raises(CompatError, match="no longer stops Keras from importing TensorFlow"),
        compat.tensorflow_unavailable(),
    ):
        monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))


def test_keras_float64_promotion_table_missing_is_loud(fake_keras: types.ModuleType) -> None:
    with (
        pytest.raises(CompatError, match=r"BIT64_TO_BIT32_DTYPE is missing"),
        compat.float64_promoted(),
    ):
        pass
    fake_keras.BIT64_TO_BIT32_DTYPE = {"float64": "bfloat16"}  # type: ignore[attr-defined]
    with (
        pytest.raises(CompatError, match=r"no longer maps float64 to float32"),
        compat.float64_promoted(),
    ):
        pass
    fake_keras.BIT64_TO_BIT32_DTYPE = {"float64": "float32"}  # type: ignore[attr-defined]
    with compat.float64_promoted():
        assert fake_keras.BIT64_TO_BIT32_DTYPE["float64"] == "float64"  # type: ignore[attr-defined]
    assert fake_keras.BIT64_TO_BIT32_DTYPE["float64"] == "float32"  # type: ignore[attr-defined]


def test_jax_config_values_missing_is_loud() -> None:
    name = "jax_disable_most_optimizations"
    assert compat.config_value(types.SimpleNamespace(values={name: False}), name) is False
    with pytest.raises(CompatError, match=r"jax.*jax\.config\.values\['jax_disable_most_"):
        compat.config_value(types.SimpleNamespace(), name)


def test_import_hiding_of_a_module_no_longer_optional_is_loud(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compat_needy.py").write_text("import compat_optional\n")
    (tmp_path / "compat_tolerant.py").write_text(
        "try:\n    import compat_optional\nexcept ImportError:\n    compat_optional = None\n")
    (tmp_path / "compat_optional.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("compat_needy", "compat_tolerant", "compat_optional"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    tolerant = compat.import_hiding("compat_tolerant", ("compat_optional",), "python")
    assert tolerant.compat_optional is None and "compat_optional" not in sys.modules
    with pytest.raises(CompatError, match="compat_needy's optional import of compat_optional"):
        compat.import_hiding("compat_needy", ("compat_optional",), "python")
    assert "compat_optional" not in sys.modules  # unhidden after the failure too


def test_bare_main_module_that_spawn_ignores_is_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing.spawn as spawn

    main = sys.modules["__main__"]
    with compat.bare_main_module():
        assert sys.modules["__main__"] is not main
    monkeypatch.setattr(spawn, "get_preparation_data",
                        lambda name: {"init_main_from_path": "/user/script.py"})
    with (
        pytest.raises(CompatError, match="get_preparation_data no longer reads"),
        compat.bare_main_module(),
    ):
        pass
    assert sys.modules["__main__"] is main


def test_exit_handlers_missing_is_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(atexit, "_run_exitfuncs")
    with pytest.raises(CompatError, match=r"Python .*: atexit\._run_exitfuncs is missing"):
        compat.run_exit_handlers()


def test_hard_exit_missing_is_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "_exit")
    with pytest.raises(CompatError, match=r"os\._exit is missing"):
        compat.exit_now(0)


def test_process_pool_workers_missing_is_loud() -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1) as pool:
        assert compat.pool_processes(pool) == []  # none started yet: the dict is empty
        del pool._processes
        with pytest.raises(CompatError, match=r"ProcessPoolExecutor\._processes is missing"):
            compat.pool_processes(pool)
        pool._processes = {}  # shutdown reads it


def test_users_get_one_warning_line_and_the_run_goes_on(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(report.STRICT_ENV)
    monkeypatch.setattr(report, "_warned", set())
    monkeypatch.delattr(atexit, "_run_exitfuncs")
    assert compat.run_exit_handlers() is False
    assert compat.run_exit_handlers() is False
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnist-cli: warning: Python ")
    assert "atexit._run_exitfuncs is missing" in lines[0]
    assert "interpreter's normal (slower) exit" in lines[0]


def test_this_python_spawns_without_the_callers_main() -> None:
    """spawn's `__main__` as installed. The Keras and JAX internals need those imported
    (~5-10 s here): every JAX run, save and gradcheck of the suite checks them, in strict
    mode."""
    with compat.bare_main_module():
        pass
