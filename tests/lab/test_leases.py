"""Lab tests of subnet leases without a store (issue 6): hosts claim their container subnet
out of a ``cluster-network``, the mesh settles conflicts (older claim wins, then lower node
id), departed hosts' leases stay reserved for ``lease-hold``, restarted hosts get their subnet
back, and flannel's ``subnet.env`` is written for the CNI plugin.

Every host here runs with ``networks=[]`` (no hand-written subnet) and
``Host.lease_config()``, which points ``lease-file`` and ``subnet-env`` into
the test's temporary directory. Containers are moved into the leased subnet
with ``Host.use_subnet()`` (cbr0 gets the first address, the container the
second), as the flannel CNI plugin would do with FLANNEL_SUBNET.
"""

import ipaddress
import os
import signal
import stat
import time

import pytest

from hgwlab import netns_exec, route, stays_true, time_until, times_until_each, wait_until

FAST = (0.2, 0.6)           # keepalive, hold: these tests do not measure session timers
CLUSTER = "10.244.0.0/16"
WANTED = "10.244.7.0/24"    # the subnet two hosts are made to prefer (by their state files)


def start_leasing(hosts, seed=None, timers=FAST, wait=True, **lease_kw):
    """Start hgwd on ``hosts`` at once: only a cluster network, ``seed`` as the only neighbor.

    The seed itself (and every host when ``seed`` is None) has no neighbor at
    all. ``lease_kw`` go to Host.lease_config() (cluster, hold, ipmasq, ...).
    """
    for h in hosts:
        neighbors = [] if seed is None or h is seed else [seed]
        h.start(wait=False, neighbors=neighbors, networks=[], timers=timers,
                extra_config=h.lease_config(**lease_kw))
    if wait:
        for h in hosts:
            h.wait_ready()


def now_ms() -> int:
    return int(time.time() * 1000)


def first_addr(prefix: str) -> str:
    """flannel's FLANNEL_SUBNET form of a lease: its first address with the prefix length."""
    n = ipaddress.ip_network(prefix)
    return f"{n.network_address + 1}/{n.prefixlen}"


def events(h) -> list[str]:
    return h.leases()["events"]


def owners(h) -> dict:
    """{subnet: owner node id} of h's show leases."""
    return {s: e["owner"] for s, e in h.lease_table().items()}


def use_leases(hosts, leases, families=(4,)) -> None:
    """Move each host's container into its lease(s) (leases as returned by wait_lease_mesh)."""
    for h in hosts:
        h.use_subnet(leases[h].get(4) if 4 in families else None,
                     leases[h].get(6) if 6 in families else None)


def reserved_on(hosts, subnet, owner, hold_s, routed=False):
    """Predicate: ``subnet`` is a reservation of ``owner`` on every host (no route for it
    either; with ``routed``, its route kept: the owner restarts gracefully)."""
    def check():
        for h in hosts:
            e = h.lease_table().get(subnet)
            assert e is not None, f"{h.name} does not list {subnet}"
            assert e["owner"] == owner.node_id and e["state"] == "reserved", f"{h.name}: {e}"
            assert 0 < e["expiresInMs"] <= hold_s * 1000, f"{h.name}: {e}"
            if routed:
                assert route(subnet, owner.lan_ip) in h.route_set(), f"{h.name} dropped {subnet}"
            else:
                assert all(r.dst != subnet for r in h.route_set()), f"{h.name} still routes {subnet}"
        return True
    return check


def lan_ping(h, dst) -> bool:
    return h.run(["ping", "-n", "-q", "-c", "1", "-W", "1", dst], check=False).returncode == 0


@pytest.mark.no_daemon
def test_lab_partition_heal_and_use_subnet(make_lab):
    """The lab helpers these tests rely on, without hgwd: partition() cuts the LAN
    between groups only, heal() joins it again; use_subnet() moves cbr0 and the
    container into a lease (first and second address, default route via cbr0)."""
    lab = make_lab(3, ipv6=True)
    h0, h1, h2 = lab.hosts
    lab.partition([h0], [h1, h2])
    wait_until(lambda: lan_ping(h1, h2.lan_ip), 5, msg="h1 and h2 on their own bridge")
    assert not lan_ping(h0, h1.lan_ip) and not lan_ping(h2, h0.lan_ip)
    lab.partition([h0, h1], [h2])  # regrouping works too
    wait_until(lambda: lan_ping(h0, h1.lan_ip), 5, msg="h1 back with h0")
    assert not lan_ping(h1, h2.lan_ip)
    lab.heal()
    wait_until(lambda: lan_ping(h0, h2.lan_ip) and lan_ping(h2, h1.lan_ip), 5, msg="the healed LAN")

    h0.use_subnet("10.244.9.0/24", "fd00:244:0:9::/64")
    assert (h0.subnet, h0.gw_ip, h0.container_ip) == ("10.244.9.0/24", "10.244.9.1", "10.244.9.2")
    assert (h0.subnet6, h0.gw_ip6, h0.container_ip6) == ("fd00:244:0:9::/64", "fd00:244:0:9::1",
                                                          "fd00:244:0:9::2")
    addrs = h0.ip("-o", "addr", "show", "dev", "cbr0", "scope", "global").stdout
    assert "10.244.9.1/24" in addrs and "fd00:244:0:9::1/64" in addrs and "192.168." not in addrs
    routes = run_in(h0.cns, ["ip", "route", "show", "default"])
    assert routes.split()[:3] == ["default", "via", "10.244.9.1"], routes
    h0.wait_container_ping(h0.gw_ip)
    h0.wait_container_ping(h0.gw_ip6)
    assert not h0.container_ping(h1.container_ip), "no route to h1's container without hgwd"


