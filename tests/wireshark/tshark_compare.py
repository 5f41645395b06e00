#!/usr/bin/env python3
"""Checks tools/wireshark/icebreaker.lua against Icebreaker's own codecs.

Every UDP datagram of a capture is dissected twice: by tshark with the Lua dissector (-T json) and by
ice-decode (our C++ codecs). The icebreaker fields of each frame must be equal, name for name and value
for value, with the same expert infos; STUN must be left to Wireshark's STUN dissector; a datagram the
dissector should claim (on the ice-server port, or any Overte-looking datagram elsewhere through the
heuristic) must be claimed.

  tshark_compare.py synthetic --tshark T --lua L --decoder D --workdir W
      hand-made datagrams covering the corners (IPv6 and null sockets, sourced types, message words,
      control, unknown type, version mismatch, truncation, every obfuscation level), on port 7337.
  tshark_compare.py live --tshark T --dumpcap C --lua L --decoder D --bin-dir B --workdir W
      a capture of the real ice-server, domain-server and interface-stub on loopback (plus a denied
      domain, and a malformed, an obfuscated, a sourced and a STUN datagram the test sends itself).
      Capturing needs root: without it the test exits 77, which ctest reports as skipped.

Standard library only.
"""

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

SKIP = 77
ICE_TYPES = ["ICEServerHeartbeat", "ICEServerHeartbeatACK", "ICEServerHeartbeatDenied", "ICEServerQuery",
             "ICEServerPeerInformation", "ICEPing", "ICEPingReply"]
KEYS = {1: bytes.fromhex("7465737369726263"), 2: bytes.fromhex("6164726172696273"), 3: bytes.fromhex("6e616d6666756872")}


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------------------------------------------
# Datagram builders (independent of the C++ code, from docs/protocol.md)

def udt(seq, level=0, reliable=False, message=None, control=False):
    word = (seq & 0x07FFFFFF) | (level << 27) | (0x40000000 if reliable else 0) | (0x80000000 if control else 0)
    out = b""
    if message:
        word |= 0x20000000
        position, number, part = message
        out = struct.pack("<II", (position << 30) | number, part)
    return struct.pack("<I", word) + out


def obfuscate(datagram, header_size, level):
    key = KEYS[level]
    body = bytes(b ^ key[i % 8] for i, b in enumerate(datagram[header_size:]))
    return datagram[:header_size] + body


def v4(ip, port):
    return b"\x00" + socket.inet_aton(ip) + struct.pack(">H", port)


def v6(ip, port, scope=None):
    out = b"\x01" + socket.inet_pton(socket.AF_INET6, ip)
    if scope is None:
        out += b"\xff\xff\xff\xff"
    else:
        encoded = scope.encode("utf-16-be")
        out += struct.pack(">I", len(encoded)) + encoded
    return out + struct.pack(">H", port)


def null_sock(port=0):
    return b"\xff" + struct.pack(">H", port)


def query(client, public, local, domain, seq=1):
    return udt(seq) + b"\x17\x11" + client.bytes + public + local + domain.bytes


def ping(sender, ping_type, seq=1, reply=False):
    return udt(seq) + (b"\x28\x11" if reply else b"\x27\x12") + sender.bytes + bytes([ping_type])


# ---------------------------------------------------------------------------------------------------
# pcap writing (LINKTYPE_RAW: bare IPv4 packets) for the synthetic capture

def write_pcap(path, datagrams):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for i, (sport, dport, payload) in enumerate(datagrams):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
        out += struct.pack("<IIII", 1700000000 + i, 0, len(ip), len(ip)) + ip
    with open(path, "wb") as f:
        f.write(out)


# ---------------------------------------------------------------------------------------------------
# The comparison

def flatten(node, fields, experts):
    """Collects icebreaker.* leaf values and expert names from a tshark -T json layer."""
    if isinstance(node, list):
        for item in node:
            flatten(item, fields, experts)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "_ws.expert":
            for expert in value if isinstance(value, list) else [value]:
                experts.extend(k for k in expert if k.startswith("icebreaker."))
        elif key.startswith("icebreaker.") and isinstance(value, str):
            if key in fields:
                raise AssertionError(f"field {key} appears twice")
            fields[key] = value
        elif key.startswith("icebreaker.") and isinstance(value, list) and all(isinstance(v, str) for v in value):
            raise AssertionError(f"field {key} appears {len(value)} times")
        else:
            flatten(value, fields, experts)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def heuristic_claims(expected):
    f = expected["fields"]
    return ("icebreaker.type_name" in f and f["icebreaker.version"] == f["icebreaker.expected_version"]
            and f.get("icebreaker.udt.control") == "0")


