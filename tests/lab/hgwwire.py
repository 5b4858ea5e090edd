"""hgwwire.py: the hgw wire protocol for lab tests: frames, message encoders, a scripted
peer (a connection from a lab namespace driven by the test) and connection floods.

Imported by hgwlab (which re-exports every name), so tests keep importing from hgwlab.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import sys
import threading
import time

from labproc import PORT, netns_exec

# --------------------------------------------------------------------------
# wire format helpers (proto/PROTOCOL.md)
# --------------------------------------------------------------------------

FRAME_TYPES = {1: "HELLO", 2: "KEEPALIVE", 3: "UPDATE", 4: "END-OF-RIB", 5: "NOTIFY"}


def frame(ftype: int, body: bytes = b"", version=1, reserved=0, length=None) -> bytes:
    """Encode one frame: version(1) type(1) reserved(2) length(4, whole frame) body."""
    if length is None:
        length = 8 + len(body)
    return bytes([version, ftype]) + reserved.to_bytes(2, "big") + length.to_bytes(4, "big") + body


def parse_frames(data: bytes) -> tuple[list[dict], bytes]:
    """Split a byte stream into frames; return (frames, trailing incomplete bytes).

    Each frame: {"version", "type", "name", "reserved", "length", "body"}; a
    NOTIFY also gets "code", "subcode", "text".
    """
    frames = []
    while len(data) >= 8:
        length = int.from_bytes(data[4:8], "big")
        if length < 8 or len(data) < length:
            break
        f = {"version": data[0], "type": data[1], "name": FRAME_TYPES.get(data[1], "?"),
             "reserved": int.from_bytes(data[2:4], "big"), "length": length, "body": data[8:length]}
        if f["type"] == 5 and len(f["body"]) >= 3:
            b = f["body"]
            f["code"], f["subcode"], tl = b[0], b[1], b[2]
            f["text"] = b[3:3 + tl].decode(errors="replace")
            f["text_len_ok"] = len(b) == 3 + tl
        frames.append(f)
        data = data[length:]
    return frames, data


# Runs inside a namespace: connect, send hex payload, read until EOF/timeout, print JSON.
_RAW_CLIENT = r"""
import json, socket, sys, time
host, port, payload, timeout = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]), float(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(timeout)
s.connect((host, port))
s.sendall(payload)
data, eof, err = b"", False, None
deadline = time.monotonic() + timeout
try:
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            eof = True
            break
        data += chunk
except socket.timeout:
    err = "timeout"
except OSError as e:
    err = str(e)
    eof = True
print(json.dumps({"data": data.hex(), "eof": eof, "error": err}))
"""


def raw_exchange(ns: str, host: str, payload: bytes, port=PORT, timeout=3.0) -> dict:
    """From namespace ``ns``, TCP-connect to host:port, send ``payload``, read until EOF or ``timeout``.

    Returns {"data": bytes, "eof": bool (peer closed), "error": str|None,
    "frames": parse_frames(data)[0], "rest": trailing bytes}.
    """
    cp = netns_exec(ns, [sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3",
                         "-c", _RAW_CLIENT, host, str(port), payload.hex(), str(timeout)],
                    timeout=timeout + 10)
    res = json.loads(cp.stdout)
    res["data"] = bytes.fromhex(res["data"])
    res["frames"], res["rest"] = parse_frames(res["data"])
    return res


# --------------------------------------------------------------------------
# message encoders for a scripted peer (proto/PROTOCOL.md)
# --------------------------------------------------------------------------

MSG_HELLO, MSG_KEEPALIVE, MSG_UPDATE, MSG_EOR, MSG_NOTIFY = 1, 2, 3, 4, 5
CAP_IPV4, CAP_IPV6 = 0x1, 0x2
UPD_ANNOUNCE, UPD_WITHDRAW = 1, 2


def node_id_bytes(node_id) -> bytes:
    """A node id (dotted quad or int) as its 4 wire bytes."""
    if isinstance(node_id, int):
        return node_id.to_bytes(4, "big")
    return ipaddress.IPv4Address(node_id).packed


def addr_bytes(addr) -> bytes:
    """An address as written in HELLO: family byte (4 or 6), then the address."""
    a = ipaddress.ip_address(addr)
    return bytes([a.version]) + a.packed


def hello_body(node_id, hold_ms=3000, keepalive_ms=1000, caps=CAP_IPV4, listen_port=PORT,
               addrs=(), hostname="") -> bytes:
    """HELLO body: node id, hold, keepalive, caps (u32 each), listen port (u16), address count,
    hostname length (u8 each), the addresses (family byte + bytes), the hostname."""
    host = hostname.encode()
    return (node_id_bytes(node_id) + hold_ms.to_bytes(4, "big") + keepalive_ms.to_bytes(4, "big")
            + caps.to_bytes(4, "big") + listen_port.to_bytes(2, "big")
            + bytes([len(addrs), len(host)]) + b"".join(addr_bytes(a) for a in addrs) + host)


def hello(node_id, **kw) -> bytes:
    """A whole HELLO frame (keywords as for hello_body)."""
    return frame(MSG_HELLO, hello_body(node_id, **kw))


def parse_hello(body: bytes) -> dict:
    """Decode a HELLO body (ValueError if it does not follow PROTOCOL.md)."""
    if len(body) < 20:
        raise ValueError(f"HELLO body of {len(body)} bytes")
    d = {"node_id": str(ipaddress.IPv4Address(body[0:4])),
         "hold_ms": int.from_bytes(body[4:8], "big"),
         "keepalive_ms": int.from_bytes(body[8:12], "big"),
         "caps": int.from_bytes(body[12:16], "big"),
         "listen_port": int.from_bytes(body[16:18], "big"), "addrs": []}
    naddrs, hlen, off = body[18], body[19], 20
    for _ in range(naddrs):
        fam = body[off]
        n = {4: 4, 6: 16}.get(fam)
        if n is None or off + 1 + n > len(body):
            raise ValueError(f"bad address family {fam} in HELLO")
        d["addrs"].append(str(ipaddress.ip_address(body[off + 1:off + 1 + n])))
        off += 1 + n
    if off + hlen > len(body):
        raise ValueError("HELLO body ends inside the hostname")
    d["hostname"] = body[off:off + hlen].decode(errors="replace")
    off += hlen
    # Extensions (type, length, value): 1 graceful restart (restart time, flags).
    ext = {}
    while off < len(body):
        if off + 2 > len(body) or off + 2 + body[off + 1] > len(body):
            raise ValueError("HELLO body ends inside an extension")
        t, n = body[off], body[off + 1]
        ext[t] = body[off + 2:off + 2 + n]
        off += 2 + n
    if ext:
        d["ext"] = ext
    gr = ext.get(1)
    if gr is not None:
        if len(gr) != 3:
            raise ValueError("graceful restart extension of another length than 3")
        d["gr_restart_s"], d["gr_flags"] = int.from_bytes(gr[0:2], "big"), gr[2]
    mu = ext.get(3)     # 3: the sender's member sessions (with capability bit 2)
    if mu is not None:
        if len(mu) != 2:
            raise ValueError("members extension of another length than 2")
        d["members_up"] = int.from_bytes(mu, "big")
    return d


def members_entries(body: bytes) -> list[dict]:
    """A MEMBERS body: [{"op": 1 up / 2 down, "port", "node_id", "addr"}, ...]."""
    out, off = [], 0
    while off + 8 <= len(body):
        op, fam = body[off], body[off + 1]
        n = 4 if fam == 4 else 16
        out.append({"op": op, "port": int.from_bytes(body[off + 2:off + 4], "big"),
                    "node_id": int.from_bytes(body[off + 4:off + 8], "big"),
                    "addr": str(ipaddress.ip_address(body[off + 8:off + 8 + n]))})
        off += 8 + n
    return out


def prefix_bytes(prefix, plen=None) -> bytes:
    """One UPDATE prefix: length byte, then ceil(length/8) address bytes.

    ``prefix`` keeps its host bits ("192.168.60.1/24" is sent as written);
    ``plen`` overrides the length (e.g. 33, beyond the family, for malformed tests).
    """
    iface = ipaddress.ip_interface(prefix)
    n = iface.network.prefixlen if plen is None else plen
    raw = iface.ip.packed + bytes(32)
    return bytes([n]) + raw[:(n + 7) // 8]


def update_section(kind, origin, prefixes, gateway=None, family=None, count=None) -> bytes:
    """One UPDATE section: kind, family, count, origin, gateway (announce only), prefixes.

    ``prefixes`` are strings (see prefix_bytes) or already encoded bytes;
    ``family`` defaults to the first prefix's, ``count`` to their number
    (both can be forced to wrong values for malformed tests).
    """
    prefixes = list(prefixes)
    if family is None:
        first = prefixes[0] if prefixes else None
        if isinstance(first, str):
            family = ipaddress.ip_interface(first).version
        elif gateway is not None:
            family = ipaddress.ip_address(gateway).version
        else:
            raise ValueError("update_section: give family= for encoded or no prefixes")
    if count is None:
        count = len(prefixes)
    out = bytes([kind, family]) + count.to_bytes(2, "big") + node_id_bytes(origin)
    if kind == UPD_ANNOUNCE and gateway is not None:
        out += ipaddress.ip_address(gateway).packed
    return out + b"".join(p if isinstance(p, bytes) else prefix_bytes(p) for p in prefixes)


def announce(origin, gateway, prefixes) -> bytes:
    """An UPDATE frame announcing ``prefixes`` (one family) from ``origin`` via ``gateway``."""
    return frame(MSG_UPDATE, update_section(UPD_ANNOUNCE, origin, prefixes, gateway))


def withdraw(origin, prefixes) -> bytes:
    """An UPDATE frame withdrawing ``prefixes`` (one family) of ``origin``."""
    return frame(MSG_UPDATE, update_section(UPD_WITHDRAW, origin, prefixes))


def keepalive() -> bytes:
    """A KEEPALIVE frame."""
    return frame(MSG_KEEPALIVE)


def end_of_rib() -> bytes:
    """An END-OF-RIB frame."""
    return frame(MSG_EOR)


def notify(code: int, subcode: int = 0, text: str = "") -> bytes:
    """A NOTIFY frame."""
    t = text.encode()[:255]
    return frame(MSG_NOTIFY, bytes([code, subcode, len(t)]) + t)


# --------------------------------------------------------------------------
# a scripted peer: a connection from a lab namespace, driven by the test
# --------------------------------------------------------------------------

_CLONE_NEWNET = 0x40000000
_libc = None


def in_netns(ns: str, fn):
    """Run ``fn()`` in a short-lived thread that entered network namespace ``ns`` (setns); return its
    result. Sockets made there stay in ``ns``; the test process never leaves the root namespace."""
    import ctypes
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    out = {}

    def body():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, f"setns({ns}): {os.strerror(e)}")
            finally:
                os.close(fd)
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            out["error"] = e
    t = threading.Thread(target=body, name=f"setns-{ns}")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def ns_socket(ns: str, family=None, kind=None):
    """A socket created inside network namespace ``ns`` (it stays there), for use in this process."""
    import socket
    family = socket.AF_INET if family is None else family
    kind = socket.SOCK_STREAM if kind is None else kind
    return in_netns(ns, lambda: socket.socket(family, kind))


_SCRIPTED: set = set()


class ScriptedPeer:
    """A hand-driven hgw peer: one TCP connection from inside namespace ``ns`` to ``host:port``.

    One background thread owns the socket: it sends what ``send()`` queues,
    sends a KEEPALIVE every ``keepalive_s`` seconds once set, and reads
    everything that comes back into ``data``/``frames``. ``eof`` becomes true
    when the daemon closes (``close_error`` says "reset" when it was a RST).
    ``source`` binds a local address first; ``ssl_context`` wraps the
    connection in TLS (client side) before anything is sent. Use as a context
    manager, or ``close()``; ``Lab.connect()`` also closes it at cleanup.
    """

    def __init__(self, ns: str, host: str, port=PORT, source=None, timeout=3.0, ssl_context=None):
        import socket
        self._setup(ns, host, port)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = ns_socket(ns, fam)
        _SCRIPTED.add(self)
        try:
            if source:
                sock.bind((source, 0))
            sock.settimeout(timeout)
            sock.connect((host, port))
            self.connected_at = time.monotonic()
            self.local = sock.getsockname()[0]
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=None)
            sock.settimeout(5.0)  # sends; reads only happen when select() says so
        except BaseException:
            sock.close()
            _SCRIPTED.discard(self)
            raise
        self._start(sock)

    def _setup(self, ns, host, port):
        import queue
        self.ns, self.host, self.port = ns, host, port
        self.data = b""               # every byte received
        self.frames: list[dict] = []  # the complete frames among them (parse_frames(), HELLOs "hello")
        self._partial = b""
        self.eof = False
        self.close_error = None
        self.connected_at = None
        self.closed_at = None
        self.keepalive_s = None
        self._queue = queue.Queue()
        self._cond = threading.Condition()
        self._stop = False
        self._sent_at = time.monotonic()

    def _start(self, sock):
        """Hand ``sock`` (connected) to the background thread."""
        self.sock = sock
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"peer-{self.ns}-{self.host}", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<ScriptedPeer {self.local}->{self.host}:{self.port} eof={self.eof}>"

    def _send_queued(self):
        import queue
        import socket
        while True:
            try:
                data, done = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                if data is None:
                    self.sock.shutdown(socket.SHUT_WR)
                else:
                    self.sock.sendall(data)
                self._sent_at = time.monotonic()
            except OSError as e:
                done.error = e
            done.set()

    def _receive(self):
        import ssl
        err = None
        try:
            self.sock.settimeout(0)
            chunk = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except ssl.SSLError as e:
            chunk, err = b"", f"TLS: {e}"
        except OSError as e:
            chunk, err = b"", ("reset" if isinstance(e, ConnectionResetError) else str(e))
        finally:
            try:
                self.sock.settimeout(5.0)
            except OSError:
                pass
        with self._cond:
            if chunk:
                self.data += chunk
                new, self._partial = parse_frames(self._partial + chunk)
                for f in new:
                    if f["type"] == MSG_HELLO:
                        try:
                            f["hello"] = parse_hello(f["body"])
                        except ValueError:
                            f["hello"] = None
                self.frames.extend(new)
            else:
                self.eof = True
                self.close_error = err
                self.closed_at = time.monotonic()
            self._cond.notify_all()

    def _run(self):
        import select
        while not self._stop:
            self._send_queued()
            timeout = 0.5
            if self.keepalive_s and not self.eof:
                left = self.keepalive_s - (time.monotonic() - self._sent_at)
                if left <= 0:
                    try:
                        self.sock.sendall(keepalive())
                    except OSError:
                        pass
                    self._sent_at = time.monotonic()
                    left = self.keepalive_s
                timeout = min(timeout, left)
            fds = [self._wake_r] + ([] if self.eof else [self.sock])
            pending = not self.eof and getattr(self.sock, "pending", lambda: 0)() > 0
            try:
                readable = [self.sock] if pending else select.select(fds, [], [], timeout)[0]
            except (OSError, ValueError):
                return
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if self.sock in readable and not self._stop:
                self._receive()

    def _wake(self):
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    # ---- sending --------------------------------------------------------
    def send(self, data: bytes, timeout=3.0) -> None:
        """Send raw bytes (queued to the socket's thread; returns once written)."""
        done = threading.Event()
        done.error = None
        self._queue.put((data, done))
        self._wake()
        if not done.wait(timeout):
            raise AssertionError(f"{self}: could not send {len(data)} bytes within {timeout}s")
        if done.error is not None:
            raise done.error

    def shutdown_write(self) -> None:
        """Half-close: the daemon reads EOF after what was sent."""
        self.send(None)

    # ---- receiving -----------------------------------------------------
    def wait_frame(self, pred=None, timeout=3.0, msg=None) -> dict:
        """Wait for a received frame matching ``pred`` (default: any); return it."""
        pred = pred or (lambda f: True)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for f in self.frames:
                    if pred(f):
                        return f
                left = deadline - time.monotonic()
                if left <= 0 or (self.eof and not any(pred(f) for f in self.frames)):
                    names = [(f["name"], f.get("code"), f.get("subcode")) for f in self.frames]
                    raise AssertionError(
                        f"{self}: no {msg or 'matching frame'} within {timeout:g}s "
                        f"(eof={self.eof}, error={self.close_error}, got {names}, "
                        f"trailing {len(self._partial)} bytes)")
                self._cond.wait(min(left, 0.1))

    def wait_notify(self, timeout=3.0) -> dict:
        """Wait for a NOTIFY; return it (its "code", "subcode", "text")."""
        return self.wait_frame(lambda f: f["type"] == MSG_NOTIFY, timeout, msg="NOTIFY")

    def wait_closed(self, timeout=3.0) -> float:
        """Wait until the daemon closed the connection; return seconds from connect to close."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self}: still open after {timeout:g}s "
                                         f"(got {[f['name'] for f in self.frames]})")
                self._cond.wait(min(left, 0.1))
        return self.closed_at - self.connected_at

    def answered(self, timeout=3.0) -> bool:
        """Wait until the daemon sent something or closed: True if it sent bytes (it accepted the
        connection and said HELLO), False if it closed without a byte (refused)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.data and not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self}: neither data nor close within {timeout:g}s")
                self._cond.wait(min(left, 0.1))
            return bool(self.data)

    def notifies(self) -> list[tuple[int, int]]:
        """(code, subcode) of every NOTIFY received so far."""
        with self._cond:
            return [(f["code"], f["subcode"]) for f in self.frames if f["type"] == MSG_NOTIFY]

    # ---- a session -----------------------------------------------------
    def handshake(self, node_id, addrs=None, hold_ms=3000, keepalive_ms=1000, caps=CAP_IPV4,
                  hostname="scripted", listen_port=PORT, timeout=3.0) -> dict:
        """Send our HELLO (addresses default to the connection's source address), wait for the
        daemon's HELLO, and keep the session up with KEEPALIVEs; return the daemon's HELLO (parsed)."""
        if addrs is None:
            addrs = [self.local]
        self.send(hello(node_id, hold_ms=hold_ms, keepalive_ms=keepalive_ms, caps=caps,
                        listen_port=listen_port, addrs=addrs, hostname=hostname))
        f = self.wait_frame(lambda f: f["type"] == MSG_HELLO, timeout, msg="HELLO")
        if f.get("hello") is None:
            raise AssertionError(f"{self}: malformed HELLO from the daemon: {f['body'].hex()}")
        his = f["hello"]
        hold = min(hold_ms, his["hold_ms"])
        self.keepalive_s = max(0.1, min(keepalive_ms, hold / 3) / 1000) / 2
        if self.notifies():
            raise AssertionError(f"{self}: NOTIFY {self.notifies()} right after HELLO")
        return his

    def close(self) -> None:
        """Stop the thread and close the socket (safe to call twice)."""
        if self._stop:
            return
        self._stop = True
        self._wake()
        if self._thread is not threading.current_thread():
            self._thread.join(2)
        try:
            self.sock.close()
        except OSError:
            pass
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        _SCRIPTED.discard(self)


def close_scripted_peers() -> None:
    """Close every ScriptedPeer still open (cleanup)."""
    for p in list(_SCRIPTED):
        p.close()


atexit.register(close_scripted_peers)


class PskPeer(ScriptedPeer):
    """A ScriptedPeer over TLS 1.3 with an external pre-shared key, as hgwd's secret-file mode
    speaks it (daemon/tls.c: identity "hgw-mesh", the key file's hex line decoded to its bytes,
    TLS_AES_128_GCM_SHA256), for which Python's ssl module has no API.

    The TLS end is ``openssl s_client -psk`` run in namespace ``ns`` (``ip netns exec``); its
    stdin and stdout are one end of a socketpair whose other end is the peer's socket, so
    send/wait_frame/handshake/wait_closed work as over TCP: the bytes written are the
    plaintext frames, s_client exits (EOF here) when the daemon closes or refuses the
    handshake. ``key_hex`` is the key file's line (``psk_hex(path)``). No half-close:
    s_client keeps the connection up when its stdin ends (-ign_eof).
    """

    IDENTITY = "hgw-mesh"

    def __init__(self, ns: str, host: str, key_hex: str, port=PORT):
        import socket
        import subprocess
        import tempfile
        self._setup(ns, host, port)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET

        def source():   # the address the kernel picks towards host (no packet sent)
            with socket.socket(fam, socket.SOCK_DGRAM) as u:
                u.connect((host, port))
                return u.getsockname()[0]
        self.local = in_netns(ns, source)
        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()
        target = f"[{host}]:{port}" if fam == socket.AF_INET6 else f"{host}:{port}"
        try:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, "openssl", "s_client", "-connect", target, "-tls1_3",
                 "-psk_identity", self.IDENTITY, "-psk", key_hex,
                 "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-quiet", "-ign_eof"],
                stdin=theirs, stdout=theirs, stderr=self._stderr)
        except BaseException:
            ours.close()
            self._stderr.close()
            raise
        finally:
            theirs.close()
        _SCRIPTED.add(self)
        self.connected_at = time.monotonic()
        ours.settimeout(5.0)
        self._start(ours)

    def __repr__(self):
        return f"<PskPeer {self.local}->{self.host}:{self.port} eof={self.eof}>"

    def stderr_text(self) -> str:
        """What s_client wrote to stderr so far (its TLS errors)."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        """Stop the thread, close the socket, end s_client (safe to call twice)."""
        import subprocess
        if self._stop:
            return
        super().close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        self._stderr.close()


def psk_hex(path) -> str:
    """The key as hgwd reads a secret-file (daemon/tls.c read_psk): its first line, hex digits."""
    with open(path) as f:
        return f.readline().strip()


class Flood:
    """Many TCP connections from namespace ``ns`` to ``host:port``, one per address of ``sources``
    (bound before connecting), without threads: for connection-limit tests.

    Connections start as fast as the daemon decides on them: at most
    ``max_undecided`` at a time are neither answered nor refused (so the
    listen backlog never overflows, which would delay SYNs by a second). Each
    connection sends ``payload`` once connected. ``wait()`` returns, per
    connection, "answered" (the daemon sent bytes), "refused" (it closed
    without sending a byte) or "failed" (no TCP connection); ``data[i]`` holds
    what connection i received. ``wait_closed()`` waits until the daemon closed
    every answered one. ``close()`` closes them all (also at context exit).
    """

    def __init__(self, ns: str, host: str, sources, port=PORT, payload=b"", max_undecided=64):
        import resource
        import selectors
        import socket
        sources = list(sources)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < len(sources) + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, len(sources) + 1024), hard))
        self.addr = (host, port)
        self.sources = sources
        self.payload = payload
        self.max_undecided = max_undecided
        self.sel = selectors.DefaultSelector()
        self.state = ["idle"] * len(sources)
        self.data = [b""] * len(sources)
        self.closed_at: list = [None] * len(sources)
        self._next = 0
        self._undecided = 0
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socks = ns_socket_batch(ns, fam, len(sources))
        self.started = time.monotonic()
        self._start_more()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _start_more(self):
        import selectors
        while self._next < len(self.socks) and self._undecided < self.max_undecided:
            i, s = self._next, self.socks[self._next]
            self._next += 1
            s.setblocking(False)
            s.bind((self.sources[i], 0))
            s.connect_ex(self.addr)
            self.state[i] = "connecting"
            self._undecided += 1
            self.sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, i)

    def _decide(self, i, state):
        if self.state[i] in ("connecting", "open"):
            self._undecided -= 1
        self.state[i] = state

    def _poll(self, timeout):
        import selectors
        import socket
        for key, ev in self.sel.select(timeout):
            i, s = key.data, key.fileobj
            if self.state[i] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self._decide(i, "failed")
                    self.sel.unregister(s)
                    continue
                if ev & selectors.EVENT_WRITE:
                    self.state[i] = "open"
                    if self.payload:
                        try:
                            s.send(self.payload)
                        except OSError:
                            pass
                    self.sel.modify(s, selectors.EVENT_READ, i)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    self.data[i] += chunk
                    if self.state[i] in ("open", "connecting"):
                        self._decide(i, "answered")
                else:
                    self.closed_at[i] = time.monotonic()
                    self._decide(i, "closed" if self.data[i] else "refused")
                    self.sel.unregister(s)
        self._start_more()

    def results(self) -> list[str]:
        """Per connection: "answered", "refused", "failed", or "idle"/"connecting"/"open" while undecided."""
        return ["answered" if st == "closed" else st for st in self.state]

    def wait(self, timeout=5.0) -> list[str]:
        """Wait until every connection is answered, refused or failed; return results()."""
        deadline = time.monotonic() + timeout
        while self._next < len(self.socks) or self._undecided:
            left = deadline - time.monotonic()
            if left <= 0:
                r = self.results()
                raise AssertionError(f"Flood: undecided after {timeout:g}s: "
                                     f"{ {k: r.count(k) for k in set(r)} }")
            self._poll(min(left, 0.1))
        return self.results()

    def wait_closed(self, timeout=5.0) -> None:
        """Wait until the daemon closed every connection (answered ones included)."""
        self.wait(timeout)
        deadline = time.monotonic() + timeout
        while any(st == "answered" for st in self.state):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"Flood: {self.state.count('answered')} connections "
                                     f"still open after {timeout:g}s")
            self._poll(min(left, 0.1))

    def frames(self, i) -> list[dict]:
        """The frames connection i received."""
        return parse_frames(self.data[i])[0]

    def close(self) -> None:
        """Close every socket (safe to call twice)."""
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        self.socks = []
        self._next = 0
        self.sel.close()


def ns_socket_batch(ns: str, family, n: int) -> list:
    """``n`` TCP sockets created inside network namespace ``ns``."""
    import socket

    def make():
        socks = []
        try:
            for _ in range(n):
                socks.append(socket.socket(family, socket.SOCK_STREAM))
        except BaseException:
            for x in socks:
                x.close()
            raise
        return socks
    return in_netns(ns, make)
