"""The strategy and data-source registries are the one source of what the tool accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_cli.cli.options import strategy_config
from mnist_cli.data import describe_spec
from mnist_cli.data.registry import sources
from mnist_cli.data.spec import load_source
from mnist_cli.distribute import StrategyName, choices
from mnist_cli.distribute.registry import STRATEGIES, module
from mnist_cli.distribute.report import strategies
from mnist_cli.errors import DataError, UsageError


def test_cli_accepts_exactly_the_registered_strategies() -> None:
    assert [n.value for n in StrategyName] == list(choices()) == ["auto", *STRATEGIES]
    for name in choices():
        assert strategy_config(name).name == name
    for wrong in ("mirror", "Mirrored", "", "tpu2"):
        with pytest.raises(UsageError, match="choose one of auto, default, one-device"):
            strategy_config(wrong)


def test_env_report_has_a_row_for_every_registered_strategy() -> None:
    devs = {"CPU": ["/device:CPU:0"], "GPU": [], "TPU": []}
    rows = strategies(devs, None)
    assert set(STRATEGIES) <= set(rows)
    assert list(rows)[:len(STRATEGIES) + 1] == ["default", "one-device", "mirrored",
                                                "mirrored+nccl", "multi-worker", "tpu",
                                                "data-parallel"]
    assert "training.backend: jax" in rows["data-parallel"]["why"]  # the JAX backend's
    assert rows["mirrored+nccl"]["usable"] is False and rows["multi-worker"]["usable"] is False
    for name in STRATEGIES:  # every registered module can build and report itself
        assert callable(module(name).build) and callable(module(name).availability)


def test_make_strategy_dispatches_through_the_registry() -> None:
    from mnist_cli.distribute import StrategyConfig, StrategyDescription, make_strategy

    strategy, desc = make_strategy(StrategyConfig(name="default"))
    assert isinstance(desc, StrategyDescription)
    assert (desc.name, desc.why, desc.is_chief, desc.task) == ("default", "chosen by --strategy",
                                                               True, None)
    assert desc.replicas == int(strategy.num_replicas_in_sync) == 1
    assert desc.to_dict()["class"] == type(strategy).__name__


def test_unknown_data_message_lists_every_registered_source(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_source(str(tmp_path / "nothing-here"), None, None)
    for source in sources():
        assert source.hint in str(err.value)
    odd = tmp_path / "pixels.txt"
    odd.write_text("1,2,3\n")
    assert "unrecognised data file type" in describe_spec(str(odd))


def test_file_sources_recognised_by_registry(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("label,p0\n1,0\n")
    assert describe_spec(str(csv)) == f"{csv}: CSV file, {csv.stat().st_size:,} bytes"
    (tmp_path / "idx").mkdir()
    assert describe_spec(str(tmp_path / "idx")).endswith("directory of IDX files")
    assert [s.name for s in sources()] == ["auto", "digits", "tfds", "csv", "npz", "idx"]
