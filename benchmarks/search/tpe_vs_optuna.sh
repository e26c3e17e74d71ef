#!/usr/bin/env bash
# nascent's TPE against Optuna 3.1's TPESampler on the NB201 protocol (reward valid_acc@12, budget
# 150 distinct architectures, repeats free), three datasets, both run here, now. nascent runs on
# one thread so that its time per trial compares with Optuna's (one Python thread); then
# `nascent stats` compares tpe, rea and random over the same runs (tools/plot_stats.py draws it).
# Usage: benchmarks/search/tpe_vs_optuna.sh [RUNS] [OPTUNA_RUNS] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=100
optuna_runs=20
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then optuna_runs=$1; shift; fi
source scripts/build_cli.sh
build_nascent_cli
out=${OUT:-$(mktemp -d)}
files=()
for dataset in cifar10 cifar100 imagenet16-120; do
    for s in random rea tpe; do
        "$nascent" run --strategy "$s" --dataset "$dataset" --runs "$runs" --budget 150 --seed 0 \
            --threads 1 --json "$out/$s-$dataset.json" "$@" | grep -E "reported|search"
        files+=("$out/$s-$dataset.json")
    done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, glob
for f in sorted(glob.glob(sys.argv[1] + "/tpe-*.json")):
    d = json.load(open(f))
    trials = sum(r["queries"] + r["repeats"] for r in d["runs"])
    print(f"nascent tpe {d['dataset']:15} {1e3 * d['summary']['search_seconds'] / trials:.4f} ms per trial")
PY
"$nascent" stats "${files[@]}" --json "$out/stats.json" "$@"
/usr/bin/python3 tools/plot_stats.py "$out/stats.json" "$out/regret.png" "$out/cd.png"
if /usr/bin/python3 -c "import optuna" 2>/dev/null; then
    /usr/bin/python3 benchmarks/search/optuna_tpe.py --runs "$optuna_runs" --json "$out/optuna.json" "$@"
else
    echo "python3-optuna is not installed (apt-get install -y python3-optuna): Optuna not measured"
fi
echo "files in $out"
