#!/usr/bin/env bash
# The GPU device check (docs/gpu.md): on a machine with an NVIDIA GPU, install mnist-cli with
# the `gpu` extra into a venv, show `mnist-cli env`, make MNIST-sized data (60k train + 10k
# test 28x28 images tiled from the bundled digits, so accuracy still means something), and
# train the CNN on it: TensorFlow on one GPU, TensorFlow mirrored over every visible GPU,
# JAX, and TensorFlow on the CPU for comparison. Each run's metrics.json is checked for where
# it trained. Prints ONE summary table; exit 0 only if every check passed. Every step runs
# under `timeout`, and the whole under 10 minutes.
#
# Usage: bash scripts/device_check.sh
#   VENV=DIR        the venv to install into (default: a fresh one under $TMPDIR)
#   PY=PYTHON       use this interpreter's mnist-cli as installed: no venv, no install
#   PYTHON=python3  the interpreter that creates the venv
#   EPOCHS=2 N=60000 TEST_N=10000   training length and data size
#   DEVICE_CHECK_DRY=1  the same steps on the CPU, tiny data, no install (PY, or .venv, or
#                   python3): checks the script itself on a machine without a GPU
# Offline machines: pip reads PIP_NO_INDEX=1 PIP_FIND_LINKS=/path/to/wheels as usual.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
LIMIT_S=${LIMIT_S:-590}
DRY=${DEVICE_CHECK_DRY:-0}
EPOCHS=${EPOCHS:-2}
N=${N:-60000}
TEST_N=${TEST_N:-10000}
if [ "$DRY" = 1 ]; then
    N=${DRY_N:-2000}; TEST_N=${DRY_TEST_N:-500}; EPOCHS=1
    PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mnist-device-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TF_CPP_MIN_LOG_LEVEL=3 KERAS_HOME="$WORK/keras_home" JAX_COMPILATION_CACHE_DIR=""
START=$SECONDS
FAILED=0
GPUS=0
ROWS=()

# row STEP STATUS SECONDS DETAIL: one line of the summary table (status ok, skip or FAIL).
row() { ROWS+=("$(printf '%-14s %-5s %7s  %s' "$1" "$2" "$3" "$4")"); [ "$2" != FAIL ] || FAILED=1; }
left() { echo $((LIMIT_S - (SECONDS - START))); }
# bounded LIMIT CMD...: run CMD under `timeout`, never past the whole check's limit.
bounded() {
    local limit=$1; shift
    local rest; rest=$(left)
    [ "$rest" -lt "$limit" ] && limit=$rest
    [ "$limit" -le 5 ] && return 124
    timeout --kill-after=10 "$limit" "$@"
}

install() {
    if [ -n "${PY:-}" ]; then
        row install skip 0 "using $PY as installed"; return
    fi
    VENV=${VENV:-$WORK/venv}
    local t0=$SECONDS
    if bounded 360 "${PYTHON:-python3}" -m venv "$VENV" >"$WORK/install.log" 2>&1 \
            && bounded 360 "$VENV/bin/pip" install -q '.[gpu]' >>"$WORK/install.log" 2>&1 \
            && "$VENV/bin/pip" check >>"$WORK/install.log" 2>&1; then
        PY=$VENV/bin/python
        row install ok $((SECONDS - t0)) "$("$PY" -m pip list 2>/dev/null \
            | awk '/^(tensorflow|jax|jax-cuda12-plugin|nvidia-cudnn-cu12) /{printf "%s %s  ", $1, $2}')"
    else
        row install FAIL $((SECONDS - t0)) "see below"; tail -n 15 "$WORK/install.log"
        PY=""
    fi
}

env_step() {
    local t0=$SECONDS
    bounded 90 "$PY" -m mnist_cli env >"$WORK/env.txt" 2>&1
    cat "$WORK/env.txt"
    if ! bounded 90 "$PY" -m mnist_cli env --json >"$WORK/env.json" 2>"$WORK/env.err"; then
        row env FAIL $((SECONDS - t0)) "$(tail -n 1 "$WORK/env.err")"; GPUS=0; return
    fi
    GPUS=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["devices"]["GPU"]))' \
        "$WORK/env.json")
    local advice
    advice=$("$PY" -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["gpu"]["advice"]))' \
        "$WORK/env.json")
    if [ "$DRY" = 1 ] || [ "$GPUS" -ge 1 ]; then
        row env ok $((SECONDS - t0)) "TensorFlow GPUs: $GPUS; $advice"
    else
        row env FAIL $((SECONDS - t0)) "TensorFlow sees no GPU; $advice"
    fi
}

