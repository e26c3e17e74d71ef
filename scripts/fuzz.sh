#!/usr/bin/env bash
# libFuzzer targets (clang-14, -fsanitize=fuzzer,address,undefined), tests/fuzz/*.cpp:
#   csv         the CSV reader and the NB101 / NB201 table loaders
#   arch        NB201, NB101 (adjacency:ops), DARTS and MBConv arch strings
#   cli_values  constraint expressions, objective lists, dataset and metric names
# Each target first replays its regression inputs (tests/fuzz/regressions/<target>/: crashes
# found earlier, kept), then fuzzes for SECONDS seconds (default 30) from the seed corpus
# tests/fuzz/corpus/<target>/ (copied: the repository's corpus is not modified). A crash fails
# the script and leaves its input in build-fuzz/crashes/, to be added to the regressions.
#   scripts/fuzz.sh [SECONDS] [target...]      (NASCENT_DATA: data directory for cli_values)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --sanitizers
seconds=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(csv arch cli_values)
out=${FUZZ_DIR:-build-fuzz}
data=$(realpath "${NASCENT_DATA:-../shared/data}")
mkdir -p "$out/crashes"
cxx=(clang++-14)
if command -v ccache >/dev/null; then cxx=(ccache clang++-14); fi
total_start=$SECONDS
for t in "${targets[@]}"; do
  start=$SECONDS
  "${cxx[@]}" -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I include -DNASCENT_FUZZ_DATA_DIR="\"$data\"" \
    "tests/fuzz/$t.cpp" -o "$out/fuzz_$t"
  built=$SECONDS
  regressions=(tests/fuzz/regressions/"$t"/*)
  if [[ -e ${regressions[0]} ]]; then
    "$out/fuzz_$t" "${regressions[@]}" >"$out/$t.replay.log" 2>&1 ||
      { cat "$out/$t.replay.log"; echo "fuzz $t: a regression input fails" >&2; exit 1; }
  fi
  rm -rf "$out/corpus_$t" && cp -r "tests/fuzz/corpus/$t" "$out/corpus_$t"
  if ! "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" "$out/corpus_$t" \
      >"$out/$t.log" 2>&1; then
    tail -60 "$out/$t.log"
    echo "fuzz $t: crash; input in $out/crashes/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz $t: build $((built - start)) s, $runs inputs in ${seconds} s, no crash"
done
echo "fuzz: total $((SECONDS - total_start)) s"
