"""``make install DESTDIR=...`` from the build directory puts every file where it belongs (issue 13).

The build directory is $HGW_BUILDDIR, as for the other lab tests. The
directories are the ones configure chose, read from its Makefile (so the
test holds for any --prefix, --sysconfdir or --with-systemdsystemunitdir).
Checked: the programs, the man pages, the example configuration (and that no
hgwd.conf is installed), the systemd unit with configure's paths, the
tmpfiles.d entry, the rt_protos.d entry (``ip route`` in a scratch namespace
then says ``proto hgw``), the JSON schemas; ``systemd-analyze verify``
accepts the unit without a warning; ``make uninstall`` removes every file.

systemd-analyze verify checks that ExecStart's program exists, and the unit
names it where it will be installed, not inside DESTDIR; so the unit verified
is the installed one with only that program path prefixed with DESTDIR (the
test checks the copy differs in that one line). MANPATH points into DESTDIR so
that its Documentation= pages are found too. (``verify --root=DESTDIR`` would
need a whole systemd tree in DESTDIR: sysinit.target, /bin/kill, man.)
"""

import os
import shutil
import subprocess
import uuid

import pytest

from hgwlab import builddir, run

DIRS = ("prefix", "bindir", "sbindir", "sysconfdir", "localstatedir", "mandir", "docdir",
        "pkgdatadir", "systemdsystemunitdir", "tmpfilesdir")


def make(*args, timeout=300) -> subprocess.CompletedProcess:
    cp = subprocess.run(["make", "-s", "-C", str(builddir()), *args], capture_output=True, text=True,
                        timeout=timeout)
    assert cp.returncode == 0, f"make {' '.join(args)}: rc {cp.returncode}\n{cp.stdout[-3000:]}{cp.stderr[-3000:]}"
    return cp


def configured_dirs() -> dict:
    """configure's installation directories, expanded, read from the build's Makefile."""
    rules = "print-dirs:\n" + "".join(f"\t@echo '{d}=$({d})'\n" for d in DIRS)
    cp = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(builddir()), "-f", "Makefile",
                         "-f", "-", "print-dirs"], input=rules, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, f"cannot read the directories from {builddir()}/Makefile: {cp.stderr}"
    dirs = dict(line.split("=", 1) for line in cp.stdout.splitlines() if "=" in line)
    assert set(dirs) == set(DIRS) and all(v.startswith("/") for v in dirs.values()), dirs
    return dirs


