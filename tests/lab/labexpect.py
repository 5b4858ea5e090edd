"""labexpect: waiting with deadlines, and what the lab expects of routes and pings.

``wait_until`` and its relatives poll a condition until a deadline (never a
fixed sleep); ``Route``/``route`` are kernel routes reduced to what tests
compare; ``HostExpect`` and ``LabExpect`` are the route, session and ping
checks of ``labtopo.Host`` and ``labtopo.Lab`` (mixed into those classes).
"""

from __future__ import annotations

import collections
import ipaddress
import json
import time

from labproc import METRIC, PROTO, netns_exec, run

# --------------------------------------------------------------------------
# waiting and measuring
# --------------------------------------------------------------------------

class WaitTimeout(AssertionError):
    """wait_until() gave up: the condition did not hold before the deadline."""


def wait_until(predicate, timeout: float, interval: float = 0.05, msg: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value; return that value.

    The predicate may also raise (e.g. AssertionError with a diff, CmdError);
    that counts as "not yet". On timeout raise WaitTimeout naming ``msg``, the
    last value returned and the last exception, so the failure says why.
    """
    deadline = time.monotonic() + timeout
    last_value, last_exc = None, None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_value, last_exc = value, None
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f"last exception: {last_exc}" if last_exc else f"last value: {last_value!r}"
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {msg}; {detail}")
        time.sleep(interval)


def time_until(predicate, timeout: float, start: float | None = None,
               interval: float = 0.02, msg: str = "condition") -> float:
    """Seconds from ``start`` (a time.monotonic() value, default now) until ``predicate()`` holds.

    Raises WaitTimeout if it does not hold within ``timeout`` seconds of start.
    """
    if start is None:
        start = time.monotonic()
    remaining = max(0.0, timeout - (time.monotonic() - start))
    wait_until(predicate, remaining, interval=interval, msg=msg)
    return time.monotonic() - start


def stays_true(predicate, duration: float, interval: float = 0.1, msg: str = "condition") -> None:
    """Poll ``predicate()`` for ``duration`` seconds; it must hold every time.

    For "nothing changes any more" checks after a wait_until(): raises
    AssertionError naming ``msg`` and the time at the first poll where the
    predicate returned a falsy value or raised (its exception is chained).
    """
    start = time.monotonic()
    while True:
        try:
            ok = predicate()
        except Exception as e:  # noqa: BLE001 - reported with the failure
            raise AssertionError(f"{msg} stopped holding after {time.monotonic() - start:.2f}s: {e}") from e
        if not ok:
            raise AssertionError(f"{msg} stopped holding after {time.monotonic() - start:.2f}s "
                                 f"(value {ok!r})")
        if time.monotonic() - start >= duration:
            return
        time.sleep(interval)


def times_until_each(predicates: dict, timeout: float, start: float | None = None,
                     interval: float = 0.02, msg: str = "conditions") -> dict:
    """Poll several predicates together; return {key: seconds from start until it first held}.

    Used for "route gone on every other host within X s": each host's time is
    measured in the same polling loop. Raises WaitTimeout naming the keys that
    never held.
    """
    if start is None:
        start = time.monotonic()
    pending = dict(predicates)
    done = {}
    while True:
        for key in list(pending):
            try:
                ok = pending[key]()
            except Exception:  # noqa: BLE001 - treated as not yet
                ok = False
            if ok:
                done[key] = time.monotonic() - start
                del pending[key]
        if not pending:
            return done
        if time.monotonic() - start >= timeout:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {msg}: "
                              f"still pending {sorted(map(str, pending))}, done {done}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------

Route = collections.namedtuple("Route", "dst gateway dev metric table")
Route.__doc__ = "A kernel route reduced to what the tests compare (table 'main' for 254)."


def route(dst, gateway, dev="eth0", metric=METRIC, table="main") -> Route:
    """Build an expected Route with the lab's defaults (dev eth0, metric 20, table main)."""
    return Route(str(ipaddress.ip_network(dst)), str(ipaddress.ip_address(gateway)), dev, metric, table)


def _to_route(r: dict) -> Route:
    dst = r.get("dst")
    if dst and dst != "default" and "/" not in dst:
        dst = str(ipaddress.ip_network(dst))  # host route: add /32 or /128
    gw = r.get("gateway")
    if gw is None and r.get("via"):
        gw = r["via"].get("host")
    return Route(dst, gw, r.get("dev"), r.get("metric", 0), str(r.get("table", "main")))


def node_id_key(node_id: str) -> int:
    """Sort key for node ids (dotted quads compare as 32-bit numbers)."""
    return int(ipaddress.IPv4Address(node_id))


class HostExpect:
    """Kernel routes and container pings of one lab host (a mixin of labtopo.Host)."""

    # ---- pings ------------------------------------------------------------------
    def container_ping(self, dst: str, count=1, wait=1) -> bool:
        """One ping from this host's container to ``dst`` (v4 or v6); True if answered."""
        fam = "-6" if ipaddress.ip_address(dst).version == 6 else "-4"
        cp = netns_exec(self.cns, ["ping", fam, "-n", "-q", "-c", str(count), "-W", str(wait), dst],
                        check=False, timeout=count * wait + 5)
        return cp.returncode == 0

    def wait_container_ping(self, dst: str, timeout=5.0) -> None:
        """Retry container pings to ``dst`` until one is answered (deadline ``timeout``)."""
        wait_until(lambda: self.container_ping(dst), timeout, interval=0.1,
                   msg=f"ping {self.name}'s container -> {dst}")

    # ---- kernel routes -------------------------------------------------------
    def routes(self, proto=PROTO, family=None) -> list[dict]:
        """Kernel routes with protocol ``proto`` in all tables, as ``ip -j`` dicts.

        ``family`` 4 or 6 restricts to one family; default both.
        """
        out = []
        for fam in ([family] if family else [4, 6]):
            cp = run(["ip", "-n", self.ns, f"-{fam}", "-j", "route", "show", "table", "all",
                      "proto", str(proto)])
            text = cp.stdout.strip()
            out.extend(json.loads(text) if text else [])
        return out

    def route_set(self, proto=PROTO, family=None) -> set:
        """Kernel routes with protocol ``proto`` as a set of Route tuples."""
        rs = [_to_route(r) for r in self.routes(proto, family)]
        s = set(rs)
        if len(s) != len(rs):  # a duplicate would collapse in the set: keep it visible
            dup = [r for r in rs if rs.count(r) > 1]
            s.add(Route("DUPLICATE", str(dup), None, None, None))
        return s

    def route_table(self, family=4, table="main") -> str:
        """Plain ``ip route show table TABLE`` text (for failure messages and checks)."""
        return self.ip(f"-{family}", "route", "show", "table", str(table), check=False).stdout


class LabExpect:
    """Convergence checks over every host of a lab (a mixin of labtopo.Lab)."""

    # ---- expectations -----------------------------------------------------------
    def expected_routes(self, h, up=None) -> set:
        """Routes ``h`` should have when the hosts in ``up`` (default: running ones) run default configs.

        One route per network of every other up host that is in h's neighbor
        list, via that host's LAN address of the prefix's family.
        """
        up = self.running_hosts() if up is None else up
        if h not in up:
            return set()
        neigh = set(h.neighbor_addrs)
        exp = set()
        for o in up:
            if o is h or o.lan_addr not in neigh or h.lan_addr not in o.neighbor_addrs:
                continue
            for net in o.own_networks():
                exp.add(route(net, o.gateway_for(net)))
        return exp

    def check_routes(self, expected: dict | None = None) -> bool:
        """Assert every host's proto-77 routes are exactly as expected.

        ``expected`` maps Host -> set of Route; default expected_routes() for
        every running host, and no proto-77 routes at all on hosts whose
        daemon never ran or left the mesh (shutdown, or SIGTERM with no
        graceful-restart); a daemon killed, or stopped to restart (SIGTERM
        with graceful restart), leaves its routes, so such a host is not checked.
        Raises AssertionError listing the differences; returns True.
        """
        if expected is None:
            expected = {}
            for h in self.hosts:
                if h.running or h.daemon is None or (h.daemon.returncode == 0 and h.daemon.left):
                    expected[h] = self.expected_routes(h)
        errors = []
        for h, exp in expected.items():
            got = h.route_set()
            if got != exp:
                errors.append(f"{h.name}: missing {sorted(exp - got)} unexpected {sorted(got - exp)}")
        if errors:
            raise AssertionError("kernel proto-77 routes differ:\n  " + "\n  ".join(errors))
        return True

    def wait_routes(self, timeout=10.0, expected=None) -> None:
        """Wait until check_routes(expected) holds on every host."""
        wait_until(lambda: self.check_routes(expected), timeout, interval=0.1,
                   msg="kernel routes to converge")

    def check_established(self, hosts=None) -> bool:
        """Assert every running host's configured neighbors that are running are established."""
        hosts = self.running_hosts() if hosts is None else hosts
        by_addr = {h.lan_addr: h for h in self.hosts}
        errors = []
        for h in hosts:
            peers = h.peers()
            for a in h.neighbor_addrs:
                o = by_addr.get(a)
                if o is None or not o.running or h.lan_addr not in o.neighbor_addrs:
                    continue
                st = peers.get(a, {}).get("state")
                if st != "established":
                    errors.append(f"{h.name} -> {o.name} ({a}): {st}")
        if errors:
            raise AssertionError("sessions not established: " + ", ".join(errors))
        return True

    def wait_established(self, timeout=10.0, hosts=None) -> None:
        """Wait until check_established() holds."""
        wait_until(lambda: self.check_established(hosts), timeout, interval=0.1,
                   msg="sessions to be established")

    def wait_converged(self, timeout=10.0) -> None:
        """Wait for established sessions and then the exact expected kernel routes."""
        deadline = time.monotonic() + timeout
        self.wait_established(timeout)
        self.wait_routes(max(1.0, deadline - time.monotonic()))

    def ping_failures(self, family=4, hosts=None) -> list[str]:
        """Container-to-container pings between every ordered pair; return the failed pairs."""
        hosts = self.hosts if hosts is None else hosts
        failed = []
        for a in hosts:
            for b in hosts:
                if a is b:
                    continue
                dst = b.container_ip if family == 4 else b.container_ip6
                if not a.container_ping(dst):
                    failed.append(f"{a.name}->{b.name} ({dst})")
        return failed

    def wait_full_connectivity(self, family=4, hosts=None, timeout=5.0) -> None:
        """Wait until every container pings every other container (family 4 or 6)."""
        def ok():
            f = self.ping_failures(family, hosts)
            if f:
                raise AssertionError("pings failing: " + ", ".join(f))
            return True
        wait_until(ok, timeout, interval=0.1, msg=f"IPv{family} container connectivity")
