"""test_cni: hgw as a drop-in for flanneld on a node (issue 12), with the real CNI
plugins (containernetworking-plugins' bridge and host-local) configured the way
the flannel CNI plugin configures them from hgwd's subnet.env.

One dual-stack lab of two hosts whose LAN interfaces have different names (eth0,
ens5) and whose configuration has no ``interface`` line, with the filter FORWARD
policy at DROP (iptables-nft, set before hgwd starts), plus an outside host on
the LAN with no route to any pod. It checks: pod to pod across hosts keeps the
pod's source address; pod to the outside host works and arrives from the node's
LAN address (ip-masq); ``nft flush table inet hgw`` and a flush of FORWARD are
repaired within the stated bound; forwarding off shows in ``show summary json``
and ``ip-forward enable`` turns it back on; after a shutdown (SIGTERM) the NAT
table and the accept rules are gone and the DROP policy stays.
"""

import ipaddress
import re

import pytest

from hgwlab import netns_exec, stays_true, time_until, wait_until
from labcni import OUTSIDE_IP, OUTSIDE_IP6, CniLab, missing_tools

#: daemon/hostnet.h HOSTNET_REPAIR_MS: the repair timer's period
REPAIR_S = 2.0
#: what the test allows for a repair: the period, one nft transaction, polling
REPAIR_BOUND_S = REPAIR_S + 1.5
CLUSTER4 = "10.244.0.0/16"
CLUSTER6 = "fd00:244::/48"


@pytest.fixture(autouse=True)
def _tools():
    problems = missing_tools()
    if problems:
        # Not a skip: the suite requires these (tests/setup.sh installs them).
        pytest.fail("missing for the CNI tests: " + "; ".join(problems) + " (run tests/setup.sh)")


def node_config(h, lab):
    """The same config on every host but the neighbor list: no interface line."""
    text = h.make_config(networks=[], extra_config=h.lease_config(cluster=CLUSTER4, cluster6=CLUSTER6))
    assert " interface eth0\n" in text
    return text.replace(" interface eth0\n", "")


def summary(h):
    return h.hgwsh("show summary json")


def start_cluster(make_lab):
    lab = make_lab(2, ipv6=True)
    cni = CniLab(lab)
    h0, h1 = lab.hosts
    cni.rename_lan(h1, "ens5")
    cni.add_outside()
    for h in lab.hosts:
        # Docker's default, before hgwd starts.
        netns_exec(h.ns, ["iptables", "-P", "FORWARD", "DROP"])
        netns_exec(h.ns, ["ip6tables", "-P", "FORWARD", "DROP"])
    for h in lab.hosts:
        h.start(config=node_config(h, lab), wait=False)
    for h in lab.hosts:
        h.wait_ready()
    leases = cni.wait_lease_mesh()
    return lab, cni, leases


def hostnet_ready(h):
    s = summary(h)
    hn = s["hostnet"]
    if not (hn["masqInstalled"] and hn["forwardAcceptChains"] >= 2):
        raise AssertionError(f"{h.name} hostnet: {hn}")
    return s


