#!/usr/bin/python3
"""bench.py: hgw's benchmark suite (issue 5), run by ``make bench`` as root.

Measures hgwd against the kernel's own limit and against BIRD on the same
machine in the same run, each figure a median of several runs and a ratio to
its reference, and prints one table (also written as JSON and Markdown).

  A  kernel baseline: raw netlink writer (nlwriter), N routes, 512 requests per
     sendmsg, one ack per batch; the same one ack per route; ``ip -batch``.
  B  peer to FIB: hgwload announces N prefixes to one hgwd over a veth; time
     until all N are in that namespace's kernel table, then withdraw, time
     until none is left. The same with BIRD: BIRD announces over BGP to a
     second BIRD whose kernel protocol exports them.
  C  wire and RIB: 1M prefixes with ``kernel off``; time until hgwd's RIB holds
     all (control socket); BIRD: BGP 1M between two namespaces, time until
     imported (``show protocols all``).
  D  mesh: H (50) host namespaces on one bridge, full mesh: convergence after
     the last start; packets lost by 100 pps flows between P (5) host pairs
     across SIGTERM-restart, SIGKILL-restart (each pair's destination's hgwd,
     then its source's) and the restart of every hgwd (graceful restart: the
     target is 0); shutdown (SIGUSR2, as hgwsh -c shutdown), kill -9 followed
     by its LAN link going down (graceful restart keeps the routes of a killed
     daemon while its host answers: they go once it gives no sign of life for
     the hold time) and silence (LAN link down) of one host: time until no
     other host holds its route. Then S (100) hosts from one seed (the others
     name only the seed): convergence after the last start
     (tests/bench/bench_mesh.py).
  E  session scale: one hgwd and K simulated peers (one process), each
     announcing one /24: time to all installed; steady-state CPU and RSS.
  F  memory: hgwd's RSS with 1M routes minus at idle, per route; BIRD's
     ``show memory`` routing-table figure per route for the same routes.
  G  encap vxlan: a timed bulk TCP transfer between the containers of an
     on-link pair with encapsulation off and on (it must not be slowed), and
     across a router through hgw.vxlan (tests/bench/bench_encap.py).

Safety: every daemon and every packet lives in network namespaces this run
creates (named hgwb-<pid>-<tag>-<role>); nothing touches the root namespace's
interfaces or routes. Processes are started in their own sessions and stopped
by their ids; namespaces are deleted on exit, on failure and on Ctrl-C, and
ones left by a dead run are swept at start. The namespace and process
helpers, the kernel route constants and the control-socket client are the
lab's (tests/lab/labproc.py, labdaemon.py), shared with the lab tests.

Timing: a route watcher (hgwload watch) follows the kernel tables through
netlink events and stamps the event that completes a condition, so no figure
depends on a polling interval. Times are CLOCK_MONOTONIC.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRCDIR = HERE.parent.parent
sys.path.insert(0, str(SRCDIR / "tests" / "lab"))

import labproc  # noqa: E402 - the lab's helpers, found through the path above
from labdaemon import ctl_request  # noqa: E402
from labproc import METRIC, PROTO, TABLE, Registry, stop_proc, sweep_stale_namespaces  # noqa: E402

NS_PREFIX = "hgwb-"  # not the lab's "hgw-": the lab's sweep leaves a running bench alone
BIRD_PROTO = 12     # RTPROT_BIRD
IPV6 = False        # --ipv6: leave IPv6 on in the namespaces

#: figures measured on this kind of machine (shared/FIELD.md), for context
FIELD = {
    "raw_insert_rate": 500000, "raw_delete_rate": 400000,
    "ack1_insert_rate": 120000, "ipbatch_insert_rate": 28000,
    "bird_bgp_import_100k_s": 0.25, "bird_bgp_withdraw_100k_s": 0.19,
    "bird_fib_announce_100k_s": 1.2, "bird_fib_withdraw_100k_s": 0.8,
    "bird_table_bytes_per_route": 91,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# --------------------------------------------------------------------------
# processes and namespaces: everything we start is registered and undone
# --------------------------------------------------------------------------

# Commands here may run long (100k-route batches): no timeout.
run = functools.partial(labproc.run, timeout=None)


def no_ipv6(ns: str) -> None:
    """Each new namespace: no IPv6 on our links unless --ipv6. Its DAD completing a
    second after a link comes up sends address events that make hgwd resync in the
    middle of a measurement (see the README of tests/bench)."""
    if not IPV6:
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"])


REG = Registry(NS_PREFIX, setup=no_ipv6)
add_ns = REG.add_ns
spawn = REG.spawn


def ip_batch(ns: str, lines: list[str]) -> None:
    labproc.ip_batch(ns, lines, timeout=None)


def veth(ns_a: str, if_a: str, addr_a: str, ns_b: str, if_b: str, addr_b: str | None,
         mac_a: str | None = None, mac_b: str | None = None) -> None:
    """A veth pair created straight inside two of our namespaces."""
    run(["ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b,
         "netns", ns_b])
    if mac_a:
        run(["ip", "-n", ns_a, "link", "set", if_a, "address", mac_a])
    if mac_b:
        run(["ip", "-n", ns_b, "link", "set", if_b, "address", mac_b])
    if addr_a:
        run(["ip", "-n", ns_a, "addr", "add", addr_a, "dev", if_a])
    if addr_b:
        run(["ip", "-n", ns_b, "addr", "add", addr_b, "dev", if_b])
    run(["ip", "-n", ns_a, "link", "set", if_a, "up"])
    run(["ip", "-n", ns_b, "link", "set", if_b, "up"])


def link_mac(ns: str, ifname: str) -> str:
    out = run(["ip", "-n", ns, "-j", "link", "show", ifname]).stdout
    return json.loads(out)[0]["address"]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Lines:
    """Line reader over a pipe with timeouts (no hidden buffering)."""

    def __init__(self, fd: int, what: str) -> None:
        self.fd = fd
        self.buf = b""
        self.what = what

    def readline(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.what}: no output within {timeout} s")
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise RuntimeError(f"{self.what}: ended")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def json(self, timeout: float = 60.0) -> dict:
        return json.loads(self.readline(timeout))


# --------------------------------------------------------------------------
# the tools: route watcher, hgwd, load peers, BIRD
# --------------------------------------------------------------------------

class Watcher:
    """hgwload watch: kernel tables of namespaces, followed through netlink events."""

    def __init__(self, b: "Bench", nss: list[str], proto: int = PROTO) -> None:
        self.p = spawn([b.hgwload, "watch", "-P", proto, "-T", TABLE] + nss,
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = Lines(self.p.stdout.fileno(), "route watcher")
        self.ready = self.out.json(30)

    def _send(self, line: str) -> None:
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def arm(self, kind: str, idx, arg, timeout: float) -> None:
        self._send(f"{kind} {idx} {arg} {timeout}")
        r = self.out.json(10)
        if not r.get("armed"):
            raise RuntimeError(f"route watcher: {r}")
        self.timeout = timeout

    def result(self) -> dict:
        return self.out.json(self.timeout + 30)

    def wait(self, kind: str, idx, arg, timeout: float) -> dict:
        self.arm(kind, idx, arg, timeout)
        return self.result()

    def counts(self) -> list[int]:
        self._send("get")
        return [c for _, c in self.out.json(10)["counts"]]

    def close(self) -> None:
        stop_proc(self.p)


class Hgwd:
    def __init__(self, b: "Bench", ns: str, name: str, iface: str, lines: list[str],
                 kernel: bool = True) -> None:
        self.b, self.ns, self.name = b, ns, name
        self.conf = b.tmp / f"{name}.conf"
        self.sock = str(b.tmp / f"{name}.sock")
        self.log = b.tmp / f"{name}.log"
        cfg = [f"hostname {name}", "router hgw", f" interface {iface}"] + [" " + l for l in lines]
        cfg.append(f" kernel protocol {PROTO} table {TABLE} metric {METRIC}")
        if not kernel:
            cfg.append(" kernel off")
        self.conf.write_text("\n".join(cfg) + "\n")
        self.p: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> None:
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.logf = open(self.log, "ab")
        self.p = spawn([self.b.hgwd, "-f", self.conf, "-s", self.sock], ns=self.ns,
                       stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.p.poll() is not None:
                raise RuntimeError(f"hgwd {self.name} exited {self.p.returncode}; see {self.log}")
            try:
                self.ctl("show version")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hgwd {self.name}: no control socket; see {self.log}")
                time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.p.pid

    def ctl(self, cmd: str) -> str:
        """One request on the control socket; the data lines, or an error (CtlError)."""
        return ctl_request(self.sock, cmd, timeout=30)

    def ctl_json(self, cmd: str) -> dict:
        return json.loads(self.ctl(cmd))

    def stop(self, sig=signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.p is not None:
            stop_proc(self.p, sig, timeout)
            self.logf.close()


class LoadPeer:
    """hgwload peer: one session announcing N prefixes on command."""

    def __init__(self, b: "Bench", ns: str, dst: str, src: str, n: int, plen: int, base: str) -> None:
        self.p = spawn([b.hgwload, "peer", "-c", dst, "-s", src, "-n", n, "-l", plen, "-B", base],
                       ns=ns, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = Lines(self.p.stdout.fileno(), "hgwload peer")
        ev = self.out.json(60)
        if ev.get("event") != "connected":
            raise RuntimeError(f"hgwload peer: {ev}")
        self.info = ev
        ev = self.out.json(15)
        if ev.get("event") != "established":
            raise RuntimeError(f"hgwload peer: {ev}")

    def send(self, cmd: str) -> float:
        t = time.monotonic()
        self.p.stdin.write((cmd + "\n").encode())
        self.p.stdin.flush()
        return t

    def event(self, timeout: float = 60.0) -> dict:
        return self.out.json(timeout)

    def quit(self) -> None:
        try:
            self.send("quit")
            self.p.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        stop_proc(self.p)


class Bird:
    def __init__(self, b: "Bench", ns: str, name: str, conf: str) -> None:
        self.b, self.ns, self.name = b, ns, name
        self.conf = b.tmp / f"{name}.conf"
        self.sock = str(b.tmp / f"{name}.ctl")
        self.log = b.tmp / f"{name}.log"
        self.conf.write_text(conf)
        self.p = None

    def start(self, timeout: float = 120.0) -> None:
        self.logf = open(self.log, "ab")
        self.p = spawn([self.b.bird, "-f", "-c", self.conf, "-s", self.sock,
                        "-P", str(self.b.tmp / f"{self.name}.pid")],
                       ns=self.ns, stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.p.poll() is not None:
                raise RuntimeError(f"bird {self.name} exited; see {self.log}")
            try:
                self.cmd("show status")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"bird {self.name}: no control socket")
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.p.pid

    def cmd(self, text: str) -> list[str]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect(self.sock)
            f = s.makefile("rb")
            f.readline()                        # 0001 BIRD x.y ready.
            s.sendall((text + "\n").encode())
            out = []
            while True:
                line = f.readline().decode(errors="replace")
                if not line:
                    raise OSError("bird control socket closed")
                line = line.rstrip("\n")
                out.append(line)
                if len(line) >= 5 and line[:4].isdigit() and line[4] == " ":
                    return out
        finally:
            s.close()

    def bgp_state(self, proto: str = "bgp1") -> str:
        for line in self.cmd(f"show protocols all {proto}"):
            m = re.search(r"BGP state:\s+(\S+)", line)
            if m:
                return m.group(1)
        return "?"

    def wait_established(self, proto: str = "bgp1", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.bgp_state(proto) != "Established":
            if time.monotonic() > deadline:
                raise RuntimeError(f"bird {self.name}: {proto} not Established")
            time.sleep(0.1)

    def imported(self, proto: str = "bgp1") -> int:
        for line in self.cmd(f"show protocols all {proto}"):
            m = re.search(r"Routes:\s+(\d+) imported", line)
            if m:
                return int(m.group(1))
        return -1

    def table_bytes(self) -> float:
        """The 'Routing tables' figure of show memory (effective), bytes."""
        units = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
        for line in self.cmd("show memory"):
            m = re.search(r"Routing tables:\s+([\d.]+)\s*(B|kB|MB|GB)", line)
            if m:
                return float(m.group(1)) * units[m.group(2)]
        return float("nan")

    def stop(self) -> None:
        if self.p is not None:
            stop_proc(self.p)
            self.logf.close()


class Profiler:
    """perf record of one process during one phase (--profile DIR), and its report."""

    def __init__(self, b: "Bench", pid: int, name: str) -> None:
        self.p = None
        if not b.args.profile:
            return
        d = Path(b.args.profile)
        d.mkdir(parents=True, exist_ok=True)
        self.data, self.txt = d / f"{name}.perf.data", d / f"{name}.txt"
        if not shutil.which("perf"):
            log("--profile: perf is not installed (apt-get install linux-perf)")
            return
        self.p = spawn(["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-p", pid,
                        "-o", self.data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self) -> None:
        if self.p is None:
            return
        try:
            os.killpg(self.p.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            stop_proc(self.p)
        r = run(["perf", "report", "-i", self.data, "--stdio", "--no-children", "--sort",
                 "dso,symbol", "-g", "caller,0.5,callee,function,percent", "--percent-limit", "0.5"],
                check=False)
        self.txt.write_text(r.stdout)
        log(f"profile: {self.txt}")


def v4(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def v4int(s: str) -> int:
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def prefixes(n: int, plen: int, base: str):
    b = v4int(base)
    step = 1 << (32 - plen)
    for i in range(n):
        yield f"{v4(b + i * step)}/{plen}"


# --------------------------------------------------------------------------
# the suite
# --------------------------------------------------------------------------

class Bench:
    def __init__(self, args) -> None:
        self.args = args
        bd = Path(args.builddir).resolve()
        self.builddir = bd
        self.hgwd = bd / "daemon" / "hgwd"
        self.hgwsh = bd / "cli" / "hgwsh"
        self.nlwriter = bd / "tests" / "bench" / "nlwriter"
        self.hgwload = bd / "tests" / "bench" / "hgwload"
        for p in (self.hgwd, self.nlwriter, self.hgwload):
            if not p.exists():
                raise SystemExit(f"bench: {p} is missing: run 'make bench' (or build it)")
        self.bird = shutil.which("bird") or "/usr/sbin/bird"
        self.tmp = Path(tempfile.mkdtemp(prefix="hgw-bench-"))
        self.results: dict = {}     # part -> raw samples
        self.rows: list[dict] = []
        self.notes: list[str] = []

    # ---------------------------------------------------------------- A
    def part_a(self) -> None:
        a = self.args
        n, runs = a.n_fib, a.runs
        log(f"A: kernel baseline, {n} routes, {runs} runs")
        ns = add_ns("a")
        run(["ip", "-n", ns, "link", "add", "a0", "type", "veth", "peer", "name", "a1"])
        run(["ip", "-n", ns, "addr", "add", "10.99.0.1/16", "dev", "a0"])
        run(["ip", "-n", ns, "link", "set", "a0", "up"])
        run(["ip", "-n", ns, "link", "set", "a1", "up"])
        spec = f"via 10.99.0.2 dev a0 proto {PROTO} metric {METRIC}"
        add_f, del_f = self.tmp / "ipbatch-add", self.tmp / "ipbatch-del"
        add_f.write_text("".join(f"route add {p} {spec}\n" for p in prefixes(n, a.plen, a.base)))
        del_f.write_text("".join(f"route del {p} {spec}\n" for p in prefixes(n, a.plen, a.base)))
        w = Watcher(self, [ns])
        s = {k: [] for k in ("raw_insert_rate", "raw_delete_rate", "raw_insert_cpu_s",
                             "raw_delete_cpu_s", "ack1_insert_rate", "ack1_delete_rate",
                             "ipbatch_insert_rate", "ipbatch_delete_rate")}
        nlw = ["ip", "netns", "exec", ns, str(self.nlwriter), "-i", "a0", "-g", "10.99.0.2",
               "-n", str(n), "-l", str(a.plen), "-B", a.base, "-P", str(PROTO), "-m", str(METRIC)]
        for r in range(runs):
            j = json.loads(run(nlw + ["-b", str(a.batch)]).stdout)
            s["raw_insert_rate"].append(j["insert_rate"])
            s["raw_delete_rate"].append(j["delete_rate"])
            s["raw_insert_cpu_s"].append(j["insert_cpu_s"])
            s["raw_delete_cpu_s"].append(j["delete_cpu_s"])
            j = json.loads(run(nlw + ["-b", "1"]).stdout)
            s["ack1_insert_rate"].append(j["insert_rate"])
            s["ack1_delete_rate"].append(j["delete_rate"])
            t0 = time.monotonic()
            run(["ip", "-n", ns, "-batch", str(add_f)])
            t1 = time.monotonic()
            got = w.counts()[0]
            if got != n:
                raise RuntimeError(f"A: ip -batch left {got} routes, expected {n}")
            t2 = time.monotonic()
            run(["ip", "-n", ns, "-batch", str(del_f)])
            t3 = time.monotonic()
            s["ipbatch_insert_rate"].append(n / (t1 - t0))
            s["ipbatch_delete_rate"].append(n / (t3 - t2))
            if w.counts()[0] != 0:
                raise RuntimeError("A: routes left after ip -batch del")
            log(f"A run {r + 1}: raw {s['raw_insert_rate'][-1]:.0f}/s in, "
                f"{s['raw_delete_rate'][-1]:.0f}/s out; ack-per-route "
                f"{s['ack1_insert_rate'][-1]:.0f}/s; ip -batch {s['ipbatch_insert_rate'][-1]:.0f}/s")
        w.close()
        REG.del_ns(ns)
        self.results["A"] = s

    # ---------------------------------------------------------------- B
    def pair(self, tag: str, if_h="h0", if_l="l0"):
        """Two namespaces on one veth: the daemon's (10.99.0.1/16) and the load's (10.99.0.2/16)."""
        h, l = add_ns(tag + "h"), add_ns(tag + "l")
        veth(h, if_h, "10.99.0.1/16", l, if_l, "10.99.0.2/16")
        return h, l

    def bird_pair(self, tag: str, n: int, kernel: bool):
        """b1 announces n static routes (protocol static1, disabled) over eBGP to b2."""
        a = self.args
        rx, tx = add_ns(tag + "r"), add_ns(tag + "t")
        veth(rx, "b0", "10.99.0.1/16", tx, "b1", "10.99.0.2/16")
        routes = "".join(f"  route {p} blackhole;\n" for p in prefixes(n, a.plen, a.base))
        tx_conf = (
            "router id 10.99.0.2;\n"
            "protocol device { scan time 60; }\n"
            "protocol static static1 {\n  disabled;\n  ipv4;\n" + routes + "}\n"
            "protocol bgp bgp1 {\n  local 10.99.0.2 as 65002;\n  neighbor 10.99.0.1 as 65001;\n"
            "  start delay time 1; connect delay time 1;\n"
            "  ipv4 { import none; export all; };\n}\n")
        kern = ("protocol kernel kern1 {\n  ipv4 { import none; export all; };\n"
                "  scan time 60;\n}\n") if kernel else ""
        rx_conf = (
            "router id 10.99.0.1;\n"
            "protocol device { scan time 60; }\n" + kern +
            "protocol bgp bgp1 {\n  local 10.99.0.1 as 65001;\n  neighbor 10.99.0.2 as 65002;\n"
            "  start delay time 1; connect delay time 1;\n"
            "  ipv4 { import all; export none; };\n}\n")
        brx = Bird(self, rx, f"bird-{tag}-rx", rx_conf)
        btx = Bird(self, tx, f"bird-{tag}-tx", tx_conf)
        brx.start()
        btx.start()
        brx.wait_established()
        btx.wait_established()
        return rx, tx, brx, btx

    def raw_ns(self, tag: str) -> str:
        """A scratch namespace for nlwriter: a veth with the gateway's subnet."""
        ns = add_ns(tag)
        run(["ip", "-n", ns, "link", "add", "a0", "type", "veth", "peer", "name", "a1"])
        run(["ip", "-n", ns, "addr", "add", "10.99.0.1/16", "dev", "a0"])
        run(["ip", "-n", ns, "link", "set", "a0", "up"])
        run(["ip", "-n", ns, "link", "set", "a1", "up"])
        return ns

    def part_b(self) -> None:
        """hgwd, BIRD and the raw writer take turns in every run, so the three
        meet the same load of a shared machine."""
        a = self.args
        n, runs = a.n_fib, a.runs
        log(f"B: peer to FIB, {n} prefixes, {runs} runs, each of hgwd, BIRD and the raw writer in turn")
        s = {k: [] for k in ("hgwd_announce_s", "hgwd_withdraw_s", "hgwd_announce_cpu_s",
                             "hgwd_withdraw_cpu_s", "bird_announce_s", "bird_withdraw_s",
                             "bird_announce_cpu_s", "bird_withdraw_cpu_s", "raw_insert_rate",
                             "raw_delete_rate", "raw_insert_cpu_s", "raw_delete_cpu_s")}
        raw = self.raw_ns("braw")
        nlw = ["ip", "netns", "exec", raw, str(self.nlwriter), "-i", "a0", "-g", "10.99.0.2",
               "-n", str(n), "-l", str(a.plen), "-B", a.base, "-P", str(PROTO), "-m", str(METRIC),
               "-b", str(a.batch)]
        h, l = self.pair("b")
        w = Watcher(self, [h])
        d = Hgwd(self, h, "hgwd-b", "h0", ["timers keepalive 1 hold 3"])
        d.start()
        peer = LoadPeer(self, l, "10.99.0.1", "10.99.0.2", n, a.plen, a.base)
        s["wire"] = peer.info
        rx, tx, brx, btx = self.bird_pair("bb", n, kernel=True)
        wb = Watcher(self, [rx], proto=BIRD_PROTO)
        for r in range(runs):
            j = json.loads(run(nlw).stdout)
            for k_ in ("insert_rate", "delete_rate", "insert_cpu_s", "delete_cpu_s"):
                s["raw_" + k_].append(j[k_])
            for phase, target, key in (("announce", n, "hgwd_announce"), ("withdraw", 0, "hgwd_withdraw")):
                w.arm("count", 0, target, a.timeout)
                prof = Profiler(self, d.pid, f"B-hgwd-{phase}") if r == 0 else None
                c0 = proc_cpu(d.pid)
                t0 = peer.send(phase)
                res = w.result()
                c1 = proc_cpu(d.pid)
                if prof:
                    prof.stop()
                peer.event()
                if not res["ok"]:
                    raise RuntimeError(f"B: hgwd {phase}: not reached within {a.timeout} s: {res}")
                s[key + "_s"].append(res["t"] - t0)
                s[key + "_cpu_s"].append(c1 - c0)
            for phase, cmd, target, key in (("announce", "enable", n, "bird_announce"),
                                            ("withdraw", "disable", 0, "bird_withdraw")):
                wb.arm("count", 0, target, a.timeout)
                prof = Profiler(self, brx.pid, f"B-bird-{phase}") if r == 0 else None
                c0 = proc_cpu(brx.pid)
                t0 = time.monotonic()
                btx.cmd(f"{cmd} static1")
                res = wb.result()
                c1 = proc_cpu(brx.pid)
                if prof:
                    prof.stop()
                if not res["ok"]:
                    raise RuntimeError(f"B: BIRD {phase}: not reached within {a.timeout} s: {res}")
                s[key + "_s"].append(res["t"] - t0)
                s[key + "_cpu_s"].append(c1 - c0)
            log(f"B run {r + 1}: all in the FIB: hgwd {s['hgwd_announce_s'][-1]:.3f} s, "
                f"BIRD {s['bird_announce_s'][-1]:.3f} s, raw writer {n / s['raw_insert_rate'][-1]:.3f} s; "
                f"none left: hgwd {s['hgwd_withdraw_s'][-1]:.3f} s, BIRD {s['bird_withdraw_s'][-1]:.3f} s, "
                f"raw {n / s['raw_delete_rate'][-1]:.3f} s; CPU hgwd {s['hgwd_announce_cpu_s'][-1]:.2f}"
                f"+{s['hgwd_withdraw_cpu_s'][-1]:.2f} s, BIRD rx {s['bird_announce_cpu_s'][-1]:.2f}"
                f"+{s['bird_withdraw_cpu_s'][-1]:.2f} s, raw {s['raw_insert_cpu_s'][-1]:.2f}"
                f"+{s['raw_delete_cpu_s'][-1]:.2f} s")
        summ = d.ctl_json("show summary json")
        s["hgwd_kernel"] = summ.get("kernel")
        peer.quit()
        d.stop()
        brx.stop()
        btx.stop()
        self.results["B"] = s

    # ---------------------------------------------------------------- C and F
    def part_c(self) -> None:
        """hgwd (a fresh daemon each run, for F) and BIRD take turns in every run."""
        a = self.args
        n, runs = a.n_rib, a.runs
        log(f"C/F: {n} prefixes into the RIB (kernel off), {runs} runs, hgwd and BIRD in turn")
        s = {k: [] for k in ("hgwd_rib_s", "hgwd_rib_withdraw_s", "hgwd_rib_cpu_s",
                             "hgwd_idle_rss_kb", "hgwd_full_rss_kb", "hgwd_bytes_per_route",
                             "hgwd_rib_bytes", "bird_import_s", "bird_withdraw_s",
                             "bird_import_cpu_s", "bird_table_bytes", "bird_bytes_per_route",
                             "bird_idle_table_bytes", "bird_rss_kb")}
        h, l = self.pair("c")
        log(f"C: starting BIRD with {n} static routes (its config parse takes a few seconds)")
        rx, tx, brx, btx = self.bird_pair("cb", n, kernel=False)
        s["bird_idle_table_bytes"].append(brx.table_bytes())
        for r in range(runs):
            d = Hgwd(self, h, f"hgwd-c{r}", "h0", ["timers keepalive 1 hold 3"], kernel=False)
            d.start()
            peer = LoadPeer(self, l, "10.99.0.1", "10.99.0.2", n, a.plen, a.base)
            time.sleep(0.5)
            idle = proc_rss_kb(d.pid)

            def accepted() -> int:
                peers = d.ctl_json("show peers json")["peers"]
                return sum(p.get("prefixesAccepted", 0) for p in peers.values())

            prof = Profiler(self, d.pid, "C-hgwd-announce") if r == 0 else None
            c0 = proc_cpu(d.pid)
            t0 = peer.send("announce")
            t = self.poll(accepted, n, a.timeout, "C: hgwd RIB")
            c1 = proc_cpu(d.pid)
            if prof:
                prof.stop()
            s["hgwd_rib_s"].append(t - t0)
            s["hgwd_rib_cpu_s"].append(c1 - c0)
            peer.event()
            time.sleep(0.3)
            full = proc_rss_kb(d.pid)
            summ = d.ctl_json("show summary json")
            if summ["routes"]["prefixes"] != n:
                raise RuntimeError(f"C: RIB holds {summ['routes']['prefixes']} prefixes, not {n}")
            s["hgwd_idle_rss_kb"].append(idle)
            s["hgwd_full_rss_kb"].append(full)
            s["hgwd_bytes_per_route"].append((full - idle) * 1024 / n)
            s["hgwd_rib_bytes"].append(summ["routes"].get("ribBytes"))
            t0 = peer.send("withdraw")
            t = self.poll(accepted, 0, a.timeout, "C: hgwd RIB withdraw")
            s["hgwd_rib_withdraw_s"].append(t - t0)
            peer.event()
            peer.quit()
            d.stop()
            # BIRD's turn
            c0 = proc_cpu(brx.pid)
            t0 = time.monotonic()
            btx.cmd("enable static1")
            t = self.poll(brx.imported, n, a.timeout, "C: BIRD import")
            c1 = proc_cpu(brx.pid)
            s["bird_import_s"].append(t - t0)
            s["bird_import_cpu_s"].append(c1 - c0)
            tb = brx.table_bytes()
            s["bird_table_bytes"].append(tb)
            s["bird_bytes_per_route"].append(tb / n)
            s["bird_rss_kb"].append(proc_rss_kb(brx.pid))
            t0 = time.monotonic()
            btx.cmd("disable static1")
            t = self.poll(brx.imported, 0, a.timeout, "C: BIRD withdraw")
            s["bird_withdraw_s"].append(t - t0)
            log(f"C run {r + 1}: {n} in the RIB: hgwd {s['hgwd_rib_s'][-1]:.3f} s "
                f"(CPU {s['hgwd_rib_cpu_s'][-1]:.2f} s), BIRD {s['bird_import_s'][-1]:.3f} s "
                f"(rx CPU {s['bird_import_cpu_s'][-1]:.2f} s); withdrawn: hgwd "
                f"{s['hgwd_rib_withdraw_s'][-1]:.3f} s, BIRD {s['bird_withdraw_s'][-1]:.3f} s; "
                f"hgwd RSS {idle} kB idle, {full} kB full: {s['hgwd_bytes_per_route'][-1]:.1f} B/route; "
                f"BIRD routing tables {tb / 1e6:.1f} MB: {tb / n:.1f} B/route")
        brx.stop()
        btx.stop()
        self.results["C"] = s

    @staticmethod
    def poll(fn, target: int, timeout: float, what: str, interval: float = 0.01) -> float:
        """Polls fn() until it returns target; the time of the first reading that did."""
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            t = time.monotonic()
            if v == target:
                return t
            if t > deadline:
                raise RuntimeError(f"{what}: {v}, not {target}, after {timeout} s")
            time.sleep(interval)

    # ---------------------------------------------------------------- D
    def part_d(self) -> None:
        from bench_mesh import part_d
        self.results["D"] = part_d(self, sys.modules[__name__])

    # ---------------------------------------------------------------- E
    def part_e(self) -> None:
        a = self.args
        k, runs = a.sessions, a.runs_e
        log(f"E: {k} sessions into one hgwd, {runs} runs, {a.steady} s steady-state sample")
        h, l = add_ns("eh"), add_ns("el")
        veth(h, "h0", "10.99.0.1/16", l, "l0", "10.99.0.2/16")
        base = v4int("10.99.1.1")
        srcs = [v4(base + i) for i in range(k)]
        ip_batch(l, [f"addr add {s}/16 dev l0" for s in srcs])
        lmac, hmac = link_mac(l, "l0"), link_mac(h, "h0")
        # Permanent neighbors: k learned ARP entries would crowd the shared table.
        ip_batch(h, [f"neigh replace {s} lladdr {lmac} dev h0 nud permanent" for s in srcs])
        ip_batch(l, [f"neigh replace 10.99.0.1 lladdr {hmac} dev l0 nud permanent"])
        w = Watcher(self, [h])
        s = {k_: [] for k_ in ("install_s", "established_s", "cpu_pct", "rss_kb", "rss_max_kb")}
        for r in range(runs):
            d = Hgwd(self, h, f"hgwd-e{r}", "h0", ["timers keepalive 1 hold 3"])
            d.start()
            m = spawn([self.hgwload, "multi", "-c", "10.99.0.1", "-k", k, "-S", srcs[0],
                       "-P", "10.200.0.0", "-H", 3000, "-K", 1000], ns=l,
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            mo = Lines(m.stdout.fileno(), "hgwload multi")
            ev = mo.json(60)
            if ev.get("event") != "ready":
                raise RuntimeError(f"E: hgwload multi: {ev}")
            w.arm("count", 0, k, a.timeout)
            t0 = time.monotonic()
            m.stdin.write(b"go\n")
            m.stdin.flush()
            res = w.result()
            if not res["ok"]:
                raise RuntimeError(f"E: {k} routes not installed within {a.timeout} s: {res}")
            s["install_s"].append(res["t"] - t0)
            est = None
            deadline = time.monotonic() + 30
            while est is None and time.monotonic() < deadline:
                ev = mo.json(30)
                if ev.get("event") == "established":
                    est = ev["t"] - t0
            s["established_s"].append(est)
            time.sleep(2)
            prof = Profiler(self, d.pid, "E-hgwd-steady") if r == 0 else None
            c0, t_0 = proc_cpu(d.pid), time.monotonic()
            rss = []
            while time.monotonic() - t_0 < a.steady:
                time.sleep(0.5)
                rss.append(proc_rss_kb(d.pid))
            c1, t_1 = proc_cpu(d.pid), time.monotonic()
            if prof:
                prof.stop()
            s["cpu_pct"].append(100 * (c1 - c0) / (t_1 - t_0))
            s["rss_kb"].append(rss[-1])
            s["rss_max_kb"].append(max(rss))
            m.stdin.write(b"stats\n")
            m.stdin.flush()
            st = mo.json(10)
            summ = d.ctl_json("show summary json")
            s.setdefault("load_stats", []).append(st)
            if summ["peers"]["established"] != k or st.get("lost"):
                raise RuntimeError(f"E: sessions lost in steady state: hgwd {summ['peers']}, load {st}")
            log(f"E run {r + 1}: {k} routes installed {s['install_s'][-1]:.3f} s after the start "
                f"(all established {est:.3f} s, {st['dials']} dials for {k} sessions); steady CPU {s['cpu_pct'][-1]:.2f} %, "
                f"RSS {s['rss_kb'][-1] / 1024:.1f} MB")
            stop_proc(m)
            d.stop()
        w.close()
        self.results["E"] = s

    # ---------------------------------------------------------------- G
    def part_g(self) -> None:
        from bench_encap import part_g
        a = self.args
        log(f"G: encap vxlan throughput, {a.runs_g} runs of {a.transfer_s:g} s transfers")
        self.results["G"] = part_g(self.builddir, a.runs_g, a.transfer_s, log)

    # ---------------------------------------------------------------- table
    def row(self, part, figure, unit, value, ref_name=None, ref=None, ratio=None,
            target=None, ok=None, note="", fmt="{:.3f}") -> None:
        self.rows.append(dict(part=part, figure=figure, unit=unit, value=value,
                              ref_name=ref_name, ref=ref, ratio=ratio, target=target,
                              ok=ok, note=note, fmt=fmt))

    def build_table(self) -> None:
        R, a = self.results, self.args
        A, B, C, D, E, G = (R.get(x) for x in "ABCDEG")
        raw_in = median(A["raw_insert_rate"]) if A else None
        raw_out = median(A["raw_delete_rate"]) if A else None
        n = a.n_fib
        if A:
            self.row("A", f"raw netlink insert ({a.batch}/sendmsg, 1 ack/batch)", "routes/s",
                     raw_in, "field notes", FIELD["raw_insert_rate"],
                     raw_in / FIELD["raw_insert_rate"], "reference", None,
                     f"CPU {median(A['raw_insert_cpu_s']):.3f} s per {n}", "{:.0f}")
            self.row("A", f"raw netlink delete ({a.batch}/sendmsg, 1 ack/batch)", "routes/s",
                     raw_out, "field notes", FIELD["raw_delete_rate"],
                     raw_out / FIELD["raw_delete_rate"], "reference", None,
                     f"CPU {median(A['raw_delete_cpu_s']):.3f} s per {n}", "{:.0f}")
            v = median(A["ack1_insert_rate"])
            self.row("A", "netlink insert, 1 request + ack per route", "routes/s", v,
                     "raw batched", raw_in, v / raw_in, "reference", None, "", "{:.0f}")
            v = median(A["ipbatch_insert_rate"])
            self.row("A", "ip -batch insert", "routes/s", v, "raw batched", raw_in, v / raw_in,
                     "reference", None, "", "{:.0f}")
            v = median(A["ipbatch_delete_rate"])
            self.row("A", "ip -batch delete", "routes/s", v, "raw batched", raw_out, v / raw_out,
                     "reference", None, "", "{:.0f}")
        if B:
            ha, ba = median(B["hgwd_announce_s"]), median(B["bird_announce_s"])
            hw, bw = median(B["hgwd_withdraw_s"]), median(B["bird_withdraw_s"])
            self.row("B", f"{n} announced: all in the FIB", "s", ha, "BIRD BGP+kernel", ba, ha / ba,
                     "<= 0.25", ha / ba <= 0.25,
                     f"CPU hgwd {median(B['hgwd_announce_cpu_s']):.2f} s, BIRD rx {median(B['bird_announce_cpu_s']):.2f} s")
            self.row("B", f"{n} withdrawn: none left in the FIB", "s", hw, "BIRD BGP+kernel", bw, hw / bw,
                     "<= 0.25", hw / bw <= 0.25,
                     f"CPU hgwd {median(B['hgwd_withdraw_cpu_s']):.2f} s, BIRD rx {median(B['bird_withdraw_cpu_s']):.2f} s")
            ri, ro = n / ha, n / hw
            bri, bro = median(B["raw_insert_rate"]), median(B["raw_delete_rate"])
            fi, fo = (n / bri) / ba, (n / bro) / bw
            self.row("B", "raw netlink writer's time vs BIRD's (the floor)", "x", fi, None, None, None,
                     "info", None, f"out {fo:.2f}x: no writer can go below this ratio on this machine",
                     "{:.2f}")
            self.row("B", "hgwd FIB insert rate", "routes/s", ri, "raw netlink, same runs", bri,
                     ri / bri, ">= 0.70", ri / bri >= 0.70, "", "{:.0f}")
            self.row("B", "hgwd FIB delete rate", "routes/s", ro, "raw netlink, same runs", bro,
                     ro / bro, ">= 0.70", ro / bro >= 0.70, "", "{:.0f}")
            ci = median(B["hgwd_announce_cpu_s"]) / median(B["raw_insert_cpu_s"])
            co = median(B["hgwd_withdraw_cpu_s"]) / median(B["raw_delete_cpu_s"])
            self.row("B", "hgwd CPU per route vs raw writer (in / out)", "x", ci, None, None, None,
                     "info", None, f"out {co:.2f}x; CPU seconds, less noisy than wall time", "{:.2f}")
        if C:
            hr, br = median(C["hgwd_rib_s"]), median(C["bird_import_s"])
            self.row("C", f"{a.n_rib} prefixes into the RIB", "s", hr, "BIRD BGP import", br, hr / br,
                     "<= 0.40", hr / br <= 0.40,
                     f"CPU hgwd {median(C['hgwd_rib_cpu_s']):.2f} s, BIRD rx {median(C['bird_import_cpu_s']):.2f} s")
            hc, bc = median(C["hgwd_rib_cpu_s"]), median(C["bird_import_cpu_s"])
            self.row("C", f"CPU for {a.n_rib} prefixes: hgwd vs BIRD receiver", "s", hc, "BIRD rx CPU", bc,
                     hc / bc, "info", None, "BIRD's wall time is bound by its sender; this is the receivers' work",
                     "{:.2f}")
            hw, bw = median(C["hgwd_rib_withdraw_s"]), median(C["bird_withdraw_s"])
            self.row("C", f"{a.n_rib} withdrawn from the RIB", "s", hw, "BIRD BGP withdraw", bw, hw / bw,
                     "info", None, "")
            hb, bb = median(C["hgwd_bytes_per_route"]), median(C["bird_bytes_per_route"])
            self.row("F", f"hgwd RSS per route ({a.n_rib} routes, minus idle)", "B/route", hb,
                     "BIRD 'Routing tables'", bb, hb / bb, "<= 100 B and <= 1.0",
                     hb <= 100 and hb <= bb,
                     f"idle {median(C['hgwd_idle_rss_kb']) / 1024:.1f} MB, full "
                     f"{median(C['hgwd_full_rss_kb']) / 1024:.1f} MB; ribBytes "
                     f"{median(C['hgwd_rib_bytes']) / a.n_rib:.1f} B/route", "{:.1f}")
        if D:
            from bench_mesh import rows
            rows(self, sys.modules[__name__], D)
        if E:
            v = median(E["install_s"])
            dials = median([st.get("dials") for st in E.get("load_stats", [])])
            self.row("E", f"{a.sessions} sessions: all routes installed", "s", v, "target", 2.0, v / 2.0,
                     "<= 2 s", v <= 2.0, f"all established after {median(E['established_s']):.3f} s; "
                     f"{dials:.0f} dials for {a.sessions} sessions" +
                     (" (hgwd refused the others)" if dials > a.sessions else ""))
            v = median(E["cpu_pct"])
            self.row("E", "steady-state CPU (keepalive 1 s)", "% of a core", v, "target", 2.0, v / 2.0,
                     "< 2 %", v < 2.0, "", "{:.2f}")
            v = median(E["rss_kb"]) / 1024
            self.row("E", "steady-state RSS", "MB", v, "target", 32.0, v / 32.0, "< 32 MB", v < 32.0,
                     "", "{:.1f}")

        if G:
            off, on = median(G["direct_off_gbps"]), median(G["direct_on_gbps"])
            # The median of each run's ratio (off and on measured back to back)
            # is less sensitive to the machine's load drifting than two medians.
            ratio = median([b / a for a, b in zip(G["direct_off_gbps"], G["direct_on_gbps"])])
            self.row("G", "on-link pair, bulk TCP, encap vxlan on", "Gbit/s", on, "encap none", off,
                     ratio, ">= 0.90", ratio >= 0.90,
                     "direct route either way; ratio: median of each run's on/off", "{:.2f}")
            v = median(G["vxlan_gbps"])
            self.row("G", "pair across a router, through hgw.vxlan", "Gbit/s", v, "on-link pair", on,
                     v / on, "info", None, "encapsulated in UDP; impossible without encap vxlan", "{:.2f}")

    def render(self) -> tuple[str, str]:
        def f(v, fmt):
            if v is None:
                return "-"
            return fmt.format(v)
        head = ["part", "figure", "median", "unit", "reference", "ref. median", "ratio", "target", "ok", "note"]
        rows = []
        for r in self.rows:
            rows.append([r["part"], r["figure"], f(r["value"], r["fmt"]), r["unit"], r["ref_name"] or "-",
                         f(r["ref"], r["fmt"]), f(r["ratio"], "{:.2f}"), r["target"] or "-",
                         {True: "yes", False: "NO", None: "-"}[r["ok"]], r["note"]])
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        text = "  ".join(h.ljust(w) for h, w in zip(head, widths)) + "\n"
        text += "  ".join("-" * w for w in widths) + "\n"
        for row in rows:
            text += "  ".join(str(x).ljust(w) for x, w in zip(row, widths)) + "\n"
        md = "| " + " | ".join(head) + " |\n|" + "|".join("---" for _ in head) + "|\n"
        for row in rows:
            md += "| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |\n"
        return text, md

    def machine(self) -> dict:
        model = ""
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        commit = run(["git", "-C", str(SRCDIR), "describe", "--always", "--dirty"], check=False).stdout.strip()
        # Parts D and E run without BIRD (only B and C install it): say "no BIRD".
        try:
            r = run([self.bird, "--version"], check=False)
            bird = (r.stdout + r.stderr).strip()
        except OSError:
            bird = ""
        return dict(cores=os.cpu_count(), cpu=model, kernel=platform.release(),
                    loadavg=open("/proc/loadavg").read().split()[:3], commit=commit,
                    bird=bird)


def ensure_bird() -> None:
    if shutil.which("bird") or os.path.exists("/usr/sbin/bird"):
        return
    log("installing bird2 (Debian) without starting its service")
    policy = Path("/usr/sbin/policy-rc.d")
    made = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        made = True
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "-q", "bird2"], env=env)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env)
            subprocess.run(["apt-get", "install", "-y", "-q", "bird2"], env=env, check=True)
    finally:
        if made:
            policy.unlink()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builddir", default=".", help="build directory (daemon/hgwd, tests/bench/...)")
    ap.add_argument("--only", default="A,B,C,D,E,G", help="parts to run, e.g. A,B (F comes with C)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each")
    ap.add_argument("--runs", type=int, default=5, help="runs of A, B, C (median)")
    ap.add_argument("--runs-d", type=int, default=3, help="runs of D")
    ap.add_argument("--runs-e", type=int, default=3, help="runs of E")
    ap.add_argument("--n-fib", type=int, default=100000, help="routes for A and B")
    ap.add_argument("--n-rib", type=int, default=1000000, help="prefixes for C and F")
    ap.add_argument("--hosts", type=int, default=50, help="hosts in D's full mesh")
    ap.add_argument("--hosts-seed", type=int, default=100,
                    help="hosts in D's mesh from one seed (0: no such mesh)")
    ap.add_argument("--pairs", type=int, default=5,
                    help="host pairs with 100 pps flows both ways across D's restarts (0: no flows)")
    ap.add_argument("--down-s", type=float, default=0.5,
                    help="D: how long a restarted hgwd stays down, seconds")
    ap.add_argument("--no-gr", dest="gr", action="store_false",
                    help="D: 'no graceful-restart' in every config: the flows must then lose packets "
                         "(a check of the counter; the kill -9 and silence rows mean nothing then)")
    ap.add_argument("--sessions", type=int, default=1000, help="sessions in E")
    ap.add_argument("--steady", type=float, default=10.0, help="E's steady-state sample, seconds")
    ap.add_argument("--runs-g", type=int, default=5, help="runs of G (each: encap off, encap on)")
    ap.add_argument("--transfer-s", type=float, default=3.0, help="G's bulk transfer, seconds")
    ap.add_argument("--plen", type=int, default=32, help="prefix length of A/B/C's routes")
    ap.add_argument("--base", default="10.128.0.0", help="first prefix of A/B/C's routes")
    ap.add_argument("--batch", type=int, default=512, help="nlwriter requests per sendmsg")
    ap.add_argument("--timeout", type=float, default=120.0, help="deadline of each wait, seconds")
    ap.add_argument("--json", help="results file (default BUILDDIR/bench-results.json)")
    ap.add_argument("--md", help="table file (default BUILDDIR/bench-results.md)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, configs)")
    ap.add_argument("--profile", metavar="DIR",
                    help="perf-record hgwd (and BIRD in B) during the first run's phases into DIR; "
                         "those runs' timings are perturbed")
    ap.add_argument("--ipv6", action="store_true", help="leave IPv6 (and its DAD events) on in the namespaces")
    args = ap.parse_args()
    global IPV6
    IPV6 = args.ipv6
    if args.quick:
        args.runs = args.runs_d = args.runs_e = args.runs_g = 1
        args.transfer_s = 1.0
        args.n_fib, args.n_rib, args.hosts, args.sessions, args.steady = 10000, 100000, 10, 100, 3.0
        args.hosts_seed, args.pairs = 20, 2
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, netlink writes)", file=sys.stderr)
        return 77
    parts = {p.strip().upper() for p in args.only.split(",") if p.strip()}
    if "F" in parts:
        parts.add("C")

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    atexit.register(REG.cleanup)
    sweep_stale_namespaces(NS_PREFIX, log=log)
    if parts & {"B", "C"}:
        ensure_bird()
    b = Bench(args)
    t_start = time.monotonic()
    status = 0
    machine = b.machine()
    try:
        for p in "ABCDEG":
            if p in parts:
                try:
                    getattr(b, f"part_{p.lower()}")()
                except (RuntimeError, TimeoutError) as e:
                    log(f"part {p} failed: {e}")
                    b.notes.append(f"part {p} failed: {e}")
                    status = 1
                finally:
                    # Each part's namespaces and processes go when it ends.
                    REG.reset()
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        REG.cleanup()
        return 130
    finally:
        REG.cleanup()
    b.build_table()
    text, md = b.render()
    elapsed = time.monotonic() - t_start
    machine["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    hdr = (f"hgw benchmarks: {machine['cores']} cores ({machine['cpu']}), kernel {machine['kernel']}, "
           f"{machine['bird'].splitlines()[0] if machine['bird'] else 'no BIRD'}, commit {machine['commit']}; "
           f"load average {' '.join(machine['loadavg'])} at start; {elapsed:.0f} s\n"
           f"A/B: {args.n_fib} /{args.plen} routes, C/F: {args.n_rib}, D: {args.hosts} hosts "
           f"({args.pairs} pairs of flows) and {args.hosts_seed} from one seed, "
           f"E: {args.sessions} sessions; medians of {args.runs} (A-C), {args.runs_d} (D), {args.runs_e} (E), "
           f"{args.runs_g} (G) runs\n")
    print()
    print(hdr)
    print(text)
    for n_ in b.notes:
        print("NOTE:", n_)
    jpath = Path(args.json) if args.json else b.builddir / "bench-results.json"
    mpath = Path(args.md) if args.md else b.builddir / "bench-results.md"
    jpath.write_text(json.dumps(dict(machine=machine, args=vars(args), elapsed_s=elapsed,
                                     samples=b.results, rows=[{k: v for k, v in r.items() if k != "fmt"}
                                                              for r in b.rows],
                                     notes=b.notes), indent=2, default=str) + "\n")
    mpath.write_text("# hgw benchmark results\n\n" + hdr.replace("\n", "  \n") + "\n" + md +
                     "".join(f"\nNOTE: {n_}\n" for n_ in b.notes) +
                     f"\nReproduce: `make bench` (as root) in the build directory.\n")
    log(f"results: {jpath}, {mpath}")
    if args.keep:
        log(f"logs and configs kept in {b.tmp}")
    else:
        shutil.rmtree(b.tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
