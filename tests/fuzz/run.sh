#!/bin/sh
# run.sh: runs hgw's libFuzzer targets (built by `make fuzz`).
#
# usage: run.sh [-b BINDIR] [-r] [-k] [-t TARGET]... [SECONDS]
#   -b BINDIR  where fuzz_frame, fuzz_config and fuzz_cmd are
#              (default: ./tests/fuzz when it holds them, else this directory)
#   -r         regression only: every input of regress/TARGET/ and of the
#              seed corpus corpus/TARGET/ runs once; no fuzzing
#   -k         keep the temporary directories even when nothing was found
#   -t TARGET  frame, config or cmd (repeatable; default all three)
#   SECONDS    fuzzing time per target (default 60)
#
# For each target: the regression inputs and the seeds run once, then the
# target fuzzes a copy of its seed corpus (plus the regression inputs) in a
# temporary directory for SECONDS (-max_total_time). Any crash, leak, timeout
# or out-of-memory fails the run (exit 1): the reproducer's path and the
# command that replays it are printed, and the temporary directory is kept.
# A reproducer belongs in regress/TARGET/ once its bug is fixed.
#
# Environment: FUZZ_TIMEOUT (seconds one input may take, default 10),
# FUZZ_RSS_MB (default 2048), FUZZ_ARGS (more libFuzzer flags), TMPDIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bindir=
regress_only=0
keep=0
targets=
while getopts b:rkt: opt; do
	case $opt in
	b) bindir=$OPTARG ;;
	r) regress_only=1 ;;
	k) keep=1 ;;
	t) targets="$targets $OPTARG" ;;
	*) sed -n '3,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
secs=${1:-60}
case $secs in
''|*[!0-9]*) echo "run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;;
esac
[ -n "$targets" ] || targets="frame config cmd"
if [ -z "$bindir" ]; then
	if [ -x tests/fuzz/fuzz_frame ]; then bindir=tests/fuzz; else bindir=$here; fi
fi
bindir=$(cd "$bindir" && pwd) || exit 2
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
status=0

# The inputs of a directory, without its README.
inputs() {
	[ -d "$1" ] || return 0
	find "$1" -type f ! -name 'README*' ! -name '.*' | LC_ALL=C sort
}

# Replays files through a target once; 0 when none fails.
replay() {
	t=$1; shift
	[ $# -gt 0 ] || return 0
	log=$(mktemp "${TMPDIR:-/tmp}/hgw-fuzz-$t-replay.XXXXXX")
	if "$bindir/fuzz_$t" -timeout="$timeout" -rss_limit_mb="$rss" "$@" >"$log" 2>&1; then
		rm -f "$log"
		return 0
	fi
	tail -n 40 "$log"
	echo "run.sh: fuzz_$t fails on one of these inputs (log: $log):"
	printf '  %s\n' "$@"
	echo "run.sh: replay one with: $bindir/fuzz_$t FILE"
	return 1
}

for t in $targets; do
	bin=$bindir/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin not found: run 'make fuzz' first" >&2
		status=1
		continue
	fi
	# shellcheck disable=SC2046
	if ! replay "$t" $(inputs "$here/regress/$t"); then
		echo "FAIL fuzz_$t: regression inputs"
		status=1
		continue
	fi
	# shellcheck disable=SC2046
	if ! replay "$t" $(inputs "$here/corpus/$t"); then
		echo "FAIL fuzz_$t: seed corpus"
		status=1
		continue
	fi
	nreg=$(inputs "$here/regress/$t" | wc -l)
	nseed=$(inputs "$here/corpus/$t" | wc -l)
	if [ "$regress_only" = 1 ]; then
		echo "ok   fuzz_$t: $nreg regression and $nseed seed inputs"
		continue
	fi

	work=$(mktemp -d "${TMPDIR:-/tmp}/hgw-fuzz-$t.XXXXXX")
	mkdir "$work/corpus" "$work/artifacts"
	for f in $(inputs "$here/corpus/$t") $(inputs "$here/regress/$t"); do
		cp "$f" "$work/corpus/"
	done
	dict=
	[ -f "$here/$t.dict" ] && dict=-dict=$here/$t.dict
	echo "run.sh: fuzz_$t for ${secs}s in $work"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb="$rss" \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/" $dict \
	    ${FUZZ_ARGS:-} "$work/corpus" >"$work/fuzz.log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$work/fuzz.log")
	runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$work/fuzz.log")
	found=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
	    -o -name 'timeout-*' -o -name 'oom-*' \) | LC_ALL=C sort)
	if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
		status=1
		grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz_[a-z]+: ' \
		    "$work/fuzz.log" | head -n 5
		tail -n 60 "$work/fuzz.log"
		echo "FAIL fuzz_$t (exit $rc) after ${runs:-?} runs; log: $work/fuzz.log"
		for f in $found; do
			echo "  reproducer: $f"
			echo "  replay:     $bin $f"
			echo "  keep it:    cp $f $here/regress/$t/  (once fixed)"
		done
		[ -n "$found" ] || echo "  no reproducer was written: see the log"
		continue
	fi
	echo "ok   fuzz_$t: ${runs:-?} runs, ${eps:-?} exec/s; last: $last"
	echo "     corpus: $(find "$work/corpus" -type f | wc -l) inputs (from $nseed seeds, $nreg regression)"
	if [ "$keep" = 1 ]; then echo "     kept: $work"; else rm -rf "$work"; fi
done
exit $status
