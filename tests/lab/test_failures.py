"""Lab tests of hgwd under failures: killed, stopped, frozen and restarted daemons, and routes deleted by hand."""

import signal
import time

import pytest

from hgwlab import route, time_until, times_until_each, wait_until

KEEPALIVE, HOLD = 1.0, 3.0  # the defaults, measured here


def _gone_on(hosts, prefix):
    """{host name: predicate "no proto-77 route for prefix on that host"}."""
    return {h.name: (lambda h=h: all(r.dst != prefix for r in h.route_set())) for h in hosts}


def test_killed_and_stopped_daemons_routes_removed(make_lab):
    """No graceful restart: kill -9: the others drop its route within hold + 0.5 s.
    The shutdown command (leaving the mesh): within 0.5 s, and it cleans its own kernel.
    (With graceful restart, kill -9 and SIGTERM keep the routes: test_graceful_restart.py.)"""
    lab = make_lab(4)
    h0, h1, h2, h3 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD), extra_config="no graceful-restart")
    lab.wait_converged(timeout=15)

    t0 = time.monotonic()
    assert h3.kill() == -signal.SIGKILL
    times = times_until_each(_gone_on([h0, h1, h2], h3.subnet), timeout=HOLD + 3, start=t0,
                             msg=f"{h3.subnet} to be removed after kill -9 of h3")
    assert max(times.values()) <= HOLD + 0.5, f"route removal after kill -9 took {times}"
    lab.check_routes()  # only h3's route went away
    assert h3.route_set() == {route(o.subnet, o.lan_ip) for o in (h0, h1, h2)}, \
        "a killed daemon cannot clean up: its routes stay (checked again on restart)"

    notes_before = {h.name: h.peer(h2)["notificationsIn"] for h in (h0, h1)}
    t0 = time.monotonic()
    assert h2.leave() == 0
    times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=3, start=t0,
                             msg=f"{h2.subnet} to be removed after the shutdown of h2")
    assert max(times.values()) <= 0.5, f"route removal after shutdown took {times}"
    assert h2.route_set() == set(), "hgwd must remove its own routes on shutdown"
    assert h2.route_table(4).count("proto 77") == 0
    lab.check_routes()
    for h in (h0, h1):  # the peers were told: NOTIFY cease/shutdown
        p = h.peer(h2)
        assert p["state"] != "established"
        assert p["notificationsIn"] == notes_before[h.name] + 1, f"{h.name} got no NOTIFY from h2: {p}"


def test_hold_timer_expires_when_peer_freezes(make_lab):
    """A frozen daemon (SIGSTOP, TCP stays open) is dropped by hold-timer expiry, not sooner; it recovers on SIGCONT."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(timers=(KEEPALIVE, HOLD))
    lab.wait_converged(timeout=15)
    t0 = time.monotonic()
    h2.daemon.signal(signal.SIGSTOP)
    try:
        times = times_until_each(_gone_on([h0, h1], h2.subnet), timeout=HOLD + 3, start=t0,
                                 msg=f"{h2.subnet} to be removed after h2 froze")
        # The last message from h2 came at most one keepalive interval before the freeze.
        assert min(times.values()) >= HOLD - KEEPALIVE - 0.2, f"removed before the hold time: {times}"
        assert max(times.values()) <= HOLD + 0.5, f"removed too late: {times}"
        assert h0.peer(h2)["state"] != "established"
    finally:
        h2.daemon.signal(signal.SIGCONT)
    lab.wait_converged(timeout=15)
    lab.wait_full_connectivity()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restart_leaves_no_duplicate_or_stale_routes(make_lab, sig):
    """Stop (SIGTERM or kill -9) and start h1 again: exact route sets everywhere, sessions established again."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all()
    lab.wait_converged()

    rc = h1.stop(sig)
    assert rc == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    # Graceful restart: h1's route stays on h0 and h2 (stale), and h1's kernel keeps
    # the routes of its previous life.
    for h in (h0, h2):
        wait_until(lambda h=h: h.peer(h1)["restarting"], 3, msg=f"{h.name} to see h1 restarting")
        assert route(h1.subnet, h1.lan_ip) in h.route_set()
    assert h1.route_set() == {route(h0.subnet, h0.lan_ip), route(h2.subnet, h2.lan_ip)}
    if sig == signal.SIGKILL:
        # Make one of h1's routes stale: h2 leaves while h1 is down, so h1 must not
        # keep h2's route after its restart.
        assert h2.leave() == 0
    t_restart = time.monotonic()
    h1.start(h1.config_text)
    lab.wait_converged(timeout=15)  # exact sets, h2 included or not
    if sig == signal.SIGKILL:
        assert h1.route_set() == {route(h0.subnet, h0.lan_ip)}
        h2.start(h2.config_text)
        lab.wait_converged(timeout=15)
    for h in lab.hosts:
        exp = {route(o.subnet, o.lan_ip) for o in lab.hosts if o is not h}
        assert h.route_set() == exp
        assert len(h.routes()) == 2, f"{h.name}: duplicate routes {h.routes()}"
    after = h0.peer(h1)
    assert after["state"] == "established"
    assert after["uptimeMs"] <= (time.monotonic() - t_restart) * 1000 + 100, "not a new session?"
    lab.wait_full_connectivity()


def test_route_deleted_by_hand_is_restored(make_lab):
    """``ip route del`` of an installed route: hgwd puts it back within 1 s (also after a flush of all of them)."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all()
    lab.wait_converged()
    r = route(h1.subnet, h1.lan_ip)

    t0 = time.monotonic()
    h0.ip("route", "del", h1.subnet, "proto", "77")
    el = time_until(lambda: r in h0.route_set(), 3, start=t0, msg=f"{h1.subnet} to come back on h0")
    assert el <= 1.0, f"route restored after {el:.2f} s"
    lab.check_routes()

    t0 = time.monotonic()
    h0.ip("route", "flush", "proto", "77")
    el = time_until(lambda: lab.check_routes(), 3, start=t0, msg="routes to come back after a flush")
    assert el <= 1.0, f"routes restored after {el:.2f} s"
    h0.wait_container_ping(h1.container_ip)
    assert h0.show_route(h1.subnet)["fib"] == "installed"
