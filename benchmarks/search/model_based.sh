#!/usr/bin/env bash
# Model-based search (BANANAS, BO with a Hamming GP, BO with the WL-kernel GP) against random
# search and REA at budget 150 on the NAS-Bench-201 table (three datasets) and on the
# NAS-Bench-101 1k subset (--restrict-to-table). Prints mean +- std over RUNS runs of the chosen
# architecture's reported accuracy (NB201: 200-epoch test; NB101: 108-epoch validation; the
# search rewards are 12-epoch and 108-epoch validation accuracies) and the search time per run.
# Usage: benchmarks/search/model_based.sh [RUNS] [extra nascent args, e.g. --data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=100
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
source scripts/build_cli.sh
build_nascent_cli

strategies=(random rea bananas bo-gp bo-wl)
cell() { # mean +- std and seconds per run of one configuration
    local out
    out=$("$nascent" run --strategy "$1" --runs "$runs" --budget 150 "${@:2}")
    local acc secs
    acc=$(echo "$out" | grep "reported" | awk '{print $(NF-2), "+-", $NF}')
    secs=$(echo "$out" | grep "search" | sed -E 's/.*search ([0-9.]+) ms.*/\1/')
    printf " %18s %7.2f" "$acc" "$(awk -v ms="$secs" -v n="$runs" 'BEGIN { print ms / 1000 / n }')"
}
printf "%-22s" "benchmark"
for s in "${strategies[@]}"; do printf " %18s %7s" "$s" "s/run"; done
printf "\n"
for dataset in cifar10 cifar100 imagenet16-120; do
    printf "%-22s" "nb201 $dataset"
    for s in "${strategies[@]}"; do cell "$s" --dataset "$dataset" "$@"; done
    printf "\n"
done
printf "%-22s" "nb101 (1k, restricted)"
for s in "${strategies[@]}"; do cell "$s" --benchmark nb101 --restrict-to-table "$@"; done
printf "\n"
