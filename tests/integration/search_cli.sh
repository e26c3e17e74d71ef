#!/usr/bin/env bash
# End-to-end tests of `nascent search` and `nascent evaluate-export` on a tiny .npy data set
# written here (plain Python, no numpy): a search of a few evaluations exports a network whose
# reload gives the exported test accuracy to the last digit, and whose retrain command gives it
# again; bad options and bad files are one line on stderr and exit code 2; after kill -9, --resume
# replays the finished evaluations (none is trained again) and ends as the uninterrupted search.
# Usage: search_cli.sh PATH/TO/nascent [DATA_DIR]
set -u
nascent=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"

# X: (N, 12, 12) float32, Y: (N,) int64, 3 classes told apart by a bright band of rows.
/usr/bin/python3 - "$tmp" <<'EOF'
import random, struct, sys
def npy(path, descr, shape, fmt, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
rng = random.Random(7)
def make(n):
    x, y = [], []
    for i in range(n):
        c = i % 3
        y.append(c)
        x += [rng.random() + (1.0 if (k // 12) % 3 == c else 0.0) for k in range(144)]
    return x, y
d = sys.argv[1]
x, y = make(300)
npy(d + "/x.npy", "<f4", (300, 12, 12), "f", x)
npy(d + "/y.npy", "<i8", (300,), "q", y)
x, y = make(60)
npy(d + "/xt.npy", "<f4", (60, 12, 12), "f", x)
npy(d + "/yt.npy", "<i8", (60,), "q", y)
EOF
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

data="npy:$tmp/x.npy,$tmp/y.npy,$tmp/xt.npy,$tmp/yt.npy"
tiny=(--dataset "$data" --epochs 1 --channels 2 --batch 32 --valid-fraction 0.2 --threads 2)

# A search of 4 evaluations, 2 in flight: exported, reloaded to the same test accuracy.
out=$("$nascent" search --strategy rea --budget 4 --in-flight 2 --seed 3 "${tiny[@]}" \
      --out "$tmp/export" --json "$tmp/summary.json" 2>&1)
if [[ $? -eq 0 && $out == *"best |"* && $out == *"retrain: nascent search"* ]]; then pass; else
    fail "search: $out"; fi
if [[ -s $tmp/export/best.json && -s $tmp/export/weights.bin ]]; then pass; else fail "no export"; fi
[[ $(json "$tmp/summary.json" "d['evaluated']") == 4 ]] && pass || fail "not 4 evaluations"
[[ $(json "$tmp/summary.json" "d['data']['train'], d['data']['validation'], d['data']['test']") == "(240, 60, 60)" ]] &&
    pass || fail "split sizes"
[[ $(json "$tmp/export/best.json" "d['retrained_identically']") == True ]] && pass || fail "retrain differs"
exported=$(json "$tmp/export/best.json" "repr(d['metrics']['test_acc'])")
out=$("$nascent" evaluate-export "$tmp/export")
rc=$?
reloaded=$(sed -n 's/^test_acc //p' <<<"$out")
if [[ $rc -eq 0 && $out == *equal* && -n $reloaded ]] &&
    /usr/bin/python3 -c "import sys; assert repr(float(sys.argv[1])) == sys.argv[2]" "$reloaded" "$exported"; then
    pass; else fail "reload: '$reloaded' vs exported '$exported' ($out)"; fi
# The export's retrain command trains the same network again: the same test accuracy.
retrain=$(json "$tmp/export/best.json" "d['retrain_command']")
retrain=${retrain/#nascent /}
retrain=${retrain/"--out '$tmp/export'"/--out "'$tmp/again'"}
eval "\"\$nascent\" $retrain --threads 2" >/dev/null 2>&1 || fail "retrain command: $retrain"
again=$(json "$tmp/again/best.json" "repr(d['metrics']['test_acc'])" 2>/dev/null)
[[ $again == "$exported" ]] && pass || fail "retrain: test_acc $again, exported $exported"

# Bad options and files: one line, exit 2.
expect_error "unknown data set" "accepted: fashion-mnist, idx:DIR" search --dataset mnist --budget 1
expect_error "missing npy" "no such file" search --dataset "npy:$tmp/none.npy,$tmp/y.npy" --budget 1
head -c 200 "$tmp/x.npy" >"$tmp/cut.npy"
expect_error "truncated npy" "truncated" search --dataset "npy:$tmp/cut.npy,$tmp/y.npy" --budget 1
expect_error "labels of another count" "labels but" search --dataset "npy:$tmp/x.npy,$tmp/yt.npy" --budget 1
expect_error "unknown strategy" "unknown strategy 'nope'" search --strategy nope "${tiny[@]}"
expect_error "multi-fidelity strategy" "is not a plain single-objective strategy" search --strategy hyperband "${tiny[@]}"
expect_error "model-based strategy" "is not a plain single-objective strategy" search --strategy bananas "${tiny[@]}"
expect_error "valid fraction" "--valid-fraction 1.5 must be in (0, 1)" search --dataset "$data" --valid-fraction 1.5
expect_error "budget 0" "budget" search --budget 0
expect_error "subset too large" "subset 999 exceeds the 300 training images" search --dataset "$data" --subset 999
expect_error "missing idx dir" "no such file" search --dataset "idx:$tmp/nowhere" --budget 1
expect_error "both checkpoint and resume" "not both" search "${tiny[@]}" --checkpoint "$tmp/a" --resume "$tmp/b"
expect_error "bad arch" "arch" search "${tiny[@]}" --arch '|bogus~0|'
expect_error "missing export" "cannot read" evaluate-export "$tmp/none"

# kill -9 during a checkpointed search, then --resume: the finished evaluations are replayed, not
# trained again, and the result is the uninterrupted search's.
run=(search --strategy random --budget 8 --seed 5 "${tiny[@]}")
"$nascent" "${run[@]}" --out "$tmp/whole" --json "$tmp/whole.json" >/dev/null 2>&1 || fail "uninterrupted search"
count() { json "$1" "len(d['runs'][0]['evaluations'])" 2>/dev/null || echo 0; }
"$nascent" "${run[@]}" --checkpoint "$tmp/ckpt.json" --out "$tmp/killed" >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
    [[ -e $tmp/ckpt.json && $(count "$tmp/ckpt.json") -ge 3 ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
before=$(count "$tmp/ckpt.json")
echo "search_cli: killed after $before of 8 evaluations"
if ((before >= 8)); then
    pass # the search ended before the kill: nothing left to resume
elif ((before >= 1)); then
    "$nascent" "${run[@]}" --resume "$tmp/ckpt.json" --out "$tmp/resumed" --json "$tmp/resumed.json" >/dev/null 2>&1 ||
        fail "resume"
    [[ $(json "$tmp/resumed.json" "d['replayed']") == "$before" ]] && pass || fail "resume: not $before replayed"
    [[ $(json "$tmp/resumed.json" "d['evaluated']") == $((8 - before)) ]] && pass ||
        fail "resume: trained $(json "$tmp/resumed.json" "d['evaluated']"), not $((8 - before))"
    key="d['best']['arch'], d['best']['metrics']"
    [[ $(json "$tmp/resumed.json" "$key") == $(json "$tmp/whole.json" "$key") ]] && pass ||
        fail "the resumed search differs from the uninterrupted one"
else
    fail "no checkpoint written before the kill"
fi
# A checkpoint of another search is refused.
expect_error "checkpoint of another seed" "another problem: seed is 5 there, 6 here" \
    search --strategy random --budget 8 --seed 6 "${tiny[@]}" --resume "$tmp/ckpt.json"

echo "search_cli: $passes passed, $failures failed"
((failures == 0))
