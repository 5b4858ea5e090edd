"""Self-test of the lab library (hgwlab.py, conftest.py): topology, manual proto-77 routes, helpers, cleanup.

Needs no hgwd: routes are added by hand with ``ip route add ... proto 77``, and
"daemons" are stand-in processes. It checks that the topology forwards only
through such routes, that nothing leaks into the root namespace, and that
namespaces and processes are removed after a passing, failing or interrupted
test.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hgwlab
from hgwlab import Route, route, wait_until

pytestmark = pytest.mark.no_daemon

HERE = Path(__file__).resolve().parent


def root_links():
    """Interface names of the root namespace."""
    out = hgwlab.run(["ip", "-o", "link", "show"]).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def add_static_routes(lab, family=4):
    """Full mesh of proto-77 routes by hand, as hgwd would install them."""
    for h in lab.hosts:
        for o in lab.hosts:
            if o is h:
                continue
            if family == 4:
                h.ip("route", "add", o.subnet, "via", o.lan_ip, "dev", "eth0", "proto", "77", "metric", "20")
            else:
                h.ip("-6", "route", "add", o.subnet6, "via", o.lan_ip6, "dev", "eth0",
                     "proto", "77", "metric", "20")


def test_topology_forwards_only_through_proto77_routes(make_lab):
    """Containers cannot reach each other until proto-77 routes exist; then they can, both ways."""
    before = root_links()
    lab = make_lab(3)
    assert root_links() == before, "the lab added interfaces to the root namespace"
    h0, h1, h2 = lab.hosts
    assert (h0.lan_ip, h0.subnet, h0.container_ip) == ("10.60.6.10", "192.168.10.0/24", "192.168.10.11")
    assert (h2.lan_ip, h2.subnet, h2.container_ip) == ("10.60.6.12", "192.168.12.0/24", "192.168.12.11")
    assert h0.lan_ip6 is None and h0.subnet6 is None
    for h in lab.hosts:
        assert "default" not in h.route_table(4), f"{h.name} must have no default route"
        assert h.sh("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
        assert h.sh("cat /proc/sys/net/ipv4/conf/eth0/rp_filter").stdout.strip() == "0"
        assert h.route_set() == set()
    # The LAN works without routes; the containers do not reach each other.
    assert h0.run(["ping", "-c1", "-W1", h1.lan_ip], check=False).returncode == 0
    assert not h0.container_ping(h1.container_ip)
    assert lab.ping_failures() != []

    add_static_routes(lab)
    lab.check_routes({h: {route(o.subnet, o.lan_ip) for o in lab.hosts if o is not h}
                      for h in lab.hosts})
    assert Route("192.168.11.0/24", "10.60.6.11", "eth0", 20, "main") in h0.route_set()
    lab.wait_full_connectivity(timeout=5)

    # Removing one route breaks exactly that direction.
    h0.ip("route", "del", h1.subnet, "proto", "77")
    assert not h0.container_ping(h1.container_ip)
    assert h0.container_ping(h2.container_ip)
    with pytest.raises(AssertionError, match="missing"):
        lab.check_routes({h0: {route(h1.subnet, h1.lan_ip), route(h2.subnet, h2.lan_ip)}})


def test_route_set_reports_other_tables_and_metrics(make_lab):
    """route_set() keeps table and metric, so a route in the wrong table or metric is visible."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    h0.ip("route", "add", h1.subnet, "via", h1.lan_ip, "dev", "eth0", "proto", "77", "metric", "30",
          "table", "100")
    assert h0.route_set() == {Route(h1.subnet, h1.lan_ip, "eth0", 30, "100")}
    assert h0.route_set() != {route(h1.subnet, h1.lan_ip)}
    h0.ip("route", "add", "192.168.99.0/24", "via", h1.lan_ip, "proto", "static")
    assert len(h0.route_set()) == 1, "routes of other protocols must not be counted"


