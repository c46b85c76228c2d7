"""`mnist-cli compare`: real small comparisons on scikit-learn's digits, checked independently."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from scipy.stats import binomtest, chi2
from sklearn.datasets import load_digits

from mnist_cli.compare import build_variants, plan_seeds, run_comparison
from mnist_cli.compare.report import sentences, table
from mnist_cli.compare.run import Comparison, divergence
from mnist_cli.compare.stats import mcnemar_p
from mnist_cli.config import Overrides
from mnist_cli.data.types import DataDescription, Dataset, Split
from mnist_cli.errors import UsageError
from tests.conftest import cli_cmd

DIVERGING = """\
name: diverge
model:
  layers:
    - Flatten: {}
    - Dense: {units: 25, activation: relu}
    - Dense: {units: 10}
training: {optimizer: sgd, learning_rate: 1.0e+12}
data: {spec: auto, validation_split: 0.1}
"""


def digits_dataset() -> Dataset:
    """The 1,797 8x8 digits as uint8 images, split 1200 / 200 / 397 with a fixed permutation."""
    d = load_digits()
    x = (d.images * 255 / 16).astype(np.uint8)[..., None]
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(y))
    tr, va, te = idx[:1200], idx[1200:1400], idx[1400:]
    desc = DataDescription("digits (test fixture)", (8, 8, 1), 10,
                           {"train": 1200, "validation": 200, "test": len(te)},
                           sha256=hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest())
    return Dataset(Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), desc)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return digits_dataset()


@pytest.fixture(scope="module")
def seed_experiment(tmp_path_factory: pytest.TempPathFactory, data: Dataset) -> Comparison:
    """The seed's softmax-vs-ReLU experiment, 2 seeds each, 5 epochs."""
    variants = build_variants(overrides=Overrides(epochs=5))
    seeds = plan_seeds(7, repeats=2)
    return run_comparison(variants, seeds, tmp_path_factory.mktemp("cmp") / "c", dataset=data)


def render(renderable: object) -> str:
    """Plain text of a rich renderable, as a wide terminal would show it."""
    con = Console(file=io.StringIO(), width=200)
    con.print(renderable)
    return con.file.getvalue()


def by_name(summary: dict) -> dict[str, dict]:
    return {v["name"]: v for v in summary["variants"]}


def test_relu_beats_softmax_hidden_layers(seed_experiment: Comparison) -> None:
    s = seed_experiment.summary
    v = by_name(s)
    assert set(v) == {"relu", "softmax"}
    assert all(e["status"] == "completed" for e in v.values())
    assert s["winner"] == "relu" and s["variants"][0]["name"] == "relu"
    assert v["relu"]["test_accuracy"] > v["softmax"]["test_accuracy"] + 0.2
    # same architecture, only the hidden activation differs
    assert v["relu"]["params"] == v["softmax"]["params"] == 64 * 25 + 25 + 25 * 15 + 15 + 160


def test_table_json_and_csv_contain_every_variant(seed_experiment: Comparison) -> None:
    s = seed_experiment.summary
    text = render(table(s))
    assert "winner relu" in text and "relu" in text and "softmax" in text
    on_disk = json.loads((seed_experiment.compare_dir / "comparison.json").read_text())
    assert [v["name"] for v in on_disk["variants"]] == ["relu", "softmax"]
    assert on_disk["winner"] == "relu"
    rows = list(csv.DictReader((seed_experiment.compare_dir / "comparison.csv").open()))
    assert [r["variant"] for r in rows] == ["relu", "softmax"]
    assert float(rows[0]["test_accuracy"]) == pytest.approx(s["variants"][0]["test_accuracy"])


