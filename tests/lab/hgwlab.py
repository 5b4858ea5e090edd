"""hgwlab: network-namespace lab for testing hgwd (a LAN of hosts with containers), modelled on FRR topotests.

This module only gathers the lab's names, so tests write ``from hgwlab import
...`` or ``import hgwlab``; the code lives in one module per concern:

  labproc    running commands, namespaces (naming, deleting, sweeping the ones
             a dead run left), processes in their own process group, the
             kernel route attributes (PROTO, METRIC, TABLE, PORT); shared with
             tests/bench/bench.py
  labtopo    the topology: ``Lab(n)`` (a LAN of hosts, each with a container,
             every piece in a namespace this process created) and ``Host``
  labdaemon  the hgwd driver: binaries, configs, start/stop, hgwsh, the
             control-socket client ``ctl_request`` (shared with tests/bench)
  labexpect  ``wait_until`` and relatives, ``Route``, route/session/ping checks
  lablease   lease, member and subnet.env helpers
  hgwwire    the wire protocol: frames, encoders, ScriptedPeer, Flood

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

from pathlib import Path  # noqa: F401 - part of what hgwlab always exported

from labdaemon import (DEFAULT_TIMERS, SANITIZER_PATTERNS, CtlError, HgwshError,  # noqa: F401
                       builddir, ctl_json, ctl_request, hgwd_args, hgwd_path, hgwsh_path,
                       missing_binaries)
from labexpect import (Route, WaitTimeout, _to_route, node_id_key, route, stays_true,  # noqa: F401
                       time_until, times_until_each, wait_until)
from labproc import (_NS_RE, _PROCS, HERE, METRIC, NS_PREFIX, PORT, PROTO, SRCDIR, TABLE,  # noqa: F401
                     CmdError, Proc, Registry, delete_namespaces, ip_batch, list_namespaces,
                     netns_exec, ns_prefix, ns_re, run, signal_group, stop_proc, stuck_where,
                     sweep_stale_namespaces, tail)
from labtopo import _LAB_LOCK, _LABS, Host, Lab, cleanup_all  # noqa: F401

# The wire protocol helpers (frames, encoders, ScriptedPeer, Flood) live in hgwwire.py.
from hgwwire import *  # noqa: E402,F401,F403
from hgwwire import close_scripted_peers  # noqa: E402,F401