def test_cni_flannel_dropin(make_lab):
    lab, cni, leases = start_cluster(make_lab)
    h0, h1 = lab.hosts

    # interface auto picked each host's own LAN interface, and says so.
    for h, name in ((h0, "eth0"), (h1, "ens5")):
        s = wait_until(lambda h=h: hostnet_ready(h), 10, msg=f"{h.name}'s masquerade and forward rules")
        assert s["interface"] == name and s["interfaceAuto"] is True, s
        assert s["hostnet"]["ipMasq"] is True and s["hostnet"]["forwardIp"] is True, s
        text = h.hgwsh("show summary")
        assert f"interface: {name} (auto)" in text, text
        assert f"interface auto: {name}" in h.log_text()
        env = h.subnet_env()
        assert env["FLANNEL_IPMASQ"] == "true" and env["FLANNEL_MTU"] == "1500", env
        # The masquerade table, and the accept rules inserted in iptables-nft's FORWARD.
        table = cni.hgw_table(h)
        assert table and "masquerade" in table and "ip6 daddr != ff00::/8" in table, table
        fwd = cni.forward_rules(h)
        assert "-P FORWARD DROP" in fwd, fwd
        assert f"-A FORWARD -s {CLUSTER4} -m comment --comment hgw-forward -j ACCEPT" in fwd, fwd
        assert f"-A FORWARD -d {CLUSTER4} -m comment --comment hgw-forward -j ACCEPT" in fwd, fwd
        fwd6 = cni.forward_rules(h, v6=True)
        assert f"-A FORWARD -s {CLUSTER6} -m comment --comment hgw-forward -j ACCEPT" in fwd6, fwd6

    # Pods made by the CNI bridge plugin from subnet.env.
    p0 = cni.add_pod(h0, "p0")
    p1 = cni.add_pod(h1, "p1")
    assert ipaddress.ip_address(p0.ip4) in ipaddress.ip_network(leases[h0][4]), (p0, leases)
    assert ipaddress.ip_address(p1.ip6) in ipaddress.ip_network(leases[h1][6]), (p1, leases)

    # Pod to pod across hosts: the pod's own source address arrives (no masquerade).
    cni.echo_server(p1.ns, "0.0.0.0", 7400)
    cni.echo_server(p1.ns, "::", 7406)
    assert cni.wait_seen_as(p0.ns, p1.ip4, 7400) == p0.ip4
    assert cni.wait_seen_as(p0.ns, p1.ip6, 7406) == p0.ip6

    # Pod to a host outside the cluster network: masqueraded to the node's address.
    cni.echo_server(cni.outside_ns, "0.0.0.0", 7400)
    cni.echo_server(cni.outside_ns, "::", 7406)
    assert cni.wait_seen_as(p0.ns, OUTSIDE_IP, 7400) == h0.lan_ip
    assert cni.wait_seen_as(p1.ns, OUTSIDE_IP, 7400) == h1.lan_ip
    assert cni.wait_seen_as(p1.ns, OUTSIDE_IP6, 7406) == h1.lan_ip6

    # Someone flushes our table: repaired within the bound, and said so.
    cni.nft(h0.ns, "flush table inet hgw")
    assert "masquerade" not in (cni.hgw_table(h0) or "")
    took = time_until(lambda: "masquerade" in (cni.hgw_table(h0) or ""), REPAIR_BOUND_S,
                      msg="the flushed table inet hgw to be reinstalled")
    print(f"table inet hgw repaired in {took:.2f} s (bound {REPAIR_BOUND_S} s)")
    assert cni.wait_seen_as(p0.ns, OUTSIDE_IP, 7400, timeout=3) == h0.lan_ip
    # ... and the whole table deleted, and FORWARD flushed on h1.
    cni.nft(h0.ns, "delete table inet hgw")
    netns_exec(h1.ns, ["iptables", "-F", "FORWARD"])
    time_until(lambda: cni.hgw_table(h0) is not None, REPAIR_BOUND_S, msg="table inet hgw to come back")
    time_until(lambda: any("hgw-forward" in l for l in cni.forward_rules(h1)), REPAIR_BOUND_S,
               msg="h1's forward accept rules to come back")
    assert cni.wait_seen_as(p0.ns, p1.ip4, 7400, timeout=3) == p0.ip4
    assert summary(h0)["hostnet"]["repairs"] >= 2
    assert "reinstalling it" in h0.log_text()

    # Forwarding off: in the log and in show summary (json and text).
    netns_exec(h1.ns, ["sysctl", "-qw", "net.ipv4.ip_forward=0"])
    wait_until(lambda: summary(h1)["hostnet"]["forwardIp"] is False, REPAIR_BOUND_S,
               msg="show summary json to report IPv4 forwarding off")
    assert "forward ip: off" in h1.hgwsh("show summary")
    assert re.search(r"IPv4 forwarding is off", h1.log_text())
    # ip-forward enable turns it back on.
    h1.reload(h1.config_text.rstrip("\n") + "\n ip-forward enable\n")
    wait_until(lambda: netns_exec(h1.ns, ["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1",
               REPAIR_BOUND_S + 2, msg="ip-forward enable to turn net.ipv4.ip_forward on")
    wait_until(lambda: summary(h1)["hostnet"]["forwardIp"] is True, REPAIR_BOUND_S, msg="forwardIp on")
    assert cni.wait_seen_as(p0.ns, p1.ip4, 7400, timeout=3) == p0.ip4

    # Shutdown (leaving the mesh): rules and table gone, DROP kept.
    for h in lab.hosts:
        assert h.leave() == 0
        assert cni.hgw_table(h) is None, cni.hgw_table(h)
        fwd = cni.forward_rules(h) + cni.forward_rules(h, v6=True)
        assert not [l for l in fwd if "hgw-forward" in l], fwd
        assert "-P FORWARD DROP" in fwd, fwd
    # Without the accept rules, the DROP policy now stops pod traffic (the test can fail).
    assert cni.seen_as(p0.ns, p1.ip4, 7400) is None


def test_no_ip_masq_keeps_cni_masquerade(make_lab):
    """``no ip-masq``: no table of ours, FLANNEL_IPMASQ=false (so the CNI masquerades)."""
    lab = make_lab(1)
    cni = CniLab(lab)
    (h0,) = lab.hosts
    h0.start(networks=[], extra_config=h0.lease_config(cluster=CLUSTER4) + "no ip-masq\n")
    wait_until(lambda: (h0.subnet_env() or {}).get("FLANNEL_IPMASQ") == "false", 10,
               msg="subnet.env with FLANNEL_IPMASQ=false")
    wait_until(lambda: summary(h0)["hostnet"]["ipMasq"] is False, 5, msg="ipMasq false")
    stays_true(lambda: cni.hgw_table(h0) is None, REPAIR_BOUND_S, msg="no table inet hgw")
    assert "no ip-masq" in h0.hgwsh("show running-config")


def test_static_host_auto_interface_mtu_and_legacy(make_lab):
    """A static host (``network`` inside a ``cluster-network``, no lease), no
    neighbors, no interface line, its LAN interface named lan0 with a default
    route: interface auto takes the default route's interface; subnet.env is
    written from the static network and follows an MTU change; iptables-legacy
    rules are reported in show summary and left alone."""
    lab = make_lab(1, ipv6=True)
    cni = CniLab(lab)
    (h0,) = lab.hosts
    cni.rename_lan(h0, "lan0")
    cni.add_outside()
    netns_exec(h0.ns, ["ip", "route", "add", "default", "via", OUTSIDE_IP])
    legacy = ["-t", "nat", "-A", "POSTROUTING", "-s", "10.99.0.0/16", "-j", "MASQUERADE"]
    netns_exec(h0.ns, ["iptables-legacy", *legacy])
    netns_exec(h0.ns, ["iptables-legacy", "-P", "FORWARD", "DROP"])
    before = netns_exec(h0.ns, ["iptables-legacy-save"]).stdout
    text = h0.make_config(neighbors=[], networks=["10.244.9.0/24", "fd00:244:0:9::/64"],
                          extra_config=f"cluster-network {CLUSTER4}\ncluster-network {CLUSTER6}\n"
                                       f"subnet-env {h0.subnet_env_file}\n")
    h0.start(config=text.replace(" interface eth0\n", ""))
    s = wait_until(lambda: hostnet_ready_masq(h0), 10, msg="h0's masquerade table")
    assert s["interface"] == "lan0" and s["interfaceAuto"] is True, s
    env = wait_until(h0.subnet_env, 5, msg="subnet.env of a static host")
    assert env == {"FLANNEL_NETWORK": CLUSTER4, "FLANNEL_SUBNET": "10.244.9.1/24",
                   "FLANNEL_IPV6_NETWORK": CLUSTER6, "FLANNEL_IPV6_SUBNET": "fd00:244:0:9::1/64",
                   "FLANNEL_MTU": "1500", "FLANNEL_IPMASQ": "true"}, env
    # FLANNEL_MTU follows the interface within the timer's period.
    netns_exec(h0.ns, ["ip", "link", "set", "lan0", "mtu", "1400"])
    wait_until(lambda: h0.subnet_env()["FLANNEL_MTU"] == "1400", REPAIR_BOUND_S,
               msg="FLANNEL_MTU to follow the MTU change")
    # The legacy rules: reported, untouched.
    leg = wait_until(lambda: summary(h0)["hostnet"]["legacyIptables"], REPAIR_BOUND_S,
                     msg="the iptables-legacy rules to be reported")
    assert "POSTROUTING MASQUERADE" in leg and "FORWARD policy DROP" in leg, leg
    assert "iptables-legacy tables in use" in h0.log_text()
    assert "Warning: iptables-legacy" in h0.hgwsh("show summary")
    after = netns_exec(h0.ns, ["iptables-legacy-save"]).stdout
    strip = lambda t: [l for l in t.splitlines() if not l.startswith("#")]  # noqa: E731
    assert strip(after) == strip(before)
    # Our table holds only what the static networks give (IPv4 and IPv6).
    table = cni.hgw_table(h0)
    assert "10.244.9.0/24" in table and "fd00:244:0:9::/64" in table, table


def hostnet_ready_masq(h):
    s = summary(h)
    if not s["hostnet"]["masqInstalled"]:
        raise AssertionError(f"{h.name} hostnet: {s['hostnet']}")
    return s


def test_auto_interface_follows_the_default_route(make_lab):
    """interface auto is looked at again every 2 s: the default route moved to
    another interface moves hgwd (log, show summary, subnet.env's MTU) there."""
    lab = make_lab(1)
    cni = CniLab(lab)
    (h0,) = lab.hosts
    cni.add_outside()
    netns_exec(h0.ns, ["ip", "route", "add", "default", "via", OUTSIDE_IP])
    text = h0.make_config(neighbors=[], networks=["10.244.9.0/24"],
                          extra_config=f"cluster-network {CLUSTER4}\nsubnet-env {h0.subnet_env_file}\n")
    h0.start(config=text.replace(" interface eth0\n", ""))
    assert summary(h0)["interface"] == "eth0"
    for c in ("link add lan1 mtu 1300 type veth peer name lan1p", "addr add 10.77.0.1/24 dev lan1",
              "link set lan1p up", "link set lan1 up", "route replace default via 10.77.0.2 dev lan1"):
        netns_exec(h0.ns, ["ip", *c.split()])
    took = time_until(lambda: summary(h0)["interface"] == "lan1", REPAIR_BOUND_S,
                      msg="interface auto to follow the default route to lan1")
    print(f"interface auto moved in {took:.2f} s")
    assert "interface auto: the LAN interface is now lan1 (was eth0)" in h0.log_text()
    assert "interface: lan1 (auto)" in h0.hgwsh("show summary")
    wait_until(lambda: h0.subnet_env()["FLANNEL_MTU"] == "1300", REPAIR_BOUND_S,
               msg="FLANNEL_MTU from the new interface")
    # A reload keeps the interface auto chose.
    h0.reload()
    wait_until(lambda: "configuration reloaded" in h0.log_text(), 5, msg="the reload")
    assert summary(h0)["interface"] == "lan1"
