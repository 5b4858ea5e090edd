#!/usr/bin/env python3
"""gen_seeds.py: writes the binary seed corpora of fuzz_frame and fuzz_cmd.

corpus/frame/: each seed is a stream of valid frames as PROTOCOL.md describes
them, from a single KEEPALIVE to a whole session (MEMBERS and LEASE too).
corpus/cmd/: command lines, each behind the two control bytes fuzz_cmd.c reads
(mode and operation, then a size).
(corpus/config/ holds plain configuration files, written by hand.)
Run it again after a protocol or command table change:
    python3 tests/fuzz/gen_seeds.py [CORPUSDIR]
"""
import ipaddress
import os
import struct
import sys

HELLO, KEEPALIVE, UPDATE, EOR, NOTIFY = 1, 2, 3, 4, 5
ANNOUNCE, WITHDRAW = 1, 2


def frame(mtype, body=b""):
    return struct.pack(">BBHI", 1, mtype, 0, 8 + len(body)) + body


def addr(a):
    ip = ipaddress.ip_address(a)
    return bytes([ip.version]) + ip.packed


def hello(node_id, hold=3000, keepalive=1000, caps=3, port=7179, addrs=(),
          hostname=""):
    body = struct.pack(">IIIIHBB", int(ipaddress.IPv4Address(node_id)), hold,
                       keepalive, caps, port, len(addrs), len(hostname))
    for a in addrs:
        body += addr(a)
    return frame(HELLO, body + hostname.encode())


def prefix(p):
    net = ipaddress.ip_network(p, strict=False)
    nbytes = (net.prefixlen + 7) // 8
    return bytes([net.prefixlen]) + ipaddress.ip_address(p.split("/")[0]).packed[:nbytes]


def section(kind, origin, prefixes, gateway=None):
    fam = ipaddress.ip_network(prefixes[0], strict=False).version
    out = struct.pack(">BBHI", kind, fam, len(prefixes),
                      int(ipaddress.IPv4Address(origin)))
    if kind == ANNOUNCE:
        out += ipaddress.ip_address(gateway).packed
    for p in prefixes:
        out += prefix(p)
    return out


def update(*sections):
    return frame(UPDATE, b"".join(sections))


def notify(code, sub, text=""):
    t = text.encode()
    return frame(NOTIFY, bytes([code, sub, len(t)]) + t)


MEMBERS, LEASE = 6, 7


def members(*entries):
    """(op, node id, address, port) each; op 1 up, 2 down."""
    body = b""
    for op, node, a, port in entries:
        ip = ipaddress.ip_address(a)
        body += struct.pack(">BBHI", op, ip.version, port,
                            int(ipaddress.IPv4Address(node))) + ip.packed
    return frame(MEMBERS, body)


def leases(*entries):
    """(op, flags, owner, claim time in ms, prefix) each; op 1 claim, 2 release."""
    body = b""
    for op, flags, owner, ms, p in entries:
        net = ipaddress.ip_network(p)
        body += struct.pack(">BBBBIQ", op, flags, net.version, net.prefixlen,
                            int(ipaddress.IPv4Address(owner)), ms)
        body += net.network_address.packed
    return frame(LEASE, body)


