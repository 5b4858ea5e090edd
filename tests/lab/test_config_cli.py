"""Lab tests of hgwd's configuration handling (-n check/normalize, SIGHUP reload) and hgwsh's error reporting."""

import pytest

import hgwlab
from hgwlab import route, wait_until

MESSY = """\
! a test configuration, comments and odd spacing on purpose
hostname   h0

router hgw
\tinterface eth0      ! trailing comment
 network 192.168.10.0/24
 network fd00:10:10:0:0:0:0:0/64
 neighbor 10.60.6.12 port 7179
 neighbor 10.60.6.11
 timers keepalive 1 hold 3
 kernel protocol 77 table 254 metric 20
"""

NON_DEFAULT = """\
hostname h0
router hgw
 interface eth0
 node-id 1.2.3.4
 address 10.99.0.1
 network 192.168.10.0/24
 neighbor 10.60.6.13 port 7000
 timers keepalive 0.2 hold 0.6
 kernel protocol 99 table 100 metric 5
"""


def hgwd_check(h, text, name="check.conf"):
    """Write ``text`` to a file and run ``hgwd -n -f FILE`` in h's namespace; return (path, CompletedProcess)."""
    path = h.lab.workdir / name
    path.write_text(text)
    cp = h.run([hgwlab.hgwd_path(), "-n", "-f", path], check=False, timeout=10)
    return path, cp


def test_check_mode_normalizes(make_lab):
    """``hgwd -n`` prints the config normalized (comments gone, addresses canonical), and its output is a fixed point."""
    lab = make_lab(1)  # hgwd runs only inside a lab namespace, even to check a file
    h = lab.hosts[0]
    path, cp = hgwd_check(h, MESSY)
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout
    lines = out.splitlines()
    for golden in ("hostname h0", "router hgw", " interface eth0", " network 192.168.10.0/24",
                   " network fd00:10:10::/64", " neighbor 10.60.6.11"):
        assert golden in lines, f"{golden!r} missing from normalized output:\n{out}"
    assert any(line.startswith(" neighbor 10.60.6.12") for line in lines), out
    assert "comment" not in out and "\t" not in out and "  " not in out.replace("\n ", "\n")
    assert lines.index("router hgw") < lines.index(" interface eth0")

    _, again = hgwd_check(h, out, "again.conf")
    assert again.returncode == 0 and again.stdout == out, "normalized output must normalize to itself"

    _, cp = hgwd_check(h, NON_DEFAULT, "nondefault.conf")
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    for golden in (" node-id 1.2.3.4", " address 10.99.0.1", " neighbor 10.60.6.13 port 7000",
                   " timers keepalive 0.2 hold 0.6", " kernel protocol 99 table 100 metric 5"):
        assert golden in lines, f"{golden!r} missing from normalized output:\n{cp.stdout}"
    assert not h.sock.exists(), "-n must not start a daemon"


@pytest.mark.parametrize("bad, token", [
    ("frobnicate 1", "frobnicate"),
    ("neighbor 10.60.6.300", "10.60.6.300"),
    ("network 192.168.10.1/24", "192.168.10.1/24"),
    ("network 192.168.10.0/33", "192.168.10.0/33"),
    ("timers keepalive 5 hold 3", None),
])
def test_check_mode_reports_bad_line(make_lab, bad, token):
    """A bad statement on line 5: ``FILE:5: message`` and exit status 1."""
    lab = make_lab(1)
    h = lab.hosts[0]
    text = "hostname h0\nrouter hgw\n interface eth0\n network 192.168.10.0/24\n " + bad + "\n neighbor 10.60.6.11\n"
    path, cp = hgwd_check(h, text)
    assert cp.returncode == 1, (cp.returncode, cp.stdout, cp.stderr)
    msg = cp.stderr + cp.stdout
    assert f"{path}:5: " in msg, msg
    if token:
        assert token in msg, msg


def test_hgwsh_errors(make_lab):
    """hgwsh: exit 0 and output on success; non-zero and a message on stderr for a bad command or socket."""
    lab = make_lab(1)
    h = lab.hosts[0]
    h.start(neighbors=[])
    cp = h.hgwsh_raw("show peers json")
    assert cp.returncode == 0 and cp.stdout.strip().startswith("{")
    cp = h.hgwsh_raw("show frobnicate")
    assert cp.returncode != 0 and cp.stderr.strip(), (cp.returncode, cp.stdout, cp.stderr)
    cp = hgwlab.run([hgwlab.hgwsh_path(), "-s", h.lab.workdir / "nonexistent.sock", "-c", "show peers json"],
                    check=False)
    assert cp.returncode != 0 and cp.stderr.strip()
    # Two -c commands run in order.
    cp = h.hgwsh_raw("show peers json", "show routes json")
    assert cp.returncode == 0 and "peers" in cp.stdout and "routes" in cp.stdout
    assert h.running


def test_sighup_reload_applies_difference(make_lab):
    """SIGHUP after adding/removing a network: peers install/remove that route; the session stays up."""
    lab = make_lab(2)
    h0, h1 = lab.hosts
    lab.start_all()
    lab.wait_converged()
    up_before = h0.peer(h1)["uptimeMs"]
    extra = "192.168.60.0/24"
    h1.reload(h1.make_config(networks=[h1.subnet, extra]))
    wait_until(lambda: route(extra, h1.lan_ip) in h0.route_set(), 3, msg="h0 to install the added network")
    assert h1.show_route(extra)["fib"] == "local"
    h1.reload(h1.make_config())
    wait_until(lambda: h0.route_set() == {route(h1.subnet, h1.lan_ip)}, 3, msg="h0 to remove the dropped network")
    p = h0.peer(h1)
    assert p["state"] == "established" and p["uptimeMs"] > up_before, "reload must not reset the session"
    assert h1.running
    lab.check_routes()
