#!/usr/bin/env bash
# A worker process dies mid-run under mpirun -np 3: Open MPI 4.1 aborts the job, the checkpoint
# written after every batch survives, and the restarted job resumes from it. The test program
# (tests/mpi/mpi_executor.cpp) checks on resume that the kill lost at most the evaluations in
# flight, that only the missing evaluations were redone, and that the result is the
# uninterrupted run's.
# Usage: mpi_resume.sh MPIEXEC PATH/TO/nascent_mpi_tests DATA_DIR
set -u
mpiexec=$1
program=$2
data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpirun=("$mpiexec" -n 3 --allow-run-as-root --oversubscribe)
status=0
for kill_at in 7 12; do # the first and the second evaluation of a batch of k = 2
    ckpt=$tmp/run-$kill_at.ckpt.json
    "${mpirun[@]}" "$program" "$data" --checkpoint "$ckpt" --kill-at "$kill_at" >"$tmp/killed.log" 2>&1
    rc=$?
    if [[ $rc -eq 0 ]]; then
        echo "FAIL: kill at $kill_at: the job was not aborted" >&2
        status=1
        continue
    fi
    if [[ ! -s $ckpt ]]; then
        echo "FAIL: kill at $kill_at: no checkpoint after the abort (exit $rc)" >&2
        cat "$tmp/killed.log" >&2
        status=1
        continue
    fi
    echo "kill at $kill_at: job aborted (exit $rc), checkpoint kept"
    if ! "${mpirun[@]}" "$program" "$data" --checkpoint "$ckpt" --kill-at "$kill_at" --resume; then
        echo "FAIL: kill at $kill_at: the resumed job" >&2
        status=1
    fi
done
# Without workers, the remote evaluator refuses to be built (one line, not a run of failures).
if ! "$mpiexec" -n 1 --allow-run-as-root "$program" "$data"; then
    echo "FAIL: -np 1" >&2
    status=1
fi
exit $status
