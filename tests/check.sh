#!/bin/sh
# check.sh: the whole test suite from a fresh clone: installs what is missing,
# builds, and runs `make check` (unit, golden, lab tests). Run as root.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/setup.sh"
cd "$top/build"
if ! make -j"$(nproc)" check; then
	for f in $(find . -name '*.log' -path '*tests*'); do
		grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null && { echo "==== $f"; tail -n 200 "$f"; }
	done
	exit 1
fi
