#!/bin/sh
# depcheck.sh: make check's run of tests/depcheck.py (issue 9): first its self-test on tiny C files
# (so the check cannot pass silently), then hgwd's module graph and the daemon/ file lengths.
# make check runs it from the top build directory, with $srcdir exported by automake's test driver.
if [ -n "$srcdir" ]; then
	top_srcdir=$(cd "$srcdir" && pwd) || exit 99
else
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 99
fi
py=${PYTHON3:-python3}
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
"$py" "$top_srcdir/tests/depcheck.py" --self-test || exit 99
exec "$py" "$top_srcdir/tests/depcheck.py" --builddir "$(pwd)" --srcdir "$top_srcdir"
