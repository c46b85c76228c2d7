"""`mnist-cli compare`: real small comparisons on scikit-learn's digits, checked independently."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console
from scipy.stats import binomtest, sem, ttest_rel
from scipy.stats import t as t_dist

from mnist_cli.comparison import build_variants, plan_seeds, run_comparison
from mnist_cli.comparison.report import csv_text, sentences, table
from mnist_cli.comparison.sub_run import divergence
from mnist_cli.comparison.summary import summarize
from mnist_cli.comparison.types import ComparisonRuns
from mnist_cli.config import Overrides
from mnist_cli.data.types import Dataset
from mnist_cli.errors import UsageError
from tests.helpers import run_cli

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


@pytest.fixture(scope="module")
def data(digits_dataset: Dataset) -> Dataset:
    return digits_dataset


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory, data: Dataset) -> ComparisonRuns:
    """softmax vs relu vs tanh hidden layers, 3 seeds each, 2 epochs: the paired t-test with
    Holm over 3 pairs; subsets of these real runs give the 2-seed and 1-seed paths."""
    variants = build_variants(activations=["softmax", "relu", "tanh"],
                              overrides=Overrides(epochs=2))
    seeds = plan_seeds(7, repeats=3)
    return run_comparison(variants, seeds, tmp_path_factory.mktemp("cmp") / "c", dataset=data)


def subset(comp: ComparisonRuns, n_seeds: int, names: list[str] | None = None) -> ComparisonRuns:
    """The same real runs, fewer seeds and/or variants (what a smaller compare would hold)."""
    seeds = comp.seeds[:n_seeds]
    variants = [v for v in comp.variants if names is None or v.name in names]
    keep = {v.name for v in variants}
    outcomes = [o for o in comp.outcomes if o.variant in keep and o.seed in seeds]
    return ComparisonRuns(comp.compare_dir, variants, seeds, outcomes, comp.y_test, comp.dataset,
                      validation=comp.validation)


def render(renderable: object) -> str:
    """Plain text of a rich renderable, as a wide terminal would show it."""
    con = Console(file=io.StringIO(), width=200)
    con.print(renderable)
    return con.file.getvalue()


def by_name(summary: dict) -> dict[str, dict]:
    return {v["name"]: v for v in summary["variants"]}


def sub_metrics(entry: dict) -> list[dict]:
    """The variant's sub-runs' metrics.json, read from disk, in seed order."""
    return [json.loads((Path(r["run_dir"]) / "metrics.json").read_text()) for r in entry["runs"]]


def holm_by_hand(p: list[float]) -> list[float]:
    m, out, running = len(p), [0.0] * len(p), 0.0
    for k, i in enumerate(sorted(range(m), key=lambda j: p[j])):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


SIGNIFICANT = "significant at α = 0.05"
CANNOT_TELL = "not significant: these runs cannot tell them apart"
EQUIVALENCE = re.compile(r"\b(equivalent|equal|equally|same|tie|ties|no difference)\b", re.I)


def check_wording(pair: dict) -> None:
    """Exactly one of the two verdicts, matching the test, and no claim of equivalence."""
    text = pair["sentence"]
    assert text.startswith(f"{pair['a']} vs {pair['b']}: ")
    assert (SIGNIFICANT in text) != (CANNOT_TELL in text)
    assert (SIGNIFICANT in text) == pair["significant"]
    assert not EQUIVALENCE.search(text), text


def test_relu_beats_softmax_hidden_layers(trio: ComparisonRuns) -> None:
    v = by_name(trio.summary)
    assert set(v) == {"relu", "softmax", "tanh"}
    assert all(e["status"] == "completed" for e in v.values())
    assert v["relu"]["test_accuracy"] > v["softmax"]["test_accuracy"] + 0.2
    # same architecture, only the hidden activation differs
    assert v["relu"]["params"] == v["softmax"]["params"] == 64 * 25 + 25 + 25 * 15 + 15 + 160


def test_ranking_uses_validation_accuracy_and_reports_test_accuracy(trio: ComparisonRuns) -> None:
    s = trio.summary
    val = {e["name"]: np.mean([m["final"]["val_accuracy"] for m in sub_metrics(e)])
           for e in s["variants"]}
    assert s["ranked_by"] == "val_accuracy"
    assert [e["name"] for e in s["variants"]] == sorted(val, key=lambda n: -val[n])
    assert s["winner"] == s["variants"][0]["name"]
    for e in s["variants"]:
        assert e["val_accuracy"] == pytest.approx(val[e["name"]])
        test = [m["test_accuracy"] for m in sub_metrics(e)]
        assert e["test_accuracy"] == pytest.approx(np.mean(test))
    text = render(table(s))
    assert f"best on validation accuracy: {s['winner']}" in text
    assert "Ranked by validation accuracy (mean over 3 seeds)" in text
    assert "not used to choose" in text


def test_three_seeds_use_a_paired_t_test_with_holm_over_pairs(trio: ComparisonRuns) -> None:
    s = trio.summary
    assert s["pair_test"] == {"method": "paired t-test on per-seed test accuracy",
                              "alpha": 0.05, "tests": 3, "correction": "Holm"}
    v = by_name(s)
    raw = []
    for pair in s["pairs"]:
        acc_a = [m["test_accuracy"] for m in sub_metrics(v[pair["a"]])]
        acc_b = [m["test_accuracy"] for m in sub_metrics(v[pair["b"]])]
        raw.append(ttest_rel(acc_a, acc_b).pvalue)
        assert pair["p_value"] == pytest.approx(raw[-1], rel=1e-9)
        assert pair["tests"][0]["a_accuracies"] == pytest.approx(acc_a)
    assert [(p["a"], p["b"]) for p in s["pairs"]] == [
        (a["name"], b["name"]) for a, b in itertools.combinations(s["variants"], 2)]
    for pair, adj in zip(s["pairs"], holm_by_hand(raw), strict=True):
        assert pair["p_adjusted"] == pytest.approx(adj, rel=1e-9)
        assert pair["significant"] == (adj < 0.05)
        check_wording(pair)
        assert "paired t-test" in pair["sentence"] and "Holm-adjusted" in pair["sentence"]
    lines = sentences(s)
    assert lines[0].startswith("Pairwise tests: paired t-test on per-seed test accuracy, "
                               "3 test(s), correction: Holm")


def test_repeats_report_a_t_interval_not_std_overlap(trio: ComparisonRuns, data: Dataset) -> None:
    s = trio.summary
    for v in s["variants"]:
        metrics = sub_metrics(v)
        assert [m["seed"] for m in metrics] == [7, 8, 9]
        assert {m["dataset"]["sha256"] for m in metrics} == {data.description.sha256}
        acc = [m["test_accuracy"] for m in metrics]
        assert v["test_accuracy_std"] == pytest.approx(np.std(acc, ddof=1))
        low, high = t_dist.interval(0.95, 2, loc=np.mean(acc), scale=sem(acc))
        assert v["test_accuracy_ci95"] == pytest.approx([low, high])
    assert all("intervals_overlap" not in p for p in s["pairs"])
    assert "t-based 95% confidence interval over 3 seeds" in render(table(s))
    rows = list(csv.DictReader((trio.compare_dir / "comparison.csv").open()))
    assert [r["variant"] for r in rows] == [e["name"] for e in s["variants"]]
    assert float(rows[0]["test_accuracy_ci95_low"]) == pytest.approx(
        s["variants"][0]["test_accuracy_ci95"][0])
    on_disk = json.loads((trio.compare_dir / "comparison.json").read_text())
    assert on_disk["pair_test"]["method"] == s["pair_test"]["method"]


def test_two_seeds_test_every_seed_with_holm(trio: ComparisonRuns, data: Dataset) -> None:
    """McNemar on every seed (not just the first): discordant digits counted here from the
    reloaded models, p-values from scipy, Holm over all 3 pairs x 2 seeds."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    two = subset(trio, 2)
    s = summarize(two)
    assert s["pair_test"] == {"method": "McNemar exact binomial on every seed", "alpha": 0.05,
                              "tests": 6, "correction": "Holm"}
    x = data.test.x.astype(np.float32) / 255.0
    right = {(o.variant, o.seed): keras.models.load_model(o.run_dir / "model.keras")
             .predict(x, verbose=0).argmax(axis=1) == data.test.y for o in two.outcomes}
    raw = []
    for pair in s["pairs"]:
        assert [t["seed"] for t in pair["tests"]] == [7, 8]
        for test in pair["tests"]:
            ra, rb = right[pair["a"], test["seed"]], right[pair["b"], test["seed"]]
            b, c = int(np.sum(ra & ~rb)), int(np.sum(~ra & rb))
            assert (test["a_only"], test["b_only"]) == (b, c)
            raw.append(binomtest(b, b + c, 0.5).pvalue if b + c else 1.0)
            assert test["p_value"] == pytest.approx(raw[-1], rel=1e-9, abs=1e-300)
    adjusted = iter(holm_by_hand(raw))
    for pair in s["pairs"]:
        for test in pair["tests"]:
            assert test["p_adjusted"] == pytest.approx(next(adjusted), rel=1e-9, abs=1e-300)
        assert pair["significant"] == any(t["p_adjusted"] < 0.05 for t in pair["tests"])
        check_wording(pair)
        assert "seed 7:" in pair["sentence"] and "seed 8:" in pair["sentence"]


