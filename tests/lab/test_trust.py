"""Trust the sender, not the message (issue 10): hostile peers against the lease mesh.

Topology: h0 (the seed) and h1 run hgwd leasing out of 10.244.0.0/16 with their
containers in their leases; h2 runs no daemon: its namespace hosts the attacker,
a scripted client (hgwwire.ScriptedPeer) that completes the HELLO exchange with
the LEASE capability and then sends forged LEASE and UPDATE frames, as a host on
the LAN with no key could when no secret is set (or any holder of the key).

Each attack checks (``Victims.check``): both hosts' leases and lease files,
both kernels' routes and the containers' pings are unchanged; h0-h1 is the
same session, never flapped; the refusal is counted in ``show leases json``
(``refused``/``lastRefused``) and logged once (rate-limited).
"""

import ipaddress
import os
import resource
import signal
import time

import pytest

from hgwlab import frame, route, stays_true, wait_until
from hgwwire import CAP_IPV4, PskPeer, announce, hello, psk_hex, withdraw

FAST = (0.2, 0.6)
CLUSTER = "10.244.0.0/16"
ATTACKER_ID = "10.60.6.50"
MSG_LEASE = 7
CAP_LEASES = 0x8
LEASE_CLAIM, LEASE_RELEASE = 1, 2
F_ACTIVE = 0x1


def lease_entry(op, prefix, owner, claim_ms, flags=0, unseen_ms=0) -> bytes:
    """One LEASE entry (proto/PROTOCOL.md): op, flags, family, length, owner, claim time,
    unseen for, the prefix address in full."""
    net = ipaddress.ip_network(prefix)
    owner_b = ipaddress.IPv4Address(owner).packed if isinstance(owner, str) else owner.to_bytes(4, "big")
    return (bytes([op, flags, net.version, net.prefixlen]) + owner_b + int(claim_ms).to_bytes(8, "big")
            + int(unseen_ms).to_bytes(4, "big") + net.network_address.packed)


def lease_frames(entries, max_frame=65536) -> list[bytes]:
    """LEASE frames carrying ``entries`` (bytes each), as many per frame as fit."""
    out, body = [], b""
    for e in entries:
        if 8 + len(body) + len(e) > max_frame:
            out.append(frame(MSG_LEASE, body))
            body = b""
        body += e
    if body:
        out.append(frame(MSG_LEASE, body))
    return out


def now_ms() -> int:
    return int(time.time() * 1000)


