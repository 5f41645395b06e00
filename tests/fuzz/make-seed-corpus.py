#!/usr/bin/env python3
"""Writes the fuzz_datagram seed corpus: the golden datagrams of tests/wire (overte-ice.md 2.5 and
section 6, RFC 5769's mapped addresses) as one small binary file each. Re-run after adding a
golden packet:  python3 tests/fuzz/make-seed-corpus.py tests/fuzz/corpus/datagram"""
import pathlib
import sys

CLIENT = "112233445566778899aabbccddeeff00"
DOMAIN = "6ba7b8109dad11d180b400c04fd430c8"
TXID = "00112233445566778899aabb"
RFC_TXID = "b7e7a701bc34d686fa87dfae"
COOKIE = "2112a442"
SOFTWARE = "8022000b7465737420766563746f7220"
XOR_V4 = "0020000800 01bdb4ea12d547"
RFC_XOR_V4 = "002000080001a147e112a643"
RFC_XOR_V6 = "0020001400 02a1470113a9faa5d3f179bc25f4b5bed2b9d9"


def stun(msg_type, txid, attrs):
    attrs = attrs.replace(" ", "")
    return msg_type + "%04x" % (len(attrs) // 2) + COOKIE + txid + attrs


SEEDS = {
    "ice-server-query": "01000000 1711" + CLIENT + "00cb0071059ca6 00c0a8010a9ca6" + DOMAIN,
    "ice-ping": "03000000 2712" + CLIENT + "02",
    "ice-ping-reply": "01000000 2811" + DOMAIN + "02",
    "ice-peer-information": "01000000 1611" + DOMAIN + "00c63364079ca6 000a0000029ca6",
    "ice-heartbeat": "01000000 2612" + DOMAIN + "00c63364079ca6 000a0000029ca6 00000100"
                     + "".join("%02x" % i for i in range(256)),
    "ice-heartbeat-ack": "01000000 3f11",
    "ice-heartbeat-denied": "01000000 3c11",
    "ice-query-ipv6-scope": "01000000 1711" + CLIENT
                            + "01 20010db8000000000000000000000001 ffffffff 9ca6"
                            + "01 fe800000000000000000000000000002 00000008 0065007400680030 9ca6" + DOMAIN,
    "ice-peer-information-null": "01000000 1611" + DOMAIN + "ff0000 ff9ca6",
    "ice-heartbeat-null-signature": "01000000 2612" + DOMAIN + "ff0000 000a0000029ca6 ffffffff",
    "ice-ping-obfuscated-l1": "03000008 53776251 5a363705 03edead9 d2bebf8d 8b6571",
    "udt-message-ack": "05000020 45230180 07000000 3f11",
    "domain-list-request-sourced": "01000000 0d17 3412 aabb",
    "stun-binding-request": "0001 0000" + COOKIE + TXID,
    "stun-section6-response": stun("0101", TXID, XOR_V4),
    "stun-rfc5769-ipv4": stun("0101", RFC_TXID, SOFTWARE + RFC_XOR_V4),
    "stun-rfc5769-ipv6": stun("0101", RFC_TXID, SOFTWARE + RFC_XOR_V6),
    "stun-mapped-address": stun("0101", TXID, "000100080001 9ca6 cb007105"),
    "stun-unpadded-software": stun("0101", TXID, "80220005 6162636465000000" + XOR_V4),
}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/datagram")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in SEEDS.items():
        (out / (name + ".bin")).write_bytes(bytes.fromhex(text.replace(" ", "")))


if __name__ == "__main__":
    main()