def compare(args, pcap, ports):
    """Returns a list of problems and a summary of what was seen."""
    env = dict(os.environ, LC_ALL="C")
    tshark = [args.tshark, "-n", "-X", f"lua_script:{args.lua}", "-o", f"icebreaker.ports:{','.join(map(str, ports))}"]
    fields_out = run([args.tshark, "-n", "-r", pcap, "-Y", "udp", "-T", "fields", "-e", "frame.number",
                      "-e", "udp.payload"], env=env).stdout
    payload_file = os.path.join(os.path.dirname(pcap), os.path.basename(pcap) + ".payloads.tsv")
    with open(payload_file, "w") as f:
        f.write(fields_out)
    expected = {e["frame"]: e for e in json.loads(run([args.decoder, payload_file], env=env).stdout)}
    dissected = run(tshark + ["-r", pcap, "-Y", "udp", "-T", "json", "--no-duplicate-keys"], env=env)
    if "Lua Error" in dissected.stdout or "Lua Error" in dissected.stderr:
        return [f"tshark reported a Lua problem: {dissected.stderr.strip()[:2000]}"], {}
    frames = json.loads(dissected.stdout)

    problems = []
    seen = {"frames": 0, "types": {}, "malformed": 0, "obfuscated": 0, "stun": 0, "heuristic": 0, "fields": 0}
    for frame in frames:
        layers = frame["_source"]["layers"]
        number = int(layers["frame"]["frame.number"])
        exp = expected.get(number)
        if exp is None:
            problems.append(f"frame {number}: ice-decode has no entry")
            continue
        seen["frames"] += 1
        sport, dport = int(layers["udp"]["udp.srcport"]), int(layers["udp"]["udp.dstport"])
        on_port = sport in ports or dport in ports
        if exp["stun"]:
            if "icebreaker" in layers or "stun" not in layers:
                problems.append(f"frame {number}: a STUN datagram was not left to the STUN dissector "
                                f"(layers {list(layers)})")
            seen["stun"] += 1
            continue
        should_claim = on_port or heuristic_claims(exp)
        if "icebreaker" not in layers:
            if should_claim:
                problems.append(f"frame {number} ({sport}->{dport}): not dissected as icebreaker; "
                                f"ice-decode: {exp['fields']}")
            continue
        if not should_claim:
            problems.append(f"frame {number} ({sport}->{dport}): claimed by the heuristic, should not be")
            continue
        got, experts = {}, []
        try:
            flatten(layers["icebreaker"], got, experts)
        except AssertionError as error:
            problems.append(f"frame {number}: {error}")
            continue
        want = exp["fields"]
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                problems.append(f"frame {number}: {key}: dissector {got.get(key)!r}, codec {want.get(key)!r}")
        if sorted(experts) != sorted(exp["expert"]):
            problems.append(f"frame {number}: expert infos: dissector {sorted(experts)}, codec {sorted(exp['expert'])}")
        seen["fields"] += len(want)
        if not on_port:
            seen["heuristic"] += 1
        if "icebreaker.error" in want:
            seen["malformed"] += want["icebreaker.error"] not in ("unknown_type", "version_mismatch", "control_packet")
        elif "icebreaker.type_name" in want:
            seen["types"][want["icebreaker.type_name"]] = seen["types"].get(want["icebreaker.type_name"], 0) + 1
            if want.get("icebreaker.udt.obfuscation", "0") != "0":
                seen["obfuscated"] += 1
    for number in sorted(set(expected) - {int(f["_source"]["layers"]["frame"]["frame.number"]) for f in frames}):
        problems.append(f"frame {number}: missing from tshark's output")
    return problems, seen


