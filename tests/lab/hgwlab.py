"""hgwlab: network-namespace lab for testing hgwd (a LAN of hosts with containers), modelled on FRR topotests.

Topology built by ``Lab(n)`` (every piece lives in a network namespace this
module created; nothing is ever added to the root namespace)::

    container ns  cN  eth0 192.168.(10+i).11/24  (fd00:10:(10+i)::11/64)
                   |   default via 192.168.(10+i).1 (fd00:10:(10+i)::1)
                  veth
                   |
    host ns       hN  cbr0 192.168.(10+i).1/24  (fd00:10:(10+i)::1/64)   [bridge, port vc0]
                      eth0 10.60.6.(10+i)/24     (fd00:60:6::(10+i)/64)
                   |   ip_forward on, rp_filter off, no default route
                  veth (vhI on the LAN side)
                   |
    lan ns        lan br0 (bridge joining every host's eth0)

Namespace names are ``hgw-<pid>-<rand4>-{lan,hI,cI}``: unique per run and per
lab, so labs can run in parallel, and ``sweep_stale_namespaces()`` can remove
what a killed run of a dead process left behind.

hgwd runs only inside host namespaces (``ip netns exec``), in the foreground,
in its own process group, with stdout/stderr captured to a per-host log file.
Everything (daemons, helper processes, namespaces) is removed by
``Lab.cleanup()``, which the pytest fixtures call in a ``finally``; an
``atexit`` hook catches whatever a crash of the test runner left.

Rule: the lab sends traffic only inside its own namespaces; waiting is always
for a condition with a deadline (``wait_until``), never a fixed sleep.
"""

from __future__ import annotations

import atexit
import collections
import ipaddress
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRCDIR = HERE.parent.parent

#: kernel route attributes hgwd is configured with in every lab config
PROTO = 77
METRIC = 20
TABLE = 254
PORT = 7179

#: default session timers for tests that do not measure them (seconds)
DEFAULT_TIMERS = (0.5, 1.5)

NS_PREFIX = "hgw-"
_NS_RE = re.compile(r"^hgw-(\d+)-[0-9a-f]{4}-")


# --------------------------------------------------------------------------
# binaries and environment
# --------------------------------------------------------------------------

def builddir() -> Path:
    """Build directory: $HGW_BUILDDIR, default the source tree root."""
    return Path(os.environ.get("HGW_BUILDDIR") or SRCDIR)


def hgwd_path() -> Path:
    """Path of the daemon: $HGWD, default <builddir>/daemon/hgwd."""
    return Path(os.environ.get("HGWD") or builddir() / "daemon" / "hgwd")


def hgwsh_path() -> Path:
    """Path of the control shell: $HGWSH, default <builddir>/cli/hgwsh."""
    return Path(os.environ.get("HGWSH") or builddir() / "cli" / "hgwsh")


def hgwd_args() -> list[str]:
    """Extra command-line arguments for every hgwd started ($HGWD_ARGS, default "-v": verbose log)."""
    return shlex.split(os.environ.get("HGWD_ARGS", "-v"))


def missing_binaries() -> list[str]:
    """Human-readable problems with the hgwd/hgwsh binaries (empty list: all fine)."""
    problems = []
    for what, path in (("hgwd", hgwd_path()), ("hgwsh", hgwsh_path())):
        if not path.is_file():
            problems.append(f"{what} not found at {path}")
        elif not os.access(path, os.X_OK):
            problems.append(f"{what} at {path} is not executable")
    return problems


# --------------------------------------------------------------------------
# running commands
# --------------------------------------------------------------------------

class CmdError(Exception):
    """A command exited non-zero (or timed out) where success was required."""

    def __init__(self, args, rc, stdout, stderr):
        self.cmd = list(args)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"command {shlex.join(map(str, args))} exited {rc}\n"
            f"stdout: {stdout.strip()!s:.2000}\nstderr: {stderr.strip()!s:.2000}")