make_data() {
    # 28x28 digits: sklearn's 8x8 digits scaled 3x (24x24), padded, repeated to N + TEST_N.
    "$PY" - "$WORK/mnist-sized.npz" "$N" "$TEST_N" <<'EOF'
import sys

import numpy as np
from sklearn.datasets import load_digits

path, n, test_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
digits = load_digits()
images = np.kron(digits.images, np.ones((3, 3))) * (255 / 16)
images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)
rng = np.random.default_rng(0)
pick = rng.integers(0, len(images), n + test_n)
x, y = images[pick], digits.target[pick].astype(np.uint8)
np.savez(path, x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:])
EOF
}

# train STEP CHECK ARGS...: train the CNN with ARGS, then CHECK (a Python expression over the
# run's metrics.json as `m` and the GPU count as `gpus`) must hold.
train() {
    local step=$1 check=$2; shift 2
    local run="$WORK/$step" t0=$SECONDS rc
    bounded 150 "$PY" -m mnist_cli train -c cnn --data "$WORK/mnist-sized.npz" \
        --epochs "$EPOCHS" --seed 0 --run-dir "$run" --no-plots --no-tensorboard \
        --progress none --quiet "$@" >"$WORK/$step.out" 2>"$WORK/$step.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        row "$step" FAIL $((SECONDS - t0)) "exit $rc: $(tail -n 1 "$WORK/$step.err")"; return
    fi
    local verdict
    verdict=$("$PY" - "$run/metrics.json" "$GPUS" "$check" <<'EOF'
import json, sys

m, gpus, check = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
s = m["strategy"]
where = f"{m['backend']} {s['name']} ({s['why']}), {s['replicas']} replica(s)"
if s.get("devices"):
    where += " on " + ",".join(s["devices"])
ok = eval(check, {"m": m, "s": s, "gpus": gpus}) and m["test_accuracy"] > 0.5
print(f"{'ok' if ok else 'FAIL'}|{m['samples_per_second']:.0f}|"
      f"{m['samples_per_second']:.0f} samples/s, test acc {m['test_accuracy']:.3f}; {where}")
EOF
    )
    IFS='|' read -r status rate detail <<<"$verdict"
    row "$step" "${status:-FAIL}" $((SECONDS - t0)) "${detail:-no metrics.json}"
    eval "RATE_${step//-/_}=${rate:-0}"
}

install
if [ -n "${PY:-}" ]; then
    env_step
    make_data || row data FAIL 0 "could not write $WORK/mnist-sized.npz"
    if [ "$DRY" = 1 ]; then GPU=/cpu:0; else GPU=/gpu:0; fi
    # One GPU, explicitly: one-device refuses to start if TensorFlow has no such device.
    train tf-gpu 's["name"] == "one-device" and s["class"] == "OneDeviceStrategy"' \
        --strategy one-device --device "$GPU"
    # Mirrored over every visible GPU (no --device): one replica per GPU.
    train tf-mirrored 's["class"] == "MirroredStrategy" and s["replicas"] == max(gpus, 1)' \
        --strategy mirrored
    # JAX, strategy auto: what it saw is in strategy.why ("N accelerator(s) visible").
    if [ "$DRY" = 1 ]; then JAX_SAW='"no accelerator" in s["why"]'; else
        JAX_SAW='"no accelerator" not in s["why"]'; fi
    train jax 'm["backend"] == "jax" and '"$JAX_SAW" --backend jax
    train tf-cpu 's["name"] == "one-device"' --strategy one-device --device /cpu:0
    if [ "${RATE_tf_cpu:-0}" -gt 0 ]; then
        row speedup ok - "$(awk -v g="${RATE_tf_gpu:-0}" -v m="${RATE_tf_mirrored:-0}" \
            -v j="${RATE_jax:-0}" -v c="$RATE_tf_cpu" 'BEGIN { printf "samples/s vs tf-cpu: \
tf-gpu %.1fx, tf-mirrored %.1fx, jax %.1fx", g / c, m / c, j / c }')"
    fi
fi

echo
echo "device check ($( [ "$DRY" = 1 ] && echo "DRY: CPU, $N images" || echo "$N images" ), \
$EPOCHS epoch(s), $((SECONDS - START)) s)"
printf '%-14s %-5s %7s  %s\n' step status seconds detail
printf '%s\n' "${ROWS[@]}"
exit $FAILED
