#!/usr/bin/env bash
# End-to-end tests of the nascent CLI: output determinism across thread counts, the JSON report,
# and one-line errors with exit code 2 for every kind of bad input.
# Usage: cli.sh PATH/TO/nascent DATA_DIR
set -u
nascent=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0

env_args=() # VAR=value pairs for the next expect_error
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_error "description" "message fragment" nascent-args...
expect_error() {
    local what=$1 fragment=$2
    shift 2
    local out rc
    out=$(env "${env_args[@]}" "$nascent" "$@" 2>&1 >/dev/null)
    rc=$?
    if [[ $rc -ne 2 ]]; then fail "$what: exit $rc, expected 2"; return; fi
    if [[ $out != *"$fragment"* ]]; then fail "$what: message '$out' lacks '$fragment'"; return; fi
    if [[ $(printf '%s\n' "$out" | grep -c .) -gt 3 ]]; then fail "$what: message is not short: $out"; return; fi
    pass
}

# Byte-identical results for 1 and 2 threads (timing lines aside).
"$nascent" run --data "$data" --dataset cifar100 --strategy rea --runs 200 --budget 100 --seed 7 \
    --threads 1 --json "$tmp/t1.json" >"$tmp/t1.txt" || fail "run --threads 1"
"$nascent" run --data "$data" --dataset cifar100 --strategy rea --runs 200 --budget 100 --seed 7 \
    --threads 2 --json "$tmp/t2.json" >"$tmp/t2.txt" || fail "run --threads 2"
if cmp -s <(grep -v seconds "$tmp/t1.json") <(grep -v seconds "$tmp/t2.json"); then pass; else
    fail "JSON differs between 1 and 2 threads"; fi
if cmp -s <(grep -v "load .* ms" "$tmp/t1.txt" | sed 's/, [0-9]* threads//') \
          <(grep -v "load .* ms" "$tmp/t2.txt" | sed 's/, [0-9]* threads//'); then pass; else
    fail "summary differs between 1 and 2 threads"; fi

# The JSON report has the documented shape.
for key in '"benchmark": "nb201"' '"dataset": "cifar100"' '"strategy": "rea"' '"budget": 100' \
           '"seed": 7' '"runs": [' '"best_arch"' '"best_reward"' '"best_test"' '"queries":100' \
           '"trajectory"' '"summary"' '"test_mean"' '"test_std"' '"reward_mean"' '"load_seconds"' \
           '"search_seconds"'; do
    if grep -qF "$key" "$tmp/t1.json"; then pass; else fail "JSON lacks $key"; fi
done
if [[ $(grep -c '"run":' "$tmp/t1.json") -eq 200 ]]; then pass; else fail "JSON should hold 200 runs"; fi
if [[ ! -e "$tmp/t1.json.tmp."* ]] 2>/dev/null; then pass; else fail "temporary JSON left behind"; fi

# NASCENT_DATA is honoured; --data wins over it.
if NASCENT_DATA="$data" "$nascent" run --runs 3 --budget 5 >/dev/null; then pass; else fail "NASCENT_DATA"; fi
env_args=(NASCENT_DATA=/nonexistent/env-data)
expect_error "NASCENT_DATA missing" "'/nonexistent/env-data' (from NASCENT_DATA" run --runs 3
env_args=(NASCENT_DATA="$data")
expect_error "--data wins" "'/nonexistent/flag-data' (from --data" run --data /nonexistent/flag-data
env_args=()
mkdir -p "$tmp/empty"
expect_error "missing table" "$tmp/empty/nb201/nb201.csv" run --data "$tmp/empty"

# query
out=$("$nascent" query --data "$data" --arch '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|')
if [[ $out == *"index    6111"* && $out == *"cifar10 test_acc@200           94.3733"* &&
      $out == *"cifar100 valid_acc@200         missing"* ]]; then pass; else fail "query output: $out"; fi
out=$("$nascent" query --data "$data" --index 9930)
if [[ $out == *"cifar100 test_acc@200          73.5133"* ]]; then pass; else fail "query --index: $out"; fi
expect_error "bad arch" "unknown op 'conv9x9'" query --data "$data" \
    --arch '|conv9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|'
expect_error "query needs an arch" "query needs --arch STRING or --index N" query --data "$data"
expect_error "index out of range" "15625" query --data "$data" --index 15625

# Bad flags and values: exit 2, naming the valid choices.
expect_error "--runs 0" "--runs: must be >= 1, got 0" run --data "$data" --runs 0
expect_error "--budget 0" "--budget: must be >= 1, got 0" run --data "$data" --budget 0
expect_error "--threads 0" "--threads: must be >= 1, got 0" run --data "$data" --threads 0
expect_error "compare --runs 0" "--runs: must be >= 1, got 0" compare --data "$data" --runs 0
expect_error "unknown strategy" "--strategy: bananas not in {random,rea,ls}" run --data "$data" --strategy bananas
expect_error "unknown dataset" "--dataset: mnist not in {cifar10,cifar100,imagenet16-120}" run --data "$data" --dataset mnist
expect_error "unknown benchmark" "--benchmark: nb999 not in {nb201}" run --data "$data" --benchmark nb999
expect_error "unknown flag" "--frobnicate" run --frobnicate
expect_error "malformed number" "--runs: expected a whole number >= 1, got 'ten'" run --runs ten
expect_error "negative seed" "--seed: expected a whole number >= 0, got '-3'" run --seed -3
expect_error "no subcommand" "subcommand" 
expect_error "unwritable json" "cannot write" run --data "$data" --runs 2 --budget 5 --json /nonexistent/dir/out.json

# compare prints all nine cells.
out=$("$nascent" compare --data "$data" --runs 20 --budget 30)
for cell in "cifar10          random" "cifar100         rea" "imagenet16-120   ls"; do
    if [[ $out == *"$cell"* ]]; then pass; else fail "compare lacks '$cell'"; fi
done

echo "cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
