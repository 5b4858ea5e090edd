"""One configuration for every node (issue 12): the same file on every host,
listing every host as a neighbor, the host itself included. A neighbor that is
one of the host's own addresses is recognised as itself: never dialled, no
session with itself, no error, and no wait for a table of its own (the seed
takes its lease at once)."""

import time

from hgwlab import wait_until

FAST = (0.2, 0.6)  # keepalive, hold


def test_same_config_everywhere_meshes_without_a_self_session(make_lab):
    lab = make_lab(3)
    everyone = [h.lan_ip for h in lab.hosts]
    starts = {}
    for h in lab.hosts:
        starts[h.name] = time.monotonic()
        h.start(wait=False, neighbors=everyone, networks=[], timers=FAST,
                extra_config=h.lease_config())
    for h in lab.hosts:
        h.wait_ready()

    def meshed():
        for h in lab.hosts:
            peers = h.peers()
            others = [p for a, p in peers.items() if a != h.lan_ip]
            if len(others) != 2 or any(p["state"] != "established" for p in others):
                return False
        return True
    wait_until(meshed, 10, msg="every host established with the two others")

    for h in lab.hosts:
        peers = h.peers()
        # no row for itself, and nothing that failed
        assert h.lan_ip not in peers, f"{h.name} shows itself as a peer: {peers[h.lan_ip]}"
        for addr, p in peers.items():
            assert p["errors"] == 0, f"{h.name}: peer {addr} has errors: {p}"
            assert p["lastError"] is None or "our node id" not in p["lastError"], p
        assert "peer uses our node id" not in h.log_text()
        summary = h.hgwsh("show summary json")
        assert summary["initialSyncDone"] is True
        assert summary["peers"]["configured"] == 2, summary["peers"]


def test_seed_listing_itself_leases_without_waiting_for_the_startup_timer(make_lab):
    lab = make_lab(1)
    h = lab.hosts[0]
    # The seed's config names the seed itself: it must not wait for its own
    # END-OF-RIB (the startup timer is 5 s by default).
    t0 = time.monotonic()
    h.start(neighbors=[h.lan_ip], networks=[], timers=FAST, extra_config=h.lease_config())
    wait_until(lambda: h.leases()["families"]["ipv4"]["lease"] is not None, 4,
               msg="the seed to lease a subnet")
    took = time.monotonic() - t0
    assert took < 2.0, f"the seed took {took:.2f} s to lease (startup timer wait?)"
    assert h.peers() == {}, h.peers()
    assert "initial sync over (no neighbors to wait for)" in h.log_text()
