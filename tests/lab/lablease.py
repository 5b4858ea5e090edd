"""lablease: the lease and membership helpers of the lab (cluster-network, flannel's subnet.env).

``HostLeases`` (a mixin of ``labtopo.Host``): lease config lines, the lease
state file, ``show leases``/``show members``, subnet.env, and moving a
host's container network into its lease. ``LabLeases`` (a mixin of
``labtopo.Lab``): the full-mesh-over-leased-subnets check.
"""

from __future__ import annotations

import collections
import ipaddress
import re
from pathlib import Path

from labexpect import route, wait_until
from labproc import ip_batch, run


class HostLeases:
    """Leases, members and subnet.env of one lab host (a mixin of labtopo.Host)."""

    # ---- leases, members, flannel's subnet.env ---------------------------------
    @property
    def lease_file(self) -> Path:
        """Where lease_config() tells hgwd to keep this host's lease state (in the lab's workdir)."""
        return self.lab.workdir / f"{self.name}.lease"

    @property
    def subnet_env_file(self) -> Path:
        """Where lease_config() tells hgwd to write flannel's subnet.env (in the lab's workdir)."""
        return self.lab.workdir / f"{self.name}.subnet.env"

    def lease_config(self, cluster: str | None = "10.244.0.0/16", subnet_length: int = 24,
                     cluster6: str | None = None, subnet_length6: int = 64, hold=None,
                     ipmasq=False, discovery=False, startup=None) -> str:
        """Config lines (for ``extra_config``) that make hgwd lease its container subnet(s).

        ``cluster-network CLUSTER subnet-length N`` (and the IPv6 one with
        ``cluster6``), with ``lease-file`` and ``subnet-env`` always pointing
        into the lab's workdir (never the system defaults); optional
        ``lease-hold HOLD`` (seconds or a string like "5s"), ``ipmasq``,
        ``discovery multicast`` and ``timers startup STARTUP``. Combine with
        ``networks=[]`` so no hand-written network takes the lease's place.
        """
        lines = []
        if cluster:
            lines.append(f"cluster-network {cluster} subnet-length {subnet_length}")
        if cluster6:
            lines.append(f"cluster-network {cluster6} subnet-length {subnet_length6}")
        lines += [f"lease-file {self.lease_file}", f"subnet-env {self.subnet_env_file}"]
        if hold is not None:
            lines.append(f"lease-hold {hold if isinstance(hold, str) else f'{hold:g}'}")
        if ipmasq:
            lines.append("ipmasq")
        if discovery:
            lines.append("discovery multicast")
        if startup is not None:
            lines.append(f"timers startup {startup:g}")
        return "\n".join(lines) + "\n"

    def write_lease_state(self, *leases) -> None:
        """Write this host's lease state file before hgwd starts: ``(subnet, claim_unix_ms)`` pairs.

        hgwd reclaims what its state file names at start, keeping the claim
        time: the way to make a host prefer a given subnet (and to make two
        hosts want the same one).
        """
        text = "# written by the lab\n" + "".join(f"lease {ipaddress.ip_network(p)} {int(ms)}\n"
                                                  for p, ms in leases)
        self.lease_file.write_text(text)

    def lease_state(self) -> list[tuple[str, int]]:
        """The ``(subnet, claim_unix_ms)`` lines of this host's lease state file ([] if missing)."""
        try:
            text = self.lease_file.read_text()
        except FileNotFoundError:
            return []
        return [(m.group(1), int(m.group(2)))
                for m in re.finditer(r"^lease\s+(\S+)\s+(\d+)\s*$", text, re.M)]

    def leases(self) -> dict:
        """``show leases json`` (the whole object)."""
        return self.hgwsh("show leases json")

    def lease(self, family=4) -> str | None:
        """This host's own lease of ``family`` (4 or 6) from ``show leases json``, or None."""
        fams = self.leases()["families"]
        return (fams.get("ipv4" if family == 4 else "ipv6") or {}).get("lease")

    def lease_table(self) -> dict:
        """``show leases json`` "leases" as {subnet: entry}; a subnet listed twice raises AssertionError."""
        out = {}
        for e in self.leases()["leases"]:
            if e["subnet"] in out:
                raise AssertionError(f"{self.name}: {e['subnet']} listed twice in show leases: "
                                     f"{out[e['subnet']]} and {e}")
            out[e["subnet"]] = e
        return out

    def wait_lease(self, family=4, timeout=10.0) -> str:
        """Wait until this host holds a lease of ``family``; return it."""
        return wait_until(lambda: self.lease(family), timeout, interval=0.05,
                          msg=f"{self.name} to lease an IPv{family} subnet")

    def members(self) -> dict:
        """``show members json`` "members" as {address: entry} (self included, state "self")."""
        return {m["address"]: m for m in self.hgwsh("show members json")["members"]}

    def subnet_env(self) -> dict | None:
        """This host's subnet.env as an ordered {KEY: value} dict (None if the file does not exist).

        Raises AssertionError for a line that is not KEY=VALUE or a key given twice.
        """
        try:
            text = self.subnet_env_file.read_text()
        except FileNotFoundError:
            return None
        env = {}
        for line in text.splitlines():
            m = re.fullmatch(r"([A-Z0-9_]+)=(\S*)", line)
            if not m:
                raise AssertionError(f"{self.subnet_env_file}: not a KEY=VALUE line: {line!r}")
            if m.group(1) in env:
                raise AssertionError(f"{self.subnet_env_file}: {m.group(1)} given twice")
            env[m.group(1)] = m.group(2)
        return env

    def use_subnet(self, subnet: str | None = None, subnet6: str | None = None) -> None:
        """Move this host's container network into ``subnet`` / ``subnet6`` (a lease).

        What the flannel CNI plugin would do with the lease: cbr0 gets the
        first address of the subnet, the container the second, with its
        default route via cbr0. The old global addresses of that family go.
        Updates ``subnet``, ``gw_ip``, ``container_ip`` (and the IPv6 ones),
        so ping_failures() and own_networks() follow.
        """
        for fam, pfx in ((4, subnet), (6, subnet6)):
            if pfx is None:
                continue
            net = ipaddress.ip_network(pfx)
            if net.version != fam:
                raise ValueError(f"{pfx} is not an IPv{fam} prefix")
            gw, ctr = net.network_address + 1, net.network_address + 2
            nodad = " nodad" if fam == 6 else ""
            # (ip -batch takes no -4/-6 per line: the flushes run on their own)
            run(["ip", "-n", self.ns, f"-{fam}", "addr", "flush", "dev", "cbr0", "scope", "global"])
            run(["ip", "-n", self.cns, f"-{fam}", "addr", "flush", "dev", "eth0", "scope", "global"])
            ip_batch(self.ns, [f"addr add {gw}/{net.prefixlen} dev cbr0{nodad}"])
            ip_batch(self.cns, [f"addr add {ctr}/{net.prefixlen} dev eth0{nodad}",
                                f"route replace default via {gw} dev eth0"])
            if fam == 4:
                self.subnet, self.gw_ip, self.container_ip = str(net), str(gw), str(ctr)
            else:
                self.subnet6, self.gw_ip6, self.container_ip6 = str(net), str(gw), str(ctr)


