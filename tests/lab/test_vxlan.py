"""Lab tests of encap vxlan: direct routes where a gateway is on-link, VXLAN (hgw.vxlan) where it is not.

Two LANs joined by a router (labvxlan.TwoLans): h0 and h1 on LAN A, h2 on LAN B.
"""

import json
import time
from pathlib import Path

import jsonschema

from hgwlab import stays_true, wait_until
from labvxlan import VXLAN, TwoLans


def vtep_mac(h) -> str:
    """The MAC hgwd derives from a host's node id: 02:68 and the id's four bytes."""
    return "02:68:" + ":".join(f"{int(o):02x}" for o in h.node_id.split("."))


def expected_mode(t, a, b) -> str:
    return "direct" if t.same_lan(a, b) else "vxlan"


def route_ok(t, a, b) -> bool:
    """a's kernel route to b's container subnet (of the LAN's family) is the one the mode wants, exactly."""
    subnet, gw = (b.subnet, b.lan_ip) if b.lan_ip else (b.subnet6, b.lan_ip6)
    want = (f"{subnet} via {gw} dev eth0 metric 20" if t.same_lan(a, b) else
            f"{subnet} via {gw} dev {VXLAN} metric 20 onlink")
    if not b.lan_ip:
        want += " pref medium"
    return t.proto_route(a, subnet) == want


def entries_ok(t, a) -> bool:
    """a's neighbour and FDB entries on hgw.vxlan are exactly one per host on the other LAN."""
    far = [b for b in t.lab.hosts if b is not a and b.running and not t.same_lan(a, b)]
    return (t.vxlan_neighbors(a) == {(b.lan_addr, vtep_mac(b)) for b in far} and
            t.vxlan_fdb(a) == {(vtep_mac(b), b.lan_addr) for b in far})


def converged(t) -> bool:
    hosts = [h for h in t.lab.hosts if h.running]
    return all(route_ok(t, a, b) for a in hosts for b in hosts if a is not b) and \
        all(entries_ok(t, a) for a in hosts)


SCHEMA_DIR = Path(__file__).resolve().parents[2] / "conf" / "schema"


def assert_schema(name: str, doc) -> None:
    """doc (a show command's JSON with encap vxlan on) matches conf/schema/NAME.json."""
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def start(t, **kw):
    for h in t.lab.hosts:
        h.start(config=t.config(h, **kw))


