"""Lab tests of membership without a store (issue 6): members learned from a seed, a member
that leaves cleanly forgotten at once, a silent one re-dialled with back-off and given up
after a bounded time, and zero-config LAN discovery by a multicast beacon.

The hosts lease their container subnets (``Host.lease_config()``, files in the test's
temporary directory) like in test_leases.py, so the lease side of a departure is
checked too.
"""

import ipaddress
import os
import signal
import struct
import sys
import time

import pytest

from hgwlab import netns_exec, stays_true, times_until_each, wait_until

FAST = (0.2, 0.6)           # keepalive, hold
GIVE_UP_S = 30              # timers giveup's default (at least 3 x hold; hold is 0.6 s here)
BACKOFF_MAX_S = 10 * 1.25   # the longest back-off step, with its jitter


def start_leasing(hosts, seed=None, timers=FAST, wait=True, **lease_kw):
    """Start hgwd on ``hosts`` at once: only a cluster network, ``seed`` as the only neighbor."""
    for h in hosts:
        neighbors = [] if seed is None or h is seed else [seed]
        h.start(wait=False, neighbors=neighbors, networks=[], timers=timers,
                extra_config=h.lease_config(**lease_kw))
    if wait:
        for h in hosts:
            h.wait_ready()


def forgotten_by(hosts, gone):
    """{host name: predicate "``gone`` is in neither show members nor show peers of that host"}."""
    return {h.name: (lambda h=h: gone.lan_ip not in h.members() and gone.lan_ip not in h.peers())
            for h in hosts}


def dial_attempts(dialers, target, duration: float) -> dict:
    """Watch ``dialers`` dial ``target`` for ``duration`` s; return {dialer name: [times of attempts]}.

    An attempt is seen as a rise of the dialer's messagesOut - notificationsOut
    for that peer while its session is not established (a HELLO: only sent
    once the TCP connect succeeded; the NOTIFY that ends a failed attempt and
    the keepalives of a session still up are not counted). Times are seconds
    from the start of the watch, to within the polling interval (tens of ms).
    """
    def sent(h):
        p = h.peer(target)
        return p["state"], p["messagesOut"] - p["notificationsOut"]
    t0 = time.monotonic()
    last = {h.name: sent(h)[1] for h in dialers}
    seen = {h.name: [] for h in dialers}
    while time.monotonic() - t0 < duration:
        for h in dialers:
            state, n = sent(h)
            if n != last[h.name] and state != "established":
                seen[h.name].append(round(time.monotonic() - t0, 3))
            last[h.name] = n
        time.sleep(0.02)
    return seen


def test_member_leaving_cleanly_is_forgotten_at_once(make_lab):
    """h3 leaves (shutdown; learned by h1 and h2 from the seed or from each other's member news,
    dialled in to h0): at once (1 s,
    the polling included) it is in no host's show members or show peers (its lease
    stays reserved).
    The seed h0 leaves (shutdown): it is a configured neighbor, so the others keep it,
    "dialling (seed)" with no give-up time, and meet it again when it comes back."""
    lab = make_lab(4)
    h0, h1, h2, h3 = lab.hosts
    start_leasing(lab.hosts, seed=h0, hold="1h")
    leases = lab.wait_lease_mesh()
    for h in (h1, h2):
        # Member news is gathered (up to 100 ms): h3 may reach one through the other first.
        assert h.members()[h3.lan_ip]["source"] in ("dialled us", *(f"from peer {x.lan_ip}" for x in (h0, h1, h2)))

    t0 = time.monotonic()
    assert h3.leave() == 0
    times = times_until_each(forgotten_by([h0, h1, h2], h3), timeout=3, start=t0,
                             msg="h3 to be forgotten after its clean exit")
    assert max(times.values()) <= 1.0, f"forgotten after {times}"  # not after a timeout: at once
    for h in (h0, h1, h2):
        assert f"member {h3.lan_ip} left: forgotten" in h.log_text(), h.name
        e = h.lease_table()[leases[h3][4]]
        assert e["owner"] == h3.node_id and e["state"] == "reserved", e
    lab.check_lease_mesh([h0, h1, h2])

    assert h0.leave() == 0

    def seed_kept():
        for h in (h1, h2):
            m = h.members().get(h0.lan_ip)
            assert m is not None, f"{h.name} forgot its configured seed"
            assert m["state"] == "dialling (seed)" and m["source"] == "config", m
            assert m["giveUpInMs"] is None, m
            assert h.peer(h0)["configured"] is True
        return True
    wait_until(seed_kept, 3, msg="h1 and h2 to keep dialling the stopped seed")
    lab.check_lease_mesh([h1, h2])
    h0.start(h0.config_text)
    assert lab.wait_lease_mesh([h0, h1, h2]) == {h: leases[h] for h in (h0, h1, h2)}


