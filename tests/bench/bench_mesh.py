"""bench_mesh: part D of the benchmark suite: meshes of many hosts on one LAN.

Host namespaces d1..dN on one bridge (namespace dlan), LAN 10.60.0.i/24,
permanent neighbour entries (the kernel's ARP table is shared by every
namespace: gc_thresh3 1024, and N*(N-1) learned entries would overflow it),
and a container-like address 10.200.i.1/24 on an interface ctr0 in each
host (one end of a veth pair whose other end, ctr1, stays in the host: the
kernel may have no dummy driver), inside the network 10.200.i.0/24 that host's
hgwd announces.

Each run:
  1. the full mesh of H (50) hosts, every host listing the others as
     neighbors, keepalive 1 s, hold 3 s: time from the last start until every
     host has all H-1 routes;
  2. flows: P (5) sampled host pairs ping each other both ways at 100 pps
     (ping -i 0.01, from 10.200.i.1 to 10.200.j.1) while
       - each pair's destination's hgwd is SIGTERMed and started again, then
         its source's (graceful restart);
       - the same with SIGKILL;
       - every hgwd is SIGTERMed, then all are started again;
     packets lost per scenario (sequence gaps in the replies), and the lines
     ``ip monitor route`` printed on the sampled hosts for the pairs'
     prefixes (a delete or re-add of an unchanged route);
  3. one host's shutdown (SIGUSR2, as hgwsh -c shutdown), kill -9 followed by
     its LAN link going down, and silence (its LAN link down): time until no
     other host holds its route; back to a full mesh after each;
  4. the mesh of S (100) hosts from one seed: host 1 has no neighbor, the
     others name only host 1 and learn the rest from MEMBERS frames; time
     from the last start until every host has all S-1 routes.

bench.py is the program (__main__): its helpers (namespaces, processes, the
route watcher, hgwd) reach this module as ``H``; importing bench.py again
would make a second registry of namespaces and processes.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time

HOLD = 3.0
REPLY = re.compile(rb"bytes from .*icmp_seq=(\d+)")
SUMMARY = re.compile(rb"(\d+) packets transmitted, (\d+) received")
MARKER = "198.51.100.1"
STEADY_S = 3.0      # the seed mesh's steady-state CPU sample


def mac(i: int) -> str:
    return f"02:00:0a:3c:{i >> 8:02x}:{i & 255:02x}"


def build(H, n: int) -> tuple[str, list[str]]:
    """The LAN namespace and n host namespaces (d1..dn), everything up."""
    lan = H.add_ns("dlan")
    # The bridge stands for a switch, which filters nothing: where the
    # br_netfilter module is loaded (by Docker, say), bridged frames would
    # also pass iptables, a tenth of the mesh's CPU here. Absent: no-op.
    H.run(["ip", "netns", "exec", lan, "sh", "-c",
           "for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e \"$f\" ] && echo 0 > \"$f\"; done; true"])
    H.run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"])
    H.run(["ip", "-n", lan, "link", "set", "br0", "up"])
    hosts = []
    for i in range(1, n + 1):
        hns = H.add_ns(f"d{i}")
        H.run(["ip", "netns", "exec", hns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0",
               "net.ipv4.conf.default.rp_filter=0"])
        H.ip_batch(hns, ["link set lo up",
                         f"link add eth0 address {mac(i)} type veth peer name vh{i} netns {lan}",
                         f"addr add 10.60.0.{i}/24 dev eth0", "link set eth0 up",
                         "link add ctr0 type veth peer name ctr1", f"addr add 10.200.{i}.1/24 dev ctr0",
                         "link set ctr0 up", "link set ctr1 up"])
        hosts.append(hns)
    H.ip_batch(lan, [c for i in range(1, n + 1)
                     for c in (f"link set vh{i} master br0", f"link set vh{i} up")])
    for i in range(1, n + 1):
        H.ip_batch(hosts[i - 1], [f"neigh replace 10.60.0.{j} lladdr {mac(j)} dev eth0 nud permanent"
                                  for j in range(1, n + 1) if j != i])
    return lan, hosts


def settled(d, npeers: int) -> bool:
    """d is up with npeers configured peers, each established, its END-OF-RIB in, none restarting."""
    try:
        peers = [p for p in d.ctl_json("show peers json")["peers"].values() if p["configured"]]
    except (OSError, ValueError, RuntimeError):
        return False
    return len(peers) == npeers and all(p["state"] == "established" and p["eorReceived"] and
                                        not p["restarting"] for p in peers)


def wait_settled(ds, npeers: int, timeout: float, what: str) -> float:
    """Waits until every daemon of ds is settled; the time it took."""
    t0 = time.monotonic()
    pending = list(ds)
    while True:
        pending = [d for d in pending if not settled(d, npeers)]
        if not pending:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"D: {what}: {', '.join(d.name for d in pending)} not back with "
                               f"every peer within {timeout} s")
        time.sleep(0.05)


class Flows:
    """ping -i 0.01 both ways between the containers (10.200.i.1) of host pairs,
    and ``ip monitor route`` on each of those hosts."""

    def __init__(self, b, H, hosts: list[str], pairs: list[tuple[int, int]], tag: str) -> None:
        self.pings, self.mons = [], {}
        self.pfx = {i: f"10.200.{j}.0/24" for a, c in pairs for i, j in ((a, c), (c, a))}
        for i in self.pfx:
            path = b.tmp / f"mon-{tag}-d{i}.log"
            f = open(path, "wb")
            self.mons[i] = (H.spawn(["ip", "monitor", "route"], ns=hosts[i - 1], stdout=f,
                                    stderr=subprocess.STDOUT), path)
            f.close()
        for i, (p, path) in self.mons.items():
            def listening(i=i, path=path):
                # add and delete a marker route: seen in the log once the monitor listens
                H.run(["ip", "-n", hosts[i - 1], "route", "replace", f"{MARKER}/32", "dev", "ctr0", "proto", "99"])
                H.run(["ip", "-n", hosts[i - 1], "route", "del", f"{MARKER}/32", "dev", "ctr0", "proto", "99"])
                return MARKER.encode() in path.read_bytes()
            poll(listening, 5, f"ip monitor route on d{i} to listen")
        for a, c in pairs:
            for i, j in ((a, c), (c, a)):
                path = b.tmp / f"ping-{tag}-d{i}-d{j}.log"
                f = open(path, "wb")
                p = H.spawn(["ping", "-n", "-i", "0.01", "-I", f"10.200.{i}.1", f"10.200.{j}.1"],
                            ns=hosts[i - 1], stdout=f, stderr=subprocess.STDOUT)
                f.close()
                self.pings.append((f"d{i}->d{j}", p, path))
        poll(lambda: all(len(REPLY.findall(path.read_bytes())) >= 5 for _, _, path in self.pings),
             10, "pings to flow")

    def stop(self) -> dict:
        """Stops the pings and monitors: {lost, sent, per ping, route changes}."""
        for _, p, _ in self.pings:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGINT)
        res = {"lost": 0, "sent": 0, "pings": {}, "route_changes": 0, "changes": []}
        for name, p, path in self.pings:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"D: {name}: ping did not stop") from None
            lost, sent = ping_lost(path.read_bytes(), name)
            res["lost"] += lost
            res["sent"] += sent
            res["pings"][name] = lost
        for i, (p, path) in self.mons.items():
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
            lines = [l for l in path.read_text(errors="replace").splitlines() if self.pfx[i] in l]
            res["route_changes"] += len(lines)
            res["changes"] += [f"d{i}: {l}" for l in lines[:3]]
        return res


def ping_lost(text: bytes, name: str) -> tuple[int, int]:
    """(lost, sent) from one ping's output: the sequence numbers missing among the
    replies, and the requests sent after the last reply but one (ping is stopped
    with SIGINT: its last request may still be on its way, never more)."""
    m = SUMMARY.search(text)
    if not m:
        raise RuntimeError(f"D: {name}: no ping summary in {text[-300:]!r}")
    sent = int(m.group(1))
    seqs = {int(s) for s in REPLY.findall(text)}
    if not seqs:
        return sent, sent
    top = max(seqs)
    gaps = sum(1 for s in range(1, top + 1) if s not in seqs)
    return gaps + max(0, sent - top - 1), sent


def poll(fn, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise RuntimeError(f"D: {what}: not within {timeout} s")
        time.sleep(interval)


def pick_pairs(hn: int, npairs: int, r: int) -> list[tuple[int, int]]:
    """npairs pairs of distinct hosts, the same for the same run number."""
    npairs = min(npairs, hn // 2)
    hs = random.Random(1000 + r).sample(range(1, hn + 1), 2 * npairs)
    return [(hs[2 * k], hs[2 * k + 1]) for k in range(npairs)]


def restarts(b, H, hosts, daemons, pairs, how: str, down_s: float, tag: str) -> dict:
    """One flow scenario: pings run while hgwds are stopped (SIGTERM or SIGKILL)
    and started again; the pings' losses and the route changes seen."""
    hn = len(daemons)
    flows = Flows(b, H, hosts, pairs, tag)
    back = []
    try:
        if how == "all":
            for d in daemons:
                os.killpg(d.pid, signal.SIGTERM)
            for d in daemons:
                d.p.wait(10)
                d.stop()
            time.sleep(down_s)          # the daemons stay down this long: the scenario
            t0 = time.monotonic()
            for d in daemons:
                d.start(wait=False)
            for d in daemons:
                d.wait_ready()
            wait_settled(daemons, hn - 1, 60, "all restarted")
            back.append(time.monotonic() - t0)
        else:
            sig = signal.SIGTERM if how == "sigterm" else signal.SIGKILL
            for src, dst in pairs:
                for k, other in ((dst, src), (src, dst)):   # the destination's, then the source's
                    d = daemons[k - 1]
                    d.stop(sig, 10)
                    time.sleep(down_s)
                    t0 = time.monotonic()
                    d.start()
                    wait_settled([d, daemons[other - 1]], hn - 1, 30, f"{how} of d{k}")
                    back.append(time.monotonic() - t0)
        # The last restart's END-OF-RIB reached its peers: a last look at the flows.
        time.sleep(0.2)
    finally:
        res = flows.stop()
    res["back_s"] = back
    return res


