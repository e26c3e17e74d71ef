#!/usr/bin/env bash
# kill -9 at random points of a checkpointed `nascent run`, then --resume: the result is the
# uninterrupted run's, byte for byte (timing and manifest lines aside), for each plain strategy
# and with 2 evaluations in flight. Also: SIGTERM writes the checkpoint and says how to go on,
# and a corrupt or foreign checkpoint is refused with one line, and left as it was.
# Usage: checkpoint_cli.sh PATH/TO/nascent DATA_DIR [KILLS]
set -u
nascent=$1
data=$2
kills=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"
strip() { grep -v 'seconds\|"manifest"' "$1"; }

base=(run --data "$data" --budget 150 --threads 2 --checkpoint-every 20) # CLI11 takes each option once
args=("${base[@]}" --runs 40 --seed 11)
for strategy in rea random ls; do
    for k in 1 2; do
        run=("${args[@]}" --strategy "$strategy" --in-flight "$k")
        "$nascent" "${run[@]}" --json "$tmp/whole.json" >/dev/null || fail "$strategy k=$k: uninterrupted run"
        for ((i = 0; i < kills; i++)); do
            rm -f "$tmp/ckpt.json"
            "$nascent" "${run[@]}" --checkpoint "$tmp/ckpt.json" --json "$tmp/x.json" >/dev/null 2>&1 &
            pid=$!
            sleep "0.$((RANDOM % 9 + 1))"
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            # Resumes until done (the process may have finished before the kill: then it is done).
            if [[ -e $tmp/ckpt.json ]]; then
                "$nascent" "${run[@]}" --resume "$tmp/ckpt.json" --json "$tmp/resumed.json" >/dev/null ||
                    fail "$strategy k=$k: resume"
            else
                cp "$tmp/x.json" "$tmp/resumed.json" 2>/dev/null || "$nascent" "${run[@]}" --json "$tmp/resumed.json" >/dev/null
            fi
            if cmp -s <(strip "$tmp/whole.json") <(strip "$tmp/resumed.json"); then pass; else
                fail "$strategy k=$k: the resumed run differs from the uninterrupted one"; fi
        done
    done
done

# SIGTERM: the checkpoint is written and the message says how to go on.
"$nascent" "${base[@]}" --seed 11 --strategy rea --runs 200 --checkpoint "$tmp/term.json" >/dev/null 2>"$tmp/term.err" &
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
expect_error "checkpoint of a model-based strategy" "--checkpoint and --resume apply to" \
    "${base[@]}" --seed 11 --strategy bananas --runs 2 --checkpoint "$tmp/b.json"

echo "checkpoint_cli: $passes passed, $failures failed"
((failures == 0))
