#!/usr/bin/env bash
# Runs Strata's test suite and exits non-zero if any stage failed.
#
# Stages: unit tests and integration tests on the release build; with
# CI=true or STRATA_ASAN=1 also the same two on the asan build (ASan+UBSan)
# and, when clang is installed, each libFuzzer target in tests/fuzz for
# 20 seconds over a copy of its seed corpus. The last line reads
# "total: N passed, N failed", counting tests over all stages.
#
# On CI (CI=true) warnings are errors (-DSTRATA_WERROR=ON).
# STRATA_JOBS sets build parallelism (default: the number of cores);
# STRATA_FUZZ_SECONDS the time per fuzz target (default 20).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

tools/setup.sh || { echo "test: setup failed" >&2; echo "0 passed, 1 failed"; exit 1; }

full=false
if [ "${CI:-}" = true ] || [ "${STRATA_ASAN:-}" = 1 ]; then full=true; fi
werror=OFF
if [ "${CI:-}" = true ]; then werror=ON; fi
fuzz_seconds=${STRATA_FUZZ_SECONDS:-20}
jobs=${STRATA_JOBS:-$(nproc)}

passed=0
failed=0
tests_passed=0
tests_failed=0
failed_names=()
failed_tests=()
skipped_names=()

# stage NAME COMMAND...: runs one counted stage.
stage() {
  local name=$1
  shift
  local start=$SECONDS out rc p f
  out=$(mktemp)
  echo "=== $name"
  "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  read -r p f < <(count_tests "$out")
  # A stage that failed without reporting a failed test (a crash, a build
  # step) still counts as one failure.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then p=1; fi
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
  if [ "$rc" -eq 0 ]; then
    echo "=== $name: passed, $p tests ($((SECONDS - start)) s)"
    passed=$((passed + 1))
  else
    echo "=== $name: FAILED, $f of $((p + f)) tests failed ($((SECONDS - start)) s)"
    failed=$((failed + 1))
    failed_names+=("$name")
    # Name the failed tests again at the end, where a log's tail shows them.
    local t
    while IFS= read -r t; do failed_tests+=("$name: ${t:0:400}"); done < <(
      grep -E '^(FAILED|ERROR) |^\[  FAILED  \] [A-Za-z_]' "$out" | grep -v 'listed below' |
        sed -E 's/ \([0-9]+ ms\)$//' | awk '!seen[$0]++' | head -n 20)
  fi
  rm -f "$out"
}

# count_tests LOG: prints "PASSED FAILED" from a ctest, GoogleTest or pytest summary
# (0 0 when the log has neither, e.g. a fuzz run).
count_tests() {
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$1" | tail -n 1)
  if [ -n "$line" ]; then
    local f total
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    echo "$((total - f)) $f"
    return
  fi
  line=$(grep -E '^\[==========\] [0-9]+ tests? from .* ran' "$1" | tail -n 1)
  if [ -n "$line" ]; then
    local total f=0
    total=$(sed -E 's/^\[==========\] ([0-9]+) .*/\1/' <<<"$line")
    line=$(grep -E '^\[  FAILED  \] [0-9]+ tests?, listed below' "$1" | tail -n 1)
    [ -n "$line" ] && f=$(sed -E 's/^\[  FAILED  \] ([0-9]+) .*/\1/' <<<"$line")
    echo "$((total - f)) $f"
    return
  fi
  line=$(grep -E '^=*[ ]*([0-9]+ (passed|failed|errors?|skipped)(, )?)+.* in [0-9.]+s' "$1" | tail -n 1)
  if [ -n "$line" ]; then
    local p=0 f=0 e=0
    [[ $line =~ ([0-9]+)\ passed ]] && p=${BASH_REMATCH[1]}
    [[ $line =~ ([0-9]+)\ failed ]] && f=${BASH_REMATCH[1]}
    [[ $line =~ ([0-9]+)\ error ]] && e=${BASH_REMATCH[1]}
    echo "$p $((f + e))"
    return
  fi
  echo "0 0"
}

# not_run NAME WHY: a stage that could not run counts as failed.
not_run() {
  echo "=== $1: FAILED ($2)"
  failed=$((failed + 1))
  tests_failed=$((tests_failed + 1))
  failed_names+=("$1")
}

skip() {
  echo "=== $1: skipped ($2)"
  skipped_names+=("$1")
}

