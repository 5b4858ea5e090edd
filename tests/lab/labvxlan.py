"""labvxlan: two LANs joined by a router, built around a ``labtopo.Lab`` (composition, not a subclass).

``TwoLans(lab, far=(2,))`` reshapes a built lab::

    LAN A  br0 in the lan namespace  10.60.6.0/24  (fd00:60:6::/64)   the hosts not in far
    LAN B  br1 in the lan namespace  10.60.7.0/24  (fd00:60:7::/64)   the hosts in far
    router namespace  <prefix>-rt   ra 10.60.6.1 on br0, rb 10.60.7.1 on br1, forwarding on

Each host gets a static route to the other LAN through the router (the
underlay; ``default_route``: a default route through it instead); hosts in ``far`` are re-addressed to LAN B (10.60.7.(10+i)). Every
host gets a configured node id (10.0.0.(1+i)), so moving a host between the
LANs (``move``) keeps its identity. The router namespace is added to the lab's
namespaces, so ``Lab.cleanup()`` removes it. ``config(host, ...)`` builds an
hgwd config with ``encap vxlan`` and ``mesh-network`` for both LANs.
"""

from __future__ import annotations

from labproc import ip_batch, run

LAN = {"A": ("10.60.6", "fd00:60:6:"), "B": ("10.60.7", "fd00:60:7:")}
ROUTER = {"A": ("10.60.6.1", "fd00:60:6::1", "ra", "br0"), "B": ("10.60.7.1", "fd00:60:7::1", "rb", "br1")}
VXLAN = "hgw.vxlan"


class TwoLans:
    """Two LANs and a router around ``lab`` (see the module docstring)."""

    def __init__(self, lab, far=(2,), default_route=False, fixed_node_ids=True):
        """fixed_node_ids: every host configured with node-id 10.0.0.N; else (IPv4 labs)
        a host's node id is its LAN address and follows it when it moves."""
        self.lab = lab
        self.default_route = default_route
        self.fixed_node_ids = fixed_node_ids or not lab.lan_ipv4
        self.router_ns = f"{lab.prefix}-rt"
        self.where = {h.index: "A" for h in lab.hosts}
        lab.namespaces.append(self.router_ns)
        run(["ip", "netns", "add", self.router_ns])
        lab._sysctl(self.router_ns, {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1,
                                     "net.ipv6.conf.all.accept_dad": 0,
                                     "net.ipv6.conf.default.accept_dad": 0})
        cmds = ["link set lo up"]
        for side, (a4, a6, ifn, br) in ROUTER.items():
            cmds += [f"link add {ifn} type veth peer name v{ifn} netns {lab.lan_ns}",
                     f"addr add {a4}/24 dev {ifn}"]
            if lab.ipv6:
                cmds.append(f"addr add {a6}/64 dev {ifn} nodad")
            cmds.append(f"link set {ifn} up")
        ip_batch(self.router_ns, cmds)
        ip_batch(lab.lan_ns, ["link add br1 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                              "link set br1 up",
                              "link set vra master br0", "link set vra up",
                              "link set vrb master br1", "link set vrb up"])
        lab._bridges.add("br1")
        for h in lab.hosts:
            if self.fixed_node_ids:
                h.config_node_id = h.node_id = f"10.0.0.{1 + h.index}"
            self._underlay_route(h, "A", add=True)
        for i in far:
            self.move(lab.hosts[i], "B")
        lab._wait_links_up()

    def addr(self, h, side, v6=False) -> str:
        """The address host h has on LAN side ("A" or "B")."""
        p4, p6 = LAN[side]
        return f"{p6}:{10 + h.index}" if v6 else f"{p4}.{10 + h.index}"

    def _underlay_route(self, h, side, add):
        other = "B" if side == "A" else "A"
        op = "add" if add else "del"
        cmds = []
        if h.lan_ip:
            dst = "default" if self.default_route else f"{LAN[other][0]}.0/24"
            cmds.append(f"route {op} {dst} via {ROUTER[side][0]} dev eth0")
        if h.lan_ip6:
            dst = "default" if self.default_route else f"{LAN[other][1]}:/64"
            cmds.append(f"route {op} {dst} via {ROUTER[side][1]} dev eth0")
        ip_batch(h.ns, cmds)

    def move(self, h, side) -> None:
        """Re-address host h onto LAN side: bridge port, eth0 address, underlay route."""
        old = self.where[h.index]
        if old == side:
            return
        br = ROUTER[side][3]
        cmds = []
        if h.lan_ip:
            cmds += [f"addr add {self.addr(h, side)}/24 dev eth0", f"addr del {self.addr(h, old)}/24 dev eth0"]
        if h.lan_ip6:
            cmds += [f"addr add {self.addr(h, side, True)}/64 dev eth0 nodad",
                     f"addr del {self.addr(h, old, True)}/64 dev eth0"]
        self._underlay_route(h, old, add=False)
        ip_batch(self.lab.lan_ns, [f"link set vh{h.index} master {br}"])
        ip_batch(h.ns, cmds)
        self._underlay_route(h, side, add=True)
        self.where[h.index] = side
        if h.lan_ip:
            h.lan_ip = self.addr(h, side)
            if not self.fixed_node_ids:
                h.node_id = h.lan_ip
        if h.lan_ip6:
            h.lan_ip6 = self.addr(h, side, True)

    def config(self, h, encap="encap vxlan", neighbors=None, extra="", mesh=("A", "B"), **kw) -> str:
        """hgwd config for h: every other host as neighbor, encap, and (with encap vxlan)
        the LANs in ``mesh`` as mesh networks."""
        lines = [encap] if encap else []
        if encap and encap.startswith("encap vxlan"):
            lines += [f"mesh-network {LAN[s][0]}.0/24" for s in mesh]
            if self.lab.ipv6:
                lines += [f"mesh-network {LAN[s][1]}:/64" for s in mesh]
        if extra:
            lines.append(extra)
        if neighbors is None:
            neighbors = [o for o in self.lab.hosts if o is not h]
        return h.make_config(neighbors=neighbors, extra_config="\n".join(lines), **kw)

    def same_lan(self, a, b) -> bool:
        return self.where[a.index] == self.where[b.index]

    # ---- what the kernel holds ------------------------------------------------
    def route_get(self, h, dst) -> str:
        """``ip route get DST`` in h's namespace (one line)."""
        return run(["ip", "-n", h.ns, "route", "get", dst]).stdout.strip()

    def proto_route(self, h, prefix) -> str:
        """h's hgw route for prefix (``ip route show proto 77 PREFIX``), '' when none."""
        fam = ["-6"] if ":" in prefix else []
        return run(["ip", *fam, "-n", h.ns, "route", "show", "proto", "77", prefix]).stdout.strip()

    def vxlan_neighbors(self, h) -> set:
        """(address, mac) of each permanent neighbour entry on h's VXLAN device."""
        out = run(["ip", "-n", h.ns, "neigh", "show", "dev", VXLAN], check=False).stdout
        return {(w[0], w[2]) for w in (line.split() for line in out.splitlines()) if len(w) >= 3}

    def vxlan_fdb(self, h) -> set:
        """(mac, dst) of each FDB entry with a destination on h's VXLAN device."""
        out = run(["bridge", "-n", h.ns, "fdb", "show", "dev", VXLAN], check=False).stdout
        ents = set()
        for line in out.splitlines():
            w = line.split()
            if "dst" in w:
                ents.add((w[0], w[w.index("dst") + 1]))
        return ents

    def has_device(self, h) -> bool:
        return run(["ip", "-n", h.ns, "link", "show", VXLAN], check=False).returncode == 0
