#!/usr/bin/env python3
"""Tiny UDP probe for the NAT testbed (tests/nat/).

Why it exists: the testbed must show NAT behaviour from ONE local socket
(same mapped port towards two STUN servers, or not), and run a UDP punch
experiment; coturn's turnutils_stunclient cannot pick its local port and socat
is not installed everywhere.  Standard library only.

Sub-commands (each prints plain "key=value" lines for the shell to parse):
  stun    --bind IP:PORT --server IP:PORT [--server IP:PORT ...]
          one socket, a STUN Binding Request to each server in turn;
          prints "mapped SERVER IP:PORT ms=RTT" per server (exit 1 if one is silent).
  listen  --bind IP:PORT --seconds S [--hello IP:PORT] [--count N]
          optionally send one datagram to --hello first (opens a NAT mapping
          towards that endpoint), then count datagrams for S seconds (or until
          N have arrived);
          prints "received N" and one "from IP:PORT" line per sender.
  send    --bind IP:PORT --to IP:PORT [--count N]
          send N small datagrams from a fixed local port.
  punch   --bind IP:PORT --stun IP:PORT --me FILE --peer FILE
          [--ttl N --ttl-rounds K] [--interval MS] [--timeout S] [--skew MS]
          learn the own public address by STUN from the punch socket, publish
          it in --me, wait for the peer's in --peer (the harness plays the
          ice-server), then ping every --interval ms.  The first K rounds go
          out with IP TTL N (0 = plain punch).  A PING is answered with a PONG;
          a PONG from the peer means connected.  Exit 0 when connected.
  wire    --a IF --b IF --delay-ms D --loss-pct L
          an Ethernet wire in userspace: forward every frame between two
          interfaces after D ms, dropping L percent.  The testbed's fallback
          for kernels built without sch_netem (tc qdisc netem unknown).
"""
import argparse
import heapq
import os
import random
import select
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
ATTR_MAPPED = 0x0001
ATTR_XOR_MAPPED = 0x0020
NORMAL_TTL = 64


def endpoint(text):
    """Parse IP:PORT (IPv4 only; the testbed is IPv4)."""
    host, _, port = text.rpartition(":")
    return host, int(port)


def fmt(addr):
    return "%s:%d" % addr


def stun_request():
    tid = os.urandom(12)
    return tid, struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC) + tid


def stun_parse(data, tid):
    """Return the (ip, port) mapped address of a Binding Success for tid, else None."""
    if len(data) < 20:
        return None
    mtype, mlen, cookie = struct.unpack("!HHI", data[:8])
    if mtype != BINDING_SUCCESS or cookie != MAGIC or data[8:20] != tid:
        return None
    body = data[20:20 + mlen]
    found = None
    pos = 0
    while pos + 4 <= len(body):
        atype, alen = struct.unpack("!HH", body[pos:pos + 4])
        value = body[pos + 4:pos + 4 + alen]
        pos += 4 + ((alen + 3) & ~3)
        if atype in (ATTR_XOR_MAPPED, ATTR_MAPPED) and len(value) >= 8 and value[1] == 1:
            port, = struct.unpack("!H", value[2:4])
            raw = value[4:8]
            if atype == ATTR_XOR_MAPPED:
                port ^= MAGIC >> 16
                raw = bytes(b ^ m for b, m in zip(raw, struct.pack("!I", MAGIC)))
                return socket.inet_ntoa(raw), port
            found = (socket.inet_ntoa(raw), port)
    return found


def stun_query(sock, server, timeout=2.0, retry=0.2):
    """Binding Request from sock to server, retransmitted every `retry` s; mapped address or None."""
    tid, req = stun_request()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.sendto(req, server)
        until = min(deadline, time.monotonic() + retry)
        while time.monotonic() < until:
            sock.settimeout(max(0.001, until - time.monotonic()))
            try:
                data, _src = sock.recvfrom(2048)
            except socket.timeout:
                break
            mapped = stun_parse(data, tid)
            if mapped:
                return mapped
    return None


def udp_socket(bind):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(endpoint(bind))
    return sock


def cmd_stun(args):
    sock = udp_socket(args.bind)
    ok = True
    for server in args.server:
        began = time.monotonic()
        mapped = stun_query(sock, endpoint(server), timeout=args.timeout)
        print("mapped %s %s ms=%d" % (server, fmt(mapped) if mapped else "none",
                                      (time.monotonic() - began) * 1000), flush=True)
        ok = ok and mapped is not None
    return 0 if ok else 1


def cmd_listen(args):
    sock = udp_socket(args.bind)
    if args.hello:
        sock.sendto(b"hello", endpoint(args.hello))
    senders = {}
    deadline = time.monotonic() + args.seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            _data, src = sock.recvfrom(2048)
        except socket.timeout:
            break
        senders[src] = senders.get(src, 0) + 1
        if args.count and sum(senders.values()) >= args.count:
            break
    print("received %d" % sum(senders.values()))
    for src, count in sorted(senders.items()):
        print("from %s %d" % (fmt(src), count))
    return 0


