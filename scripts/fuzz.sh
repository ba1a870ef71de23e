#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz, docs/fuzzing.md) with clang in
# build-fuzz, replay each target's committed corpus, then fuzz each for a
# bounded time, WH_FUZZ_JOBS targets at once.
#
# Usage: scripts/fuzz.sh [--replay] [TARGET...]
#   TARGET            msg, op, ... (or fuzz_msg, ...); default: all
#   --replay          replay the committed corpora only, no fuzzing
#   --build           build the targets only (scripts/test.sh builds
#                     first, then fuzzes beside the sanitizer tests)
#   WH_FUZZ_SECONDS   fuzzing time per target (default 60; 0 = --replay)
#   WH_FUZZ_JOBS      targets fuzzed at once (default 2)
#
# New inputs the fuzzer finds go to build-fuzz/fuzz/<target>/corpus, not
# into the committed corpus. Exits 1 if any target crashed (after all of
# them ran), naming each crashing input; 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${WH_FUZZ_SECONDS:-60}
jobs=${WH_FUZZ_JOBS:-2}
replay_only=0
build_only=0
targets=()
for a in "$@"; do
  case $a in
    --replay) replay_only=1 ;;
    --build) build_only=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $a" >&2; exit 2 ;;
    *) targets+=("${a#fuzz_}") ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || {
  echo "fuzz.sh: WH_FUZZ_SECONDS and WH_FUZZ_JOBS must be whole numbers" >&2
  exit 2
}
[ "$seconds" -eq 0 ] && replay_only=1

# The targets are the files that define the fuzzer's entry point.
all=()
for f in $(grep -l '^int LLVMFuzzerTestOneInput' tests/fuzz/fuzz_*.c); do
  n=$(basename "$f" .c)
  all+=("${n#fuzz_}")
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all[@]}")
else
  for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || {
      echo "fuzz.sh: no target '$t' (targets: ${all[*]})" >&2
      exit 2
    }
  done
fi

root=$PWD
build=$root/build-fuzz
echo "== build $build (clang, WH_FUZZ=ON)"
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWH_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target fuzz \
  >/dev/null
[ $build_only -eq 1 ] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Inputs bigger than what the decoder reads in practice only slow the
# fuzzer down; the limits it enforces lie well below these.
max_len() {
  case $1 in
    key) echo 128 ;;
    conf|trust|state|jsonl) echo 4096 ;;
    msg|opfile) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

dict_of() {
  local d
  case $1 in
    msg|op|opfile|view|state) d=msgpack ;;
    *) d=$1 ;;
  esac
  [ -f "$root/tests/fuzz/dict/$d.dict" ] && echo "$root/tests/fuzz/dict/$d.dict"
  return 0
}

# Replay the committed corpus of $1: every input once. Writes
# $work/replay ("N" inputs, or "FAIL path").
replay() {
  local t=$1 bin=$build/tests/fuzz/fuzz_$1 work=$build/fuzz/$1
  local corpus=$root/tests/fuzz/corpus/$t
  mkdir -p "$work"
  local files=()
  [ -d "$corpus" ] && while IFS= read -r f; do files+=("$f"); done \
    < <(find "$corpus" -type f | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "0" >"$work/replay"
    return
  fi
  if "$bin" -timeout=10 -rss_limit_mb=2048 "${files[@]}" \
      >"$work/replay.log" 2>&1; then
    echo "${#files[@]}" >"$work/replay"
  else
    local bad
    bad=$(grep '^Running: ' "$work/replay.log" | tail -1 | cut -d' ' -f2-)
    echo "FAIL ${bad:-?}" >"$work/replay"
  fi
}

# Fuzz $1 for $seconds. Writes $work/result: runs, seconds, crashes and
# libFuzzer's exit code, then the crashing inputs.
fuzz() {
  local t=$1 bin=$build/tests/fuzz/fuzz_$1 work=$build/fuzz/$1
  local dict
  dict=$(dict_of "$t")
  mkdir -p "$work/corpus" "$work/old"
  # Artifacts of an earlier run were reported then; keep them aside.
  find "$work" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
       -o -name 'oom-*' \) -exec mv -f {} "$work/old/" \;
  local t0=$SECONDS rc=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="$work/" ${dict:+-dict="$dict"} \
    "$work/corpus" "$root/tests/fuzz/corpus/$t" >"$work/fuzz.log" 2>&1 || rc=$?
  local runs crashes
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/fuzz.log" \
           | tail -1 | grep -o '[0-9]*$' || true)
  crashes=$(find "$work" -maxdepth 1 -type f \
              \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                 -o -name 'oom-*' \) | sort)
  {
    echo "${runs:-?} $((SECONDS - t0)) $(printf '%s' "$crashes" | grep -c . || true) $rc"
    printf '%s\n' "$crashes"
  } >"$work/result"
}

status=0

echo "== replay the committed corpora"
for t in "${targets[@]}"; do
  replay "$t"
  r=$(cat "$build/fuzz/$t/replay")
  if [[ $r == FAIL* ]]; then
    echo "fuzz_$t: replay CRASHED on ${r#FAIL } (log: build-fuzz/fuzz/$t/replay.log)"
    status=1
  else
    echo "fuzz_$t: replayed $r inputs"
  fi
done

if [ $replay_only -eq 0 ]; then
  echo "== fuzz ${#targets[@]} targets for ${seconds} s each, $jobs at a time"
  running=0
  for t in "${targets[@]}"; do
    fuzz "$t" &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait
  for t in "${targets[@]}"; do
    work=$build/fuzz/$t
    read -r runs secs n rc <"$work/result"
    echo "fuzz_$t: runs=$runs seconds=$secs crashes=$n"
    if [ "$n" != 0 ]; then
      status=1
      tail -n +2 "$work/result" | while IFS= read -r f; do
        [ -n "$f" ] && echo "  fuzz_$t crashed: $f (log: build-fuzz/fuzz/$t/fuzz.log)"
      done
    elif [ "$rc" != 0 ]; then
      # Failed without saving an input (it could not start, say).
      status=1
      echo "  fuzz_$t: libFuzzer exited $rc (log: build-fuzz/fuzz/$t/fuzz.log)"
    fi
  done
fi

if [ $status -ne 0 ]; then
  echo "fuzz: FAILED (reproduce: build-fuzz/tests/fuzz/fuzz_TARGET FILE)" >&2
fi
exit $status
