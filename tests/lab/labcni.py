"""labcni: the lab extended for the flannel drop-in tests (issue 12): pods made by
the real CNI plugins (Debian's containernetworking-plugins) from hgwd's
subnet.env, an outside host on the LAN, LAN interfaces with other names,
nftables/iptables helpers, and a tiny UDP echo that tells the sender which
address it came from.

It composes hgwlab.Lab (never edits it): every namespace made here is named
with the lab's prefix and added to ``lab.namespaces``, so Lab.cleanup() and the
stale-namespace sweep remove it; helper processes go through ``lab.spawn``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from pathlib import Path

import hgwlab
from hgwlab import ip_batch, netns_exec, run, wait_until

CNI_PATH = Path(os.environ.get("HGW_CNI_PATH", "/usr/lib/cni"))

#: the outside host's LAN addresses (on the LAN, no route to any pod)
OUTSIDE_IP = "10.60.6.200"
OUTSIDE_IP6 = "fd00:60:6::200"

#: UDP echo: replies to each datagram with the address it came from.
ECHO_SERVER = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
print("listening", flush=True)
while True:
    data, peer = s.recvfrom(512)
    print("from", peer[0], flush=True)
    s.sendto(peer[0].encode(), peer)
"""

ECHO_CLIENT = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(b"who am i", (sys.argv[1], int(sys.argv[2])))
print(s.recvfrom(512)[0].decode())
"""


def missing_tools() -> list[str]:
    """What the CNI tests need and this machine lacks (tests/setup.sh installs them)."""
    problems = []
    for plugin in ("bridge", "host-local"):
        if not (CNI_PATH / plugin).is_file():
            problems.append(f"CNI plugin {CNI_PATH / plugin} (package containernetworking-plugins)")
    for tool in ("nft", "iptables", "ip6tables"):
        if run(["sh", "-c", f"command -v {tool}"], check=False).returncode != 0:
            problems.append(f"{tool} (packages nftables, iptables)")
    return problems


class Pod:
    """A container namespace attached by the CNI bridge plugin."""

    def __init__(self, host, ns: str, ip4: str | None, ip6: str | None, result: dict):
        self.host = host
        self.ns = ns
        self.ip4 = ip4
        self.ip6 = ip6
        self.result = result

    def __repr__(self):
        return f"<Pod {self.ns} {self.ip4} {self.ip6}>"


class CniLab:
    """Composes a hgwlab.Lab: ``CniLab(lab)``."""

    def __init__(self, lab: hgwlab.Lab):
        self.lab = lab
        self.ifname = {h: "eth0" for h in lab.hosts}
        self.outside_ns: str | None = None
        self.pods: list[Pod] = []

    # ---- namespaces ------------------------------------------------------------
    def _new_ns(self, suffix: str) -> str:
        ns = f"{self.lab.prefix}-{suffix}"
        self.lab.namespaces.append(ns)   # recorded first: cleaned up even if what follows fails
        run(["ip", "netns", "add", ns])
        netns_exec(ns, ["sh", "-ec", "echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; "
                        "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; "
                        "echo 0 > /proc/sys/net/ipv6/conf/default/accept_ra"])
        ip_batch(ns, ["link set lo up"])
        return ns

    def rename_lan(self, h, name: str) -> None:
        """Give host h's LAN interface another name (before hgwd starts): interface auto must find it."""
        old = self.ifname[h]
        ip_batch(h.ns, [f"link set {old} down", f"link set {old} name {name}", f"link set {name} up"])
        if h.lan_ip6:   # IPv6 addresses go with the link down
            ip_batch(h.ns, [f"addr replace {h.lan_ip6}/64 dev {name} nodad"])
        if h.lan_ip:
            ip_batch(h.ns, [f"addr replace {h.lan_ip}/24 dev {name}"])
        self.ifname[h] = name

        def up():
            link = json.loads(run(["ip", "-n", h.ns, "-j", "link", "show", name]).stdout)[0]
            if link.get("operstate") != "UP":
                raise AssertionError(f"{h.name} {name} is {link.get('operstate')}")
            return True
        wait_until(up, 10, msg=f"{h.name}'s {name} to come up")

    def add_outside(self) -> str:
        """A host on the LAN bridge outside the cluster network, with no route to any pod."""
        ns = self._new_ns("out")
        lab = self.lab
        ip_batch(ns, [f"link add eth0 type veth peer name vhout netns {lab.lan_ns}"])
        ip_batch(lab.lan_ns, ["link set vhout master br0", "link set vhout up"])
        cmds = [f"addr add {OUTSIDE_IP}/24 dev eth0"]
        if lab.ipv6:
            cmds.append(f"addr add {OUTSIDE_IP6}/64 dev eth0 nodad")
        ip_batch(ns, cmds + ["link set eth0 up"])
        self.outside_ns = ns
        return ns

    def check_lease_mesh(self, families=(4, 6)) -> dict:
        """Like Lab.check_lease_mesh, with each host's own LAN interface name: every
        host leases a subnet per family and routes the others' via their LAN
        address on its interface. Returns {host: {family: lease}}."""
        hosts = self.lab.hosts
        leases = {h: {f: h.lease(f) for f in families} for h in hosts}
        errors = [f"{h.name} has no IPv{f} lease" for h in hosts for f in families if leases[h][f] is None]
        if errors:
            raise AssertionError("; ".join(errors))
        for h in hosts:
            got = h.route_set()
            want = {hgwlab.route(leases[o][f], o.lan_ip if f == 4 else o.lan_ip6, dev=self.ifname[h])
                    for o in hosts if o is not h for f in families}
            if got != want:
                raise AssertionError(f"{h.name} routes: missing {sorted(want - got)} "
                                     f"unexpected {sorted(got - want)}")
        return leases

    def wait_lease_mesh(self, families=(4, 6), timeout=20.0) -> dict:
        return wait_until(lambda: self.check_lease_mesh(families), timeout, interval=0.1,
                          msg="a full mesh over leased subnets")

    # ---- CNI -------------------------------------------------------------------
    def cni_config(self, h) -> dict:
        """What the flannel CNI plugin hands the bridge plugin, from h's subnet.env."""
        env = h.subnet_env()
        if not env:
            raise AssertionError(f"{h.name} has no subnet.env at {h.subnet_env_file}")
        ranges, routes = [], []
        for net_key, sub_key in (("FLANNEL_NETWORK", "FLANNEL_SUBNET"),
                                 ("FLANNEL_IPV6_NETWORK", "FLANNEL_IPV6_SUBNET")):
            if sub_key in env:
                ranges.append([{"subnet": str(ipaddress.ip_interface(env[sub_key]).network)}])
                routes.append({"dst": env[net_key]})
        return {
            "cniVersion": "0.3.1", "name": "cbr0", "type": "bridge",
            "bridge": "cni0", "isGateway": True, "isDefaultGateway": True,
            "hairpinMode": True,
            "ipMasq": env.get("FLANNEL_IPMASQ") != "true",
            "mtu": int(env["FLANNEL_MTU"]),
            "ipam": {"type": "host-local", "ranges": ranges, "routes": routes,
                     "dataDir": str(self.lab.workdir / f"cni-{h.name}")},
        }

    def add_pod(self, h, name: str) -> Pod:
        """CNI_COMMAND=ADD of the bridge plugin in h's namespace for a new pod namespace."""
        ns = self._new_ns(name)
        conf = self.cni_config(h)
        env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": f"{self.lab.prefix}-{name}",
               "CNI_NETNS": f"/run/netns/{ns}", "CNI_IFNAME": "eth0", "CNI_PATH": str(CNI_PATH),
               "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        cp = subprocess.run(["ip", "netns", "exec", h.ns, str(CNI_PATH / "bridge")],
                            input=json.dumps(conf), capture_output=True, text=True, env=env,
                            timeout=30)
        if cp.returncode != 0:
            raise AssertionError(f"CNI ADD on {h.name} failed ({cp.returncode}): {cp.stdout} {cp.stderr}\n"
                                 f"config: {json.dumps(conf)}")
        result = json.loads(cp.stdout)
        ip4 = ip6 = None
        for a in result.get("ips", []):
            addr = ipaddress.ip_interface(a["address"]).ip
            if addr.version == 4:
                ip4 = str(addr)
            else:
                ip6 = str(addr)
        pod = Pod(h, ns, ip4, ip6, result)
        self.pods.append(pod)
        return pod

    # ---- traffic ---------------------------------------------------------------
    def echo_server(self, ns: str, addr: str, port: int = 7400) -> hgwlab.Proc:
        """A UDP echo in ns bound to addr that answers with the sender's address."""
        p = self.lab.spawn(ns, ["python3", "-c", ECHO_SERVER, addr, str(port)],
                           name=f"echo-{ns.rsplit('-', 1)[-1]}-{port}")
        wait_until(lambda: p.log_path.exists() and "listening" in p.log_path.read_text(), 5,
                   msg=f"the echo server in {ns} to listen")
        return p

    @staticmethod
    def seen_as(ns: str, dst: str, port: int = 7400, timeout: float = 1.0) -> str | None:
        """Send one datagram from ns to dst; the address the echo saw, or None when no answer."""
        cp = netns_exec(ns, ["python3", "-c", ECHO_CLIENT, dst, str(port), str(timeout)],
                        check=False, timeout=timeout + 5)
        return cp.stdout.strip() if cp.returncode == 0 else None

    def wait_seen_as(self, ns: str, dst: str, port: int = 7400, timeout: float = 10.0) -> str:
        """Retry seen_as until an answer comes (routes and rules settle); return the address seen."""
        got = {}

        def ok():
            got["a"] = self.seen_as(ns, dst, port)
            if got["a"] is None:
                raise AssertionError(f"no echo from {dst} to {ns}")
            return True
        wait_until(ok, timeout, interval=0.2, msg=f"an echo from {dst}")
        return got["a"]

    # ---- nftables / iptables ------------------------------------------------------
    @staticmethod
    def nft(ns: str, cmd: str, check=True) -> subprocess.CompletedProcess:
        return netns_exec(ns, ["nft", *cmd.split()], check=check)

    def hgw_table(self, h) -> str | None:
        """`nft list table inet hgw` in h, or None when there is none."""
        cp = self.nft(h.ns, "list table inet hgw", check=False)
        return cp.stdout if cp.returncode == 0 else None

    @staticmethod
    def forward_rules(h, v6=False) -> list[str]:
        """iptables(-nft) -S FORWARD lines of host h."""
        tool = "ip6tables" if v6 else "iptables"
        return netns_exec(h.ns, [tool, "-S", "FORWARD"]).stdout.splitlines()
