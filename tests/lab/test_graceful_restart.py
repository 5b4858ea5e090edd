"""Lab tests of graceful restart (issue 11): the data plane outlives the daemon.

SIGTERM stops hgwd to restart: NOTIFY cease/restarting, its routes stay in its
kernel, its peers keep its routes stale for its restart time; the next hgwd
adopts its kernel routes and re-announces; nothing is deleted or re-added and
no packet is lost. A crash (kill -9) is a restart too while the host answers
(a dial refused by a reset is a sign of life); a host that stops answering
loses its routes within about the hold time. ``hgwsh -c shutdown`` leaves for
good: routes removed at once everywhere. Hold expiry removes at once.
"""

import re
import shutil
import signal
import threading
import time

import pytest

from hgwlab import hello, notify, route, stays_true, times_until_each, wait_until

KEEPALIVE, HOLD = 1.0, 3.0
PING_COUNT = 600         # 6 s at 100 packets a second: over ten times the longest scenario here (0.5 s with the sanitizers)


def _gone_on(hosts, prefix):
    """{host name: predicate "no proto-77 route for prefix on that host"}."""
    return {h.name: (lambda h=h: all(r.dst != prefix for r in h.route_set())) for h in hosts}


def _has(h, prefix):
    return any(r.dst == prefix for r in h.route_set())


class RouteMonitor:
    """``ip monitor route`` in every host namespace, from a marker route on."""

    def __init__(self, lab, hosts):
        self.procs = {}
        for h in hosts:
            self.procs[h] = lab.spawn(h.ns, ["stdbuf", "-oL", "ip", "monitor", "route"], name=f"monitor-{h.name}")
        # A marker route each: seen in the log once the monitor listens.
        for h in hosts:
            def seen(h=h):
                # add and delete again each time: a replace by the same route is no event
                h.ip("route", "add", "198.51.100.1/32", "dev", "lo", "proto", "99")
                h.ip("route", "del", "198.51.100.1/32", "dev", "lo", "proto", "99")
                return "198.51.100.1" in self.procs[h].log_path.read_text(errors="replace")
            wait_until(seen, 5, interval=0.1, msg=f"ip monitor route on {h.name} to listen")

    def lines(self, h, prefixes):
        """Lines of h's monitor that name one of the prefixes."""
        text = self.procs[h].log_path.read_text(errors="replace")
        return [l for l in text.splitlines() if any(p.split("/")[0] in l for p in prefixes)]


class Pings:
    """``ping -i 0.01`` both ways between two hosts' containers, IPv4 and IPv6."""

    def __init__(self, lab, a, b):
        self.procs = []
        for src, dst in ((a, b), (b, a)):
            for ip in (dst.container_ip, dst.container_ip6):
                name = f"ping-{src.name}-{dst.name}-{'6' if ':' in ip else '4'}"
                self.procs.append(lab.spawn(src.cns, ["ping", "-n", "-i", "0.01", "-c", str(PING_COUNT),
                                                      "-W", "2", ip], name=name))

    def running(self):
        return all(p.running for p in self.procs)

    def results(self, timeout=30):
        """{ping name: (transmitted, received)} once every ping ended."""
        out = {}
        for p in self.procs:
            assert p.wait(timeout) is not None, f"{p.name} did not end"
            text = p.log_path.read_text(errors="replace")
            m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
            assert m, f"{p.name}: no summary in {text[-500:]}"
            out[p.name] = (int(m.group(1)), int(m.group(2)))
        return out


def _wait_restarted(lab, h, peers):
    """h is established with every peer again, and each has its END-OF-RIB: no stale route left."""
    def done():
        lab.check_established()
        for o in peers:
            p = o.peer(h)
            if p["state"] != "established" or not p["eorReceived"] or p["restarting"]:
                return False
            if any(path.get("stale") for r in o.show_routes().values() for path in r["paths"]):
                return False
        return True
    wait_until(done, 15, interval=0.1, msg=f"{h.name} to be back, with END-OF-RIB, on every peer")