def test_direct_on_lan_vxlan_across_the_router(make_lab):
    """Every container reaches every other; the on-link pair is direct, the pairs across the router use hgw.vxlan."""
    lab = make_lab(3)
    t = TwoLans(lab)
    h0, h1, h2 = lab.hosts
    assert not h0.container_ping(h2.container_ip)
    start(t, extra="cluster-network 192.168.0.0/16\nno ip-masq")
    wait_until(lambda: converged(t), 10, msg="direct and vxlan routes with their entries")

    for a in lab.hosts:
        for b in lab.hosts:
            if a is not b:
                a.wait_container_ping(b.container_ip)
    # The kernel's choice for each pair: the on-link pair never touches hgw.vxlan.
    got = t.route_get(h0, h1.container_ip)
    assert f"via {h1.lan_ip} dev eth0" in got and VXLAN not in got, got
    got = t.route_get(h1, h0.container_ip)
    assert f"via {h0.lan_ip} dev eth0" in got and VXLAN not in got, got
    for a, b in ((h0, h2), (h1, h2), (h2, h0), (h2, h1)):
        got = t.route_get(a, b.container_ip)
        assert f"via {b.lan_ip} dev {VXLAN}" in got, got

    # The device: local address, VNI, port, learning off, MTU, MAC.
    for h in lab.hosts:
        link = h.ip("-d", "link", "show", VXLAN).stdout
        assert f"link/ether {vtep_mac(h)}" in link and "mtu 1450" in link, link
        assert f"vxlan id 1 local {h.lan_ip} dev eth0" in link and "dstport 4789" in link, link
        assert "nolearning" in link, link
        # FLANNEL_MTU is the device's.
        env = (lab.workdir / f"{h.name}.subnet.env").read_text()
        assert "FLANNEL_MTU=1450\n" in env, env

    # show routes, show peers, show fib, and their schemas with encapsulation on.
    for h in lab.hosts:
        assert_schema("show-routes", h.hgwsh("show routes json"))
        assert_schema("show-peers", h.hgwsh("show peers json"))
        assert_schema("show-fib", h.hgwsh("show fib json"))
    r = h0.show_routes()
    assert r[h1.subnet]["encap"] == "direct" and r[h2.subnet]["encap"] == "vxlan"
    assert r[h0.subnet]["encap"] is None
    peers = h0.hgwsh("show peers json")["peers"]
    assert peers[h1.lan_ip]["encap"] == "direct" and peers[h2.lan_ip]["encap"] == "vxlan"
    # The table's Routes column and the detail line say the same (one RIB walk for all peers).
    rows = {ln.split()[0]: ln.split()[-1] for ln in h0.hgwsh_raw("show peers").stdout.splitlines()
            if ln.startswith("10.")}
    assert rows == {h1.lan_ip: "direct", h2.lan_ip: "vxlan"}, rows
    detail = h0.hgwsh_raw(f"show peers {h2.lan_ip} detail").stdout
    assert "Routes to it: vxlan; its VXLAN endpoint: MAC " + vtep_mac(h2) in detail, detail
    fib = h0.hgwsh("show fib json")
    assert fib["differences"] == 0
    assert fib["routes"][h1.subnet]["encap"] == "direct" and fib["routes"][h2.subnet]["encap"] == "vxlan"
    vx = fib["vxlan"]
    assert (vx["device"], vx["vni"], vx["port"], vx["mtu"], vx["local"], vx["mac"]) == \
        (VXLAN, 1, 4789, 1450, h0.lan_ip, vtep_mac(h0))
    assert vx["neighbors"] == [{"address": h2.lan_ip, "mac": vtep_mac(h2), "routes": 1}]
    assert vx["fdb"] == [{"mac": vtep_mac(h2), "dst": h2.lan_ip}]
    text = h0.hgwsh_raw("show fib").stdout
    assert f"neighbor {h2.lan_ip}" in text and f"dst {h2.lan_ip}" in text, text
    text = h2.hgwsh_raw("show routes").stdout
    assert "installed vxlan" in text, text

    # Stopping the far host for good (hgwsh -c shutdown) removes its route,
    # neighbour and FDB entries everywhere, and its own device.
    h2.leave()
    wait_until(lambda: not t.proto_route(h0, h2.subnet) and not t.proto_route(h1, h2.subnet) and
               entries_ok(t, h0) and entries_ok(t, h1), 5, msg="h2's route and entries gone")
    assert t.vxlan_neighbors(h0) == set() and t.vxlan_fdb(h0) == set()
    assert not t.has_device(h2)
    assert route_ok(t, h0, h1) and route_ok(t, h1, h0)


def test_moving_host_switches_mode(make_lab):
    """A host re-addressed onto the other LAN gets direct routes (and back: vxlan) without a stale entry.

    Its old address is gone, so nothing it sends on the old sessions arrives:
    the far ends notice at the hold time (0.3 s here), the host dials again
    from its new address and announces its new gateway. Within a second.
    Its node id is its LAN address (the default), so it is a new node id
    after the move; a node id kept across a move to another network is only
    accepted there with a certificate proving it, or once its binding to the
    old address is older than lease-hold (issue 10, PROTOCOL.md "Security").
    """
    lab = make_lab(3)
    t = TwoLans(lab, fixed_node_ids=False)
    h0, h1, h2 = lab.hosts
    start(t, timers=(0.1, 0.3))
    wait_until(lambda: converged(t), 10, msg="converged before the move")

    for side in ("A", "B"):
        t0 = time.monotonic()
        t.move(h2, side)
        wait_until(lambda: converged(t), 5, interval=0.02, msg=f"h2 moved to LAN {side}")
        took = time.monotonic() - t0
        print(f"h2 to LAN {side}: routes and entries switched in {took:.2f} s")
        assert took < 1.0, f"switching to LAN {side} took {took:.2f} s"
        mode = "direct" if side == "A" else "vxlan"
        assert h0.show_routes()[h2.subnet]["encap"] == mode
        assert h0.hgwsh("show fib json")["differences"] == 0
        for a in lab.hosts:
            for b in lab.hosts:
                if a is not b:
                    a.wait_container_ping(b.container_ip)