def test_dual_stack_and_ipv6_only_lans(make_lab):
    """IPv6 addresses everywhere (no DAD wait), and a LAN without IPv4."""
    lab = make_lab(2, ipv6=True)
    h0, h1 = lab.hosts
    assert (h0.lan_ip6, h0.subnet6, h0.container_ip6) == ("fd00:60:6::10", "fd00:10:10::/64", "fd00:10:10::11")
    assert h0.own_networks() == ["192.168.10.0/24", "fd00:10:10::/64"]
    assert "tentative" not in h0.sh("ip -6 addr show").stdout
    add_static_routes(lab, 4)
    add_static_routes(lab, 6)
    lab.wait_full_connectivity(family=4)
    lab.wait_full_connectivity(family=6)
    assert route("fd00:10:11::/64", "fd00:60:6::11") in h0.route_set()

    lab6 = make_lab(3, ipv6=True, lan_ipv4=False)
    g0, g1, g2 = lab6.hosts
    assert g0.lan_ip is None and g0.lan_addr == "fd00:60:6::10"
    assert g2.node_id == "10.0.0.3"
    assert "inet " not in g0.ip("-4", "addr", "show", "dev", "eth0").stdout
    cfg = g0.make_config()
    assert " node-id 10.0.0.1\n" in cfg and " neighbor fd00:60:6::11\n" in cfg
    assert " network fd00:10:10::/64\n" in cfg and "192.168" not in cfg
    add_static_routes(lab6, 6)
    lab6.wait_full_connectivity(family=6)
    assert not g0.container_ping(g1.container_ip), "no IPv4 path may exist on an IPv6-only LAN"


def test_make_config_defaults(make_lab):
    """The generated config follows the daemon's documented syntax."""
    lab = make_lab(3)
    cfg = lab.hosts[0].make_config(extra_config="address 10.99.0.1", timers=(0.2, 0.6))
    assert cfg.splitlines() == [
        "hostname h0", "router hgw", " interface eth0", " listen port 7179",
        " network 192.168.10.0/24", " neighbor 10.60.6.11", " neighbor 10.60.6.12",
        " timers keepalive 0.2 hold 0.6", " kernel protocol 77 table 254 metric 20",
        " address 10.99.0.1"]
    h0, h1, h2 = lab.hosts
    for h in lab.hosts:
        h.write_config(h.make_config())
    assert lab.expected_routes(h0, up=[h0, h1, h2]) == {route(h1.subnet, h1.lan_ip), route(h2.subnet, h2.lan_ip)}
    assert lab.expected_routes(h0, up=[h0, h2]) == {route(h2.subnet, h2.lan_ip)}
    assert lab.expected_routes(h1, up=[h0, h2]) == set()


def test_wait_helpers():
    """wait_until returns the value, reports the last error on timeout; the timers measure."""
    t0 = time.monotonic()
    assert wait_until(lambda: time.monotonic() - t0 > 0.1 and "ok", 2) == "ok"
    with pytest.raises(hgwlab.WaitTimeout, match="the thing.*boom"):
        wait_until(lambda: (_ for _ in ()).throw(AssertionError("boom")), 0.2, msg="the thing")
    t0 = time.monotonic()
    el = hgwlab.time_until(lambda: time.monotonic() - t0 > 0.3, 2, start=t0)
    assert 0.3 <= el < 0.5
    res = hgwlab.times_until_each({"a": lambda: time.monotonic() - t0 > 0.1,
                                   "b": lambda: time.monotonic() - t0 > 0.2}, 2, start=t0)
    assert 0.1 <= res["a"] < res["b"] < 0.5
    with pytest.raises(hgwlab.WaitTimeout, match="still pending"):
        hgwlab.times_until_each({"never": lambda: False}, 0.1)


def test_frame_helpers():
    """frame()/parse_frames() follow PROTOCOL.md's header and NOTIFY layout."""
    f = hgwlab.frame(5, bytes([1, 1, 3]) + b"bad")
    assert f[:8] == bytes([1, 5, 0, 0, 0, 0, 0, 14])
    frames, rest = hgwlab.parse_frames(hgwlab.frame(2) + f + b"\x01")
    assert [x["name"] for x in frames] == ["KEEPALIVE", "NOTIFY"] and rest == b"\x01"
    assert (frames[1]["code"], frames[1]["subcode"], frames[1]["text"]) == (1, 1, "bad")
    assert frames[1]["text_len_ok"]


