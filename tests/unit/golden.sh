#!/bin/sh
# golden.sh: runs `hgwd -n` on tests/conf/N.conf and compares with N.ok (normalized config, or the error and exit 1); good N.ok must reparse to itself.
#
# An N.ok whose first line starts with "N.conf:LINE: " is a bad config: hgwd
# must exit 1, print nothing on stdout and exactly N.ok on stderr. Any other
# N.ok is a good config: exit 0, nothing on stderr, exactly N.ok on stdout,
# and `hgwd -n` on N.ok itself must print N.ok again (the round trip).
#
# HGWD: the binary (default ./daemon/hgwd, from the build dir where `make
# check` runs). srcdir: the source tree (automake sets it; default two levels
# above this script). Builds nothing. Exit 0: all match, 1: a mismatch, 99: setup error.

set -u

script_dir=$(cd "$(dirname "$0")" && pwd) || exit 99
srcdir=${srcdir:-$script_dir/../..}
srcdir=$(cd "$srcdir" && pwd) || { echo "golden.sh: no source dir '$srcdir'" >&2; exit 99; }
HGWD=${HGWD:-./daemon/hgwd}
case $HGWD in
/*) ;;
*) HGWD=$(pwd)/$HGWD ;;
esac
confdir=$srcdir/tests/conf

if [ ! -x "$HGWD" ]; then
	echo "golden.sh: $HGWD is not an executable (build it, or set HGWD)" >&2
	exit 99
fi
if [ ! -d "$confdir" ]; then
	echo "golden.sh: no $confdir" >&2
	exit 99
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' INT TERM HUP

fails=0
cases=0

# report NAME WHAT EXPECTED-FILE GOT-FILE
report() {
	echo "FAIL: $1: $2"
	diff -u "$3" "$4" | sed 's/^/    /'
	fails=$((fails + 1))
}

for conf in "$confdir"/*.conf; do
	[ -f "$conf" ] || continue
	name=$(basename "$conf" .conf)
	ok=$confdir/$name.ok
	cases=$((cases + 1))
	if [ ! -f "$ok" ]; then
		echo "FAIL: $name: $name.conf has no $name.ok"
		fails=$((fails + 1))
		continue
	fi
	# From the conf dir, so that errors read "N.conf:LINE: message".
	(cd "$confdir" && exec "$HGWD" -n -f "$name.conf") >"$tmp/out" 2>"$tmp/err"
	status=$?
	: >"$tmp/empty"
	if head -n 1 "$ok" | grep -q "^$name\.conf:[0-9][0-9]*: "; then
		bad=1
		[ "$status" -eq 1 ] || { echo "FAIL: $name: exit status $status, want 1"; fails=$((fails + 1)); }
		cmp -s "$ok" "$tmp/err" || report "$name" "error output differs from $name.ok" "$ok" "$tmp/err"
		cmp -s "$tmp/empty" "$tmp/out" || report "$name" "unexpected standard output" "$tmp/empty" "$tmp/out"
	else
		bad=0
		[ "$status" -eq 0 ] || { echo "FAIL: $name: exit status $status, want 0"; fails=$((fails + 1)); }
		cmp -s "$ok" "$tmp/out" || report "$name" "normalized output differs from $name.ok" "$ok" "$tmp/out"
		cmp -s "$tmp/empty" "$tmp/err" || report "$name" "unexpected error output" "$tmp/empty" "$tmp/err"
	fi
	[ "$bad" -eq 1 ] && continue
	# Round trip: the normalized text normalizes to itself.
	cp "$ok" "$tmp/rt.conf"
	(cd "$tmp" && exec "$HGWD" -n -f rt.conf) >"$tmp/rt.out" 2>"$tmp/rt.err"
	status=$?
	if [ "$status" -ne 0 ]; then
		echo "FAIL: $name: $name.ok does not parse (exit $status):"
		sed 's/^/    /' "$tmp/rt.err"
		fails=$((fails + 1))
	elif ! cmp -s "$ok" "$tmp/rt.out"; then
		report "$name" "$name.ok does not reparse to itself" "$ok" "$tmp/rt.out"
	fi
done

if [ "$cases" -eq 0 ]; then
	echo "golden.sh: no .conf files in $confdir" >&2
	exit 99
fi
if [ "$fails" -ne 0 ]; then
	echo "golden.sh: $fails mismatch(es) in $cases configs"
	exit 1
fi
echo "golden.sh: $cases configs match"
exit 0
