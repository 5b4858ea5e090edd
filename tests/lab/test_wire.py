"""Lab tests of hgwd against malformed frames from a raw TCP client: NOTIFY back, connection closed, nothing else disturbed."""

import time

import pytest

from hgwlab import frame, raw_exchange, route

# (payload, expected NOTIFY code, subcode) per proto/PROTOCOL.md: header errors are code 1.
GARBAGE = {
    "bad-version": (frame(2, version=9), 1, 1),
    "bad-length-short": (frame(2, length=4), 1, 2),
    "bad-length-huge": (frame(3, length=70000), 1, 2),
    "bad-type": (frame(9), 1, 3),
    "reserved-set": (frame(2, reserved=1), 1, 4),
}


@pytest.fixture
def wire_lab(make_lab):
    """h0 and h1 run hgwd with an established session; h2 runs none but is h0's configured neighbor,
    so a raw client in h2's namespace looks like a legitimate peer address to h0."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1, h2])
    h1.start(neighbors=[h0])
    lab.wait_established()
    lab.wait_routes(expected={h0: {route(h1.subnet, h1.lan_ip)}, h1: {route(h0.subnet, h0.lan_ip)}})
    return lab


def test_malformed_frames_get_notify(wire_lab):
    """Each malformed header gets NOTIFY header error (right subcode) and a close; the h0-h1 session is untouched."""
    h0, h1, h2 = wire_lab.hosts
    before = h0.peer(h1)
    t_before = time.monotonic()
    for name, (payload, code, subcode) in GARBAGE.items():
        res = raw_exchange(h2.ns, h0.lan_ip, payload, timeout=3)
        frames = res["frames"]
        assert frames, f"{name}: no frame came back (got {res['data'].hex()}, error {res['error']})"
        *first, notify = frames
        assert all(f["name"] == "HELLO" for f in first), f"{name}: unexpected frames {first}"
        assert (notify["version"], notify["type"], notify["reserved"]) == (1, 5, 0), f"{name}: {notify}"
        assert notify["length"] == 8 + len(notify["body"])
        assert notify.get("text_len_ok"), f"{name}: NOTIFY text length does not match the body: {notify}"
        assert (notify["code"], notify["subcode"]) == (code, subcode), \
            f"{name}: NOTIFY {notify['code']}/{notify['subcode']} ({notify.get('text')!r}), want {code}/{subcode}"
        assert res["rest"] == b"", f"{name}: trailing bytes after the NOTIFY: {res['rest'].hex()}"
        assert res["eof"], f"{name}: the daemon did not close the connection after its NOTIFY"
        assert h0.running, f"hgwd on h0 died after {name}"

    after = h0.peer(h1)
    elapsed_ms = (time.monotonic() - t_before) * 1000
    assert after["state"] == "established"
    assert after["uptimeMs"] >= before["uptimeMs"] + elapsed_ms - 500, "the h0-h1 session was reset"
    assert after["messagesIn"] >= before["messagesIn"] and after["messagesOut"] >= before["messagesOut"]
    assert after["notificationsIn"] == before["notificationsIn"] == 0
    assert after["notificationsOut"] == before["notificationsOut"] == 0
    assert h1.peer(h0)["state"] == "established"
    assert route(h1.subnet, h1.lan_ip) in h0.route_set()
    assert route(h0.subnet, h0.lan_ip) in h1.route_set()
    h0.wait_container_ping(h1.container_ip)


def test_garbage_body_then_good_session_still_possible(wire_lab):
    """After junk from h2's address, a real hgwd on h2 still gets a session with h0."""
    h0, h1, h2 = wire_lab.hosts
    res = raw_exchange(h2.ns, h0.lan_ip, b"\x09" * 64, timeout=3)
    assert res["frames"] and res["frames"][-1]["name"] == "NOTIFY" and res["eof"]
    h2.start(neighbors=[h0])
    wire_lab.wait_established(timeout=15)
    # h2 learns h1 from h0's member list: the mesh becomes full.
    wire_lab.wait_routes(expected={h: {route(o.subnet, o.lan_ip) for o in wire_lab.hosts if o is not h}
                                   for h in wire_lab.hosts}, timeout=15)
