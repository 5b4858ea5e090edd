"""labproc: namespaces and processes for the hgw lab (tests/lab) and the benchmarks (tests/bench).

Running commands (``run``, ``ip_batch``, ``netns_exec``), the namespace names
``<prefix><pid>-<tag>-<role>`` (lab: "hgw-", bench: "hgwb-"), deleting
namespaces with whatever still runs in them, sweeping the ones a dead run left
behind, processes started in their own process group and stopped by their id
(``Proc`` for the lab, ``stop_proc`` and ``Registry`` for the benchmarks), and
the kernel route attributes every lab and benchmark config gives hgwd.

Rule: only namespaces this process created (or a dead run of it) are touched;
processes are signalled by their own id or process group, never by name.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRCDIR = HERE.parent.parent

#: kernel route attributes hgwd is configured with in every lab config
PROTO = 77
METRIC = 20
TABLE = 254
PORT = 7179

NS_PREFIX = "hgw-"


def ns_re(prefix: str) -> re.Pattern:
    """Pattern of the namespace names ``ns_prefix(prefix)`` makes; group 1 is the pid."""
    return re.compile("^" + re.escape(prefix) + r"(\d+)-[0-9a-f]{4}-")


_NS_RE = ns_re(NS_PREFIX)


def ns_prefix(prefix: str = NS_PREFIX) -> str:
    """A new ``<prefix><pid>-<tag>``: unique per run and per call; add ``-<role>`` per namespace."""
    return f"{prefix}{os.getpid()}-{secrets.token_hex(2)}"


# --------------------------------------------------------------------------
# running commands
# --------------------------------------------------------------------------

class CmdError(RuntimeError):
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
    """Run argv ``args`` (no shell), capture text output; raise CmdError if check and rc != 0.

    ``timeout`` None: no limit (the benchmarks' long batches).
    """
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
    if not lines:
        return
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
# processes
# --------------------------------------------------------------------------

def signal_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the process group ``pid`` (a process we started in its own session).

    Returns False when the group no longer exists.
    """
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


class Proc:
    """A process started in a namespace, in its own process group, output to a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.expected_exit = False     # set when the test stops it on purpose
        self.killed = False
        self.left = False              # hgwd left the mesh (shutdown): it removed its routes
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
        signal_group(self.pid, signal.SIGKILL)

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


def stop_proc(p: subprocess.Popen, sig=signal.SIGTERM, timeout=5.0) -> None:
    """Stop a process we started in its own session (pgid == pid), by id.

    ``sig`` goes to its process group; if it has not exited within
    ``timeout`` seconds, the group is SIGKILLed.
    """
    if p.poll() is not None:
        return
    if not signal_group(p.pid, sig):
        return
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_group(p.pid, signal.SIGKILL)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass


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


def sweep_stale_namespaces(prefix: str = NS_PREFIX, log=None) -> list[str]:
    """Delete namespaces named ``<prefix><pid>-<tag>-...`` whose process ``pid`` no longer exists.

    ``prefix`` is the lab's "hgw-" by default, the benchmarks' "hgwb-"; ``log``
    (a function of one string), if given, is told of each. Returns their names.
    """
    pattern = _NS_RE if prefix == NS_PREFIX else ns_re(prefix)
    stale = []
    for name in list_namespaces():
        m = pattern.match(name)
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
            if log:
                log(f"removing stale namespace {name} of dead run {pid}")
        except PermissionError:
            continue
    if stale:
        delete_namespaces(stale)
    return stale


class Registry:
    """Everything one run starts: namespaces ``<prefix><pid>-<tag>-<role>`` and processes.

    ``add_ns(role)`` creates and records a namespace, ``spawn(argv, ns)``
    starts a process in its own session (inside ``ns`` if given) and records
    it; ``reset()`` stops the processes (SIGTERM, then SIGKILL after 3 s) and
    deletes the namespaces, newest first; ``cleanup()`` does that once, for
    good (atexit). ``setup`` (a function of the namespace name) runs on each
    new namespace, e.g. to set sysctls.
    """

    def __init__(self, prefix: str, setup=None) -> None:
        self.prefix = ns_prefix(prefix)
        self.setup = setup
        self.procs: list[subprocess.Popen] = []
        self.netns: list[str] = []
        self.cleaned = False

    def ns_name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def add_ns(self, role: str) -> str:
        """Create namespace ``<prefix>-<role>`` with lo up; return its name."""
        ns = self.ns_name(role)
        run(["ip", "netns", "add", ns])
        self.netns.append(ns)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        if self.setup:
            self.setup(ns)
        return ns

    def del_ns(self, ns: str) -> None:
        """Delete one of our namespaces now (and what runs in it)."""
        delete_namespaces([ns])
        self.netns.remove(ns)

    def spawn(self, argv, ns: str | None = None, **popen_kw) -> subprocess.Popen:
        """Start argv (inside ``ns`` if given) in its own session; Popen keywords pass through."""
        cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in argv]
        p = subprocess.Popen(cmd, start_new_session=True, close_fds=True, **popen_kw)
        self.procs.append(p)
        return p

    def reset(self) -> None:
        """Stop every process and delete every namespace recorded so far."""
        for p in reversed(self.procs):
            stop_proc(p, signal.SIGTERM, 3)
        self.procs.clear()
        try:
            delete_namespaces(list(reversed(self.netns)))
        finally:
            self.netns.clear()

    def cleanup(self) -> None:
        """reset() once; later calls do nothing."""
        if self.cleaned:
            return
        self.cleaned = True
        self.reset()