def report(problems, seen, require):
    log(f"frames {seen.get('frames')}, fields compared {seen.get('fields')}, decoded types {seen.get('types')}, "
        f"malformed {seen.get('malformed')}, obfuscated {seen.get('obfuscated')}, STUN {seen.get('stun')}, "
        f"via heuristic {seen.get('heuristic')}")
    for type_name in ICE_TYPES:
        if not seen.get("types", {}).get(type_name):
            problems.append(f"no correctly decoded {type_name} in the capture")
    for what in require:
        if not seen.get(what):
            problems.append(f"the capture has no {what} datagram")
    for problem in problems[:60]:
        log("FAIL:", problem)
    if len(problems) > 60:
        log(f"... and {len(problems) - 60} more")
    log("PASS" if not problems else f"{len(problems)} problems")
    return 0 if not problems else 1


# ---------------------------------------------------------------------------------------------------

def synthetic(args):
    client, domain = uuid.UUID("11223344-5566-7788-99aa-bbccddeeff00"), uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    sig = bytes(range(256))
    hb_plain = domain.bytes + v4("198.51.100.7", 40102) + v4("10.0.0.2", 40102)
    heartbeat = udt(1) + b"\x26\x12" + hb_plain + struct.pack(">I", len(sig)) + sig
    q = query(client, v4("203.0.113.5", 40102), v4("192.168.1.10", 40102), domain)
    peer = udt(2) + b"\x16\x11" + domain.bytes + v4("198.51.100.7", 40102) + v4("10.0.0.2", 40102)
    ice, c, d = 7337, 50000, 40102
    datagrams = [
        (d, ice, heartbeat),
        (d, ice, udt(2) + b"\x26\x12" + domain.bytes + null_sock() + null_sock(40102) + b"\xff\xff\xff\xff"),
        (d, ice, udt(3) + b"\x26\x12" + domain.bytes + v6("2001:db8::7", 40102) + v6("fe80::1", 40102, "eth0")
         + b"\x00\x00\x00\x00"),
        (ice, d, udt(1) + b"\x3f\x11"),
        (ice, d, udt(1) + b"\x3c\x11"),
        (c, ice, q),
        (c, ice, query(client, null_sock(), v4("192.168.1.10", 40102), domain, seq=2)),
        (ice, c, peer),
        (c, d, ping(client, 1)), (c, d, ping(client, 2, seq=2)),          # heuristic: neither port is 7337
        (d, c, ping(domain, 2, reply=True)), (d, c, ping(domain, 1, seq=2, reply=True)),
        (c, d, ping(client, 3, seq=3)), (c, d, ping(client, 0, seq=4)),
        # obfuscated at every level, on the port and through the heuristic
        (c, ice, obfuscate(udt(9, level=1) + q[4:], 4, 1)),
        (d, ice, obfuscate(udt(7, level=2) + heartbeat[4:], 4, 2)),
        (c, d, obfuscate(udt(5, level=3) + ping(client, 2)[4:], 4, 3)),
        # message words and the reliable bit
        (ice, d, udt(4, reliable=True, message=(2, 77, 3)) + b"\x3f\x11"),
        (ice, d, obfuscate(udt(5, level=1, message=(1, 78, 0)) + b"\x3c\x11", 12, 1)),
        # other types of the table: named with type and version; DomainListRequest is sourced (4-byte NL header)
        (c, ice, udt(3) + b"\x0d\x17" + struct.pack("<H", 0x1234) + b"\xaa" * 10),
        (c, ice, udt(3) + b"\x02\x19" + b"\xbb" * 12),
        (c, ice, udt(3) + b"\x2e\x16" + uuid.uuid4().bytes),
        # malformed: every way a payload or header can be wrong
        (c, ice, udt(1) + b"\x17\x11" + client.bytes + b"\x07" + b"\x00" * 6),            # bad address protocol
        (c, ice, q[:-3]),                                                                   # truncated query
        (c, ice, q + b"\x00"),                                                              # trailing byte
        (ice, d, udt(1) + b"\x3f\x11\x00"),                                                 # ACK with a payload
        (c, d, ping(client, 7)),                                                            # ping type out of range
        (c, d, ping(client, 1)[:-1]),                                                       # ping without its type
        (d, ice, udt(1) + b"\x26\x12" + hb_plain + struct.pack(">I", 5000) + b"\x00" * 10),  # oversized signature
        (d, ice, udt(1) + b"\x26\x12" + hb_plain + struct.pack(">I", 256) + b"\x00" * 10),   # signature cut short
        (c, ice, udt(1) + b"\x17\x11" + client.bytes + b"\x01" + b"\x00" * 16 + struct.pack(">I", 3) + b"abc"
         + struct.pack(">H", 1) + v4("1.2.3.4", 5) + domain.bytes),                         # odd scope id length
        (c, ice, udt(1) + b"\x0d\x17\x01"),                                                 # sourced header cut short
        (c, ice, b"\x01\x00"),                                                              # no UDT word
        (c, ice, udt(1) + b"\x17"),                                                         # no version byte
        (c, ice, udt(1, message=(0, 1, 0))[:6]),                                            # message words cut short
        (c, ice, udt(1) + b"\x17\x11" + b"\x00" * 1400),                                    # over MAX_PACKET_SIZE
        # not ICE at all, on the ice-server port: unknown type, wrong version, control packet
        (c, ice, udt(1) + b"\x99\x01\x02\x03"),
        (c, ice, udt(1) + b"\x27\x11" + client.bytes + b"\x01"),
        (c, ice, struct.pack("<I", 0x80020000) + b"\x00" * 12),
        # STUN on the ice-server port and between ephemeral ports: Wireshark's STUN dissector
        (c, ice, struct.pack(">HHI", 0x0001, 0, 0x2112A442) + os.urandom(12)),
        (c, d, struct.pack(">HHI", 0x0001, 0, 0x2112A442) + os.urandom(12)),
        # garbage between ephemeral ports: the heuristic must not claim it
        (c, d, b"\x05\x00\x00\x00\x99\x01hello"),
        (c, d, udt(1) + b"\x27\x11" + client.bytes + b"\x01"),
    ]
    pcap = os.path.join(args.workdir, "synthetic.pcap")
    write_pcap(pcap, datagrams)
    problems, seen = compare(args, pcap, [ice])
    return report(problems, seen, ["malformed", "obfuscated", "stun", "heuristic"])


