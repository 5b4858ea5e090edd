"""Lab tests of hgwd's basic job: host-gw routes between hosts so containers reach each other (IPv4, IPv6, dual stack)."""

from hgwlab import route, wait_until


def test_two_hosts_flannel_picture(make_lab):
    """The flannel host-gw picture: two hosts, each gets the other's container subnet via the other's LAN IP."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    # Sanity: without hgwd the containers cannot reach each other.
    assert not h0.container_ping(h1.container_ip)
    assert not h1.container_ping(h0.container_ip)

    lab.start_all()
    lab.wait_converged()

    assert h0.route_set() == {route("192.168.11.0/24", "10.60.6.11")}
    assert h1.route_set() == {route("192.168.10.0/24", "10.60.6.10")}
    assert h0.ip("route", "show", "proto", "77").stdout.strip() == "192.168.11.0/24 via 10.60.6.11 dev eth0 metric 20"
    assert h1.ip("route", "show", "proto", "77").stdout.strip() == "192.168.10.0/24 via 10.60.6.10 dev eth0 metric 20"

    h0.wait_container_ping(h1.container_ip)
    h1.wait_container_ping(h0.container_ip)

    # show peers json
    for me, other in ((h0, h1), (h1, h0)):
        data = me.hgwsh("show peers json")
        assert data["nodeId"] == me.lan_ip
        assert list(data["peers"]) == [other.lan_ip]
        p = data["peers"][other.lan_ip]
        assert p["state"] == "established"
        assert p["address"] == other.lan_ip and p["port"] == 7179 and p["configured"] is True
        assert p["nodeId"] == other.lan_ip and p["hostname"] == other.name
        assert p["holdTimeMs"] == 1500
        assert p["eorReceived"] is True
        assert (p["prefixesReceived"], p["prefixesAccepted"], p["prefixesRefused"]) == (1, 1, 0)
        assert p["errors"] == 0 and p["lastError"] is None
        assert p["messagesIn"] >= 3 and p["messagesOut"] >= 3  # HELLO, UPDATE, END-OF-RIB at least
    # Both ends keep the same TCP connection: one outbound, the other inbound.
    d0, d1 = h0.peer(h1)["direction"], h1.peer(h0)["direction"]
    assert {d0, d1} == {"outbound", "inbound"}, (d0, d1)

    # show routes json: the learned route is installed, the own network is local.
    routes = h0.show_routes()
    assert set(routes) == {"192.168.10.0/24", "192.168.11.0/24"}
    r = routes["192.168.11.0/24"]
    assert r["prefix"] == "192.168.11.0/24" and r["family"] == "ipv4"
    assert r["installed"] is True and r["fib"] == "installed" and r["reason"] is None
    assert r["conflict"] is False and r["kernelGateway"] == "10.60.6.11"
    (path,) = r["paths"]
    assert path["origin"] == "10.60.6.11" and path["gateway"] == "10.60.6.11"
    assert path["peer"] == "10.60.6.11" and path["local"] is False and path["best"] is True
    assert isinstance(path["ageMs"], int) and path["ageMs"] >= 0
    own = routes["192.168.10.0/24"]
    assert own["fib"] == "local" and own["conflict"] is False
    assert [p["local"] for p in own["paths"]] == [True] and own["paths"][0]["best"] is True
    # The one-prefix form returns just that prefix.
    assert list(h0.show_routes("192.168.11.0/24")) == ["192.168.11.0/24"]


def test_five_hosts_full_mesh(make_lab):
    """Five hosts, each configured with the four others: four routes each, every container reaches every other."""
    lab = make_lab(5)
    lab.start_all()
    lab.wait_converged(timeout=15)
    for h in lab.hosts:
        exp = {route(o.subnet, o.lan_ip) for o in lab.hosts if o is not h}
        assert len(exp) == 4
        assert h.route_set() == exp, h.name
        assert all(p["state"] == "established" for p in h.peers().values())
    lab.wait_full_connectivity(timeout=10)


def test_ipv6_only_lan(make_lab):
    """IPv6 container subnets over an IPv6-only LAN: neighbors by IPv6 address, node ids from the config."""
    lab = make_lab(3, ipv6=True, lan_ipv4=False)
    h0, h1, h2 = lab.hosts
    assert not h0.container_ping(h1.container_ip6)
    lab.start_all()
    lab.wait_converged()
    for h in lab.hosts:
        exp = {route(o.subnet6, o.lan_ip6) for o in lab.hosts if o is not h}
        assert h.route_set() == exp, h.name
        assert h.route_set(family=4) == set()
    assert h0.ip("-6", "route", "show", "proto", "77", h1.subnet6).stdout.split()[:5] == \
        ["fd00:10:11::/64", "via", "fd00:60:6::11", "dev", "eth0"]
    data = h0.hgwsh("show peers json")
    assert data["nodeId"] == "10.0.0.1"
    assert {a: p["nodeId"] for a, p in data["peers"].items()} == {"fd00:60:6::11": "10.0.0.2",
                                                                 "fd00:60:6::12": "10.0.0.3"}
    r = h0.show_routes()["fd00:10:11::/64"]
    assert r["family"] == "ipv6" and r["fib"] == "installed" and r["kernelGateway"] == "fd00:60:6::11"
    assert r["paths"][0]["origin"] == "10.0.0.2"
    lab.wait_full_connectivity(family=6)


def test_dual_stack_over_ipv4_sessions(make_lab):
    """A host announcing an IPv4 and an IPv6 subnet over an IPv4 session: the IPv6 route uses the IPv6 gateway."""
    lab = make_lab(2, ipv6=True)
    h0, h1 = lab.hosts
    lab.start_all()  # neighbors by IPv4 address, networks: both container subnets
    assert "neighbor 10.60.6.11" in h0.config_text and "network fd00:10:10::/64" in h0.config_text
    lab.wait_converged()
    assert h0.route_set() == {route("192.168.11.0/24", "10.60.6.11"), route("fd00:10:11::/64", "fd00:60:6::11")}
    assert h1.route_set() == {route("192.168.10.0/24", "10.60.6.10"), route("fd00:10:10::/64", "fd00:60:6::10")}
    lab.wait_full_connectivity(family=4)
    lab.wait_full_connectivity(family=6)


def test_seed_neighbors_learn_the_mesh(make_lab):
    """h1 and h2 each configure only h0 (a seed): they learn each other from h0's
    member list, dial each other, and every host ends with the full route set."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1, h2])
    h1.start(neighbors=[h0])
    h2.start(neighbors=[h0])
    lab.wait_established()
    wait_until(lambda: sorted(h1.peers()) == sorted([h0.lan_ip, h2.lan_ip])
               and sorted(h2.peers()) == sorted([h0.lan_ip, h1.lan_ip]), 5,
               msg="h1 and h2 learn each other from the seed")
    full = {h: {route(o.subnet, o.lan_ip) for o in lab.hosts if o is not h} for h in lab.hosts}
    lab.wait_routes(expected=full)
