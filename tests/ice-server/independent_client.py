#!/usr/bin/env python3
"""An ICE client written only from docs/protocol.md, with no Icebreaker code: every datagram
is built from hex and struct by hand, signatures come from the openssl command line. It starts the
ice-server binary given as argv[1] and checks ACK, Denied and both ICEServerPeerInformation
packets byte for byte against docs/protocol.md sections 2.5 and 3.1-3.4."""

import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

DOMAIN_ID = bytes.fromhex("6ba7b8109dad11d180b400c04fd430c8")      # 2.5 sample values
CLIENT_ID = bytes.fromhex("112233445566778899aabbccddeeff00")
OTHER_DOMAIN_ID = bytes.fromhex("0f0e0d0c0b0a49088706050403020100")


def sock_addr(ip, port):
    """SockAddr on the wire (2.4): QHostAddress (00 = IPv4, then BE u32) and a BE u16 port."""
    return b"\x00" + socket.inet_aton(ip) + struct.pack(">H", port)


def header(packet_type, version, sequence):
    """UDT word (LE, C=R=M=O=0, the sequence number) then type and version (2.1, 2.2)."""
    return struct.pack("<I", sequence) + bytes([packet_type, version])


def sign(key_path, plaintext):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path], input=plaintext,
                          stdout=subprocess.PIPE, check=True).stdout


def receive(sock, timeout=5.0):
    sock.settimeout(timeout)
    data, _ = sock.recvfrom(2048)
    return data


def expect(what, got, want):
    if got != want:
        sys.exit(f"FAIL {what}:\n  got  {got.hex()}\n  want {want.hex()}")
    print(f"ok   {what}: {got.hex()}")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, "domain.pem")
        keys_dir = os.path.join(tmp, "keys")
        os.mkdir(keys_dir)
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, stderr=subprocess.DEVNULL)
        # The ice-server's key directory: one file per domain, named by its UUID.
        subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out",
                        os.path.join(keys_dir, "6ba7b810-9dad-11d1-80b4-00c04fd430c8.pem")],
                       check=True, stderr=subprocess.DEVNULL)

        # One thread: the sequence numbers below are upstream's one counter per destination. With
        # several threads each keeps its own (receivers ignore them, docs/protocol.md 2.1), and the
        # domain's ACK and the client's record may leave from different threads.
        server = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", "0", "--http-port", "0",
                                   "--keys-dir", keys_dir, "--threads", "1"], stderr=subprocess.PIPE, text=True)
        try:
            port = None
            deadline = time.time() + 10
            while port is None and time.time() < deadline:
                line = server.stderr.readline()
                match = re.search(r"listening on UDP 127\.0\.0\.1:(\d+)", line)
                if match:
                    port = int(match.group(1))
            if port is None:
                sys.exit("FAIL the ice-server did not say where it listens")
            ice = ("127.0.0.1", port)

            domain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            domain.bind(("127.0.0.1", 0))
            stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            stranger.bind(("127.0.0.1", 0))
            client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            client.bind(("127.0.0.1", 0))

            # 3.1: ICEServerHeartbeat (38, v18); the signed plaintext is ID | public | local.
            plaintext = DOMAIN_ID + sock_addr("198.51.100.7", 40102) + sock_addr("10.0.0.2", 40102)
            signature = sign(key, plaintext)
            if len(signature) != 256:
                sys.exit("FAIL openssl did not make a 256-byte signature")
            heartbeat = header(38, 18, 1) + plaintext + struct.pack(">I", 256) + signature
            if len(heartbeat) != 296:
                sys.exit("FAIL heartbeat is not 296 bytes as in 2.5")
            domain.sendto(heartbeat, ice)
            expect("ICEServerHeartbeatACK", receive(domain), bytes.fromhex("01000000 3f11"))

            # A domain the ice-server has no key for is Denied.
            other = OTHER_DOMAIN_ID + sock_addr("198.51.100.8", 40102) + sock_addr("10.0.0.3", 40102)
            stranger.sendto(header(38, 18, 1) + other + struct.pack(">I", 256) + sign(key, other), ice)
            expect("ICEServerHeartbeatDenied", receive(stranger), bytes.fromhex("01000000 3c11"))

            # 2.5: the 52-byte ICEServerQuery, byte for byte as the document writes it.
            query = bytes.fromhex("01000000 1711 112233445566778899aabbccddeeff00 00cb0071059ca6 "
                                  "00c0a8010a9ca6 6ba7b8109dad11d180b400c04fd430c8")
            assert query == header(23, 17, 1) + CLIENT_ID + sock_addr("203.0.113.5", 40102) \
                + sock_addr("192.168.1.10", 40102) + DOMAIN_ID
            client.sendto(query, ice)
            expect("ICEServerPeerInformation to the client (the domain's record, 2.5)", receive(client),
                   bytes.fromhex("01000000 1611 6ba7b8109dad11d180b400c04fd430c8 00c63364079ca6 000a0000029ca6"))
            # 3.4: the client's record to the domain's active socket; the second packet to it, seq 2.
            expect("ICEServerPeerInformation to the domain (the client's record)", receive(domain),
                   header(22, 17, 2) + CLIENT_ID + sock_addr("203.0.113.5", 40102) + sock_addr("192.168.1.10", 40102))

            # A query for a domain nobody registered gets nothing back (4.2).
            client.sendto(header(23, 17, 2) + CLIENT_ID + sock_addr("203.0.113.5", 40102)
                          + sock_addr("192.168.1.10", 40102) + OTHER_DOMAIN_ID, ice)
            # STUN on the same port (RFC 5389 binding request) doubles as a barrier: packets are
            # handled in order, so once its answer is back the query above was handled too.
            client.sendto(bytes.fromhex("0001 0000 2112a442") + b"icebreaker12", ice)
            answer = receive(client)
            if answer[:2] != b"\x01\x01" or answer[8:20] != b"icebreaker12":
                sys.exit(f"FAIL expected only a STUN binding success, got {answer.hex()}")
            print("ok   unknown domain: no answer (a STUN binding success came back instead)")
        finally:
            server.terminate()
            server.wait(timeout=10)
        if server.returncode != 0:
            sys.exit(f"FAIL the ice-server exited with {server.returncode} on SIGTERM")
    print("PASS")


if __name__ == "__main__":
    main()
