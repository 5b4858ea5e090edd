"""Hostile-peer lab tests: a scripted client in a LAN namespace attacks h0's hgwd.

The client (hgwlab.ScriptedPeer) sends malformed frames, frames in the wrong
order, routes h0 must refuse, too many routes, nothing at all, or too many
connections. Each time: h0's hgwd stays up, its session with a real hgwd on
h1 stays established (same session, no flap), the kernel holds no route it
should not, the client gets the NOTIFY of proto/PROTOCOL.md, and the
counters of ``show peers json`` show what happened.

Topology (make_lab): h0 runs hgwd with h1 and h2 as neighbors, h1 runs hgwd,
h2 runs no daemon: its namespace hosts the scripted client, so h0 knows the
client as its configured neighbor 10.60.6.12 and keeps its counters across
connections. h0 runs with ``timers startup 0``: routes of a lost session are
removed at once (the initial-sync window is tested separately).
"""

import ipaddress
import re
import resource
import time

import pytest

from hgwlab import (CAP_IPV4, CAP_IPV6, PORT, SRCDIR, UPD_ANNOUNCE, UPD_WITHDRAW, Flood, announce,
                    end_of_rib, frame, hello, hello_body, ip_batch, keepalive, prefix_bytes, route,
                    stays_true, update_section, wait_until, withdraw)

CLIENT_ID = "10.60.6.50"     # the scripted peer's node id (higher than every lab host's)
SENTINEL = "192.168.60.0/24"  # a prefix h0 accepts from the client (proof the pipeline works)
SENTINEL6 = "fd00:10:60::/64"


# --------------------------------------------------------------------------
# fixtures and checks
# --------------------------------------------------------------------------

@pytest.fixture
def hostile(make_lab):
    """``hostile(extra_config="", ipv6=False, n=3, client_is_neighbor=True, startup=0)``: a lab where
    h0 and h1 run hgwd with an established session and converged routes; returns the Lab.
    ``client_is_neighbor``: h0 lists h2 (the client's address) as a neighbor; ``startup``: h0's
    ``timers startup`` (None: the default, 5 s)."""
    def factory(extra_config="", ipv6=False, n=3, client_is_neighbor=True, startup=0):
        lab = make_lab(n, ipv6=ipv6)
        h0, h1, h2 = lab.hosts[:3]
        extra = (f"timers startup {startup}\n" if startup is not None else "") + extra_config
        h0.start(neighbors=[h1, h2] if client_is_neighbor else [h1], extra_config=extra)
        h1.start(neighbors=[h0])
        lab.wait_established()
        lab.wait_routes(expected={h0: lab.expected_routes(h0), h1: lab.expected_routes(h1)})
        assert "the mesh is unauthenticated" in h0.log_text(), "hgwd must say the mesh is unauthenticated"
        if startup == 0:
            wait_until(lambda: h0.hgwsh("show summary json")["initialSyncDone"], 3,
                       msg="h0's initial sync to be over")
        return lab
    return factory


class Undisturbed:
    """Snapshot of the h0-h1 session; ``check()`` asserts it is the same session, unflapped,
    and that both kernels hold exactly the routes they should (plus ``extra`` on h0)."""

    def __init__(self, lab):
        self.lab = lab
        self.h0, self.h1 = lab.hosts[:2]
        self.t0 = time.monotonic()
        self.p01 = self.h0.peer(self.h1)
        self.p10 = self.h1.peer(self.h0)
        assert self.p01["state"] == "established" and self.p10["state"] == "established"

    def check(self, extra=frozenset(), what=""):
        h0, h1 = self.h0, self.h1
        where = f" (after {what})" if what else ""
        assert h0.running, f"hgwd on h0 died{where}"
        assert h1.running, f"hgwd on h1 died{where}"
        elapsed_ms = (time.monotonic() - self.t0) * 1000
        p01, p10 = h0.peer(h1), h1.peer(h0)
        for name, before, after in (("h0->h1", self.p01, p01), ("h1->h0", self.p10, p10)):
            assert after["state"] == "established", f"{name} session is {after['state']}{where}: {after}"
            assert after["flaps"] == before["flaps"], f"{name} session flapped{where}: {after}"
            assert after["uptimeMs"] >= before["uptimeMs"] + elapsed_ms - 500, \
                f"{name} session was replaced{where}: uptime {after['uptimeMs']} ms, " \
                f"was {before['uptimeMs']} ms {elapsed_ms:.0f} ms ago"
            assert after["notificationsIn"] == before["notificationsIn"], f"{name}{where}: {after}"
            assert after["notificationsOut"] == before["notificationsOut"], f"{name}{where}: {after}"
        exp0 = self.lab.expected_routes(h0) | set(extra)
        got0 = h0.route_set()
        assert got0 == exp0, f"h0's kernel{where}: unexpected {sorted(got0 - exp0)} missing {sorted(exp0 - got0)}"
        exp1 = self.lab.expected_routes(h1)
        assert h1.route_set() == exp1, f"h1's kernel{where}: {sorted(h1.route_set())}, want {sorted(exp1)}"


def counters(h0, addr):
    """The counters of h0's peer ``addr`` that the tests follow."""
    p = h0.peer(addr)
    return {k: p[k] for k in ("errors", "notificationsOut", "notificationsIn", "prefixesReceived",
                              "prefixesAccepted", "prefixesRefused", "updatesIn")}


def delta(before, after):
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


