#!/usr/bin/env bash
# Search benchmark: `nascent compare` (9 cells = 3 datasets x 3 strategies, 500 runs each at
# budget 150) against a plain-Python implementation of the same protocol on the same CSV
# (baseline_protocol.py), both run here, now, REPEATS times each; medians and ratios printed.
# Usage: benchmarks/search/compare_vs_python.sh [REPEATS] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=5
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then repeats=$1; shift; fi
source scripts/build_cli.sh
build_nascent_cli --python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((i = 0; i < repeats; i++)); do
    "$build/apps/nascent/nascent" compare --threads 2 --json "$tmp/cpp_$i.json" "$@" >/dev/null
    /usr/bin/python3 benchmarks/search/baseline_protocol.py --json "$tmp/py_$i.json" "$@" >/dev/null
done

/usr/bin/python3 - "$tmp" "$repeats" <<'PY'
import json, statistics, sys
tmp, n = sys.argv[1], int(sys.argv[2])
cpp = [json.load(open(f"{tmp}/cpp_{i}.json")) for i in range(n)]
py = [json.load(open(f"{tmp}/py_{i}.json")) for i in range(n)]
med = lambda xs: statistics.median(xs)
cs, cl = med([d["search_seconds"] for d in cpp]), med([d["load_seconds"] for d in cpp])
ps, pl = med([d["search_seconds"] for d in py]), med([d["load_seconds"] for d in py])
print(f"median of {n} runs each; 9 cells x 500 runs x budget 150")
print(f"{'':22}{'nascent (2 threads)':>22}{'Python baseline':>18}{'ratio':>10}")
print(f"{'search, 9 cells':22}{cs*1e3:19.1f} ms{ps*1e3:15.1f} ms{ps/cs:9.1f}x")
print(f"{'table load':22}{cl*1e3:19.1f} ms{pl*1e3:15.1f} ms{pl/cl:9.1f}x")
print("\nmean test accuracy (%), nascent vs Python (different random streams, same protocol):")
for a, b in zip(cpp[0]["cells"], py[0]["cells"]):
    print(f"  {a['dataset']:15} {a['strategy']:7} {a['test_mean']:8.3f} {b['test_mean']:8.3f}")
PY