def test_without_encap_behaviour_is_today(make_lab):
    """encap none: no device, the gateway behind the router is refused as not on-link, the LAN pair as before."""
    lab = make_lab(3)
    t = TwoLans(lab)
    h0, h1, h2 = lab.hosts
    start(t, encap=None)
    lab.wait_established(timeout=10)
    wait_until(lambda: route_ok(t, h0, h1) and route_ok(t, h1, h0), 10, msg="the LAN pair's routes")
    wait_until(lambda: h0.show_routes().get(h2.subnet, {}).get("fib") == "not-installed", 5)
    r = h0.show_routes()[h2.subnet]
    assert r["reason"] == f"gateway {h2.lan_ip} is not on-link on eth0" and r["encap"] is None
    assert t.proto_route(h0, h1.subnet) == f"{h1.subnet} via {h1.lan_ip} dev eth0 metric 20"
    assert t.proto_route(h0, h2.subnet) == "" and t.proto_route(h2, h0.subnet) == ""
    for h in lab.hosts:
        assert not t.has_device(h)
    assert h0.hgwsh("show fib json")["vxlan"] is None
    assert not h0.container_ping(h2.container_ip)
    h0.wait_container_ping(h1.container_ip)


def test_mesh_network_admission(make_lab):
    """With encap vxlan, a host behind the router that no one configured is admitted only from a mesh-network."""
    lab = make_lab(3)
    t = TwoLans(lab)
    h0, h1, h2 = lab.hosts
    # h2 dials h0 only; h0 and h1 know nothing of h2. h0 admits LAN B (mesh-network),
    # h1 learns h2 as a member from h0 and dials it (mesh-network on both sides).
    h0.start(config=t.config(h0, neighbors=[h1]))
    h1.start(config=t.config(h1, neighbors=[h0]))
    h2.start(config=t.config(h2, neighbors=[h0]))
    wait_until(lambda: converged(t), 15, msg="h2 admitted and learned through the mesh networks")
    h1.wait_container_ping(h2.container_ip)
    # Without the mesh-network for LAN B, h1 refuses it: no session, no route.
    h1.stop()
    h1.start(config=t.config(h1, neighbors=[h0], mesh=("A",)))
    # The stop was a graceful restart: h1 adopts its earlier routes (h2's too) and keeps
    # them until its initial sync is over; judge after that.
    wait_until(lambda: route_ok(t, h1, h0) and route_ok(t, h0, h1) and
               h1.hgwsh("show summary json", parse_json=True)["initialSyncDone"], 10,
               msg="h1 back, its initial sync over")

    def refused():
        p = h1.peers().get(h2.lan_ip)
        return (p is None or p["state"] != "established") and t.proto_route(h1, h2.subnet) == ""
    stays_true(refused, 2.0, msg="h1 refusing h2 (LAN B is not a mesh-network of h1)")


def test_ipv6_underlay(make_lab):
    """An IPv6-only LAN: the device's local address is IPv6, its MTU the LAN's less 70; same modes.

    The hosts reach the other LAN through their default route: the kernel
    refuses an IPv6 onlink next hop that a more specific route covers.
    """
    lab = make_lab(3, ipv6=True, lan_ipv4=False)
    t = TwoLans(lab, default_route=True)
    h0, h1, h2 = lab.hosts
    start(t)
    wait_until(lambda: converged(t), 10, msg="direct and vxlan routes over IPv6")
    for a in lab.hosts:
        for b in lab.hosts:
            if a is not b:
                a.wait_container_ping(b.container_ip6)
    got = t.route_get(h0, h1.container_ip6)
    assert f"via {h1.lan_ip6} dev eth0" in got and VXLAN not in got, got
    got = t.route_get(h0, h2.container_ip6)
    assert f"via {h2.lan_ip6} dev {VXLAN}" in got, got
    link = h0.ip("-d", "link", "show", VXLAN).stdout
    assert "mtu 1430" in link and f"local {h0.lan_ip6} dev eth0" in link, link
    h2.leave()
    wait_until(lambda: t.proto_route(h0, h2.subnet6) == "" and entries_ok(t, h0) and entries_ok(t, h1), 5)
    assert t.vxlan_neighbors(h0) == set() and t.vxlan_fdb(h0) == set()