def expect_notify(p, code, subcode, what, timeout=3.0):
    """The client got exactly one NOTIFY, code/subcode as given, and then the daemon closed."""
    n = p.wait_notify(timeout)
    assert (n["code"], n["subcode"]) == (code, subcode), \
        f"{what}: NOTIFY {n['code']}/{n['subcode']} ({n.get('text')!r}), want {code}/{subcode}"
    assert n["version"] == 1 and n["reserved"] == 0 and n.get("text_len_ok"), f"{what}: {n}"
    p.wait_closed(timeout)
    assert p.notifies() == [(code, subcode)], f"{what}: NOTIFYs {p.notifies()}"
    assert p.frames[-1] is n, f"{what}: frames after the NOTIFY: {p.frames[p.frames.index(n) + 1:]}"
    return n


def run_cases(lab, cases, session_first=False):
    """Each case: (name, [bytes or None (half-close)], (code, subcode) or None, counter deltas).

    A new connection per case from h2; with ``session_first`` the client first
    completes the HELLO exchange. Failures of all cases are reported together.
    """
    h0, h1, h2 = lab.hosts[:3]
    guard = Undisturbed(lab)
    failures = []
    for name, steps, want, want_delta in cases:
        before = counters(h0, h2)
        try:
            with lab.connect(h2, h0) as p:
                if session_first:
                    p.handshake(CLIENT_ID)
                    p.wait_frame(lambda f: f["name"] == "END-OF-RIB", msg="h0's END-OF-RIB")
                for s in steps:
                    if s is None:
                        p.shutdown_write()
                    else:
                        p.send(s)
                if want is None:
                    p.wait_closed(3)
                    assert p.notifies() == [], f"unexpected NOTIFY {p.notifies()}"
                else:
                    n = expect_notify(p, *want, name)
                    assert p.frames[0]["name"] == "HELLO", f"h0 did not start with HELLO: {p.frames[0]}"
                    # the reason is in show peers' lastError and in the NOTIFY text
                    err = h0.peer(h2)["lastError"] or ""
                    assert n["text"] and n["text"] in err, f"lastError {err!r} vs NOTIFY text {n['text']!r}"
            got = delta(before, counters(h0, h2))
            assert got == want_delta, f"counter changes {got}, want {want_delta}"
            assert h0.peer(h2)["state"] != "established"
            guard.check(what=name)
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, "\n".join(failures)


ERR = {"errors": 1, "notificationsOut": 1}   # a malformed or unexpected frame: counted and answered


# --------------------------------------------------------------------------
# malformed input
# --------------------------------------------------------------------------

def test_garbage_and_bad_headers(hostile):
    """Garbage, bad version/reserved/length/type: NOTIFY header error with the right subcode, then close."""
    lab = hostile()
    run_cases(lab, [
        ("http-garbage", [b"GET / HTTP/1.1\r\nHost: h0\r\n\r\n"], (1, 1), ERR),
        ("random-garbage", [bytes(range(256)) * 4], (1, 1), ERR),   # version byte 0
        ("bad-version", [frame(1, hello_body(CLIENT_ID), version=2)], (1, 1), ERR),
        ("reserved-bits", [frame(1, hello_body(CLIENT_ID), reserved=0x8000)], (1, 4), ERR),
        ("length-65537", [frame(3, length=65537)], (1, 2), ERR),
        ("length-max-u32", [frame(3, length=0xFFFFFFFF) + b"\x00" * 1000], (1, 2), ERR),
        ("length-below-header", [frame(2, length=7)], (1, 2), ERR),
        ("type-99", [frame(99, b"xx")], (1, 3), ERR),
        ("type-0", [frame(0)], (1, 3), ERR),
        ("type-255", [frame(255)], (1, 3), ERR),
    ])


def test_length_above_maximum_is_not_read(hostile):
    """A frame announcing more than 65536 bytes gets NOTIFY 1/2 at once, before any body arrives."""
    lab = hostile()
    h0, h1, h2 = lab.hosts[:3]
    with lab.connect(h2, h0) as p:
        p.send(frame(3, length=65536 + 1)[:8])   # the header alone: the daemon must not wait for the body
        expect_notify(p, 1, 2, "length 65537")
        assert p.closed_at - p.connected_at < 1.0
    with lab.connect(h2, h0) as p:   # 65536 itself is allowed: the daemon waits for the body
        p.handshake(CLIENT_ID)
        body = update_section(UPD_ANNOUNCE, CLIENT_ID, [SENTINEL], p.local)
        body += bytes(65536 - 8 - len(body))  # padding: a malformed tail, but only once it is all there
        p.send(frame(3, body)[:30000])
        stays_true(lambda: p.notifies() == [] and not p.eof, 0.3, msg="waiting for the rest of an incomplete frame")
        p.send(frame(3, body)[30000:])
        expect_notify(p, 3, 5, "65536-byte UPDATE with a zero tail (section kind 0)")
    Undisturbed(lab).check()
    assert h0.show_route(SENTINEL) is None, "nothing of a malformed UPDATE may be applied"