def part_d(b, H) -> dict:
    a = b.args
    hn, hs, runs = a.hosts, a.hosts_seed, a.runs_d
    gr = [] if a.gr else ["no graceful-restart"]
    H.log(f"D: mesh of {hn} hosts, {a.pairs} pairs of flows, mesh of {hs} from one seed; {runs} runs"
          + ("" if a.gr else "; no graceful-restart"))
    lan, hosts = build(H, max(hn, hs))
    daemons = []
    for i in range(1, hn + 1):
        lines = [f"network 10.200.{i}.0/24"] + \
                [f"neighbor 10.60.0.{j}" for j in range(1, hn + 1) if j != i] + \
                ["timers keepalive 1 hold 3"] + gr
        daemons.append(H.Hgwd(b, hosts[i - 1], f"hgwd-d{i}", "eth0", lines))
    seeded = []
    for i in range(1, hs + 1):
        lines = [f"network 10.200.{i}.0/24"] + ([] if i == 1 else ["neighbor 10.60.0.1"]) + \
                ["timers keepalive 1 hold 3"] + gr
        seeded.append(H.Hgwd(b, hosts[i - 1], f"hgwd-s{i}", "eth0", lines))
    s = {k: [] for k in ("converge_s", "shutdown_s", "sigkill_s", "silence_s",
                         "silence_minus_hold_s", "reconverge_s", "seed_converge_s", "seed_cpu_s", "seed_steady_cpu_pct")}
    s["hold_s"] = HOLD
    s["flows"] = []
    for r in range(runs):
        w = H.Watcher(b, hosts[:hn])
        w.arm("count", "*", hn - 1, a.timeout)
        for d in daemons[:-1]:
            d.start(wait=False)
        t0 = time.monotonic()
        daemons[-1].start(wait=False)
        res = w.result()
        if not res["ok"]:
            raise RuntimeError(f"D: mesh not converged within {a.timeout} s: {res}")
        s["converge_s"].append(res["t"] - t0)
        for d in daemons:
            d.wait_ready()
        if a.pairs > 0:
            pairs = pick_pairs(hn, a.pairs, r)
            wait_settled(daemons, hn - 1, 60, "the full mesh")
            fl = {"pairs": pairs}
            for how in ("sigterm", "sigkill", "all"):
                fl[how] = restarts(b, H, hosts, daemons, pairs, how, a.down_s, f"{how}{r}")
                f = fl[how]
                H.log(f"D run {r + 1}: {how} restart of {'every host' if how == 'all' else 'both hosts of each pair'}"
                      f": {f['lost']} of {f['sent']} packets lost {f['pings']}, {f['route_changes']} route "
                      f"changes, back with every peer in {max(f['back_s']):.2f} s at most")
                if w.counts() != [hn - 1] * hn:
                    raise RuntimeError(f"D: not a full mesh after the {how} restarts: {w.counts()}")
            s["flows"].append(fl)
        k = 1 + (r * 17 + hn // 2) % hn
        victim = daemons[k - 1]
        pfx = f"10.200.{k}.0/24"
        for what, key in (("shutdown", "shutdown_s"), ("SIGKILL", "sigkill_s"), ("silence", "silence_s")):
            if what == "SIGKILL":
                # Killed, its host still answers: the others keep its route...
                victim.stop(signal.SIGKILL, 5)
            w.arm("absent", "*", pfx, 30)
            t0 = time.monotonic()
            if what == "shutdown":
                os.kill(victim.pid, signal.SIGUSR2)
            else:   # ...until its link goes down: no sign of life, or silence
                H.run(["ip", "-n", lan, "link", "set", f"vh{k}", "down"])
            res = w.result()
            if not res["ok"]:
                raise RuntimeError(f"D: {what}: {pfx} still held after 30 s: {res}")
            s[key].append(res["t"] - t0)
            # Back to a full mesh before the next failure.
            w.arm("count", "*", hn - 1, 60)
            t1 = time.monotonic()
            if what != "shutdown":
                H.run(["ip", "-n", lan, "link", "set", f"vh{k}", "up"])
            if what != "silence":
                victim.stop(signal.SIGKILL, 5)
                victim.start(wait=False)
            res = w.result()
            if not res["ok"]:
                raise RuntimeError(f"D: no full mesh again 60 s after {what} of host {k}: {res}")
            s["reconverge_s"].append(res["t"] - t1)
        s["silence_minus_hold_s"].append(s["silence_s"][-1] - HOLD)
        H.log(f"D run {r + 1}: converged {s['converge_s'][-1]:.3f} s after the last start; "
              f"host {k}: shutdown {s['shutdown_s'][-1]:.3f} s, SIGKILL+link down {s['sigkill_s'][-1]:.3f} s, "
              f"silence {s['silence_s'][-1]:.3f} s (hold {HOLD:.0f} s)")
        leave(daemons)
        w.close()
        if hs > 1:
            t, cpu, steady = seed_mesh(b, H, hosts[:hs], seeded, a.timeout)
            s["seed_converge_s"].append(t)
            s["seed_cpu_s"].append(cpu)
            s["seed_steady_cpu_pct"].append(steady)
            H.log(f"D run {r + 1}: {hs} hosts from one seed converged {t:.3f} s after the last start; "
                  f"CPU of the {hs} daemons {cpu:.1f} s, then {steady:.0f} % of a core")
    return s


def leave(daemons) -> None:
    """Shutdown of every daemon (SIGUSR2): no route left for the next mesh."""
    live = [d for d in daemons if d.p is not None and d.p.poll() is None]
    for d in live:
        os.killpg(d.pid, signal.SIGUSR2)
    for d in live:
        try:
            d.p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        d.stop()


def seed_mesh(b, H, hosts, seeded, timeout: float) -> tuple[float, float, float]:
    """The seed first, then the others (each naming only the seed): the time from
    the last start until every host has a route to every other, the CPU
    seconds all the daemons spent from their start until then, and their CPU
    (% of a core) in the STEADY_S seconds after."""
    hs = len(seeded)
    w = H.Watcher(b, hosts)
    try:
        w.arm("count", "*", hs - 1, timeout)
        seeded[0].start()
        ts = time.monotonic()
        for d in seeded[1:-1]:
            d.start(wait=False)
        t0 = time.monotonic()
        seeded[-1].start(wait=False)
        H.log(f"D: {hs - 2} hosts started in {t0 - ts:.3f} s after the seed, then the last")
        res = w.result()
        if not res["ok"]:
            raise RuntimeError(f"D: {hs} hosts from one seed not converged within {timeout} s: "
                               f"{res}; routes per host {w.counts()}")
        c0, t1 = sum(H.proc_cpu(d.pid) for d in seeded), time.monotonic()
        time.sleep(STEADY_S)
        c1, t2 = sum(H.proc_cpu(d.pid) for d in seeded), time.monotonic()
        return res["t"] - t0, c0, 100 * (c1 - c0) / (t2 - t1)
    finally:
        leave(seeded)
        w.close()


def rows(b, H, D) -> None:
    """Part D's rows of the table."""
    a, med = b.args, H.median
    v = med(D["converge_s"])
    b.row("D", f"mesh of {a.hosts}: converged after the last start", "s", v, "target", 3.0,
          v / 3.0, "<= 3 s", v <= 3.0, "")
    v = med(D["seed_converge_s"])
    if v is not None:
        b.row("D", f"mesh of {a.hosts_seed} from one seed: converged after the last start", "s", v,
              "target", 1.5, v / 1.5, "<= 1.5 s", v <= 1.5,
              f"the others name only the seed and learn each other from MEMBERS; CPU of all "
              f"daemons until then {med(D['seed_cpu_s']):.1f} s")
        v = med(D["seed_steady_cpu_pct"])
        b.row("D", f"mesh of {a.hosts_seed}: steady-state CPU of all daemons", "% of a core", v, None, None,
              None, "info", None, f"{a.hosts_seed * (a.hosts_seed - 1) // 2} sessions, keepalive 1 s, "
              f"over {STEADY_S:g} s after convergence", "{:.0f}")
    what = {"sigterm": "SIGTERM, start: the destination's hgwd, then the source's",
            "sigkill": "SIGKILL, start: the destination's hgwd, then the source's",
            "all": f"every hgwd of the {a.hosts} SIGTERMed, then all started"}
    if D["flows"]:
        npairs = len(D["flows"][0]["pairs"])
        for how, label in what.items():
            fs = [f[how] for f in D["flows"]]
            lost, sent = sum(f["lost"] for f in fs), sum(f["sent"] for f in fs)
            changes = sum(f["route_changes"] for f in fs)
            back = max(x for f in fs for x in f["back_s"])
            b.row("D", f"{label}: packets lost", "packets", lost, "target", 0, None, "0", lost == 0,
                  ("" if a.gr else "NO GRACEFUL RESTART (--no-gr); ") + f"{npairs} pairs both ways at 100 pps, all {len(fs)} runs: {sent} sent; "
                  f"{changes} route changes on the pairs' hosts; down {a.down_s:g} s, back with "
                  f"every peer within {back:.2f} s", "{:.0f}")
    v = med(D["shutdown_s"])
    b.row("D", "shutdown of one host: route gone everywhere", "s", v, "target", 0.2,
          v / 0.2, "<= 0.2 s", v <= 0.2, "SIGUSR2, as hgwsh -c shutdown")
    v = med(D["sigkill_s"])
    b.row("D", "kill -9, then LAN link down: route gone everywhere", "s", v, "hold + 1", HOLD + 1,
          v / (HOLD + 1), "<= hold + 1 s", v <= HOLD + 1, "no sign of life for the hold time")
    v = med(D["silence_s"])
    x = med(D["silence_minus_hold_s"])
    b.row("D", "silence (LAN link down): route gone everywhere", "s", v, "hold + 0.2", HOLD + 0.2,
          v / (HOLD + 0.2), "<= hold + 0.2 s", v <= HOLD + 0.2, f"hold {x:+.3f} s")
    v = med(D["reconverge_s"])
    b.row("D", "full mesh again after a failure is undone", "s", v, None, None, None, "info", None,
          "restart after shutdown/SIGKILL, link up after silence")
