"""bench_encap: part G of the benchmark suite: does encap vxlan slow the on-link pair?

The lab's two LANs and a router (tests/lab/labvxlan.py): h0 and h1 on LAN A,
h2 on LAN B. A timed bulk TCP transfer (Python sockets, 1 MiB writes, one
stream) from h0's container to h1's (the on-link pair, a direct route) with
encapsulation off and on, in the order off-on, on-off, ... (the
configuration is reloaded and the routes awaited between them); and, for context, from h0's
container to h2's through hgw.vxlan. The containers' MTU is the LAN's in both
cases, so what is compared is the path alone.
"""

from __future__ import annotations

import json
import os
import subprocess

RECEIVER = r"""
import json, socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
buf = bytearray(1 << 20)
n, t0 = 0, None
while True:
    k = c.recv_into(buf)
    if not k:
        break
    if t0 is None:
        t0 = time.monotonic()
    n += k
print(json.dumps({"bytes": n, "s": time.monotonic() - t0}), flush=True)
"""

SENDER = r"""
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5201), timeout=10)
buf = b"x" * (1 << 20)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    c.sendall(buf)
c.close()
"""


def transfer(src, dst, seconds: float) -> float:
    """Bulk TCP from src's container to dst's for ``seconds``; Gbit/s as the receiver counted it."""
    rx = subprocess.Popen(["ip", "netns", "exec", dst.cns, "python3", "-c", RECEIVER],
                          stdout=subprocess.PIPE, text=True)
    try:
        if rx.stdout.readline().strip() != "ready":
            raise RuntimeError("G: the receiver did not start")
        subprocess.run(["ip", "netns", "exec", src.cns, "python3", "-c", SENDER, dst.container_ip,
                        str(seconds)], check=True, timeout=seconds + 30)
        out, _ = rx.communicate(timeout=30)
        r = json.loads(out.strip().splitlines()[-1])
        return r["bytes"] * 8 / r["s"] / 1e9
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()


def part_g(builddir, runs: int, seconds: float, log) -> dict:
    """Part G's samples: Gbit/s of the direct pair with encap off and on, and of the vxlan pair."""
    os.environ.setdefault("HGW_BUILDDIR", str(builddir))
    from labexpect import wait_until
    from labtopo import Lab
    from labvxlan import VXLAN, TwoLans

    s = {"direct_off_gbps": [], "direct_on_gbps": [], "vxlan_gbps": []}
    lab = Lab(3)
    try:
        t = TwoLans(lab)
        h0, h1, h2 = lab.hosts
        direct = f"{h1.subnet} via {h1.lan_ip} dev eth0 metric 20"
        across = f"{h2.subnet} via {h2.lan_ip} dev {VXLAN} metric 20 onlink"
        for h in lab.hosts:
            h.start(config=t.config(h, encap=None))
        for r in range(runs):
            # off-on, then on-off: a load that drifts during the run weighs
            # on both sides alike.
            for on in ((False, True) if r % 2 == 0 else (True, False)):
                for h in lab.hosts:
                    h.reload(t.config(h, encap="encap vxlan" if on else None))
                wait_until(lambda: t.proto_route(h0, h1.subnet) == direct and
                           (t.proto_route(h0, h2.subnet) == across) == on and
                           (not on or t.proto_route(h2, h0.subnet) != ""), 20,
                           msg=f"routes with encap {'vxlan' if on else 'none'}")
                h0.wait_container_ping(h1.container_ip, timeout=10)
                s["direct_on_gbps" if on else "direct_off_gbps"].append(transfer(h0, h1, seconds))
                if on:
                    h0.wait_container_ping(h2.container_ip, timeout=10)
                    s["vxlan_gbps"].append(transfer(h0, h2, seconds))
            log(f"G run {r + 1}: direct pair {s['direct_off_gbps'][-1]:.2f} Gbit/s with encap none, "
                f"{s['direct_on_gbps'][-1]:.2f} with encap vxlan; across the router through {VXLAN} "
                f"{s['vxlan_gbps'][-1]:.2f}")
    finally:
        problems = lab.cleanup()
        if problems:
            raise RuntimeError("G: " + "; ".join(problems))
    return s
