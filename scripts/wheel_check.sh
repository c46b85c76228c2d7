#!/usr/bin/env bash
# Prove the installed product works: build the sdist and the wheel (the wheel from the sdist,
# as pip would), install the wheel outside the clone on top of the dev venv's dependencies
# (pip --no-deps --target), and from a directory outside the clone run the quick start.
# A module or config missing from the wheel fails here. Usage: make wheel-check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mnist-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TF_CPP_MIN_LOG_LEVEL=3 PIP_DISABLE_PIP_VERSION_CHECK=1

# Build from the tracked files only, so nothing stale (build/, *.egg-info, runs/) leaks in.
mkdir -p "$WORK/src"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$WORK/src"
"$PY" -m build --no-isolation --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log"; echo "wheel-check: build failed"; exit 1; }
WHEEL=$(ls "$WORK"/dist/*.whl)
SDIST=$(ls "$WORK"/dist/*.tar.gz)
FILES=$("$PY" -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$WHEEL")
echo "built $(basename "$SDIST") ($(du -k "$SDIST" | cut -f1) KiB)"
echo "built $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB, $FILES files)"

START=$SECONDS
"$PY" -m pip install --quiet --no-deps --target "$WORK/site" "$WHEEL"
mkdir -p "$WORK/outside"
cd "$WORK/outside"  # outside the clone: nothing can be imported from it by accident
export PYTHONPATH="$WORK/site" KERAS_HOME="$WORK/keras_home" MPLCONFIGDIR="$WORK/mpl"
CLI="$WORK/site/bin/mnist-cli"
"$PY" - "$WORK/site" <<'PY'
import sys
import mnist_cli
assert mnist_cli.__file__.startswith(sys.argv[1]), f"imported {mnist_cli.__file__}, not the wheel"
PY
"$CLI" --version
"$CLI" config list
"$CLI" train --data digits --epochs 1 --json >train.json
"$PY" - <<'PY'
import json
import pathlib
m = json.load(open("train.json"))
run = pathlib.Path(m["run_dir"])
missing = [f for f in ("config.yaml", "model.keras", "history.csv", "metrics.json",
                       "curves.png") if not (run / f).is_file()]
assert m["status"] == "completed" and not missing, (m["status"], missing)
print(f"train: test accuracy {m['test_accuracy']:.3f}, version {m['versions']['mnist_cli']}")
PY
"$CLI" gradcheck --quiet
if "$PY" -c "import jax" 2>/dev/null; then  # the [jax] extra: the same from the wheel on JAX
    export JAX_COMPILATION_CACHE_DIR="$WORK/jax-cache"
    "$CLI" train --data digits --epochs 1 --backend jax --run-dir jax-run --json >jax.json
    "$CLI" evaluate jax-run --json >jax-eval.json
    "$CLI" gradcheck --backend jax --params 5 --directions 2 --quiet
    "$PY" - <<'PY'
import json
m, e = json.load(open("jax.json")), json.load(open("jax-eval.json"))
assert m["backend"] == "jax" and e["backend"] == "jax", (m["backend"], e["backend"])
assert abs(e["accuracy"] - m["test_accuracy"]) < 1e-12, (e["accuracy"], m["test_accuracy"])
print(f"jax: trained, evaluated ({e['accuracy']:.3f}) and gradient-checked from the wheel")
PY
fi
echo "wheel-check: install and smoke took $((SECONDS - START)) s"