def test_one_seed_has_no_spread_and_one_test_has_no_correction(trio: ComparisonRuns) -> None:
    s = summarize(subset(trio, 1, ["softmax", "relu"]))
    assert s["pair_test"]["method"] == "McNemar exact binomial"
    assert s["pair_test"]["tests"] == 1 and s["pair_test"]["correction"].startswith("none")
    for v in s["variants"]:
        assert v["test_accuracy_std"] is None and v["test_accuracy_ci95"] is None
        assert v["val_accuracy_std"] is None and v["epochs_run_std"] is None
    (pair,) = s["pairs"]
    check_wording(pair)
    t0 = pair["tests"][0]
    assert pair["p_adjusted"] == pair["p_value"] == pytest.approx(
        binomtest(t0["a_only"], t0["discordant"], 0.5).pvalue)
    assert "Holm" not in pair["sentence"]
    if pair["significant"]:
        assert f"{SIGNIFICANT}, relu is better" in pair["sentence"]
    assert "no spread or interval" in render(table(s))
    row = next(csv.DictReader(io.StringIO(csv_text(s))))
    assert row["test_accuracy_std"] == row["test_accuracy_ci95_low"] == ""  # not 0.0


@pytest.mark.slow
def test_without_a_validation_split_the_ranking_says_it_uses_test_data(
        tmp_path: Path, data: Dataset) -> None:
    no_val = Dataset(data.train, None, data.test, data.description)
    variants = build_variants(overrides=Overrides(epochs=1, validation_split=0.0))
    comp = run_comparison(variants, plan_seeds(3, 1), tmp_path / "c", dataset=no_val)
    s = comp.summary
    assert s["ranked_by"] == "test_accuracy"
    assert all(e["val_accuracy"] is None for e in s["variants"])
    acc = [e["test_accuracy"] for e in s["variants"]]
    assert acc == sorted(acc, reverse=True)
    assert "no validation split (--validation-split 0)" in s["ranking"]
    text = " ".join(render(table(s)).split())  # the caption wraps at the table's width
    assert "best on test accuracy" in text
    assert "no validation split (--validation-split 0), so the ranking uses the test data" in text


