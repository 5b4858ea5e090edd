#!/bin/sh
# check.sh: the whole test suite from a fresh clone, as root: installs what is
# missing, builds, and runs
#   1. make check in ./build (unit, golden and namespace-lab tests);
#   2. make check again in ./build-san, built with ASan and UBSan (less four
#      tests that measure memory, soak for a minute or time link flaps: see
#      below);
#   3. each libFuzzer target for HGW_FUZZ_TIME seconds (default 30), and every
#      saved regression input.
# HGW_CHECK_STAGES picks stages (default "build sanitizers fuzz").
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
stages=${HGW_CHECK_STAGES:-build sanitizers fuzz}
jobs=$(nproc)

show_failures() {
	for f in $(find "$1" -name '*.trs' 2>/dev/null); do
		if grep -q '^:test-result: \(FAIL\|ERROR\)' "$f"; then
			echo "==== ${f%.trs}.log (last 150 lines)"
			tail -n 150 "${f%.trs}.log"
		fi
	done
}

run_check() {	# $1: build folder
	if ! make -C "$1" -j"$jobs" check; then
		show_failures "$1"
		echo "check.sh: make check failed in $1" >&2
		exit 1
	fi
}

"$top/tests/setup.sh"
start=$(date +%s)
for s in $stages; do
	case $s in
	build)
		echo "== make check (build)"
		run_check "$top/build"
		;;
	sanitizers)
		echo "== make check with ASan and UBSan (build-san)"
		mkdir -p "$top/build-san"
		[ -f "$top/build-san/Makefile" ] || (cd "$top/build-san" && ../configure -q --enable-sanitizers)
		make -C "$top/build-san" -j"$jobs" >/dev/null
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
		LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
		HGW_LAB_STOP_TIMEOUT=${HGW_LAB_STOP_TIMEOUT:-10}
		# Tests that measure a figure of hgwd's memory, or hold a
		# sub-second margin against the hold time through ten link flaps
		# (how soon the daemon answers the kernel's link event) would
		# measure the sanitizers here, and two of the four zero-loss
		# restart runs repeat the other two's code paths (a SIGTERM
		# restart; an upgrade is one with another binary): they run in the
		# build stage only (not skipped: deselected for this stage).
		PYTEST_ADDOPTS="${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }--deselect tests/lab/test_trust.py::test_row7_non_reading_sessions_grow_rss_by_at_most_the_budget --deselect tests/lab/test_graceful_restart.py::test_restart_loses_no_packet[sigterm] --deselect tests/lab/test_graceful_restart.py::test_restart_loses_no_packet[upgrade] --deselect tests/lab/test_linkflap.py::test_switch_port_flaps_2s --deselect tests/lab/test_linkflap.py::test_eth0_admin_flaps_2s"
		export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS HGW_LAB_STOP_TIMEOUT PYTEST_ADDOPTS
		run_check "$top/build-san"
		;;
	fuzz)
		echo "== fuzzing, ${HGW_FUZZ_TIME:-30} s a target"
		make -C "$top/build" fuzz-regress
		make -C "$top/build" fuzz-run FUZZ_TIME="${HGW_FUZZ_TIME:-30}"
		;;
	*)
		echo "check.sh: unknown stage '$s'" >&2
		exit 2
		;;
	esac
done
echo "== all passed in $(( $(date +%s) - start )) s"
