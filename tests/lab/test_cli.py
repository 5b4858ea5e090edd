"""Lab tests of hgwsh, the vtysh-style shell, against a 3-host lab: every command with and without json.

The show commands are checked against what the kernel holds (``ip -j route
show proto 77``); configure-mode changes must reach the other hosts' kernel
FIBs; ``write memory`` then a restart must give the same running config.

hgwsh keeps no state between runs: the mode (configure terminal, router hgw)
belongs to one connection, so a configuration change is one hgwsh run with
several ``-c`` or several lines on stdin.

Non-root users: the control socket is created mode 0660, owned by the
daemon's uid and group (here root:root), so a user outside that group cannot
even connect. The permission test opens it to everybody (chmod 0666), as an
administrator would to give read-only access, and runs the lab in a
directory every user may traverse (the ``open_workdir`` fixture).
"""

import ipaddress
import json
import os
import re
import stat

import pytest

import hgwlab
from hgwlab import route, wait_until

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
EXTRA = "192.168.77.0/24"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def hgwsh(h, *cmds, stdin=None, user=None, timeout=10.0):
    """Run hgwsh against h's daemon: ``-c`` for each of cmds, and ``stdin`` piped in.

    ``user`` is an argv prefix (e.g. NOBODY) to run it as another user.
    Returns the CompletedProcess whatever the exit status.
    """
    argv = list(user or []) + [hgwlab.hgwsh_path(), "-s", h.sock]
    for c in cmds:
        argv += ["-c", c]
    return hgwlab.run(argv, check=False, timeout=timeout, input=stdin)


def ok(h, *cmds, stdin=None, user=None) -> str:
    """hgwsh that must succeed (exit 0, nothing on stderr); returns stdout."""
    cp = hgwsh(h, *cmds, stdin=stdin, user=user)
    assert cp.returncode == 0 and cp.stderr == "", \
        f"hgwsh {cmds} {stdin!r} on {h.name}: rc {cp.returncode}\nstdout: {cp.stdout}\nstderr: {cp.stderr}"
    return cp.stdout


def fails(h, *cmds, stdin=None, user=None) -> str:
    """hgwsh that must fail (non-zero exit, a '%' message on stderr); returns stderr."""
    cp = hgwsh(h, *cmds, stdin=stdin, user=user)
    assert cp.returncode != 0, f"hgwsh {cmds} {stdin!r} on {h.name} should fail:\n{cp.stdout}"
    assert cp.stderr.strip(), f"hgwsh {cmds}: failed without a message"
    return cp.stderr


def js(h, cmd, user=None):
    """A show command's JSON, parsed."""
    out = ok(h, cmd, user=user)
    try:
        return json.loads(out)
    except json.JSONDecodeError as e:
        raise AssertionError(f"{cmd} on {h.name} printed invalid JSON ({e}):\n{out}") from None


def configure(h, *stmts, user=None) -> str:
    """Apply router hgw statements live: configure terminal, router hgw, stmts, end (one connection)."""
    return ok(h, "configure terminal", "router hgw", *stmts, "end", user=user)


def kernel_routes(h) -> dict:
    """What h's kernel holds for our protocol: {prefix: {"gateway", "metric", "dev"}} (``ip -j route show proto 77``)."""
    cp = h.ip("-j", "route", "show", "proto", str(hgwlab.PROTO))
    out = {}
    for r in json.loads(cp.stdout or "[]"):
        dst = str(ipaddress.ip_network(r["dst"]))
        out[dst] = {"gateway": r.get("gateway"), "metric": r.get("metric", 0), "dev": r.get("dev")}
    return out


def running_config(h) -> str:
    return ok(h, "show running-config")


def default_running_config(h) -> str:
    """The normalized running config of a lab host with the default make_config()."""
    lines = [f"hostname {h.name}", "!", "router hgw", " interface eth0", f" network {h.subnet}"]
    lines += [f" neighbor {o.lan_ip}" for o in h.lab.hosts if o is not h]
    lines += [" timers keepalive 0.5 hold 1.5", "!"]
    return "\n".join(lines) + "\n"


