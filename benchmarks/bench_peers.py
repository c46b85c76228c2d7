"""`make bench`, peer table: mnist-cli against what a user would pick instead, whole processes.

Every contender (benchmarks/peers/) trains the same model (the shipped mlp_relu / cnn config),
with Keras's initialisers, Adam at the config's rate, batch 128, the same epochs and the same
arrays (one .npz per workload, written once to a temp dir), as a fresh process: its wall
includes interpreter start and imports. Repeat r runs every contender once with seed r, in
rotated order; medians. See docs/benchmarks.md.
Run: .venv/bin/python benchmarks/bench_peers.py [--quick] [--repeats N] [--workloads mlp,cnn]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import bench_data  # noqa: E402
import mnist_cli_train  # noqa: E402
from roster import CONTENDERS, Contender, availability, peer_command  # noqa: E402

from mnist_cli.config.yaml_read import load_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.json"
FIELDS = ("steady_samples_per_second", "first_epoch_seconds", "wall_seconds", "test_accuracy")


@dataclass(frozen=True)
class Workload:
    name: str
    model: str
    train_images: int | None  # None: all the source's training images
    epochs: int
    test_images: int | None = None


# mlp128: the seed experiment's shape (MLPs, 128 epochs), long enough (8,064 steps) for the
# TensorFlow engine's XLA programs (training.fused.XLA_MIN_STEPS); the others are shorter.
FULL = (Workload("mlp", "mlp", 8000, 10), Workload("mlp128", "mlp", 8000, 128),
        Workload("mlp60k", "mlp", 60000, 5), Workload("cnn", "cnn", 8000, 5))
QUICK = (Workload("mlp", "mlp", 1024, 3, 500), Workload("cnn", "cnn", 512, 2, 500))
# Issue 22's targets, on the full sizes (MLP 8k x 10, CNN 8k x 5): workload, contender, over
# contender, field, and the bound on their ratio. The wall target is checked cold (as a fresh
# machine or CI job runs it, every program compiled, like the peers) and warm.
TARGETS = (
    ("mlp", "mnist_cli_jax", "jax_scan", "steady_samples_per_second", ">=", 1.0),
    ("mlp", "mnist_cli_jax", "jax_scan", "wall_seconds", "<=", 1.15),
    ("mlp", "mnist_cli_jax_warm", "jax_scan", "wall_seconds", "<=", 1.15),
    ("cnn", "mnist_cli", "keras_fit_tf", "steady_samples_per_second", ">=", 1.0),
    ("cnn", "mnist_cli", "keras_fit_tf", "wall_seconds", "<=", 1.05),
    # issue 27: the default backend (TensorFlow) on the seed experiment's MLP
    ("mlp128", "mnist_cli", "jax_scan", "steady_samples_per_second", ">=", 0.9),
)
SHORT = {"steady_samples_per_second": "steady", "wall_seconds": "wall"}


def config_training(model: str) -> dict[str, Any]:
    """The shipped config's `training` block (learning rate, batch size) from its YAML."""
    path = ROOT / "mnist_cli" / "configs" / f"{mnist_cli_train.CONFIGS[model]}.yaml"
    return load_yaml(path.read_text(encoding="utf-8"))["training"]


