#!/usr/bin/env python3
"""demo.py: a live 3-host demo of hgw in network namespaces.

Three hosts on one LAN bridge, each with its filter FORWARD policy at drop
(as Docker leaves it). h0 is the seed; h1 and h2 know only h0. Every host
leases its container subnet from the cluster network 10.244.0.0/16 (no
hand-written subnets), hgwd installs `<subnet> via <host>` routes, its
masquerade rules (ip-masq, on by default with a cluster network) and accept
rules for the cluster network in the FORWARD chain, and the containers ping
each other. Everything is torn down at the end.
Run as root: python3 tests/lab/demo.py [--builddir DIR]
"""
import argparse
import ipaddress
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def readdress(h, subnet):
    """Move a host's container bridge and container into its leased subnet."""
    net = ipaddress.ip_network(subnet)
    gw, ctr = net.network_address + 1, net.network_address + 11
    h.sh(f"ip addr flush dev cbr0 && ip addr add {gw}/{net.prefixlen} dev cbr0")
    h.container_sh(f"ip addr flush dev eth0 && ip addr add {ctr}/{net.prefixlen} dev eth0 "
                   f"&& ip route replace default via {gw}")
    h.subnet, h.gw_ip, h.container_ip = subnet, str(gw), str(ctr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builddir", default=os.environ.get("HGW_BUILDDIR", "build"))
    args = ap.parse_args()
    os.environ["HGW_BUILDDIR"] = os.path.abspath(args.builddir)
    os.environ.setdefault("HGWD_ARGS", "")
    from hgwlab import Lab, wait_until

    if os.geteuid() != 0:
        sys.exit("demo.py: run as root (it makes network namespaces)")
    lab = Lab(3)
    try:
        h = lab.hosts
        print(f"== LAN 10.60.6.0/24 in namespaces {lab.prefix}-*: "
              + ", ".join(f"{x.name}={x.lan_ip}" for x in h))
        for x in h:
            # What Docker does to a host: forwarded traffic is dropped unless
            # a rule accepts it. hgwd adds the accept rules for the cluster.
            x.sh("iptables -P FORWARD DROP && ip6tables -P FORWARD DROP")
        print("== FORWARD policy drop on every host (iptables-nft)")
        for i, x in enumerate(h):
            cfg = x.make_config(neighbors=[] if i == 0 else [h[0]], networks=[], timers=(1, 3),
                                extra_config="cluster-network 10.244.0.0/16 subnet-length 24\n"
                                f"lease-file {lab.workdir}/{x.name}.lease\n"
                                f"subnet-env {lab.workdir}/{x.name}.subnet.env\n")
            x.start(config=cfg)
        print("== hgwd started on every host (h1 and h2 know only the seed h0)")
        t0 = time.monotonic()

        def leases():
            return {x.name: x.hgwsh("show leases json")["families"]["ipv4"]["lease"] for x in h}
        wait_until(lambda: all(leases().values()), 15, msg="every host to lease a subnet")
        for x, sub in zip(h, [leases()[x.name] for x in h]):
            readdress(x, sub)
        wait_until(lambda: all(len(x.route_set()) == 2 for x in h), 15, msg="routes on every host")
        print(f"== converged in {time.monotonic() - t0:.2f} s")
        for x in h:
            print(f"\n-- {x.name} ({x.lan_ip}) leased {x.subnet}; its subnet.env:")
            print("   " + open(f"{lab.workdir}/{x.name}.subnet.env").read().strip().replace("\n", "\n   "))
            print(f"-- {x.name}: ip route show proto 77")
            print("   " + x.sh("ip route show proto 77").stdout.strip().replace("\n", "\n   "))
        wait_until(lambda: all(x.hgwsh("show summary json")["hostnet"]["masqInstalled"] for x in h),
                   15, msg="masquerade rules on every host")
        print(f"\n-- h0: nft list table inet hgw (masquerade to outside the cluster)")
        print("   " + h[0].sh("nft list table inet hgw").stdout.strip().replace("\n", "\n   "))
        print("-- h0: iptables -S FORWARD (the accept rules hgwd added)")
        print("   " + h[0].sh("iptables -S FORWARD").stdout.strip().replace("\n", "\n   "))
        print()
        failed = 0
        for a in h:
            for b in h:
                if a is b:
                    continue
                ok = a.container_ping(b.container_ip)
                failed += not ok
                print(f"== ping {a.name}'s container {a.container_ip} -> {b.name}'s container "
                      f"{b.container_ip}: {'ok' if ok else 'FAILED'}")
        print("\n-- h0: hgwsh -c 'show peers'")
        print(h[0].hgwsh_raw("show peers").stdout.rstrip())
        print("\n== stopping h2 (SIGTERM): its route leaves the others at once")
        t1 = time.monotonic()
        h[2].stop()
        wait_until(lambda: all(len(x.route_set()) == 1 for x in h[:2]), 5, msg="h2's route to go")
        print(f"== gone from h0 and h1 after {1000 * (time.monotonic() - t1):.0f} ms")
        return 1 if failed else 0
    finally:
        lab.cleanup()
        print("== torn down")


if __name__ == "__main__":
    sys.exit(main())
