"""labtopo: the lab's topology: a LAN of hosts, each with a container, in network namespaces.

Topology built by ``Lab(n)`` (every piece lives in a network namespace this
module created; nothing is ever added to the root namespace)::

    container ns  cN  eth0 192.168.(10+i).11/24  (fd00:10:(10+i)::11/64)
                   |   default via 192.168.(10+i).1 (fd00:10:(10+i)::1)
                  veth
                   |
    host ns       hN  cbr0 192.168.(10+i).1/24  (fd00:10:(10+i)::1/64)   [bridge, port vc0]
                      eth0 10.60.6.(10+i)/24     (fd00:60:6::(10+i)/64)
                   |   ip_forward on, rp_filter off, no default route
                  veth (vhI on the LAN side)
                   |
    lan ns        lan br0 (bridge joining every host's eth0)

``Host`` and ``Lab`` are built here (addresses, namespaces, links, LAN
partitions, helper processes, cleanup); what they do with hgwd, routes and
leases comes from the mixins in labdaemon, labexpect and lablease.
``cleanup_all`` (atexit) removes every lab of this process.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hgwwire import ScriptedPeer
from labdaemon import SANITIZER_PATTERNS, HostDaemon, LabDaemon
from labexpect import HostExpect, LabExpect, wait_until
from lablease import HostLeases, LabLeases
from labproc import (_PROCS, NS_PREFIX, PORT, Proc, delete_namespaces, ip_batch, netns_exec, ns_prefix,
                     run, stuck_where)

# --------------------------------------------------------------------------
# hosts
# --------------------------------------------------------------------------

class Host(HostDaemon, HostLeases, HostExpect):
    """One lab host: a namespace with eth0 on the LAN, a cbr0 bridge and one container.

    Attributes: ``name`` ("h0"), ``index``, ``ns`` (host namespace), ``cns``
    (container namespace), ``lan_ip``/``lan_ip6`` (None when that family is not
    on the LAN), ``subnet``/``subnet6``, ``gw_ip``/``gw_ip6`` (cbr0 addresses),
    ``container_ip``/``container_ip6``, ``node_id`` (what hgwd should report),
    ``sock``, ``conf_path``, ``log_path``, ``daemon`` (a Proc or None).
    """

    def __init__(self, lab: "Lab", index: int):
        self.lab = lab
        self.index = index
        self.name = f"h{index}"
        self.ns = f"{lab.prefix}-h{index}"
        self.cns = f"{lab.prefix}-c{index}"
        octet = 10 + index
        self.lan_ip = f"10.60.6.{octet}" if lab.lan_ipv4 else None
        self.lan_ip6 = f"fd00:60:6::{octet}" if lab.ipv6 else None
        self.subnet = f"192.168.{octet}.0/24"
        self.gw_ip = f"192.168.{octet}.1"
        self.container_ip = f"192.168.{octet}.11"
        self.subnet6 = f"fd00:10:{octet}::/64" if lab.ipv6 else None
        self.gw_ip6 = f"fd00:10:{octet}::1" if lab.ipv6 else None
        self.container_ip6 = f"fd00:10:{octet}::11" if lab.ipv6 else None
        # In an IPv6-only LAN there is no interface IPv4 address to derive the node id from.
        self.config_node_id = None if lab.lan_ipv4 else f"10.0.0.{1 + index}"
        self.node_id = self.lan_ip or self.config_node_id
        self.sock = lab.workdir / f"{self.name}.sock"
        self.conf_path = lab.workdir / f"{self.name}.conf"
        self.log_path = lab.workdir / f"{self.name}.log"
        self.daemon: Proc | None = None
        self.config_text: str | None = None
        self.start_count = 0
        self.history: list[Proc] = []  # every daemon process this host ran

    def __repr__(self):
        return f"<Host {self.name} ns={self.ns} lan={self.lan_ip or self.lan_ip6}>"

    # ---- addresses ------------------------------------------------------
    @property
    def lan_addr(self) -> str:
        """The LAN address neighbors use for this host (IPv4 if the LAN has it, else IPv6)."""
        return self.lan_ip or self.lan_ip6

    def own_networks(self) -> list[str]:
        """Networks this host announces by default: each container subnet whose family the LAN carries."""
        nets = []
        if self.lan_ip:
            nets.append(self.subnet)
        if self.subnet6:
            nets.append(self.subnet6)
        return nets

    def gateway_for(self, prefix: str) -> str:
        """The gateway other hosts should use for ``prefix`` announced by this host."""
        v = ipaddress.ip_network(prefix).version
        return self.lan_ip if v == 4 else self.lan_ip6

    # ---- commands in the namespaces --------------------------------------
    def sh(self, cmd: str, check=True, timeout=15.0) -> subprocess.CompletedProcess:
        """Run a shell command line inside the host namespace."""
        return netns_exec(self.ns, ["sh", "-c", cmd], check=check, timeout=timeout)

    def run(self, args, **kw) -> subprocess.CompletedProcess:
        """Run argv inside the host namespace."""
        return netns_exec(self.ns, args, **kw)

    def ip(self, *args, check=True) -> subprocess.CompletedProcess:
        """Run ``ip -n <ns> ARGS`` (quicker than a shell)."""
        return run(["ip", "-n", self.ns, *args], check=check)

    def container_sh(self, cmd: str, check=True, timeout=15.0) -> subprocess.CompletedProcess:
        """Run a shell command line inside the container namespace."""
        return netns_exec(self.cns, ["sh", "-c", cmd], check=check, timeout=timeout)


# --------------------------------------------------------------------------
# the lab
# --------------------------------------------------------------------------

_LABS: set["Lab"] = set()
_LAB_LOCK = threading.Lock()


class Lab(LabDaemon, LabExpect, LabLeases):
    """A LAN of ``n`` hosts in network namespaces (see the module docstring).

    ``Lab(n, ipv6=False, lan_ipv4=True, workdir=None)``: ``ipv6`` adds IPv6
    addresses everywhere (LAN fd00:60:6::/64, containers fd00:10:(10+i)::/64);
    ``lan_ipv4=False`` (with ipv6) makes an IPv6-only LAN (hosts then get a
    config node id 10.0.0.(1+i)). ``workdir`` holds configs, sockets and logs
    (default: a new temporary directory). Use as a context manager or call
    ``cleanup()``.
    """

    def __init__(self, n: int, ipv6=False, lan_ipv4=True, workdir=None):
        if not lan_ipv4 and not ipv6:
            raise ValueError("a LAN needs IPv4 or IPv6")
        if n > 40:
            raise ValueError("at most 40 hosts")
        self.n = n
        self.ipv6 = ipv6
        self.lan_ipv4 = lan_ipv4
        self.prefix = ns_prefix(NS_PREFIX)
        self.lan_ns = f"{self.prefix}-lan"
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hgwlab-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts = [Host(self, i) for i in range(n)]
        self.namespaces: list[str] = []
        self.extra_procs: list[Proc] = []
        self.scripted: list = []  # ScriptedPeer connections opened with connect()
        self.problems: list[str] = []
        self._cleaned = False
        self._bridges: set[str] = set()   # extra LAN bridges made by partition()
        for h in self.hosts:
            if len(str(h.sock)) > 100:
                raise ValueError(f"socket path too long for AF_UNIX: {h.sock}")
        with _LAB_LOCK:
            _LABS.add(self)
        try:
            self._build()
        except BaseException:
            self.cleanup()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __repr__(self):
        return f"<Lab {self.prefix} n={self.n} ipv6={self.ipv6} lan_ipv4={self.lan_ipv4}>"

    # ---- building ----------------------------------------------------------
    def _sysctl(self, ns: str, settings: dict) -> None:
        script = "; ".join(f"echo {v} > /proc/sys/{k.replace('.', '/')}" for k, v in settings.items())
        netns_exec(ns, ["sh", "-ec", script])

    def _build(self) -> None:
        names = [self.lan_ns] + [h.ns for h in self.hosts] + [h.cns for h in self.hosts]
        # Record before creating, so a partial failure still gets cleaned up.
        self.namespaces = list(names)
        ip_batch(None, [f"netns add {n}" for n in names])

        v6_quiet = {"net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
                    "net.ipv6.conf.all.accept_ra": 0, "net.ipv6.conf.default.accept_ra": 0}
        # Every setting before any link is created, so new interfaces inherit "default".
        self._sysctl(self.lan_ns, {**v6_quiet, "net.ipv4.ip_forward": 0})
        for h in self.hosts:
            self._sysctl(h.ns, {**v6_quiet,
                                "net.ipv4.ip_forward": 1,
                                "net.ipv4.conf.all.rp_filter": 0,
                                "net.ipv4.conf.default.rp_filter": 0,
                                "net.ipv6.conf.all.forwarding": 1,
                                "net.ipv6.conf.default.forwarding": 1})
            self._sysctl(h.cns, {**v6_quiet,
                                 "net.ipv4.conf.all.rp_filter": 0,
                                 "net.ipv4.conf.default.rp_filter": 0})

        ip_batch(self.lan_ns, ["link set lo up",
                               "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                               "link set br0 up"])
        for h in self.hosts:
            i = h.index
            cmds = ["link set lo up",
                    "link add cbr0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                    f"addr add {h.gw_ip}/24 dev cbr0"]
            if self.ipv6:
                cmds.append(f"addr add {h.gw_ip6}/64 dev cbr0 nodad")
            cmds += ["link set cbr0 up",
                     f"link add eth0 type veth peer name vh{i} netns {self.lan_ns}"]
            if h.lan_ip:
                cmds.append(f"addr add {h.lan_ip}/24 dev eth0")
            if h.lan_ip6:
                cmds.append(f"addr add {h.lan_ip6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            ip_batch(h.ns, cmds)

            cmds = ["link set lo up", f"link add eth0 type veth peer name vc0 netns {h.ns}",
                    f"addr add {h.container_ip}/24 dev eth0"]
            if self.ipv6:
                cmds.append(f"addr add {h.container_ip6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            ip_batch(h.cns, cmds)
            ip_batch(h.ns, ["link set vc0 master cbr0", "link set vc0 up"])
        ip_batch(self.lan_ns, [c for h in self.hosts
                               for c in (f"link set vh{h.index} master br0", f"link set vh{h.index} up")])
        for h in self.hosts:
            cmds = [f"route add default via {h.gw_ip} dev eth0"]
            if self.ipv6:
                cmds.append(f"route add default via {h.gw_ip6} dev eth0")
            ip_batch(h.cns, cmds)
        self._wait_links_up()

    def _wait_links_up(self, timeout=10.0) -> None:
        """Wait until every link of the lab is operationally up.

        The kernel's linkwatch applies carrier changes asynchronously (rate
        limited to about once a second); until then a veth drops what it is
        given, so traffic in the first second would be lost.
        """
        def down_links():
            down = []
            for ns in self.namespaces:
                links = json.loads(run(["ip", "-n", ns, "-j", "link", "show"]).stdout or "[]")
                down += [f"{ns}:{l['ifname']}={l.get('operstate')}" for l in links
                         if l["ifname"] != "lo" and l.get("operstate") != "UP"]
            if down:
                raise AssertionError("links not up: " + " ".join(down))
            return True
        wait_until(down_links, timeout, interval=0.05, msg="lab links to come up")

    def spawn(self, ns: str, argv, name="proc") -> Proc:
        """Start any helper process inside namespace ``ns`` (own process group, logged, cleaned up)."""
        p = Proc(name, ["ip", "netns", "exec", ns, *argv], self.workdir / f"{name}.log")
        self.extra_procs.append(p)
        return p

    def connect(self, src, dst, port=PORT, **kw) -> "ScriptedPeer":
        """A ScriptedPeer from ``src`` (a Host: its host namespace, or a namespace name) to
        ``dst`` (a Host: its LAN address, or an address); closed at cleanup at the latest."""
        ns = src.ns if isinstance(src, Host) else src
        addr = dst.lan_addr if isinstance(dst, Host) else dst
        p = ScriptedPeer(ns, addr, port=port, **kw)
        self.scripted.append(p)
        return p

    # ---- LAN partitions -----------------------------------------------------------
    def partition(self, *groups) -> None:
        """Split the LAN: each group of hosts gets its own bridge in the LAN namespace.

        The first group (and every host in no group) stays on br0; group k
        (k >= 1) moves to bridge brk. Hosts on different bridges cannot reach
        each other at all (frames are not forwarded: TCP sessions go silent,
        connects time out). heal() joins everything again.
        """
        cmds = []
        for k, group in enumerate(groups):
            br = "br0" if k == 0 else f"br{k}"
            if k > 0 and br not in self._bridges:
                cmds += [f"link add {br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                         f"link set {br} up"]
                self._bridges.add(br)
            cmds += [f"link set vh{h.index} master {br}" for h in group]
        ip_batch(self.lan_ns, cmds)

    def unbridge(self) -> None:
        """Take every host's LAN port (vhI) off its bridge: the LAN is then
        whatever joins them, e.g. labswitch.py's userspace switch. heal() undoes it."""
        ip_batch(self.lan_ns, [f"link set vh{h.index} nomaster" for h in self.hosts])

    def heal(self) -> None:
        """Undo partition() or unbridge(): every host's LAN port back on br0."""
        ip_batch(self.lan_ns, [f"link set vh{h.index} master br0" for h in self.hosts])

    # ---- cleanup ------------------------------------------------------------------
    def cleanup(self, graceful=True) -> list[str]:
        """Stop every daemon and helper, delete every namespace; return problems found.

        With ``graceful`` the running daemons first get SIGTERM (checked to exit
        0 within 3 s, else reported), then every process group is SIGKILLed.
        Safe to call twice.
        """
        if self._cleaned:
            return self.problems
        self._cleaned = True
        problems = self.daemon_problems() if graceful else []
        try:
            running = [h for h in self.hosts if h.running]
            if graceful:
                for h in running:
                    h.daemon.expected_exit = True
                    # SIGCONT first, in case a test left it stopped: a SIGCONT that
                    # lands while an ASan build's leak check at exit has its threads
                    # ptrace-stopped can hang that check.
                    h.daemon.signal(signal.SIGCONT)
                    h.daemon.signal(signal.SIGTERM)
                # A sanitizer build checks for leaks at exit, which can take
                # longer on a busy machine: HGW_LAB_STOP_TIMEOUT (check.sh sets it).
                limit = float(os.environ.get("HGW_LAB_STOP_TIMEOUT", "3"))
                deadline = time.monotonic() + limit
                for h in running:
                    rc = h.daemon.wait(max(0.0, deadline - time.monotonic()))
                    if rc is None:
                        problems.append(f"hgwd on {h.name} did not exit within {limit:g} s of SIGTERM "
                                        f"at teardown; {stuck_where(h.daemon.pid)}")
                    elif rc != 0:
                        problems.append(f"hgwd on {h.name} exited with status {rc} on SIGTERM at teardown")
            for sp in self.scripted:
                sp.close()
            for h in self.hosts:
                for d in h.history:
                    d.reap()
            for p in self.extra_procs:
                p.reap()
            if graceful:
                for h in running:  # sanitizer output written while exiting
                    text = h.log_text()
                    if any(p in text for p in SANITIZER_PATTERNS) and not any(h.name in p for p in problems):
                        problems.append(f"hgwd log of {h.name} has a sanitizer report (see {h.log_path})")
        finally:
            delete_namespaces(self.namespaces)
            with _LAB_LOCK:
                _LABS.discard(self)
        self.problems = problems
        return problems


def cleanup_all() -> None:
    """Clean up every lab of this process and kill leftover processes (atexit / signal handler)."""
    with _LAB_LOCK:
        labs = list(_LABS)
    for lab in labs:
        try:
            lab.cleanup(graceful=False)
        except Exception as e:  # noqa: BLE001
            print(f"hgwlab: cleanup of {lab.prefix} failed: {e}", file=sys.stderr)
    for p in list(_PROCS):
        p.reap()


atexit.register(cleanup_all)