def test_silent_member_is_redialled_with_backoff(make_lab):
    """h2 freezes (SIGSTOP: its TCP port still accepts, but it never answers). Within the
    hold time h0 and h1 drop the session, remove its route and keep its lease
    reserved; they keep it as a member being dialled ("dialling", giveUpInMs counting
    down from timers giveup (30 s by default, at least 3 x hold)) with growing gaps between attempts. On SIGCONT it
    is back in the mesh with the same lease."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    start_leasing(lab.hosts, seed=h0, hold="1h")
    leases = lab.wait_lease_mesh()
    h2.daemon.signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        # Each attempt that reaches the frozen host's TCP port sends a HELLO. Back-off
        # steps of 0.2, 0.4, 0.8, 1.6 s (+-25 %), each after a 0.6 s wait for the
        # HELLO, give gaps of about 1.0, 1.4, 2.2 s; a fixed retry interval would
        # give equal gaps.
        seen = dial_attempts([h0, h1], h2, 7.5)
        for name, at in seen.items():
            gaps = [b - a for a, b in zip(at, at[1:])]
            assert len(at) >= 4 and gaps[0] <= 1.3 and gaps[-1] >= 1.7, \
                f"{name}'s dial attempts at {at} s after the freeze: not backing off (gaps {gaps})"
        for h in (h0, h1):
            m = h.members().get(h2.lan_ip)
            assert m is not None, f"{h.name} forgot the silent h2"
            assert m["state"] == "dialling" and m["source"].startswith(("from peer", "dialled us")), m
            # counting down from 30 s since the session ended (after at most the hold time)
            assert 0 < m["giveUpInMs"] <= (GIVE_UP_S - (time.monotonic() - t0) + 1) * 1000, m
            assert "HELLO" in (h.peer(h2)["lastError"] or ""), h.peer(h2)  # no HELLO from it
            e = h.lease_table()[leases[h2][4]]
            assert e["owner"] == h2.node_id and e["state"] == "reserved", e
        lab.check_lease_mesh([h0, h1])
    finally:
        h2.daemon.signal(signal.SIGCONT)
    assert lab.wait_lease_mesh(timeout=15) == leases


def test_silent_member_is_given_up_after_a_bounded_time(make_lab):
    """h2 freezes (SIGSTOP) and stays frozen: h0 and h1 drop it from their member lists
    `timers giveup` (3 s here; at least 3 x hold) after its session ended, on time (the
    retry timer runs at the give-up moment), and stop dialling it; its lease stays
    reserved. Thawed, h2 dials its seed again and the mesh is whole again with the same
    leases."""
    giveup = 3
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    for h in lab.hosts:
        h.start(wait=False, neighbors=[] if h is h0 else [h0], networks=[], timers=FAST,
                extra_config=h.lease_config(hold="1h") + f"\ntimers giveup {giveup}")
    for h in lab.hosts:
        h.wait_ready()
    leases = lab.wait_lease_mesh()
    h2.daemon.signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        gone = {h.name: (lambda h=h: h2.lan_ip not in h.members()) for h in (h0, h1)}
        # The session ends within the hold time (0.6 s), the give-up follows giveup s later.
        times = times_until_each(gone, timeout=giveup + 0.6 + 5, start=t0,
                                 interval=0.1, msg="h0 and h1 to give the silent h2 up")
        assert all(giveup <= t <= giveup + 0.6 + 1.0 for t in times.values()), times
        for h in (h0, h1):
            assert f"member {h2.lan_ip}: unreachable for {giveup} s: given up" in h.log_text()
            assert h2.lan_ip not in h.peers()
            assert h.lease_table()[leases[h2][4]]["state"] == "reserved"
        # Given up means no more dialling: no new attempt reaches the frozen port.
        stays_true(lambda: all(h2.lan_ip not in h.peers() for h in (h0, h1)), 2,
                   msg="h2 staying given up")
    finally:
        h2.daemon.signal(signal.SIGCONT)
    assert lab.wait_lease_mesh(timeout=15) == leases


# --------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------

BEACON_GROUP, BEACON_PORT = "239.255.71.79", 7179

# A fake member: accepts TCP connections on ADDR PORT and closes them at once,
# printing "accept <monotonic time> <peer address>" for each.
LISTENER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(128)
print("listening", flush=True)
while True:
    c, a = s.accept()
    print(f"accept {time.monotonic():.3f} {a[0]}", flush=True)
    c.close()
"""

