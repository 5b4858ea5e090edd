#!/bin/sh
# run.sh: runs the hgw namespace lab tests (tests/lab, pytest) for `make check`; needs root.
#
# make check runs this from the top build directory: the binaries are taken
# from there (HGW_BUILDDIR=$(pwd)), the tests from the source tree ($srcdir as
# exported by automake's test driver, else this script's location). Extra
# arguments go to pytest, e.g. tests/lab/run.sh -k restart.

if [ "$(id -u)" != 0 ]; then
	echo "tests/lab/run.sh: the hgw lab tests must run as root (they create network namespaces); run make check as root" >&2
	exit 1
fi

builddir=$(pwd)
if [ -n "$srcdir" ]; then
	top_srcdir=$(cd "$srcdir" && pwd) || exit 1
else
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
fi
if [ ! -f "$top_srcdir/tests/lab/conftest.py" ]; then
	echo "tests/lab/run.sh: cannot find the lab tests under $top_srcdir/tests/lab" >&2
	exit 1
fi
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
	echo "tests/lab/run.sh: /usr/bin/python3 with pytest is needed (apt-get install python3-pytest)" >&2
	exit 1
fi

cd "$top_srcdir" || exit 1
# No bytecode or cache files in the (possibly read-only) source tree.
HGW_BUILDDIR=$builddir
PYTHONDONTWRITEBYTECODE=1
export HGW_BUILDDIR PYTHONDONTWRITEBYTECODE
# The long soaks (marker soak) are `make soak`'s: HGW_LAB_MARKS=soak.
exec /usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE -m "${HGW_LAB_MARKS:-not soak}" tests/lab "$@"
