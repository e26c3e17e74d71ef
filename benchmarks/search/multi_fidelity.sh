#!/usr/bin/env bash
# Multi-fidelity strategies against single-fidelity ones at equal cost on NAS-Bench-201 CIFAR-10
# (the one dataset with 12- and 200-epoch validation accuracies in the table). Cost unit: one
# 12-epoch evaluation; a 200-epoch one costs 200/12. Random search and REA spend the budget on
# 12-epoch evaluations. Prints mean +- std of the chosen architecture's 200-epoch test accuracy.
# Usage: benchmarks/search/multi_fidelity.sh [RUNS] [extra nascent args, e.g. --data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=500
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
source scripts/build_cli.sh
build_nascent_cli

printf "%-8s" "budget"
strategies=(random rea sh hyperband bohb)
for s in "${strategies[@]}"; do printf " %20s" "$s"; done
printf "\n"
for budget in 150 500 1500; do
    printf "%-8s" "$budget"
    for s in "${strategies[@]}"; do
        line=$("$nascent" run --dataset cifar10 --strategy "$s" --runs "$runs" --budget "$budget" "$@" |
               grep "reported test_acc@200")
        printf " %20s" "$(echo "$line" | awk '{print $(NF-2), "+-", $NF}')"
    done
    printf "\n"
done