def log_since(h, offset: int) -> str:
    """h's daemon log from byte offset on."""
    with open(h.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def log_size(h) -> int:
    return h.log_path.stat().st_size


def wait_extra_route(lab, owner, prefix, present=True, timeout=5.0):
    """Wait until every other host's kernel has (or no longer has) ``prefix`` via ``owner``."""
    want = route(prefix, owner.lan_ip)

    def check():
        for o in lab.hosts:
            if o is owner:
                continue
            have = want in o.route_set()
            assert have == present, f"{o.name}: {prefix} via {owner.name} {'missing' if present else 'still there'}"
        return True
    wait_until(check, timeout, interval=0.05,
               msg=f"{prefix} via {owner.name} to be {'installed' if present else 'removed'} everywhere")


def all_flaps(lab) -> dict:
    """{(host, peer address): flaps} over the lab: unchanged means no session was reset."""
    return {(h.name, a): p["flaps"] for h in lab.hosts for a, p in h.peers().items()}


def reset_and_wait(h, other):
    """clear peer OTHER on h, then wait until that session went down and is established again."""
    before = h.peer(other)["flaps"]
    ok(h, f"clear peer {other.lan_ip}")
    wait_until(lambda: h.peer(other)["flaps"] > before and h.established_with(other), 5,
               msg=f"{h.name}'s session with {other.name} to reset and come back")


@pytest.fixture
def lab3(make_lab):
    """Three hosts, full mesh, converged."""
    lab = make_lab(3)
    lab.start_all()
    lab.wait_converged()
    return lab


# --------------------------------------------------------------------------
# show commands
# --------------------------------------------------------------------------

def test_show_json_matches_kernel(lab3):
    """show summary/peers/routes/fib json on every host agree with each other and with the kernel's proto-77 routes."""
    for h in lab3.hosts:
        others = [o for o in lab3.hosts if o is not h]
        kern = kernel_routes(h)
        assert {p: k["gateway"] for p, k in kern.items()} == {o.subnet: o.lan_ip for o in others}

        s = js(h, "show summary json")
        assert (s["nodeId"], s["hostname"], s["interface"]) == (h.node_id, h.name, "eth0")
        assert s["address"] == h.lan_ip and s["address6"] is None and s["listenPort"] == hgwlab.PORT
        assert s["networks"] == [h.subnet]
        assert s["peers"] == {"configured": 2, "total": 2, "established": 2}
        r = s["routes"]
        assert (r["prefixes"], r["paths"], r["local"], r["learned"]) == (3, 3, 1, 2), r
        assert r["installed"] == len(kern) and r["failed"] == 0 and r["conflicts"] == 0, r
        assert isinstance(r["ribBytes"], int) and r["ribBytes"] > 0
        k = s["kernel"]
        assert (k["enabled"], k["protocol"], k["table"], k["metric"]) == (True, hgwlab.PROTO, hgwlab.TABLE, hgwlab.METRIC)
        assert k["errors"] == 0 and k["writes"] >= len(kern) and k["batches"] >= 1
        assert s["initialSyncDone"] is True and isinstance(s["uptimeMs"], int) and s["uptimeMs"] >= 0

        fib = js(h, "show fib json")
        assert (fib["protocol"], fib["table"], fib["interface"]) == (hgwlab.PROTO, hgwlab.TABLE, "eth0")
        assert fib["differences"] == 0
        assert set(fib["routes"]) == set(kern)
        for pfx, e in fib["routes"].items():
            assert e["prefix"] == pfx and e["status"] == "ok", e
            assert e["gateway"] == kern[pfx]["gateway"] == e["ribGateway"], e
            assert e["metric"] == kern[pfx]["metric"] == hgwlab.METRIC

        routes = js(h, "show routes json")["routes"]
        assert set(routes) == set(kern) | {h.subnet}
        for pfx, e in routes.items():
            assert e["prefix"] == pfx and e["family"] == "ipv4" and e["conflict"] is False
            (path,) = e["paths"]
            assert path["best"] is True and path["stale"] is False and isinstance(path["ageMs"], int)
            if pfx == h.subnet:
                assert (e["fib"], e["installed"], e["kernelGateway"]) == ("local", False, None), e
                assert path["local"] is True and path["peer"] is None and path["origin"] == h.node_id
            else:
                assert (e["fib"], e["installed"], e["reason"]) == ("installed", True, None), e
                assert e["kernelGateway"] == kern[pfx]["gateway"] == path["gateway"] == path["peer"]
                assert path["local"] is False and path["origin"] == path["gateway"]
        # One prefix: just that entry, the same content.
        pfx = others[0].subnet
        one = js(h, f"show routes {pfx} json")["routes"]
        assert list(one) == [pfx]
        assert {k: v for k, v in one[pfx].items() if k != "paths"} == \
            {k: v for k, v in routes[pfx].items() if k != "paths"}

        pj = js(h, "show peers json")
        assert pj["nodeId"] == h.node_id
        assert sorted(pj["peers"]) == sorted(o.lan_ip for o in others)
        for o in others:
            p = pj["peers"][o.lan_ip]
            assert (p["address"], p["port"], p["configured"], p["state"]) == (o.lan_ip, hgwlab.PORT, True, "established")
            assert (p["nodeId"], p["hostname"]) == (o.node_id, o.name)
            assert p["direction"] in ("inbound", "outbound") and p["downtimeMs"] is None
            assert (p["holdTimeMs"], p["keepaliveMs"]) == (1500, 500)
            assert p["eorReceived"] is True and p["prefixesAccepted"] == 1 and p["prefixesRefused"] == 0
            # Not checked: lastError and flaps. When both sides dial at once, the losing
            # connection's end is a lastError, and an established session replaced by
            # the one the lower node id opened counts as a flap.
            assert p["errors"] == 0
            # what this peer gave us is what the kernel has from it
            assert [x for x, e in kern.items() if e["gateway"] == o.lan_ip] == [o.subnet]
        o = others[0]
        for cmd in (f"show peers {o.lan_ip} json", f"show peers {o.lan_ip} detail json"):
            one = js(h, cmd)
            assert list(one["peers"]) == [o.lan_ip], cmd
            assert one["peers"][o.lan_ip]["state"] == "established"
        assert set(js(h, "show peers detail json")["peers"]) == set(pj["peers"])


def test_show_text(lab3):
    """The text forms of every show command say the same as the JSON."""
    h0, h1, h2 = lab3.hosts
    out = ok(h0, "show summary")
    for want in (f"hgwd node {h0.node_id}, host h0, up ", f"Interface eth0, gateway {h0.lan_ip}, listening on port 7179",
                 f"Network {h0.subnet}", "Peers: 2 configured, 2 known, 2 established",
                 "Routes: 3 prefixes, 3 paths, 1 local, 2 learned, 2 installed, 0 failed, 0 in conflict",
                 "Kernel: protocol 77, table 254, metric 20;", "Initial sync: done"):
        assert want in out, f"{want!r} missing from show summary:\n{out}"

    out = ok(h0, "show peers")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Peer", "Node", "id"] and lines[-1] == "Total: 2 peers", out
    for o in (h1, h2):
        (row,) = [ln for ln in lines if ln.startswith(o.lan_ip + " ")]
        assert row.split()[1:3] == [o.node_id, "established"], row

    detail = ok(h0, f"show peers {h1.lan_ip}")
    assert detail.startswith(f"Peer {h1.lan_ip}, port 7179, configured, state established\n"), detail
    for want in (f"Node id {h1.node_id}, hostname h1", "hold time 1500 ms, keepalive 500 ms, END-OF-RIB received",
                 "Prefixes: 1 received, 1 accepted, 0 refused", "Errors 0, flaps "):
        assert want in detail, f"{want!r} missing:\n{detail}"
    # The same text but for what moves between two calls (uptime, message counts: keepalives).
    def steady(t):
        return re.sub(r"(Up for|Messages:) [^\n]*", r"\1 ...", t)
    assert steady(ok(h0, f"show peers {h1.lan_ip} detail")) == steady(detail)
    both = ok(h0, "show peers detail")
    assert re.findall(r"^Peer (\S+),", both, re.M) == [h1.lan_ip, h2.lan_ip], both

    out = ok(h0, "show routes")
    lines = out.splitlines()
    assert lines[0].startswith("Codes:") and lines[1].split()[:2] == ["Prefix", "Gateway"], out
    rows = {ln[3:].split()[0]: ln for ln in lines[2:]}
    assert set(rows) == {h0.subnet, h1.subnet, h2.subnet}, out
    assert rows[h0.subnet].startswith("*L ") and rows[h0.subnet].rstrip().endswith("local")
    for o in (h1, h2):
        r = rows[o.subnet]
        assert r.startswith("*> ") and r.split()[2:5] == [o.lan_ip, o.node_id, o.lan_ip], r
        assert r.rstrip().endswith("installed"), r
    one = ok(h0, f"show routes {h1.subnet}").splitlines()
    assert len(one) == 3 and one[2].startswith(f"*> {h1.subnet} "), one

    out = ok(h0, "show fib")
    assert out.splitlines()[0] == "Kernel routes of protocol 77 in table 254 (!: differs from the RIB)"
    for pfx, k in kernel_routes(h0).items():
        assert re.search(rf"^  {re.escape(pfx)} +via {re.escape(k['gateway'])} +metric 20\s*$", out, re.M), out
    assert out.splitlines()[-1] == "Total: 2 in the kernel, 0 differences"

    assert running_config(h0) == default_running_config(h0)
    assert re.fullmatch(r"hgwd \S+, protocol version \d+\n", ok(h0, "show version"))

    # leases and members, briefly: no cluster-network here, so no leases.
    out = ok(h0, "show leases")
    assert out.split() == ["Subnet", "Owner", "State", "Claimed"], out
    lj = js(h0, "show leases json")
    assert lj == {"nodeId": h0.node_id, "families": {}, "leases": [], "leaseHoldS": 86400, "events": [],
                  "stateSaved": True, "saveError": None, "refused": 0, "lastRefused": None}, lj
    out = ok(h0, "show members")
    assert out.splitlines()[-1] == "Total: 3 members", out
    assert re.search(rf"^{re.escape(h0.node_id)} +{re.escape(h0.lan_ip)} +7179 +self ", out, re.M), out
    mj = js(h0, "show members json")
    assert mj["discovery"] is False
    me, *rest = mj["members"]
    assert (me["nodeId"], me["state"], me["source"]) == (h0.node_id, "self", "self")
    assert sorted((m["address"], m["state"], m["source"]) for m in rest) == \
        [(h1.lan_ip, "alive", "config"), (h2.lan_ip, "alive", "config")]


def test_show_fib_marks_differences(lab3):
    """A proto-77 route with another metric (not ours, not swept yet) is listed and marked as a difference."""
    h0, h1, h2 = lab3.hosts
    odd = "192.168.98.0/24"
    h0.ip("route", "add", odd, "via", h2.lan_ip, "dev", "eth0", "proto", "77", "metric", "50")
    assert odd in kernel_routes(h0)
    fib = js(h0, "show fib json")
    assert fib["differences"] == 1, fib
    e = fib["routes"][odd]
    assert (e["gateway"], e["metric"], e["ribGateway"], e["status"]) == (h2.lan_ip, 50, None, "stale-metric"), e
    assert all(v["status"] == "ok" for p, v in fib["routes"].items() if p != odd)
    out = ok(h0, "show fib")
    assert re.search(rf"^! {re.escape(odd)} +via {re.escape(h2.lan_ip)} +metric 50 +stale-metric$", out, re.M), out
    assert out.splitlines()[-1] == "Total: 3 in the kernel, 1 difference", out
    h0.ip("route", "del", odd, "proto", "77", "metric", "50")


def test_show_leases_and_members(make_lab):
    """show leases/members, text and json, with leased subnets: the leases agree with the kernel."""
    lab = make_lab(3)
    for h in lab.hosts:
        h.start(wait=False, networks=[], extra_config=(
            f"cluster-network 10.244.0.0/16 subnet-length 24\nlease-hold 60\n"
            f"lease-file {lab.workdir / (h.name + '.lease')}\nsubnet-env {lab.workdir / (h.name + '.env')}\n"))
    for h in lab.hosts:
        h.wait_ready()
    cluster = ipaddress.ip_network("10.244.0.0/16")

    def leased():
        out = {}
        for h in lab.hosts:
            fam = js(h, "show leases json")["families"]["ipv4"]
            assert fam["lease"] is not None, (h.name, fam)
            out[h] = fam["lease"]
        for h in lab.hosts:
            want = {out[o]: o.lan_ip for o in lab.hosts if o is not h}
            got = {p: k["gateway"] for p, k in kernel_routes(h).items()}
            assert got == want, (h.name, got, want)
        return out
    lease = wait_until(leased, 20, interval=0.2, msg="every host to lease a subnet and the others to route it")
    h0 = lab.hosts[0]
    assert len(set(lease.values())) == 3
    for h, p in lease.items():
        net = ipaddress.ip_network(p)
        assert net.prefixlen == 24 and net.subnet_of(cluster), p
    lj = js(h0, "show leases json")
    assert lj["nodeId"] == h0.node_id and lj["leaseHoldS"] == 60
    assert lj["families"]["ipv4"] == {"clusterNetwork": "10.244.0.0/16", "subnetLength": 24,
                                      "lease": lease[h0], "error": None}
    table = {e["subnet"]: e for e in lj["leases"]}
    assert set(table) == set(lease.values())
    for h, p in lease.items():
        e = table[p]
        assert e["owner"] == h.node_id and e["state"] == ("mine" if h is h0 else "active"), e
        assert e["expiresInMs"] is None and isinstance(e["claimedAtMs"], int) and e["claimedAtMs"] > 0
    assert any(lease[h0] in ev for ev in lj["events"]), lj["events"]
    out = ok(h0, "show leases")
    assert out.startswith(f"Cluster network 10.244.0.0/16, /24 per node: this node leases {lease[h0]}\n"), out
    for h, p in lease.items():
        assert re.search(rf"^{re.escape(p)} +{re.escape(h.node_id)} +(mine|active) ", out, re.M), out
    # The leased subnet is this node's own network in the RIB.
    assert js(h0, f"show routes {lease[h0]} json")["routes"][lease[h0]]["fib"] == "local"

    mj = js(h0, "show members json")
    assert [m["state"] for m in mj["members"]] == ["self", "alive", "alive"], mj
    assert {m["address"] for m in mj["members"]} == {h.lan_ip for h in lab.hosts}
    assert ok(h0, "show members").splitlines()[-1] == "Total: 3 members"


def _fib_entries(obj):
    """Every dict with a "prefix" key anywhere in a show fib json object (whatever its nesting)."""
    if isinstance(obj, dict):
        if "prefix" in obj and "status" in obj:
            yield obj
        for v in obj.values():
            yield from _fib_entries(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _fib_entries(v)


def test_show_fib_json_two_routes_one_prefix(make_lab):
    """Two proto-77 routes for one prefix (ours, metric 20, and a stale metric 50): JSON lists both, like the text."""
    lab = make_lab(2)
    lab.start_all()
    lab.wait_converged()
    h0, h1 = lab.hosts
    h0.ip("route", "add", h1.subnet, "via", h1.lan_ip, "dev", "eth0", "proto", "77", "metric", "50")
    assert ok(h0, "show fib").splitlines()[-1] == "Total: 2 in the kernel, 1 difference"
    fib = js(h0, "show fib json")
    got = sorted((e["metric"], e["status"]) for e in _fib_entries(fib) if e["prefix"] == h1.subnet)
    assert got == [(20, "ok"), (50, "stale-metric")], fib


# --------------------------------------------------------------------------
# the command line: abbreviations, errors, scripting
# --------------------------------------------------------------------------

def test_abbreviations(lab3):
    """Unambiguous abbreviations run the command they abbreviate, in every mode."""
    h0, h1, _ = lab3.hosts
    assert json.loads(ok(h0, "sh ro j"))["routes"].keys() == js(h0, "show routes json")["routes"].keys()
    assert ok(h0, "sh ro").splitlines()[0].startswith("Codes:")
    assert ok(h0, "sh su").startswith(f"hgwd node {h0.node_id},")
    assert ok(h0, "sh ru") == running_config(h0)
    assert list(json.loads(ok(h0, f"sh pe {h1.lan_ip} j"))["peers"]) == [h1.lan_ip]
    assert json.loads(ok(h0, "sh fi j"))["differences"] == 0
    # configure terminal, router hgw, network, do show running-config: all abbreviated.
    out = ok(h1, "conf t", "rou h", f"netw {EXTRA}", "do sh ru")
    assert f" network {EXTRA}\n" in out, out
    wait_extra_route(lab3, h1, EXTRA)
    ok(h1, "conf t", "rou h", f"no netw {EXTRA}")
    wait_extra_route(lab3, h1, EXTRA, present=False)


ERROR_CASES = [
    (["show r"], ["Ambiguous", "'r'", "routes", "running-config"]),
    (["c t"], ["Ambiguous", "'c'", "clear", "configure"]),
    (["conf t", "router hgw", "n 10.0.0.0/24"], ["Ambiguous", "'n'", "neighbor", "network", "no"]),
    (["frobnicate"], ["Unknown command", "'frobnicate'"]),
    (["show frobnicate"], ["Unknown command", "'frobnicate'"]),
    (["show peers 10.60.6.11 frobnicate"], ["Unknown command", "'frobnicate'"]),
    (["show peers 10.60.6.300"], ["Invalid value", "'10.60.6.300'"]),
    (["show routes 192.168.11.0/33"], ["Invalid value", "'192.168.11.0/33'"]),
    (["conf t", "router hgw", "neighbor 10.60.6.98 port 700000"], ["Invalid value", "'700000'", "(1-65535)"]),
    (["show"], ["Incomplete"]),
    (["conf t", "router hgw", "network"], ["Incomplete"]),
    (["show peers 10.60.6.99"], ["No such peer", "10.60.6.99"]),
    (["show routes 10.99.0.0/24"], ["No route", "10.99.0.0/24"]),
    (["conf t", "router hgw", "network 192.168.77.1/24"], ["host bits", "192.168.77.0/24"]),
    (["conf t", "router hgw", "timers keepalive 5 hold 3"], ["keepalive must be less than hold"]),
    (["conf t", "router hgw", "no neighbor 10.60.6.98"], ["10.60.6.98 is not configured"]),
    (["network 192.168.77.0/24"], ["Unknown command", "'network'"]),  # not in router mode
    (["show " + "x" * 5000], ["Line too long"]),
]


def test_errors_point_at_the_word(lab3):
    """Bad input: non-zero exit, nothing on stdout, one '%' line on stderr naming the offending word."""
    h0 = lab3.hosts[0]
    before = running_config(h0)
    for cmds, words in ERROR_CASES:
        cp = hgwsh(h0, *cmds)
        assert cp.returncode != 0, (cmds, cp.stdout)
        assert cp.stdout == "", (cmds, cp.stdout)
        msg = cp.stderr.strip()
        assert msg.startswith("%") and "\n" not in msg, (cmds, msg)
        for w in words:
            assert w in msg, f"{cmds}: {w!r} not in {msg!r}"
    assert running_config(h0) == before
    assert h0.running


def test_scripting(lab3):
    """Commands from stdin or -c run in order; the first error stops the run with a non-zero status; no prompt."""
    h0, h1, _ = lab3.hosts
    version = ok(h0, "show version")
    cfg = running_config(h0)
    # In order, comments and blank lines ignored, no prompt or escape codes on stdout.
    out = ok(h0, stdin="show version\n! a comment\n\n# another\nshow running-config\n")
    assert out == version + cfg
    assert "h0#" not in out and "h0>" not in out and "\x1b" not in out
    assert ok(h0, "show version", "show running-config") == version + cfg
    assert ok(h0, stdin="") == ""

    # The first error stops: what follows it does not run.
    cp = hgwsh(h0, stdin=f"show version\nshow frobnicate\nconfigure terminal\nrouter hgw\nnetwork {EXTRA}\n")
    assert cp.returncode != 0 and cp.stdout == version and "'frobnicate'" in cp.stderr, cp
    cp = hgwsh(h0, "show version", "frobnicate", "configure terminal", "router hgw", f"network {EXTRA}")
    assert cp.returncode != 0 and cp.stdout == version, cp
    # An error inside configure mode stops too, after the statements before it took effect.
    cp = hgwsh(h1, stdin=f"configure terminal\nrouter hgw\nnetwork {EXTRA}\nnetwork 10.0.0.0/33\nno network {EXTRA}\n")
    assert cp.returncode != 0 and "'10.0.0.0/33'" in cp.stderr, cp
    assert f" network {EXTRA}\n" in running_config(h1)
    wait_extra_route(lab3, h1, EXTRA)
    ok(h1, stdin=f"configure terminal\nrouter hgw\nno network {EXTRA}\nend\n")
    wait_extra_route(lab3, h1, EXTRA, present=False)
    assert running_config(h0) == cfg

    # The mode belongs to one connection: a new hgwsh starts at the top.
    assert "'network'" in fails(h1, f"network {EXTRA}")
    # exit at the top level ends the script (what follows is not read).
    assert ok(h0, stdin="show version\nexit\nfrobnicate\n") == version
    # A wrong socket: non-zero, a message naming it.
    cp = hgwlab.run([hgwlab.hgwsh_path(), "-s", lab3.workdir / "nope.sock", "-c", "show version"], check=False)
    assert cp.returncode != 0 and "nope.sock" in cp.stderr
    assert all(h.running for h in lab3.hosts)


def test_python_control_client_matches_hgwsh(make_lab):
    """The control-socket client tests/bench uses (labdaemon.ctl_request, Host.ctl) gets what hgwsh
    prints, and an error reply raises CtlError with the reply's code."""
    lab = make_lab(1)
    (h,) = lab.hosts
    h.start(neighbors=[])
    assert h.ctl("show version") + "\n" == ok(h, "show version")
    assert json.loads(h.ctl("show running-config json")) == js(h, "show running-config json")
    with pytest.raises(hgwlab.CtlError) as e:
        h.ctl("show nonsense")
    assert e.value.code == "9000" and "nonsense" in e.value.line
    assert "nonsense" in fails(h, "show nonsense")


# --------------------------------------------------------------------------
# configure terminal
# --------------------------------------------------------------------------

def test_configure_network_reaches_other_fibs(lab3):
    """network / no network in router hgw: the other hosts' kernels gain and lose the route."""
    h0, h1, h2 = lab3.hosts
    flaps = all_flaps(lab3)
    out = ok(h1, stdin=f"configure terminal\nrouter hgw\nnetwork {EXTRA}\nend\nshow running-config\n")
    assert f" network {EXTRA}\n" in out
    wait_extra_route(lab3, h1, EXTRA)
    for o in (h0, h2):
        assert kernel_routes(o)[EXTRA]["gateway"] == h1.lan_ip
        r = js(o, f"show routes {EXTRA} json")["routes"][EXTRA]
        assert r["installed"] is True and r["kernelGateway"] == h1.lan_ip
    assert js(h1, f"show routes {EXTRA} json")["routes"][EXTRA]["fib"] == "local"
    assert EXTRA in js(h1, "show summary json")["networks"]

    configure(h1, f"no network {EXTRA}")
    wait_extra_route(lab3, h1, EXTRA, present=False)
    assert f"network {EXTRA}" not in running_config(h1)
    assert "No route" in fails(h0, f"show routes {EXTRA} json")
    lab3.check_routes()
    assert all_flaps(lab3) == flaps, "no session may be reset"


def test_configure_neighbor_and_timers(lab3):
    """neighbor / no neighbor and timers applied live; a pasted running config changes nothing."""
    h0, h1, h2 = lab3.hosts
    # A neighbor that does not exist: dialled, listed, removed again.
    configure(h1, "neighbor 10.60.6.99 port 7000 max-prefixes 10")
    assert " neighbor 10.60.6.99 port 7000 max-prefixes 10\n" in running_config(h1)
    p = h1.peers()["10.60.6.99"]
    assert p["configured"] is True and p["port"] == 7000 and p["state"] != "established"
    configure(h1, "no neighbor 10.60.6.99")
    assert "10.60.6.99" not in running_config(h1) and "10.60.6.99" not in h1.peers()

    # h1 and h2 stop peering (both sides, or the other side's dialling keeps it up): their routes go.
    configure(h1, f"no neighbor {h2.lan_ip}")
    configure(h2, f"no neighbor {h1.lan_ip}")
    exp = {h0: {route(h1.subnet, h1.lan_ip), route(h2.subnet, h2.lan_ip)},
           h1: {route(h0.subnet, h0.lan_ip)}, h2: {route(h0.subnet, h0.lan_ip)}}
    lab3.wait_routes(5, expected=exp)
    wait_until(lambda: list(h1.peers()) == [h0.lan_ip], 5, msg="h1 to forget h2")
    configure(h1, f"neighbor {h2.lan_ip}")
    configure(h2, f"neighbor {h1.lan_ip}")
    lab3.wait_converged(5)
    assert running_config(h1) == default_running_config(h1)

    # Timers: in the running config at once, used by the next sessions.
    configure(h1, "timers keepalive 0.3 hold 0.9")
    assert " timers keepalive 0.3 hold 0.9\n" in running_config(h1)
    ok(h1, "clear peer *")

    def new_hold():
        for a, p in h1.peers().items():
            assert p["state"] == "established" and p["holdTimeMs"] == 900, (a, p)
        assert h0.peer(h1)["holdTimeMs"] == 900 and h0.peer(h1)["keepaliveMs"] <= 300
        return True
    wait_until(new_hold, 5, msg="sessions with the new hold time")
    configure(h1, "no timers")
    assert "timers" not in running_config(h1)  # keepalive 1 hold 3: the defaults
    configure(h1, "timers keepalive 0.5 hold 1.5")
    assert running_config(h1) == default_running_config(h1)

    # Pasting the running config back into configure terminal is a no-op.
    cfg = running_config(h1)
    ok(h1, stdin="configure terminal\n" + cfg + "end\n")
    assert running_config(h1) == cfg
    lab3.wait_converged(5)


# --------------------------------------------------------------------------
# write memory, reload, clear, debug
# --------------------------------------------------------------------------

def test_write_memory_then_restart(lab3):
    """write memory saves atomically (FILE.bak keeps the previous one); a restart gives the same running config."""
    h0, h1, h2 = lab3.hosts
    path = h1.conf_path
    bak = path.with_name(path.name + ".bak")
    original = path.read_text()
    ino = path.stat().st_ino
    configure(h1, f"network {EXTRA}", "neighbor 10.60.6.99 port 7000", "timers keepalive 0.4 hold 1.2")
    cfg = running_config(h1)
    out = ok(h1, "write memory")
    assert out == f"configuration saved to {path}\n", out
    written = path.read_text()
    first, rest = written.split("\n", 1)
    assert first.startswith("!") and rest == cfg, written  # a comment line, then the running config
    assert bak.read_text() == original
    assert path.stat().st_ino != ino and bak.stat().st_ino == ino, "replaced by rename, old file kept as .bak"
    assert not path.with_name(path.name + ".tmp").exists()

    # A second write keeps the first written file as the backup; 'wr' abbreviates in any mode.
    configure(h1, "no neighbor 10.60.6.99")
    ok(h1, "conf t", "router hgw", "wr mem")
    assert bak.read_text() == written
    cfg = running_config(h1)
    assert "10.60.6.99" not in path.read_text()

    h1.stop()
    h1.start(config=path.read_text())
    assert running_config(h1) == cfg
    wait_extra_route(lab3, h1, EXTRA, timeout=10)
    lab3.wait_established(10)


def test_reload(lab3):
    """reload re-reads the file (as SIGHUP): the file's changes apply, live-only changes go, a bad file is refused."""
    h0, h1, h2 = lab3.hosts
    h1.write_config(h1.make_config(networks=[h1.subnet, EXTRA]))
    assert ok(h1, "reload") == f"configuration reloaded from {h1.conf_path}\n"
    wait_extra_route(lab3, h1, EXTRA)
    assert f" network {EXTRA}\n" in running_config(h1)

    live = "192.168.78.0/24"
    configure(h1, f"network {live}")
    wait_extra_route(lab3, h1, live)
    ok(h1, "reload")
    wait_extra_route(lab3, h1, live, present=False)
    assert live not in running_config(h1)

    cfg = running_config(h1)
    with open(h1.conf_path, "a") as f:
        f.write(" frobnicate 1\n")
    msg = fails(h1, "reload")
    assert f"{h1.conf_path}:" in msg and "frobnicate" in msg, msg
    assert running_config(h1) == cfg and h1.running
    assert route(EXTRA, h1.lan_ip) in h0.route_set()
    # Put the file right again: no left-over state from the refused reload.
    h1.write_config(h1.make_config())
    ok(h1, "reload")
    wait_extra_route(lab3, h1, EXTRA, present=False)
    assert running_config(h1) == default_running_config(h1)


def test_clear_peer(lab3):
    """clear peer ADDRESS resets one session, clear peer * all; they come back; routes stay converged."""
    h0, h1, h2 = lab3.hosts

    def flaps():
        return {a: p["flaps"] for a, p in h0.peers().items()}
    f0 = flaps()
    assert set(f0) == {h1.lan_ip, h2.lan_ip}
    ok(h0, f"clear peer {h1.lan_ip}")
    wait_until(lambda: flaps()[h1.lan_ip] > f0[h1.lan_ip] and h0.established_with(h1, h2), 5,
               msg="h0's session with h1 to reset and come back")
    assert flaps()[h2.lan_ip] == f0[h2.lan_ip], "only h1's session may be reset"
    f1 = flaps()
    ok(h0, "clear peer *")
    wait_until(lambda: all(n > f1[a] for a, n in flaps().items()) and h0.established_with(h1, h2), 5,
               msg="every session of h0 to reset and come back")
    lab3.wait_converged(5)
    assert "no such peer" in fails(h0, "clear peer 10.60.6.99")
    assert "'1.2.3'" in fails(h0, "clear peer 1.2.3")


def test_debug(lab3):
    """debug peer|kernel switch debug logging on at run time, no debug off (hgwd runs with -v: all on)."""
    h0, h1, h2 = lab3.hosts
    ok(h0, "no debug all")
    start = log_size(h0)
    reset_and_wait(h0, h1)
    assert "debug:" not in log_since(h0, start)

    ok(h0, "debug peer")
    start = log_size(h0)
    ok(h0, f"clear peer {h1.lan_ip}")
    wait_until(lambda: f"debug: peer {h1.lan_ip}: END-OF-RIB" in log_since(h0, start), 5,
               msg="peer debug lines in h0's log")
    assert "debug: kernel:" not in log_since(h0, start)

    ok(h0, "debug kernel")
    start = log_size(h0)
    configure(h1, f"network {EXTRA}")
    wait_until(lambda: f"debug: kernel: installed {EXTRA}" in log_since(h0, start), 5,
               msg="kernel debug lines in h0's log")
    ok(h0, "no debug kernel", "no debug peer", "debug rib")
    start = log_size(h0)
    configure(h1, f"no network {EXTRA}")
    wait_extra_route(lab3, h1, EXTRA, present=False)
    reset_and_wait(h0, h2)
    text = log_since(h0, start)
    assert "debug: kernel:" not in text and "debug: peer" not in text, text
    ok(h0, "debug all", "no debug rib")
    lab3.wait_converged(5)


# --------------------------------------------------------------------------
# permissions
# --------------------------------------------------------------------------

def test_non_root_user_gets_show_not_configure(make_lab, open_workdir):
    """nobody may run show commands but not configure/write/clear/debug/reload; the socket's group may run everything."""
    lab = make_lab(3, workdir=open_workdir / "lab")
    lab.start_all()
    lab.wait_converged()
    h0, h1, h2 = lab.hosts
    st = h1.sock.stat()
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert (st.st_uid, st.st_gid) == (0, 0)

    # 0660: nobody cannot even connect.
    cp = hgwsh(h1, "show version", user=NOBODY)
    assert cp.returncode != 0 and "Permission denied" in cp.stderr, cp
    # A process whose group is the socket's (the daemon's) group may run everything.
    group0 = ["setpriv", "--reuid=65534", "--regid=0", "--clear-groups"]
    configure(h1, f"network {EXTRA}", user=group0)
    wait_extra_route(lab, h1, EXTRA)

    # Opened to everybody (as for read-only access): show works, the rest is refused.
    os.chmod(h1.sock, 0o666)
    s = js(h1, "show summary json", user=NOBODY)
    assert s["nodeId"] == h1.node_id and s["peers"]["established"] == 2
    assert set(js(h1, "show routes json", user=NOBODY)["routes"]) == set(kernel_routes(h1)) | {h1.subnet, EXTRA}
    assert set(js(h1, "show fib json", user=NOBODY)["routes"]) == set(kernel_routes(h1))
    assert len(js(h1, "show peers json", user=NOBODY)["peers"]) == 2
    assert ok(h1, "show running-config", user=NOBODY) == running_config(h1)
    ok(h1, "sh su", "show leases json", "show members", user=NOBODY)
    cfg = running_config(h1)
    file_text = h1.conf_path.read_text()
    flaps = all_flaps(lab)
    for cmd in ("configure terminal", "write memory", "clear peer *", f"clear peer {h0.lan_ip}",
                "debug peer", "no debug all", "reload"):
        cp = hgwsh(h1, cmd, user=NOBODY)
        assert cp.returncode != 0 and cp.stdout == "", (cmd, cp)
        assert cp.stderr.startswith("% Permission denied"), (cmd, cp.stderr)
    cp = hgwsh(h1, stdin=f"configure terminal\nrouter hgw\nno network {EXTRA}\n", user=NOBODY)
    assert cp.returncode != 0 and "Permission denied" in cp.stderr
    assert running_config(h1) == cfg and h1.conf_path.read_text() == file_text
    assert all_flaps(lab) == flaps, "no session may be reset"
    assert route(EXTRA, h1.lan_ip) in h0.route_set()


def test_supplementary_group_member_may_configure(make_lab, open_workdir):
    """A user added to the socket's group (a supplementary group) may run everything."""
    lab = make_lab(1, workdir=open_workdir / "lab")
    h0 = lab.hosts[0]
    h0.start(neighbors=[])
    member = ["setpriv", "--reuid=65534", "--regid=65534", "--groups=0"]
    assert ok(h0, "show version", user=member)  # the file mode lets it connect
    configure(h0, f"network {EXTRA}", user=member)