def test_comparison_png_is_a_valid_image(trio: ComparisonRuns) -> None:
    import matplotlib.image

    png = trio.compare_dir / "comparison.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 600
    assert img[..., :3].std() > 0.05  # something was drawn, not a blank canvas


@pytest.mark.slow
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
    # a variant's config is named by what differs (it was 'mlp_relu' for both), its base kept
    for v in [*grid, *seed]:
        assert (v.config.name, v.base) == (v.name, "mlp_relu")
    two = build_variants(configs=["mlp_relu", "mlp_relu"])
    assert [(v.name, v.config.name) for v in two] == [("mlp_relu",) * 2, ("mlp_relu-2",) * 2]
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
    out = run_cli("compare", "--data", "digits", "--epochs", "1", "--seed", "5", "--json",
                  "--run-dir", str(tmp_path / "cmp"), env=cli_env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {v["name"] for v in summary["variants"]} == {"relu", "softmax"}
    assert summary["seeds"] == [5] and len(summary["pairs"]) == 1
    assert summary["ranked_by"] == "val_accuracy"
    assert summary["pair_test"]["method"] == "McNemar exact binomial"
    assert all(v["test_accuracy_std"] is None and v["test_accuracy_ci95"] is None
               for v in summary["variants"])  # JSON null for one seed, not 0.0
    for name in ("comparison.json", "comparison.csv", "comparison.png"):
        assert (tmp_path / "cmp" / name).is_file()
    for sub in ("relu", "softmax"):
        assert (tmp_path / "cmp" / sub / "model.keras").is_file()
    for v in summary["variants"]:  # directory, table label and saved config name agree
        saved = yaml.safe_load((tmp_path / "cmp" / v["name"] / "config.yaml").read_text())
        assert saved["name"] == v["name"] and v["config"] == "mlp_relu"
