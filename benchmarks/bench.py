"""`make bench`: is mnist-cli's training as fast as hand-tuned Keras, and is start-up instant?

Contenders (see contenders.py): (a) the seed's recipe, (b) hand-tuned plain Keras, (c) mnist-cli's
`run_training` Python API. Interleaved in rotating order, median of the repeats (noisy machine).
Run: .venv/bin/python benchmarks/bench.py [--quick] [--levers] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as C  # noqa: E402
import extras  # noqa: E402
import tensorboard_cost  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.json"
EPOCHS = {"mlp": 10, "mlp60k": 5, "cnn": 5}
QUICK_EPOCHS = {"mlp": 3, "mlp60k": 1, "cnn": 1}
ACCURACY_SEEDS = 5
console = Console()


def interleaved(runs: dict[str, Any], repeats: int) -> dict[str, list[dict[str, float]]]:
    """Each repeat runs every contender once, rotating the order; seed = repeat index."""
    keys, out = list(runs), {k: [] for k in runs}
    for r in range(repeats):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            out[k].append(runs[k](r))
    return out


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def ratios(sps: dict[str, float]) -> dict[str, float]:
    """(c) over each other contender's median samples/s; c/d < 1 is the engine's overhead."""
    return {f"ratio_c_over_{k.split('_')[0]}": sps["c_mnist_cli"] / v
            for k, v in sps.items() if k != "c_mnist_cli"}


def training(repeats: int, epochs: dict[str, int]) -> dict[str, Any]:
    """Per workload: median metrics per contender, all raw repeats, and the (c) ratios."""
    C.warm_up()
    out: dict[str, Any] = {}
    for workload, n_epochs in epochs.items():
        console.print(f"[bold]{workload}[/]: {n_epochs} epochs x {repeats} repeats ...")
        raw = interleaved(C.contenders(workload, n_epochs), repeats)
        med = {k: medians(v) for k, v in raw.items()}
        sps = {k: v["samples_per_second"] for k, v in med.items()}
        out[workload] = {"epochs": n_epochs, "train_images": C.WORKLOADS[workload][1],
                         "median": med, "repeats": raw, **ratios(sps)}
    return out


def accuracy_seeds(seeds: int, epochs: int) -> dict[str, Any]:
    """Test accuracy over `seeds` seeds, MLP on 8,000 digits: mnist-cli vs hand-tuned."""
    console.print(f"accuracy over {seeds} seeds (mlp, {epochs} epochs) ...")
    runs = {k: v for k, v in C.contenders("mlp", epochs).items()
            if k in ("b_keras", "c_mnist_cli")}
    raw = interleaved(runs, seeds)
    out: dict[str, Any] = {}
    for name, samples in raw.items():
        accs = [s["test_accuracy"] for s in samples]
        out[name] = {"mean": statistics.mean(accs), "std": statistics.stdev(accs) if
                     len(accs) > 1 else 0.0, "values": accs}
    return out


def levers(repeats: int, epochs: dict[str, int]) -> dict[str, Any]:
    """(c) with one setting changed at a time, interleaved with the shipped defaults."""
    settings = {
        "defaults": [],
        "steps_per_execution=1": ["training.steps_per_execution=1"],
        "steps_per_execution=8": ["training.steps_per_execution=8"],
        "steps_per_execution=32": ["training.steps_per_execution=32"],
        "deterministic=false": ["training.deterministic=false"],
        "batch_size=512": ["training.batch_size=512"],
    }
    out: dict[str, Any] = {}
    for model, n_epochs in epochs.items():
        runs = {name: (lambda s, sets=sets, m=model, e=n_epochs: C.mnist_cli_api(m, e, s, sets))
                for name, sets in settings.items()}
        out[model] = {k: medians(v) for k, v in interleaved(runs, repeats).items()}
    return out


def side_measurements(repeats: int, quick: bool) -> dict[str, Any]:
    console.print("start-up, CSV load, peak memory ...")
    out: dict[str, Any] = {"startup": extras.startup(max(repeats, 3))}
    out["csv_load_seconds"] = extras.csv_load(1 if quick else repeats)
    out["peak_memory"] = extras.peak_memory(10000 if quick else 60000)
    available = extras.compare_available()
    out["compare"] = (extras.compare_cost(1 if quick else repeats, 2 if quick else 10)
                      if available else "not measured: compare not available")
    if available:
        console.print("compare --repeats 4, --workers 1 vs 2 (short and long sub-runs) ...")
        out["compare_workers"] = extras.compare_workers(4, 2 if quick else 20)
        if not quick:
            out["compare_workers_long"] = extras.compare_workers(4, 200)
    out["tensorboard"] = tensorboard_cost.tensorboard_cost(1 if quick else repeats,
                                                           QUICK_EPOCHS["mlp"] if quick else 10)
    return out


def training_table(results: dict[str, Any]) -> Table:
    table = Table(title=f"Training ({C.data_source()}; median)")
    for col in ("model", "contender", "fit samples/s", "fit s", "total wall s", "test acc"):
        table.add_column(col, justify="left" if col in ("model", "contender") else "right")
    for model, res in results.items():
        for name, m in res["median"].items():
            table.add_row(model, name, f"{m['samples_per_second']:,.0f}", f"{m['fit_seconds']:.2f}",
                          f"{m['wall_seconds']:.2f}", f"{m['test_accuracy']:.4f}")
        keys = [k for k in res if k.startswith("ratio_c_over_")]
        table.add_row(model, "(c) / " + ", ".join(k[len("ratio_c_over_"):] for k in keys),
                      " ".join(f"{res[k]:.2f}x" for k in keys), "", "", "", end_section=True)
    return table


def accuracy_table(acc: dict[str, Any]) -> Table:
    seeds = len(next(iter(acc.values()))["values"])
    table = Table(title=f"Test accuracy over {seeds} seeds (mlp, 8,000 images)")
    for col in ("contender", "mean", "std", "values"):
        table.add_column(col)
    for name, a in acc.items():
        table.add_row(name, f"{a['mean']:.4f}", f"{a['std']:.4f}",
                      " ".join(f"{v:.4f}" for v in a["values"]))
    return table


def side_table(side: dict[str, Any]) -> Table:
    table = Table(title="Start-up, data and memory (median)")
    table.add_column("measurement")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    st = side["startup"]
    for key, label, target in (("help", "mnist-cli --help", "<= 0.5 s"),
                               ("config_error", "config validation error", "<= 1 s")):
        v = st[key]
        table.add_row(label, f"{v['seconds']:.2f} s (exit {v['exit_code']}, "
                      f"TF imported: {v['tf_imported']})", target)
    csv = side["csv_load_seconds"]
    for key in ("mnist_cli", "pandas_pyarrow", "pandas_c_uint8"):
        v = csv[key]
        text = f"{v:.2f} s" if isinstance(v, float) else str(v)
        table.add_row(f"{csv['rows']:,}-row CSV ({csv['megabytes']} MB): {key}", text,
                      "<= 2 s" if key == "mnist_cli" else "reference")
    mem = side["peak_memory"]
    table.add_row(f"peak RSS, cnn on {mem['images']:,} images, {mem['epochs']} epoch",
                  f"{mem['peak_rss_mb'] or -1:,.0f} MB (exit {mem['exit_code']})", "<= 2048 MB")
    cmp = side["compare"]
    if isinstance(cmp, dict):
        table.add_row(f"compare (2 variants) / train, digits, {cmp['epochs']} epochs",
                      f"{cmp['ratio']:.2f}x ({cmp['compare_seconds']:.1f} s / "
                      f"{cmp['train_seconds']:.1f} s, exit {cmp['exit_codes']})", "~2x or less")
    else:
        table.add_row("compare (2 variants) / train", cmp, "")
    tb = side["tensorboard"]
    table.add_row(f"TensorBoard: callback time / fit time, mlp {tb['epochs']} epochs",
                  f"{tb['hook_share_of_fit']:.1%} (fit on/off {tb['ratio_on_off']:.2f}x)",
                  "<= 3%")
    for work, target in ((side.get("compare_workers"), "(worker start-up dominates)"),
                         (side.get("compare_workers_long"), "> 1x on idle cores")):
        if not work:
            continue
        table.add_row(f"compare --repeats {work['repeats']}, digits, {work['epochs']} epochs: "
                      f"--workers 1 -> 2 ({work['cpus']} CPUs)",
                      f"{work['workers_1']['seconds']:.1f} s -> "
                      f"{work['workers_2']['seconds']:.1f} s ({work['ratio']:.2f}x)", target)
    return table


def levers_table(lev: dict[str, Any]) -> Table:
    table = Table(title="Levers on (c) (median)")
    for col in ("model", "setting", "fit samples/s", "vs defaults", "test acc"):
        table.add_column(col)
    for model, res in lev.items():
        base = res["defaults"]["samples_per_second"]
        for name, m in res.items():
            table.add_row(model, name, f"{m['samples_per_second']:,.0f}",
                          f"{m['samples_per_second'] / base:.2f}x", f"{m['test_accuracy']:.4f}")
    return table


def previous_peers() -> dict[str, Any]:
    """bench_peers.py's section of results.json, kept when this bench rewrites the file."""
    try:
        old = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {"peers": old["peers"]} if isinstance(old, dict) and "peers" in old else {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 repeat, fewer epochs, 10k images")
    p.add_argument("--levers", action="store_true", help="also time settings of (c)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    repeats, epochs = (1, QUICK_EPOCHS) if args.quick else (args.repeats, EPOCHS)
    results: dict[str, Any] = {"data": C.data_source(), "repeats": repeats, "quick": args.quick,
                               "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    results["training"] = training(repeats, epochs)
    results["accuracy_seeds"] = accuracy_seeds(2 if args.quick else ACCURACY_SEEDS,
                                               epochs["mlp"])
    if args.levers:
        results["levers"] = levers(repeats, epochs)
    results.update(side_measurements(repeats, args.quick))
    results["load_average_end"] = os.getloadavg()
    console.print(training_table(results["training"]))
    console.print(accuracy_table(results["accuracy_seeds"]))
    if args.levers:
        console.print(levers_table(results["levers"]))
    console.print(side_table(results))
    text = json.dumps(results, indent=2, default=float)
    RESULTS.write_text(json.dumps({**previous_peers(), **results}, indent=2, default=float)
                       + "\n", encoding="utf-8")
    print(text)
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
