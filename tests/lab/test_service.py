"""Lab tests of hgwd as a system service: exit codes and flags, -d returning once up, the pid file,
systemd readiness (NOTIFY_SOCKET), /metrics against show ... json, /healthz and /readyz, log levels."""

import os
import signal
import socket
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from hgwlab import PORT, Proc, hgwd_args, hgwd_path, run, tail, wait_until

HTTP_PORT = 9179

# Fetches a URL from inside a namespace; prints the status code, a newline, then the body.
FETCH = """
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
sys.stdout.write(str(code) + "\\n" + body.decode())
"""


def http_get(host, path, port=HTTP_PORT):
    """GET http://127.0.0.1:port/path inside host's namespace: (status, body)."""
    cp = run(["ip", "netns", "exec", host.ns, "python3", "-c", FETCH,
              f"http://127.0.0.1:{port}{path}"], check=False)
    assert cp.returncode == 0, f"fetching {path} on {host.name} failed: {cp.stderr}"
    code, _, body = cp.stdout.partition("\n")
    return int(code), body


def metrics(host):
    """{(name, frozenset(labels)): value} of /metrics, parsed by prometheus_client."""
    code, body = http_get(host, "/metrics")
    assert code == 200, f"/metrics answered {code}: {body}"
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def m(values, name, **labels):
    return values[(name, frozenset(labels.items()))]


def compare_metrics_with_show(host):
    """Assert /metrics equals show peers json / show routes json taken between two equal scrapes."""
    def stable():
        before = metrics(host)
        peers = host.peers()
        routes = host.show_routes()
        after = metrics(host)
        keys = [k for k in before if k[0] not in ("hgw_uptime_seconds", "hgw_log_lines_total",
                                                    "hgw_log_lines_suppressed_total")]
        if any(before[k] != after.get(k) for k in keys):
            return None
        # A peer being re-dialled flips between idle and connect: a state seen by
        # show but not by both scrapes is a moment, not a difference; take another.
        seen = {}
        for p in peers.values():
            seen[p["state"]] = seen.get(p["state"], 0) + 1
        if any(m(after, "hgw_peers", state=st) != seen.get(st, 0) for st in ("idle", "connect")):
            return None
        return after, peers, routes
    got = wait_until(stable, 10, msg=f"two equal scrapes of /metrics on {host.name}, "
                     "and show peers json's idle and connect counts equal to theirs")
    values, peers, routes = got
    states = {}
    for p in peers.values():
        states[p["state"]] = states.get(p["state"], 0) + 1
    for st in ("idle", "connect", "established"):
        assert m(values, "hgw_peers", state=st) == states.get(st, 0), \
            f"hgw_peers{{state={st}}} differs from show peers json: {states}"
    assert sum(v for (n, _), v in values.items() if n == "hgw_peers") == len(peers)
    for addr, p in peers.items():
        assert m(values, "hgw_peer_session_flaps_total", peer=addr) == p["flaps"]
        assert m(values, "hgw_peer_prefixes_received_total", peer=addr) == p["prefixesReceived"]
        assert m(values, "hgw_peer_prefixes_accepted", peer=addr) == p["prefixesAccepted"]
        assert m(values, "hgw_peer_prefixes_refused_total", peer=addr) == p["prefixesRefused"]
        assert m(values, "hgw_peer_up", peer=addr) == (p["state"] == "established")
    assert m(values, "hgw_rib_prefixes") == len(routes)
    assert m(values, "hgw_fib_routes_installed") == sum(1 for r in routes.values() if r["installed"])
    return values, peers, routes


def test_version_help_and_bad_options():
    """-V and --version print the version and exit 0; -h and --help exit 0; a bad option exits 2."""
    for flag in ("-V", "--version"):
        cp = run([hgwd_path(), flag], check=False)
        assert cp.returncode == 0 and cp.stdout.startswith("hgwd "), (flag, cp)
    for flag in ("-h", "--help"):
        cp = run([hgwd_path(), flag], check=False)
        assert cp.returncode == 0 and "--pidfile" in cp.stdout and "--config" in cp.stdout, (flag, cp)
    cp = run([hgwd_path(), "--no-such-option"], check=False)
    assert cp.returncode == 2 and "usage" in cp.stderr