def test_stale_entries_swept(make_lab):
    """Neighbour and FDB entries on hgw.vxlan that no route holds are removed at the next resync."""
    lab = make_lab(3)
    t = TwoLans(lab)
    h0 = lab.hosts[0]
    start(t)
    wait_until(lambda: converged(t), 10, msg="converged")
    h0.ip("neigh", "add", "10.99.0.1", "lladdr", "02:68:01:02:03:04", "dev", VXLAN, "nud", "permanent")
    h0.run(["bridge", "fdb", "add", "02:68:01:02:03:04", "dev", VXLAN, "dst", "10.99.0.1"])
    assert ("10.99.0.1", "02:68:01:02:03:04") in t.vxlan_neighbors(h0)
    # A LAN link that goes down and up makes hgwd compare everything with the kernel again.
    h0.ip("link", "set", "eth0", "down")
    h0.ip("link", "set", "eth0", "up")
    t._underlay_route(h0, "A", add=True)   # went with the link
    wait_until(lambda: converged(t), 10, msg="the stray entries swept, ours kept")
    assert "removed stale neighbour entry 10.99.0.1" in h0.log_text()


def test_vxlan_kept_across_a_graceful_restart_removed_on_shutdown(make_lab):
    """SIGTERM (a restart): the device, its neighbour and FDB entries and the vxlan routes stay,
    on the restarting host and on the others, and the next hgwd adopts them; a shutdown
    removes them."""
    lab = make_lab(3)
    t = TwoLans(lab)
    h0, h1, h2 = lab.hosts
    start(t, extra="cluster-network 192.168.0.0/16\nno ip-masq")
    wait_until(lambda: converged(t), 10, msg="direct and vxlan routes with their entries")
    before = {h.name: (t.proto_route(h, h0.subnet), t.vxlan_neighbors(h), t.vxlan_fdb(h))
              for h in (h1, h2)}
    mine = (t.proto_route(h0, h2.subnet), t.vxlan_neighbors(h0), t.vxlan_fdb(h0))
    h0.stop()               # SIGTERM: a restart
    # While h0's daemon is down: everything still in place, on h0 and on the others.
    assert t.has_device(h0)
    assert (t.proto_route(h0, h2.subnet), t.vxlan_neighbors(h0), t.vxlan_fdb(h0)) == mine
    stays_true(lambda: all((t.proto_route(h, h0.subnet), t.vxlan_neighbors(h),
                            t.vxlan_fdb(h)) == before[h.name] for h in (h1, h2)), 1.0,
               msg="the others' routes and entries for h0 unchanged")
    h2.wait_container_ping(h0.container_ip)
    h0.start(config=t.config(h0))
    # The routes never left, so they say nothing about the restart: wait for the
    # sessions too (a shutdown before h2's session is back reaches h1 only, and
    # h2 keeps h0's routes as those of a restarting host).
    lab.wait_established(timeout=10)
    wait_until(lambda: converged(t), 10, msg="converged again after the restart")
    assert (t.proto_route(h0, h2.subnet), t.vxlan_neighbors(h0), t.vxlan_fdb(h0)) == mine
    # Leaving for good: the device and every entry go.
    h0.leave()
    wait_until(lambda: not t.has_device(h0) and t.proto_route(h0, h2.subnet) == "", 5,
               msg="h0's device and routes gone")
    wait_until(lambda: not t.proto_route(h2, h0.subnet) and entries_ok(t, h2), 5,
               msg="h0's route and entries gone from h2")