def test_message_encoders():
    """hello()/announce()/withdraw()/notify()/prefix_bytes() follow PROTOCOL.md byte for byte."""
    b = hgwlab.hello_body("10.60.6.50", hold_ms=3000, keepalive_ms=1000, caps=3, listen_port=7179,
                          addrs=["10.60.6.12", "fd00::1"], hostname="ab")
    assert b[:20] == bytes([10, 60, 6, 50, 0, 0, 0x0b, 0xb8, 0, 0, 0x03, 0xe8, 0, 0, 0, 3,
                            0x1c, 0x0b, 2, 2])
    assert b[20:25] == bytes([4, 10, 60, 6, 12]) and b[25] == 6 and b[26:42] == bytes([0xfd] + [0] * 14 + [1])
    assert b[42:] == b"ab" and len(b) == 44
    assert hgwlab.parse_hello(b) == {"node_id": "10.60.6.50", "hold_ms": 3000, "keepalive_ms": 1000,
                                     "caps": 3, "listen_port": 7179, "addrs": ["10.60.6.12", "fd00::1"],
                                     "hostname": "ab"}
    g = hgwlab.parse_hello(b + bytes([1, 3, 0, 120, 0]))   # the graceful restart extension
    assert (g["gr_restart_s"], g["gr_flags"], g["hostname"]) == (120, 0, "ab")
    with pytest.raises(ValueError):
        hgwlab.parse_hello(b + bytes([1, 3, 0]))
    assert hgwlab.hello(1)[:8] == bytes([1, 1, 0, 0, 0, 0, 0, 28])
    u = hgwlab.announce("10.60.6.50", "10.60.6.12", ["192.168.60.0/24", "10.0.0.0/7", "0.0.0.0/0"])
    assert u == bytes([1, 3, 0, 0, 0, 0, 0, 27, 1, 4, 0, 3, 10, 60, 6, 50, 10, 60, 6, 12,
                       24, 192, 168, 60, 7, 10, 0])
    w = hgwlab.withdraw(7, ["fd00:10:60::/64"])
    assert w == bytes([1, 3, 0, 0, 0, 0, 0, 25, 2, 6, 0, 1, 0, 0, 0, 7, 64,
                       0xfd, 0, 0, 0x10, 0, 0x60, 0, 0])
    assert hgwlab.prefix_bytes("192.168.60.1/25") == bytes([25, 192, 168, 60, 1])  # host bits kept
    assert hgwlab.prefix_bytes("192.168.62.0/24", plen=33) == bytes([33, 192, 168, 62, 0, 0])
    assert hgwlab.notify(6, 5, "x") == bytes([1, 5, 0, 0, 0, 0, 0, 12, 6, 5, 1]) + b"x"
    assert hgwlab.keepalive() == bytes([1, 2, 0, 0, 0, 0, 0, 8])
    assert hgwlab.end_of_rib() == bytes([1, 4, 0, 0, 0, 0, 0, 8])


# Answers a scripted peer: HELLO (hold 600 ms), then counts its KEEPALIVEs, then NOTIFY cease and close.
PEER_SERVER = r"""
import socket, sys
sys.path.insert(0, sys.argv[2])
import hgwlab
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7179)); s.listen(1)
print("listening", flush=True)
c, peer = s.accept()
c.sendall(hgwlab.hello("10.60.6.10", hold_ms=600, keepalive_ms=200))
data = b""
while True:
    frames, _ = hgwlab.parse_frames(data)
    if [f["type"] for f in frames].count(2) >= 2:
        break
    data += c.recv(4096)
print("from", peer[0], "hello", frames[0]["type"] == 1 and hgwlab.parse_hello(frames[0]["body"])["node_id"],
      "keepalives", [f["type"] for f in frames].count(2), flush=True)
c.sendall(hgwlab.notify(6, 1, "bye"))
c.close()
"""


