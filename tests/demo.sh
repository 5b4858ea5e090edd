#!/bin/sh
# demo.sh: installs what is missing, builds, and runs the live 3-host demo
# (network namespaces: leases from one seed, routes, pings, teardown). Run as root.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/setup.sh"
exec /usr/bin/python3 "$top/tests/lab/demo.py" --builddir "$top/build"
