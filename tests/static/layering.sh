#!/usr/bin/env bash
# The layering rule of DESIGN.md, checked on the include lines: a header under
# include/nascent/FOLDER/ may include <nascent/OTHER/...> only for an OTHER its layer may use
# (concepts.hpp, the vocabulary, and its own folder always). Prints every offending line and
# exits 1 if there is one.
#   tests/static/layering.sh [include/nascent]
set -euo pipefail
root=${1:-"$(dirname "$0")/../../include/nascent"}

# What each folder may include, besides itself and concepts.hpp. Where this differs from
# DESIGN.md's table, the code has learned better: space/ and ops/ use each other (operators of
# categorical spaces, spaces built from operators); bench/ and exec/ use pareto/; exec/ writes checkpoints
# with io/'s atomic writes; exec/ holds the strategy registry, where names meet types, so it includes strategy/; eval/ runs its table
# writer on exec/'s executors, and ENAS (eval/oneshot/) trains strategy/'s LSTM controller; io/ and detail/ hold helpers below everything. strategy/ never
# includes bench/ or eval/: evaluations reach a strategy only through tell.
declare -A allowed=(
    [detail]=""
    [core]="detail"
    [io]="core detail"
    [ops]="core detail space"
    [space]="core detail ops"
    [pareto]="core detail"
    [stats]="core detail"
    [bench]="core detail io pareto space"
    [tensor]="core detail"
    [surrogate]="core detail space tensor"
    [strategy]="core detail ops pareto surrogate tensor"
    [eval]="core detail exec io space strategy tensor"
    [exec]="core detail io ops pareto strategy"
)

status=0
while IFS= read -r -d '' header; do
    rel=${header#"$root"/}
    folder=${rel%%/*}
    [[ $folder == "$rel" ]] && continue # top-level umbrella headers include everything
    if [[ ! -v allowed[$folder] ]]; then
        echo "layering: $rel: folder '$folder' has no entry in tests/static/layering.sh" >&2
        status=1
        continue
    fi
    while IFS= read -r line; do
        target=$(sed -E 's|.*#include <nascent/([a-z_0-9]+)[/.].*|\1|' <<<"$line")
        [[ $target == "$folder" || $target == concepts ]] && continue
        if [[ " ${allowed[$folder]} " != *" $target "* ]]; then
            echo "layering: $rel includes $target/: $line (allowed for $folder/: ${allowed[$folder]:-nothing})" >&2
            status=1
        fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<nascent/' "$header" || true)
done < <(find "$root" -name '*.hpp' -print0 | sort -z)

if ((status == 0)); then
    echo "layering: every include of $(find "$root" -name '*.hpp' | wc -l) headers follows the layer table"
fi
exit $status