def test_scripted_peer(make_lab):
    """ScriptedPeer connects from inside a namespace (from a chosen source address), does the HELLO
    exchange, keeps the session alive with KEEPALIVEs, and sees the NOTIFY and the close."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    h1.ip("addr", "add", "10.60.6.99/24", "dev", "eth0")
    srv = lab.spawn(h0.ns, ["/usr/bin/python3", "-c", PEER_SERVER, h0.lan_ip, str(HERE)], name="fake-peer")
    wait_until(lambda: "\nlistening\n" in srv.log_path.read_text(), 5, msg="fake peer")
    with lab.connect(h1, h0, source="10.60.6.99") as p:
        assert p.local == "10.60.6.99"
        his = p.handshake("10.60.6.50")
        assert his["node_id"] == "10.60.6.10" and his["hold_ms"] == 600
        assert p.keepalive_s == 0.1   # min(own keepalive, hold / 3) / 2
        n = p.wait_notify(5)
        assert (n["code"], n["subcode"], n["text"]) == (6, 1, "bye")
        p.wait_closed()
        assert p.frames[-1] is n and [f["name"] for f in p.frames] == ["HELLO", "NOTIFY"]
    wait_until(lambda: "from 10.60.6.99 hello 10.60.6.50 keepalives 2" in srv.log_path.read_text(), 5,
               msg="the fake peer's report")
    assert not lab.scripted[0]._thread.is_alive()


NOTIFY_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7179)); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
got = c.recv(100)
print("got", got.hex(), flush=True)
c.sendall(bytes([1, 5, 0, 0, 0, 0, 0, 15, 1, 1, 4]) + b"nope")
c.close()
"""