SEEDS = {
    "keepalive": frame(KEEPALIVE),
    "eor": frame(EOR),
    "hello-min": hello("10.0.0.1"),
    "hello-full": hello("10.0.0.2", hold=9000, keepalive=3000, port=7180,
                        addrs=("192.168.10.2", "fd00:10::2"), hostname="node-2.lab"),
    "hello-limits": hello("255.255.255.255", hold=3600000, keepalive=100,
                          caps=0xffffffff, port=65535,
                          addrs=("10.0.0.1", "10.0.0.2", "fd00::1", "fd00::2"),
                          hostname="h" * 64),
    "hello-hold-min": hello("0.0.0.1", hold=300, keepalive=300, caps=1, port=1,
                            hostname="a_b"),
    "update-announce4": update(section(ANNOUNCE, "10.0.0.2",
                                       ["10.244.2.0/24"], "192.168.10.2")),
    "update-withdraw6": update(section(WITHDRAW, "10.0.0.2",
                                       ["fd00:244:2::/64", "fd00:244:3::/48"])),
    "update-mixed": update(
        section(ANNOUNCE, "10.0.0.2", ["10.244.2.0/24", "10.245.0.0/16"], "192.168.10.2"),
        section(ANNOUNCE, "10.0.0.3", ["10.244.3.0/24"], "192.168.10.3"),
        section(ANNOUNCE, "10.0.0.2", ["fd00:244:2::/64"], "fd00:10::2"),
        section(WITHDRAW, "10.0.0.4", ["10.244.4.0/24", "10.244.5.128/25"]),
        section(WITHDRAW, "10.0.0.4", ["fd00:244:4::/64"])),
    "update-lengths": update(
        section(ANNOUNCE, "1.2.3.4", ["0.0.0.0/0", "10.0.0.0/1", "10.1.2.3/32",
                                      "10.1.2.0/23", "172.16.0.0/12"], "10.9.9.9"),
        section(ANNOUNCE, "1.2.3.4", ["::/0", "fd00::1/128", "fd00:1::/17",
                                      "2001:db8::/32"], "fe80::1")),
    "update-hostbits": update(section(ANNOUNCE, "10.0.0.9",
                                      ["10.244.9.0/20"], "192.168.10.9")),
    "update-merge": update(
        section(WITHDRAW, "10.0.0.5", ["10.5.0.0/24"]),
        section(WITHDRAW, "10.0.0.5", ["10.5.1.0/24"])),
    "notify": notify(3, 3, "prefix length 33 for a 32-bit family"),
    "notify-empty": notify(6, 1),
    "notify-binary": notify(2, 5, "\x01\x7fdup\x00"),
    "session": b"".join([
        hello("10.0.0.2", caps=15, addrs=("192.168.10.2",), hostname="node2"),
        frame(KEEPALIVE),
        update(section(ANNOUNCE, "10.0.0.2", ["10.244.2.0/24"], "192.168.10.2"),
               section(ANNOUNCE, "10.0.0.3", ["10.244.3.0/24"], "192.168.10.3")),
        frame(EOR),
        frame(KEEPALIVE),
        update(section(WITHDRAW, "10.0.0.3", ["10.244.3.0/24"])),
        notify(6, 1, "shutdown"),
    ]),
    # A session whose last frame is cut short, as TCP may deliver it.
    "session-partial": b"".join([
        hello("10.0.0.7", hostname="seven"), frame(KEEPALIVE),
        update(section(ANNOUNCE, "10.0.0.7", ["10.244.7.0/24"], "192.168.10.7"))[:-3],
    ]),
    "members": members((1, "10.0.0.2", "192.168.10.2", 7179),
                       (2, "10.0.0.3", "fd00:10::3", 7180)),
    "leases": leases((1, 1, "10.0.0.2", 1700000000000, "10.244.2.0/24"),
                     (2, 0, "10.0.0.3", 1, "fd00:244:3::/64"),
                     (1, 0, "10.0.0.4", 2**64 - 1, "10.0.0.0/8")),
    # Well formed up to the frame that a peer must not send.
    "bad-header-after": frame(KEEPALIVE) + bytes([1, 9, 0, 0, 0, 0, 0, 8]),
}


VIEW, CONFIG, ROUTER = 1, 2, 4
OP_MATCH, OP_COMPLETE, OP_HELP, OP_HELP_NOM, OP_SPLIT, OP_ALL, OP_DEF = range(7)
DYN = 0x40