def run_in(ns, argv) -> str:
    return netns_exec(ns, argv).stdout


# --------------------------------------------------------------------------
# 1. ten hosts, one seed
# --------------------------------------------------------------------------

@pytest.mark.timeout_s(90)
def test_ten_hosts_one_seed_lease_distinct_subnets_and_mesh(make_lab):
    """10 hosts, each configured with only the seed h0 (which has no neighbor) and a
    cluster network: 10 distinct /24 leases, a full mesh (9 sessions and 9 routes
    ``<lease> via <owner's LAN IP>`` on each host), every host learned every other from
    the seed, and every container pings every other one in its leased subnet."""
    lab = make_lab(10)
    seed = lab.hosts[0]
    start_leasing(lab.hosts, seed=seed)
    leases = lab.wait_lease_mesh(timeout=30)

    cluster = ipaddress.ip_network(CLUSTER)
    for h in lab.hosts:
        net = ipaddress.ip_network(leases[h][4])
        assert net.prefixlen == 24 and net.subnet_of(cluster), f"{h.name}: {net}"
        assert len(h.route_set()) == 9
        assert h.subnet_env()["FLANNEL_SUBNET"] == first_addr(leases[h][4])
        assert h.lease_state() and h.lease_state()[0][0] == leases[h][4]
    # Every host's lease table is the same: the 10 leases with their owners.
    tables = {h.name: owners(h) for h in lab.hosts}
    expected = {leases[h][4]: h.node_id for h in lab.hosts}
    assert all(t == expected for t in tables.values()), tables

    # Membership: the seed is the only configured member; the rest were learned.
    for h in lab.hosts:
        ms = h.members()
        assert len(ms) == 10, f"{h.name}: {sorted(ms)}"
        assert ms[h.lan_ip]["state"] == "self"
        for o in lab.hosts:
            if o is h:
                continue
            m = ms[o.lan_ip]
            assert m["state"] == "alive" and m["nodeId"] == o.node_id, f"{h.name}: {m}"
            if o is seed:
                assert m["source"] == "config", f"{h.name}: {m}"
            else:
                assert m["source"] == "dialled us" or m["source"].startswith("from peer "), \
                    f"{h.name}: {m}"
                assert m["giveUpInMs"] is None
    non_seed = [h for h in lab.hosts if h is not seed]
    learned = sum(1 for h in non_seed for o in non_seed if o is not h
                  and h.members()[o.lan_ip]["source"].startswith("from peer "))
    assert learned >= 36, f"only {learned} of 72 non-seed member entries were learned from a peer"

    use_leases(lab.hosts, leases)
    lab.wait_full_connectivity(timeout=15)


# --------------------------------------------------------------------------
# 2. two hosts claiming the same subnet at the same instant
# --------------------------------------------------------------------------

@pytest.mark.parametrize("times", ["equal-times", "older-on-higher-id"])
def test_simultaneous_claims_of_one_subnet(make_lab, times):
    """h1 and h2 start at the same instant, both reclaiming WANTED from their state
    files. Equal claim times: the lower node id (h1) wins; otherwise the older claim
    wins even on the higher node id (h2). The loser releases WANTED and claims another
    subnet; every host (the observer h0 too) shows the same winner; the events say so."""
    lab = make_lab(3)
    obs, a, b = lab.hosts
    start_leasing([obs])
    obs.wait_lease()
    t = now_ms() - 60_000
    ta, tb = (t, t) if times == "equal-times" else (t, t - 5_000)
    winner, loser = (a, b) if times == "equal-times" else (b, a)
    a.write_lease_state((WANTED, ta))
    b.write_lease_state((WANTED, tb))
    start_leasing([a, b], seed=obs)

    leases = lab.wait_lease_mesh(timeout=15)
    assert leases[winner][4] == WANTED
    assert leases[loser][4] != WANTED
    for h in lab.hosts:
        e = h.lease_table()[WANTED]
        assert e["owner"] == winner.node_id, f"{h.name} names another winner: {e}"
        assert e["claimedAtMs"] == (ta if winner is a else tb), f"{h.name}: {e}"

    ev = events(loser)
    assert ev[0] == f"claimed {WANTED} (from the state file)", ev
    assert any(x.startswith(f"conflict over {WANTED}: ") and loser.node_id in x
               and x.endswith(f"; {winner.node_id} keeps it") for x in ev), ev
    assert f"released {WANTED}: lost a conflict; choosing another subnet" in ev, ev
    assert any(x.startswith(f"claimed {leases[loser][4]} (") for x in ev), ev
    assert f"lease: released {WANTED}: lost a conflict" in loser.log_text()
    # The observer saw both claims.
    assert any(x.startswith(f"conflict over {WANTED}: ") and x.endswith(f"; {winner.node_id} keeps it")
               for x in events(obs)), events(obs)
    # The loser's files follow its new lease; the winner's keep WANTED with its claim time.
    assert winner.lease_state() == [(WANTED, ta if winner is a else tb)]
    assert [s for s, _ in loser.lease_state()] == [leases[loser][4]]
    assert loser.subnet_env()["FLANNEL_SUBNET"] == first_addr(leases[loser][4])
    # No route conflict left: WANTED only via the winner.
    r = obs.show_route(WANTED)
    assert r["conflict"] is False and [p["origin"] for p in r["paths"]] == [winner.node_id], r
    use_leases(lab.hosts, leases)
    lab.wait_full_connectivity()


