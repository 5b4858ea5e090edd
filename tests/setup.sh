#!/bin/sh
# setup.sh: installs what hgw needs on Debian 12 (when missing), then builds it in ./build.
# Used by tests/demo.sh, tests/check.sh and .ci/run. Needs root for apt-get.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
pkgs="build-essential autoconf automake libtool pkg-config libevent-dev libnl-3-dev
libnl-route-3-dev libssl-dev libjson-c-dev libedit-dev libcmocka-dev python3 python3-pytest
python3-jsonschema systemd python3-prometheus-client libsystemd-dev
iproute2 iputils-ping procps tmux clang libclang-rt-14-dev openssl
libnftables-dev nftables iptables containernetworking-plugins"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "== installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
cd "$top"
[ -x configure ] || ./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q ${HGW_CONFIGURE_FLAGS:-}
make -j"$(nproc)" >/dev/null
echo "== built: $top/build/daemon/hgwd and $top/build/cli/hgwsh"
