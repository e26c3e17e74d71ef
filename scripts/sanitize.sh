#!/usr/bin/env bash
# Sanitizer jobs (clang-14; a finding fails the job: -fno-sanitize-recover=all, halt_on_error):
#   scripts/sanitize.sh asan   lean unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/sanitize.sh tsan   the parallel tests (TBB executor, parallel training, kernels) under
#                              ThreadSanitizer
#   scripts/sanitize.sh        both
# Build dirs: build-asan/, build-tsan/ (BUILD_PREFIX=... to move them). Prints each job's time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --sanitizers
jobs=("$@")
((${#jobs[@]})) || jobs=(asan tsan)
prefix=${BUILD_PREFIX:-build}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Slow tests whose code the other tests already cover; under sanitizers they cost minutes.
slow='*learns Fashion-MNIST*,*reaches >= 85 %*,*parameter counts equal*,*gradcheck: conv2d*'

run_job() {
  local kind=$1 flags
  case $kind in
    asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=all" ;;
    tsan) flags="-fsanitize=thread" ;;
    *) echo "sanitize.sh: unknown job '$kind' (asan, tsan)" >&2; return 2 ;;
  esac
  local dir=$prefix-$kind start=$SECONDS
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    "${launcher[@]}" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" \
    -DNASCENT_BUILD_APPS=OFF -DNASCENT_BUILD_BENCHMARKS=OFF -DNASCENT_BUILD_EXAMPLES=OFF \
    -DNASCENT_INSTALL=OFF >/dev/null
  local targets=("nascent_${kind}_tests")
  [[ $kind == tsan ]] && targets+=(nascent_tsan_canary)
  cmake --build "$dir" -j2 --target "${targets[@]}"
  local built=$SECONDS
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitize/tsan.supp" \
    "$dir/tests/nascent_${kind}_tests" -tce="$slow" --no-intro
  if [[ $kind == tsan ]]; then
    # The canary races on purpose: the job fails unless TSan reports it.
    if TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/sanitize/tsan.supp" \
      "$dir/tests/nascent_tsan_canary" >"$dir/canary.log" 2>&1 ||
      ! grep -q "WARNING: ThreadSanitizer: data race" "$dir/canary.log"; then
      echo "sanitize tsan: the canary's race between two tasks was not reported" >&2
      return 1
    fi
    echo "sanitize tsan: the canary's deliberate race was reported, as it must be"
  fi
  echo "sanitize $kind: build $((built - start)) s, tests $((SECONDS - built)) s, total $((SECONDS - start)) s"
}

for kind in "${jobs[@]}"; do run_job "$kind"; done
