#!/usr/bin/env bash
# Fails (exit 1) when a tracked C++ file differs from what clang-format-14 makes of it with the
# repository's .clang-format, and names each such file. With --fix, formats them instead.
#   scripts/check_format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=$(command -v clang-format-14 || true)
if [[ -z $formatter ]]; then
    echo "check_format: clang-format-14 not found (scripts/setup.sh installs it)" >&2
    exit 2
fi
mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h' '*.cc')
if [[ ${1:-} == --fix ]]; then
    "$formatter" -i "${files[@]}"
    exit 0
fi
bad=()
for f in "${files[@]}"; do
    "$formatter" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]} > 0)); then
    printf 'check_format: not clang-format-14 formatted: %s\n' "${bad[@]}" >&2
    echo "check_format: run scripts/check_format.sh --fix" >&2
    exit 1
fi
echo "check_format: ${#files[@]} files formatted"
