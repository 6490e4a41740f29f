#!/usr/bin/env bash
# Runs the C++ tests (ctest) and the Python tests (pytest), the agreement check, the fuzz
# smoke step and the C++ tests under the sanitizers (scripts/sanitizers.sh), then prints one
# closing line with the counts. Exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

ctest --test-dir "$build" --output-on-failure -j2 2>&1 | tee "$log/ctest"
ctest_rc=${PIPESTATUS[0]}
.venv/bin/python -m pytest -q -p no:cacheprovider 2>&1 | tee "$log/pytest"
pytest_rc=${PIPESTATUS[0]}
scripts/agreement_ci.sh 2>&1 | tee "$log/agreement"
agreement_rc=${PIPESTATUS[0]}
scripts/fuzz_smoke.sh 2>&1 | tee "$log/fuzz"
fuzz_rc=${PIPESTATUS[0]}
# Every C++ test under ASan+UBSan (-O0), then the concurrent suites under TSan, each build's
# dx-py on a generated project too (docs/reliability.md). DXPY_SANITIZERS=tsan runs one.
scripts/sanitizers.sh ${DXPY_SANITIZERS:-asan tsan} 2>&1 | tee "$log/sanitizers"
san_rc=${PIPESTATUS[0]}

# ctest: "100% tests passed, 0 tests failed out of 47" or "93% tests passed, 3 tests failed out of 43"
c_total=$(grep -oE 'out of [0-9]+' "$log/ctest" | tail -1 | grep -oE '[0-9]+')
c_failed=$(grep -oE '[0-9]+ tests failed' "$log/ctest" | tail -1 | grep -oE '^[0-9]+')
c_total=${c_total:-0}; c_failed=${c_failed:-0}
c_passed=$((c_total - c_failed))
last=$(tail -1 "$log/pytest")
p_passed=$(grep -oE '[0-9]+ passed' <<<"$last" | grep -oE '[0-9]+'); p_passed=${p_passed:-0}
p_failed=$(grep -oE '[0-9]+ failed' <<<"$last" | grep -oE '[0-9]+'); p_failed=${p_failed:-0}
p_errors=$(grep -oE '[0-9]+ errors?' <<<"$last" | grep -oE '[0-9]+'); p_errors=${p_errors:-0}

f_passed=0; f_failed=0; f_word=failed
if [ "$fuzz_rc" -eq 0 ]; then f_passed=1; f_word=passed; else f_failed=1; fi
s_passed=0; s_failed=0; s_word=failed
if [ "$san_rc" -eq 0 ]; then s_passed=1; s_word=passed; else s_failed=1; fi
a_line=$(grep -E '^agreement: ' "$log/agreement" | tail -1)
a_failed=0; [ "$agreement_rc" -eq 0 ] || a_failed=1
echo "check: ctest $c_passed passed, $c_failed failed; pytest $p_passed passed, $((p_failed + p_errors)) failed; fuzz smoke $f_word; sanitizers $s_word; ${a_line:-agreement: did not run}"
echo "$((c_passed + p_passed + f_passed + s_passed)) passed, $((c_failed + p_failed + p_errors + f_failed + s_failed + a_failed)) failed"
[ "$ctest_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ] && [ "$fuzz_rc" -eq 0 ] && [ "$san_rc" -eq 0 ] && [ "$agreement_rc" -eq 0 ] && [ "$c_total" -gt 0 ] && [ "$p_passed" -gt 0 ]
