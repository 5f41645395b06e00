#!/usr/bin/env python3
"""Writes the fuzz_datagram seed corpus: the golden datagrams of tests/wire (docs/protocol.md 2.5 and
section 6, RFC 5769's mapped addresses, the TURN messages of tst_turnmessage) as one small binary file each. Re-run after adding a
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
    # TURN (tests/wire/tst_turnmessage.cpp golden rows, signed with MD5("u:R:p")).
    "turn-allocate-unauth": stun("0003", TXID, "00190004 11000000 80280004 7d6c71a7"),
    "turn-allocate-401": stun("0113", TXID, "00150007 6e6f6e63652d3100 00140001 52000000"
                              "00090010 00000401 556e617574686f72697a6564 80280004 933769b6"),
    "turn-allocate-auth": stun("0003", TXID, "00060001 75000000 00150007 6e6f6e63652d3100 00140001 52000000"
                               "00190004 11000000 00080014 2913cba29d6933e3fdee7b37400ab99e7770076c 80280004 410a78d4"),
    "turn-allocate-success": stun("0103", TXID, "000d0004 00000258 00160008 0001e11aea12d543 00200008 0001bdb4e721c045"
                                  "00080014 741ff2619a295d33b6c20e0fc80cd20f4ec45b0d 80280004 02df4a7e"),
    "turn-refresh-lifetime0": stun("0004", TXID, "00060001 75000000 00150007 6e6f6e63652d3100 00140001 52000000"
                                   "000d0004 00000000 00080014 d2fcd8e252f97dfea2a94bea93c9d2dd49917599 80280004 c81113a2"),
    "turn-create-permission": stun("0008", TXID, "00120008 00012112e112a643"),
    "turn-channel-bind": stun("0009", TXID, "000c0004 40010000 00120008 0001a147e112a643"),
    "turn-send-indication": stun("0016", TXID, "00120008 0001a147e112a643 00130005 68656c6c6f000000"),
    "turn-data-indication": stun("0017", TXID, "00120008 0001a147e112a643 00130005 68656c6c6f000000"),
    "turn-stale-nonce": stun("0114", TXID, "00150007 6e6f6e63652d3200 00140001 52000000 0009000f 00000426 5374616c65204e6f6e636500"),
    "turn-channel-data": "40000005 68656c6c6f000000",
    "turn-channel-data-unpadded": "4fff0005 68656c6c6f",
}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/datagram")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in SEEDS.items():
        (out / (name + ".bin")).write_bytes(bytes.fromhex(text.replace(" ", "")))


if __name__ == "__main__":
    main()
