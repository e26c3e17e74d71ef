#!/usr/bin/env bash
# Supernet training throughput, nascent against PyTorch on the identical reduced NB201 supernet
# (throughput.cpp, torch_supernet.py), in the same run: per mode (weighted, single) and thread
# count, images/s of each, their ratio (nascent / PyTorch, > 1: nascent faster) and peak RSS.
# nascent is built as the README's commands build it (-O3 -DNDEBUG, no -m flags) and, with
# --native, also with -march=native. Each measurement is a fresh process (peak RSS is per process).
#   benchmarks/oneshot/run.sh [--threads "1 2"] [--steps 30] [--rounds 1] [--native]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="1 2"; steps=30; rounds=1; native=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --threads) threads=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --native) native=1; shift ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bash "$root/scripts/setup.sh" --python >/dev/null
build="${TMPDIR:-/tmp}/nascent_oneshot_bench"
mkdir -p "$build"
flags=(-std=c++20 -O3 -DNDEBUG -I"$root/include" -isystem /usr/include/eigen3)
variants=(default)
((native)) && variants+=(native)
for v in "${variants[@]}"; do
    extra=(); [[ $v == native ]] && extra=(-march=native)
    exe="$build/throughput_$v"
    if [[ ! -x $exe || $here/throughput.cpp -nt $exe ||
          -n "$(find "$root/include" -newer "$exe" -name '*.hpp' -print -quit)" ]]; then
        echo "building throughput ($v)" >&2
        g++ "${flags[@]}" "${extra[@]}" "$here/throughput.cpp" -ltbb -lz -o "$exe"
    fi
done
echo "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'); $(nproc) cores;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg); $steps steps at batch 64 after 3 warm-up steps"
field() { sed -E "s/.*: ([0-9.]+) images\/s, peak RSS ([0-9.]+) MiB.*/\\$1/"; }
printf "%-9s %-7s %-8s %12s %12s %8s %14s %14s\n" mode threads build "nascent im/s" "torch im/s" ratio \
    "nascent MiB" "torch MiB"
for r in $(seq "$rounds"); do
    for mode in weighted single; do
        for t in $threads; do
            tline=$(env -u OPENBLAS_CORETYPE /usr/bin/python3 "$here/torch_supernet.py" --mode "$mode" \
                --threads "$t" --steps "$steps")
            for v in "${variants[@]}"; do
                nline=$("$build/throughput_$v" --mode "$mode" --threads "$t" --steps "$steps")
                n=$(field 1 <<<"$nline"); p=$(field 1 <<<"$tline")
                printf "%-9s %-7s %-8s %12s %12s %8.2f %14s %14s\n" "$mode" "$t" "$v" "$n" "$p" \
                    "$(awk -v a="$n" -v b="$p" 'BEGIN { print a / b }')" "$(field 2 <<<"$nline")" "$(field 2 <<<"$tline")"
            done
        done
    done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