# --------------------------------------------------------------------------
# 3. restarts and reservations
# --------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_restarted_host_gets_its_subnet_back(make_lab, sig):
    """h2 stops (SIGTERM or kill -9): the others keep its lease "reserved", and its
    route while it restarts (graceful restart: its host answers).
    Restarted, it reclaims the same subnet with the same claim time from its state
    file; restarted again without the state file, a peer that remembers the lease
    gives it back."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    start_leasing(lab.hosts, seed=h0, hold="1h")
    leases = lab.wait_lease_mesh()
    mine = leases[h2][4]
    claimed = h2.lease_table()[mine]["claimedAtMs"]
    assert h2.lease_state() == [(mine, claimed)]

    for round_ in ("state file", "no state file"):
        h2.stop(sig)
        wait_until(reserved_on([h0, h1], mine, h2, 3600, routed=True), 5,
                   msg=f"{mine} reserved for h2 on h0 and h1")
        if round_ == "no state file":
            h2.lease_file.unlink()
            h2.subnet_env_file.unlink()
        h2.start(h2.config_text)
        again = lab.wait_lease_mesh()
        assert again == leases, f"after a restart ({round_}): {again} != {leases}"
        for h in lab.hosts:
            assert h.lease_table()[mine]["claimedAtMs"] == claimed, f"{h.name} ({round_})"
        how = "from the state file" if round_ == "state file" else "remembered by a peer"
        assert events(h2)[0] == f"claimed {mine} ({how})", events(h2)
        assert h2.lease_state() == [(mine, claimed)]
        assert h2.subnet_env()["FLANNEL_SUBNET"] == first_addr(mine)
    use_leases(lab.hosts, leases)
    lab.wait_full_connectivity()


def test_reservation_kept_while_down_told_to_joiners_then_expires(make_lab):
    """lease-hold 5 s. h2 leaves (shutdown): h0 and h1 keep its lease reserved, and so
    do two hosts joining while it is down: h4 (a fresh host) is told the reservation
    and takes another subnet; h3, whose state file names h2's subnet with a newer
    claim time, loses that claim to the reservation and takes another one too. Once
    lease-hold is over (counted from when h2 was last seen, on every host, the
    joiners too) the reservation is gone everywhere at about the same moment."""
    hold = 5
    lab = make_lab(5)
    h0, h1, h2, h3, h4 = lab.hosts
    start_leasing([h0, h1, h2], seed=h0, hold=hold)
    leases = lab.wait_lease_mesh()
    s2 = leases[h2][4]

    t_down = time.monotonic()
    assert h2.leave() == 0
    wait_until(reserved_on([h0, h1], s2, h2, hold), 2, msg=f"{s2} reserved on h0 and h1")

    h3.write_lease_state((s2, now_ms()))
    start_leasing([h3, h4], seed=h0, hold=hold)
    t_join = time.monotonic()
    joined = lab.wait_lease_mesh([h0, h1, h3, h4])
    assert time.monotonic() - t_down < hold, "the joins must happen inside lease-hold"
    assert s2 not in (joined[h3][4], joined[h4][4])
    assert f"released {s2}: lost a conflict; choosing another subnet" in events(h3), events(h3)
    assert s2 in owners(h4) and h4.lease_table()[s2]["state"] == "reserved", h4.lease_table()
    assert owners(h4)[s2] == h2.node_id

    # Expiry on the hosts that saw h2 go, and on the fresh joiner.
    def gone(h):
        return lambda: s2 not in h.lease_table()
    # LEASE entries carry how long the owner has been unseen, so the fresh joiner
    # expires the reservation at the same moment as the hosts that saw h2 go.
    limit = hold + 1.5
    times = times_until_each({h.name: gone(h) for h in (h0, h1, h4)}, limit + 5,
                             start=t_down, msg=f"{s2} to leave the tables")
    assert all(hold - 0.5 <= t <= limit for t in times.values()), times
    assert any(e.startswith(f"reservation of {s2} for node {h2.node_id} expired after {hold} s")
               for e in events(h0)), events(h0)
    # The conflict loser h3 learned the reservation from h0 while h2 was down: it must
    # hold it as a reservation, and let it expire like everybody else.
    e3 = h3.lease_table().get(s2)
    assert e3 is None or e3["state"] == "reserved", \
        f"h3 holds h2's reservation as {e3} (h3 never had a session with h2)"
    time_until(gone(h3), limit + 5, start=t_join, msg=f"{s2} to leave h3's table")


def test_lease_of_a_host_gone_before_a_joiner_met_it_becomes_a_reservation(make_lab):
    """h1 freezes (SIGSTOP) and h2 joins right then through the seed h0, which still holds
    its session with h1 (hold 5 s here): h2 is told h1's lease is live (h0 vouches for it), and
    dials h1 but never gets a session with it. A lease whose owner we hold no session
    with is a reservation, its clock started when it was last vouched for: h2 shows it
    so from the start, and it never turns into an "active" entry that would not expire.
    When h0's hold timer ends its session with h1, h1's lease becomes a reservation on
    h0 too."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    slow = (1.0, 5.0)
    start_leasing([h0, h1], seed=h0, timers=slow, hold="1h")
    leases = lab.wait_lease_mesh([h0, h1])
    s1 = leases[h1][4]
    h1.daemon.signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        start_leasing([h2], seed=h0, timers=slow, hold="1h")
        h2.wait_lease()
        # h0 holds a session with h1: active there. h2 has none with h1: it only
        # heard h0 vouch for it, so it shows a reservation whose clock started then.
        assert h0.lease_table()[s1]["state"] == "active", "setup: h2 must join while h0 still vouches for h1"
        e2 = h2.lease_table()[s1]
        assert e2["state"] == "reserved" and e2["expiresInMs"] > 3500 * 1000, e2
        assert time.monotonic() - t0 < slow[1] - 1
        wait_until(reserved_on([h0], s1, h1, 3600), slow[1] + 2, msg=f"{s1} reserved on h0")
        assert not h2.established_with(h1)
        wait_until(reserved_on([h2], s1, h1, 3600), 5,
                   msg=f"{s1} to be a reservation on h2 as well (h2 never had a session with h1)")
    finally:
        h1.daemon.signal(signal.SIGCONT)


