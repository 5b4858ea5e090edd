"""A real-terminal test of hgwsh: the interactive shell under tmux, keys typed, the screen read back.

Each test runs its own tmux server on a private socket (``tmux -L <unique>``,
no user configuration) and kills it at the end. Text is typed with
``send-keys -l`` (literally: "end" would otherwise be the End key), special
keys by name. Every check polls ``capture-pane`` until the screen shows what
is expected, with a deadline; there are no fixed sleeps. Keys are typed only
once the prompt is back: before that the terminal is not in the editor's
raw mode (a ^D would be eaten by the tty).
"""

import os
import re
import secrets
import shlex
import shutil

import pytest

import hgwlab
from hgwlab import wait_until

if shutil.which("tmux") is None:
    # A missing tool is a failure, not a pass: tests/setup.sh installs tmux.
    raise RuntimeError("tmux is not installed (apt-get install tmux; tests/setup.sh does it)")


class Tmux:
    """One tmux server with one pane running ``argv``.

    The pane runs ``sh -c 'ARGV; echo $? > STATUS'``: the exit status is read
    from that file, not from tmux (tmux 3.3 may see the pane's terminal close
    long before it reaps the process, and then reports no status).
    """

    def __init__(self, argv, env: dict, status_path, width=160, height=50):
        self.name = f"hgwtest-{os.getpid()}-{secrets.token_hex(3)}"
        self.base = ["tmux", "-L", self.name, "-f", "/dev/null"]
        self.status_path = status_path
        tmp = f"{status_path}.tmp"
        script = f'"$@"; echo $? > {shlex.quote(tmp)}; mv {shlex.quote(tmp)} {shlex.quote(str(status_path))}'
        cmd = shlex.join(["sh", "-c", script, "sh", "env", *[f"{k}={v}" for k, v in env.items()],
                          *map(str, argv)])
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), cmd)

    def tmux(self, *args, check=True) -> str:
        return hgwlab.run([*self.base, *args], check=check, timeout=10).stdout

    def type(self, text: str) -> None:
        """Type text literally."""
        self.tmux("send-keys", "-t", "t", "-l", text)

    def key(self, *names: str) -> None:
        """Press keys by tmux name (Tab, Enter, C-u)."""
        self.tmux("send-keys", "-t", "t", *names)

    def screen(self) -> str:
        """The pane and its scrollback, trailing blanks of each line trimmed."""
        return self.tmux("capture-pane", "-p", "-t", "t", "-S", "-1000")

    def lines(self) -> list[str]:
        return [ln.rstrip() for ln in self.screen().splitlines()]

    def last_line(self) -> str:
        ls = [ln for ln in self.lines() if ln.strip()]
        return ls[-1] if ls else ""

    def wait(self, predicate, what: str, timeout=5.0):
        """Poll the screen until predicate(screen text) holds; the failure shows the screen."""
        def check():
            s = self.screen()
            assert predicate(s), f"screen:\n{s}"
            return True
        return wait_until(check, timeout, interval=0.05, msg=what)

    def wait_prompt(self, prompt: str, timeout=5.0):
        """Wait until the cursor line is exactly the prompt (no input typed)."""
        want = prompt.rstrip()
        self.wait(lambda s: self.last_line() == want, f"prompt {prompt!r}", timeout)

    def wait_exit(self, timeout=5.0) -> int:
        """Wait until the pane's program has exited; return its exit status."""
        def exited():
            assert self.status_path.exists(), "screen:\n" + self.screen()
            return [int(self.status_path.read_text())]
        return wait_until(exited, timeout, msg="hgwsh to exit")[0]

    def kill(self):
        self.tmux("kill-server", check=False)


@pytest.fixture
def tmux_shell(request, tmp_path):
    """Factory: tmux_shell(host, user=None) runs hgwsh -s SOCK in a fresh tmux server, killed after the test."""
    servers = []

    def factory(h, user=None):
        argv = [*(user or []), hgwlab.hgwsh_path(), "-s", h.sock]
        t = Tmux(argv, {"HOME": tmp_path, "TERM": "screen"}, tmp_path / f"exit-status-{len(servers)}")
        servers.append(t)
        return t
    try:
        yield factory
    finally:
        for t in servers:
            t.kill()


