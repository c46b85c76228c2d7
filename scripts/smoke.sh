#!/usr/bin/env bash
# End-to-end smoke test on the bundled digits: every command once, exit codes and --json checked.
# Usage: bash scripts/smoke.sh   (make smoke). Takes well under 3 minutes on 2 CPU cores.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mnist-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TF_CPP_MIN_LOG_LEVEL=3 KERAS_HOME="$WORK/keras_home"
FAILED=0
PASSED=0
FAILS=0
START=$SECONDS

has_command() { "$PY" -m mnist_cli "$1" --help >/dev/null 2>&1; }

# step NAME -- ARGS...: run `mnist-cli ARGS`, require exit 0 and one JSON object on stdout.
step() {
    local name=$1; shift
    if ! has_command "$1"; then
        echo "FAIL $name: command '$1' does not exist yet"; FAILED=1; return
    fi
    local t0=$SECONDS
    "$PY" -m mnist_cli "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: exit $rc"; tail -n 5 "$WORK/$name.err" | sed 's/^/    /'; FAILED=1; return
    fi
    if ! "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/$name.json" 2>/dev/null; then
        echo "FAIL $name: stdout is not one JSON object"; head -c 300 "$WORK/$name.json"; FAILED=1
        return
    fi
    echo "ok   $name ($((SECONDS - t0)) s)"
    PASSED=$((PASSED + 1))
}

# expect NAME CODE PATTERN -- ARGS...: require exit CODE and PATTERN in stderr (a CI log:
# stderr is a file here, so progress is plain lines), and no traceback.
expect() {
    local name=$1 code=$2 pattern=$3; shift 3
    "$PY" -m mnist_cli "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    if [ $rc -ne "$code" ] || ! grep -q -- "$pattern" "$WORK/$name.err" \
            || grep -q Traceback "$WORK/$name.err"; then
        echo "FAIL $name: exit $rc (want $code), stderr:"; tail -n 5 "$WORK/$name.err" | sed 's/^/    /'
        FAILED=1; return
    fi
    echo "ok   $name"
    PASSED=$((PASSED + 1))
}

RUN="$WORK/run"
step train train --data digits --epochs 1 --seed 1 --run-dir "$RUN" --json
expect train-log 0 "^epoch 2/2  loss .* samples/s$" train --data digits --epochs 2 --seed 1 \
    --run-dir "$WORK/logged" --no-plots --fail-under test_accuracy=0.5
expect gate-fails 1 "^error: gate test_accuracy >= 1.01 FAILED" evaluate "$RUN" --data digits \
    --fail-under test_accuracy=1.01
touch "$WORK/a-file"
expect run-dir-file 2 "is an existing file" train --data digits --run-dir "$WORK/a-file"
expect bad-choice 2 "is not one of 'auto', 'nccl'" train --cross-device-ops bogus
step evaluate evaluate "$RUN" --data digits --json
step predict predict "$RUN" --data digits --out "$WORK/predictions.csv" --json
step compare compare -c mlp_relu -c mlp_softmax --epochs 1 --data digits --seed 1 \
    --run-dir "$WORK/compare" --json
step gradcheck gradcheck --data digits --json

echo "smoke took $((SECONDS - START)) s"
[ $FAILED -ne 0 ] && FAILS=$((9 - PASSED))
echo "smoke: $PASSED passed, $FAILS failed"
[ $FAILED -eq 0 ]
