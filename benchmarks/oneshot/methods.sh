#!/usr/bin/env bash
# DARTS, GDAS and DrNAS (and optionally darts2) on the reduced NB201 supernet over several seeds:
# one `nascent oneshot --json` per (method, seed) into OUT/, then a summary of the discretised
# cells' NB201 test accuracies (tools/oneshot_summary.py). Two runs at a time, one thread each
# (results do not depend on the thread count).
#   benchmarks/oneshot/methods.sh OUT [--methods "darts gdas drnas"] [--seeds "0 1 2 3 4"]
#                                 [extra nascent oneshot options...]
# Env: NASCENT_BIN (default build/apps/nascent/nascent).
set -euo pipefail
out=$1; shift
methods="darts gdas drnas"
seeds="0 1 2 3 4"
while [[ $# -gt 0 ]]; do
    case $1 in
        --methods) methods=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        *) break ;;
    esac
done
bin=${NASCENT_BIN:-build/apps/nascent/nascent}
mkdir -p "$out"
jobs=()
for m in $methods; do
    for s in $seeds; do
        jobs+=("$m $s")
    done
done
run() {
    local m=$1 s=$2; shift 2
    "$bin" oneshot --method "$m" --seed "$s" --threads 1 --quiet --json "$out/$m-$s.json" "$@" \
        >"$out/$m-$s.log" 2>&1 || echo "$m seed $s: exit $?" >>"$out/failures.txt"
}
i=0
for j in "${jobs[@]}"; do
    # shellcheck disable=SC2086
    run $j "$@" &
    i=$((i + 1))
    if ((i % 2 == 0)); then wait; fi
done
wait
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