# --------------------------------------------------------------------------
# 4. the seed dies
# --------------------------------------------------------------------------

def test_seed_dies_mesh_survives_and_new_host_joins_via_another_seed(make_lab):
    """h1..h3 know only the seed h0. h0's host dies (its hgwd killed with kill -9, its
    LAN link cut: no sign of life, so no graceful restart): h1..h3 keep their sessions
    (no flap) and routes to each other, keep dialling the seed, and keep its lease
    reserved. h4, configured with the surviving h2 as its seed, learns h1 and h3 from
    it, joins the mesh with a lease of its own (not h0's), and its container reaches
    every other."""
    lab = make_lab(5)
    h0, h1, h2, h3, h4 = lab.hosts
    survivors = [h1, h2, h3]
    start_leasing([h0] + survivors, seed=h0, hold="1h")
    leases = lab.wait_lease_mesh([h0] + survivors)
    s0 = leases[h0][4]
    survivor_routes = {h: {route(leases[o][4], o.lan_ip) for o in survivors if o is not h}
                       for h in survivors}

    t_kill = time.monotonic()
    h0.kill()
    lab.partition(survivors + [h4], [h0])

    lost = []

    def seed_gone():
        gone = True
        for h in survivors:
            got = h.route_set()
            if survivor_routes[h] - got:
                lost.append(f"{h.name} lacked {sorted(survivor_routes[h] - got)} "
                            f"{time.monotonic() - t_kill:.2f} s after the kill")
            gone = gone and all(r.dst != s0 for r in got)
        return gone
    wait_until(seed_gone, 5, interval=0.05, msg=f"the dead seed's {s0} to be withdrawn")
    assert not lost, "routes between survivors went missing when the seed died: " + "; ".join(lost)
    elapsed_ms = (time.monotonic() - t_kill) * 1000
    for h in survivors:
        for o in survivors:
            if o is h:
                continue
            p = h.peer(o)
            assert p["state"] == "established", f"{h.name} -> {o.name}: {p['state']}"
            assert p["uptimeMs"] >= elapsed_ms, f"{h.name} -> {o.name} flapped when the seed died"
        m = h.members()[h0.lan_ip]
        assert m["state"] == "dialling (seed)" and m["source"] == "config", m
        e = h.lease_table()[s0]
        assert e["owner"] == h0.node_id and e["state"] == "reserved", e
    lab.check_lease_mesh(survivors)

    start_leasing([h4], seed=h2, hold="1h")
    joined = lab.wait_lease_mesh(survivors + [h4])
    assert joined[h4][4] != s0
    assert h4.lease_table()[s0]["state"] == "reserved"
    ms = h4.members()
    assert ms[h2.lan_ip]["source"] == "config"
    for o in (h1, h3):
        assert ms[o.lan_ip]["state"] == "alive", ms[o.lan_ip]
    assert h0.lan_ip not in ms, "h4 never heard of the dead seed as a live member"
    use_leases(survivors + [h4], joined)
    lab.wait_full_connectivity(hosts=survivors + [h4])