def cmd_send(args):
    sock = udp_socket(args.bind)
    for i in range(args.count):
        sock.sendto(b"probe %d" % i, endpoint(args.to))
        time.sleep(0.005)
    return 0


def wait_for_file(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
            if text:
                return text
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    return None


def cmd_punch(args):
    sock = udp_socket(args.bind)
    mapped = stun_query(sock, endpoint(args.stun))
    if not mapped:
        print("result=stun-failed")
        return 3
    tmp = args.me + ".tmp"
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(fmt(mapped) + "\n")
    os.rename(tmp, args.me)  # atomic: the peer never reads half a line
    peer_text = wait_for_file(args.peer, 10.0)
    if not peer_text:
        print("result=no-peer")
        return 4
    peer = endpoint(peer_text)
    if args.skew:
        time.sleep(args.skew / 1000.0)

    interval = args.interval / 1000.0
    start = time.monotonic()
    deadline = start + args.timeout
    next_round = start
    rounds = 0
    connected_at = None
    pings_seen = 0
    current_ttl = None

    def send(payload, ttl):
        nonlocal current_ttl
        if ttl != current_ttl:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
            current_ttl = ttl
        sock.sendto(payload, peer)

    while True:
        now = time.monotonic()
        # after connecting, keep answering for a grace period so the peer gets its PONG too
        if connected_at is not None and now - start > connected_at + 0.5:
            break
        if now >= deadline:
            break
        if now >= next_round and connected_at is None:
            low = args.ttl > 0 and rounds < args.ttl_rounds
            send(b"PING %d" % rounds, args.ttl if low else NORMAL_TTL)
            rounds += 1
            next_round += interval
        if connected_at is None:
            wake = min(deadline, next_round)
        else:
            wake = min(deadline, start + connected_at + 0.5)
        sock.settimeout(max(0.001, wake - time.monotonic()))
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        except ConnectionRefusedError:
            continue
        if src != peer:
            continue
        if data.startswith(b"PING"):
            pings_seen += 1
            send(b"PONG", NORMAL_TTL)
        elif data.startswith(b"PONG") and connected_at is None:
            connected_at = time.monotonic() - start
    print("mapped=%s peer=%s rounds=%d pings_seen=%d" % (fmt(mapped), fmt(peer), rounds, pings_seen))
    if connected_at is None:
        print("result=failed")
        return 1
    print("result=connected ms=%d" % int(connected_at * 1000))
    return 0


def cmd_wire(args):
    eth_p_all = 0x0003
    socks = []
    for name in (args.a, args.b):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(eth_p_all))
        sock.bind((name, 0))
        sock.setblocking(False)
        socks.append(sock)
    other = {socks[0]: socks[1], socks[1]: socks[0]}
    delay = args.delay_ms / 1000.0
    pending = []  # heap of (due, seq, out_socket, frame): one delay, so FIFO per direction
    seq = 0
    print("wire %s <-> %s delay=%sms loss=%s%%" % (args.a, args.b, args.delay_ms, args.loss_pct), flush=True)
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        ready, _w, _x = select.select(socks, [], [], timeout)
        for sock in ready:
            while True:
                try:
                    frame, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # our own transmission, seen by the tap
                if random.random() * 100.0 < args.loss_pct:
                    continue
                heapq.heappush(pending, (time.monotonic() + delay, seq, other[sock], frame))
                seq += 1
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _due, _seq, out, frame = heapq.heappop(pending)
            try:
                out.send(frame)
            except OSError:
                pass  # e.g. an oversized GSO frame: the wire drops it, as a real one would


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("stun")
    p.add_argument("--bind", required=True)
    p.add_argument("--server", action="append", required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p.set_defaults(func=cmd_stun)
    p = sub.add_parser("listen")
    p.add_argument("--bind", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--hello")
    p.add_argument("--count", type=int, default=0)
    p.set_defaults(func=cmd_listen)
    p = sub.add_parser("send")
    p.add_argument("--bind", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=3)
    p.set_defaults(func=cmd_send)
    p = sub.add_parser("punch")
    p.add_argument("--bind", required=True)
    p.add_argument("--stun", required=True)
    p.add_argument("--me", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--ttl", type=int, default=0)
    p.add_argument("--ttl-rounds", type=int, default=1)
    p.add_argument("--interval", type=int, default=250)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--skew", type=int, default=0)
    p.set_defaults(func=cmd_punch)
    p = sub.add_parser("wire")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--loss-pct", type=float, default=0.0)
    p.set_defaults(func=cmd_wire)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
