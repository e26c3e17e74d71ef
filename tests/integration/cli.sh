#!/usr/bin/env bash
# End-to-end tests of the nascent CLI: output determinism across thread counts, the JSON report,
# and one-line errors with exit code 2 for every kind of bad input.
# Usage: cli.sh PATH/TO/nascent DATA_DIR
set -u
nascent=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"

# Byte-identical results for 1 and 2 threads (timing lines aside).
"$nascent" run --data "$data" --dataset cifar100 --strategy rea --runs 200 --budget 100 --seed 7 \
    --threads 1 --json "$tmp/t1.json" >"$tmp/t1.txt" || fail "run --threads 1"
"$nascent" run --data "$data" --dataset cifar100 --strategy rea --runs 200 --budget 100 --seed 7 \
    --threads 2 --json "$tmp/t2.json" >"$tmp/t2.txt" || fail "run --threads 2"
if cmp -s <(grep -v "seconds\|\"manifest\"" "$tmp/t1.json") <(grep -v "seconds\|\"manifest\"" "$tmp/t2.json"); then pass; else
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
expect_error "unknown strategy" "--strategy: enas not in {random,rea,ls,sh,hyperband,bohb,nsga2,bananas,bo-gp,bo-wl,tpe,reinforce,lstm,ppo}" run --data "$data" --strategy enas
expect_error "unknown dataset" "--dataset: mnist not in {cifar10,cifar100,imagenet16-120}" run --data "$data" --dataset mnist
expect_error "unknown benchmark" "--benchmark: nb999 not in {nb201,nb101}" run --data "$data" --benchmark nb999
expect_error "unknown flag" "--frobnicate" run --frobnicate
expect_error "malformed number" "--runs: expected a whole number >= 1, got 'ten'" run --runs ten
expect_error "negative seed" "--seed: expected a whole number >= 0, got '-3'" run --seed -3
expect_error "no subcommand" "subcommand" 
expect_error "unwritable json" "cannot write" run --data "$data" --runs 2 --budget 5 --json /nonexistent/dir/out.json

# NAS-Bench-101: a search restricted to the table's cells, queries in and out of the table, and
# bad cells named precisely.
out=$("$nascent" run --data "$data" --benchmark nb101 --restrict-to-table --strategy rea --runs 8 --budget 30)
if [[ $out == *"reported valid_acc@108 of the chosen arch:"* && $out == *"94.6715 (hash 009a0f4922f1f1ef74542d849f60fbf2)"* ]]; then
    pass; else fail "nb101 run: $out"; fi
out=$("$nascent" query --data "$data" --benchmark nb101 --arch '0100110001000000010010000010000001000000010000000:input|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|output')
if [[ $out == *"hash      00005c142e6f48ac74fdcf73e3439874"* && $out == *"valid_acc@108        93.0489"* && $out == *"params               8.55553e+06"* ]]; then
    pass; else fail "nb101 query: $out"; fi
out=$("$nascent" query --data "$data" --benchmark nb101 --arch '0110000100010000:input|conv3x3-bn-relu|conv1x1-bn-relu|output')
if [[ $out == *"status    out_of_table"* ]]; then pass; else fail "nb101 out-of-table query: $out"; fi
expect_error "nb101 cycle" "edge 3->3 is not above the diagonal" query --data "$data" --benchmark nb101 \
    --arch '0110000100010001:input|conv3x3-bn-relu|conv1x1-bn-relu|output'
expect_error "nb101 op label" "conv5x5" query --data "$data" --benchmark nb101 \
    --arch '0110000100010000:input|conv5x5|conv1x1-bn-relu|output'
expect_error "nb101 too many edges" "edges" query --data "$data" --benchmark nb101 \
    --arch '0111111001111100011110000111000001100000010000000:input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|output'
