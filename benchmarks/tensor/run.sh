#!/usr/bin/env bash
# The tensor layer against PyTorch on the CPU: forward+backward at batch 64 of
#   conv16_32     conv2d 16->16 3x3 pad 1 on 32x32 (no bias; input and weight gradients)
#   conv64_8      conv2d 64->64 3x3 pad 1 on 8x8
#   nb201_c8_n1   the reduced NAS-Bench-201 network (C = 8, 1 cell per stage), 32x32x3 input
#   nb201_c16_n5  the full NAS-Bench-201 network (C = 16, 5 cells per stage)
# both networks of the cell |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|
# with a cross-entropy loss: nascent::eval::make_nb201_network on one side, the same network
# written in PyTorch (torch_timing.py) on the other. Same shapes, same thread count (oneTBB's
# max_allowed_parallelism / torch.set_num_threads), in the same run: ROUNDS rounds, each running
# both sides at every thread count in turn; each side reports the median of its repetitions, and
# the table shows the median over rounds and the ratio nascent / PyTorch (< 1: nascent faster).
# Wall time is what a user waits; process CPU time (all threads) is shown too, being less
# disturbed by other work on a shared machine (OpenMP's spinning threads count as CPU time).
#
# Usage: benchmarks/tensor/run.sh [--rounds 3] [--reps 9] [--threads "1 2"] [--cases a,b,...]
#                                 [--rss-steps 300]   (peak RSS of training nb201_c8_n1; 0: skip)
# Env: CXX (g++), CXXFLAGS (-O3 -DNDEBUG -march=native, as the project's executables).
# PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see the environment notes);
# its convolutions go through oneDNN (the configuration is printed first).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
reps=9
threads="1 2"
cases=conv16_32,conv64_8,nb201_c8_n1,nb201_c16_n5
rss_steps=300
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --cases) cases=$2; shift 2 ;;
        --rss-steps) rss_steps=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bash scripts/setup.sh --python
cxx=${CXX:-g++}
read -r -a cxxflags <<<"${CXXFLAGS:--O3 -DNDEBUG -march=native}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cxx" -std=c++20 "${cxxflags[@]}" -Iinclude -isystem /usr/include/eigen3 \
    benchmarks/tensor/tensor_timing.cpp -ltbb -o "$tmp/tensor_timing"
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/tensor/torch_timing.py "$@"; }

echo "PyTorch build:"
torch --info | sed 's/^/  /'
# Which kernels oneDNN dispatches to for one 64-channel convolution here.
{ ONEDNN_VERBOSE=1 DNNL_VERBOSE=1 torch --threads 1 --reps 1 --cases conv64_8 |
    grep -E "exec,cpu,convolution" | cut -d, -f4-6 | sort -u |
    sed 's/^/  oneDNN convolution: /'; } || echo "  (no oneDNN convolution reported)"

echo "nascent: $cxx ${cxxflags[*]} (direct kernels and Eigen GEMM, oneTBB); $(nproc) cores;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"

for ((r = 0; r < rounds; r++)); do
    for t in $threads; do
        "$tmp/tensor_timing" --threads "$t" --reps "$reps" --cases "$cases" |
            sed "s/^/nascent $t /" >>"$tmp/results"
        torch --threads "$t" --reps "$reps" --cases "$cases" | sed "s/^/torch $t /" >>"$tmp/results"
    done
done

/usr/bin/python3 - "$tmp/results" "$rounds" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, threads, case, wall, cpu, _ = line.split()
    rows[(case, int(threads), side)].append((float(wall), float(cpu)))
med = lambda xs: statistics.median(xs)
print(f"\nbatch 64, forward+backward, ms: medians over {sys.argv[2]} rounds of per-run medians")
print(f"{'case':14}{'thr':>4}{'nascent wall':>14}{'torch wall':>12}{'ratio':>7}"
      f"{'nascent cpu':>13}{'torch cpu':>11}{'ratio':>7}")
for case, threads in sorted({(c, t) for c, t, _ in rows}, key=lambda k: (k[1], k[0])):
    n, p = rows[(case, threads, "nascent")], rows[(case, threads, "torch")]
    if not n or not p:
        continue
    nw, pw = med([w for w, _ in n]), med([w for w, _ in p])
    nc, pc = med([c for _, c in n]), med([c for _, c in p])
    print(f"{case:14}{threads:4}{nw:14.1f}{pw:12.1f}{nw / pw:7.2f}{nc:13.1f}{pc:11.1f}{nc / pc:7.2f}")
PY

if [[ $rss_steps -gt 0 && ! -x /usr/bin/time ]]; then
    echo "no /usr/bin/time (Debian package time): peak RSS skipped"
elif [[ $rss_steps -gt 0 ]]; then
    echo
    echo "peak RSS, training nb201_c8_n1 for $rss_steps SGD steps at batch 64 (2 threads):"
    /usr/bin/time -v "$tmp/tensor_timing" --threads 2 --train-steps "$rss_steps" 2>"$tmp/time" |
        sed 's/^/  /'
    grep -E "Maximum resident" "$tmp/time" | sed -E 's/.*: ([0-9]+)/  \1 KiB/' |
        awk '{printf "  peak RSS %.0f MiB\n", $1 / 1024}'
fi