@pytest.mark.timeout_s(180)
@pytest.mark.parametrize("how", ["sigterm", "sigkill", "upgrade", "all"])
def test_restart_loses_no_packet(make_lab, how, monkeypatch):
    """Restart of hgwd (SIGTERM, kill -9, another binary, every host at once) under
    100 pps pings both ways, IPv4 and IPv6: no packet lost, no route deleted or re-added."""
    lab = make_lab(2, ipv6=True)
    h0, h1 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    lab.wait_full_connectivity(4)
    lab.wait_full_connectivity(6)
    prefixes = [h0.subnet, h0.subnet6, h1.subnet, h1.subnet6]
    before = {h: h.route_set() for h in lab.hosts}
    mon = RouteMonitor(lab, lab.hosts)
    pings = Pings(lab, h0, h1)
    wait_until(lambda: all(p.log_path.read_text(errors="replace").count("bytes from") >= 5
                           for p in pings.procs), 5, msg="pings to flow")

    if how == "upgrade":
        new = lab.workdir / "hgwd-upgraded"
        from labdaemon import hgwd_path
        shutil.copy(hgwd_path(), new)
        monkeypatch.setenv("HGWD", str(new))
    if how == "all":
        for h in lab.hosts:
            assert h.stop(signal.SIGTERM) == 0
        for h in lab.hosts:
            assert h.route_set() == before[h], f"{h.name}: SIGTERM must leave its routes"
        for h in lab.hosts:
            h.start(h.config_text)
        for h in lab.hosts:
            _wait_restarted(lab, h, [o for o in lab.hosts if o is not h])
    else:
        for h, other in ((h1, h0), (h0, h1)):   # the destination's, then the source's
            if how == "sigkill":
                assert h.kill() == -signal.SIGKILL
            else:
                assert h.stop(signal.SIGTERM) == 0
            def kept():
                p = other.peer(h)
                return p["state"] == "restarting" and p["restarting"] and p["staleRoutes"] == 2 \
                    and p["restartLeftMs"] > 100000
            wait_until(kept, 3, msg=f"{other.name} to keep {h.name}'s routes stale")
            routes = other.show_routes()
            for pfx in h.own_networks():
                assert routes[pfx]["paths"][0]["stale"] is True, routes[pfx]
                assert routes[pfx]["fib"] == "installed", routes[pfx]
            assert h.route_set() == before[h], f"{h.name}: its routes must stay in its kernel"
            assert other.route_set() == before[other]
            h.start(h.config_text)
            _wait_restarted(lab, h, [other])
            if how == "upgrade":
                assert str(lab.workdir / "hgwd-upgraded") in h.daemon.argv
    assert pings.running(), "the scenario outlasted the pings: make PING_COUNT larger"
    for h in lab.hosts:
        assert h.route_set() == before[h]
    res = pings.results()
    lost = {n: t - r for n, (t, r) in res.items() if t != r}
    assert not lost, f"packets lost: {lost} of {res}"
    assert all(t >= PING_COUNT for t, _ in res.values()), res
    for h in lab.hosts:
        changes = mon.lines(h, prefixes)
        assert not changes, f"{h.name}: routes deleted or re-added: {changes}"
    for h in lab.hosts:
        assert "adopting" in h.log_text(), f"{h.name} did not adopt the routes it found"


def test_restart_time_runs_out(make_lab):
    """SIGTERM and no restart: the peers keep its routes for the restart time (3 s),
    then remove them within 0.5 s; the stopped host keeps its own routes."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD), extra_config="graceful-restart restart-time 3")
    lab.wait_converged(timeout=15)
    before = h2.route_set()
    t0 = time.monotonic()
    assert h2.stop(signal.SIGTERM) == 0
    wait_until(lambda: h0.peer(h2)["restarting"] and h1.peer(h2)["restarting"], 2,
               msg="h2's peers to see it restarting")
    assert 0 < h0.peer(h2)["restartLeftMs"] <= 3000
    assert "restarting" in h0.hgwsh("show peers")
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=6, start=t0,
                             msg=f"{h2.subnet} to be removed when h2's restart time runs out")
    assert min(times.values()) >= 3.0 - 0.1, f"removed before the restart time: {times}"
    assert max(times.values()) <= 3.5, f"removed too late: {times}"
    assert h2.route_set() == before, "the stopped host keeps its routes"
    assert h0.peer(h2)["restarting"] is False and h0.peer(h2)["staleRoutes"] == 0
    lab.check_routes()


def test_no_graceful_restart_sigterm_removes_at_once(make_lab):
    """no graceful-restart: SIGTERM is a shutdown as before: routes gone everywhere within 0.5 s."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD), extra_config="no graceful-restart")
    lab.wait_converged(timeout=15)
    assert h0.peer(h2)["restartTimeS"] is None
    t0 = time.monotonic()
    assert h2.stop(signal.SIGTERM) == 0
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=3, start=t0,
                             msg=f"{h2.subnet} to be removed after SIGTERM of h2")
    assert max(times.values()) <= 0.5, times
    assert h2.route_set() == set()
    lab.check_routes()


