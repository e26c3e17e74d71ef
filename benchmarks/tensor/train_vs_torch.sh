#!/usr/bin/env bash
# `nascent train`, the CLI as the README's commands build it, against the same training in
# PyTorch (torch_train.py), in the same run:
#   nascent train --space nb201 --arch ARCH --epochs E --train-subset N --threads T
# (C = 8, one cell per stage, one grey input channel, batch 256, SGD with Nesterov momentum 0.9,
# weight decay 5e-4, learning rate 0.1 on a cosine schedule, Fashion-MNIST padded 28 -> 32:
# the CLI's defaults) against torch_train.py training torch_timing.py's NB201 network on the same
# first N training images with the same settings, with ARCH
#   |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|
# (--eval-subset 500: the splits are evaluated after training, outside the time compared.)
# Compared: train_seconds, the wall time of the training steps that nascent reports (not loading
# the data, building the network or evaluating the validation and test splits), and the same part
# timed on the PyTorch side; thread counts are oneTBB's (--threads) and torch.set_num_threads.
# ROUNDS rounds, each running both sides at every thread count in turn; per thread count the
# medians over rounds and the ratio nascent / PyTorch (< 1: nascent faster). On a loaded machine
# look at the load printed and at PyTorch's CPU time beside its wall time (nascent reports wall
# time only). The training losses and accuracies are shown as a check that both sides do the same
# work (their initial weights and shuffles differ, so they agree only roughly).
#
# Usage: benchmarks/tensor/train_vs_torch.sh [--rounds 3] [--threads "1 2"] [--train-subset 2000]
#                                            [--epochs 1]
# Env: NASCENT_BIN: the nascent binary to measure; unset, the CLI is built in this tree's build/
#      ($BUILD_DIR) by scripts/build_cli.sh's build_nascent_cli (CMake Release, no -m flags:
#      what `cmake -S . -B build -G Ninja && cmake --build build` gives) and that binary is used.
#      NASCENT_SIMD, when set, is passed on to nascent (a forced SIMD level, shown in the header).
# PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (as run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
threads="1 2"
subset=2000
epochs=1
arch='|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --train-subset) subset=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        *) echo "train_vs_torch.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [[ -n ${NASCENT_BIN:-} ]]; then
    bash scripts/setup.sh --python
    bin=$NASCENT_BIN
else
    source scripts/build_cli.sh
    build_nascent_cli --python
    bin=$nascent
fi
[[ -x $bin ]] || { echo "train_vs_torch.sh: no executable nascent at $bin" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 benchmarks/tensor/torch_train.py "$@"; }

echo "nascent: $bin (built $(date -r "$bin" '+%F %T'))${NASCENT_SIMD:+, NASCENT_SIMD=$NASCENT_SIMD}"
echo "PyTorch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
echo "nb201 C = 8, 1 cell per stage, $epochs epoch(s) of the first $subset images, batch 256;" \
    "$rounds rounds; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

for ((round = 0; round < rounds; round++)); do
    for t in $threads; do
        "$bin" train --space nb201 --arch "$arch" --epochs "$epochs" --train-subset "$subset" --eval-subset 500 \
            --threads "$t" >"$tmp/out"
        grep -q '^status *ok$' "$tmp/out" || { cat "$tmp/out" >&2; exit 1; }
        sed "s/^/nascent $t /" "$tmp/out" >>"$tmp/results"
        torch --threads "$t" --epochs "$epochs" --train-subset "$subset" --arch "$arch" >"$tmp/out"
        sed "s/^/torch $t /" "$tmp/out" >>"$tmp/results"
    done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$tmp/results" "$rounds" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, threads, *rest = line.split()
    if len(rest) == 2 and rest[0] in ("train_seconds", "train_cpu_seconds", "train_loss", "train_acc"):
        rows[(side, int(threads), rest[0])].append(float(rest[1]))
med = lambda side, t, name: statistics.median(rows[(side, t, name)]) if rows[(side, t, name)] else float("nan")
print(f"\ntraining steps, s: medians over {sys.argv[2]} rounds")
print(f"{'thr':>3}{'nascent':>10}{'PyTorch':>10}{'ratio':>8}{'torch cpu':>11}"
      f"   train loss / acc (%): nascent, PyTorch")
for t in sorted({t for _, t, _ in rows}):
    n, p = med("nascent", t, "train_seconds"), med("torch", t, "train_seconds")
    print(f"{t:3}{n:10.2f}{p:10.2f}{n / p:8.2f}{med('torch', t, 'train_cpu_seconds'):11.2f}"
          f"   {med('nascent', t, 'train_loss'):.3f} / {med('nascent', t, 'train_acc'):.1f},"
          f" {med('torch', t, 'train_loss'):.3f} / {med('torch', t, 'train_acc'):.1f}")
PY
