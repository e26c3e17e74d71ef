#!/usr/bin/env bash
# The tensor layer against PyTorch on the CPU: forward+backward at batch 64 of
#   conv16_32     conv2d 16->16 3x3 pad 1 on 32x32 (no bias; input and weight gradients)
#   conv64_8      conv2d 64->64 3x3 pad 1 on 8x8
#   nb201_c8_n1   the reduced NAS-Bench-201 network (C = 8, 1 cell per stage), 32x32x3 input
#   nb201_c16_n5  the full NAS-Bench-201 network (C = 16, 5 cells per stage)
# both networks of the cell |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|
# with a cross-entropy loss: nascent::eval::make_nb201_network on one side, the same network
# written in PyTorch (torch_timing.py) on the other.
#
# nascent is measured as users get it: tensor_timing.cpp is compiled three times, one after the
# other,
#   default        $CXXFLAGS (-O3 -DNDEBUG), no -m flags: the build users and the CLI get
#   -mavx2 -mfma   $CXXFLAGS -mavx2 -mfma: a typical laptop or AMD server build
#   -march=native  $CXXFLAGS -march=native
# and the default build also runs with NASCENT_SIMD=avx2 ("default avx2": the kernels a CPU
# without AVX-512 runs). The conv kernels pick their SIMD level at run time (the CPU's best; the
# header shows the level each runs on); the flags decide the rest (Eigen's GEMMs, elementwise
# code).
#
# Same shapes, same thread count (oneTBB's max_allowed_parallelism / torch.set_num_threads), in
# the same run: ROUNDS rounds, each running the four nascent runs and PyTorch at every thread
# count in turn; each run reports the median of its repetitions. The table, one per thread
# count, shows for each case the median over rounds of each build/level and of PyTorch, and the
# ratio of each to the native build and to PyTorch (< 1: faster). Wall time is what a user
# waits; process CPU time (all threads) is shown too, being less disturbed by other work on a
# shared machine (OpenMP's spinning threads count as CPU time).
#
# Usage: benchmarks/tensor/run.sh [--rounds 3] [--reps 9] [--threads "1 2"] [--cases a,b,...]
#                                 [--rss-steps 300]   (peak RSS of training nb201_c8_n1 in the
#                                                      default build; 0: skip)
# Env: CXX (g++), CXXFLAGS (-O3 -DNDEBUG: the flags of the default build, which the other two
# builds extend). NASCENT_SIMD from the caller is ignored.
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
read -r -a base_flags <<<"${CXXFLAGS:--O3 -DNDEBUG}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The three builds: name, extra flags. Compiled in sequence (a shared 2-core machine).
builds=(default mavx2 native)
declare -A extra=([default]="" [mavx2]="-mavx2 -mfma" [native]="-march=native")
for b in "${builds[@]}"; do
    read -r -a flags <<<"${extra[$b]}"
    start=$SECONDS
    "$cxx" -std=c++20 "${base_flags[@]}" "${flags[@]}" -Iinclude -isystem /usr/include/eigen3 \
        benchmarks/tensor/tensor_timing.cpp -ltbb -o "$tmp/tensor_timing_$b"
    echo "built $b: $cxx ${base_flags[*]}${extra[$b]:+ ${extra[$b]}} ($((SECONDS - start)) s)"
done

# The nascent runs: label, build, NASCENT_SIMD ("" = unset: the CPU's best level).
runs=(default default_avx2 mavx2 native)
declare -A run_build=([default]=default [default_avx2]=default [mavx2]=mavx2 [native]=native)
declare -A run_simd=([default]="" [default_avx2]=avx2 [mavx2]="" [native]="")
nascent_run() { # run label, tensor_timing arguments...
    local r=$1
    shift
    if [[ -n ${run_simd[$r]} ]]; then
        NASCENT_SIMD=${run_simd[$r]} "$tmp/tensor_timing_${run_build[$r]}" "$@"
    else
        env -u NASCENT_SIMD "$tmp/tensor_timing_${run_build[$r]}" "$@"
    fi
}
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/tensor/torch_timing.py "$@"; }