expect_error "nb101 multi-fidelity" "not available for nb101" run --data "$data" --benchmark nb101 --strategy bohb --runs 1
expect_error "restrict on nb201" "--restrict-to-table applies to nb101" run --data "$data" --restrict-to-table
expect_error "unknown report metric" "unknown metric 'test_acc@108'" run --data "$data" --benchmark nb101 --report test_acc@108 --runs 1

# Multi-fidelity strategies report cumulative cost in 12-epoch units.
"$nascent" run --data "$data" --strategy hyperband --runs 4 --budget 100 --json "$tmp/hb.json" >/dev/null || fail "hyperband run"
if grep -q '"cost":\[1' "$tmp/hb.json"; then pass; else fail "hyperband JSON lacks cost"; fi

# Multi-objective, hardware-aware runs: the JSON summary and each run's front.
"$nascent" run --data "$data" --objectives test_acc,latency:pixel3 --strategy nsga2 --runs 4 --budget 100 \
    --json "$tmp/mo.json" >"$tmp/mo.txt" || fail "nsga2 run"
for key in '"hv_mean"' '"hv_std"' '"hv_ratio_mean"' '"front":[{"arch":' '"latency:pixel3":' '"test_acc@200":'; do
    if grep -qF "$key" "$tmp/mo.json"; then pass; else fail "multi-objective JSON lacks $key"; fi
done
if grep -q "ratio to the exact front's:" "$tmp/mo.txt"; then pass; else fail "multi-objective summary"; fi
expect_error "unknown device" "unknown device 'iphone' (valid: 1080ti_1" run --data "$data" --objectives test_acc,latency:iphone
expect_error "duplicate objectives" "duplicate objective 'test_acc@200'" run --data "$data" --objectives test_acc,test_acc@200
expect_error "unknown objective" "unknown objective 'speed'" run --data "$data" --objectives test_acc,speed
expect_error "constraint on a missing metric" "constraint on 'latency:fpga'" run --data "$data" \
    --objectives test_acc,params --constraint 'latency:fpga<=3' --runs 1
expect_error "malformed constraint" "invalid constraint 'params<3'" run --data "$data" --objectives test_acc,params --constraint 'params<3'
expect_error "nsga2 without objectives" "nsga2 needs --objectives" run --data "$data" --strategy nsga2

# Names from the strategy registry (exec/registry.hpp): choices, help and "valid: ..." lists.
out=$("$nascent" run --help)
if [[ $out == *"{random,rea,ls,sh,hyperband,bohb,nsga2,bananas,bo-gp,bo-wl,tpe,reinforce,lstm,ppo}"* &&
      $out == *"search strategy (sh, hyperband, bohb: nb201 only)"* &&
      $out == *"scalarisation weights for rea/ls/reinforce/lstm/ppo with --objectives"* ]]; then pass; else fail "run --help: $out"; fi
# The list names only what NB101 can build: the RL controllers need a categorical space.
expect_error "nb101 multi-fidelity list" "strategy 'sh' is not available for nb101 (valid: random, rea, ls)" \
    run --data "$data" --benchmark nb101 --strategy sh --runs 1
expect_error "objectives list" "strategy 'bananas' does not support --objectives (valid: nsga2, random, rea, ls, reinforce, lstm, ppo)" \
    run --data "$data" --strategy bananas --objectives test_acc,params --runs 1

# Model-based strategies: identical results for 1 and 2 threads (BANANAS), warm starts, NB101.
for threads in 1 2; do
    "$nascent" run --data "$data" --strategy bananas --runs 2 --budget 25 --seed 3 --threads $threads \
        --json "$tmp/bananas$threads.json" >/dev/null || fail "bananas --threads $threads"
done
if cmp -s <(grep -v "seconds\|\"manifest\"" "$tmp/bananas1.json") <(grep -v "seconds\|\"manifest\"" "$tmp/bananas2.json"); then pass; else
    fail "bananas JSON differs between 1 and 2 threads"; fi
