#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# check.sh: on a fresh Debian machine, install what is missing, build, and
# run every test: the Check unit tests and the system tests in network
# namespaces (which need root).  Prints a closing "N passed, N failed" line.
#
#   sudo scripts/check.sh [--asan] [TEST...]
#
#   --asan    build with AddressSanitizer and UBSan (in build-asan/)
#   TEST...   run only these tests (e.g. tests/unit/test_kx)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build_args=()
tests=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--asan) build_args+=(--asan); shift ;;
	-h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) tests+=("$1"); shift ;;
	esac
done

if [[ $(id -u) -ne 0 ]]; then
	echo "check.sh: not root: the system tests will be skipped; run: sudo scripts/check.sh" >&2
fi
builddir=$("$top/scripts/build.sh" "${build_args[@]}" | tail -n 1)
cd "$builddir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# Tests that cannot use the sanitized build (t34 installs the packaged
# binaries) look at this and say so.
if [[ ${build_args[*]-} == *--asan* ]]; then export TC_ASAN=1; else unset TC_ASAN; fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
stamp=$(mktemp -p . .check-start.XXXXXX)
trap 'rm -f "$stamp"' EXIT
if ((${#tests[@]})); then
	make check TESTS="${tests[*]}" || status=$?
else
	make check || status=$?
fi

# Automake's summary, restated as one plain closing line.  Before it, the
# end of each failed test's log, so that a CI transcript shows why.
if [[ -f test-suite.log && ! test-suite.log -nt $stamp ]]; then
	# No test ran (a test program failed to build): the log is an old run's.
	echo "check.sh: no test ran (see the errors above)" >&2
	status=${status/#0/1}
elif [[ -f test-suite.log ]]; then
	while IFS= read -r trs; do
		echo "=== end of ${trs%.trs}.log"
		tail -n 60 "${trs%.trs}.log" || true
	done < <(find tests -name '*.trs' -newer "$stamp" -exec grep -lE '^:test-result: (FAIL|ERROR)' {} + 2>/dev/null || true)

	pass=$(sed -n 's/^# PASS: *//p' test-suite.log)
	fail=$(sed -n 's/^# FAIL: *//p' test-suite.log)
	errs=$(sed -n 's/^# ERROR: *//p' test-suite.log)
	skipped=$(sed -n 's/^# SKIP: *//p' test-suite.log)
	echo "${pass:-0} passed, $((${fail:-0} + ${errs:-0})) failed, ${skipped:-0} skipped"
fi
exit "$status"