# Sends the given hex payloads as multicast datagrams from ADDR on eth0, TTL 1.
BEACON_SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.bind((sys.argv[1], 0))
for h in sys.argv[4:]:
    s.sendto(bytes.fromhex(h), (sys.argv[2], int(sys.argv[3])))
"""


def beacon(node_id: str, addr: str, port=BEACON_PORT) -> bytes:
    """A discovery beacon: "HGW1", node id (4), port (2), family 4 (1), IPv4 address (4)."""
    return (b"HGW1" + ipaddress.IPv4Address(node_id).packed + struct.pack("!H", port) + b"\x04"
            + ipaddress.IPv4Address(addr).packed)


def accepts(proc) -> dict:
    """{peer address: [monotonic times]} from the fake member's log."""
    out = {}
    for line in proc.log_path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "accept":
            out.setdefault(parts[2], []).append(float(parts[1]))
    return out


@pytest.mark.timeout_s(60)
def test_discovery_multicast_forms_the_mesh(make_lab):
    """h0..h3 have ``discovery multicast`` and no neighbor line: they hear each other's
    beacons, form a full mesh with distinct leases, and their containers reach each
    other. h4 (discovery off, no neighbor) stays alone: it sends no beacon and hears
    none. A beacon naming a LAN address where no hgwd runs (a fake member that accepts
    and closes connections) is dialled by every host with back-off and a give-up
    countdown; a beacon naming an address outside the LAN subnet is ignored."""
    lab = make_lab(6)
    disc, loner, fake = lab.hosts[:4], lab.hosts[4], lab.hosts[5]
    py = sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3"
    member = lab.spawn(fake.ns, [py, "-u", "-c", LISTENER, fake.lan_ip, str(BEACON_PORT)],
                       name="fake-member")
    wait_until(lambda: "listening" in member.log_path.read_text(), 5, msg="the fake member to listen")

    start_leasing(disc, discovery=True)
    start_leasing([loner])
    leases = lab.wait_lease_mesh(disc, timeout=15)
    sources = []
    for h in disc:
        data = h.hgwsh("show members json")
        assert data["discovery"] is True
        ms = {m["address"]: m for m in data["members"]}
        assert sorted(ms) == sorted(o.lan_ip for o in disc), f"{h.name}: {sorted(ms)}"
        sources += [ms[o.lan_ip]["source"] for o in disc if o is not h]
    assert "from a discovery beacon" in sources, sources
    assert "config" not in sources, sources
    assert "discovery: beacon on eth0 to 239.255.71.79 port 7179" in disc[0].log_text()
    use_leases_v4(disc, leases)
    lab.wait_full_connectivity(hosts=disc)

    netns_exec(fake.ns, [py, "-c", BEACON_SENDER, fake.lan_ip, BEACON_GROUP, str(BEACON_PORT),
                         beacon(fake.lan_ip, fake.lan_ip).hex(), beacon("10.99.0.1", "10.99.0.1").hex()])

    def dialling_fake():
        for h in disc:
            m = h.members().get(fake.lan_ip)
            assert m is not None, f"{h.name} did not learn the fake member"
            assert m["source"] == "from a discovery beacon" and m["state"] == "dialling", m
            assert 20_000 < m["giveUpInMs"] <= GIVE_UP_S * 1000, m
        return True
    wait_until(dialling_fake, 5, msg="every discovery host to dial the beaconed fake member")
    wait_until(lambda: all(len(accepts(member).get(h.lan_ip, [])) >= 5 for h in disc), 10,
               msg="5 dial attempts from each discovery host")
    for h in disc:
        at = accepts(member)[h.lan_ip]
        gaps = [b - a for a, b in zip(at, at[1:])]
        # back-off steps of 0.2, 0.4, 0.8, 1.6 s (+-25 %); a fixed interval would give equal gaps
        assert gaps[0] < 0.5 and gaps[-1] >= 0.9 and gaps[-1] > 2.5 * gaps[0], \
            f"{h.name} dials the fake member at {at}: not backing off (gaps {gaps})"
        assert "10.99.0.1" not in h.members() and "10.99.0.1" not in h.peers(), h.name
        assert fake.lan_ip not in {m["address"] for m in h.members().values() if m["state"] == "alive"}

    assert loner.peers() == {}, loner.peers()
    data = loner.hgwsh("show members json")
    assert data["discovery"] is False and [m["state"] for m in data["members"]] == ["self"]
    assert loner.lease() is not None
    for h in disc:
        assert loner.lan_ip not in h.members() and loner.lan_ip not in h.peers()