def run(args, *, check=True, timeout=15.0, input=None) -> subprocess.CompletedProcess:
    """Run argv ``args`` (no shell), capture text output; raise CmdError if check and rc != 0."""
    args = [str(a) for a in args]
    try:
        cp = subprocess.run(args, input=input, capture_output=True, text=True,
                            timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        raise CmdError(args, f"timeout after {timeout}s", out, err) from None
    if check and cp.returncode != 0:
        raise CmdError(args, cp.returncode, cp.stdout, cp.stderr)
    return cp


def ip_batch(ns: str | None, lines: list[str], timeout=15.0) -> None:
    """Run iproute2 commands (``ip`` syntax without the leading ``ip``) in one process, in ``ns``."""
    args = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
    run(args, input="\n".join(lines) + "\n", timeout=timeout)


def netns_exec(ns: str, args, **kw) -> subprocess.CompletedProcess:
    """Run argv ``args`` inside network namespace ``ns`` (``ip netns exec``)."""
    return run(["ip", "netns", "exec", ns, *args], **kw)


def list_namespaces() -> list[str]:
    """Names of all named network namespaces (``ip netns list``)."""
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


# --------------------------------------------------------------------------
# waiting and measuring
# --------------------------------------------------------------------------

class WaitTimeout(AssertionError):
    """wait_until() gave up: the condition did not hold before the deadline."""


def wait_until(predicate, timeout: float, interval: float = 0.05, msg: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value; return that value.

    The predicate may also raise (e.g. AssertionError with a diff, CmdError);
    that counts as "not yet". On timeout raise WaitTimeout naming ``msg``, the
    last value returned and the last exception, so the failure says why.
    """
    deadline = time.monotonic() + timeout
    last_value, last_exc = None, None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_value, last_exc = value, None
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            detail = f"last exception: {last_exc}" if last_exc else f"last value: {last_value!r}"
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {msg}; {detail}")
        time.sleep(interval)


def time_until(predicate, timeout: float, start: float | None = None,
               interval: float = 0.02, msg: str = "condition") -> float:
    """Seconds from ``start`` (a time.monotonic() value, default now) until ``predicate()`` holds.

    Raises WaitTimeout if it does not hold within ``timeout`` seconds of start.
    """
    if start is None:
        start = time.monotonic()
    remaining = max(0.0, timeout - (time.monotonic() - start))
    wait_until(predicate, remaining, interval=interval, msg=msg)
    return time.monotonic() - start


def stays_true(predicate, duration: float, interval: float = 0.1, msg: str = "condition") -> None:
    """Poll ``predicate()`` for ``duration`` seconds; it must hold every time.

    For "nothing changes any more" checks after a wait_until(): raises
    AssertionError naming ``msg`` and the time at the first poll where the
    predicate returned a falsy value or raised (its exception is chained).
    """
    start = time.monotonic()
    while True:
        try:
            ok = predicate()
        except Exception as e:  # noqa: BLE001 - reported with the failure
            raise AssertionError(f"{msg} stopped holding after {time.monotonic() - start:.2f}s: {e}") from e
        if not ok:
            raise AssertionError(f"{msg} stopped holding after {time.monotonic() - start:.2f}s "
                                 f"(value {ok!r})")
        if time.monotonic() - start >= duration:
            return
        time.sleep(interval)


def times_until_each(predicates: dict, timeout: float, start: float | None = None,
                     interval: float = 0.02, msg: str = "conditions") -> dict:
    """Poll several predicates together; return {key: seconds from start until it first held}.

    Used for "route gone on every other host within X s": each host's time is
    measured in the same polling loop. Raises WaitTimeout naming the keys that
    never held.
    """
    if start is None:
        start = time.monotonic()
    pending = dict(predicates)
    done = {}
    while True:
        for key in list(pending):
            try:
                ok = pending[key]()
            except Exception:  # noqa: BLE001 - treated as not yet
                ok = False
            if ok:
                done[key] = time.monotonic() - start
                del pending[key]
        if not pending:
            return done
        if time.monotonic() - start >= timeout:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {msg}: "
                              f"still pending {sorted(map(str, pending))}, done {done}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------

Route = collections.namedtuple("Route", "dst gateway dev metric table")
Route.__doc__ = "A kernel route reduced to what the tests compare (table 'main' for 254)."


def route(dst, gateway, dev="eth0", metric=METRIC, table="main") -> Route:
    """Build an expected Route with the lab's defaults (dev eth0, metric 20, table main)."""
    return Route(str(ipaddress.ip_network(dst)), str(ipaddress.ip_address(gateway)), dev, metric, table)


def _to_route(r: dict) -> Route:
    dst = r.get("dst")
    if dst and dst != "default" and "/" not in dst:
        dst = str(ipaddress.ip_network(dst))  # host route: add /32 or /128
    gw = r.get("gateway")
    if gw is None and r.get("via"):
        gw = r["via"].get("host")
    return Route(dst, gw, r.get("dev"), r.get("metric", 0), str(r.get("table", "main")))


def node_id_key(node_id: str) -> int:
    """Sort key for node ids (dotted quads compare as 32-bit numbers)."""
    return int(ipaddress.IPv4Address(node_id))


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

class Proc:
    """A process started in a namespace, in its own process group, output to a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.expected_exit = False     # set when the test stops it on purpose
        self.killed = False
        with open(self.log_path, "ab") as f:
            f.write(f"=== {time.strftime('%H:%M:%S')} start: {shlex.join(self.argv)}\n".encode())
            f.flush()
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=f,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid
        _PROCS.add(self)

    @property
    def running(self) -> bool:
        """True while the process has not exited."""
        return self.popen.poll() is None

    @property
    def returncode(self):
        """Exit status (negative: killed by that signal), None while running."""
        return self.popen.poll()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process (not its group)."""
        if self.running:
            self.popen.send_signal(sig)

    def kill_group(self) -> None:
        """SIGKILL the whole process group (the daemon and anything it forked)."""
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float):
        """Wait for exit; return the exit status or None on timeout."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def reap(self) -> None:
        """Kill the group if still running and collect the exit status."""
        self.kill_group()
        self.wait(5)
        _PROCS.discard(self)


_PROCS: set[Proc] = set()


def tail(path: Path, max_lines: int = 300) -> str:
    """Last ``max_lines`` lines of a text file ('' if missing)."""
    try:
        data = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""
    lines = data.splitlines()
    if len(lines) > max_lines:
        lines = [f"... ({len(lines) - max_lines} earlier lines in {path})"] + lines[-max_lines:]
    return "\n".join(lines)


SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "WARNING: ThreadSanitizer", "==ERROR", "SUMMARY: UndefinedBehaviorSanitizer")


# --------------------------------------------------------------------------
# hosts
# --------------------------------------------------------------------------

class HgwshError(Exception):
    """hgwsh exited non-zero; ``rc``, ``stdout`` and ``stderr`` are kept."""

    def __init__(self, cmds, rc, stdout, stderr):
        self.cmds, self.rc, self.stdout, self.stderr = cmds, rc, stdout, stderr
        super().__init__(f"hgwsh {cmds} exited {rc}: {stderr.strip() or stdout.strip()}")


class Host:
    """One lab host: a namespace with eth0 on the LAN, a cbr0 bridge and one container.

    Attributes: ``name`` ("h0"), ``index``, ``ns`` (host namespace), ``cns``
    (container namespace), ``lan_ip``/``lan_ip6`` (None when that family is not
    on the LAN), ``subnet``/``subnet6``, ``gw_ip``/``gw_ip6`` (cbr0 addresses),
    ``container_ip``/``container_ip6``, ``node_id`` (what hgwd should report),
    ``sock``, ``conf_path``, ``log_path``, ``daemon`` (a Proc or None).
    """

    def __init__(self, lab: "Lab", index: int):
        self.lab = lab
        self.index = index
        self.name = f"h{index}"
        self.ns = f"{lab.prefix}-h{index}"
        self.cns = f"{lab.prefix}-c{index}"
        octet = 10 + index
        self.lan_ip = f"10.60.6.{octet}" if lab.lan_ipv4 else None
        self.lan_ip6 = f"fd00:60:6::{octet}" if lab.ipv6 else None
        self.subnet = f"192.168.{octet}.0/24"
        self.gw_ip = f"192.168.{octet}.1"
        self.container_ip = f"192.168.{octet}.11"
        self.subnet6 = f"fd00:10:{octet}::/64" if lab.ipv6 else None
        self.gw_ip6 = f"fd00:10:{octet}::1" if lab.ipv6 else None
        self.container_ip6 = f"fd00:10:{octet}::11" if lab.ipv6 else None
        # In an IPv6-only LAN there is no interface IPv4 address to derive the node id from.
        self.config_node_id = None if lab.lan_ipv4 else f"10.0.0.{1 + index}"
        self.node_id = self.lan_ip or self.config_node_id
        self.sock = lab.workdir / f"{self.name}.sock"
        self.conf_path = lab.workdir / f"{self.name}.conf"
        self.log_path = lab.workdir / f"{self.name}.log"
        self.daemon: Proc | None = None
        self.config_text: str | None = None
        self.start_count = 0
        self.history: list[Proc] = []  # every daemon process this host ran

    def __repr__(self):
        return f"<Host {self.name} ns={self.ns} lan={self.lan_ip or self.lan_ip6}>"

    # ---- addresses ------------------------------------------------------
    @property
    def lan_addr(self) -> str:
        """The LAN address neighbors use for this host (IPv4 if the LAN has it, else IPv6)."""
        return self.lan_ip or self.lan_ip6

    def own_networks(self) -> list[str]:
        """Networks this host announces by default: each container subnet whose family the LAN carries."""
        nets = []
        if self.lan_ip:
            nets.append(self.subnet)
        if self.subnet6:
            nets.append(self.subnet6)
        return nets

    def gateway_for(self, prefix: str) -> str:
        """The gateway other hosts should use for ``prefix`` announced by this host."""
        v = ipaddress.ip_network(prefix).version
        return self.lan_ip if v == 4 else self.lan_ip6

    # ---- commands in the namespaces --------------------------------------
    def sh(self, cmd: str, check=True, timeout=15.0) -> subprocess.CompletedProcess:
        """Run a shell command line inside the host namespace."""
        return netns_exec(self.ns, ["sh", "-c", cmd], check=check, timeout=timeout)

    def run(self, args, **kw) -> subprocess.CompletedProcess:
        """Run argv inside the host namespace."""
        return netns_exec(self.ns, args, **kw)

    def ip(self, *args, check=True) -> subprocess.CompletedProcess:
        """Run ``ip -n <ns> ARGS`` (quicker than a shell)."""
        return run(["ip", "-n", self.ns, *args], check=check)

    def container_sh(self, cmd: str, check=True, timeout=15.0) -> subprocess.CompletedProcess:
        """Run a shell command line inside the container namespace."""
        return netns_exec(self.cns, ["sh", "-c", cmd], check=check, timeout=timeout)

    def container_ping(self, dst: str, count=1, wait=1) -> bool:
        """One ping from this host's container to ``dst`` (v4 or v6); True if answered."""
        fam = "-6" if ipaddress.ip_address(dst).version == 6 else "-4"
        cp = netns_exec(self.cns, ["ping", fam, "-n", "-q", "-c", str(count), "-W", str(wait), dst],
                        check=False, timeout=count * wait + 5)
        return cp.returncode == 0

    def wait_container_ping(self, dst: str, timeout=5.0) -> None:
        """Retry container pings to ``dst`` until one is answered (deadline ``timeout``)."""
        wait_until(lambda: self.container_ping(dst), timeout, interval=0.1,
                   msg=f"ping {self.name}'s container -> {dst}")

    # ---- kernel routes -------------------------------------------------------
    def routes(self, proto=PROTO, family=None) -> list[dict]:
        """Kernel routes with protocol ``proto`` in all tables, as ``ip -j`` dicts.

        ``family`` 4 or 6 restricts to one family; default both.
        """
        out = []
        for fam in ([family] if family else [4, 6]):
            cp = run(["ip", "-n", self.ns, f"-{fam}", "-j", "route", "show", "table", "all",
                      "proto", str(proto)])
            text = cp.stdout.strip()
            out.extend(json.loads(text) if text else [])
        return out

    def route_set(self, proto=PROTO, family=None) -> set:
        """Kernel routes with protocol ``proto`` as a set of Route tuples."""
        rs = [_to_route(r) for r in self.routes(proto, family)]
        s = set(rs)
        if len(s) != len(rs):  # a duplicate would collapse in the set: keep it visible
            dup = [r for r in rs if rs.count(r) > 1]
            s.add(Route("DUPLICATE", str(dup), None, None, None))
        return s

    def route_table(self, family=4, table="main") -> str:
        """Plain ``ip route show table TABLE`` text (for failure messages and checks)."""
        return self.ip(f"-{family}", "route", "show", "table", str(table), check=False).stdout

    # ---- configuration ----------------------------------------------------
    def make_config(self, neighbors=None, networks=None, timers=DEFAULT_TIMERS,
                    extra_config: str = "", hostname=None, node_id=None, address=None,
                    port=PORT) -> str:
        """Build an hgwd config for this host.

        Defaults: every other lab host as neighbor (by LAN address), own
        container subnet(s) as networks, ``timers`` (keepalive, hold) seconds
        (None: no timers line), kernel protocol 77 table 254 metric 20, node-id
        only in IPv6-only labs. ``extra_config`` lines are appended inside the
        ``router hgw`` block (indented if needed).
        """
        if neighbors is None:
            neighbors = [h.lan_addr for h in self.lab.hosts if h is not self]
        if networks is None:
            networks = self.own_networks()
        node_id = node_id or self.config_node_id
        lines = [f"hostname {hostname or self.name}", "router hgw", " interface eth0",
                 f" listen port {port}"]
        if node_id:
            lines.append(f" node-id {node_id}")
        for a in ([address] if isinstance(address, str) else (address or [])):
            lines.append(f" address {a}")
        lines += [f" network {n}" for n in networks]
        for n in neighbors:
            if isinstance(n, Host):
                n = n.lan_addr
            lines.append(f" neighbor {n}")
        if timers:
            lines.append(f" timers keepalive {timers[0]:g} hold {timers[1]:g}")
        lines.append(f" kernel protocol {PROTO} table {TABLE} metric {METRIC}")
        for line in extra_config.splitlines():
            if line.strip():
                lines.append(line if line.startswith(" ") else " " + line)
        return "\n".join(lines) + "\n"

    def write_config(self, text: str) -> Path:
        """Write ``text`` as this host's config file; return its path."""
        self.config_text = text
        self.conf_path.write_text(text)
        return self.conf_path

    # ---- daemon control -------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while this host's hgwd is running."""
        return self.daemon is not None and self.daemon.running

    @property
    def neighbor_addrs(self) -> list[str]:
        """Neighbor addresses in this host's current config."""
        return re.findall(r"^\s*neighbor\s+(\S+)", self.config_text or "", re.M)

    def start(self, config: str | None = None, wait=True, args=None, **config_kw) -> Proc:
        """Start hgwd in the host namespace: ``ip netns exec NS hgwd -f CONF -s SOCK``.

        ``config`` is the full config text; otherwise one is built with
        make_config(**config_kw) (keywords: neighbors, networks, timers,
        extra_config, hostname, node_id, address). With ``wait`` return only when
        the control socket answers ``show peers json`` (raises with the log if
        the daemon exits or does not answer within 5 s).
        """
        if self.running:
            raise RuntimeError(f"{self.name}: hgwd already running (pid {self.daemon.pid})")
        if config is None:
            config = self.make_config(**config_kw)
        elif config_kw:
            raise TypeError("give either config text or make_config keywords, not both")
        self.write_config(config)
        try:
            self.sock.unlink()
        except FileNotFoundError:
            pass
        self.start_count += 1
        argv = ["ip", "netns", "exec", self.ns, hgwd_path(), "-f", self.conf_path,
                "-s", self.sock, *hgwd_args(), *(args or [])]
        self.daemon = Proc(f"hgwd-{self.name}", argv, self.log_path)
        self.history.append(self.daemon)
        if wait:
            self.wait_ready()
        return self.daemon

    def wait_ready(self, timeout=5.0) -> None:
        """Wait until the control socket answers; raise (with the log) if the daemon died."""
        def ready():
            if not self.running:
                raise AssertionError(f"hgwd on {self.name} exited with status "
                                     f"{self.daemon.returncode}; log:\n{tail(self.log_path, 60)}")
            if not self.sock.exists():
                return False
            self.hgwsh("show peers json")
            return True
        try:
            wait_until(ready, timeout, msg=f"hgwd on {self.name} to answer on {self.sock}")
        except WaitTimeout:
            if self.daemon.returncode is not None:
                raise AssertionError(f"hgwd on {self.name} exited with status "
                                     f"{self.daemon.returncode}; log:\n{tail(self.log_path, 60)}") from None
            raise

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Stop hgwd with ``sig`` and wait for it to exit; return the exit status.

        SIGKILL goes to the whole process group. If the daemon does not exit
        within ``timeout`` it is SIGKILLed and AssertionError is raised.
        """
        d = self.daemon
        if d is None:
            raise RuntimeError(f"{self.name}: hgwd was never started")
        d.expected_exit = True
        if sig == signal.SIGKILL:
            d.kill_group()
        else:
            d.signal(sig)
        rc = d.wait(timeout)
        if rc is None:
            d.kill_group()
            d.wait(5)
            raise AssertionError(f"hgwd on {self.name} did not exit within {timeout}s of "
                                 f"signal {signal.Signals(sig).name}; log:\n{tail(self.log_path, 60)}")
        return rc

    def kill(self):
        """SIGKILL hgwd (kill -9 of its process group); return the exit status."""
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM, config: str | None = None, wait=True) -> Proc:
        """Stop hgwd with ``sig`` and start it again with the same config (or ``config``)."""
        if self.running:
            self.stop(sig)
        return self.start(config if config is not None else self.config_text, wait=wait)

    def reload(self, config: str | None = None) -> None:
        """Optionally rewrite the config file, then send SIGHUP."""
        if config is not None:
            self.write_config(config)
        self.daemon.signal(signal.SIGHUP)

    # ---- hgwsh ---------------------------------------------------------------
    def hgwsh_raw(self, *cmds: str, timeout=5.0) -> subprocess.CompletedProcess:
        """Run ``hgwsh -s SOCK -c CMD ...``; return the CompletedProcess whatever its status.

        hgwsh only talks to a UNIX socket, so it runs in the root namespace.
        """
        argv = [hgwsh_path(), "-s", self.sock]
        for c in cmds:
            argv += ["-c", c]
        return run(argv, check=False, timeout=timeout)

    def hgwsh(self, *cmds: str, parse_json=None, timeout=5.0):
        """Run hgwsh commands; raise HgwshError on failure.

        Returns parsed JSON when the (single) command ends in ``json`` (or
        ``parse_json=True``), else stdout text.
        """
        cp = self.hgwsh_raw(*cmds, timeout=timeout)
        if cp.returncode != 0:
            raise HgwshError(cmds, cp.returncode, cp.stdout, cp.stderr)
        if parse_json is None:
            parse_json = len(cmds) == 1 and cmds[0].split()[-1] == "json"
        if parse_json:
            try:
                return json.loads(cp.stdout)
            except json.JSONDecodeError as e:
                raise AssertionError(f"hgwsh {cmds} printed invalid JSON ({e}):\n{cp.stdout:.3000}") from None
        return cp.stdout

    def peers(self) -> dict:
        """``show peers json`` -> the "peers" dict keyed by neighbor address."""
        return self.hgwsh("show peers json")["peers"]

    def peer(self, addr) -> dict:
        """One entry of ``show peers json`` (addr may be a Host)."""
        if isinstance(addr, Host):
            addr = addr.lan_addr
        peers = self.peers()
        if addr not in peers:
            raise AssertionError(f"{self.name}: no peer {addr} in show peers json: {sorted(peers)}")
        return peers[addr]

    def show_routes(self, prefix=None) -> dict:
        """``show routes [PREFIX] json`` -> the "routes" dict keyed by prefix."""
        cmd = f"show routes {prefix} json" if prefix else "show routes json"
        return self.hgwsh(cmd)["routes"]

    def show_route(self, prefix: str) -> dict | None:
        """One entry of ``show routes json`` (None if the daemon does not know the prefix)."""
        return self.show_routes().get(str(ipaddress.ip_network(prefix)))

    def established_with(self, *addrs) -> bool:
        """True if every given peer (addresses or Hosts) is in state established."""
        peers = self.peers()
        for a in addrs:
            a = a.lan_addr if isinstance(a, Host) else a
            if peers.get(a, {}).get("state") != "established":
                return False
        return True

    def log_text(self) -> str:
        """The whole daemon log (all starts of this host)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # ---- leases, members, flannel's subnet.env ---------------------------------
    @property
    def lease_file(self) -> Path:
        """Where lease_config() tells hgwd to keep this host's lease state (in the lab's workdir)."""
        return self.lab.workdir / f"{self.name}.lease"

    @property
    def subnet_env_file(self) -> Path:
        """Where lease_config() tells hgwd to write flannel's subnet.env (in the lab's workdir)."""
        return self.lab.workdir / f"{self.name}.subnet.env"

    def lease_config(self, cluster: str | None = "10.244.0.0/16", subnet_length: int = 24,
                     cluster6: str | None = None, subnet_length6: int = 64, hold=None,
                     ipmasq=False, discovery=False, startup=None) -> str:
        """Config lines (for ``extra_config``) that make hgwd lease its container subnet(s).

        ``cluster-network CLUSTER subnet-length N`` (and the IPv6 one with
        ``cluster6``), with ``lease-file`` and ``subnet-env`` always pointing
        into the lab's workdir (never the system defaults); optional
        ``lease-hold HOLD`` (seconds or a string like "5s"), ``ipmasq``,
        ``discovery multicast`` and ``timers startup STARTUP``. Combine with
        ``networks=[]`` so no hand-written network takes the lease's place.
        """
        lines = []
        if cluster:
            lines.append(f"cluster-network {cluster} subnet-length {subnet_length}")
        if cluster6:
            lines.append(f"cluster-network {cluster6} subnet-length {subnet_length6}")
        lines += [f"lease-file {self.lease_file}", f"subnet-env {self.subnet_env_file}"]
        if hold is not None:
            lines.append(f"lease-hold {hold if isinstance(hold, str) else f'{hold:g}'}")
        if ipmasq:
            lines.append("ipmasq")
        if discovery:
            lines.append("discovery multicast")
        if startup is not None:
            lines.append(f"timers startup {startup:g}")
        return "\n".join(lines) + "\n"

    def write_lease_state(self, *leases) -> None:
        """Write this host's lease state file before hgwd starts: ``(subnet, claim_unix_ms)`` pairs.

        hgwd reclaims what its state file names at start, keeping the claim
        time: the way to make a host prefer a given subnet (and to make two
        hosts want the same one).
        """
        text = "# written by the lab\n" + "".join(f"lease {ipaddress.ip_network(p)} {int(ms)}\n"
                                                  for p, ms in leases)
        self.lease_file.write_text(text)

    def lease_state(self) -> list[tuple[str, int]]:
        """The ``(subnet, claim_unix_ms)`` lines of this host's lease state file ([] if missing)."""
        try:
            text = self.lease_file.read_text()
        except FileNotFoundError:
            return []
        return [(m.group(1), int(m.group(2)))
                for m in re.finditer(r"^lease\s+(\S+)\s+(\d+)\s*$", text, re.M)]

    def leases(self) -> dict:
        """``show leases json`` (the whole object)."""
        return self.hgwsh("show leases json")

    def lease(self, family=4) -> str | None:
        """This host's own lease of ``family`` (4 or 6) from ``show leases json``, or None."""
        fams = self.leases()["families"]
        return (fams.get("ipv4" if family == 4 else "ipv6") or {}).get("lease")

    def lease_table(self) -> dict:
        """``show leases json`` "leases" as {subnet: entry}; a subnet listed twice raises AssertionError."""
        out = {}
        for e in self.leases()["leases"]:
            if e["subnet"] in out:
                raise AssertionError(f"{self.name}: {e['subnet']} listed twice in show leases: "
                                     f"{out[e['subnet']]} and {e}")
            out[e["subnet"]] = e
        return out

    def wait_lease(self, family=4, timeout=10.0) -> str:
        """Wait until this host holds a lease of ``family``; return it."""
        return wait_until(lambda: self.lease(family), timeout, interval=0.05,
                          msg=f"{self.name} to lease an IPv{family} subnet")

    def members(self) -> dict:
        """``show members json`` "members" as {address: entry} (self included, state "self")."""
        return {m["address"]: m for m in self.hgwsh("show members json")["members"]}

    def subnet_env(self) -> dict | None:
        """This host's subnet.env as an ordered {KEY: value} dict (None if the file does not exist).

        Raises AssertionError for a line that is not KEY=VALUE or a key given twice.
        """
        try:
            text = self.subnet_env_file.read_text()
        except FileNotFoundError:
            return None
        env = {}
        for line in text.splitlines():
            m = re.fullmatch(r"([A-Z0-9_]+)=(\S*)", line)
            if not m:
                raise AssertionError(f"{self.subnet_env_file}: not a KEY=VALUE line: {line!r}")
            if m.group(1) in env:
                raise AssertionError(f"{self.subnet_env_file}: {m.group(1)} given twice")
            env[m.group(1)] = m.group(2)
        return env

    def use_subnet(self, subnet: str | None = None, subnet6: str | None = None) -> None:
        """Move this host's container network into ``subnet`` / ``subnet6`` (a lease).

        What the flannel CNI plugin would do with the lease: cbr0 gets the
        first address of the subnet, the container the second, with its
        default route via cbr0. The old global addresses of that family go.
        Updates ``subnet``, ``gw_ip``, ``container_ip`` (and the IPv6 ones),
        so ping_failures() and own_networks() follow.
        """
        for fam, pfx in ((4, subnet), (6, subnet6)):
            if pfx is None:
                continue
            net = ipaddress.ip_network(pfx)
            if net.version != fam:
                raise ValueError(f"{pfx} is not an IPv{fam} prefix")
            gw, ctr = net.network_address + 1, net.network_address + 2
            nodad = " nodad" if fam == 6 else ""
            # (ip -batch takes no -4/-6 per line: the flushes run on their own)
            run(["ip", "-n", self.ns, f"-{fam}", "addr", "flush", "dev", "cbr0", "scope", "global"])
            run(["ip", "-n", self.cns, f"-{fam}", "addr", "flush", "dev", "eth0", "scope", "global"])
            ip_batch(self.ns, [f"addr add {gw}/{net.prefixlen} dev cbr0{nodad}"])
            ip_batch(self.cns, [f"addr add {ctr}/{net.prefixlen} dev eth0{nodad}",
                                f"route replace default via {gw} dev eth0"])
            if fam == 4:
                self.subnet, self.gw_ip, self.container_ip = str(net), str(gw), str(ctr)
            else:
                self.subnet6, self.gw_ip6, self.container_ip6 = str(net), str(gw), str(ctr)


# --------------------------------------------------------------------------
# the lab
# --------------------------------------------------------------------------

_LABS: set["Lab"] = set()
_LAB_LOCK = threading.Lock()


class Lab:
    """A LAN of ``n`` hosts in network namespaces (see the module docstring).

    ``Lab(n, ipv6=False, lan_ipv4=True, workdir=None)``: ``ipv6`` adds IPv6
    addresses everywhere (LAN fd00:60:6::/64, containers fd00:10:(10+i)::/64);
    ``lan_ipv4=False`` (with ipv6) makes an IPv6-only LAN (hosts then get a
    config node id 10.0.0.(1+i)). ``workdir`` holds configs, sockets and logs
    (default: a new temporary directory). Use as a context manager or call
    ``cleanup()``.
    """

    def __init__(self, n: int, ipv6=False, lan_ipv4=True, workdir=None):
        if not lan_ipv4 and not ipv6:
            raise ValueError("a LAN needs IPv4 or IPv6")
        if n > 40:
            raise ValueError("at most 40 hosts")
        self.n = n
        self.ipv6 = ipv6
        self.lan_ipv4 = lan_ipv4
        self.prefix = f"{NS_PREFIX}{os.getpid()}-{secrets.token_hex(2)}"
        self.lan_ns = f"{self.prefix}-lan"
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hgwlab-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts = [Host(self, i) for i in range(n)]
        self.namespaces: list[str] = []
        self.extra_procs: list[Proc] = []
        self.scripted: list = []  # ScriptedPeer connections opened with connect()
        self.problems: list[str] = []
        self._cleaned = False
        self._bridges: set[str] = set()   # extra LAN bridges made by partition()
        for h in self.hosts:
            if len(str(h.sock)) > 100:
                raise ValueError(f"socket path too long for AF_UNIX: {h.sock}")
        with _LAB_LOCK:
            _LABS.add(self)
        try:
            self._build()
        except BaseException:
            self.cleanup()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __repr__(self):
        return f"<Lab {self.prefix} n={self.n} ipv6={self.ipv6} lan_ipv4={self.lan_ipv4}>"

    # ---- building ----------------------------------------------------------
    def _sysctl(self, ns: str, settings: dict) -> None:
        script = "; ".join(f"echo {v} > /proc/sys/{k.replace('.', '/')}" for k, v in settings.items())
        netns_exec(ns, ["sh", "-ec", script])

    def _build(self) -> None:
        names = [self.lan_ns] + [h.ns for h in self.hosts] + [h.cns for h in self.hosts]
        # Record before creating, so a partial failure still gets cleaned up.
        self.namespaces = list(names)
        ip_batch(None, [f"netns add {n}" for n in names])

        v6_quiet = {"net.ipv6.conf.all.accept_dad": 0, "net.ipv6.conf.default.accept_dad": 0,
                    "net.ipv6.conf.all.accept_ra": 0, "net.ipv6.conf.default.accept_ra": 0}
        # Every setting before any link is created, so new interfaces inherit "default".
        self._sysctl(self.lan_ns, {**v6_quiet, "net.ipv4.ip_forward": 0})
        for h in self.hosts:
            self._sysctl(h.ns, {**v6_quiet,
                                "net.ipv4.ip_forward": 1,
                                "net.ipv4.conf.all.rp_filter": 0,
                                "net.ipv4.conf.default.rp_filter": 0,
                                "net.ipv6.conf.all.forwarding": 1,
                                "net.ipv6.conf.default.forwarding": 1})
            self._sysctl(h.cns, {**v6_quiet,
                                 "net.ipv4.conf.all.rp_filter": 0,
                                 "net.ipv4.conf.default.rp_filter": 0})

        ip_batch(self.lan_ns, ["link set lo up",
                               "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                               "link set br0 up"])
        for h in self.hosts:
            i = h.index
            cmds = ["link set lo up",
                    "link add cbr0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                    f"addr add {h.gw_ip}/24 dev cbr0"]
            if self.ipv6:
                cmds.append(f"addr add {h.gw_ip6}/64 dev cbr0 nodad")
            cmds += ["link set cbr0 up",
                     f"link add eth0 type veth peer name vh{i} netns {self.lan_ns}"]
            if h.lan_ip:
                cmds.append(f"addr add {h.lan_ip}/24 dev eth0")
            if h.lan_ip6:
                cmds.append(f"addr add {h.lan_ip6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            ip_batch(h.ns, cmds)

            cmds = ["link set lo up", f"link add eth0 type veth peer name vc0 netns {h.ns}",
                    f"addr add {h.container_ip}/24 dev eth0"]
            if self.ipv6:
                cmds.append(f"addr add {h.container_ip6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            ip_batch(h.cns, cmds)
            ip_batch(h.ns, ["link set vc0 master cbr0", "link set vc0 up"])
        ip_batch(self.lan_ns, [c for h in self.hosts
                               for c in (f"link set vh{h.index} master br0", f"link set vh{h.index} up")])
        for h in self.hosts:
            cmds = [f"route add default via {h.gw_ip} dev eth0"]
            if self.ipv6:
                cmds.append(f"route add default via {h.gw_ip6} dev eth0")
            ip_batch(h.cns, cmds)
        self._wait_links_up()

    def _wait_links_up(self, timeout=10.0) -> None:
        """Wait until every link of the lab is operationally up.

        The kernel's linkwatch applies carrier changes asynchronously (rate
        limited to about once a second); until then a veth drops what it is
        given, so traffic in the first second would be lost.
        """
        def down_links():
            down = []
            for ns in self.namespaces:
                links = json.loads(run(["ip", "-n", ns, "-j", "link", "show"]).stdout or "[]")
                down += [f"{ns}:{l['ifname']}={l.get('operstate')}" for l in links
                         if l["ifname"] != "lo" and l.get("operstate") != "UP"]
            if down:
                raise AssertionError("links not up: " + " ".join(down))
            return True
        wait_until(down_links, timeout, interval=0.05, msg="lab links to come up")

    # ---- daemons ----------------------------------------------------------------
    def start_all(self, hosts=None, **kw) -> None:
        """Start hgwd on ``hosts`` (default all) with make_config(**kw); wait until each answers."""
        hosts = self.hosts if hosts is None else hosts
        for h in hosts:
            h.start(wait=False, **kw)
        for h in hosts:
            h.wait_ready()

    def running_hosts(self) -> list[Host]:
        """Hosts whose hgwd is running."""
        return [h for h in self.hosts if h.running]

    def spawn(self, ns: str, argv, name="proc") -> Proc:
        """Start any helper process inside namespace ``ns`` (own process group, logged, cleaned up)."""
        p = Proc(name, ["ip", "netns", "exec", ns, *argv], self.workdir / f"{name}.log")
        self.extra_procs.append(p)
        return p

    def connect(self, src, dst, port=PORT, **kw) -> "ScriptedPeer":
        """A ScriptedPeer from ``src`` (a Host: its host namespace, or a namespace name) to
        ``dst`` (a Host: its LAN address, or an address); closed at cleanup at the latest."""
        ns = src.ns if isinstance(src, Host) else src
        addr = dst.lan_addr if isinstance(dst, Host) else dst
        p = ScriptedPeer(ns, addr, port=port, **kw)
        self.scripted.append(p)
        return p

    # ---- LAN partitions -----------------------------------------------------------
    def partition(self, *groups) -> None:
        """Split the LAN: each group of hosts gets its own bridge in the LAN namespace.

        The first group (and every host in no group) stays on br0; group k
        (k >= 1) moves to bridge brk. Hosts on different bridges cannot reach
        each other at all (frames are not forwarded: TCP sessions go silent,
        connects time out). heal() joins everything again.
        """
        cmds = []
        for k, group in enumerate(groups):
            br = "br0" if k == 0 else f"br{k}"
            if k > 0 and br not in self._bridges:
                cmds += [f"link add {br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
                         f"link set {br} up"]
                self._bridges.add(br)
            cmds += [f"link set vh{h.index} master {br}" for h in group]
        ip_batch(self.lan_ns, cmds)

    def heal(self) -> None:
        """Undo partition(): every host's LAN port back on br0."""
        ip_batch(self.lan_ns, [f"link set vh{h.index} master br0" for h in self.hosts])

    def check_lease_mesh(self, hosts=None, families=(4,)) -> dict:
        """Assert ``hosts`` (default: running ones) form a full mesh over leased subnets.

        For each family in ``families`` (4, 6): every host holds a lease, all
        distinct; every host is established with every other; each host's
        proto-77 routes are exactly the other hosts' leases via their LAN
        address of that family; each host's ``show leases`` names every
        lease of the group with its owner ("mine" for its own, "active" for
        the others). Entries of hosts outside the group (reservations) are
        allowed. Returns {host: {family: lease}}; raises AssertionError
        saying what is missing.
        """
        hosts = self.running_hosts() if hosts is None else list(hosts)
        info = {h: h.leases() for h in hosts}
        leases, errors = {}, []
        for h in hosts:
            fams = info[h]["families"]
            leases[h] = {f: (fams.get("ipv4" if f == 4 else "ipv6") or {}).get("lease") for f in families}
            for f, l in leases[h].items():
                if l is None:
                    errors.append(f"{h.name} has no IPv{f} lease")
        if errors:
            raise AssertionError("; ".join(errors))
        for f in families:
            owners = collections.defaultdict(list)
            for h in hosts:
                owners[leases[h][f]].append(h.name)
            dup = {l: o for l, o in owners.items() if len(o) > 1}
            if dup:
                raise AssertionError(f"IPv{f} leases not distinct: {dup}")
        for h in hosts:
            peers = h.peers()
            for o in hosts:
                if o is not h and peers.get(o.lan_addr, {}).get("state") != "established":
                    errors.append(f"{h.name} -> {o.name}: {peers.get(o.lan_addr, {}).get('state')}")
            exp = {route(leases[o][f], o.lan_ip if f == 4 else o.lan_ip6)
                   for o in hosts if o is not h for f in families}
            got = h.route_set()
            if got != exp:
                errors.append(f"{h.name} routes: missing {sorted(exp - got)} unexpected {sorted(got - exp)}")
            table = {e["subnet"]: e for e in info[h]["leases"]}
            for o in hosts:
                for f in families:
                    e = table.get(leases[o][f])
                    want = "mine" if o is h else "active"
                    if e is None or e["owner"] != o.node_id or e["state"] != want:
                        errors.append(f"{h.name}'s show leases: {leases[o][f]} is {e}, "
                                      f"want owner {o.node_id} state {want}")
        if errors:
            raise AssertionError("lease mesh incomplete:\n  " + "\n  ".join(errors))
        return leases

    def wait_lease_mesh(self, hosts=None, families=(4,), timeout=15.0) -> dict:
        """Wait until check_lease_mesh(hosts, families) holds; return {host: {family: lease}}."""
        return wait_until(lambda: self.check_lease_mesh(hosts, families), timeout, interval=0.2,
                          msg="a full mesh over leased subnets")

    # ---- expectations -----------------------------------------------------------
    def expected_routes(self, h: Host, up=None) -> set:
        """Routes ``h`` should have when the hosts in ``up`` (default: running ones) run default configs.

        One route per network of every other up host that is in h's neighbor
        list, via that host's LAN address of the prefix's family.
        """
        up = self.running_hosts() if up is None else up
        if h not in up:
            return set()
        neigh = set(h.neighbor_addrs)
        exp = set()
        for o in up:
            if o is h or o.lan_addr not in neigh or h.lan_addr not in o.neighbor_addrs:
                continue
            for net in o.own_networks():
                exp.add(route(net, o.gateway_for(net)))
        return exp

    def check_routes(self, expected: dict | None = None) -> bool:
        """Assert every host's proto-77 routes are exactly as expected.

        ``expected`` maps Host -> set of Route; default expected_routes() for
        every running host, and no proto-77 routes at all on hosts whose
        daemon never ran or exited by itself (a daemon killed by a signal
        could not clean up, so such a host is not checked).
        Raises AssertionError listing the differences; returns True.
        """
        if expected is None:
            expected = {}
            for h in self.hosts:
                if h.running or h.daemon is None or h.daemon.returncode == 0:
                    expected[h] = self.expected_routes(h)
        errors = []
        for h, exp in expected.items():
            got = h.route_set()
            if got != exp:
                errors.append(f"{h.name}: missing {sorted(exp - got)} unexpected {sorted(got - exp)}")
        if errors:
            raise AssertionError("kernel proto-77 routes differ:\n  " + "\n  ".join(errors))
        return True

    def wait_routes(self, timeout=10.0, expected=None) -> None:
        """Wait until check_routes(expected) holds on every host."""
        wait_until(lambda: self.check_routes(expected), timeout, interval=0.1,
                   msg="kernel routes to converge")

    def check_established(self, hosts=None) -> bool:
        """Assert every running host's configured neighbors that are running are established."""
        hosts = self.running_hosts() if hosts is None else hosts
        by_addr = {h.lan_addr: h for h in self.hosts}
        errors = []
        for h in hosts:
            peers = h.peers()
            for a in h.neighbor_addrs:
                o = by_addr.get(a)
                if o is None or not o.running or h.lan_addr not in o.neighbor_addrs:
                    continue
                st = peers.get(a, {}).get("state")
                if st != "established":
                    errors.append(f"{h.name} -> {o.name} ({a}): {st}")
        if errors:
            raise AssertionError("sessions not established: " + ", ".join(errors))
        return True

    def wait_established(self, timeout=10.0, hosts=None) -> None:
        """Wait until check_established() holds."""
        wait_until(lambda: self.check_established(hosts), timeout, interval=0.1,
                   msg="sessions to be established")

    def wait_converged(self, timeout=10.0) -> None:
        """Wait for established sessions and then the exact expected kernel routes."""
        deadline = time.monotonic() + timeout
        self.wait_established(timeout)
        self.wait_routes(max(1.0, deadline - time.monotonic()))

    def ping_failures(self, family=4, hosts=None) -> list[str]:
        """Container-to-container pings between every ordered pair; return the failed pairs."""
        hosts = self.hosts if hosts is None else hosts
        failed = []
        for a in hosts:
            for b in hosts:
                if a is b:
                    continue
                dst = b.container_ip if family == 4 else b.container_ip6
                if not a.container_ping(dst):
                    failed.append(f"{a.name}->{b.name} ({dst})")
        return failed

    def wait_full_connectivity(self, family=4, hosts=None, timeout=5.0) -> None:
        """Wait until every container pings every other container (family 4 or 6)."""
        def ok():
            f = self.ping_failures(family, hosts)
            if f:
                raise AssertionError("pings failing: " + ", ".join(f))
            return True
        wait_until(ok, timeout, interval=0.1, msg=f"IPv{family} container connectivity")

    # ---- diagnostics ---------------------------------------------------------------
    def failure_report(self) -> list[tuple[str, str]]:
        """(title, text) sections describing the lab: state of each host and daemon logs."""
        sections = []
        for h in self.hosts:
            lines = [f"namespace {h.ns}, config {h.conf_path}, log {h.log_path}"]
            if h.daemon is not None:
                lines.append(f"hgwd pid {h.daemon.pid}, running={h.running}, "
                             f"status={h.daemon.returncode}, starts={h.start_count}")
            for fam in (4, 6) if self.ipv6 else (4,):
                try:
                    lines.append(f"ip -{fam} route:\n" + h.route_table(fam).rstrip())
                except Exception as e:  # noqa: BLE001
                    lines.append(f"ip route failed: {e}")
            if h.running:
                cmds = ["show peers json", "show routes json"]
                if re.search(r"^\s*(cluster-network|discovery)", h.config_text or "", re.M):
                    cmds += ["show leases", "show members"]  # the lease/membership tests
                for cmd in cmds:
                    try:
                        cp = h.hgwsh_raw(cmd, timeout=2)
                        lines.append(f"hgwsh {cmd} (rc {cp.returncode}):\n{cp.stdout.rstrip()}{cp.stderr.rstrip()}")
                    except Exception as e:  # noqa: BLE001
                        lines.append(f"hgwsh {cmd} failed: {e}")
            if h.config_text:
                lines.append("config:\n" + h.config_text.rstrip())
            sections.append((f"lab {h.name} state", "\n".join(lines)))
            if h.log_path.exists():
                sections.append((f"hgwd {h.name} log", tail(h.log_path)))
        for p in self.extra_procs:
            if p.log_path.exists():
                sections.append((f"{p.name} log", tail(p.log_path)))
        return sections

    def daemon_problems(self) -> list[str]:
        """Daemons that died when nobody stopped them, and sanitizer reports in the logs."""
        problems = []
        for h in self.hosts:
            for d in h.history:
                rc = d.returncode
                if rc is not None and not d.expected_exit and not d.killed:
                    problems.append(f"hgwd on {h.name} (pid {d.pid}) exited unexpectedly with status {rc}")
            text = h.log_text()
            for pat in SANITIZER_PATTERNS:
                if pat in text:
                    problems.append(f"hgwd log of {h.name} contains {pat!r} (see {h.log_path})")
                    break
        return problems

    # ---- cleanup ------------------------------------------------------------------
    def cleanup(self, graceful=True) -> list[str]:
        """Stop every daemon and helper, delete every namespace; return problems found.

        With ``graceful`` the running daemons first get SIGTERM (checked to exit
        0 within 3 s, else reported), then every process group is SIGKILLed.
        Safe to call twice.
        """
        if self._cleaned:
            return self.problems
        self._cleaned = True
        problems = self.daemon_problems() if graceful else []
        try:
            running = [h for h in self.hosts if h.running]
            if graceful:
                for h in running:
                    h.daemon.expected_exit = True
                    # SIGCONT first, in case a test left it stopped: a SIGCONT that
                    # lands while an ASan build's leak check at exit has its threads
                    # ptrace-stopped can hang that check.
                    h.daemon.signal(signal.SIGCONT)
                    h.daemon.signal(signal.SIGTERM)
                # A sanitizer build checks for leaks at exit, which can take
                # longer on a busy machine: HGW_LAB_STOP_TIMEOUT (check.sh sets it).
                limit = float(os.environ.get("HGW_LAB_STOP_TIMEOUT", "3"))
                deadline = time.monotonic() + limit
                for h in running:
                    rc = h.daemon.wait(max(0.0, deadline - time.monotonic()))
                    if rc is None:
                        problems.append(f"hgwd on {h.name} did not exit within {limit:g} s of SIGTERM "
                                        f"at teardown; {stuck_where(h.daemon.pid)}")
                    elif rc != 0:
                        problems.append(f"hgwd on {h.name} exited with status {rc} on SIGTERM at teardown")
            for sp in self.scripted:
                sp.close()
            for h in self.hosts:
                for d in h.history:
                    d.reap()
            for p in self.extra_procs:
                p.reap()
            if graceful:
                for h in running:  # sanitizer output written while exiting
                    text = h.log_text()
                    if any(p in text for p in SANITIZER_PATTERNS) and not any(h.name in p for p in problems):
                        problems.append(f"hgwd log of {h.name} has a sanitizer report (see {h.log_path})")
        finally:
            delete_namespaces(self.namespaces)
            with _LAB_LOCK:
                _LABS.discard(self)
        self.problems = problems
        return problems


def stuck_where(pid) -> str:
    """Where a process that does not exit is: its state, kernel wait channel and stack."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
        try:
            with open(f"/proc/{pid}/stack") as f:
                stack = " <- ".join(line.split()[1] for line in f.read().splitlines()[:6])
        except OSError:
            stack = "?"
        tasks = len(os.listdir(f"/proc/{pid}/task"))
        return f"state {state}, {tasks} thread(s), waiting in {wchan or '-'} ({stack})"
    except OSError as e:
        return f"no /proc details ({e})"


def delete_namespaces(names) -> None:
    """Kill every process left in the given namespaces, then delete them (ignoring missing ones)."""
    existing = set(list_namespaces())
    names = [n for n in names if n in existing]
    for n in names:
        cp = run(["ip", "netns", "pids", n], check=False)
        for pid in cp.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    if names:
        run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in names), check=False)
    left = set(names) & set(list_namespaces())
    if left:
        raise RuntimeError(f"namespaces could not be deleted: {sorted(left)}")


def cleanup_all() -> None:
    """Clean up every lab of this process and kill leftover processes (atexit / signal handler)."""
    with _LAB_LOCK:
        labs = list(_LABS)
    for lab in labs:
        try:
            lab.cleanup(graceful=False)
        except Exception as e:  # noqa: BLE001
            print(f"hgwlab: cleanup of {lab.prefix} failed: {e}", file=sys.stderr)
    for p in list(_PROCS):
        p.reap()


def sweep_stale_namespaces() -> list[str]:
    """Delete lab namespaces left by earlier runs whose process no longer exists; return their names."""
    stale = []
    for name in list_namespaces():
        m = _NS_RE.match(name)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # that run is still alive: leave its lab alone
        except ProcessLookupError:
            stale.append(name)
        except PermissionError:
            continue
    if stale:
        delete_namespaces(stale)
    return stale


atexit.register(cleanup_all)


# The wire protocol helpers (frames, encoders, ScriptedPeer, Flood) live in hgwwire.py.
from hgwwire import *  # noqa: E402,F401,F403
from hgwwire import close_scripted_peers  # noqa: E402,F401