def test_shutdown_command_leaves_at_once(make_lab):
    """hgwsh -c shutdown: peers remove its routes within 0.5 s, it removes its own, exit 0."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    assert h0.peer(h2)["restartTimeS"] == 120
    t0 = time.monotonic()
    assert h2.leave() == 0
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=3, start=t0,
                             msg=f"{h2.subnet} to be removed after shutdown of h2")
    assert max(times.values()) <= 0.5, times
    assert h2.route_set() == set(), "shutdown removes the host's own routes"
    assert "shutdown command" in h2.log_text()
    lab.check_routes()
    assert h0.peer(h2)["restarting"] is False


def test_shutdown_right_after_a_restart_reaches_every_peer(make_lab):
    """A shutdown moments after a restart, while peers are still in their handshake with the
    new hgwd (or in its listen backlog): they hear it too (it lets handshakes finish, for up to
    1 s) and remove its routes, instead of keeping them as a restarting host's. Three rounds."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    for rnd in range(3):
        h2.stop()                       # SIGTERM: a restart; the peers keep its routes
        assert all(_has(h, h2.subnet) for h in (h0, h1))
        h2.start(h2.config_text)        # returns once its control socket answers
        t0 = time.monotonic()
        assert h2.leave() == 0
        times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=5, start=t0,
                                 msg=f"round {rnd}: {h2.subnet} removed after h2's shutdown")
        assert max(times.values()) <= 1.5, (rnd, times)
        for h in (h0, h1):
            assert h.peer(h2)["restarting"] is False, (rnd, h.name)
        h2.start(h2.config_text)
        lab.wait_converged(timeout=15)


CEASE, CEASE_SHUTDOWN = 6, 1


def test_notify_shutdown_in_a_handshake_ends_a_restart(make_lab):
    """A restarting peer (routes kept stale) whose new hgwd leaves before its session is back
    says so with NOTIFY cease/shutdown in a session still in its handshake (no HELLO of its
    own yet): its routes go at once, not at the end of the restart time."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    h2.stop()                           # SIGTERM: a restart; h0 and h1 keep its routes
    assert h0.peer(h2)["restarting"] is True and _has(h0, h2.subnet)
    sp = lab.connect(h2, h0)            # from h2's address, as its next hgwd would
    sp.wait_frame(lambda f: f["name"] == "HELLO", msg="h0's HELLO")
    t0 = time.monotonic()
    sp.send(notify(CEASE, CEASE_SHUTDOWN, "leaving"))
    times = times_until_each(_gone_on([h0], h2.subnet), timeout=3, start=t0,
                             msg=f"{h2.subnet} removed from h0")
    assert max(times.values()) <= 0.5, times
    assert h0.peer(h2)["restarting"] is False
    assert "before its session was back" in h0.log_text()
    assert _has(h1, h2.subnet), "h1 heard nothing: it keeps h2's routes for its restart"


def test_shutdown_lets_handshakes_finish(make_lab):
    """A shutdown while a peer's session is still in its handshake (HELLO sent, none received
    yet) waits for it (up to 1 s): the peer gets the session and then NOTIFY cease/shutdown,
    so it removes the leaving host's routes instead of keeping them as a restarting host's."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(hosts=[h0, h1], timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    sp = lab.connect(h2, h0)            # h2 runs no hgwd: the test speaks for it
    sp.wait_frame(lambda f: f["name"] == "HELLO", msg="h0's HELLO")
    result = {}
    leaver = threading.Thread(target=lambda: result.setdefault("rc", h0.leave()), daemon=True)
    t0 = time.monotonic()
    leaver.start()
    time.sleep(0.3)  # the handshake left pending while h0 leaves: the scenario, not a wait
    sp.send(hello(0x0a0000fe, addrs=[sp.local], hostname="late"))
    n = sp.wait_notify(timeout=3)
    leaver.join(5)
    assert result.get("rc") == 0
    assert (n["code"], n["subcode"]) == (CEASE, CEASE_SHUTDOWN), n
    names = [f["name"] for f in sp.frames]
    assert "END-OF-RIB" in names and names.index("END-OF-RIB") < names.index("NOTIFY"), names
    assert time.monotonic() - t0 < 3
    wait_until(lambda: not _has(h1, h0.subnet), 1, msg="h0's route to go from h1")