# --------------------------------------------------------------------------
# 5. split and heal
# --------------------------------------------------------------------------

@pytest.mark.timeout_s(60)
def test_split_and_heal_resolves_duplicate_claims(make_lab):
    """A LAN split into two halves and healed, with a duplicate claim made during the split.

    What happens (this is what the test checks, step by step):

    1. Before the split h0..h3 form one mesh (h1..h3 know only the seed h0), each with
       its own lease.
    2. The LAN is split in two: A = {h0, h1} and B = {h2, h3} (the LAN ports of B are
       moved to a second bridge: no frame crosses). Within the hold time (0.6 s here)
       every session across the split ends. Each half withdraws the routes to the
       other half's subnets, but keeps the other half's leases as reservations
       ("reserved"): nobody in either half takes them. Sessions inside each half are
       untouched, and each half keeps dialling the other (back-off, up to 10 s
       between attempts; learned members are given up only after
       timers giveup (30 s by default, at least 3 x hold), configured seeds never).
    3. During the split a new host joins each half: h4 in A (seed h0) and h5 in B
       (seed h2). Both want WANTED (their state files say so): h5's claim is 5 s
       older than h4's, though h5 has the higher node id. Neither half knows the
       other's claim, so both claims stand: in A, WANTED is routed to h4, in B to h5.
       Such duplicate claims of a subnet that is free in both halves are what a
       split can produce (without state files, the same happens when joiners in
       the two halves pick the same free subnet); a subnet leased or reserved
       before the split is not handed out again while the split lasts less than
       lease-hold. The newcomers are told the other half's reservations too.
    4. The LAN is healed. The dialling hosts reconnect (within about one back-off
       step; about a second here), exchange their member lists (so h4 and h5 learn
       the other half's hosts and are dialled) and their whole lease tables. A host
       that holds one claim of WANTED and receives the other compares them by the
       same rule everywhere: the older claim wins, a tie goes to the lower node id
       ("conflict over WANTED: ...; <winner> keeps it" in its events). So h5 keeps
       WANTED; h4, as soon as it hears h5's claim, releases WANTED ("released
       WANTED: lost a conflict; choosing another subnet"), withdraws its route,
       sends a RELEASE, claims a free subnet (neither leased nor reserved),
       rewrites its state file and subnet.env, and announces the new lease. Hosts
       that get h4's RELEASE before h5's claim simply drop h4's claim. Until h4's
       withdrawal arrives, a host may see WANTED announced by both and log a route
       conflict for a moment.
    5. The end state: one full mesh of 6 hosts, 6 distinct leases, every lease
       table identical (WANTED owned by h5 with h5's claim time), every route
       ``<lease> via <owner>`` exact, and every container reaches every other.

    Not tested here (from reading the code): a split longer than lease-hold lets
    each half free the other's reservations, so a host joining then may take one;
    on heal the original owner's older claim wins and the newcomer moves. A split
    longer than timers giveup (30 s by default, at least 3 x hold) makes the halves give up dialling each other's
    learned members: they meet again only through configured seeds (here h2 and h3
    keep dialling their seed h0), whose member lists then bring back the rest.
    """
    lab = make_lab(6)
    h0, h1, h2, h3, h4, h5 = lab.hosts
    start_leasing([h0, h1, h2, h3], seed=h0, hold="1h")
    before = lab.wait_lease_mesh([h0, h1, h2, h3])

    half_a, half_b = [h0, h1, h4], [h2, h3, h5]
    t_split = time.monotonic()
    lab.partition(half_a, half_b)

    def split_seen():
        for h, others in ((h0, [h2, h3]), (h1, [h2, h3]), (h2, [h0, h1]), (h3, [h0, h1])):
            peers = h.peers()
            if any(peers.get(o.lan_ip, {}).get("state") == "established" for o in others):
                return False
            for o in others:
                e = h.lease_table()[before[o][4]]
                assert e["state"] == "reserved", f"{h.name}: {e}"
        return True
    wait_until(split_seen, 5, msg="the split to end every session across it")
    # Inside each half nothing moved; across it, each side keeps dialling the other.
    for h, mates, others in ((h0, [h1], [h2, h3]), (h1, [h0], [h2, h3]),
                             (h2, [h3], [h0, h1]), (h3, [h2], [h0, h1])):
        for o in mates:
            p = h.peer(o)
            assert p["state"] == "established" and \
                p["uptimeMs"] >= (time.monotonic() - t_split) * 1000, f"{h.name} -> {o.name}: {p}"
        ms = h.members()
        for o in others:
            assert ms[o.lan_ip]["state"] in ("dialling", "dialling (seed)"), f"{h.name}: {ms[o.lan_ip]}"

    t = now_ms()
    t4, t5 = t, t - 5_000
    h4.write_lease_state((WANTED, t4))
    h5.write_lease_state((WANTED, t5))
    start_leasing([h4], seed=h0, hold="1h")
    start_leasing([h5], seed=h2, hold="1h")
    in_a = lab.wait_lease_mesh([h0, h1, h4])
    in_b = lab.wait_lease_mesh([h2, h3, h5])
    assert in_a[h4][4] == WANTED and in_b[h5][4] == WANTED, "both halves accept the duplicate"
    assert route(WANTED, h4.lan_ip) in h0.route_set() and route(WANTED, h5.lan_ip) in h2.route_set()
    assert h4.lan_ip not in h2.members() and h5.lan_ip not in h0.members()
    # Reservations of the other half are still kept, and not taken by the newcomers.
    for h, others in ((h4, [h2, h3]), (h5, [h0, h1])):
        for o in others:
            e = h.lease_table()[before[o][4]]
            assert e["owner"] == o.node_id and e["state"] == "reserved", f"{h.name}: {e}"

    t_heal = time.monotonic()
    lab.heal()
    after = lab.wait_lease_mesh(timeout=25)
    heal_s = time.monotonic() - t_heal
    assert after[h5][4] == WANTED and after[h4][4] != WANTED
    for h in (h0, h1, h2, h3):
        assert after[h] == before[h], f"{h.name}'s lease changed across the split"
    for h in lab.hosts:
        e = h.lease_table()[WANTED]
        assert e["owner"] == h5.node_id and e["claimedAtMs"] == t5, f"{h.name}: {e}"
    ev4 = events(h4)
    assert any(x.startswith(f"conflict over {WANTED}: ") and h4.node_id in x
               and x.endswith(f"; {h5.node_id} keeps it") for x in ev4), ev4
    assert f"released {WANTED}: lost a conflict; choosing another subnet" in ev4, ev4
    assert [s for s, _ in h4.lease_state()] == [after[h4][4]]
    assert h4.subnet_env()["FLANNEL_SUBNET"] == first_addr(after[h4][4])
    assert not h5.leases()["families"]["ipv4"]["error"]
    for h in lab.hosts:
        r = h.show_route(WANTED)
        assert r["conflict"] is False and {p["origin"] for p in r["paths"]} == {h5.node_id}, r
    print(f"healed in {heal_s:.1f} s")
    use_leases(lab.hosts, after)
    lab.wait_full_connectivity(timeout=10)


