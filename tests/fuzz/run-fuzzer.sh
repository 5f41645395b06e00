#!/bin/sh
# Runs a libFuzzer binary and repeats its "Done N runs in S second(s)" line on stdout, so the
# run count and time stay visible in ctest logs even when the test passes.
#   run-fuzzer.sh [--copy-corpus SEED_DIR WORK_DIR] FUZZER [libFuzzer args...]
# --copy-corpus refreshes WORK_DIR from SEED_DIR first, so libFuzzer never writes into the sources.
# Exits with the fuzzer's status.
set -u
if [ "${1:-}" = "--copy-corpus" ]; then
    seed_dir=$2
    work_dir=$3
    shift 3
    rm -rf "$work_dir" && mkdir -p "$work_dir" && cp "$seed_dir"/* "$work_dir"/ || exit 2
fi
fuzzer=$1
shift
log=$(mktemp "${TMPDIR:-/tmp}/run-fuzzer.XXXXXX")
"$fuzzer" "$@" >"$log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
    cat "$log"
fi
name=$(basename "$fuzzer")
if done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log"); then
    echo "$name: $done_line"
else
    echo "$name: no 'Done ... runs' line (status $status)"
fi
rm -f "$log"
exit "$status"