def test_sigusr2_leaves(make_lab):
    """SIGUSR2 is the shutdown command as a signal."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    h1.daemon.expected_exit = True
    h1.daemon.left = True
    h1.daemon.signal(signal.SIGUSR2)
    assert h1.daemon.wait(5) == 0
    wait_until(lambda: not _has(h0, h1.subnet), 1, msg="h1's route to go from h0")
    assert h1.route_set() == set()


@pytest.mark.parametrize("gr", [True, False], ids=["gr", "no-gr"])
def test_hold_expiry_removes_at_once(make_lab, gr):
    """The host's LAN link cut at the switch: routes gone within hold + 0.5 s, graceful restart or not."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD), extra_config="" if gr else "no graceful-restart")
    lab.wait_converged(timeout=15)
    t0 = time.monotonic()
    lab.partition([h0, h1], [h2])
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=HOLD + 3, start=t0,
                             msg=f"{h2.subnet} to be removed after h2's link was cut")
    assert max(times.values()) <= HOLD + 0.5, times
    assert not h0.peer(h2)["restarting"]


def test_crashed_then_dead_host_removed(make_lab):
    """kill -9: the routes stay while its host answers (dials refused); then its link is
    cut: no sign of life, routes gone within hold + 1 s of the cut."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    assert h2.kill() == -signal.SIGKILL
    wait_until(lambda: h0.peer(h2)["restarting"] and h1.peer(h2)["restarting"], 2,
               msg="h2's peers to see it restarting")
    stays_true(lambda: _has(h0, h2.subnet) and _has(h1, h2.subnet), HOLD + 1,
               msg="h2's routes to stay while its host answers")
    t0 = time.monotonic()
    lab.partition([h0, h1], [h2])
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=HOLD + 4, start=t0,
                             msg=f"{h2.subnet} to be removed once h2's host stopped answering")
    assert max(times.values()) <= HOLD + 1, times
    assert "no sign of life" in h0.log_text()


def test_restart_with_new_subnet_leaves_no_stale_route(make_lab):
    """A restart with another network: the old route goes at its END-OF-RIB, the new one comes."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    assert h1.stop(signal.SIGTERM) == 0
    new = "192.168.99.0/24"
    h1.start(h1.make_config(networks=[new], timers=(KEEPALIVE, HOLD)))
    wait_until(lambda: _has(h0, new) and not _has(h0, h1.subnet), 5,
               msg="h0 to swap h1's old route for its new one")
    assert route(new, h1.lan_ip) in h0.route_set()
    assert h0.peer(h1)["restarting"] is False


@pytest.mark.timeout_s(120)
def test_restart_from_one_seed_keeps_learned_members_routes(make_lab):
    """h1 and h2 know only the seed h0 and learn each other from it. h1 restarts
    (SIGTERM): the seed's END-OF-RIB ends none of its sync, so its sweep does not
    remove the route to h2, learned only later: no packet lost between h1 and h2,
    no route deleted or re-added."""
    lab = make_lab(3, ipv6=True)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[], timers=(KEEPALIVE, HOLD))
    for h in (h1, h2):
        h.start(neighbors=[h0], timers=(KEEPALIVE, HOLD))
    wait_until(lambda: h1.established_with(h0, h2) and h2.established_with(h0, h1), 15,
               msg="h1 and h2 to meet through the seed")
    wait_until(lambda: all(_has(h1, p) for p in h2.own_networks()) and
               all(_has(h2, p) for p in h1.own_networks()), 10, msg="routes between h1 and h2")
    lab.wait_full_connectivity(4, hosts=[h1, h2])
    before = {h: h.route_set() for h in lab.hosts}
    mon = RouteMonitor(lab, lab.hosts)
    pings = Pings(lab, h1, h2)
    wait_until(lambda: all(p.log_path.read_text(errors="replace").count("bytes from") >= 5
                           for p in pings.procs), 5, msg="pings to flow")
    assert h1.stop(signal.SIGTERM) == 0
    h1.start(h1.config_text)
    _wait_restarted(lab, h1, [h0, h2])
    wait_until(lambda: "initial sync over" in h1.log_text().split("=== ")[-1], 10,
               msg="h1's initial sync to be over")
    assert pings.running(), "the scenario outlasted the pings"
    for h in lab.hosts:
        assert h.route_set() == before[h]
    res = pings.results()
    lost = {n: t - r for n, (t, r) in res.items() if t != r}
    assert not lost, f"packets lost: {lost} of {res}"
    prefixes = h0.own_networks() + h1.own_networks() + h2.own_networks()
    for h in lab.hosts:
        changes = mon.lines(h, prefixes)
        assert not changes, f"{h.name}: routes deleted or re-added: {changes}"