out=$("$nascent" run --data "$data" --strategy bo-wl --runs 2 --budget 20 --warm-start synflow --json "$tmp/warm.json")
if [[ $out == *"strategy bo-wl: 2 runs, budget 20"* ]] && grep -q '"queries":20' "$tmp/warm.json"; then pass; else
    fail "bo-wl warm-started by synflow: $out"; fi
"$nascent" run --data "$data" --dataset cifar100 --strategy bo-gp --runs 2 --budget 15 --warm-start transfer:cifar10 \
    >/dev/null || fail "bo-gp warm-started by transfer"
out=$("$nascent" run --data "$data" --benchmark nb101 --restrict-to-table --strategy bo-wl --runs 2 --budget 30)
if [[ $out == *"reported valid_acc@108 of the chosen arch:"* ]]; then pass; else fail "nb101 bo-wl: $out"; fi
expect_error "unknown proxy" "no proxy 'speed' (valid: " run --data "$data" --strategy bananas --warm-start speed --runs 1
expect_error "transfer to itself" "transfers from the dataset being searched" run --data "$data" --strategy bo-gp \
    --warm-start transfer:cifar10 --runs 1
expect_error "transfer without the metric" "the table has valid_acc@200 for only 0 cells of cifar100" run --data "$data" \
    --strategy bo-gp --reward valid_acc@200 --warm-start transfer:cifar100 --runs 1
expect_error "warm start for rea" "--warm-start applies to bananas, bo-gp, bo-wl and tpe" run --data "$data" \
    --strategy rea --warm-start synflow

# Predictor benchmark: the table and the JSON rows.
"$nascent" predictors --data "$data" --sizes 10,20 --test 50 --seeds 2 --predictors bananas,wl-gp \
    --json "$tmp/pred.json" >"$tmp/pred.txt" || fail "predictors"
if grep -qE "^wl-gp +20 " "$tmp/pred.txt" && grep -q '"kendall_tau":' "$tmp/pred.json"; then pass; else
    fail "predictors output: $(cat "$tmp/pred.txt")"; fi
expect_error "unknown predictor" "unknown predictor 'xgb'" predictors --data "$data" --predictors xgb
expect_error "too many cells" "training sizes must lie in [1, " predictors --data "$data" --sizes 15000

# Zero-cost proxies: identical JSON for 1 and 2 threads.
"$nascent" proxies --data "$data" --sample 3 --data-free --threads 1 --json "$tmp/p1.json" || fail "proxies 1 thread"
"$nascent" proxies --data "$data" --sample 3 --data-free --threads 2 --json "$tmp/p2.json" || fail "proxies 2 threads"
if cmp -s "$tmp/p1.json" "$tmp/p2.json" && grep -q '"synflow":' "$tmp/p1.json"; then pass; else fail "proxies JSON"; fi
expect_error "proxies on nb101" "--space: nb101 not in {nb201}" proxies --space nb101

out=$("$nascent" spaces)
if [[ $out == *"nb201         15625"* && $out == *"mbconv        2.176e+19"* ]]; then pass; else fail "spaces: $out"; fi

# compare prints all nine cells of the main job (random, rea, ls), or the --strategies given.
out=$("$nascent" compare --data "$data" --runs 20 --budget 30)
for cell in "cifar10          random" "cifar100         rea" "imagenet16-120   ls"; do
    if [[ $out == *"$cell"* ]]; then pass; else fail "compare lacks '$cell'"; fi
done
if [[ $out != *"reinforce"* && $out == *"(9 cells x 20 runs"* ]]; then pass; else fail "compare: not the three"; fi
expect_error "compare a model-based strategy" "--strategies: 'tpe' is not a plain strategy" \
    compare --data "$data" --strategies tpe,reinforce
out=$("$nascent" compare --data "$data" --runs 5 --budget 20 --strategies reinforce)
if [[ $out == *"cifar100         reinforce"* && $out == *"(3 cells x 5 runs"* ]]; then pass; else fail "compare --strategies reinforce: $out"; fi

echo "cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