def test_raw_exchange_client(make_lab):
    """raw_exchange() (the malformed-frame client) sends bytes and parses what comes back."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    srv = lab.spawn(h0.ns, ["/usr/bin/python3", "-c", NOTIFY_SERVER, h0.lan_ip], name="fake-server")
    wait_until(lambda: "\nlistening\n" in srv.log_path.read_text(), 5, msg="fake server")
    res = hgwlab.raw_exchange(h1.ns, h0.lan_ip, hgwlab.frame(2, version=9))
    assert res["eof"] and res["rest"] == b""
    (n,) = res["frames"]
    assert (n["version"], n["type"], n["reserved"], n["code"], n["subcode"], n["text"]) == (1, 5, 0, 1, 1, "nope")
    wait_until(lambda: "got 0902000000000008" in srv.log_path.read_text(), 5, msg="server saw the frame")


def test_host_daemon_plumbing(tmp_path, monkeypatch):
    """Host.start/stop/kill run $HGWD inside the namespace in its own process group, and
    cleanup reports a daemon that dies unexpectedly or does not exit 0 on SIGTERM."""
    fake = tmp_path / "fake-hgwd"
    fake.write_text("#!/bin/sh\necho \"fake hgwd $* netns=$(ip netns identify)\"\n"
                    "trap 'echo bye; exit 0' TERM\nsleep 1000 & wait\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HGWD", str(fake))
    lab = hgwlab.Lab(2, workdir=tmp_path / "lab")
    try:
        h0, h1 = lab.hosts
        d = h0.start(wait=False)
        wait_until(lambda: "fake hgwd" in h0.log_text(), 5, msg="fake daemon output")
        assert f"netns={h0.ns}" in h0.log_text() and f"-f {h0.conf_path} -s {h0.sock}" in h0.log_text()
        assert os.getpgid(d.pid) == d.pid, "the daemon must lead its own process group"
        assert h0.conf_path.read_text() == h0.config_text
        assert h0.stop() == 0 and "bye" in h0.log_text()
        h0.start(wait=False)
        assert h0.kill() == -signal.SIGKILL
        h1.start(wait=False)
        wait_until(lambda: "fake hgwd" in h1.log_text(), 5, msg="fake daemon output")
        os.kill(h1.daemon.pid, signal.SIGUSR1)  # dies "unexpectedly"
        wait_until(lambda: not h1.running, 5, msg="h1 to die")
        assert any("unexpectedly" in p for p in lab.daemon_problems())
    finally:
        problems = lab.cleanup()
    assert any("h1" in p and "unexpectedly" in p for p in problems), problems
    assert not any(n.startswith(lab.prefix) for n in hgwlab.list_namespaces())


def test_cleanup_kills_processes_and_deletes_namespaces(tmp_path):
    """cleanup() leaves no namespace and no process of the lab behind."""
    lab = hgwlab.Lab(2, workdir=tmp_path)
    p = lab.spawn(lab.hosts[1].ns, ["sleep", "1000"], name="sleeper")
    # a process started in the namespace behind the lab's back is killed too
    stray = subprocess.Popen(["ip", "netns", "exec", lab.hosts[0].cns, "sleep", "1000"], start_new_session=True)
    wait_until(lambda: str(stray.pid) in hgwlab.run(["ip", "netns", "pids", lab.hosts[0].cns]).stdout, 5,
               msg="stray process in namespace")
    assert len([n for n in hgwlab.list_namespaces() if n.startswith(lab.prefix)]) == 5
    lab.cleanup()
    lab.cleanup()  # idempotent
    assert [n for n in hgwlab.list_namespaces() if n.startswith(lab.prefix)] == []
    assert not p.running
    assert stray.wait(5) == -signal.SIGKILL


def test_sweep_removes_namespaces_of_dead_runs():
    """sweep_stale_namespaces() removes hgw-<pid>-... namespaces whose pid is dead, and nothing else."""
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process can have it
    name = f"hgw-{dead}-abcd-h0"
    alive = f"hgw-{os.getppid()}-abcd-h0"  # a live pid: must be left alone
    hgwlab.run(["ip", "netns", "add", name])
    hgwlab.run(["ip", "netns", "add", alive])
    try:
        swept = hgwlab.sweep_stale_namespaces()
        assert name in swept and alive not in swept
        assert name not in hgwlab.list_namespaces() and alive in hgwlab.list_namespaces()
    finally:
        hgwlab.delete_namespaces([name, alive])


def test_registry_and_sweep_of_another_prefix():
    """The benchmarks' Registry (tests/bench uses it) names, records and removes its namespaces and
    processes; sweep_stale_namespaces(prefix) sweeps that prefix only, not the lab's "hgw-"."""
    reg = hgwlab.Registry("hgwt-")
    try:
        ns = reg.add_ns("x")
        assert ns.startswith(f"hgwt-{os.getpid()}-") and ns.endswith("-x") and ns in hgwlab.list_namespaces()
        assert "state UNKNOWN" in hgwlab.run(["ip", "-n", ns, "link", "show", "lo"]).stdout  # lo is up
        p = reg.spawn(["sleep", "1000"], ns=ns)
        wait_until(lambda: str(p.pid) in hgwlab.run(["ip", "netns", "pids", ns]).stdout, 5,
                   msg="the process in the registry's namespace")
        assert os.getpgid(p.pid) == p.pid
        reg.reset()
        assert p.returncode == -signal.SIGTERM and ns not in hgwlab.list_namespaces()
        assert reg.procs == [] and reg.netns == []
    finally:
        reg.cleanup()
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    mine, lab_ns = f"hgwt-{dead}-abcd-x", f"hgw-{dead}-abcd-h0"
    hgwlab.run(["ip", "netns", "add", mine])
    hgwlab.run(["ip", "netns", "add", lab_ns])
    try:
        told = []
        assert hgwlab.sweep_stale_namespaces("hgwt-", log=told.append) == [mine]
        assert told and mine in told[0]
        assert mine not in hgwlab.list_namespaces() and lab_ns in hgwlab.list_namespaces()
    finally:
        hgwlab.delete_namespaces([mine, lab_ns])


CTL_SERVER_REPLIES = {
    "show a": b"1003-prompt\n1000-line one\n1001-word\thelp\n1000-line two\n0000 \n",
    "show bad": b"9000 unknown command\n",
    "show json": b'1000-{"x": [1,\n1000- 2]}\n0000 \n',
}


def test_ctl_client(tmp_path):
    """ctl_request() (the control-socket client tests/bench uses) returns the 1000- lines, raises
    CtlError with the code on an error line, and OSError when the daemon closes early."""
    import socket
    import threading
    sock = tmp_path / "ctl.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(sock))
    srv.listen(4)
    got = []

    def serve():
        for _ in range(4):
            c, _ = srv.accept()
            with c:
                line = c.makefile("rb").readline().decode().rstrip("\n")
                got.append(line)
                c.sendall(CTL_SERVER_REPLIES.get(line, b"1000-partial\n"))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        assert hgwlab.ctl_request(sock, "show a", timeout=5) == "line one\nline two"
        with pytest.raises(hgwlab.CtlError, match="show bad: 9000 unknown command") as e:
            hgwlab.ctl_request(sock, "show bad", timeout=5)
        assert e.value.code == "9000"
        assert hgwlab.ctl_json(sock, "show json", timeout=5) == {"x": [1, 2]}
        with pytest.raises(OSError, match="closed"):
            hgwlab.ctl_request(sock, "show closed", timeout=5)
    finally:
        srv.close()
    t.join(5)
    assert got == ["show a", "show bad", "show json", "show closed"]