def cpu_s(h) -> float:
    """User + system CPU seconds of h's hgwd so far."""
    with open(f"/proc/{h.daemon.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_leasing(hosts, seed, hold="1h"):
    for h in hosts:
        h.start(wait=False, neighbors=[] if h is seed else [seed], networks=[], timers=FAST,
                extra_config=h.lease_config(hold=hold))
    for h in hosts:
        h.wait_ready()


@pytest.fixture
def transport():
    """How the mesh and the attacker talk: "tcp" (no secret), or "psk" (secret-file: the
    attacker holds the mesh key, over ``openssl s_client -psk``); tests parametrize it."""
    return "tcp"


def make_secret(path) -> str:
    """A secret-file as the README says (``openssl rand -hex 32``, mode 0600); its path."""
    from test_tls import make_secret as make
    return str(make(path))


def connect(lab, src, dst, key=None):
    """A scripted peer from ``src`` to ``dst``: over plain TCP, or over TLS with the PSK of
    secret-file ``key`` (default: the mesh's own, ``lab.mesh_secret``, when it has one)."""
    key = key or getattr(lab, "mesh_secret", None)
    if key is None:
        return lab.connect(src, dst)
    p = PskPeer(src.ns, dst.lan_addr, psk_hex(key))
    lab.scripted.append(p)
    return p


@pytest.fixture
def mesh(make_lab, transport):
    """h0 (seed) and h1 leasing, containers moved into their leases, pings working; with
    ``transport`` "psk", over a mesh key (lab.mesh_secret) the attacker holds too."""
    lab = make_lab(3)
    h0, h1, _ = lab.hosts
    lab.mesh_secret = make_secret(lab.workdir / "mesh.key") if transport == "psk" else None
    extra = f"secret-file {lab.mesh_secret}\n" if lab.mesh_secret else ""
    for h in (h0, h1):
        h.start(wait=False, neighbors=[] if h is h0 else [h0], networks=[], timers=FAST,
                extra_config=h.lease_config(hold="1h") + extra)
    for h in (h0, h1):
        h.wait_ready()
        if lab.mesh_secret:
            assert "TLS 1.3 with a pre-shared key" in h.log_text(), f"{h.name} runs without the PSK"
    leases = lab.wait_lease_mesh([h0, h1])
    for h in (h0, h1):
        h.use_subnet(leases[h][4])
    lab.wait_full_connectivity(hosts=[h0, h1], timeout=10)
    # Let the leases settle (a few seconds known to every host: PROTOCOL.md, Security).
    wait_until(lambda: all(h.leases()["leases"] for h in (h0, h1)), 3)
    return lab, leases


class Victims:
    """What must not change: leases (tables and files), routes, the h0-h1 session, pings."""

    def __init__(self, lab, leases):
        self.lab, self.leases = lab, leases
        self.h0, self.h1 = lab.hosts[:2]
        self.tables = {h: self.table(h) for h in (self.h0, self.h1)}
        self.files = {h: h.lease_state() for h in (self.h0, self.h1)}
        self.routes = {h: h.route_set() for h in (self.h0, self.h1)}
        self.env = {h: h.subnet_env() for h in (self.h0, self.h1)}
        self.p01 = self.h0.peer(self.h1)
        self.refused = {h: h.leases()["refused"] for h in (self.h0, self.h1)}

    @staticmethod
    def table(h):
        """{subnet: (owner, state, claim time)} of the leases of live owners and our own."""
        return {s: (e["owner"], e["state"], e["claimedAtMs"]) for s, e in h.lease_table().items()
                if e["state"] in ("mine", "active")}

    def same(self):
        for h in (self.h0, self.h1):
            assert h.running, f"hgwd on {h.name} died"
            assert self.table(h) == self.tables[h], f"{h.name}'s leases: {self.table(h)} != {self.tables[h]}"
            assert h.lease_state() == self.files[h], f"{h.name}'s lease file changed"
            assert h.subnet_env() == self.env[h], f"{h.name}'s subnet.env changed"
            assert h.route_set() == self.routes[h], f"{h.name}'s routes: {h.route_set()} != {self.routes[h]}"
        p = self.h0.peer(self.h1)
        assert p["state"] == "established" and p["flaps"] == self.p01["flaps"], p
        return True

    def check(self, what, refused_on=None, min_refused=1):
        """Nothing changed (and stays so for a second); the refusal counted and logged."""
        stays_true(self.same, 1.0, msg=f"the mesh unchanged after {what}")
        self.lab.wait_full_connectivity(hosts=[self.h0, self.h1], timeout=5)
        for h in refused_on or ():
            got = h.leases()
            assert got["refused"] - self.refused[h] >= min_refused, f"{what}: {h.name} counted no refusal: {got}"
            assert got["lastRefused"], got
            assert "lease: refused " in h.log_text(), f"{what}: {h.name} logged no refusal"


def attacker(lab, node_id=ATTACKER_ID, to=None):
    """A session from h2's namespace to h0 (or ``to``) with the LEASE capability, HELLO exchanged."""
    h0, _, h2 = lab.hosts
    p = connect(lab, h2, to or h0)
    p.handshake(node_id, caps=CAP_IPV4 | CAP_LEASES)
    p.wait_frame(lambda f: f["name"] == "END-OF-RIB", msg="END-OF-RIB")
    return p


def settle(lab, leases):
    """The victims' leases are settled once known for 5 s (lease.c SETTLE_MS): wait for it
    by the claim's age as the owner shows it (claimedAtMs, wall clock)."""
    h0, h1 = lab.hosts[:2]
    claimed = max(h.lease_table()[leases[h][4]]["claimedAtMs"] for h in (h0, h1))
    wait_until(lambda: now_ms() - claimed > 7000, 10, msg="the leases to settle")


# --------------------------------------------------------------------------
# row 1: a forged claim of a live host's subnet, then announcing it
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "psk"])
@pytest.mark.parametrize("to", ["observer", "victim"])
def test_row1_forged_claim_of_a_live_subnet_changes_nothing(mesh, to):
    """One LEASE claim for h1's subnet with claim time 0 (owner: the attacker's own id, then
    h1's id as a relayed entry, then a third id), sent to h0 (an observer of h1's lease) or
    to h1 itself, then an UPDATE announcing that subnet via the attacker: h1 keeps its lease,
    its subnet.env and its routes; h0 keeps routing h1's subnet to h1; h0-h1 never flaps.
    Also over PSK, by a holder of the mesh key."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    settle(lab, leases)
    victim_subnet = leases[h1][4]
    target = h0 if to == "observer" else h1
    v = Victims(lab, leases)
    with attacker(lab, to=target) as p:
        p.send(b"".join(lease_frames([
            lease_entry(LEASE_CLAIM, victim_subnet, ATTACKER_ID, 0, flags=F_ACTIVE),
            lease_entry(LEASE_CLAIM, victim_subnet, h1.node_id, 0, flags=F_ACTIVE),
            lease_entry(LEASE_CLAIM, victim_subnet, "10.60.6.77", 0, flags=F_ACTIVE),
        ])))
        p.send(announce(ATTACKER_ID, h2.lan_ip, [victim_subnet]))
        # The winning claim comes back to the attacker (so an honest loser moves at once).
        p.wait_frame(lambda f: f["type"] == MSG_LEASE, msg="the winning claim sent back")
        v.check("a forged claim of h1's subnet", refused_on=[target])
        r = target.show_route(victim_subnet)
        assert r["paths"][0]["origin"] == h1.node_id, r
    assert h1.leases()["families"]["ipv4"]["lease"] == victim_subnet


# --------------------------------------------------------------------------
# row 2: a claim of the whole cluster network (or of another length)
# --------------------------------------------------------------------------

def test_row2_claim_of_the_cluster_network_is_refused(mesh):
    """Claims of 10.244.0.0/16, of a /25 and a /23 inside it, and of a /24 outside it:
    each refused (not a /24 of the cluster network); nobody releases anything."""
    lab, leases = mesh
    h0, h1, _ = lab.hosts
    v = Victims(lab, leases)
    bad = [CLUSTER, "10.244.200.0/25", "10.244.202.0/23", "10.99.0.0/24"]
    with attacker(lab) as p:
        p.send(b"".join(lease_frames([lease_entry(LEASE_CLAIM, s, ATTACKER_ID, 0, flags=F_ACTIVE)
                                      for s in bad])))
        wait_until(lambda: h0.leases()["refused"] - v.refused[h0] >= len(bad), 3,
                   msg="the bad claims counted")
        v.check("claims of the cluster network", refused_on=[h0], min_refused=len(bad))
        assert not any(s in h0.lease_table() for s in bad), h0.lease_table()
        assert "not a /24 of the cluster network" in h0.leases()["lastRefused"]
        # Logged once per source in a burst, not once per entry.
        assert h0.log_text().count("lease: refused ") <= 5


# --------------------------------------------------------------------------
# row 4: a RELEASE or an "unseen for" forged for a departed host's reservation
# --------------------------------------------------------------------------

def test_row4_release_and_age_of_a_departed_reservation_are_refused(mesh):
    """h1 stops: h0 keeps its lease reserved for lease-hold (1 h). A RELEASE of it (owner h1)
    from the attacker, and a claim of it with "unseen for" 0xffffffff, change nothing: the
    reservation stays, and its expiry does not come sooner."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    s1 = leases[h1][4]
    h1.stop(signal.SIGTERM)
    wait_until(lambda: h0.lease_table()[s1]["state"] == "reserved", 3, msg="h1's lease reserved")
    before = h0.lease_table()[s1]
    refused = h0.leases()["refused"]
    with attacker(lab) as p:
        p.send(b"".join(lease_frames([
            lease_entry(LEASE_RELEASE, s1, h1.node_id, before["claimedAtMs"]),
            lease_entry(LEASE_CLAIM, s1, h1.node_id, before["claimedAtMs"], unseen_ms=0xffffffff),
        ])))
        wait_until(lambda: h0.leases()["refused"] > refused, 3, msg="the RELEASE refused")

        def kept():
            e = h0.lease_table().get(s1)
            assert e is not None and e["owner"] == h1.node_id and e["state"] == "reserved", e
            assert e["expiresInMs"] > 3500 * 1000, e
            return True
        stays_true(kept, 1.0, msg="h1's reservation kept")
        # Nothing expired: no free subnet was handed out, h0 keeps its own.
        assert h0.leases()["families"]["ipv4"]["lease"] == leases[h0][4]
        assert "only its owner may release it" in h0.leases()["lastRefused"]
    assert h0.running