def unit_settings(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


@pytest.fixture
def destdir(tmp_path):
    d = tmp_path / "dest"
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.timeout_s(300)
def test_make_install_puts_every_file_in_place(destdir):
    dirs = configured_dirs()
    make("install", f"DESTDIR={destdir}")

    def inst(d, *rest):
        return destdir.joinpath(dirs[d].lstrip("/"), *rest)

    expect = [inst("sbindir", "hgwd"), inst("bindir", "hgwsh"),
              inst("mandir", "man8", "hgwd.8"), inst("mandir", "man8", "hgwsh.8"),
              inst("mandir", "man5", "hgwd.conf.5"),
              inst("sysconfdir", "hgw", "hgwd.conf.example"),
              inst("sysconfdir", "iproute2", "rt_protos.d", "hgw.conf"),
              inst("systemdsystemunitdir", "hgwd.service"),
              inst("tmpfilesdir", "hgwd.conf"),
              inst("docdir", "LICENSE"), inst("docdir", "NEWS"), inst("docdir", "json-schema.md"),
              inst("pkgdatadir", "schema", "show-peers.json")]
    missing = [str(p) for p in expect if not p.is_file()]
    assert not missing, f"not installed: {missing}\ninstalled: " + \
        "\n".join(sorted(str(p) for p in destdir.rglob("*") if p.is_file()))
    for p in (inst("sbindir", "hgwd"), inst("bindir", "hgwsh")):
        assert os.access(p, os.X_OK), f"{p} is not executable"
    assert not inst("sysconfdir", "hgw", "hgwd.conf").exists(), "make install must not install hgwd.conf"

    # The installed example is a configuration hgwd accepts.
    cp = run([inst("sbindir", "hgwd"), "-n", "-f", inst("sysconfdir", "hgw", "hgwd.conf.example")],
             check=False)
    assert cp.returncode == 0, f"hgwd -n rejects the installed example: {cp.stderr}"

    # The unit and the tmpfiles entry carry configure's paths.
    unit = inst("systemdsystemunitdir", "hgwd.service").read_text()
    assert "@" not in unit.replace("@system-service", ""), f"unsubstituted @...@ in the unit:\n{unit}"
    u = unit_settings(unit)
    assert u["ExecStart"] == [f"{dirs['sbindir']}/hgwd -f {dirs['sysconfdir']}/hgw/hgwd.conf"], u["ExecStart"]
    assert u["Type"] == ["notify"] and u["Restart"] == ["on-failure"], (u["Type"], u["Restart"])
    assert u["ExecReload"] == ["/bin/kill -HUP $MAINPID"], u["ExecReload"]
    assert u["CapabilityBoundingSet"] == ["CAP_NET_ADMIN"], u["CapabilityBoundingSet"]
    assert u["ProtectSystem"] == ["strict"], u["ProtectSystem"]
    rw = " ".join(u["ReadWritePaths"]).split()
    for p in (f"{dirs['localstatedir']}/lib/hgw", "/run/hgw", "/run/flannel"):
        assert p in rw, f"{p} not in ReadWritePaths={rw}"
    tmpfiles = [line.split() for line in inst("tmpfilesdir", "hgwd.conf").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    made = {f[1] for f in tmpfiles if f[0] == "d"}
    assert {f"{dirs['localstatedir']}/lib/hgw", "/run/hgw", "/run/flannel"} <= made, tmpfiles

    # rt_protos.d: ip route names protocol 77 "hgw" (a scratch network and mount namespace).
    protos = inst("sysconfdir", "iproute2", "rt_protos.d", "hgw.conf")
    assert [line.split() for line in protos.read_text().splitlines()
            if line.strip() and not line.startswith("#")] == [["77", "hgw"]]
    ns = f"hgw-inst-{uuid.uuid4().hex[:8]}"
    run(["ip", "netns", "add", ns])
    try:
        script = (f"mount --bind {protos.parent} /etc/iproute2/rt_protos.d && "
                  f"ip -n {ns} link set lo up && ip -n {ns} route add 10.99.0.0/24 dev lo proto 77 && "
                  f"ip -n {ns} route show 10.99.0.0/24")
        cp = run(["unshare", "--mount", "--propagation", "private", "sh", "-ec", script], check=False)
        assert cp.returncode == 0 and "proto hgw" in cp.stdout, \
            f"ip route does not say proto hgw with the installed rt_protos.d: rc {cp.returncode}\n{cp.stdout}{cp.stderr}"
    finally:
        run(["ip", "netns", "del", ns], check=False)

    # systemd-analyze verify, on the unit with only ExecStart's program inside DESTDIR.
    vdir = destdir.parent / "verify"
    vdir.mkdir()
    program = f"{dirs['sbindir']}/hgwd"
    copy = unit.replace(f"ExecStart={program} ", f"ExecStart={destdir}{program} ")
    changed = [(a, b) for a, b in zip(unit.splitlines(), copy.splitlines()) if a != b]
    assert len(changed) == 1 and changed[0][0].startswith("ExecStart="), changed
    (vdir / "hgwd.service").write_text(copy)
    env = dict(os.environ, MANPATH=str(inst("mandir")), SYSTEMD_LOG_COLOR="0")
    cp = subprocess.run(["systemd-analyze", "verify", str(vdir / "hgwd.service")], capture_output=True,
                        text=True, timeout=60, env=env)
    assert cp.returncode == 0 and not cp.stderr.strip() and not cp.stdout.strip(), \
        f"systemd-analyze verify: rc {cp.returncode}\n{cp.stdout}{cp.stderr}"

    # make uninstall takes back every file it installed.
    make("uninstall", f"DESTDIR={destdir}")
    left = sorted(str(p) for p in destdir.rglob("*") if p.is_file() or p.is_symlink())
    assert not left, f"left after make uninstall: {left}"
