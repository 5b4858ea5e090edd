"""labdaemon: the hgwd driver of the lab, and the control-socket client shared with tests/bench.

Where the binaries are (``$HGW_BUILDDIR``, ``$HGWD``, ``$HGWSH``), configs
for lab hosts, starting and stopping hgwd in a host namespace, talking to it
through hgwsh (``HostDaemon``, a mixin of ``labtopo.Host``), what a lab's
daemons did wrong (``LabDaemon``, a mixin of ``labtopo.Lab``), and
``ctl_request``: one request on the control socket straight from Python
(BIRD-style numbered reply lines, see daemon/ctl.h), which the benchmarks use.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import signal
import socket
import subprocess
from pathlib import Path

from labexpect import WaitTimeout, wait_until
from labproc import METRIC, PORT, PROTO, SRCDIR, TABLE, Proc, run, tail

#: default session timers for tests that do not measure them (seconds)
DEFAULT_TIMERS = (0.5, 1.5)

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "WARNING: ThreadSanitizer", "==ERROR", "SUMMARY: UndefinedBehaviorSanitizer")


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
# the control socket
# --------------------------------------------------------------------------

class CtlError(RuntimeError):
    """hgwd answered a control request with an error line (``code`` 8xxx or 9xxx, ``line``)."""

    def __init__(self, sock, cmd, line):
        self.sock, self.cmd, self.line = str(sock), cmd, line
        self.code = line[:4]
        super().__init__(f"{sock}: {cmd}: {line}")


def ctl_request(sock, cmd: str, timeout: float = 30.0) -> str:
    """Send one request line to hgwd's control socket ``sock``; return its output lines (1000-...).

    Raises OSError when the socket cannot be reached or closes early, and
    CtlError when the last reply line is not 0000.
    """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock))
        s.sendall((cmd + "\n").encode())
        buf, out = b"", []
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                raise OSError("control socket closed")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                code, sep = text[:4], text[4:5]
                if sep == "-":
                    if code == "1000":
                        out.append(text[5:])
                    continue
                if code != "0000":
                    raise CtlError(sock, cmd, text)
                return "\n".join(out)
    finally:
        s.close()


def ctl_json(sock, cmd: str, timeout: float = 30.0):
    """ctl_request() of a ``... json`` command, parsed."""
    return json.loads(ctl_request(sock, cmd, timeout))


# --------------------------------------------------------------------------
# hgwd on a lab host
# --------------------------------------------------------------------------

class HgwshError(Exception):
    """hgwsh exited non-zero; ``rc``, ``stdout`` and ``stderr`` are kept."""

    def __init__(self, cmds, rc, stdout, stderr):
        self.cmds, self.rc, self.stdout, self.stderr = cmds, rc, stdout, stderr
        super().__init__(f"hgwsh {cmds} exited {rc}: {stderr.strip() or stdout.strip()}")


class HostDaemon:
    """Config, start/stop and hgwsh of one lab host's hgwd (a mixin of labtopo.Host)."""

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
            n = getattr(n, "lan_addr", n)  # a Host: its LAN address
            lines.append(f" neighbor {n}")
        if timers:
            lines.append(f" timers keepalive {timers[0]:g} hold {timers[1]:g}")
        lines.append(f" kernel protocol {PROTO} table {TABLE} metric {METRIC}")
        for line in extra_config.splitlines():
            if line.strip():
                lines.append(line if line.startswith(" ") else " " + line)
        # Never the machine's own /run/flannel or /var/lib/hgw: with a
        # cluster-network (subnet.env, leases), a lab host's files live in the
        # lab's work folder unless the test names them.
        if "cluster-network" in extra_config:
            if "subnet-env" not in extra_config:
                lines.append(f" subnet-env {self.lab.workdir}/{self.name}.subnet.env")
            if "lease-file" not in extra_config:
                lines.append(f" lease-file {self.lab.workdir}/{self.name}.lease")
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
        # SIGTERM/SIGINT is a restart (routes stay) unless graceful restart is off.
        d.left = sig in (signal.SIGTERM, signal.SIGINT) and \
            re.search(r"^\s*no graceful-restart\s*$", self.config_text or "", re.M) is not None
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

    def leave(self, timeout=5.0):
        """Leave the mesh for good: ``hgwsh -c shutdown`` (peers and this host remove
        its routes at once); wait for the exit and return its status."""
        d = self.daemon
        if d is None or not d.running:
            raise RuntimeError(f"{self.name}: hgwd is not running")
        d.expected_exit = True
        d.left = True
        cp = self.hgwsh_raw("shutdown")
        if cp.returncode != 0:
            raise HgwshError(("shutdown",), cp.returncode, cp.stdout, cp.stderr)
        rc = d.wait(timeout)
        if rc is None:
            d.kill_group()
            d.wait(5)
            raise AssertionError(f"hgwd on {self.name} did not exit within {timeout}s of "
                                 f"shutdown; log:\n{tail(self.log_path, 60)}")
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
        addr = getattr(addr, "lan_addr", addr)  # a Host: its LAN address
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
            a = getattr(a, "lan_addr", a)
            if peers.get(a, {}).get("state") != "established":
                return False
        return True

    def log_text(self) -> str:
        """The whole daemon log (all starts of this host)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def ctl(self, cmd: str, timeout: float = 5.0) -> str:
        """One request on this host's control socket without hgwsh (ctl_request)."""
        return ctl_request(self.sock, cmd, timeout)


class LabDaemon:
    """The daemons of a lab: start them all, and what went wrong (a mixin of labtopo.Lab)."""

    # ---- daemons ----------------------------------------------------------------
    def start_all(self, hosts=None, **kw) -> None:
        """Start hgwd on ``hosts`` (default all) with make_config(**kw); wait until each answers."""
        hosts = self.hosts if hosts is None else hosts
        for h in hosts:
            h.start(wait=False, **kw)
        for h in hosts:
            h.wait_ready()

    def running_hosts(self) -> list:
        """Hosts whose hgwd is running."""
        return [h for h in self.hosts if h.running]

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
