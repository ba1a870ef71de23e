#!/usr/bin/env bash
# Build Whistle twice (plain, and with AddressSanitizer + UBSan) and run
# every CTest test in both, then the libFuzzer targets (scripts/fuzz.sh:
# corpus replay, then WH_FUZZ_SECONDS of fuzzing per target). Exits
# non-zero if anything fails.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
status=0

run() {
  local dir=$1; shift
  local flags=("$@")
  echo "== configure $dir ${flags[*]}"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j"$jobs" >/dev/null
}

run build
run build-asan -DWH_SANITIZE=ON

echo "== tests (plain build)"
ctest --test-dir build --output-on-failure -j"$jobs" "$@" || status=1

echo "== tests (ASan + UBSan build)"
# Sanitised runs are slower: the property and crash tests scale down.
WH_QUICK=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" "$@" || status=1

echo "== fuzz (clang, libFuzzer; docs/fuzzing.md)"
bash scripts/fuzz.sh || status=1

exit $status