# --------------------------------------------------------------------------
# row 3: more-specifics (and a covering prefix) of another host's subnet
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "psk"])
def test_row3_more_specifics_of_a_lease_are_refused(mesh):
    """Two /25s and a /32 inside h1's leased /24, and a /20 covering it, announced by the
    attacker (its own origin, its own address as gateway): refused on h0 with the reason
    in show peers (lastRefused) and counted (prefixesRefused); h1's traffic stays on h1.
    Also over PSK, by a holder of the mesh key."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    s1 = ipaddress.ip_network(leases[h1][4])
    halves = [str(n) for n in s1.subnets(1)]
    host = f"{s1.network_address + 2}/32"
    cover = str(s1.supernet(new_prefix=20))
    v = Victims(lab, leases)
    with attacker(lab) as p:
        p.send(announce(ATTACKER_ID, h2.lan_ip, halves + [host, cover]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] >= 4, 3, msg="the 4 prefixes refused")
        v.check("more-specifics of h1's lease")
        peer = h0.peer(h2)
        assert peer["prefixesAccepted"] == 0, peer
        assert f"overlaps node {h1.node_id}'s lease {s1}" in peer["lastRefused"], peer
        for pfx in halves + [host, cover]:
            assert h0.show_route(pfx) is None, h0.show_route(pfx)
    # Logged once (the lab runs with debug peer on, which lists each one besides).
    assert h0.log_text().count("(later refusals are counted in show peers)") == 1


def test_row3_more_specific_of_a_static_route_is_refused(make_lab):
    """Without leases: h1 announces its configured network; the attacker's /25 inside it
    is refused (inside node h1's route) and h0 keeps h1's whole /24 on h1."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1])
    h1.start(neighbors=[h0])
    lab.wait_established()
    lab.wait_routes(expected={h0: lab.expected_routes(h0), h1: lab.expected_routes(h1)})
    net1 = ipaddress.ip_network(h1.own_networks()[0])
    half = str(next(net1.subnets(1)))
    routes0 = h0.route_set()
    with lab.connect(h2, h0) as p:
        p.handshake(ATTACKER_ID)
        p.send(announce(ATTACKER_ID, h2.lan_ip, [half]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] == 1, 3, msg="the /25 refused")
        stays_true(lambda: h0.route_set() == routes0, 1.0, msg="h0's routes unchanged")
        assert f"inside node {h1.node_id}'s route {net1}" in h0.peer(h2)["lastRefused"]
    lab.wait_full_connectivity(hosts=[h0, h1])


# --------------------------------------------------------------------------
# row 10: a session with a departed host's node id, from another address
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "psk"])
def test_row10_node_id_bound_to_its_address(mesh):
    """h1 stops; the attacker (h2's address) presents h1's node id: h0 refuses its HELLO
    (bad node id: bound to h1's address), so it can neither announce h1's subnet nor
    hold h1's lease; h1 restarted gets its session and its subnet back at once. Also over
    PSK: the mesh key proves no node id, the binding to the address still holds."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    s1 = leases[h1][4]
    h1.stop(signal.SIGTERM)
    wait_until(lambda: h0.lease_table()[s1]["state"] == "reserved", 3, msg="h1's lease reserved")
    routes0 = h0.route_set()
    with connect(lab, h2, h0) as p:
        p.send(hello(h1.node_id, caps=CAP_IPV4 | CAP_LEASES, addrs=[h2.lan_ip], hostname="h1"))
        n = p.wait_notify(3)
        assert (n["code"], n["subcode"]) == (2, 2), n
        assert f"node id bound to {h1.lan_ip}" in n["text"], n
        p.wait_closed(3)
    assert h0.lease_table()[s1]["owner"] == h1.node_id
    assert h0.lease_table()[s1]["state"] == "reserved"
    assert h0.route_set() == routes0
    assert h0.log_text().count(f"node id bound to {h1.lan_ip}") == 1, "the refusal logged once"
    # The real h1 comes back from its own address: accepted, same subnet.
    h1.start(h1.config_text)
    again = lab.wait_lease_mesh([h0, h1])
    assert again[h1][4] == s1
    lab.wait_full_connectivity(hosts=[h0, h1], timeout=10)


@pytest.mark.parametrize("transport", ["psk"])
def test_psk_wrong_key_is_refused_at_the_handshake(mesh):
    """The mesh runs on a PSK; the attacker holds another key: twice, its HELLO, a claim of
    h1's subnet and an announcement of it, sent over openssl s_client with that key, get
    nothing back (no frame: the TLS handshake fails) and change nothing; h0 logs the failure
    (once at info level). From the same address with the mesh key, the session comes up."""
    import re
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    s1 = leases[h1][4]
    other = make_secret(lab.workdir / "other.key")
    v = Victims(lab, leases)
    for _ in range(2):
        with connect(lab, h2, h0, key=other) as p:
            try:
                p.send(hello(ATTACKER_ID, caps=CAP_IPV4 | CAP_LEASES, addrs=[h2.lan_ip])
                       + b"".join(lease_frames([lease_entry(LEASE_CLAIM, s1, ATTACKER_ID, 0,
                                                            flags=F_ACTIVE)]))
                       + announce(ATTACKER_ID, h2.lan_ip, [s1]))
            except OSError:
                pass   # s_client already gone: refused before it read a byte
            p.wait_closed(5)
            assert p.data == b"" and p.frames == [], p.data[:40].hex()
            assert p.proc.wait(3) != 0, p.stderr_text()
    failed = rf"peer {re.escape(h2.lan_ip)}: .*TLS handshake failed"
    wait_until(lambda: re.search(failed, h0.log_text()), 3, msg="the TLS failure in h0's log")
    info = [x for x in h0.log_text().splitlines() if re.search(failed, x) and " debug: " not in x]
    assert len(info) == 1, "\n".join(info)
    v.check("sessions with a wrong PSK")
    peer = h0.peers().get(h2.lan_ip)
    assert peer is None or peer["prefixesReceived"] == 0, peer
    with connect(lab, h2, h0) as p:
        assert p.handshake(ATTACKER_ID, caps=CAP_IPV4 | CAP_LEASES)["node_id"] == h0.node_id


# --------------------------------------------------------------------------
# row 9: gateways the sender does not own
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "psk"])
def test_row9_gateway_of_another_host_is_refused(mesh):
    """The attacker's HELLO lists h1's address (and the LAN's .1, a router's) as its own;
    routes via them are refused: a gateway must be the session's source address. Also over
    PSK, by a holder of the mesh key."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    v = Victims(lab, leases)
    free = "10.244.250.0/24"
    with connect(lab, h2, h0) as p:
        p.handshake(ATTACKER_ID, addrs=[h1.lan_ip], caps=CAP_IPV4 | CAP_LEASES)
        p.send(announce(ATTACKER_ID, h1.lan_ip, [free]))
        p.send(announce(ATTACKER_ID, "10.60.6.1", ["10.244.251.0/24"]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] == 2, 3, msg="both refused")
        assert f"gateway 10.60.6.1 is not the peer's address" in h0.peer(h2)["lastRefused"]
        v.check("routes via another host's address")
        assert h0.show_route(free) is None


def test_row9_other_family_gateway_on_another_host_is_refused(make_lab):
    """Dual stack, a session over IPv4: the attacker's HELLO lists h1's IPv6 address; h0's
    neighbour table resolves it to h1's MAC, not the attacker's: the IPv6 route via it is
    refused. Its own IPv6 address (same MAC as its IPv4 source) is accepted."""
    lab = make_lab(3, ipv6=True)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1])
    h1.start(neighbors=[h0])
    lab.wait_established()
    # h0 resolves both hosts' IPv6 addresses (as traffic between them would).
    for h in (h1, h2):
        wait_until(lambda: h0.run(["ping", "-6", "-n", "-q", "-c", "1", "-W", "1", h.lan_ip6],
                                  check=False).returncode == 0, 5, msg=f"h0 reaches {h.name} over IPv6")
    routes0 = h0.route_set()
    with lab.connect(h2, h0.lan_ip) as p:
        p.handshake(ATTACKER_ID, addrs=[h2.lan_ip, h1.lan_ip6], caps=CAP_IPV4 | 0x2)
        p.send(announce(ATTACKER_ID, h1.lan_ip6, ["fd00:99:1::/64"]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] == 1, 3, msg="the route via h1's IPv6 refused")
        assert "link-layer address differs" in h0.peer(h2)["lastRefused"], h0.peer(h2)
        stays_true(lambda: h0.route_set() == routes0, 0.5, msg="h0's routes unchanged")
    with lab.connect(h2, h0.lan_ip) as p:
        p.handshake(ATTACKER_ID, addrs=[h2.lan_ip, h2.lan_ip6], caps=CAP_IPV4 | 0x2)
        p.send(announce(ATTACKER_ID, h2.lan_ip6, ["fd00:99:2::/64"]))
        wait_until(lambda: h0.show_route("fd00:99:2::/64") is not None, 3, msg="its own IPv6 gateway accepted")