# --------------------------------------------------------------------------
# 6. flannel's subnet.env
# --------------------------------------------------------------------------

def check_subnet_env_file(h, expected: list) -> None:
    """h's subnet.env is exactly ``expected`` [(KEY, value), ...] in flannel's order, written atomically."""
    text = h.subnet_env_file.read_text()
    assert text.endswith("\n") and "\n\n" not in text and "\r" not in text, repr(text)
    assert list(h.subnet_env().items()) == expected, text
    mode = stat.S_IMODE(os.stat(h.subnet_env_file).st_mode)
    assert mode & 0o444 == 0o444, f"subnet.env mode {oct(mode)}: the CNI plugin must read it"
    leftovers = [p.name for p in h.subnet_env_file.parent.iterdir()
                 if p.name.startswith(h.subnet_env_file.name) and p != h.subnet_env_file]
    assert leftovers == [], f"temporary files left next to subnet.env: {leftovers}"


def test_subnet_env_ipv4_matches_flannel(make_lab):
    """subnet.env field by field, in flanneld's order: FLANNEL_NETWORK=<cluster>,
    FLANNEL_SUBNET=<first address of the lease>/24, FLANNEL_MTU=<eth0's MTU> (1450 set on
    h0's eth0, 1500 on h1), FLANNEL_IPMASQ=true with ``ipmasq`` (also the default with a
    cluster-network), false with ``no ip-masq``; a reload with ``no ip-masq`` rewrites it."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    h0.ip("link", "set", "eth0", "mtu", "1450")
    h0.start(neighbors=[], networks=[], timers=FAST,
             extra_config=h0.lease_config(ipmasq=True))
    h1.start(neighbors=[h0], networks=[], timers=FAST, extra_config=h1.lease_config() + "no ip-masq\n")
    leases = lab.wait_lease_mesh()
    check_subnet_env_file(h0, [("FLANNEL_NETWORK", CLUSTER),
                               ("FLANNEL_SUBNET", first_addr(leases[h0][4])),
                               ("FLANNEL_MTU", "1450"),
                               ("FLANNEL_IPMASQ", "true")])
    check_subnet_env_file(h1, [("FLANNEL_NETWORK", CLUSTER),
                               ("FLANNEL_SUBNET", first_addr(leases[h1][4])),
                               ("FLANNEL_MTU", "1500"),
                               ("FLANNEL_IPMASQ", "false")])
    # The values parse the way the flannel CNI plugin parses them.
    env = h0.subnet_env()
    sn = ipaddress.ip_interface(env["FLANNEL_SUBNET"])
    assert str(sn.network) == leases[h0][4] and sn.ip == sn.network.network_address + 1
    assert sn.network.subnet_of(ipaddress.ip_network(env["FLANNEL_NETWORK"]))
    assert int(env["FLANNEL_MTU"]) == 1450 and env["FLANNEL_IPMASQ"] in ("true", "false")

    h0.reload(h0.config_text.replace(" ipmasq\n", " no ip-masq\n"))
    wait_until(lambda: h0.subnet_env()["FLANNEL_IPMASQ"] == "false", 5,
               msg="the reload with no ip-masq to rewrite subnet.env")
    check_subnet_env_file(h0, [("FLANNEL_NETWORK", CLUSTER),
                               ("FLANNEL_SUBNET", first_addr(leases[h0][4])),
                               ("FLANNEL_MTU", "1450"),
                               ("FLANNEL_IPMASQ", "false")])
    assert lab.check_lease_mesh() == leases, "a reload must not move the lease"


def test_subnet_env_dual_stack_matches_flannel(make_lab):
    """Dual stack: an IPv4 and an IPv6 cluster network (fd00:244::/48, /64 per node):
    both leases, IPv6 routes via the owner's IPv6 LAN address, subnet.env with
    FLANNEL_IPV6_NETWORK / FLANNEL_IPV6_SUBNET after the IPv4 pair, and containers
    reach each other over both families."""
    cluster6 = "fd00:244::/48"
    lab = make_lab(2, ipv6=True)
    h0, h1 = lab.hosts
    start_leasing(lab.hosts, seed=h0, cluster6=cluster6, subnet_length6=64)
    leases = lab.wait_lease_mesh(families=(4, 6))
    for h in lab.hosts:
        l6 = ipaddress.ip_network(leases[h][6])
        assert l6.prefixlen == 64 and l6.subnet_of(ipaddress.ip_network(cluster6)), l6
        check_subnet_env_file(h, [("FLANNEL_NETWORK", CLUSTER),
                                  ("FLANNEL_SUBNET", first_addr(leases[h][4])),
                                  ("FLANNEL_IPV6_NETWORK", cluster6),
                                  ("FLANNEL_IPV6_SUBNET", first_addr(leases[h][6])),
                                  ("FLANNEL_MTU", "1500"),
                                  ("FLANNEL_IPMASQ", "true")])  # ip-masq: the default
        assert sorted(s for s, _ in h.lease_state()) == sorted([leases[h][4], leases[h][6]])
    assert h0.route_set(family=6) == {route(leases[h1][6], h1.lan_ip6)}
    assert h1.route_set(family=6) == {route(leases[h0][6], h0.lan_ip6)}
    use_leases(lab.hosts, leases, families=(4, 6))
    lab.wait_full_connectivity(family=4)
    lab.wait_full_connectivity(family=6)


# --------------------------------------------------------------------------
# 8. no free subnet
# --------------------------------------------------------------------------

SMALL = "10.244.0.0/23"     # room for two /24 leases


def test_no_free_subnet_clear_error_no_claim(make_lab):
    """10.244.0.0/23 with subnet-length 24 and three hosts: the third gets no lease.
    ``show leases`` families.ipv4.error and the log say so, it claims nothing (no state
    file line, no subnet.env, no route for it anywhere) and still routes to the others.
    A fourth host whose state file names a taken subnet (newer claim) loses it and is
    left without a lease: its subnet.env must not keep naming the lost subnet."""
    lab = make_lab(4)
    h0, h1, h2, h3 = lab.hosts
    start_leasing([h0, h1], seed=h0, cluster=SMALL)
    leases = lab.wait_lease_mesh([h0, h1])
    assert {leases[h0][4], leases[h1][4]} == {"10.244.0.0/24", "10.244.1.0/24"}

    start_leasing([h2], seed=h0, cluster=SMALL)
    msg = "no free /24 left in 10.244.0.0/23: all 2 subnets are leased, reserved or in use"
    wait_until(lambda: h2.leases()["families"]["ipv4"]["error"], 5, msg="h2's no-lease error")
    fam = h2.leases()["families"]["ipv4"]
    assert fam["lease"] is None and fam["error"] == msg, fam
    assert f"lease: {msg}" in h2.log_text()
    assert msg in events(h2)
    assert set(owners(h2)) == {leases[h0][4], leases[h1][4]}
    assert h2.subnet_env() is None and h2.lease_state() == []
    expected = {h0: {route(leases[h1][4], h1.lan_ip)}, h1: {route(leases[h0][4], h0.lan_ip)},
                h2: {route(leases[h0][4], h0.lan_ip), route(leases[h1][4], h1.lan_ip)}}
    lab.wait_routes(expected=expected)
    assert h2.lan_ip in h0.members() and h0.established_with(h2)
    for h in (h0, h1):
        assert h2.node_id not in owners(h).values()
    assert "no lease: " + msg in h2.hgwsh("show leases")

    # A host that wanted a taken subnet (newer claim) loses it and finds nothing free.
    h3.write_lease_state((leases[h1][4], now_ms()))
    start_leasing([h3], seed=h0, cluster=SMALL)
    wait_until(lambda: h3.leases()["families"]["ipv4"]["error"] == msg, 5, msg="h3 to lose its claim")
    assert f"released {leases[h1][4]}: lost a conflict; choosing another subnet" in events(h3)
    assert h3.lease_state() == []
    expected[h3] = expected[h2]
    lab.wait_routes(expected=expected)
    env = h3.subnet_env()
    assert env is None or "FLANNEL_SUBNET" not in env, \
        f"h3 owns no subnet, yet its subnet.env still says {env}"


def test_subnet_freed_by_expiry_goes_to_exactly_one_waiting_host(make_lab):
    """10.244.0.0/23 (two /24s), lease-hold 3 s: h0 and h1 hold the two leases, h2 and h3
    wait without one. h1 leaves (SIGTERM); once its reservation expires, exactly one of
    h2 and h3 leases the freed subnet, every host agrees on its owner, and the other
    one still reports that no subnet is free.

    h3 starts 5 s after h2, as hosts do in real life. Each host starts the
    reservation's clock when it loses h1, so the copies expire a few ms apart:
    a waiting host's claim may reach a host (h0, or the other waiting host)
    whose copy has not expired yet. That host refuses it for now and gives the
    subnet to the best such claim when its copy expires (a CI run once left h0
    with no owner and no route here)."""
    hold = 3
    lab = make_lab(4)
    h0, h1, h2, h3 = lab.hosts
    start_leasing([h0, h1], seed=h0, cluster=SMALL, hold=hold)
    leases = lab.wait_lease_mesh([h0, h1])
    s1 = leases[h1][4]
    start_leasing([h2], seed=h0, cluster=SMALL, hold=hold)
    t_h2 = time.monotonic()
    wait_until(lambda: h2.leases()["families"]["ipv4"]["error"], 5, msg="h2 waiting for a subnet")
    time.sleep(max(0.0, t_h2 + 5 - time.monotonic()))  # the start offset above, not a wait for a state
    start_leasing([h3], seed=h0, cluster=SMALL, hold=hold)
    wait_until(lambda: h3.leases()["families"]["ipv4"]["error"], 5, msg="h3 waiting for a subnet")
    # Everybody meets h1 before it leaves, so every host turns its lease into a reservation.
    wait_until(lambda: all(h.established_with(o) for h in (h0, h1, h2, h3) for o in (h0, h1, h2, h3)
                           if o is not h), 5, msg="a full mesh of h0..h3")

    t_down = time.monotonic()
    assert h1.leave() == 0
    rest = [h0, h2, h3]
    wait_until(lambda: h2.lease() or h3.lease(), hold + 10 + 3,
               msg=f"{s1} to be leased again after its reservation expired")
    assert time.monotonic() - t_down >= hold - 0.5
    # By then every host's copy of h1's reservation has expired (each at its own moment).
    all_expired = t_down + hold + 10 + 1.5

    def settled():
        takers = [h for h in (h2, h3) if h.lease()]
        assert len(takers) == 1, "both lease " + ", ".join(f"{h.name}: {h.lease()}" for h in takers)
        taker, = takers
        other = h3 if taker is h2 else h2
        assert taker.lease() == s1
        lab.check_lease_mesh([h0, taker])
        for h in rest:
            o = owners(h)
            assert o.get(s1) == taker.node_id, f"{h.name} says {s1} is {h.lease_table().get(s1)}"
        assert other.leases()["families"]["ipv4"]["error"], other.leases()["families"]
        exp = {route(leases[h0][4], h0.lan_ip), route(s1, taker.lan_ip)}
        assert other.route_set() == exp, other.route_set()
        return taker
    wait_until(settled, max(1.0, all_expired + 3 - time.monotonic()),
               msg=f"exactly one of h2, h3 to own {s1}, agreed by every host")
    taker = settled()
    # Then nothing may change any more (a late expiry must not start a second claim).
    stays_true(lambda: settled() is taker, max(1.0, all_expired + 1 - time.monotonic()), interval=0.2,
               msg=f"{taker.name} as the one owner of {s1}")



def test_lease_mode_refuses_nothing_of_an_honest_mesh(make_lab):
    """In lease mode a node announces only its own lease (PROTOCOL.md, Security): an honest
    mesh never trips the rule. Three leasing hosts, then h2 restarted (knowing only its own
    lease, from its state file): every host routes every other host's lease, and no host
    counts a refused prefix (a peer's LEASE claims reach us before its routes, and a claim
    made at runtime is sent before its route)."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    start_leasing(lab.hosts, seed=h0, hold="1h")
    leases = lab.wait_lease_mesh()
    h2.stop(signal.SIGTERM)
    h2.start(h2.config_text)
    assert lab.wait_lease_mesh() == leases
    for h in lab.hosts:
        for o in lab.hosts:
            if o is not h:
                wait_until(lambda: [p["origin"] for p in (h.show_route(leases[o][4]) or {}).get("paths", [])]
                           == [o.node_id], 5, msg=f"{h.name} to route {o.name}'s lease")
    for h in lab.hosts:
        refused = {a: (p["prefixesRefused"], p["lastRefused"]) for a, p in h.peers().items()
                   if p["prefixesRefused"]}
        assert not refused, f"{h.name} refused: {refused}"
    use_leases(lab.hosts, leases)
    lab.wait_full_connectivity()