# (mode, command lines) as a user types them, abbreviations included.
CMD_LINES = [
    (VIEW, ["show summary", "show summary json", "sh pe", "show peers 10.0.0.2 detail json",
            "show routes 10.244.2.0/24 json", "show fib", "show running-config",
            "show version", "configure terminal", "conf t", "clear peer *",
            "clear peer 10.0.0.2", "debug peer", "no debug all", "reload",
            "write memory", "exit", "quit", "! a comment", "", "sh", "show ",
            "d", "show peers fd00::1 ", "ping 10.0.0.1 count 5",
            "log level 3 tag x hello world", "debug-dump all of it",
            "show leases", "show leases json", "show members", "show members json",
            "show version json", "show running-config json", "sh le j", "sh mem"]),
    (CONFIG, ["hostname node-1", "router hgw", "end", "exit",
              "static 10.0.0.0/8 fd00::/8 0.5", "ho"]),
    (ROUTER, ["interface eth0", "node-id 10.0.0.1", "no node-id", "address 192.168.10.1",
              "no address fd00:10::1", "listen port 7180", "network 10.244.1.0/24",
              "no network fd00:244:1::/64", "neighbor 192.168.10.2",
              "neighbor fd00:10::2 port 7180", "no neighbor 192.168.10.2",
              "timers keepalive 0.5 hold 1.5", "timers startup 10", "no timers",
              "kernel protocol 77 table 254 metric 20", "kernel table 100",
              "kernel off", "kernel on", "ne", "n", "no ", "listen port 70000",
              "network 10.244.1.0/33", "t k 1 h 3", "neighbor 1.2.3.4 port",
              "neighbor 10.0.0.2 port 7179 max-prefixes 100 allow-third-party-gateway",
              "cluster-network 10.244.0.0/16", "no cluster-network fd00:244::/48",
              "allow 10.0.0.0/8", "no allow 10.0.0.0/8", "max-prefixes 1000",
              "no max-prefixes", "secret-file /etc/hgw/psk", "no secret-file",
              "tls ca /etc/hgw/ca.pem cert /etc/hgw/n1.pem key /etc/hgw/n1.key", "no tls",
              "do show peers", "do sh ru", "ipmasq", "no ipmasq", "discovery multicast",
              "no discovery", "timers giveup 30", "timers giveup 0.5", "t g",
              "cluster-network 10.244.0.0/16 subnet-length 24", "lease-hold 1h",
              "lease-file /var/lib/hgw/lease", "subnet-env /run/flannel/subnet.env"]),
]


def cmd_seeds():
    seeds = {}
    for mode, lines in CMD_LINES:
        for i, line in enumerate(lines):
            for op, size in ((OP_ALL, 255), (OP_MATCH, 0), (OP_HELP, 8), (OP_COMPLETE, 3)):
                if op != OP_ALL and i % 3:
                    continue
                flags = DYN if i % 2 == 0 else 0
                name = f"m{mode}-op{op}-{i:02d}"
                seeds[name] = bytes([mode | op << 3 | flags, size]) + line.encode()
    seeds["split"] = bytes([OP_SPLIT << 3 | VIEW, 0x40 | 8]) + b" a  b\tc "
    seeds["too-long"] = bytes([VIEW | OP_ALL << 3, 16]) + b"show " + b"x" * 1020
    seeds["too-many-words"] = bytes([VIEW | OP_ALL << 3, 16]) + b"show" + b" peers" * 32
    seeds["all-modes"] = bytes([7 | OP_ALL << 3 | DYN, 40]) + b"show "
    # Operation 6: a definition of the input's own, "SYNTAX\0HELP\0LINE".
    defs = [
        (b"set (1-10) [fast|slow] WORD", b"Set\nA number\nFast\nSlow\nA word", b"set 5 fa x"),
        (b"peer PEER [route ROUTE] LINE", b"P\nPeer\nR\nRoute\nRest", b"peer 10.0.0.1 route 10.1"),
        (b"a [b C] (d|e) SECONDS", b"A\nB\nC\nD\nE\nS", b"a b c d 1.5"),
        (b"x A.B.C.D/M X:X::X:X/M PREFIX", b"X\n4\n6\nP", b"x 1.2.3.0/24 ::/0 "),
    ]
    for i, (syn, hlp, line) in enumerate(defs):
        seeds[f"def-{i}"] = bytes([OP_DEF << 3 | DYN | VIEW, 0x80 | 16]) + syn + b"\0" + hlp + b"\0" + line
    return seeds


def write(outdir, seeds):
    os.makedirs(outdir, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {outdir}")


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    write(os.path.join(top, "frame"), SEEDS)
    write(os.path.join(top, "cmd"), cmd_seeds())


if __name__ == "__main__":
    main()
