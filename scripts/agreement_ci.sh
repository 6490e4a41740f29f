#!/usr/bin/env bash
# CI agreement check (issue 5): runs pytest and the installed dx-py on the test suites of
# toolz and simplejson (installed in .venv by requirements-dev.txt), each with JUnit XML, in a
# fresh temporary folder, and compares the outcome of every test. Prints the tests that differ
# when a suite is under the minimum, then one closing line:
#   agreement: toolz 100.00% (180/180), simplejson 100.00% (143/143)
# Exit 0 when every suite agrees at least 99.5% (or MIN), 1 when one is under, 2 when a suite
# could not be run or compared. Uses ../shared/tools/compare_junit.py when present, else the
# in-repo bench/junit_compare.py (same rules). About 10 s.
#
#   scripts/agreement_ci.sh [extra bench/agreement.py options, e.g. --min 100]
set -uo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/agreement.py --ci "$@"
