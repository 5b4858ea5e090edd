"""conftest for the hgw namespace lab: root/binary checks, the make_lab fixture, logs on failure, timeouts.

* Not root: the run stops at once with a usage error (it does not skip).
* hgwd/hgwsh missing: the run stops with a clear message, unless every
  selected test is marked ``no_daemon`` (the lab self-test), so the lab itself
  can be checked before the daemon exists.
* ``make_lab(n, ipv6=False, lan_ipv4=True)`` builds a Lab in the test's tmp_path
  and tears it down afterwards whatever happens; daemons that crashed, did not
  exit 0 on SIGTERM at teardown, or printed sanitizer reports make the test
  error at teardown.
* A failing test gets each host's state (routes, peers) and daemon log
  appended to its report.
* ``open_workdir``: a lab working directory every user may traverse (mode
  0711, under /tmp), for tests that run hgwsh as a non-root user: pytest's
  own tmp_path lies under a 0700 directory, so such a user could not reach
  the control socket there. The labs in it are cleaned up, then it is
  removed (kept, and its path printed, when a daemon problem was found).
* Each test runs under a SIGALRM deadline ($HGW_LAB_TEST_TIMEOUT, default 120 s,
  or ``@pytest.mark.timeout_s(N)``); SIGTERM/SIGHUP to the runner become
  KeyboardInterrupt so fixtures and the atexit hook still clean up.
"""

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

import hgwlab


def pytest_configure(config):
    config.addinivalue_line("markers", "no_daemon: test needs no hgwd/hgwsh binaries (lab self-test)")
    config.addinivalue_line("markers", "timeout_s(seconds): per-test deadline for the lab suite")
    config.addinivalue_line("markers", "soak: a long soak, run by `make soak`, not by make check")
    if os.geteuid() != 0:
        raise pytest.UsageError(
            "the hgw lab tests must run as root (they create network namespaces); "
            "run e.g. sudo /usr/bin/python3 -m pytest tests/lab")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def pytest_sessionstart(session):
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    stale = hgwlab.sweep_stale_namespaces()
    if stale:
        print(f"hgwlab: removed {len(stale)} stale lab namespaces of dead runs")


def pytest_collection_modifyitems(session, config, items):
    # The lab self-test first: with -x a broken lab stops the run before any daemon test.
    items.sort(key=lambda it: it.get_closest_marker("no_daemon") is None)
    needs = [it for it in items if it.get_closest_marker("no_daemon") is None]
    problems = hgwlab.missing_binaries()
    if needs and problems:
        pytest.exit(
            "hgw lab: cannot run the daemon tests: " + "; ".join(problems) +
            f" (HGW_BUILDDIR={hgwlab.builddir()}; set HGW_BUILDDIR to the build directory, "
            "or HGWD/HGWSH to the binaries; build first with make)", returncode=1)


@pytest.fixture
def make_lab(request, tmp_path):
    """Factory fixture: ``make_lab(n, **kw)`` returns a hgwlab.Lab torn down after the test."""
    labs = []
    request.node._hgw_labs = labs

    def factory(n, **kw):
        kw.setdefault("workdir", tmp_path / f"lab{len(labs)}")
        lab = hgwlab.Lab(n, **kw)
        labs.append(lab)
        return lab

    try:
        yield factory
    finally:
        problems = []
        for lab in labs:
            problems += lab.cleanup()
        failed = any(getattr(request.node, f"rep_{w}", None) is not None and
                     getattr(request.node, f"rep_{w}").failed for w in ("setup", "call"))
        if problems:
            msg = "daemon problems found at teardown:\n  " + "\n  ".join(problems)
            if failed:
                print(msg)  # the test already failed: only report
            else:
                logs = "\n".join(f"----- {t} -----\n{x}" for lab in labs
                                 for t, x in lab.failure_report() if t.startswith("hgwd"))
                pytest.fail(msg + "\n" + logs, pytrace=False)


@pytest.fixture
def open_workdir(request, make_lab):
    """A directory for ``make_lab(n, workdir=open_workdir / "lab")`` that non-root users can traverse.

    Depends on make_lab, so it is torn down first: it cleans up the labs that
    live in it (make_lab's teardown then only reports their problems) and
    removes it.
    """
    d = Path(tempfile.mkdtemp(prefix="hgwlab-open-", dir="/tmp"))
    d.chmod(0o711)
    try:
        yield d
    finally:
        problems = []
        for lab in getattr(request.node, "_hgw_labs", []):
            if d in Path(lab.workdir).parents or Path(lab.workdir) == d:
                problems += lab.cleanup()
        if problems:
            print(f"open_workdir: keeping {d} for the daemon logs")
        else:
            shutil.rmtree(d, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
    if rep.failed and rep.when in ("setup", "call"):
        for lab in getattr(item, "_hgw_labs", []):
            try:
                for title, text in lab.failure_report():
                    rep.sections.append((title, text))
            except Exception as e:  # noqa: BLE001 - diagnostics must not hide the failure
                rep.sections.append(("lab report", f"could not collect lab state: {e}"))


class LabTestTimeout(Exception):
    """A lab test exceeded its deadline."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout_s")
    limit = float(m.args[0]) if m else float(os.environ.get("HGW_LAB_TEST_TIMEOUT", "120"))

    def on_alarm(signum, frame):
        raise LabTestTimeout(f"test exceeded its {limit:g} s deadline")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
