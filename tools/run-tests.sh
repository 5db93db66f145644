#!/usr/bin/env bash
# The whole test suite, as README.md's test command and .ci/run run it. Steps:
#   1. release build (RelWithDebInfo, warnings are errors) and the fast tests
#   2. sanitizer build (ASan + UBSan) and the fast tests
#   3. crash tests (tagged [crash]) on the release build
#   4. slow tests (tagged [slow]) on the release build
#   5. conformance: tests over ../shared (Prometheus' PromQL scripts, datasets), when it is present
# `--only live` runs just the shell's pseudo-terminal tests against a live vigild (part of step 4).
# Usage: tools/run-tests.sh [--skip-deps] [--only fast|asan|crash|slow|conformance|live]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

skip_deps=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-deps) skip_deps=1 ;;
    --only) only="$2"; shift ;;
    *) echo "run-tests: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

jobs=${VIGIL_JOBS:-$(nproc)}
step() { echo; echo "=== $* ==="; }
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if [ "$skip_deps" -eq 0 ]; then
  step "dependencies"
  tools/setup/install-deps.sh
fi

configure() {  # dir build-type
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE="$2" -DVIGIL_WERROR=ON >/dev/null
}

if want fast || want crash || want slow || want conformance || [ "$only" = live ]; then
  step "release build"
  configure build RelWithDebInfo
  ninja -C build -j "$jobs"
fi
if want fast; then
  step "fast tests (release)"
  ctest --test-dir build -L fast -j "$jobs" --output-on-failure
fi
if want asan; then
  step "sanitizer build (ASan + UBSan)"
  configure build-asan Sanitize
  ninja -C build-asan -j "$jobs" all_tests
  step "fast tests (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" \
    ctest --test-dir build-asan -L fast -j "$jobs" --output-on-failure
fi
if want crash; then
  step "crash tests"
  ctest --test-dir build -L crash --output-on-failure
fi
if want slow; then
  step "slow tests"
  ctest --test-dir build -L slow -j "$jobs" --output-on-failure
fi
if want conformance; then
  step "conformance (../shared)"
  shared="$top/../shared/conformance/promql/testdata"
  if [ -d "$shared" ]; then
    ctest --test-dir build -L conformance --output-on-failure
    build/query/promql-conformance
  else
    echo "NOT RUN: $shared is not present next to the repository; the conformance tests need it."
    echo "         (they fail, not skip, when run by hand without it: ctest --test-dir build -L conformance)"
  fi
fi
if [ "$only" = live ]; then
  step "live shell tests (pseudo-terminal, vigild)"
  ctest --test-dir build -L live --output-on-failure
fi
step "all requested steps passed"
