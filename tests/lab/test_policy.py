"""Lab tests of hgwd's route selection: gateways that are not on-link, and prefixes claimed by two nodes."""


from hgwlab import node_id_key, route, wait_until

CONFLICT = "192.168.50.0/24"


def test_gateway_not_on_link_is_not_installed(make_lab):
    """h1 advertises gateway 10.99.0.1 (not on h0's eth0 subnet, not the session's source):
    h0 refuses the route (a gateway must be an address h1 is proven to own: PROTOCOL.md,
    Security), shows why in show peers, and installs nothing."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    h0.start()
    h1.start(extra_config="address 10.99.0.1")
    lab.wait_established()

    def refused():
        p = h0.peer(h1)
        assert p["prefixesRefused"] >= 1, p
        return p
    p = wait_until(refused, 5, msg=f"h0 to refuse {h1.subnet}")
    assert "gateway 10.99.0.1 is not the peer's address" in (p["lastRefused"] or ""), p
    assert h0.show_route(h1.subnet) is None
    assert h0.route_set() == set()
    assert h0.ip("route", "show", "table", "all", h1.subnet).stdout.strip() == "", "nothing may be installed"
    assert not h0.container_ping(h1.container_ip)
    # The other direction is unaffected.
    wait_until(lambda: h1.route_set() == {route(h0.subnet, h0.lan_ip)}, 5, msg="h1's route to h0")
    assert h1.show_route(h0.subnet)["fib"] == "installed"
    # The refusal is stable (no retry loop installs it later).
    assert h0.peer(h1)["state"] == "established" and h0.route_set() == set()


def test_same_prefix_from_two_nodes(make_lab):
    """h1 and h2 both announce 192.168.50.0/24: h0 installs the path of the lower node id; everyone flags the conflict."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    lab.start_all(hosts=[h0])
    for h in (h1, h2):
        h.start(networks=[h.subnet, CONFLICT])
    lab.wait_established()
    low, high = sorted((h1, h2), key=lambda h: node_id_key(h.node_id))
    assert low is h1

    def h0_state():
        r = h0.show_route(CONFLICT)
        assert r and r["conflict"] is True and r["fib"] == "installed", r
        assert len(r["paths"]) == 2, r
        return r
    r = wait_until(h0_state, 5, msg="h0 to see the conflict")
    best = [p for p in r["paths"] if p["best"]]
    assert [p["origin"] for p in best] == [low.node_id]
    assert best[0]["gateway"] == low.lan_ip and r["kernelGateway"] == low.lan_ip
    assert sorted(p["origin"] for p in r["paths"]) == sorted([h1.node_id, h2.node_id])
    exp0 = {route(h1.subnet, h1.lan_ip), route(h2.subnet, h2.lan_ip), route(CONFLICT, low.lan_ip)}
    wait_until(lambda: lab.check_routes({h0: exp0}), 5, msg="h0's routes")

    for claimant in (h1, h2):
        def claimant_state(c=claimant):
            r = c.show_route(CONFLICT)
            assert r and r["conflict"] is True and r["fib"] == "local", r
            return r
        r = wait_until(claimant_state, 5, msg=f"{claimant.name} to flag the conflict")
        own = [p for p in r["paths"] if p["best"]]
        assert len(own) == 1 and own[0]["local"] is True, r
        assert all(rt.dst != CONFLICT for rt in claimant.route_set()), \
            f"{claimant.name} must not install a route for its own network"
    lab.wait_routes(expected={h0: exp0,
                              h1: {route(h0.subnet, h0.lan_ip), route(h2.subnet, h2.lan_ip)},
                              h2: {route(h0.subnet, h0.lan_ip), route(h1.subnet, h1.lan_ip)}})

    # The lower claimant leaves: h0 fails over to the other one, and the conflict is over.
    assert low.leave() == 0

    def failed_over():
        r = h0.show_route(CONFLICT)
        assert r and r["fib"] == "installed" and r["kernelGateway"] == high.lan_ip and r["conflict"] is False, r
        return True
    wait_until(failed_over, 3, msg="h0 to fail over to the other claimant")
    wait_until(lambda: route(CONFLICT, high.lan_ip) in h0.route_set(), 3, msg="kernel failover on h0")
    wait_until(lambda: high.show_route(CONFLICT)["conflict"] is False, 3, msg=f"{high.name} conflict to clear")
