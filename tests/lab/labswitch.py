"""labswitch: a lossy, slow userspace Ethernet switch for the lab (this kernel has no sch_netem).

Run inside the LAN namespace on the hosts' switch ports (vhI), once the lab
took them off br0 (``Lab.unbridge()``)::

    python3 labswitch.py --loss 0.2 --delay 0.2 vh0 vh1 vh2

An AF_PACKET socket per port (every protocol, with PACKET_VNET_HDR so that
the checksum and segmentation offload state of each frame crosses the
switch as it is: a frame a host sends with its checksum left to the
hardware is passed on the same way); source MACs are learned per port;
broadcast, multicast and unknown unicast are flooded to every other port.
Each copy of a frame, on its way to one port (so per direction), is
dropped with probability ``--loss`` and otherwise delivered ``--delay``
seconds after it arrived, in arrival order. SIGTERM or SIGINT: the
sockets are closed, the counters printed, exit 0. "ready" is printed once
every port is open.

``UserspaceSwitch(lab, loss, delay)`` runs it for a test: started in the
LAN namespace by ``start()`` (waits for "ready", then takes the ports off
br0), stopped by ``stop()`` (puts them back)
(checks the clean exit), also a context manager; ``Lab.cleanup()`` kills it
at the latest.
"""

from __future__ import annotations

import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time
from pathlib import Path

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
VNET_HDR_LEN = 10      # struct virtio_net_hdr
MAX_FRAME = 65536 + VNET_HDR_LEN


class _Stop(Exception):
    pass


def _stop(signum, frame):
    raise _Stop()


def run(ports: list[str], loss: float, delay: float, seed=None) -> int:
    rng = random.Random(seed)
    socks = {}
    for name in ports:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            s.bind((name, ETH_P_ALL))
        except OSError as e:
            print(f"labswitch: cannot open port {name}: {e.strerror}", file=sys.stderr)
            for _, o in socks.values():
                o.close()
            s.close()
            return 1
        s.setblocking(False)
        socks[s.fileno()] = (name, s)
    by_name = {name: s for name, s in socks.values()}
    macs: dict[bytes, str] = {}
    queue: list = []      # (due, seq, port name, vnet header + frame)
    seq = 0
    n = {"in": 0, "dropped": 0, "out": 0, "send_errors": 0}
    print(f"ready: ports {' '.join(ports)} loss {loss} delay {delay}", flush=True)
    try:
        while True:
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, out, data = heapq.heappop(queue)
                try:
                    by_name[out].send(data)
                    n["out"] += 1
                except OSError:       # the port is down (a link flap): the frame is lost
                    n["send_errors"] += 1
            timeout = max(0.0, queue[0][0] - now) if queue else 0.5
            ready, _, _ = select.select(list(socks), [], [], timeout)
            now = time.monotonic()
            for fd in ready:
                name, s = socks[fd]
                while True:
                    try:
                        data, addr = s.recvfrom(MAX_FRAME)
                    except BlockingIOError:
                        break
                    except OSError:
                        break
                    if addr[2] == PACKET_OUTGOING or len(data) < VNET_HDR_LEN + 14:
                        continue
                    n["in"] += 1
                    eth = data[VNET_HDR_LEN:]
                    dst, src = eth[0:6], eth[6:12]
                    if not src[0] & 1:
                        macs[src] = name
                    known = macs.get(dst) if not dst[0] & 1 else None
                    outs = [known] if known is not None else [p for p in by_name if p != name]
                    for out in outs:
                        if out == name:
                            continue
                        if rng.random() < loss:
                            n["dropped"] += 1
                            continue
                        seq += 1
                        heapq.heappush(queue, (now + delay, seq, out, data))
    except _Stop:
        pass
    finally:
        for _, s in socks.values():
            s.close()
    print(f"stopped: {n['in']} frames in, {n['out']} out, {n['dropped']} dropped, "
          f"{n['send_errors']} lost to a port that was down, {len(queue)} still queued", flush=True)
    return 0


class UserspaceSwitch:
    """The switch between a lab's hosts for one test (see the module docstring)."""

    def __init__(self, lab, loss: float, delay: float):
        self.lab, self.loss, self.delay = lab, loss, delay
        self.proc = None

    def start(self) -> "UserspaceSwitch":
        from hgwlab import wait_until
        ports = [f"vh{h.index}" for h in self.lab.hosts]
        self.proc = self.lab.spawn(self.lab.lan_ns, [sys.executable, "-u", str(Path(__file__).resolve()),
                                                     "--loss", str(self.loss), "--delay", str(self.delay),
                                                     *ports], name="labswitch")
        wait_until(lambda: self.proc.running and "ready:" in self.proc.log_path.read_text(errors="replace"),
                   10, interval=0.05, msg="the userspace switch to open its ports")
        # off the bridge once the switch is there: no gap (until then both
        # deliver, and the switch's late copies are duplicates TCP ignores)
        self.lab.unbridge()
        return self

    def stop(self, check=True) -> str:
        """Stop it (SIGTERM), put the ports back on br0; its final counters
        line. ``check``: its clean exit (0, counters printed) is asserted."""
        from labproc import stop_proc
        self.proc.expected_exit = True
        stop_proc(self.proc.popen, timeout=5)
        self.lab.heal()
        rc = self.proc.returncode
        text = self.proc.log_path.read_text(errors="replace")
        stopped = [l for l in text.splitlines() if l.startswith("stopped:")]
        if check:
            assert rc == 0 and stopped, f"the userspace switch exited {rc}:\n{text}"
        return stopped[-1] if stopped else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if self.proc is not None and self.proc.running:
            # an exception on its way out is the one to report
            self.stop(check=exc_type is None)
        return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", type=float, default=0.0, help="probability of dropping each copy of a frame")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds each frame is held")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("ports", nargs="+")
    a = ap.parse_args(argv)
    if not 0.0 <= a.loss <= 1.0 or a.delay < 0:
        ap.error("--loss must be within [0, 1] and --delay not negative")
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return run(a.ports, a.loss, a.delay, a.seed)


if __name__ == "__main__":
    sys.exit(main())
