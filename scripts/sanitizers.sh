#!/usr/bin/env bash
# The C++ tests under the sanitizers (CI, after the fuzz smoke step):
#   asan  ASan + UBSan (-fno-sanitize-recover=undefined; LeakSanitizer on): every C++ test
#   tsan  TSan: the concurrent components, i.e. the protocol's rings and channel, the
#         scheduler, the worker pool, the session's timeouts, helper threads, the index
#         lock, the index's parallel encoding and its writer thread while a listing is
#         printed (the suites in tsan_regex below)
# Both then run their dx-py (built with the same sanitizer) on a generated project of 300
# files with -n 2: parallel collection, the index and graph writes, the event loop over
# two workers, a crash and a failure; then list it with --collect-only -q, cold and warm
# (the index written on its own thread). Any sanitizer report fails the step.
# Each uses its CMake preset (CMakePresets.json: build/asan at -O0, which halves its build,
# build/tsan at -O1; clang; the Python extension and the static dx-py left out) and runs
# its property tests with 100 rapidcheck cases instead of 1,000 (DXPY_RC_CASES), to keep
# the step within minutes on two cores. The builds are incremental: a second run rebuilds only what changed.
#   scripts/sanitizers.sh [asan|tsan]...   (default: both)
# Prints "sanitizers: asan N passed, M failed; tsan ..." and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
if ! command -v clang++ >/dev/null; then
  echo "sanitizers: clang++ not found (scripts/apt-packages.txt installs it)" >&2
  exit 1
fi
nice_cmd=(nice -n "${SANITIZER_NICE:-10}")
jobs=${SANITIZER_JOBS:-2}
tsan_tests='^(protocol_test|exec_test|pool_test|session_test|util_test|index_test)$'
tsan_regex='^(Ring|Channel|Exec|ExecProp|Worker|TestTimeout|StartElsewhere|Hash|Lock|Dxti|DxtiProp|Listing)\.'

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
summary=()
rc=0
for kind in "${@:-asan tsan}"; do
  for k in $kind; do
    build=build/$k
    t0=$(date +%s)
    if [ ! -f "$build/build.ninja" ]; then
      if ! cmake --preset "$k" >"$log/$k.configure" 2>&1; then
        cat "$log/$k.configure"; summary+=("$k: configure failed"); rc=1; continue
      fi
    fi
    if [ "$k" = tsan ]; then
      targets="$(echo "$tsan_tests" | tr -d '^()$' | tr '|' ' ') dx-py"
    else
      targets="$(ninja -C "$build" -t targets all 2>/dev/null | grep -oE '^[a-z_]+_test:' | grep -v '^cmake_' | tr -d ':' | sort -u | tr '\n' ' ') dx-py"
    fi
    # shellcheck disable=SC2086
    if ! "${nice_cmd[@]}" cmake --build "$build" -j "$jobs" --target $targets >"$log/$k.build" 2>&1; then
      tail -60 "$log/$k.build"; summary+=("$k: build failed"); rc=1; continue
    fi
    t1=$(date +%s)
    filter=()
    [ "$k" = tsan ] && filter=(-R "$tsan_regex")
    # The differential tests (scanner against tree-sitter, imports against CPython's ast) read
    # every .py file of the venv (82 MB): 4 minutes under ASan at -O0. Here they read the four
    # real suites and _pytest (28 MB); the release build's ctest reads everything.
    diff_roots="$log/diff-roots"
    if [ "$k" = asan ] && [ -z "${DXPY_DIFF_ROOTS:-}" ]; then
      site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
      mkdir -p "$diff_roots"
      for pkg in toolz simplejson mpmath networkx _pytest; do
        [ -d "$site/$pkg" ] && cp -r "$site/$pkg" "$diff_roots/"
      done
      DXPY_DIFF_ROOTS="$diff_roots" ctest --preset "$k" -j "$jobs" "${filter[@]}" >"$log/$k.ctest" 2>&1
    else
      ctest --preset "$k" -j "$jobs" "${filter[@]}" >"$log/$k.ctest" 2>&1
    fi
    crc=$?
    total=$(grep -oE 'out of [0-9]+' "$log/$k.ctest" | tail -1 | grep -oE '[0-9]+'); total=${total:-0}
    failed=$(grep -oE '[0-9]+ tests failed' "$log/$k.ctest" | tail -1 | grep -oE '^[0-9]+'); failed=${failed:-0}
    # The orchestrator itself on a real run: 300 files collected on both cores, two workers.
    proj="$log/$k-project"
    mkdir -p "$proj/tests"
    for i in $(seq 0 299); do
      printf 'import pytest\n\n@pytest.mark.parametrize("x", [1, 2])\ndef test_p%d(x):\n    assert x\n\ndef test_q%d():\n    assert %d %% 97\n' \
        "$i" "$i" "$i" >"$proj/tests/test_m$i.py"
    done
    printf 'import os\n\ndef test_crash():\n    os._exit(3)\n' >"$proj/tests/test_crash.py"
    erc=0
    for run in 1 2; do  # the second run reads the index the first wrote
      (cd "$proj" && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        TSAN_OPTIONS=halt_on_error=1 "$OLDPWD/$build/src/dxpy/cli/dx-py" test -q -n 2) >"$log/$k.e2e$run" 2>&1
      erc=$?
      if [ "$erc" -ne 1 ] || grep -qE 'Sanitizer|runtime error:' "$log/$k.e2e$run" ||
         ! grep -qE '^(=+ )?4 failed, 896 passed, 1 crashed in ' "$log/$k.e2e$run"; then
        echo "sanitizers: $k: dx-py on a generated project (run $run, exit $erc, want 1):"; tail -40 "$log/$k.e2e$run"
        crc=1; failed=$((failed + 1))
      fi
    done
    # Listing, cold then warm: the index is written on its own thread while the ids are
    # printed (session/collect.cpp), and the process ends once it is written.
    rm -rf "$proj/.dx-py"
    for run in cold warm; do
      (cd "$proj" && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        TSAN_OPTIONS=halt_on_error=1 "$OLDPWD/$build/src/dxpy/cli/dx-py" test --collect-only -q) >"$log/$k.list-$run" 2>&1
      erc=$?
      if [ "$erc" -ne 0 ] || grep -qE 'Sanitizer|runtime error:' "$log/$k.list-$run" ||
         ! grep -qE '^901 tests collected in ' "$log/$k.list-$run" || [ ! -s "$proj/.dx-py/index.dxti" ]; then
        echo "sanitizers: $k: dx-py --collect-only -q on a generated project ($run, exit $erc, want 0):"
        tail -40 "$log/$k.list-$run"
        crc=1; failed=$((failed + 1))
      fi
    done
    t2=$(date +%s)
    if [ "$crc" -ne 0 ] || [ "$total" -eq 0 ]; then
      grep -E 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error:|\*\*\*Failed|Failed|Timeout' \
        "$log/$k.ctest" | head -40
      sed -n '/The following tests FAILED/,$p' "$log/$k.ctest"
      rc=1
      [ "$failed" -eq 0 ] && failed=1
    fi
    total=$((total + 4))
    summary+=("$k $((total - failed)) passed, $failed failed (build $((t1 - t0)) s, tests $((t2 - t1)) s)")
  done
done
(IFS=';'; echo "sanitizers: ${summary[*]}")
exit $rc
