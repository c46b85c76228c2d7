"""The strategy table and the data-source table are the one source of what the tool accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_cli.api import strategy_config
from mnist_cli.data import describe_spec
from mnist_cli.data.spec import FILES, KEYWORDS, load_source
from mnist_cli.distribute import STRATEGIES, StrategyName, choices
from mnist_cli.distribute.report import strategy_rows
from mnist_cli.errors import DataError, UsageError


def test_cli_accepts_exactly_the_strategies_in_the_table() -> None:
    assert [n.value for n in StrategyName] == list(choices()) == ["auto", *STRATEGIES]
    for name in choices():
        assert strategy_config(name).name == name
    for wrong in ("mirror", "Mirrored", "", "tpu2"):
        with pytest.raises(UsageError, match="choose one of auto, default, one-device"):
            strategy_config(wrong)


def test_env_report_has_a_row_for_every_strategy_in_the_table() -> None:
    devs = {"CPU": ["/device:CPU:0"], "GPU": [], "TPU": []}
    rows = strategy_rows(devs, None)
    assert set(STRATEGIES) <= set(rows)
    assert list(rows)[:len(STRATEGIES) + 1] == ["default", "one-device", "mirrored",
                                                "mirrored+nccl", "multi-worker", "tpu",
                                                "data-parallel"]
    assert "training.backend: jax" in rows["data-parallel"]["why"]  # the JAX backend's
    assert rows["mirrored+nccl"]["usable"] is False and rows["multi-worker"]["usable"] is False


# What each line of the table does on a CPU-only machine with no TF_CONFIG and no TPU
# configured: the TensorFlow class it builds, or the start of the UsageError it refuses with.
ON_CPU = {
    "default": ("_DefaultDistributionStrategy", None),
    "one-device": ("OneDeviceStrategy", None),
    "mirrored": ("MirroredStrategy", None),
    "multi-worker": (None, "multi-worker needs --worker HOST:PORT"),
    "tpu": (None, "no TPU configured"),
    "data-parallel": (None, "--strategy data-parallel is the JAX backend's data parallelism: "
                            "use training.backend: jax"),
}


@pytest.mark.parametrize("name", sorted(ON_CPU))
def test_each_strategy_builds_or_refuses_as_env_reports(name: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line's build gives the strategy it names, described truthfully, exactly where its
    `env` row says it is usable; elsewhere it refuses with a UsageError saying what it needs.
    (data-parallel's row is about the JAX backend, which TensorFlow's build refuses to be.)"""
    from mnist_cli.distribute import StrategyConfig, make_strategy
    from mnist_cli.distribute.report import devices

    for var in ("TF_CONFIG", "COLAB_TPU_ADDR", "TPU_NAME"):
        monkeypatch.delenv(var, raising=False)
    assert set(ON_CPU) == set(STRATEGIES)  # a new line needs its expectation here
    cls, refusal = ON_CPU[name]
    row = strategy_rows(devices(), None)[name]
    if refusal is not None:
        with pytest.raises(UsageError) as err:
            make_strategy(StrategyConfig(name=name, connect_timeout=1.0))
        assert str(err.value).startswith(refusal), str(err.value)
        assert row["usable"] is (name == "data-parallel"), row
        return
    strategy, desc = make_strategy(StrategyConfig(name=name))
    assert type(strategy).__name__ == desc.cls == cls and row["usable"] is True
    assert (desc.name, desc.why) == (name, "chosen by --strategy")
    assert desc.replicas == int(strategy.num_replicas_in_sync) >= 1


def test_make_strategy_dispatches_through_the_table() -> None:
    from mnist_cli.distribute import StrategyConfig, StrategyDescription, make_strategy

    strategy, desc = make_strategy(StrategyConfig(name="default"))
    assert isinstance(desc, StrategyDescription)
    assert (desc.name, desc.why, desc.is_chief, desc.task) == ("default", "chosen by --strategy",
                                                               True, None)
    assert desc.replicas == int(strategy.num_replicas_in_sync) == 1
    assert desc.to_dict()["class"] == type(strategy).__name__


def test_one_line_in_the_strategy_table_is_a_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new line is built by make_strategy and reported by `env`, with nothing else to edit
    (only the CLI's StrategyName enum is fixed when the module is imported)."""
    from mnist_cli.distribute import StrategyConfig, StrategyDescription, make_strategy
    from mnist_cli.distribute.strategies import Strategy

    built = object()
    line = Strategy(lambda cfg, why: (built, StrategyDescription("extra", why, "X", 1)),
                    lambda devs, tf_config: {"extra": {"usable": False, "why": "a test"}})
    monkeypatch.setitem(STRATEGIES, "extra", line)
    strategy, desc = make_strategy(StrategyConfig(name="extra"))
    assert strategy is built and (desc.name, desc.why) == ("extra", "chosen by --strategy")
    devs = {"CPU": ["/device:CPU:0"], "GPU": [], "TPU": []}
    assert list(strategy_rows(devs, None))[-1] == "extra"
    assert "extra" in choices()


def test_one_line_in_the_data_table_is_a_source(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A new file kind is dispatched to, described and named in the 'no such data' error."""
    import mnist_cli.data.spec as spec
    from mnist_cli.data.raw import RawData

    raw = RawData({}, "pgm", "0")
    line = spec.Source("pgm", ".pgm", spec.named(".pgm"), lambda r: raw, spec.file_line("PGM"),
                       (".pgm",))
    monkeypatch.setattr(spec, "FILES", (*spec.FILES, line))
    image = tmp_path / "a.pgm"
    image.write_bytes(b"P5")
    assert load_source(str(image), None, None) is raw
    assert describe_spec(str(image)) == f"{image}: PGM file, 2 bytes"
    with pytest.raises(DataError, match=r"a path to \.csv/\.npz/IDX/\.pgm"):
        load_source(str(tmp_path / "nothing-here"), None, None)
    with pytest.raises(DataError, match="no such file"):
        load_source(str(tmp_path / "gone.pgm"), None, None)


def test_unknown_data_message_lists_every_source_in_the_table(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_source(str(tmp_path / "nothing-here"), None, None)
    for source in (*KEYWORDS, *FILES):
        assert source.hint in str(err.value)
    odd = tmp_path / "pixels.txt"
    odd.write_text("1,2,3\n")
    assert "unrecognised data file type" in describe_spec(str(odd))


def test_file_sources_recognised_by_the_table(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("label,p0\n1,0\n")
    assert describe_spec(str(csv)) == f"{csv}: CSV file, {csv.stat().st_size:,} bytes"
    (tmp_path / "idx").mkdir()
    assert describe_spec(str(tmp_path / "idx")).endswith("directory of IDX files")
    assert [s.name for s in (*KEYWORDS, *FILES)] == ["auto", "digits", "tfds", "csv", "npz",
                                                     "idx"]