# build PRESET [TARGET...]: configures and builds (all targets if none named).
build() {
  local preset=$1
  shift
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  local start=$SECONDS
  echo "=== build $preset"
  cmake --preset "$preset" -DSTRATA_WERROR="$werror" >/dev/null &&
    cmake --build --preset "$preset" --parallel "$jobs" "${targets[@]}"
  local rc=$?
  echo "=== build $preset: $([ $rc -eq 0 ] && echo done || echo FAILED) ($((SECONDS - start)) s)"
  return $rc
}

have_integration_tests() {
  compgen -G "tests/integration/test_*.py" >/dev/null
}

# unit PRESET: runs the unit-test binary once. ctest (which `ctest --preset`
# still offers) starts the binary once per test, and under ASan each start
# costs most of a second: 560 tests took 435 s that way and 40 s in one
# process. Run from the folder ctest uses, so relative paths agree.
unit() {
  (cd "build/$1/tests/unit" && timeout 1200 ../../bin/strata_unit_tests --gtest_brief=1)
}

# message_cost PRESET: heap allocations per delivered message against the
# checked-in baseline (tests/unit/broker/core/message_cost_test.cpp); its own
# binary, as it replaces operator new. Release only: the count is the same
# under the sanitizers, the check needs running once.
message_cost() {
  (cd "build/$1/tests/unit" && timeout 300 ../../bin/strata_message_cost_test --gtest_brief=1)
}

# integration PRESET [PYTEST ARGS...]
integration() {
  local preset=$1
  shift
  STRATA_BIN="$repo/build/$preset/bin/strata" timeout 1800 /usr/bin/python3 -m pytest -q "$@" tests/integration
}

# fuzz TARGET: runs build/fuzz/bin/TARGET over a temporary copy of
# tests/fuzz/corpus/<TARGET without _fuzz>; crash inputs are kept under
# build/fuzz/artifacts/.
fuzz() {
  local target=$1
  local seeds="tests/fuzz/corpus/${target%_fuzz}"
  local work
  work=$(mktemp -d)
  if [ -d "$seeds" ]; then cp -r "$seeds/." "$work/"; fi
  mkdir -p build/fuzz/artifacts
  build/fuzz/bin/"$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$target-" "$work"
  local rc=$?
  rm -rf "$work"
  return $rc
}

# ccache (installed by tools/setup.sh) keeps the three builds' objects
# between runs. Paths are made relative to the repo and the build folder
# is not hashed, so any clone of the repo shares the cache.
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Release build: unit and integration tests.
if build release; then
  stage "unit" unit release
  stage "message cost" message_cost release
  if have_integration_tests; then
    stage "integration" integration release
  else
    skip "integration" "no tests in tests/integration yet"
  fi
else
  not_run "unit" "release build failed"
  not_run "message cost" "release build failed"
  not_run "integration" "release build failed"
fi

if [ "$full" = true ]; then
  # The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
  if build asan; then
    stage "asan unit" unit asan
    if have_integration_tests; then
      # Without the dashboard's browser tests: they check pages in Chromium,
      # whose run time dominates them; the admin endpoints the pages call
      # run under the sanitizers in the test_22 admin modules.
      stage "asan integration" integration asan -m "not browser and not long_outage"
    else
      skip "asan integration" "no tests in tests/integration yet"
    fi
  else
    not_run "asan unit" "asan build failed"
    not_run "asan integration" "asan build failed"
  fi

  # libFuzzer targets, a bounded run each.
  targets=()
  for source in tests/fuzz/*_fuzz.cpp; do
    [ -e "$source" ] && targets+=("$(basename "$source" .cpp)")
  done
  if ! command -v clang++ >/dev/null 2>&1; then
    skip "fuzz" "clang++ not installed"
  elif [ ${#targets[@]} -eq 0 ] || [ ! -f tests/fuzz/CMakeLists.txt ]; then
    skip "fuzz" "no fuzz targets in tests/fuzz yet"
  elif build fuzz "${targets[@]}"; then
    for target in "${targets[@]}"; do
      stage "fuzz $target" fuzz "$target"
    done
  else
    not_run "fuzz" "fuzz build failed"
  fi
else
  skip "asan, fuzz" "set CI=true or STRATA_ASAN=1 to run them"
fi

echo
echo "total time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
if [ ${#skipped_names[@]} -gt 0 ]; then echo "skipped: ${skipped_names[*]}"; fi
if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
for t in "${failed_tests[@]}"; do echo "failed test: $t"; done
echo "stages: $passed passed, $failed failed"
# The closing line counts tests: unit and integration tests as GoogleTest and
# pytest report them, one per fuzz run.
echo "total: $tests_passed passed, $tests_failed failed"
[ "$failed" -eq 0 ]
