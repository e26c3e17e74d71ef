#!/usr/bin/env bash
# End-to-end tests of `nascent oneshot` (tiny supernet runs on Fashion-MNIST): the output and the
# JSON trace of each method; the same alpha trace for 1 and 2 threads; a diverging search ends
# with status failed, exit 1 and its trace written; bad options are one line and exit code 2.
# Usage: oneshot_cli.sh PATH/TO/nascent DATA_DIR
set -u
nascent=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"

tiny=(--space nb201 --train-subset 128 --eval-subset 64 --batch 32 --data "$data" --seed 3)
out=$("$nascent" oneshot --method darts --epochs 2 "${tiny[@]}" --threads 1 --json "$tmp/d1.json")
rc=$?
if [[ $rc -eq 0 ]]; then pass; else fail "darts exit $rc: $out"; fi
for key in "epoch   2" "edge 0->1:" "edge 2->3:" "status         ok" "cell           |" "test cifar10" \
           "test cifar100" "test imagenet16-120"; do
    if [[ $out == *"$key"* ]]; then pass; else fail "darts output lacks '$key': $out"; fi
done
"$nascent" oneshot --method darts --epochs 2 "${tiny[@]}" --threads 2 --json "$tmp/d2.json" >/dev/null
# the trace: 2 epochs, 6 edges x 5 probabilities summing to 1, the same alpha on 1 and 2 threads
if /usr/bin/python3 - "$tmp/d1.json" "$tmp/d2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["status"] == "ok" and len(a["trace"]) == 2, a["status"]
for r in a["trace"]:
    assert len(r["probabilities"]) == 6 and all(len(p) == 5 for p in r["probabilities"])
    assert all(abs(sum(p) - 1) < 1e-6 for p in r["probabilities"])
assert [r["alpha"] for r in a["trace"]] == [r["alpha"] for r in b["trace"]]
assert a["cell"] == b["cell"] and set(a["test_acc@200"]) == {"cifar10", "cifar100", "imagenet16-120"}
PY
then pass; else fail "darts JSON trace"; fi
for m in darts2 gdas drnas; do
    out=$("$nascent" oneshot --method "$m" --epochs 1 "${tiny[@]}" --quiet)
    if [[ $? -eq 0 && $out == *"status         ok"* && $out == *"cell           |"* ]]; then pass; else
        fail "$m: $out"; fi
done
out=$("$nascent" oneshot --method gdas --epochs 2 "${tiny[@]}")
if [[ $out == *"tau 10.000"* && $out == *"tau 0.100"* ]]; then pass; else fail "gdas tau: $out"; fi
out=$("$nascent" oneshot --method spos --epochs 1 "${tiny[@]}" --budget 4 --recalibrate 1)
if [[ $? -eq 0 && $out == *"REA on the supernet: 4 genotypes"* && $out == *"cell           |"* ]]; then
    pass; else fail "spos: $out"; fi
out=$("$nascent" oneshot --method enas --epochs 2 "${tiny[@]}" --controller-steps 2 --aggregate 3 \
      --final-samples 4 --threads 1 --json "$tmp/e1.json")
if [[ $? -eq 0 && $out == *"controller: mean reward"* && $out == *"ENAS' pick: the best of 4 cells"* &&
      $out == *"cell           |"* ]]; then pass; else fail "enas: $out"; fi
"$nascent" oneshot --method enas --epochs 2 "${tiny[@]}" --controller-steps 2 --aggregate 3 \
    --final-samples 4 --threads 2 --json "$tmp/e2.json" >/dev/null
if /usr/bin/python3 - "$tmp/e1.json" "$tmp/e2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["status"] == "ok" and a["enas"]["updates"] == 4 and len(a["enas"]["controller"]) == 2
assert a["cell"] == b["cell"] and a["enas"] == b["enas"]
PY
then pass; else fail "enas JSON: 1 and 2 threads"; fi

# divergence: an infinite alpha step makes alpha non-finite
out=$("$nascent" oneshot --method darts --epochs 2 "${tiny[@]}" --a-lr 1e39 --json "$tmp/nan.json")
rc=$?
if [[ $rc -eq 1 && $out == *"status         failed (non-finite"* ]]; then pass; else fail "nan: exit $rc: $out"; fi
if /usr/bin/python3 -c "
import json, sys; d = json.load(open('$tmp/nan.json'))
assert d['status'] == 'failed' and len(d['trace']) == 1 and 'cell' not in d" 2>/dev/null; then pass; else
    fail "nan: trace not saved"; fi

expect_error "0 epochs" "--epochs 0 must be >= 1" oneshot --method darts --epochs 0 --data "$data"
expect_error "unknown method" "unknown --method 'foo'" oneshot --method foo --data "$data"
expect_error "enas aggregate 0" "--aggregate 0 must be >= 1" oneshot --method enas --aggregate 0 --data "$data"
expect_error "space without supernet" "--space darts has no supernet" oneshot --method darts --space darts --data "$data"
expect_error "unknown space" "unknown --space 'foo'" oneshot --method darts --space foo --data "$data"
expect_error "missing method" "--method is required" oneshot --epochs 1

echo "oneshot_cli: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