class LabLeases:
    """Lease checks over the hosts of a lab (a mixin of labtopo.Lab)."""

    def check_lease_mesh(self, hosts=None, families=(4,)) -> dict:
        """Assert ``hosts`` (default: running ones) form a full mesh over leased subnets.

        For each family in ``families`` (4, 6): every host holds a lease, all
        distinct; every host is established with every other; each host's
        proto-77 routes are exactly the other hosts' leases via their LAN
        address of that family; each host's ``show leases`` names every
        lease of the group with its owner ("mine" for its own, "active" for
        the others). Entries of hosts outside the group (reservations) are
        allowed. Returns {host: {family: lease}}; raises AssertionError
        saying what is missing.
        """
        hosts = self.running_hosts() if hosts is None else list(hosts)
        info = {h: h.leases() for h in hosts}
        leases, errors = {}, []
        for h in hosts:
            fams = info[h]["families"]
            leases[h] = {f: (fams.get("ipv4" if f == 4 else "ipv6") or {}).get("lease") for f in families}
            for f, l in leases[h].items():
                if l is None:
                    errors.append(f"{h.name} has no IPv{f} lease")
        if errors:
            raise AssertionError("; ".join(errors))
        for f in families:
            owners = collections.defaultdict(list)
            for h in hosts:
                owners[leases[h][f]].append(h.name)
            dup = {l: o for l, o in owners.items() if len(o) > 1}
            if dup:
                raise AssertionError(f"IPv{f} leases not distinct: {dup}")
        for h in hosts:
            peers = h.peers()
            for o in hosts:
                if o is not h and peers.get(o.lan_addr, {}).get("state") != "established":
                    errors.append(f"{h.name} -> {o.name}: {peers.get(o.lan_addr, {}).get('state')}")
            exp = {route(leases[o][f], o.lan_ip if f == 4 else o.lan_ip6)
                   for o in hosts if o is not h for f in families}
            got = h.route_set()
            if got != exp:
                errors.append(f"{h.name} routes: missing {sorted(exp - got)} unexpected {sorted(got - exp)}")
            table = {e["subnet"]: e for e in info[h]["leases"]}
            for o in hosts:
                for f in families:
                    e = table.get(leases[o][f])
                    want = "mine" if o is h else "active"
                    if e is None or e["owner"] != o.node_id or e["state"] != want:
                        errors.append(f"{h.name}'s show leases: {leases[o][f]} is {e}, "
                                      f"want owner {o.node_id} state {want}")
        if errors:
            raise AssertionError("lease mesh incomplete:\n  " + "\n  ".join(errors))
        return leases

    def wait_lease_mesh(self, hosts=None, families=(4,), timeout=15.0) -> dict:
        """Wait until check_lease_mesh(hosts, families) holds; return {host: {family: lease}}."""
        return wait_until(lambda: self.check_lease_mesh(hosts, families), timeout, interval=0.2,
                          msg="a full mesh over leased subnets")