# --------------------------------------------------------------------------
# row 6: many LEASE claims of unrelated prefixes
# --------------------------------------------------------------------------

def junk_claims(n) -> list[bytes]:
    """n LEASE claims in three kinds: /24s outside the cluster network, /25s inside it, and
    relayed /24s of it, each under its own made-up owner."""
    entries = []
    for i in range(n):
        kind = i % 3
        owner = str(ipaddress.IPv4Address(0x0B000000 + i))
        if kind == 0:
            pfx = f"{20 + (i >> 16) % 200}.{(i >> 8) & 255}.{i & 255}.0/24"
        elif kind == 1:
            pfx = f"10.244.{(i >> 1) & 255}.{128 * (i & 1)}/25"
        else:
            pfx = f"10.244.{(i >> 2) & 255}.0/24"
        entries.append(lease_entry(LEASE_CLAIM, pfx, owner, now_ms(), flags=0, unseen_ms=1000))
    return entries


def test_row6_sixty_thousand_junk_claims_cost_under_a_second(mesh):
    """60,000 claims in one burst: /24s outside the cluster network, other lengths inside
    it, and relayed /24s of the cluster network under 60,000 made-up owners. h0 spends
    under 1 s of CPU on them, its table stays bounded (one entry per /24 of the cluster
    network at most), the victims are unchanged and h0's session with h1 never drops."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    v = Victims(lab, leases)
    frames = lease_frames(junk_claims(60000))
    cpu0 = cpu_s(h0)
    with attacker(lab) as p:
        t0 = time.monotonic()
        p.send(b"".join(frames), timeout=10)
        want = 40000  # the two refused kinds at least
        wait_until(lambda: h0.leases()["refused"] - v.refused[h0] >= want, 10, msg="the junk refused")
        spent = cpu_s(h0) - cpu0
        print(f"60k junk claims: {spent:.3f} s of h0's CPU, {time.monotonic() - t0:.2f} s wall")
        assert spent < 1.0, f"h0 spent {spent:.2f} s of CPU on 60k claims"
        n = len(h0.leases()["leases"])
        assert n <= 256 + 2, f"h0's lease table holds {n} entries"
        v.check("60k junk claims", refused_on=[h0])
    assert h0.log_text().count("lease: refused ") <= 25, "the refusals are rate-limited in the log"


# --------------------------------------------------------------------------
# row 5: MEMBERS frames naming many LAN addresses, any port
# --------------------------------------------------------------------------

MSG_MEMBERS, CAP_MEMBERS = 6, 0x4


def member_entry(addr, port, node_id) -> bytes:
    a = ipaddress.ip_address(addr)
    return bytes([1, a.version]) + port.to_bytes(2, "big") + int(node_id).to_bytes(4, "big") + a.packed


def members_frames(entries) -> list[bytes]:
    out, body = [], b""
    for e in entries:
        if 8 + len(body) + len(e) > 65536:
            out.append(frame(MSG_MEMBERS, body))
            body = b""
        body += e
    if body:
        out.append(frame(MSG_MEMBERS, body))
    return out


@pytest.mark.parametrize("caps", [None, (30, 10, 5, 4)], ids=["defaults", "configured"])
def test_row5_members_flood_costs_bounded_dials_and_no_stall(make_lab, caps):
    """Dual stack. The attacker's MEMBERS frames name (a) 250 LAN addresses on port 22 and
    (b) 20,000 IPv6 LAN addresses on the mesh port: (a) dials nothing (another port than
    the mesh's), (b) at most 64 are learned from one sender and dialled in a burst of at
    most 64, then at most 50 a second (the defaults), or the numbers h0 is configured with
    (``limits members 30 per-sender 10``, ``limits member-dials 5 burst 4``: 10 learned,
    a burst of 4, then 5 a second); h0's control socket answers within 100 ms throughout,
    h0-h1 never drops."""
    total, per_sender, rate, burst = caps or (256, 64, 50, 64)
    lab = make_lab(3, ipv6=True)
    h0, h1, h2 = lab.hosts
    extra = (f"limits members {total} per-sender {per_sender}\nlimits member-dials {rate} burst {burst}\n"
             if caps else "")
    h0.start(neighbors=[h1], extra_config=extra)
    h1.start(neighbors=[h0])
    lab.wait_established()
    p01 = h0.peer(h1)
    base = []
    for _ in range(5):
        t = time.monotonic()
        h0.hgwsh("show peers json")
        base.append(time.monotonic() - t)
    ssh = [member_entry(f"10.60.6.{i}", 22, 0x0A000000 + i) for i in range(20, 250)]
    many = [member_entry(f"fd00:60:6::1:{i:x}", 7179, 0x0B000000 + i) for i in range(20000)]
    with lab.connect(h2, h0.lan_ip) as p:
        p.handshake(ATTACKER_ID, caps=CAP_IPV4 | CAP_MEMBERS)
        p.wait_frame(lambda f: f["name"] == "END-OF-RIB", msg="END-OF-RIB")
        t0 = time.monotonic()
        p.send(b"".join(members_frames(ssh + many)), timeout=10)
        worst, n_peers = 0.0, []
        while time.monotonic() - t0 < 3.0:
            t = time.monotonic()
            peers = h0.hgwsh("show peers json")["peers"]
            worst = max(worst, time.monotonic() - t)
            n_peers.append((time.monotonic() - t0, len(peers)))
        learned = [a for a in h0.peers() if a.startswith("fd00:60:6::1:")]
        print(f"20k MEMBERS: {len(learned)} learned, worst show peers {worst * 1000:.0f} ms, {n_peers[-1]}")
        assert len(learned) <= per_sender, f"{len(learned)} members learned from one sender"
        assert len(learned) >= min(per_sender, burst), f"only {len(learned)} members learned"
        assert not any(a.startswith("10.60.6.") and a not in (h1.lan_ip, h2.lan_ip) for a in h0.peers()), \
            "a member on port 22 was learned"
        # A burst of new dials, then the rate at most (h1, h2 and the rounding).
        for t, n in n_peers:
            assert n <= 2 + burst + rate * t + 2, f"{n} peers after {t:.2f} s"
        assert worst - max(base) < 0.1, \
            f"show peers took {worst * 1000:.0f} ms, {max(base) * 1000:.0f} ms before the flood"
        assert "not learned" in h0.log_text()
        lim = h0.hgwsh("show summary json")["limits"]
        assert (lim["members"], lim["membersPerSender"], lim["memberDialsPerSecond"],
                lim["memberDialBurst"]) == (total, per_sender, rate, burst), lim
    after = h0.peer(h1)
    assert after["state"] == "established" and after["flaps"] == p01["flaps"], after


# --------------------------------------------------------------------------
# rows 13, 14: a state file naming a live host's subnet; a state file that cannot be written
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["cloned", "back-after-hold"])
def test_row13_state_file_naming_a_live_subnet_yields(make_lab, case):
    """h2 holds a settled, live lease; h1 (a lower node id, so it would win a tie) starts with
    a state file naming h2's subnet: a clone of h2's file (same subnet, same claim time), or
    its own old claim of it (older than h2's by more than lease-hold: it was away longer).
    h1 yields and leases another subnet; h2 keeps its lease, subnet.env and routes; every
    host agrees."""
    lab = make_lab(3)
    h0, newcomer, owner = lab.hosts
    start_leasing([h0, owner], seed=h0, hold=5)
    leases = lab.wait_lease_mesh([h0, owner])
    s2 = leases[owner][4]
    claimed = owner.lease_table()[s2]["claimedAtMs"]
    wait_until(lambda: now_ms() - claimed > 7000, 10, msg="the lease to settle")
    env2 = owner.subnet_env()
    for h in (h0, owner):
        h.use_subnet(leases[h][4])
    newcomer.write_lease_state((s2, claimed if case == "cloned" else claimed - 60_000))
    start_leasing([newcomer], seed=h0, hold=5)
    got = lab.wait_lease_mesh([h0, owner, newcomer], timeout=20)
    assert got[owner][4] == s2, got
    assert got[newcomer][4] != s2, got
    for h in (h0, owner, newcomer):
        e = h.lease_table()[s2]
        assert e["owner"] == owner.node_id and e["claimedAtMs"] == claimed, f"{h.name}: {e}"
    assert owner.subnet_env() == env2
    assert not any(e.startswith(f"released {s2}") for e in owner.leases()["events"]), owner.leases()["events"]
    assert f"released {s2}: lost a conflict; choosing another subnet" in newcomer.leases()["events"]
    lab.wait_full_connectivity(hosts=[h0, owner], timeout=10)


def test_row14_state_file_write_retried_until_it_works(make_lab):
    """The lease file's directory cannot be made when h0 claims (a plain file stands where it
    should be; as root, a read-only mode would not stop the write): show leases says the
    state is not saved, and why; once the file is gone, the write is retried and succeeds."""
    lab = make_lab(1)
    h0 = lab.hosts[0]
    later = lab.workdir / "later"
    path = later / "h0.lease"
    later.write_text("in the way\n")
    cfg = h0.lease_config().replace(f"lease-file {h0.lease_file}", f"lease-file {path}")
    h0.start(neighbors=[], networks=[], timers=FAST, extra_config=cfg)
    s0 = h0.wait_lease()
    st = wait_until(lambda: (lambda j: j if not j["stateSaved"] else None)(h0.leases()), 5,
                    msg="show leases to say the state is not saved")
    assert st["saveError"] and str(later) in st["saveError"], st
    assert "Refused" not in h0.hgwsh("show leases") and "State file not saved" in h0.hgwsh("show leases")
    later.unlink()
    wait_until(lambda: h0.leases()["stateSaved"], 5, msg="the state file written on a retry")
    assert h0.leases()["saveError"] is None
    assert f"lease {s0} " in path.read_text()
    assert h0.log_text().count("retrying every") == 1, "the failure is logged once"


# --------------------------------------------------------------------------
# row 11: planted symlinks where the lease file and subnet.env are written
# --------------------------------------------------------------------------

def test_row11_planted_symlinks_are_never_followed(make_lab):
    """In a directory writable by others, symlinks to a root-owned file are planted at
    subnet.env.tmp, at the lease file's .tmp, and at subnet.env itself: hgwd writes both
    files through an exclusively created temp file renamed into place, so the victim is
    never written, and subnet.env becomes a regular file (the link replaced, not followed)."""
    lab = make_lab(1)
    h0 = lab.hosts[0]
    victim = lab.workdir / "victim"
    victim.write_text("root's own\n")
    os.chmod(lab.workdir, 0o1777)
    for link in (h0.subnet_env_file.with_name(h0.subnet_env_file.name + ".tmp"),
                 h0.lease_file.with_name(h0.lease_file.name + ".tmp"), h0.subnet_env_file):
        link.symlink_to(victim)
    h0.start(neighbors=[], networks=[], timers=FAST, extra_config=h0.lease_config())
    s0 = h0.wait_lease()
    wait_until(lambda: h0.subnet_env() and not h0.subnet_env_file.is_symlink(), 5, msg="subnet.env written")
    assert victim.read_text() == "root's own\n"
    assert h0.subnet_env_file.is_file() and not h0.subnet_env_file.is_symlink()
    assert f"lease {s0} " in h0.lease_file.read_text() and not h0.lease_file.is_symlink()
    for link in (h0.subnet_env_file.with_name(h0.subnet_env_file.name + ".tmp"),
                 h0.lease_file.with_name(h0.lease_file.name + ".tmp")):
        assert link.is_symlink(), f"{link} removed or replaced"


# --------------------------------------------------------------------------
# row 8: log lines a remote party can cause
# --------------------------------------------------------------------------

def test_row8_log_flood_is_rate_limited(mesh):
    """300 connections from one address, each with a different malformed frame (so each
    error text differs), and a 64 KB LEASE frame of conflicting claims: h0 writes a bounded
    number of lines (5 per source and 20 in total per 10 s, the listener's 1 a second),
    counts the rest in show summary (logSuppressed), and keeps its session with h1."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    v = Victims(lab, leases)
    lines0 = len(h0.log_text().splitlines())
    supp0 = h0.hgwsh("show summary json")["logSuppressed"]
    t0 = time.monotonic()
    sent = 0
    while sent < 300 and time.monotonic() - t0 < 20:
        with lab.connect(h2, h0) as p:
            p.send(frame(1, b"", version=2 + sent % 250))
            p.wait_closed(3)
        sent += 1
    with attacker(lab) as p:
        p.send(b"".join(lease_frames([lease_entry(LEASE_CLAIM, leases[h1][4], 0x0C000000 + i, i)
                                      for i in range(2700)])))
        wait_until(lambda: h0.leases()["refused"] - v.refused[h0] >= 1, 3, msg="the conflicts refused")
        elapsed = time.monotonic() - t0
        v.check("a log flood")
    # Lines at info and above (the lab turns debug peer on: debug lines are the operator's choice).
    added = [x for x in h0.log_text().splitlines()[lines0:] if " debug: " not in x]
    supp = h0.hgwsh("show summary json")["logSuppressed"] - supp0
    per_s = len(added) / elapsed
    print(f"log flood: {sent} connections + 2,700 conflicts in {elapsed:.1f} s: {len(added)} lines "
          f"({per_s:.1f}/s), {supp} suppressed")
    windows = int(elapsed / 10) + 1
    assert len(added) <= windows * (5 + 20) + elapsed + 10, "\n".join(added[-40:])
    assert supp >= 300, supp


# --------------------------------------------------------------------------
# row 7: after junk claims, many sessions that send HELLO and KEEPALIVE and never read
# --------------------------------------------------------------------------

FLOOD_NET = "10.70.0.0/16"


def rss_kib(h) -> int:
    with open(f"/proc/{h.daemon.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


BUDGET_MIB = 4
WIDE = "10.240.0.0/12"


def test_row7_non_reading_sessions_grow_rss_by_at_most_the_budget(make_lab):
    """After 60,000 junk LEASE claims, 150 sessions from as many addresses send HELLO (with
    the LEASE capability) and KEEPALIVEs and never read: h0 configured with
    ``limits output-budget 4M`` grows its RSS by at most that budget plus the sessions' own
    state, and closes non-reading sessions: the cluster network is a /12 here and 4,096
    relayed claims fill h0's table, so each session is sent ~100 KiB of leases (150 of them
    do not fit in the budget); h0-h1 stays up."""
    import socket
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    for h in (h0, h1):
        h.start(wait=False, neighbors=[] if h is h0 else [h0], networks=[],
                extra_config=h.lease_config(cluster=WIDE, hold="1h") + (
                    f"allow {FLOOD_NET}\nlimits output-budget {BUDGET_MIB}M\n" if h is h0 else ""))
    for h in (h0, h1):
        h.wait_ready()
    assert h0.hgwsh("show summary json")["limits"]["outputBudget"] == BUDGET_MIB << 20
    leases = lab.wait_lease_mesh([h0, h1])
    p01 = h0.peer(h1)
    with attacker(lab) as p:
        p.send(b"".join(lease_frames(junk_claims(60000))), timeout=10)
        wide = [lease_entry(LEASE_CLAIM, f"10.{240 + (i >> 8)}.{i & 255}.0/24",
                            str(ipaddress.IPv4Address(0x0C000000 + i)), now_ms(), unseen_ms=1000)
                for i in range(4096)]
        p.send(b"".join(lease_frames(wide)), timeout=10)
        wait_until(lambda: len(h0.leases()["leases"]) >= 3000, 5, msg="the junk in h0's table")
    addrs = [f"10.70.{i // 250}.{i % 250 + 1}" for i in range(150)]
    from hgwlab import ip_batch
    from hgwwire import in_netns, keepalive
    ip_batch(h2.ns, [f"addr add {a}/32 dev eth0" for a in addrs])
    h0.ip("route", "add", FLOOD_NET, "via", h2.lan_ip, "dev", "eth0")
    rss0 = rss_kib(h0)

    def connect_all():
        socks = []
        for i, a in enumerate(addrs):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.bind((a, 0))
            s.connect((h0.lan_ip, 7179))
            s.sendall(hello(f"10.70.{i // 250}.{i % 250 + 1}", caps=CAP_IPV4 | CAP_LEASES | 0x4,
                            addrs=[a]))
            socks.append(s)
        return socks
    socks = in_netns(h2.ns, connect_all)
    try:
        t0 = time.monotonic()
        grown = 0
        while time.monotonic() - t0 < 4:
            for s in socks:
                try:
                    s.send(keepalive(), socket.MSG_DONTWAIT)
                except OSError:
                    pass
            grown = max(grown, rss_kib(h0) - rss0)
            time.sleep(0.1)  # paces the KEEPALIVEs (the clients' side); no condition to wait for
        up = sum(1 for a in addrs if h0.peers().get(a, {}).get("state") == "established")
        print(f"150 non-reading sessions: RSS +{grown} KiB, {up} still established")
        assert grown <= BUDGET_MIB * 1024 + 8 * 1024, f"RSS grew by {grown} KiB"
        assert up < len(addrs), "no non-reading session was closed"
        assert h0.hgwsh("show summary json")["limits"]["outputQueued"] <= (BUDGET_MIB << 20) * 2
        after = h0.peer(h1)
        assert after["state"] == "established" and after["flaps"] == p01["flaps"], after
        assert h0.running and lab.wait_lease_mesh([h0, h1]) == leases
    finally:
        for s in socks:
            s.close()


# --------------------------------------------------------------------------
# files named in the configuration: root only
# --------------------------------------------------------------------------

def test_file_statements_only_by_root(make_lab, open_workdir):
    """A process in the control socket's group (not root) may configure, but not change a
    statement that names a file: lease-file, subnet-env, secret-file, tls, log file."""
    import test_cli
    lab = make_lab(1, workdir=open_workdir / "lab")
    h0 = lab.hosts[0]
    h0.start(neighbors=[])
    group0 = ["setpriv", "--reuid=65534", "--regid=0", "--clear-groups"]
    before = test_cli.running_config(h0)
    for stmt in ("lease-file /tmp/x.lease", "subnet-env /tmp/x.env", "secret-file /tmp/x.key",
                 "no secret-file", "tls ca /a cert /b key /c", "no tls"):
        cp = test_cli.hgwsh(h0, "configure terminal", "router hgw", stmt, "end", user=group0)
        assert cp.returncode != 0 and "only root may change a statement that names a file" in cp.stderr, \
            (stmt, cp.stderr)
    cp = test_cli.hgwsh(h0, "configure terminal", "log file /tmp/x.log info", "end", user=group0)
    assert cp.returncode != 0 and "only root may" in cp.stderr, cp.stderr
    assert test_cli.running_config(h0) == before
    test_cli.configure(h0, "max-prefixes 100", user=group0)   # other statements: as before
    test_cli.configure(h0, f"lease-file {lab.workdir}/h0.lease")  # root may


# --------------------------------------------------------------------------
# mTLS: the certificate's extended key usage
# --------------------------------------------------------------------------

def test_mtls_extended_key_usage(make_lab, tmp_path):
    """A certificate of the mesh CA naming the client's node id but made for clientAuth only
    (as a shared CA issues to users) is refused at HELLO; one with serverAuth and clientAuth
    (or with no extended key usage) is a mesh node."""
    from test_tls import PKI
    pki = PKI(tmp_path / "pki")
    pki.ca("ca")
    pki.leaf("h0", "ca", "IP:10.60.6.10")
    pki.leaf("h1", "ca", "IP:10.60.6.11")
    for name, eku in (("user", "clientAuth"), ("node", "serverAuth,clientAuth")):
        key, csr, crt, ext = (pki.d / f"{name}.{x}" for x in ("key", "csr", "crt", "ext"))
        from hgwlab import run
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={name}"])
        ext.write_text(f"subjectAltName=IP:10.60.6.50\nextendedKeyUsage={eku}\n")
        run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.d / "ca.crt", "-CAkey", pki.d / "ca.key",
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1], extra_config=pki.config("h0"))
    h1.start(neighbors=[h0], extra_config=pki.config("h1"))
    lab.wait_established()
    with lab.connect(h2, h0, ssl_context=pki.client_context("user")) as p:
        p.send(hello(ATTACKER_ID, addrs=[h2.lan_ip]))
        n = p.wait_notify()
        assert (n["code"], n["subcode"]) == (2, 2) and "extended key usage" in n["text"], n
        p.wait_closed()
    with lab.connect(h2, h0, ssl_context=pki.client_context("node")) as p:
        his = p.handshake(ATTACKER_ID)
        assert his["node_id"] == h0.node_id
    assert h0.peer(h1)["state"] == "established" and h0.peer(h1)["flaps"] == 0


def test_mtls_crl_refuses_a_revoked_certificate(make_lab, tmp_path):
    """``tls ca .. cert .. key .. crl FILE``: a certificate of the mesh CA listed in the CRL is
    refused during the TLS handshake (no HELLO ever); another one of the same CA is taken."""
    import ssl
    from hgwlab import run
    from test_tls import PKI
    pki = PKI(tmp_path / "pki")
    pki.ca("ca")
    pki.leaf("h0", "ca", "IP:10.60.6.10")
    pki.leaf("revoked", "ca", "IP:10.60.6.50")
    pki.leaf("good", "ca", "IP:10.60.6.50")
    d = pki.d
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    (d / "ca.cnf").write_text(f"[ca]\ndefault_ca = c\n[c]\ndatabase = {d}/index.txt\n"
                              f"crlnumber = {d}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n")
    run(["openssl", "ca", "-config", d / "ca.cnf", "-keyfile", d / "ca.key", "-cert", d / "ca.crt",
         "-revoke", d / "revoked.crt"])
    run(["openssl", "ca", "-config", d / "ca.cnf", "-keyfile", d / "ca.key", "-cert", d / "ca.crt",
         "-gencrl", "-out", d / "crl.pem"])
    lab = make_lab(3)
    h0, _, h2 = lab.hosts
    h0.start(neighbors=[], extra_config=pki.config("h0") + f" crl {d / 'crl.pem'}")
    assert f"crl {d / 'crl.pem'}" in h0.hgwsh("show running-config")
    try:
        p = lab.connect(h2, h0, ssl_context=pki.client_context("revoked"))
    except (ssl.SSLError, ConnectionError):
        p = None   # refused during the handshake itself
    if p is not None:
        with p:
            try:
                p.send(hello(ATTACKER_ID, addrs=[h2.lan_ip]))
            except OSError:
                pass
            p.wait_closed(3)
            assert p.frames == [], [f["name"] for f in p.frames]
    with lab.connect(h2, h0, ssl_context=pki.client_context("good")) as p:
        assert p.handshake(ATTACKER_ID)["node_id"] == h0.node_id


# --------------------------------------------------------------------------
# row 12: a leasing host's LAN address changes
# --------------------------------------------------------------------------

def test_row12_address_change_is_a_gateway_change_not_a_new_owner(make_lab):
    """h1's LAN address changes from .11 to .21 while it runs, then it restarts: its node id
    stays 10.60.6.11 (kept while running, then read back from the node-id line of its lease
    file), so its lease stays its own; h0 accepts the session from the new address (the same
    NIC: the kernel resolves both addresses to one MAC) and routes the lease via .21. Nobody
    keeps a reservation for a new id, nobody else claims the subnet."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    start_leasing([h0, h1], seed=h0)
    leases = lab.wait_lease_mesh([h0, h1])
    s1 = leases[h1][4]
    assert f"node-id {h1.node_id}" in h1.lease_file.read_text()
    new = "10.60.6.21"
    # The new address takes over as primary when the old one goes (as DHCP would renumber).
    h1.run(["sysctl", "-qw", "net.ipv4.conf.eth0.promote_secondaries=1"])
    h1.ip("addr", "add", f"{new}/24", "dev", "eth0")
    h1.ip("addr", "del", f"{h1.lan_ip}/24", "dev", "eth0")

    def moved():
        assert h1.hgwsh("show summary json")["nodeId"] == h1.node_id
        t0 = h0.lease_table()
        assert set(e["owner"] for e in t0.values()) == {h0.node_id, h1.node_id}, t0
        assert t0[s1]["owner"] == h1.node_id and t0[s1]["state"] == "active", t0
        r = h0.show_route(s1)
        assert r and [p["gateway"] for p in r["paths"]] == [new], r
        assert route(s1, new) in h0.route_set(), h0.route_set()
        return True
    wait_until(moved, 15, msg="h0 to route h1's lease via its new address")
    assert h1.leases()["families"]["ipv4"]["lease"] == s1
    h1.stop(signal.SIGTERM)
    h1.start(h1.config_text)
    wait_until(moved, 15, msg="h1 back with its node id and lease")
    assert h1.leases()["families"]["ipv4"]["lease"] == s1
    assert "node id from" in h1.log_text()


# --------------------------------------------------------------------------
# rows 1 and 9 over mTLS: a holder of a mesh certificate
# --------------------------------------------------------------------------

def test_rows1_and_9_over_mtls(make_lab, tmp_path):
    """h0 and h1 lease over mutual TLS; the attacker holds a valid mesh certificate for its
    own node id. Its claim of h1's subnet (claim time 0), its announcement of it, and a
    route via h1's address listed in its HELLO change nothing and are refused."""
    from test_tls import PKI
    pki = PKI(tmp_path / "pki")
    pki.ca("ca")
    for name, ip in (("h0", "10.60.6.10"), ("h1", "10.60.6.11"), ("client", ATTACKER_ID)):
        pki.leaf(name, "ca", f"IP:{ip}")
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    for h in (h0, h1):
        h.start(wait=False, neighbors=[] if h is h0 else [h0], networks=[], timers=FAST,
                extra_config=h.lease_config(hold="1h") + pki.config(h.name) + "\n")
    for h in (h0, h1):
        h.wait_ready()
    leases = lab.wait_lease_mesh([h0, h1])
    for h in (h0, h1):
        h.use_subnet(leases[h][4])
    lab.wait_full_connectivity(hosts=[h0, h1], timeout=10)
    settle(lab, leases)
    s1 = leases[h1][4]
    v = Victims(lab, leases)
    with lab.connect(h2, h0, ssl_context=pki.client_context("client")) as p:
        p.handshake(ATTACKER_ID, addrs=[h2.lan_ip, h1.lan_ip], caps=CAP_IPV4 | CAP_LEASES)
        p.send(b"".join(lease_frames([lease_entry(LEASE_CLAIM, s1, ATTACKER_ID, 0, flags=F_ACTIVE)])))
        p.send(announce(ATTACKER_ID, h2.lan_ip, [s1]))
        p.send(announce(ATTACKER_ID, h1.lan_ip, ["10.244.250.0/24"]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] >= 1, 3, msg="the route via h1 refused")
        v.check("a forged claim over mTLS", refused_on=[h0])
        assert h0.show_route(s1)["paths"][0]["origin"] == h1.node_id
        assert h0.show_route("10.244.250.0/24") is None


# --------------------------------------------------------------------------
# lease mode: a node announces only the subnet it holds the lease for
# --------------------------------------------------------------------------

def free_subnet(leases, *taken) -> str:
    """A /24 of the cluster network that nobody leases."""
    used = {leases[h][4] for h in leases} | set(taken)
    return next(str(n) for n in ipaddress.ip_network(CLUSTER).subnets(new_prefix=24)
                if str(n) not in used and n.network_address.packed[2] >= 200)


def test_lease_mode_announce_only_the_senders_lease(mesh):
    """The attacker announces a free /24 of the cluster network without a lease: h0 refuses
    it ("not leased by the sender"), counts it, logs it once and routes nothing. Its LEASE
    claim of that /24 comes after the UPDATE: the held announcement is applied, the route
    appears without a new UPDATE. Its RELEASE withdraws the route again (counted). h0-h1 and
    the victims' leases and routes never change."""
    lab, leases = mesh
    h0, h1, h2 = lab.hosts
    free = free_subnet(leases)
    v = Victims(lab, leases)
    with attacker(lab) as p:
        p.send(announce(ATTACKER_ID, h2.lan_ip, [free]))
        wait_until(lambda: h0.peer(h2)["prefixesRefused"] >= 1, 3, msg="the announcement refused")
        peer = h0.peer(h2)
        assert peer["lastRefused"] == f"{free}: not leased by the sender", peer
        assert peer["prefixesAccepted"] == 0, peer
        stays_true(lambda: h0.show_route(free) is None, 1.0, msg="no route without a lease")
        assert h0.log_text().count(f"refused {free}: not leased by the sender") == 1
        # The claim arrives after the UPDATE: the route follows, no new UPDATE sent.
        p.send(b"".join(lease_frames([lease_entry(LEASE_CLAIM, free, ATTACKER_ID, now_ms())])))
        wait_until(lambda: [x["origin"] for x in (h0.show_route(free) or {}).get("paths", [])]
                   == [ATTACKER_ID], 3, msg="the held announcement applied once the claim arrived")
        assert h0.lease_table()[free]["owner"] == ATTACKER_ID
        assert h0.peer(h2)["prefixesAccepted"] == 1
        assert "now that its lease is known" in h0.log_text()
        # Released: the route it allowed goes.
        refused = h0.peer(h2)["prefixesRefused"]
        p.send(b"".join(lease_frames([lease_entry(LEASE_RELEASE, free, ATTACKER_ID, 0)])))
        wait_until(lambda: h0.show_route(free) is None, 3, msg="the route withdrawn with its lease")
        peer = h0.peer(h2)
        assert peer["prefixesAccepted"] == 0 and peer["prefixesRefused"] == refused + 1, peer
        assert peer["lastRefused"] == f"{free}: not leased by the sender", peer
        # Claimed again: the announcement held at the release comes back.
        p.send(b"".join(lease_frames([lease_entry(LEASE_CLAIM, free, ATTACKER_ID, now_ms())])))
        wait_until(lambda: h0.show_route(free) is not None, 3, msg="the route back with the claim")
        # Withdrawn by the sender, then released and claimed: nothing comes back.
        p.send(withdraw(ATTACKER_ID, [free]))
        wait_until(lambda: h0.show_route(free) is None, 3, msg="the withdrawal")
        p.send(b"".join(lease_frames([lease_entry(LEASE_RELEASE, free, ATTACKER_ID, 0),
                                      lease_entry(LEASE_CLAIM, free, ATTACKER_ID, now_ms())])))
        stays_true(lambda: h0.show_route(free) is None, 1.0, msg="a withdrawn announcement stays withdrawn")
        p.send(b"".join(lease_frames([lease_entry(LEASE_RELEASE, free, ATTACKER_ID, 0)])))
        wait_until(lambda: free not in h0.lease_table(), 3, msg="the attacker's lease released")
        v.check("announcements without a lease")


def test_static_hosts_may_announce_without_a_lease(make_lab):
    """A mixed cluster: h0 and h1 lease out of 10.244.0.0/16; h2 announces a static network
    inside it (cluster-network without subnet-length: it leases nothing). h0 names h2's
    address in ``static-hosts`` and routes h2's network; h1 does not: refused ("not leased
    by the sender"). h1 reloaded (SIGHUP) with static-hosts routes the held announcement
    without h2 sending it again (the same session); show running-config has the statement.
    A static host still may not announce another node's lease."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    sh = f"static-hosts {h2.lan_ip}/32\n"
    h0.start(wait=False, neighbors=[], networks=[], timers=FAST,
             extra_config=h0.lease_config(hold="1h") + sh)
    h1.start(wait=False, neighbors=[h0], networks=[], timers=FAST,
             extra_config=h1.lease_config(hold="1h"))
    for h in (h0, h1):
        h.wait_ready()
    leases = lab.wait_lease_mesh([h0, h1])
    static = free_subnet(leases)
    h2.start(neighbors=[h0, h1], networks=[static], timers=FAST,
             extra_config=f"cluster-network {CLUSTER}\nno ip-masq\n")
    wait_until(lambda: [x["origin"] for x in (h0.show_route(static) or {}).get("paths", [])]
               == [h2.node_id], 10, msg="h0 to route h2's static network")
    wait_until(lambda: (h1.peer(h2).get("lastRefused") or "") == f"{static}: not leased by the sender",
               10, msg="h1 to refuse h2's static network")
    assert h1.show_route(static) is None
    p12 = h1.peer(h2)
    h1.reload(h1.config_text + " " + sh)
    wait_until(lambda: [x["origin"] for x in (h1.show_route(static) or {}).get("paths", [])]
               == [h2.node_id], 5, msg="h1 to route the held announcement after the reload")
    p = h1.peer(h2)
    assert p["state"] == "established" and p["flaps"] == p12["flaps"], p
    assert f" static-hosts {h2.lan_ip}/32" in h1.hgwsh("show running-config json")["lines"]
    # A static host announcing h1's lease: refused as another node's lease.
    h2.reload(h2.config_text + f" network {leases[h1][4]}\n")
    wait_until(lambda: (h0.peer(h2).get("lastRefused") or "").startswith(leases[h1][4]), 5,
               msg="h0 to refuse h1's lease from a static host")
    assert h0.peer(h2)["lastRefused"] == f"{leases[h1][4]}: leased by node {h1.node_id}, not by the sender"
    assert [x["origin"] for x in h0.show_route(leases[h1][4])["paths"]] == [h1.node_id]


def test_limits_sessions_per_source_and_reload(make_lab):
    """``limits sessions-per-source 1`` given by a reload (SIGHUP): show summary shows the new
    limits at once; a second connection from an address that has one session open (in its
    handshake here) is closed before anything is read, counted and logged; the h0-h1 session
    is untouched."""
    import socket
    from hgwwire import in_netns
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(neighbors=[h1])
    h1.start(neighbors=[h0])
    lab.wait_established()
    p01 = h0.peer(h1)
    assert h0.hgwsh("show summary json")["limits"]["sessionsPerSource"] == 3
    h0.reload(h0.config_text + " limits sessions-per-source 1\n limits output-budget 2M\n")
    wait_until(lambda: h0.hgwsh("show summary json")["limits"]["sessionsPerSource"] == 1, 5,
               msg="the reload to apply the limits")
    lim = h0.hgwsh("show summary json")["limits"]
    assert lim["outputBudget"] == 2 << 20, lim
    refused = lim["connectionsRefused"]

    def two():
        socks = []
        for _ in range(2):
            s = socket.create_connection((h0.lan_ip, 7179), timeout=3)
            socks.append(s)
        return socks
    a, b = in_netns(h2.ns, two)
    try:
        b.settimeout(3)
        assert b.recv(1) == b"", "the second session from one address was not closed"
        wait_until(lambda: h0.hgwsh("show summary json")["limits"]["connectionsRefused"] > refused, 3,
                   msg="the refusal counted")
        assert "too many sessions from that address" in h0.log_text()
    finally:
        a.close()
        b.close()
    after = h0.peer(h1)
    assert after["state"] == "established" and after["flaps"] == p01["flaps"], after
