#!/usr/bin/env bash
# kill -9 at random points of a checkpointed `nascent run`, then --resume: the result is the
# uninterrupted run's, byte for byte (timing and manifest lines aside), for every strategy the CLI
# offers (plain, RL, multi-fidelity, model-based, multi-objective), with 1 and 2 evaluations in
# flight. The manifest's SHA-256 of the data file is sha256sum's. Also: SIGTERM writes the checkpoint and says how to go on,
# and a corrupt or foreign checkpoint is refused with one line, and left as it was.
# Usage: checkpoint_cli.sh PATH/TO/nascent DATA_DIR [KILLS]
set -u
nascent=$1
data=$2
kills=${3:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"
strip() { grep -v 'seconds\|"manifest"' "$1"; }

base=(run --data "$data" --threads 2 --checkpoint-every 20) # CLI11 takes each option once

# kill_resume LABEL ARGS...: the uninterrupted run's JSON and duration, then $kills times: kill -9
# at a random point between 20 % and 95 % of that duration, --resume, compare.
resumes=0
kill_resume() {
    local label=$1
    shift
    local run=("${base[@]}" "$@")
    local start=$(date +%s%N)
    "$nascent" "${run[@]}" --json "$tmp/whole.json" >/dev/null || { fail "$label: uninterrupted run"; return; }
    local ms=$((($(date +%s%N) - start) / 1000000))
    local i pid at
    for ((i = 0; i < kills; i++)); do
        rm -f "$tmp/ckpt.json" "$tmp/x.json"
        at=$((ms / 5 + RANDOM % (ms * 3 / 4 + 1)))
        "$nascent" "${run[@]}" --checkpoint "$tmp/ckpt.json" --json "$tmp/x.json" >/dev/null 2>&1 &
        pid=$!
        sleep "$((at / 1000)).$(printf %03d $((at % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        # Resumes until done (the process may have finished before the kill: then it is done).
        if [[ -e $tmp/ckpt.json ]]; then
            resumes=$((resumes + 1))
            "$nascent" "${run[@]}" --resume "$tmp/ckpt.json" --json "$tmp/resumed.json" >/dev/null ||
                { fail "$label: resume"; continue; }
        elif [[ -e $tmp/x.json ]]; then
            cp "$tmp/x.json" "$tmp/resumed.json"
        else # killed before its first checkpoint: start again
            "$nascent" "${run[@]}" --json "$tmp/resumed.json" >/dev/null
        fi
        if cmp -s <(strip "$tmp/whole.json") <(strip "$tmp/resumed.json"); then pass; else
            fail "$label: the resumed run differs from the uninterrupted one"; fi
    done
}

# Plain strategies (and the RL controllers), with 1 and 2 evaluations in flight.
for strategy in rea random ls; do
    for k in 1 2; do
        kill_resume "$strategy k=$k" --budget 150 --runs 100 --seed 11 --strategy "$strategy" --in-flight "$k"
    done
done
for strategy in reinforce lstm ppo; do
    kill_resume "$strategy" --budget 100 --runs 40 --seed 11 --strategy "$strategy" --in-flight 2
done
# Multi-fidelity (budget in 12-epoch evaluations).
for strategy in sh hyperband bohb; do
    kill_resume "$strategy" --budget 400 --runs 60 --seed 11 --strategy "$strategy" --in-flight 2
done
# Model-based: fewer, shorter runs (their own work is the cost: the GP fits are replayed too).
for strategy in bo-gp bo-wl tpe; do
    kill_resume "$strategy" --budget 40 --runs 6 --seed 11 --strategy "$strategy" --in-flight 2
done
kill_resume "bananas" --budget 16 --runs 2 --seed 11 --strategy bananas --in-flight 2
kill_resume "bo-gp warm start" --budget 40 --runs 4 --seed 11 --strategy bo-gp --warm-start synflow
# Multi-objective: NSGA-II, and REA on the scalarised objectives.
kill_resume "nsga2" --budget 200 --runs 60 --seed 11 --strategy nsga2 --objectives test_acc,latency:pixel3 --in-flight 2
kill_resume "rea scalarised" --budget 100 --runs 60 --seed 11 --strategy rea --objectives test_acc,latency:pixel3 \
    --constraint 'latency:pixel3<=12'

# The manifest: the SHA-256 of the data file read is sha256sum's; git hash and flags are set.
"$nascent" "${base[@]}" --budget 10 --runs 1 --seed 1 --strategy rea --json "$tmp/m.json" >/dev/null || fail "manifest run"
path=$(grep -o '"path":"[^"]*"' "$tmp/m.json" | head -1 | cut -d'"' -f4)
sha=$(grep -o '"sha256":"[0-9a-f]*"' "$tmp/m.json" | head -1 | cut -d'"' -f4)
if [[ -n $path && -n $sha && $sha == "$(sha256sum "$path" | cut -d' ' -f1)" ]]; then pass; else
    fail "manifest: sha256 '$sha' of '$path' is not sha256sum's"; fi
if grep -Eq '"git":"([0-9a-f]{40}(-dirty)?|unknown)"' "$tmp/m.json" && grep -q '"flags":"[^"]*-O' "$tmp/m.json" &&
    ! grep -q '"flags":"unknown"' "$tmp/m.json"; then pass; else
    fail "manifest: git hash or flags missing: $(grep -o '"git":"[^"]*"\|"flags":"[^"]*"' "$tmp/m.json")"; fi
"$nascent" "${base[@]}" --budget 10 --runs 1 --seed 1 --strategy nsga2 --objectives test_acc,params --json "$tmp/mo.json" >/dev/null ||
    fail "multi-objective manifest run"
if [[ $(grep -o '"sha256":"[0-9a-f]*"' "$tmp/mo.json" | wc -l) -eq 2 ]]; then pass; else
    fail "multi-objective manifest: not the two data files (table, latency)"; fi

# SIGTERM: the checkpoint is written and the message says how to go on.
"$nascent" "${base[@]}" --budget 150 --seed 11 --strategy rea --runs 200 --checkpoint "$tmp/term.json" >/dev/null 2>"$tmp/term.err" &
pid=$!
sleep 0.5
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [[ $rc -eq 2 ]] && grep -q "go on with --resume" "$tmp/term.err"; then pass; else
    # finished before the signal: nothing to check
    [[ $rc -eq 0 ]] && pass || fail "SIGTERM: exit $rc, $(cat "$tmp/term.err")"; fi

# Refusals: one line, exit 2, the file untouched.
"$nascent" "${base[@]}" --seed 11 --strategy rea --runs 2 --checkpoint "$tmp/ok.json" >/dev/null || fail "small checkpointed run"
cp "$tmp/ok.json" "$tmp/before.json"
expect_error "checkpoint of another strategy" 'another problem: strategy is "rea" there, "random" here' \
    "${base[@]}" --seed 11 --strategy random --runs 2 --resume "$tmp/ok.json"
expect_error "checkpoint of another seed" "another problem: seed is 11 there, 12 here" \
    "${base[@]}" --strategy rea --runs 2 --seed 12 --resume "$tmp/ok.json"
if cmp -s "$tmp/ok.json" "$tmp/before.json"; then pass; else fail "a refused checkpoint was rewritten"; fi
head -c 300 "$tmp/ok.json" >"$tmp/cut.json"
expect_error "truncated checkpoint" "is not valid JSON (truncated or corrupt)" \
    "${base[@]}" --seed 11 --strategy rea --runs 2 --resume "$tmp/cut.json"
expect_error "missing checkpoint" "cannot read checkpoint" \
    "${base[@]}" --seed 11 --strategy rea --runs 2 --resume "$tmp/none.json"
expect_error "checkpoint and resume at once" "give --checkpoint FILE or --resume FILE, not both" \
    "${base[@]}" --seed 11 --strategy rea --runs 2 --checkpoint "$tmp/b.json" --resume "$tmp/ok.json"
"$nascent" "${base[@]}" --budget 100 --seed 11 --strategy nsga2 --objectives test_acc,params --runs 2 \
    --checkpoint "$tmp/mo.ckpt.json" >/dev/null || fail "multi-objective checkpointed run"
expect_error "checkpoint of other objectives" 'another problem: objectives is "test_acc,params" there, "test_acc,flops" here' \
    "${base[@]}" --budget 100 --seed 11 --strategy nsga2 --objectives test_acc,flops --runs 2 --resume "$tmp/mo.ckpt.json"

# A good part of the kills must have landed mid-run, or the resume path went untested.
if ((resumes * 4 >= 19 * kills)); then pass; else fail "only $resumes of the kills landed mid-run"; fi
echo "checkpoint_cli: $passes passed, $failures failed ($resumes resumes after kill -9)"
((failures == 0))