def child_env(cache: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    if cache is not None:
        env["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    return env


def jax_cache_for(c: Contender, w: Workload, data: str, seed: int, how: str | None,
                  tmp: Path, timeout: float) -> Path | None:
    """The compilation cache a mnist-cli JAX run gets: a new empty one per run ("cold"), or
    one per workload filled first by an unmeasured run of the same training ("warm")."""
    if c.jax_cache is None:
        return None
    if c.jax_cache == "cold":
        return Path(tempfile.mkdtemp(prefix=f"jax-cold-{w.name}-{seed}-", dir=tmp))
    cache = tmp / f"jax-warm-{w.name}"
    if not cache.exists():
        warmup = mnist_cli_train.command(w.model, data, w.epochs, seed,
                                         tmp / f"warmup-{c.name}-{w.name}", c.backend, how)
        subprocess.run(warmup, capture_output=True, env=child_env(cache), timeout=timeout)
    return cache


def last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line on stdout")


def run_one(c: Contender, how: str | None, w: Workload, data: str, seed: int, tmp: Path,
            timeout: float) -> dict[str, Any]:
    """One fresh process; wall = spawn to exit, measured here."""
    training = config_training(w.model)
    run_dir = tmp / f"run-{c.name}-{w.name}-{seed}"
    cmd = (mnist_cli_train.command(w.model, data, w.epochs, seed, run_dir, c.backend, how)
           if c.script is None else
           peer_command(c, w.model, data, w.epochs, seed, float(training["learning_rate"]),
                        int(training["batch_size"])))
    env = child_env(jax_cache_for(c, w, data, seed, how, tmp, timeout))
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    try:
        if done.returncode != 0:
            raise ValueError(f"exit {done.returncode}")
        record = (mnist_cli_train.parse(done.stderr, run_dir, c.name, w.model)
                  if c.script is None else last_json_line(done.stdout))
    except (ValueError, OSError, KeyError) as e:
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        return {"error": f"{e}: {tail[:300]}"}
    record["self_wall_seconds"] = record.get("wall_seconds")
    record["wall_seconds"] = wall
    return record


def medians(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in records if "error" not in r]
    out: dict[str, Any] = {"runs_ok": len(ok), "runs": len(records)}
    for f in FIELDS:
        values = [r[f] for r in ok if r.get(f) is not None]
        out[f] = statistics.median(values) if values else None
    errors = [r["error"] for r in records if "error" in r]
    if errors:
        out["errors"] = errors
    return out


def run_workload(w: Workload, active: dict[str, tuple[Contender, str | None]], repeats: int,
                 tmp: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """Write the workload's .npz once, run every contender `repeats` times, rotating the
    order; `opts.jobs` > 1 runs that many processes at once (a quick check, not a timing)."""
    data = tmp / f"{w.name}.npz"
    info = bench_data.write_npz(data, w.train_images, w.test_images)
    names = [n for n, (c, _) in active.items() if w.model in c.models]
    raw: dict[str, list[dict[str, Any]]] = {n: [] for n in names}

    def one(name: str, r: int) -> dict[str, Any]:
        print(f"  {w.name} repeat {r + 1}/{repeats}: {name} ...", file=sys.stderr, flush=True)
        c, how = active[name]
        return run_one(c, how, w, str(data), r, tmp, opts.timeout)

    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        for r in range(repeats):
            order = names[r % len(names):] + names[:r % len(names)] if names else []
            for name, record in zip(order, pool.map(lambda n, r=r: one(n, r), order),
                                    strict=True):
                raw[name].append(record)
    return {"model": w.model, "epochs": w.epochs, "data": info,
            "median": {n: medians(v) for n, v in raw.items()}, "repeats": raw}


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 22's ratio targets, where both contenders ran."""
    rows = []
    for wl, num, den, field, op, bound in TARGETS:
        med = results.get(wl, {}).get("median", {})
        a, b = (med.get(num) or {}).get(field), (med.get(den) or {}).get(field)
        ratio = a / b if a and b else None
        met = None if ratio is None else (ratio >= bound if op == ">=" else ratio <= bound)
        rows.append({"target": f"{wl}: {num} / {den}, {SHORT[field]}", "ratio": ratio,
                     "bound": f"{op} {bound}", "met": met})
    return rows


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table_rows(results: dict[str, Any], labels: dict[str, str]) -> list[list[str]]:
    """workload, contender, steady samples/s, first epoch s, wall s, test acc, runs ok."""
    rows = []
    for wl, res in results.items():
        epochs, n = res["epochs"], res["data"]["train"]
        for name, m in res["median"].items():
            rows.append([f"{wl} ({n:,} x {epochs})", labels.get(name, name),
                         fmt(m["steady_samples_per_second"], ",.0f"),
                         fmt(m["first_epoch_seconds"], ".2f"), fmt(m["wall_seconds"], ".2f"),
                         fmt(m["test_accuracy"], ".4f"), f"{m['runs_ok']}/{m['runs']}"])
    return rows


HEAD = ("workload", "contender", "steady samples/s", "first epoch s", "wall s", "test acc",
        "ok")
TARGET_HEAD = ("target", "ratio", "bound", "met")


def target_table_rows(targets: list[dict[str, Any]]) -> list[list[str]]:
    return [[t["target"], "-" if t["ratio"] is None else f"{t['ratio']:.2f}x", t["bound"],
             {True: "yes", False: "no", None: "not measured"}[t["met"]]] for t in targets]


def print_markdown(tables: list[tuple[str, tuple[str, ...], list[list[str]]]]) -> None:
    """GitHub-style tables, to paste into docs/benchmarks.md."""
    for title, head, body in tables:
        rule = "|" + "---|" * 2 + "---:|" * (len(head) - 2)
        print(f"**{title}**\n\n| " + " | ".join(head) + " |\n" + rule)
        print("\n".join("| " + " | ".join(r) + " |" for r in body) + "\n")


def print_rich(tables: list[tuple[str, tuple[str, ...], list[list[str]]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 132)
    for title, head, body in tables:
        table = Table(title=title)
        for i, col in enumerate(head):
            table.add_column(col, justify="left" if i < 2 else "right")
        for r in body:
            table.add_row(*r)
        console.print(table)


def print_tables(results: dict[str, Any], targets: list[dict[str, Any]],
                 skipped: dict[str, str], args: argparse.Namespace) -> None:
    """The peer table (workload x contender) and the targets, then what was skipped."""
    labels = {c.name: c.label for c in CONTENDERS} if args.markdown else {}
    suffix = " (quick sizes: indicative only)" if args.quick else ""
    source = next(iter(results.values()))["data"]["source"] if results else "no data"
    tables = [(f"Peers (medians; {source})", HEAD, table_rows(results, labels)),
              ("Targets (issues 22 and 27)" + suffix, TARGET_HEAD, target_table_rows(targets))]
    (print_markdown if args.markdown else print_rich)(tables)
    for name, note in skipped.items():
        print(f"skipped {name}: {note}")


def save(peers: dict[str, Any], out: Path) -> None:
    """Into `out` under the key "peers", keeping whatever else is there (bench.py's run)."""
    try:
        doc = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    doc["peers"] = peers
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes (1,024 / 512 images, 3 / 2 epochs), 1 repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workloads", default=None,
                   help="comma-separated subset, e.g. mlp,cnn (default: all)")
    p.add_argument("--contenders", default=None, help="comma-separated subset of names")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    p.add_argument("--jobs", type=int, default=1,
                   help="processes at once; above 1 the timings are meaningless (smoke checks)")
    p.add_argument("--out", type=Path, default=RESULTS, help="JSON file (key 'peers')")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    p.add_argument("--show", action="store_true",
                   help="print the tables of the run saved in --out; run nothing")
    return p.parse_args()


def select(args: argparse.Namespace) -> tuple[list[Workload], list[Contender]]:
    workloads = list(QUICK if args.quick else FULL)
    if args.workloads:
        wanted = args.workloads.split(",")
        workloads = [w for w in workloads if w.name in wanted]
    contenders = [c for c in CONTENDERS
                  if not args.contenders or c.name in args.contenders.split(",")]
    return workloads, contenders


def show(args: argparse.Namespace) -> None:
    """Re-print a saved run's tables (e.g. as Markdown for docs/benchmarks.md)."""
    peers = json.loads(args.out.read_text(encoding="utf-8"))["peers"]
    args.quick = peers["quick"]
    print(f"{peers['source']}; {peers['repeats']} repeat(s); load average "
          f"{peers['load_average_start'][0]:.2f} at start, {peers['load_average_end'][0]:.2f} "
          f"at end; {peers['cpus']} CPUs")
    print_tables(peers["workloads"], peers["targets"], peers["skipped"], args)


def main() -> None:
    args = parse_args()
    if args.show:
        show(args)
        return
    workloads, contenders = select(args)
    repeats = 1 if args.quick else args.repeats
    active, skipped = {}, {}
    for c in contenders:
        note, how = availability(c)
        if note:
            skipped[c.name] = note
        else:
            active[c.name] = (c, how)
    results: dict[str, Any] = {}
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mnist-cli-peers-") as tmp:
        for w in workloads:
            results[w.name] = run_workload(w, active, repeats, Path(tmp), args)
    targets = target_rows(results)
    print_tables(results, targets, skipped, args)
    peers = {"quick": args.quick, "repeats": repeats, "jobs": args.jobs, "cpus": os.cpu_count(),
             "load_average_start": load_start, "load_average_end": os.getloadavg(),
             "source": bench_data.source_name(), "skipped": skipped, "targets": targets,
             "workloads": results}
    save(peers, args.out)
    print(f"written to {args.out} (key 'peers')")


if __name__ == "__main__":
    main()