def _daemon_pid(pidfile):
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_background_start_reports_errors_and_readiness(make_lab):
    """hgwd -d: non-zero with the reason on stderr for a busy port, a missing key file or a pid file
    naming a running hgwd; 0 only once the control socket answers; the pid file goes at exit."""
    lab = make_lab(1)
    h0 = lab.hosts[0]
    pidfile = lab.workdir / "h0.pid"
    conf = h0.write_config(h0.make_config(neighbors=[]))
    argv = ["ip", "netns", "exec", h0.ns, hgwd_path(), "-d", "-f", conf, "-s", h0.sock, "-p", pidfile]

    # A busy port: bound by another program in the namespace.
    holder = subprocess.Popen(["ip", "netns", "exec", h0.ns, "python3", "-c",
                               "import socket, sys\n"
                               "s = socket.socket()\n"
                               f"s.bind(('0.0.0.0', {PORT}))\n"
                               "s.listen()\n"
                               "print('bound', flush=True)\n"
                               "sys.stdin.read()\n"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "bound"
        cp = run(argv, check=False, timeout=15)
        assert cp.returncode != 0, f"hgwd -d on a busy port exited 0: {cp}"
        assert f"port {PORT}" in cp.stderr and "Address already in use" in cp.stderr, cp.stderr
        assert not pidfile.exists(), "a daemon that failed to start left its pid file"
    finally:
        holder.stdin.close()
        holder.wait(5)

    # A missing key file.
    bad = h0.make_config(neighbors=[], extra_config=" secret-file /nonexistent/hgw.key")
    badconf = lab.workdir / "bad.conf"
    badconf.write_text(bad)
    cp = run(["ip", "netns", "exec", h0.ns, hgwd_path(), "-d", "-f", badconf, "-s", h0.sock],
             check=False, timeout=15)
    assert cp.returncode != 0 and "/nonexistent/hgw.key" in cp.stderr, cp

    # A good start: up when -d returns, without waiting.
    pid = None
    try:
        cp = run(argv, check=False, timeout=15)
        pid = _daemon_pid(pidfile)
        assert cp.returncode == 0, f"hgwd -d failed: {cp}"
        assert cp.stderr == "", cp.stderr
        assert pid is not None and _alive(pid), "no live pid in the pid file once hgwd -d returned"
        summary = h0.hgwsh("show summary json")  # at once: no wait_until
        assert summary["listenPort"] == PORT

        # A second one with the same pid file is refused, and leaves the file alone.
        cp = run(argv, check=False, timeout=15)
        assert cp.returncode != 0 and "already running" in cp.stderr, cp
        assert _daemon_pid(pidfile) == pid

        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not _alive(pid), 10, msg="hgwd -d to exit on SIGTERM")
        pid = None
        assert not pidfile.exists(), "the pid file stayed after a clean stop"
    finally:
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _recv_all(sock, into):
    """Append every pending notify datagram's lines to into; return into."""
    while True:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return into
        into.extend(data.decode().splitlines())


def test_systemd_notify(make_lab):
    """Under NOTIFY_SOCKET: READY=1 once the control socket answers, STATUS= lines that follow peers,
    WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    path = lab.workdir / "notify.sock"
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(str(path))
    ns.setblocking(False)
    try:
        conf = h0.write_config(h0.make_config())
        argv = ["ip", "netns", "exec", h0.ns, "env", f"NOTIFY_SOCKET={path}", "WATCHDOG_USEC=400000", hgwd_path(),
                "-f", conf, "-s", h0.sock, *hgwd_args()]
        h0.daemon = Proc("hgwd-h0", argv, h0.log_path)
        h0.history.append(h0.daemon)
        lines, first_answer = [], []

        def ready():
            assert h0.running, f"hgwd exited; log:\n{tail(h0.log_path, 60)}"
            _recv_all(ns, lines)
            if "READY=1" not in lines:
                return False
            # READY came: the control socket must answer now; asked once, no retry.
            first_answer.append(h0.hgwsh_raw("show summary json"))
            return True
        wait_until(ready, 10, msg="READY=1 from hgwd")
        assert first_answer[0].returncode == 0, f"READY=1 before the control socket answers: {first_answer[0]}"
        status = [l for l in lines if l.startswith("STATUS=")]
        assert status and "0 of 1 peers established" in status[-1], lines

        h1.start()
        wait_until(lambda: any("1 of 1 peers established" in l for l in _recv_all(ns, lines)), 10,
                   msg="a STATUS= line saying the peer is established")

        # WatchdogSec=0.4 s: WATCHDOG=1 every 0.2 s.
        del lines[:]
        t0 = time.monotonic()
        wait_until(lambda: _recv_all(ns, lines).count("WATCHDOG=1") >= 3, 5, msg="three WATCHDOG=1")
        assert time.monotonic() - t0 < 1.5, "WATCHDOG=1 not sent at half the watchdog interval"

        del lines[:]
        h0.daemon.signal(signal.SIGHUP)
        wait_until(lambda: "READY=1" in _recv_all(ns, lines), 10, msg="READY=1 after SIGHUP")
        assert "RELOADING=1" in lines and lines.index("RELOADING=1") < lines.index("READY=1"), lines

        del lines[:]
        assert h0.stop() == 0
        _recv_all(ns, lines)
        assert "STOPPING=1" in lines, lines
    finally:
        ns.close()


def _http_config(host, extra="", **kw):
    return f"http listen 127.0.0.1\n" + host.make_config(extra_config=extra, **kw)


def test_metrics_equal_show_json(make_lab):
    """/metrics parses with prometheus_client and equals show peers/routes json, before and after a
    peer goes down; session down is logged at warning."""
    lab = make_lab(3)
    h0, h1, h2 = lab.hosts
    h0.start(config=_http_config(h0), wait=False)
    for h in (h1, h2):
        h.start(wait=False)
    for h in lab.hosts:
        h.wait_ready()
    lab.wait_converged(timeout=15)

    values, peers, routes = compare_metrics_with_show(h0)
    assert m(values, "hgw_peers", state="established") == 2
    assert m(values, "hgw_fib_routes_installed") == 2
    assert m(values, "hgw_initial_sync_done") == 1
    assert any(n == "hgw_build_info" for n, _ in values)
    assert m(values, "hgw_uptime_seconds") > 0

    assert h2.leave() == 0
    wait_until(lambda: h0.peer(h2)["state"] != "established", 10, msg="h0 to see h2 down")
    wait_until(lambda: h0.show_route(h2.subnet) is None or not h0.show_route(h2.subnet)["installed"],
               10, msg="h2's route to leave h0's kernel")
    values, peers, routes = compare_metrics_with_show(h0)
    assert m(values, "hgw_peers", state="established") == 1
    assert m(values, "hgw_peer_session_flaps_total", peer=h2.lan_ip) >= 1
    assert m(values, "hgw_peer_up", peer=h2.lan_ip) == 0

    log = h0.hgwsh("show logging json")
    down = [l for l in log["recent"] if "session down" in l["message"] and h2.lan_ip in l["message"]]
    assert down and all(l["level"] == "warning" for l in down), log["recent"][-20:]
    h0.hgwsh("no debug all")
    assert h0.hgwsh("show debugging json") == {"peer": False, "rib": False, "kernel": False}
    h0.hgwsh("debug peer")
    assert h0.hgwsh("show debugging json") == {"peer": True, "rib": False, "kernel": False}


def test_health_and_readiness(make_lab):
    """/healthz 200 at once; /readyz 503 with the reason while the initial sync waits for a neighbor,
    200 once it sent END-OF-RIB; anything else 404."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    h0.start(config=_http_config(h0, extra="timers startup 60"))
    code, body = http_get(h0, "/healthz")
    assert code == 200, body
    code, body = http_get(h0, "/readyz")
    assert code == 503 and "initial sync" in body, (code, body)
    assert h0.hgwsh("show summary json")["initialSyncDone"] is False
    code, body = http_get(h0, "/nothing-here")
    assert code == 404, (code, body)

    h1.start()

    def ready():
        code, body = http_get(h0, "/readyz")
        return code == 200
    wait_until(ready, 15, interval=0.2, msg="/readyz to answer 200 after h1's END-OF-RIB")
    assert h0.hgwsh("show summary json")["initialSyncDone"] is True
    assert m(metrics(h0), "hgw_initial_sync_done") == 1


def test_daemon_statements_from_the_shell(make_lab):
    """http listen, log file LEVEL and kernel protocol NAME from configure mode: applied at once,
    shown in running-config; the log file gets lines down to its level only."""
    lab = make_lab(1)
    h0 = lab.hosts[0]
    h0.start(neighbors=[])
    h0.hgwsh("configure terminal", "http listen 127.0.0.1 port 9181")
    assert http_get(h0, "/healthz", port=9181)[0] == 200
    logfile = lab.workdir / "h0-file.log"
    h0.hgwsh("configure terminal", f"log file {logfile} info")
    h0.hgwsh("configure terminal", "router hgw", "kernel protocol hgw")
    running = h0.hgwsh("show running-config")
    assert "http listen 127.0.0.1 port 9181" in running and f"log file {logfile} info" in running
    assert " kernel protocol hgw table 254 metric 20" in running, running
    assert h0.hgwsh("show summary json")["kernel"]["protocol"] == 77

    h0.hgwsh("write memory")
    h0.hgwsh("reload")  # the file now holds the log statement: it stays
    text = logfile.read_text()
    assert "configuration written to" in text and "configuration reloaded from" in text, text
    assert "debug:" not in text, "a debug line went to a log file of level info"
    assert "configuration reloaded from" in h0.hgwsh("show logging")

    h0.hgwsh("configure terminal", "no http listen 127.0.0.1 port 9181", "no log")
    cp = run(["ip", "netns", "exec", h0.ns, "python3", "-c", FETCH, "http://127.0.0.1:9181/healthz"],
             check=False)
    assert cp.returncode != 0, "still serving after no http listen"


def test_error_from_established_peer_address_is_shown(make_lab):
    """A bad connection from the address of an established peer: the peer stays up, and the error
    shows as its last error (it used to be silent: "last error: none")."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    lab.start_all()
    lab.wait_established(10)
    assert h0.peer(h1)["lastError"] is None
    cp = run(["ip", "netns", "exec", h1.ns, "python3", "-c",
              "import socket, sys\n"
              f"s = socket.create_connection(('{h0.lan_ip}', {PORT}), timeout=5)\n"
              "s.sendall(b'\\xff' * 64)\n"
              "s.settimeout(5)\n"
              "while s.recv(4096):\n"
              "    pass\n"], check=False)
    assert cp.returncode == 0, cp
    p = wait_until(lambda: (lambda p: p if p["lastError"] else None)(h0.peer(h1)), 5,
                   msg="h1's last error on h0 after a bad connection from its address")
    assert p["state"] == "established", p
    assert h0.established_with(h1)