# ---------------------------------------------------------------------------------------------------

def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except Exception:
        return None


def metric(text, name, labels=""):
    """The value of the series `name{labels}` (labels: the exact text between the braces) in a scrape."""
    series = name + ("{" + labels + "}" if labels else "")
    for line in (text or "").splitlines():
        head, _, value = line.rpartition(" ")
        if head == series:
            return float(value)
    return 0.0


def live(args):
    if os.geteuid() != 0:
        log("SKIP: capturing on the loopback interface needs root (CI runs as root)")
        return SKIP
    work = args.workdir
    bins = args.bin_dir
    ice_port, http_port, domain_port, rogue_port, client_port, test_port = (
        free_port(), free_port(socket.SOCK_STREAM), free_port(), free_port(), free_port(), free_port())
    ports = [ice_port, domain_port, rogue_port, client_port, test_port]
    pcap = os.path.join(work, "live.pcapng")
    env = {k: v for k, v in os.environ.items() if k != "HIFI_METAVERSE_URL"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    processes = []

    def start(cmd, name):
        out = open(os.path.join(work, name + ".log"), "w")
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work)
        processes.append((p, name))
        return p

    capture_filter = "udp and (" + " or ".join(f"port {p}" for p in ports) + ")"
    dumpcap = start([args.dumpcap, "-q", "-i", "lo", "-f", capture_filter, "-w", pcap], "dumpcap")
    try:
        wait_for(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0 or dumpcap.poll() is not None,
                 "dumpcap to start")
        if dumpcap.poll() is not None:
            raise RuntimeError("dumpcap exited: " + open(os.path.join(work, "dumpcap.log")).read())
        time.sleep(0.5)  # dumpcap writes its file header just before the capture loop starts

        domain_id = run([os.path.join(bins, "tools/ice-keygen/ice-keygen"), "--keypair", os.path.join(work, "domain.key"),
                         "--keys-dir", os.path.join(work, "keys")], env=env).stdout.strip()
        start([os.path.join(bins, "ice-server/ice-server"), "--keys-dir", os.path.join(work, "keys"), "--bind", "127.0.0.1",
               "--port", str(ice_port), "--http-port", str(http_port), "--http-bind", "127.0.0.1"], "ice-server")
        metrics_url = f"http://127.0.0.1:{http_port}/metrics"
        wait_for(lambda: http_get(metrics_url) is not None, "the ice-server's /metrics")
        ice = f"127.0.0.1:{ice_port}"
        # A domain whose key the ice-server does not have: its heartbeats are denied.
        start([os.path.join(bins, "domain-server/domain-server"), "--domain-id", str(uuid.uuid4()),
               "--keypair", os.path.join(work, "rogue.key"), "--ice-server", ice, "--port", str(rogue_port)], "rogue-domain")
        start([os.path.join(bins, "domain-server/domain-server"), "--domain-id", domain_id,
               "--keypair", os.path.join(work, "domain.key"), "--ice-server", ice, "--port", str(domain_port)], "domain-server")
        wait_for(lambda: metric(http_get(metrics_url), "ice_server_registered_domains") == 1,
                 "the domain to register")
        client = run([os.path.join(bins, "interface-stub/interface-stub"), "--ice-server", ice, "--domain-id", domain_id,
                      "--port", str(client_port), "--keepalive", "2", "--timeout", "15"], env=env, cwd=work)
        log(client.stdout.strip())

        # Datagrams of our own: obfuscated (the ice-server must still answer), malformed, sourced, STUN.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", test_port))
            s.settimeout(3)
            me = uuid.uuid4()
            plain = query(me, v4("127.0.0.1", test_port), v4("127.0.0.1", test_port), uuid.UUID(domain_id))
            s.sendto(obfuscate(udt(1, level=2) + plain[4:], 4, 2), ("127.0.0.1", ice_port))
            reply, _ = s.recvfrom(2048)
            if reply[4] != 0x16:
                raise RuntimeError(f"the ice-server answered an obfuscated query with {reply.hex()}")
            s.sendto(udt(2) + b"\x17\x11" + me.bytes + b"\x07" + b"\x00" * 6, ("127.0.0.1", ice_port))
            s.sendto(obfuscate(udt(3, level=3) + ping(me, 2)[4:], 4, 3), ("127.0.0.1", domain_port))
            s.sendto(udt(4) + b"\x0d\x17" + struct.pack("<H", 7) + b"\x00" * 4, ("127.0.0.1", ice_port))
            s.sendto(struct.pack(">HHI", 0x0001, 0, 0x2112A442) + os.urandom(12), ("127.0.0.1", ice_port))
            s.recvfrom(2048)  # the STUN binding response
            # Let the rogue domain's denied heartbeats and the last replies land in the capture.
            wait_for(lambda: metric(http_get(metrics_url), "ice_server_packets_sent_total",
                                    'type="ICEServerHeartbeatDenied"') >= 1, "a Denied heartbeat")
            time.sleep(0.5)
    finally:
        for p, name in reversed(processes):
            if p.poll() is None:
                p.send_signal(signal.SIGINT if name == "dumpcap" else signal.SIGTERM)
        for p, name in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    problems, seen = compare(args, pcap, [ice_port])
    return report(problems, seen, ["malformed", "obfuscated", "stun", "heuristic"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["synthetic", "live"])
    parser.add_argument("--tshark", required=True)
    parser.add_argument("--dumpcap")
    parser.add_argument("--lua", required=True)
    parser.add_argument("--decoder", required=True)
    parser.add_argument("--bin-dir")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    for name in ("lua", "decoder", "bin_dir", "workdir"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    with tempfile.TemporaryDirectory(prefix="icebreaker-wireshark-") as tmp:
        args.workdir = args.workdir or tmp
        os.makedirs(args.workdir, exist_ok=True)
        try:
            return synthetic(args) if args.mode == "synthetic" else live(args)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or ""
            log(f"FAIL: {error} {detail}")
            for name in ("ice-server", "domain-server", "rogue-domain", "dumpcap"):
                path = os.path.join(args.workdir, name + ".log")
                if os.path.exists(path):
                    log(f"--- {name}.log (tail)\n" + "".join(open(path).readlines()[-15:]))
            return 1


if __name__ == "__main__":
    sys.exit(main())
