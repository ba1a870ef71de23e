#!/usr/bin/env bash
# Build Whistle three times (plain; AddressSanitizer + UBSan; clang with
# libFuzzer) and run every CTest test in the first two, and the libFuzzer
# targets (scripts/fuzz.sh: corpus replay, then WH_FUZZ_SECONDS of fuzzing
# per target). Exits non-zero if anything fails.
#
# The fuzzers run beside the sanitizer test pass, at the lowest CPU
# priority: the scenario tests spend most of their time waiting on agents
# and timers, and the fuzzers take that idle CPU instead of another nine
# minutes after the tests. Each target still fuzzes for WH_FUZZ_SECONDS of
# wall time; its line in the output says how many inputs it ran.
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
echo "== build build-fuzz (clang, WH_FUZZ=ON)"
bash scripts/fuzz.sh --build

echo "== tests (plain build)"
ctest --test-dir build --output-on-failure -j"$jobs" "$@" || status=1

echo "== fuzz (clang, libFuzzer; docs/fuzzing.md), beside the ASan tests"
mkdir -p build-fuzz
nice -n 19 bash scripts/fuzz.sh >build-fuzz/fuzz.out 2>&1 &
fuzz_pid=$!

echo "== tests (ASan + UBSan build)"
# Sanitised runs are slower: the property and crash tests scale down.
WH_QUICK=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" "$@" || status=1

fuzz_status=0
wait "$fuzz_pid" || fuzz_status=$?
echo "== fuzz results"
grep -v '^== build' build-fuzz/fuzz.out || true
[ "$fuzz_status" -eq 0 ] || status=1

exit $status
