"""Deliberately failing/hanging lab tests, run only as a nested pytest by test_lab_selftest.py.

The file name does not match test_*.py, so a normal run of tests/lab never
collects it; test_lab_selftest.py runs it explicitly with
HGW_SELFTEST_NESTED=1 to prove that a failing or interrupted test still
removes its namespaces and processes and that a failure report carries the
daemon logs.
"""

import os
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.no_daemon,
              pytest.mark.skipif(os.environ.get("HGW_SELFTEST_NESTED") != "1",
                                 reason="only run nested by test_lab_selftest.py")]

FAKE_DAEMON = "echo fake-daemon-says-hello-$$; exec sleep 1000"


def _setup(make_lab):
    lab = make_lab(2)
    h0 = lab.hosts[0]
    proc = lab.spawn(h0.ns, ["sh", "-c", FAKE_DAEMON], name="fake-hgwd")
    # Make the fake process's log part of the failure report like a daemon log.
    h0.log_path = proc.log_path
    marker = Path(os.environ["HGW_SELFTEST_MARKER"])
    marker.write_text(f"{lab.prefix} {proc.pid}\n")
    return lab, proc


def test_deliberate_failure(make_lab):
    """Builds a lab, starts a fake daemon, then fails."""
    lab, proc = _setup(make_lab)
    from hgwlab import wait_until
    wait_until(lambda: "fake-daemon-says-hello" in proc.log_path.read_text(), 5, msg="fake log")
    assert False, "deliberate failure"


def test_hang_until_killed(make_lab):
    """Builds a lab, starts a fake daemon, then waits to be interrupted."""
    _setup(make_lab)
    time.sleep(60)