def test_truncated_frames(hostile):
    """Header only or half a body, then close: closed without NOTIFY or error; then silence: closed
    with NOTIFY hold timer expired after the handshake deadline (the hold time)."""
    lab = hostile()
    h0, h1, h2 = lab.hosts[:3]
    h = hello(CLIENT_ID, addrs=[h2.lan_ip])
    run_cases(lab, [
        ("header-only-then-close", [h[:8], None], None, {}),
        ("half-header-then-close", [h[:5], None], None, {}),
        ("half-body-then-close", [h[:8 + (len(h) - 8) // 2], None], None, {}),
        ("update-header-only-then-close", [frame(3, length=100)[:8], None], None, {}),
    ])
    guard = Undisturbed(lab)
    before = counters(h0, h2)
    # Two stalled connections at once: a header promising a body, and half a HELLO.
    with lab.connect(h2, h0) as a, lab.connect(h2, h0) as b:
        a.send(frame(3, length=65536)[:8])
        b.send(h[:len(h) - 3])
        for p, what in ((a, "stalled header"), (b, "stalled half HELLO")):
            expect_notify(p, 4, 0, what, timeout=4)
            el = p.closed_at - p.connected_at
            assert 1.3 <= el <= 2.5, f"{what}: closed after {el:.2f} s, want the hold time 1.5 s"
    assert delta(before, counters(h0, h2)) == {"notificationsOut": 2}
    assert "no HELLO within 1500 ms" in h0.peer(h2)["lastError"]
    guard.check()


def test_frames_out_of_order(hostile):
    """UPDATE, KEEPALIVE, END-OF-RIB before HELLO and a second HELLO: NOTIFY FSM error (5/0)."""
    lab = hostile()
    h2 = lab.hosts[2]
    upd = announce(CLIENT_ID, h2.lan_ip, [SENTINEL])
    run_cases(lab, [
        ("update-before-hello", [upd], (5, 0), ERR),
        ("keepalive-before-hello", [keepalive()], (5, 0), ERR),
        ("eor-before-hello", [end_of_rib()], (5, 0), ERR),
        ("update-glued-before-hello", [upd + hello(CLIENT_ID, addrs=[h2.lan_ip])], (5, 0), ERR),
    ])
    run_cases(lab, [
        ("second-hello", [hello(CLIENT_ID, addrs=[h2.lan_ip])], (5, 0), ERR),
        ("second-hello-other-id", [hello("10.60.6.51", addrs=[h2.lan_ip])], (5, 0), ERR),
    ], session_first=True)
    assert lab.hosts[0].show_route(SENTINEL) is None


def test_bad_hello(hostile):
    """Malformed HELLOs: NOTIFY HELLO error with the PROTOCOL.md subcode, nothing established."""
    lab = hostile()
    h0, h2 = lab.hosts[0], lab.hosts[2]
    good = hello_body(CLIENT_ID, addrs=[h2.lan_ip], hostname="x")
    run_cases(lab, [
        ("short", [frame(1, good[:12])], (2, 1), ERR),
        ("trailing-byte", [frame(1, good + b"\x00")], (2, 1), ERR),
        ("empty", [frame(1)], (2, 1), ERR),
        ("too-many-addresses", [hello(CLIENT_ID, addrs=[h2.lan_ip] * 5)], (2, 1), ERR),
        ("hostname-too-long", [hello(CLIENT_ID, hostname="a" * 65)], (2, 1), ERR),
        ("node-id-zero", [hello(0)], (2, 2), ERR),
        ("hold-too-short", [hello(CLIENT_ID, hold_ms=299, keepalive_ms=100)], (2, 3), ERR),
        ("hold-too-long", [hello(CLIENT_ID, hold_ms=3600001)], (2, 3), ERR),
        ("keepalive-above-hold", [hello(CLIENT_ID, hold_ms=1000, keepalive_ms=2000)], (2, 3), ERR),
        ("address-family-5", [frame(1, good[:18] + bytes([1, 1, 5]) + bytes(4) + b"x")], (2, 4), ERR),
        ("address-unspecified", [hello(CLIENT_ID, addrs=["0.0.0.0"])], (2, 4), ERR),
        ("node-id-of-h0", [hello(h0.node_id, addrs=[h2.lan_ip])], (2, 5), ERR),
    ])
    assert h0.peer(h2)["flaps"] == 0, "no bad HELLO may establish a session"


def test_bad_update(hostile):
    """Malformed UPDATEs in an established session: NOTIFY UPDATE error, nothing of the frame applied
    (even the valid section before the bad one), the session's routes removed."""
    lab = hostile()
    h0, h2 = lab.hosts[0], lab.hosts[2]
    gw = h2.lan_ip
    ok = update_section(UPD_ANNOUNCE, CLIENT_ID, ["192.168.61.0/24"], gw)  # valid, refused only with its frame
    cases = [
        ("bad-kind", update_section(3, CLIENT_ID, ["192.168.62.0/24"], gw), (3, 5)),
        ("bad-family", update_section(UPD_ANNOUNCE, CLIENT_ID, ["192.168.62.0/24"], gw, family=5), (3, 2)),
        ("prefix-length-33", update_section(UPD_ANNOUNCE, CLIENT_ID,
                                            [prefix_bytes("192.168.62.0/24", plen=33)], gw), (3, 3)),
        ("prefix-length-129", update_section(UPD_ANNOUNCE, CLIENT_ID,
                                             [prefix_bytes("fd00:10:62::/64", plen=129)],
                                             "fd00:60:6::12"), (3, 3)),
        ("gateway-unspecified", update_section(UPD_ANNOUNCE, CLIENT_ID, ["192.168.62.0/24"], "0.0.0.0"), (3, 4)),
        ("count-zero", update_section(UPD_ANNOUNCE, CLIENT_ID, [], gw, family=4), (3, 5)),
        ("origin-zero", update_section(UPD_ANNOUNCE, 0, ["192.168.62.0/24"], gw), (3, 5)),
        ("count-too-high", update_section(UPD_ANNOUNCE, CLIENT_ID, ["192.168.62.0/24"], gw, count=2), (3, 1)),
        ("prefix-cut", update_section(UPD_ANNOUNCE, CLIENT_ID, ["192.168.62.0/24"], gw)[:-2], (3, 1)),
        ("section-cut", update_section(UPD_WITHDRAW, CLIENT_ID, ["192.168.62.0/24"])[:5], (3, 1)),
        ("empty-body", None, (3, 1)),
    ]
    guard = Undisturbed(lab)
    failures = []
    for name, bad, want in cases:
        try:
            with lab.connect(h2, h0) as p:
                p.handshake(CLIENT_ID)
                p.send(announce(CLIENT_ID, gw, [SENTINEL]))
                wait_until(lambda: route(SENTINEL, gw) in h0.route_set(), 3, msg=f"{name}: sentinel installed")
                before = counters(h0, h2)
                p.send(frame(3, b"" if bad is None else ok + bad))
                expect_notify(p, *want, name)
            wait_until(lambda: route(SENTINEL, gw) not in h0.route_set(), 2,
                       msg=f"{name}: the session's routes to be removed")
            d = delta(before, counters(h0, h2))
            d.pop("prefixesAccepted", None)   # the sentinel went with the session
            assert d == ERR, f"{name}: counter changes {d}: the frame must be refused whole, before any of it applies"
            assert h0.show_route("192.168.61.0/24") is None
            guard.check(what=name)
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, "\n".join(failures)
    assert "192.168.61.0/24" not in h0.log_text(), "the valid section of a malformed UPDATE reached the RIB"


def test_silent_connection_closed_after_hold_time(hostile):
    """A connection that sends nothing gets HELLO, then NOTIFY hold timer expired after the hold time."""
    lab = hostile()
    h0, h2 = lab.hosts[0], lab.hosts[2]
    guard = Undisturbed(lab)
    before = counters(h0, h2)
    with lab.connect(h2, h0) as p:
        expect_notify(p, 4, 0, "silent connection", timeout=4)
        el = p.closed_at - p.connected_at
        assert 1.3 <= el <= 2.5, f"closed after {el:.2f} s, want the hold time 1.5 s"
        assert [f["name"] for f in p.frames] == ["HELLO", "NOTIFY"]
        assert p.frames[0]["hello"]["node_id"] == h0.node_id
    assert delta(before, counters(h0, h2)) == {"notificationsOut": 1}
    guard.check()


# --------------------------------------------------------------------------
# route acceptance policy
# --------------------------------------------------------------------------

# (name, prefix, origin, gateway, reason in lastRefused); "self": the client's node id / address
V4_REFUSED = [
    ("host-bits-in-last-byte", "192.168.61.0/23", "self", "self", "host bits set"),
    ("host-bits", "192.168.60.1/25", "self", "self", "host bits set"),
    ("default-route", "0.0.0.0/0", "self", "self", "default route"),
    ("half-the-internet", "0.0.0.0/1", "self", "self", "unspecified network"),
    ("other-half", "128.0.0.0/1", "self", "self", "link-local"),
    ("this-network-0/8", "0.1.0.0/16", "self", "self", "unspecified network"),
    ("loopback", "127.0.0.0/8", "self", "self", "loopback"),
    ("loopback-host", "127.0.0.1/32", "self", "self", "loopback"),
    ("link-local", "169.254.0.0/16", "self", "self", "link-local"),
    ("multicast", "224.0.0.0/4", "self", "self", "multicast"),
    ("multicast-group", "239.1.2.0/24", "self", "self", "multicast"),
    ("reserved-240/4", "240.0.0.0/4", "self", "self", "reserved"),
    ("broadcast", "255.255.255.255/32", "self", "self", "reserved"),
    ("origin-h0", "192.168.62.0/24", "h0", "self", "origin is our own node id"),
    ("third-party-origin", "192.168.62.0/24", "h1", "self", "third party"),
    ("h1-subnet-via-h1", "h1.subnet", "h1", "h1", "third party"),
    ("gateway-h1", "192.168.62.0/24", "self", "h1", "is not the peer's address"),
    ("gateway-h0", "192.168.62.0/24", "self", "h0", "is not the peer's address"),
    ("gateway-stranger", "192.168.62.0/24", "self", "10.60.6.99", "is not the peer's address"),
    ("gateway-off-lan", "192.168.62.0/24", "self", "10.99.0.1", "is not the peer's address"),
    ("outside-cluster", "172.16.5.0/24", "self", "self", "outside every cluster-network"),
    ("lan-subnet", "10.60.6.0/24", "self", "self", "overlaps the LAN subnet 10.60.6.0/24"),
    ("inside-lan", "10.60.6.128/25", "self", "self", "overlaps the LAN subnet"),
    ("h0-lan-address", "10.60.6.10/32", "self", "self", "overlaps the LAN subnet"),
    ("covering-lan", "10.0.0.0/8", "self", "self", "overlaps the LAN subnet"),
    ("inside-h0-network", "192.168.10.128/25", "self", "self", "overlaps our network 192.168.10.0/24"),
    ("h0-container", "192.168.10.11/32", "self", "self", "overlaps our network"),
    ("covering-h0-network", "192.168.0.0/16", "self", "self", "overlaps our network"),
]
V6_REFUSED = [
    ("v6-host-bits", "fd00:10:60:0:4000::/65", "self", "self", "host bits set"),
    ("v6-default", "::/0", "self", "self", "default route"),
    ("v6-loopback", "::1/128", "self", "self", "unspecified, loopback or mapped"),
    ("v6-mapped", "::ffff:0.0.0.0/96", "self", "self", "unspecified, loopback or mapped"),
    ("v6-link-local", "fe80::/64", "self", "self", "link-local"),
    ("v6-multicast", "ff02::/16", "self", "self", "multicast"),
    ("v6-gateway-h1", "fd00:10:62::/64", "self", "h1", "is not the peer's address"),
    ("v6-third-party", "fd00:10:62::/64", "h1", "self", "third party"),
    ("v6-outside-cluster", "2001:db8::/32", "self", "self", "outside every cluster-network"),
    ("v6-lan", "fd00:60:6::/64", "self", "self", "overlaps the LAN subnet fd00:60:6::/64"),
    ("v6-covering-lan", "fd00:60::/32", "self", "self", "overlaps the LAN subnet"),
    ("v6-inside-h0-network", "fd00:10:10::/80", "self", "self", "overlaps our network fd00:10:10::/64"),
    ("v6-covering-h0-network", "fd00:10::/32", "self", "self", "overlaps our network"),
]


def test_refused_prefixes(hostile):
    """Each kind of prefix the policy refuses (v4 and v6): counted in prefixesRefused, named in
    lastRefused, never in the RIB or the kernel; the exact same prefix as ours is only a visible conflict."""
    lab = hostile(ipv6=True, extra_config="cluster-network 192.168.0.0/16\n"
                                          "cluster-network 10.0.0.0/8\ncluster-network fd00::/8")
    h0, h1, h2 = lab.hosts[:3]
    guard = Undisturbed(lab)
    names = {"self": None, "h0": h0, "h1": h1}

    def resolve(kind, family, client):
        if kind == "self":
            return CLIENT_ID if family == "origin" else client.local if family == 4 else h2.lan_ip6
        if kind in names:
            h = names[kind]
            return h.node_id if family == "origin" else h.lan_ip if family == 4 else h.lan_ip6
        return kind

    with lab.connect(h2, h0) as p:
        p.handshake(CLIENT_ID, addrs=[h2.lan_ip, h2.lan_ip6], caps=CAP_IPV4 | CAP_IPV6)
        # The pipeline works: a proper announcement is installed.
        p.send(announce(CLIENT_ID, h2.lan_ip, [SENTINEL]) + announce(CLIENT_ID, h2.lan_ip6, [SENTINEL6]))
        sentinels = {route(SENTINEL, h2.lan_ip), route(SENTINEL6, h2.lan_ip6)}
        wait_until(lambda: sentinels <= h0.route_set(), 3, msg="the client's proper prefixes installed")
        failures = []
        for name, pfx, origin, gw, why in V4_REFUSED + V6_REFUSED:
            pfx = h1.subnet if pfx == "h1.subnet" else pfx
            fam = ipaddress.ip_interface(pfx).version
            before = counters(h0, h2)
            p.send(announce(resolve(origin, "origin", p), resolve(gw, fam, p), [pfx]))
            try:
                after = wait_until(lambda: (c := counters(h0, h2))["prefixesRefused"] > before["prefixesRefused"]
                                   and c, 2, msg=f"{name}: {pfx} to be refused")
                assert delta(before, after) == {"prefixesReceived": 1, "prefixesRefused": 1, "updatesIn": 1}, \
                    delta(before, after)
                last = h0.peer(h2)["lastRefused"] or ""
                shown, _, reason = last.partition(": ")
                assert why in reason and ipaddress.ip_interface(shown) == ipaddress.ip_interface(pfx), \
                    f"lastRefused {last!r}, want {pfx}: ...{why}..."
            except AssertionError as e:
                failures.append(f"{name} ({pfx} origin {origin} via {gw}): {e}")
        # The same prefix as ours is accepted as a visible conflict; ours stays best.
        for own, gw in ((h0.subnet, h2.lan_ip), (h0.subnet6, h2.lan_ip6)):
            p.send(announce(CLIENT_ID, gw, [own]))

            def conflict(own=own):
                r = h0.show_route(own)
                assert r and r["conflict"] and r["fib"] == "local", r
                assert [x["local"] for x in r["paths"] if x["best"]] == [True], r
                return r
            wait_until(conflict, 2, msg=f"{own} to be a visible conflict on h0")
        # Barrier: a fresh announcement installed after all of the above, so the kernel has caught up.
        p.send(announce(CLIENT_ID, h2.lan_ip, ["192.168.63.0/24"]))
        sentinels.add(route("192.168.63.0/24", h2.lan_ip))
        wait_until(lambda: sentinels <= h0.route_set(), 3, msg="the barrier prefix installed")
        assert not failures, "\n".join(failures)
        guard.check(extra=sentinels, what="the refused announcements")
        rib = h0.show_routes()
        for name, pfx, origin, gw, why in V4_REFUSED + V6_REFUSED:
            pfx = h1.subnet if pfx == "h1.subnet" else pfx
            net = str(ipaddress.ip_interface(pfx).network)
            if net == h1.subnet:
                assert [x["origin"] for x in rib[net]["paths"]] == [h1.node_id], f"{name}: {rib[net]}"
            else:
                assert net not in rib and pfx not in rib, f"{name}: {pfx} reached h0's RIB: {rib.get(net)}"
        c = h0.peer(h2)
        assert c["prefixesRefused"] == len(V4_REFUSED) + len(V6_REFUSED)
        assert c["prefixesAccepted"] == 5, c   # 2 sentinels, 2 conflicts with our own, the barrier
        assert "refused" in h0.log_text() and "later refusals are counted in show peers" in h0.log_text()

        # A refused re-announcement replaces the accepted path: the route goes.
        p.send(announce(CLIENT_ID, h1.lan_ip, [SENTINEL]))
        wait_until(lambda: route(SENTINEL, h2.lan_ip) not in h0.route_set(), 2,
                   msg="the refused replacement to withdraw the accepted path")
        assert h0.show_route(SENTINEL) is None
        # A withdraw of the rest empties the kernel of the client's routes.
        p.send(withdraw(CLIENT_ID, [SENTINEL6]) + withdraw(CLIENT_ID, ["192.168.63.0/24"]))
        wait_until(lambda: guard.check() or True, 2, msg="only h1's routes left on h0")
        assert p.notifies() == [] and not p.eof, "refusals must not end the session"
    wait_until(lambda: h0.show_route(h0.subnet)["conflict"] is False, 2, msg="the conflicts to end with the session")
    guard.check()


def test_claim_of_another_hosts_subnet_does_not_win(hostile):
    """The client claims h1's subnet as its own (origin itself, its own gateway, node id above h1's):
    h0 shows the conflict, keeps h1's path best and in the kernel."""
    lab = hostile()
    h0, h1, h2 = lab.hosts[:3]
    guard = Undisturbed(lab)
    with lab.connect(h2, h0) as p:
        p.handshake(CLIENT_ID)
        p.send(announce(CLIENT_ID, h2.lan_ip, [h1.subnet]))

        def conflict():
            r = h0.show_route(h1.subnet)
            assert r and r["conflict"] and len(r["paths"]) == 2, r
            return r
        r = wait_until(conflict, 2, msg="h0 to see the conflicting claim")
        best = [x for x in r["paths"] if x["best"]]
        assert [(x["origin"], x["gateway"]) for x in best] == [(h1.node_id, h1.lan_ip)], r
        assert r["kernelGateway"] == h1.lan_ip
        guard.check()
        h0.wait_container_ping(h1.container_ip)
    guard.check()


def test_claim_with_lower_node_id_does_not_steer(hostile):
    """The client takes node id 10.0.0.1 (below h1's) and announces h1's subnet as its own, via itself,
    once h1's claim is settled on h0 (RIB_INCUMBENT_DS, 3 s): h0 must keep sending h1's traffic to h1
    ("no peer can steer traffic for another host's subnet"); the claim is a visible conflict.
    Claims made within 3 s of each other are settled by the lowest node id (test_policy.py)."""
    lab = hostile()
    h0, h1, h2 = lab.hosts[:3]
    wait_until(lambda: next(p for p in h0.show_route(h1.subnet)["paths"] if p["best"])["ageMs"] >= 3100,
               6, interval=0.1, msg="h1's claim on h0 to be settled (3 s old)")
    with lab.connect(h2, h0) as p:
        p.handshake("10.0.0.1")
        p.send(announce("10.0.0.1", h2.lan_ip, [h1.subnet]))
        wait_until(lambda: h0.show_route(h1.subnet)["conflict"], 2, msg="h0 to see the claim")
        stays_true(lambda: route(h1.subnet, h1.lan_ip) in h0.route_set(), 0.5,
                   msg="h0's route to h1's subnet via h1")
        r = h0.show_route(h1.subnet)
        assert r["kernelGateway"] == h1.lan_ip, f"h1's subnet is steered to the client: {r}"
        best = [q for q in r["paths"] if q["best"]]
        assert len(best) == 1 and best[0]["origin"] == h1.node_id, r
        assert route(h1.subnet, h1.lan_ip) in h0.route_set()


def test_node_id_of_another_peer_does_not_steer(hostile):
    """From 10.60.6.5 (a lower address than h1's) the client says it is h1 (h1's node id): h0 refuses
    the HELLO (NOTIFY 2/5, duplicate node id: h1 is established with it) and h1's route stays."""
    lab = hostile(client_is_neighbor=False)
    h0, h1, h2 = lab.hosts[:3]
    guard = Undisturbed(lab)
    h2.ip("addr", "add", "10.60.6.5/24", "dev", "eth0")
    with lab.connect(h2, h0, source="10.60.6.5") as p:
        p.send(hello(h1.node_id, caps=CAP_IPV4, listen_port=PORT, addrs=["10.60.6.5"], hostname="impostor"))
        p.send(announce(h1.node_id, "10.60.6.5", [h1.subnet]))
        wait_until(lambda: (2, 5) in [(c, s) for c, s in p.notifies()], 3,
                   msg="NOTIFY 2/5 (duplicate node id) for the impostor")
        stays_true(lambda: route(h1.subnet, h1.lan_ip) in h0.route_set(), 0.5,
                   msg="h0's route to h1's subnet via h1")
    guard.check(what="the impostor")


# --------------------------------------------------------------------------
# max-prefixes
# --------------------------------------------------------------------------

def test_max_prefixes(hostile):
    """Per-neighbor (2) and global (4) limits: past them NOTIFY cease/maximum prefixes (6/5), the
    session closes, its routes go; the neighbor is refused for 30 s (reconnect closed at once)."""
    lab = hostile(n=4, client_is_neighbor=False,
                  extra_config="max-prefixes 4\nneighbor 10.60.6.12 max-prefixes 2")
    h0, h1, h2, h3 = lab.hosts
    guard = Undisturbed(lab)   # h1 announces 1 prefix: under both limits
    gw = h2.lan_ip
    with lab.connect(h2, h0) as p:
        p.handshake(CLIENT_ID)
        p.send(announce(CLIENT_ID, gw, ["192.168.60.0/24", "192.168.61.0/24"]))
        mine = {route("192.168.60.0/24", gw), route("192.168.61.0/24", gw)}
        wait_until(lambda: mine <= h0.route_set(), 3, msg="2 prefixes installed")
        # Refused prefixes and re-announcements do not count.
        p.send(announce(CLIENT_ID, gw, ["127.0.0.0/8", "192.168.60.0/24", "192.168.61.0/24"]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] == 1, 2, msg="the refusal")
        assert p.notifies() == [] and h0.peer(h2)["prefixesAccepted"] == 2
        guard.check(extra=mine)
        p.send(announce(CLIENT_ID, gw, ["192.168.62.0/24"]))
        n = expect_notify(p, 6, 5, "third prefix over max-prefixes 2")
        assert "maximum prefixes (2)" in n["text"], n["text"]
    wait_until(lambda: guard.check() or True, 2, msg="the client's routes to go")
    peer = h0.peer(h2)
    assert peer["state"] != "established" and "maximum prefixes (2) exceeded" in peer["lastError"], peer
    assert "session down: maximum prefixes (2) exceeded" in h0.log_text()
    assert h0.show_route("192.168.62.0/24") is None
    # h0 itself does not dial it before the 30 s are over.
    wait_until(lambda: h0.peer(h2).get("connectRetryMs", 0) > 25000, 3,
               msg="h0's next dial of 10.60.6.12 to wait for the end of the 30 s")
    # Refused for 30 s: closed at once, before any byte.
    for _ in range(2):
        with lab.connect(h2, h0) as p:
            assert p.answered() is False, f"a reconnect within 30 s got {p.frames}"
            assert p.closed_at - p.connected_at < 1.0

    # The global limit, for a peer with no neighbor line (one that announces the members capability).
    with lab.connect(h3, h0) as p:
        p.handshake("10.60.6.51", caps=CAP_IPV4 | 0x4)
        p.send(announce("10.60.6.51", h3.lan_ip, [f"192.168.{70 + i}.0/24" for i in range(5)]))
        n = expect_notify(p, 6, 5, "5 prefixes over max-prefixes 4")
        assert "maximum prefixes (4)" in n["text"], n["text"]
    with lab.connect(h3, h0) as p:
        assert p.answered() is False, f"a reconnect within 30 s got {p.frames}"
    wait_until(lambda: guard.check() or True, 2, msg="only h1's routes on h0")
    assert all(h0.show_route(f"192.168.{70 + i}.0/24") is None for i in range(5))


def test_max_prefixes_holdoff_for_dynamic_peer(hostile):
    """A peer that is no configured neighbor (and does not announce the members capability) goes over
    the global max-prefixes: it must still be refused for 30 s, not re-accepted at once."""
    lab = hostile(client_is_neighbor=False, extra_config="max-prefixes 2")
    h0, h2 = lab.hosts[0], lab.hosts[2]
    with lab.connect(h2, h0) as p:
        p.handshake(CLIENT_ID, caps=CAP_IPV4)
        p.send(announce(CLIENT_ID, h2.lan_ip, [f"192.168.{70 + i}.0/24" for i in range(3)]))
        expect_notify(p, 6, 5, "3 prefixes over max-prefixes 2")
    with lab.connect(h2, h0) as p:
        assert p.answered() is False, f"re-accepted at once after max-prefixes: {[f['name'] for f in p.frames]}"


def test_routes_of_a_session_lost_during_initial_sync_go(hostile):
    """h0 with the default startup timer (5 s) and the client a configured neighbor that never sends
    END-OF-RIB: a route it announced must still leave the kernel as soon as its session is closed
    for max-prefixes (PROTOCOL.md: the receiver drops every path learned over it at once)."""
    lab = hostile(startup=None, extra_config="neighbor 10.60.6.12 max-prefixes 1")
    h0, h2 = lab.hosts[0], lab.hosts[2]
    assert not h0.hgwsh("show summary json")["initialSyncDone"]
    with lab.connect(h2, h0) as p:
        p.handshake(CLIENT_ID)
        p.send(announce(CLIENT_ID, h2.lan_ip, [SENTINEL]))
        wait_until(lambda: route(SENTINEL, h2.lan_ip) in h0.route_set(), 2, msg="the route installed")
        p.send(announce(CLIENT_ID, h2.lan_ip, ["192.168.61.0/24"]))
        expect_notify(p, 6, 5, "over max-prefixes 1")
    t0 = time.monotonic()
    wait_until(lambda: route(SENTINEL, h2.lan_ip) not in h0.route_set(), 1.5,
               msg="the closed session's route to leave the kernel")
    assert time.monotonic() - t0 < 1.5 and not h0.hgwsh("show summary json")["initialSyncDone"]


# --------------------------------------------------------------------------
# connection limits
# --------------------------------------------------------------------------

def test_connection_from_outside_lan_refused(hostile):
    """From an address outside the LAN subnet: closed at once, no HELLO, no NOTIFY, logged; an
    address of an ``allow`` prefix is accepted."""
    lab = hostile(client_is_neighbor=False, extra_config="allow 10.62.0.0/24")
    h0, h1, h2 = lab.hosts[:3]
    guard = Undisturbed(lab)
    h2.ip("addr", "add", "10.61.0.5/24", "dev", "eth0")
    h2.ip("addr", "add", "10.62.0.5/24", "dev", "eth0")
    h0.ip("route", "add", "10.61.0.0/24", "dev", "eth0")   # so that h0's answers reach the stranger
    h0.ip("route", "add", "10.62.0.0/24", "dev", "eth0")
    with lab.connect(h2, h0, source="10.61.0.5") as p:
        p.send(hello(CLIENT_ID, addrs=["10.61.0.5"]) + announce(CLIENT_ID, "10.61.0.5", [SENTINEL]))
        assert p.answered() is False, f"a stranger got {p.frames}"
        assert p.closed_at - p.connected_at < 1.0
    wait_until(lambda: "refused a connection from 10.61.0.5: not a neighbor" in h0.log_text(), 2,
               msg="the refusal in h0's log")
    assert "10.61.0.5" not in h0.peers(), "a refused stranger must leave no peer behind"
    with lab.connect(h2, h0, source="10.62.0.5") as p:
        his = p.handshake(CLIENT_ID)
        assert his["node_id"] == h0.node_id
        wait_until(lambda: h0.peer("10.62.0.5")["state"] == "established", 2, msg="the allowed session")
    guard.check()


def daemon_limits(h):
    """hgwd's connection limits as it reports them (show summary json "limits")."""
    lim = h.hgwsh("show summary json")["limits"]
    return lim["handshakes"], lim["acceptsPerSecond"], lim["acceptBurst"]


FLOOD_NET = "10.70.0.0/16"   # allowed on h0 (``allow``), owned by h2, routed via h2: any number of clients


def client_addresses(lab, n):
    """``n`` addresses of FLOOD_NET on h2's eth0, routed from h0 via h2 (h0 needs ``allow FLOOD_NET``)."""
    h0, h2 = lab.hosts[0], lab.hosts[2]
    addrs = [f"10.70.{i // 250}.{i % 250 + 1}" for i in range(n)]
    ip_batch(h2.ns, [f"addr add {a}/32 dev eth0" for a in addrs])
    h0.ip("route", "add", FLOOD_NET, "via", h2.lan_ip, "dev", "eth0")
    return addrs


def test_handshake_cap(hostile):
    """The handshake cap + 40 silent connections from as many addresses: PENDING_MAX are taken into their
    handshake (HELLO), the rest closed at once; after the handshake deadline (the hold time) the taken
    ones get NOTIFY 4/0 and new connections are taken again."""
    lab = hostile(client_is_neighbor=False, extra_config=f"allow {FLOOD_NET}")
    h0, h1, h2 = lab.hosts[:3]
    cap, rate, burst = daemon_limits(h0)
    addrs = client_addresses(lab, cap + 41)
    total = cap + 40
    guard = Undisturbed(lab)
    # Within the accept rate (so that only the handshake cap refuses) and within the hold time.
    first = min(total, int(burst * 0.9))
    refill = max(0, total - first - (burst - first)) / rate + 0.1
    assert refill < 1.0, f"PENDING_MAX {cap} cannot be reached at {rate}/s (burst {burst}) within the hold time"
    t0 = time.monotonic()
    floods = [Flood(h2.ns, h0.lan_ip, addrs[:first])]
    floods[0].wait()
    if total > first:
        time.sleep(refill)   # the accept bucket refills with time: there is nothing to poll
        floods.append(Flood(h2.ns, h0.lan_ip, addrs[first:total]))
    try:
        results = [r for f in floods for r in f.wait()]
        assert time.monotonic() - t0 < 1.3, "too slow: the first connections reached their deadline"
        assert results.count("answered") == cap and results.count("refused") == 40, \
            {k: results.count(k) for k in set(results)}
        assert "too many connections still in their handshake" in h0.log_text()
        assert "too many connections per second" not in h0.log_text()
        guard.check(what="the connection flood")
        for f in floods:
            f.wait_closed(4)
        for f in floods:
            for i, r in enumerate(f.wait()):
                if r == "answered":
                    names = [(x["name"], x.get("code")) for x in f.frames(i)]
                    assert names == [("HELLO", None), ("NOTIFY", 4)], names
    finally:
        for f in floods:
            f.close()
    with lab.connect(h2, h0, source=addrs[-1]) as p:
        assert p.answered(), "a connection after the flood must be taken again"
    guard.check()


def test_accept_rate(hostile):
    """The accept burst + one second's rate of connections in waves, as fast as possible (each closed once
    answered): the burst is taken, then ACCEPT_RATE per second, the others closed at once; it recovers."""
    lab = hostile(client_is_neighbor=False, extra_config=f"allow {FLOOD_NET}")
    h0, h1, h2 = lab.hosts[:3]
    cap, rate, burst = daemon_limits(h0)
    wave = max(1, min(200, cap // 2))
    addrs = client_addresses(lab, wave)
    total = burst + max(100, rate)
    guard = Undisturbed(lab)
    results = []
    t0 = time.monotonic()
    while len(results) < total:
        with Flood(h2.ns, h0.lan_ip, addrs[:min(wave, total - len(results))]) as f:
            results += f.wait()
    elapsed = time.monotonic() - t0
    taken, refused = results.count("answered"), results.count("refused")
    assert taken + refused == total, {k: results.count(k) for k in set(results)}
    allowed = burst + rate * elapsed
    assert total - allowed > 20, f"the client was too slow ({total} in {elapsed:.2f} s) to exceed {rate}/s"
    assert all(r == "answered" for r in results[:burst - 2]), \
        f"the burst of {burst} was not taken: first refusal at #{results.index('refused')}"
    assert burst - 2 <= taken <= allowed + 3, f"{taken} taken in {elapsed:.2f} s (burst {burst}, {rate}/s)"
    assert "too many connections per second" in h0.log_text()
    guard.check(what="the connection burst")

    def taken_again():
        with lab.connect(h2, h0, source=addrs[0]) as p:
            return p.answered()
    wait_until(taken_again, 2, interval=0.05, msg="connections to be taken again")
    guard.check()


def test_fd_exhaustion_does_not_spin(hostile):
    """hgwd with 128 file descriptors gets 200 silent connections: it must not spin on accept() or
    flood its log, and its session with h1 stays up."""
    lab = hostile(client_is_neighbor=False, extra_config=f"allow {FLOOD_NET}")
    h0, h1, h2 = lab.hosts[:3]
    resource.prlimit(h0.daemon.pid, resource.RLIMIT_NOFILE, (128, 128))
    addrs = client_addresses(lab, 200)
    guard = Undisturbed(lab)
    with Flood(h2.ns, h0.lan_ip, addrs) as f:
        f.wait_closed(8)   # the taken ones at their deadline, the waiting ones after
    spam = h0.log_text().count("Too many open files")
    assert spam <= 10, f"{spam} log lines about 'Too many open files'"
    guard.check()