echo "PyTorch build:"
torch --info | sed 's/^/  /'
# Which kernels oneDNN dispatches to for one 64-channel convolution here.
{ ONEDNN_VERBOSE=1 DNNL_VERBOSE=1 torch --threads 1 --reps 1 --cases conv64_8 |
    grep -E "exec,cpu,convolution" | cut -d, -f4-6 | sort -u |
    sed 's/^/  oneDNN convolution: /'; } || echo "  (no oneDNN convolution reported)"

echo "nascent (direct kernels and its own GEMM, SIMD level chosen at run time; oneTBB); $(nproc) cores;" \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in "${runs[@]}"; do
    echo "  $r: build ${run_build[$r]}${run_simd[$r]:+ with NASCENT_SIMD=${run_simd[$r]}}," \
        "kernels on $(nascent_run "$r" --simd 2>&1)"
done

for ((round = 0; round < rounds; round++)); do
    for t in $threads; do
        for r in "${runs[@]}"; do
            nascent_run "$r" --threads "$t" --reps "$reps" --cases "$cases" |
                sed "s/^/$r $t /" >>"$tmp/results"
        done
        torch --threads "$t" --reps "$reps" --cases "$cases" | sed "s/^/torch $t /" >>"$tmp/results"
    done
done

/usr/bin/python3 - "$tmp/results" "$rounds" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, threads, case, wall, cpu, _ = line.split()
    rows[(case, int(threads), side)].append((float(wall), float(cpu)))
sides = [("default", "default"), ("default_avx2", "default avx2"), ("mavx2", "-mavx2 -mfma"),
         ("native", "-march=native"), ("torch", "PyTorch")]
med = lambda xs: statistics.median(xs)
cases = list(dict.fromkeys(c for c, _, _ in rows))
print(f"\nbatch 64, forward+backward, ms: medians over {sys.argv[2]} rounds of per-run medians;"
      " ratios to the native build and to PyTorch (< 1: faster)")
for threads in sorted({t for _, t, _ in rows}):
    print(f"\n{threads} thread{'s' if threads > 1 else ''}")
    print(f"{'case':14}{'build':15}{'wall':>9}{'/native':>9}{'/torch':>8}"
          f"{'cpu':>11}{'/native':>9}{'/torch':>8}")
    for case in cases:
        m = {s: (med([w for w, _ in rows[(case, threads, s)]]),
                 med([c for _, c in rows[(case, threads, s)]]))
             for s, _ in sides if rows[(case, threads, s)]}
        if "native" not in m or "torch" not in m:
            continue
        (nw, nc), (pw, pc) = m["native"], m["torch"]
        for i, (s, label) in enumerate(sides):
            if s not in m:
                continue
            w, c = m[s]
            print(f"{case if i == 0 else '':14}{label:15}{w:9.1f}{w / nw:9.2f}{w / pw:8.2f}"
                  f"{c:11.1f}{c / nc:9.2f}{c / pc:8.2f}")
PY

if [[ $rss_steps -gt 0 && ! -x /usr/bin/time ]]; then
    echo "no /usr/bin/time (Debian package time): peak RSS skipped"
elif [[ $rss_steps -gt 0 ]]; then
    echo
    echo "peak RSS, training nb201_c8_n1 for $rss_steps SGD steps at batch 64 (2 threads, default build):"
    env -u NASCENT_SIMD /usr/bin/time -v "$tmp/tensor_timing_default" --threads 2 \
        --train-steps "$rss_steps" 2>"$tmp/time" | sed 's/^/  /'
    grep -E "Maximum resident" "$tmp/time" | sed -E 's/.*: ([0-9]+)/  \1 KiB/' |
        awk '{printf "  peak RSS %.0f MiB\n", $1 / 1024}'
fi