def _default_signals():
    """In the nested run: SIGINT and SIGTERM as a terminal would deliver them.

    A suite started in the background by a non-interactive shell inherits
    SIGINT ignored, and Python then never raises KeyboardInterrupt: the
    Ctrl-C case would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _nested_pytest(case, marker, extra_env=None):
    env = dict(os.environ, HGW_SELFTEST_NESTED="1", HGW_SELFTEST_MARKER=str(marker),
               PYTHONDONTWRITEBYTECODE="1", **(extra_env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         f"{HERE / 'selftest_cases.py'}::{case}"],
        cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, preexec_fn=_default_signals)


def _assert_nothing_left(marker, pid):
    prefix, fake_pid = marker.read_text().split()
    assert prefix.startswith(f"hgw-{pid}-")
    assert [n for n in hgwlab.list_namespaces() if n.startswith(prefix)] == []
    wait_until(lambda: not _alive(fake_pid), 5, msg="the fake daemon to be gone")


def _alive(pid):
    """True if the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_failing_test_cleans_up_and_reports_logs(tmp_path):
    """A failing lab test removes everything and its report carries the daemon log and lab state."""
    marker = tmp_path / "marker"
    p = _nested_pytest("test_deliberate_failure", marker)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 1, out
    assert "deliberate failure" in out
    assert "fake-daemon-says-hello" in out, "daemon log missing from the failure report:\n" + out
    assert "lab h1 state" in out and "ip -4 route" in out
    _assert_nothing_left(marker, p.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_interrupted_run_cleans_up(tmp_path, sig):
    """A test run stopped by SIGTERM or SIGINT (Ctrl-C) still removes its namespaces and processes."""
    marker = tmp_path / "marker"
    p = _nested_pytest("test_hang_until_killed", marker)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), 30, msg="nested lab to be built")
        prefix = marker.read_text().split()[0]
        assert any(n.startswith(prefix) for n in hgwlab.list_namespaces())
        p.send_signal(sig)
        # Deleting namespaces is slow on a loaded machine (the kernel tears
        # them down one at a time): a generous bound, still a bound.
        out, _ = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode != 0
    _assert_nothing_left(marker, p.pid)


def test_run_killed_with_sigkill_is_swept_by_next_run(tmp_path):
    """A run killed -9 cannot clean up; the next run's sweep removes its namespaces and the processes in them."""
    marker = tmp_path / "marker"
    p = _nested_pytest("test_hang_until_killed", marker)
    try:
        wait_until(lambda: marker.exists() and marker.read_text().strip(), 30, msg="nested lab to be built")
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    prefix, fake_pid = marker.read_text().split()
    assert any(n.startswith(prefix) for n in hgwlab.list_namespaces()), "SIGKILL cannot have cleaned up"
    assert _alive(fake_pid), "the fake daemon should have outlived the killed run"
    swept = hgwlab.sweep_stale_namespaces()
    assert sorted(n for n in swept if n.startswith(prefix)) == sorted(
        f"{prefix}-{s}" for s in ("lan", "h0", "h1", "c0", "c1"))
    _assert_nothing_left(marker, p.pid)


def test_hanging_test_hits_deadline_and_cleans_up(tmp_path):
    """A test that hangs is stopped by the per-test deadline ($HGW_LAB_TEST_TIMEOUT) and still cleans up."""
    marker = tmp_path / "marker"
    p = _nested_pytest("test_hang_until_killed", marker, {"HGW_LAB_TEST_TIMEOUT": "3"})
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 1, out
    assert "exceeded its 3 s deadline" in out, out
    _assert_nothing_left(marker, p.pid)