def use_leases_v4(hosts, leases) -> None:
    for h in hosts:
        h.use_subnet(leases[h][4])


def test_joining_node_is_introduced_by_its_first_peer_only(make_lab):
    """A node's HELLO says how many member sessions it holds (extension 3; 0: it is joining).
    Only the peers it joins through tell the mesh about it; the peers it meets later learned it
    from that news or from it, and say nothing (in a mesh of n forming, each of them telling
    every other made n^3 MEMBERS frames). Watched by a scripted member X connected to h0:
    h2 joins through h1 (its only neighbor), so h0, which meets h2 later, never tells X about
    h2; h3 joins through h0, so h0 tells X about h3 within a second."""
    from hgwwire import CAP_IPV4, MSG_HELLO, members_entries
    CAP_MEMBERS, MSG_MEMBERS = 0x4, 6
    lab = make_lab(5)
    h0, h1, h2, h3, h4 = lab.hosts
    h0.start(neighbors=[])
    h1.start(neighbors=[h0])
    wait_until(lambda: h0.peers().get(h1.lan_ip, {}).get("state") == "established", 10,
               msg="h0 in session with h1")
    x = lab.connect(h4, h0)
    his = x.handshake(h4.lan_ip, caps=CAP_IPV4 | CAP_MEMBERS)
    assert his.get("members_up") == 1, f"h0's HELLO to X: {his} (one member session, h1's)"

    def told_about(h):
        return [e for f in list(x.frames) if f["type"] == MSG_MEMBERS
                for e in members_entries(f["body"]) if e["addr"] == h.lan_ip and e["op"] == 1]

    # X learns h1 from h0's list at once: the list is no news and always sent.
    wait_until(lambda: told_about(h1), 3, msg="h0's member list to X naming h1")
    h2.start(neighbors=[h1])
    wait_until(lambda: h0.peers().get(h2.lan_ip, {}).get("state") == "established", 10,
               msg="h0 and h2 in session (learned through h1)")
    stays_true(lambda: not told_about(h2), 1.0, msg="h0 told X nothing about h2 (h1 introduced it)")
    h3.start(neighbors=[h0])
    wait_until(lambda: told_about(h3), 3, msg="h0 introducing h3 (it joined through h0) to X")
    assert not told_about(h2)
    assert all(f["type"] != MSG_HELLO or f["hello"] is not None for f in x.frames)