def test_interactive_shell(make_lab, tmux_shell, tmp_path):
    """TAB completes, ? lists with help, abbreviations run, prompts follow the mode, exit leaves with 0."""
    lab = make_lab(3)
    lab.start_all()
    lab.wait_converged()
    h0, h1, h2 = lab.hosts
    t = tmux_shell(h0)
    t.wait_prompt("h0# ")

    # "sh" TAB: the word is completed, with a space after it.
    t.type("sh")
    t.key("Tab")
    t.wait(lambda s: t.last_line() == "h0# show", "TAB to complete 'sh' to 'show'")
    # ?: the words that may follow, each with its help, then the line as it was.
    t.type("?")
    t.wait(lambda s: re.search(r"^  routes +The RIB", s, re.M) and t.last_line() == "h0# show",
           "? to list show's subcommands")
    screen = t.screen()
    for word in ("fib", "leases", "members", "peers", "routes", "running-config", "summary", "version"):
        assert re.search(rf"^  {word} +\S", screen, re.M), f"show ? does not list {word}:\n{screen}"
    assert "summary                  This node: identity, networks, peers, routes, kernel" in screen
    assert "?" not in t.last_line(), "? must not be inserted into the line"

    # The rest of the line after the completed word: an abbreviation, run with Enter.
    t.type("su")
    t.key("Enter")
    t.wait(lambda s: f"hgwd node {h0.node_id}, host h0" in s and "Initial sync: done" in s,
           "show summary output")
    t.wait_prompt("h0# ")
    assert "h0# show su" in t.lines()

    # TAB with several candidates lists them; the line stays.
    t.type("show r")
    t.key("Tab")
    t.wait(lambda s: re.search(r"^routes +running-config$", s, re.M) and t.last_line() == "h0# show r",
           "TAB to list routes and running-config")
    # TAB offers the peer addresses the daemon knows, and completes one.
    t.key("C-u")
    t.type("show peers 10.60.6.1")
    t.key("Tab")
    t.wait(lambda s: re.search(rf"^{h1.lan_ip} +{h2.lan_ip}$", s, re.M), "TAB to list the peer addresses")
    t.type("2")
    t.key("Tab")
    t.type("de")
    t.key("Tab")
    t.wait(lambda s: t.last_line() == f"h0# show peers {h2.lan_ip} detail", "TAB to complete address and detail")
    t.key("Enter")
    t.wait(lambda s: f"Peer {h2.lan_ip}, port 7179, configured, state established" in s, "show peers detail")
    t.wait_prompt("h0# ")
    t.type("sh ro")
    t.key("Enter")
    t.wait(lambda s: re.search(rf"^\*> {re.escape(h1.subnet)} ", s, re.M), "sh ro output")
    t.wait_prompt("h0# ")

    # An error names the word and the shell goes on.
    t.type("show frobnicate")
    t.key("Enter")
    t.wait(lambda s: "% Unknown command at 'frobnicate'" in s, "the error message")
    t.wait_prompt("h0# ")

    # Modes: the prompt follows them.
    t.type("configure terminal")
    t.key("Enter")
    t.wait_prompt("h0(config)# ")
    t.type("router hgw")
    t.key("Enter")
    t.wait_prompt("h0(config-router)# ")
    t.type("?")
    t.wait(lambda s: re.search(r"^  network +Announce a container subnet", s, re.M)
           and t.last_line() == "h0(config-router)#", "? in router mode")
    t.type("network 192.168.77.0/24")
    t.key("Enter")
    t.wait_prompt("h0(config-router)# ")
    wait_until(lambda: hgwlab.route("192.168.77.0/24", h0.lan_ip) in h1.route_set(), 5,
               msg="h1 to install the network typed on h0")
    t.type("exit")
    t.key("Enter")
    t.wait_prompt("h0(config)# ")
    t.type("end")
    t.key("Enter")
    t.wait_prompt("h0# ")
    # History: Up recalls the previous lines.
    t.key("Up", "Up")
    t.wait(lambda s: t.last_line() == "h0# exit", "Up to recall 'exit'")
    t.key("C-u")
    t.type("exit")
    t.key("Enter")
    assert t.wait_exit() == 0
    # History is kept in $HOME (libedit's format: blanks as \\040).
    hist = (tmp_path / ".hgwsh_history").read_text().replace("\\040", " ")
    assert "network 192.168.77.0/24\n" in hist, hist


def test_interactive_non_root_prompt(make_lab, open_workdir, tmux_shell):
    """A non-root user (socket opened to everybody) gets the view prompt 'h0> ' and a clear refusal."""
    lab = make_lab(1, workdir=open_workdir / "lab")
    h0 = lab.hosts[0]
    h0.start(neighbors=[])
    os.chmod(h0.sock, 0o666)
    t = tmux_shell(h0, user=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    t.wait_prompt("h0> ")
    t.type("conf t")
    t.key("Enter")
    t.wait(lambda s: "% Permission denied" in s, "the refusal")
    t.wait_prompt("h0> ")
    t.type("sh ver")
    t.key("Enter")
    t.wait(lambda s: re.search(r"^hgwd \S+, protocol version", s, re.M), "show version output")
    t.wait_prompt("h0> ")  # a ^D typed before the editor is back would be the tty's, and lost
    t.key("C-d")
    assert t.wait_exit() == 0, "hgwsh must exit 0 on end of file"