def test_mcnemar_matches_an_independent_count(seed_experiment: Comparison, data: Dataset) -> None:
    """Reload each variant's first-seed model, count discordant digits by hand, ask scipy."""
    from mnist_cli.tfenv import import_keras

    keras = import_keras()
    first = {n: seed_experiment.runs_of(n)[0] for n in ("relu", "softmax")}
    x = data.test.x.astype(np.float32) / 255.0
    pred = {n: keras.models.load_model(r.run_dir / "model.keras").predict(x, verbose=0)
            .argmax(axis=1) for n, r in first.items()}
    b = sum(1 for t, r, s in zip(data.test.y, pred["relu"], pred["softmax"], strict=True)
            if r == t and s != t)
    c = sum(1 for t, r, s in zip(data.test.y, pred["relu"], pred["softmax"], strict=True)
            if r != t and s == t)
    n = b + c
    expected = (binomtest(b, n, 0.5).pvalue if n < 25
                else chi2.sf((abs(b - c) - 1) ** 2 / n, df=1))
    (pair,) = seed_experiment.summary["pairs"]
    relu_first = pair["a"] == "relu"
    assert (pair["a_only"], pair["b_only"]) == ((b, c) if relu_first else (c, b))
    assert pair["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert pair["seed_a"] == pair["seed_b"] == 7
    assert f"relu beats softmax on {b} of the {n} test digits" in pair["sentence"]
    assert f"softmax wins the other {c}" in pair["sentence"]
    assert "p < 0.001" in pair["sentence"] and pair["p_value"] < 0.001
    assert pair["intervals_overlap"] is False
    assert "do not overlap" in sentences(seed_experiment.summary)[0]


def test_exact_mcnemar_matches_a_hand_binomial() -> None:
    """Few discordant digits: two-sided exact binomial, computed here from math.comb."""
    for b, c in [(3, 9), (0, 5), (7, 7), (10, 14)]:
        n = b + c
        hand = min(1.0, 2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n)
        method, stat, p = mcnemar_p(b, c)
        assert method == "exact binomial" and stat is None
        assert p == pytest.approx(hand, rel=1e-12)
    assert mcnemar_p(0, 0)[2] == 1.0
    assert mcnemar_p(40, 10)[1] == pytest.approx(29**2 / 50)


def test_repeats_use_different_seeds_on_identical_data(seed_experiment: Comparison,
                                                       data: Dataset) -> None:
    seen_seeds: dict[str, list[int]] = {}
    for v in seed_experiment.summary["variants"]:
        metrics = [json.loads((Path(r["run_dir"]) / "metrics.json").read_text())
                   for r in v["runs"]]
        seen_seeds[v["name"]] = [m["seed"] for m in metrics]
        assert {m["dataset"]["sha256"] for m in metrics} == {data.description.sha256}
        assert len({m["dataset"]["sizes"]["test"] for m in metrics}) == 1
        acc = [m["test_accuracy"] for m in metrics]
        assert v["test_accuracy"] == pytest.approx(np.mean(acc))
        assert v["test_accuracy_std"] == pytest.approx(np.std(acc, ddof=1))
    assert seen_seeds == {"relu": [7, 8], "softmax": [7, 8]}
    assert seed_experiment.summary["seeds"] == [7, 8]


def test_comparison_png_is_a_valid_image(seed_experiment: Comparison) -> None:
    import matplotlib.image

    png = seed_experiment.compare_dir / "comparison.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 600
    assert img[..., :3].std() > 0.05  # something was drawn, not a blank canvas


def test_a_diverging_variant_fails_while_the_other_completes(tmp_path: Path,
                                                              data: Dataset) -> None:
    bad = tmp_path / "diverge.yaml"
    bad.write_text(DIVERGING)
    variants = build_variants(["mlp_relu", str(bad)], overrides=Overrides(epochs=2))
    comp = run_comparison(variants, plan_seeds(1, 1), tmp_path / "c", dataset=data)
    v = by_name(comp.summary)
    assert v["mlp_relu"]["status"] == "completed" and v["mlp_relu"]["test_accuracy"] > 0.5
    assert v["diverge"]["status"] == "failed"
    assert "nan" in v["diverge"]["error"].lower() or "diverg" in v["diverge"]["error"].lower()
    assert comp.summary["winner"] == "mlp_relu" and comp.summary["pairs"] == []
    assert [e["name"] for e in comp.summary["variants"]] == ["mlp_relu", "diverge"]
    failed = json.loads((tmp_path / "c" / "diverge" / "metrics.json").read_text())
    assert failed["status"] == "failed"
    text = render(table(comp.summary))
    assert "FAILED" in text and "diverge failed" in text


def test_nan_loss_counts_as_divergence() -> None:
    assert divergence({"loss": [2.3, float("nan")]}, None).startswith(
        "training loss became nan at epoch 2")
    assert divergence({"loss": [2.3, 1.0]}, np.array([[np.inf, 0.0]])) is not None
    assert divergence({"loss": [2.3, 1.0]}, np.zeros((2, 10))) is None


def test_variant_grid_names_and_checks(tmp_path: Path) -> None:
    grid = build_variants(activations=["softmax", "relu"], outputs=["probabilities", "logits"])
    assert [v.name for v in grid] == ["softmax-probabilities", "softmax-logits",
                                      "relu-probabilities", "relu-logits"]
    assert grid[0].config.model.output == "probabilities"
    assert grid[0].config.model.layers[1].kwargs["activation"] == "softmax"
    seed = build_variants(overrides=Overrides(epochs=3, sets=["training.batch_size=32"]))
    assert [v.name for v in seed] == ["softmax", "relu"]
    assert all(v.config.training.epochs == 3 and v.config.training.batch_size == 32
               for v in seed)
    with pytest.raises(UsageError, match="at least two variants"):
        build_variants(configs=["mlp_relu"])
    other = tmp_path / "other.yaml"
    other.write_text(DIVERGING.replace("validation_split: 0.1", "validation_split: 0.3"))
    with pytest.raises(UsageError, match="--data"):
        build_variants(configs=["mlp_relu", str(other)])
    with pytest.raises(UsageError, match="--repeats"):
        plan_seeds(1, 0)


def test_cli_json_prints_the_comparison_only(tmp_path: Path, cli_env: dict[str, str]) -> None:
    out = subprocess.run(
        cli_cmd("compare", "--data", "digits", "--epochs", "2", "--seed", "5", "--json",
                "--run-dir", str(tmp_path / "cmp")),
        capture_output=True, text=True, timeout=240, env=cli_env, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {v["name"] for v in summary["variants"]} == {"relu", "softmax"}
    assert summary["seeds"] == [5] and len(summary["pairs"]) == 1
    for name in ("comparison.json", "comparison.csv", "comparison.png"):
        assert (tmp_path / "cmp" / name).is_file()
    for sub in ("relu", "softmax"):
        assert (tmp_path / "cmp" / sub / "model.keras").is_file()
