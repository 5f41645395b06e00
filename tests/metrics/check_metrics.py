#!/usr/bin/env python3
"""Checks the ice-server's /metrics with the real tools that read it.

  check_metrics.py promtool  --ice-server BIN --promtool PROMTOOL
      starts the ice-server on loopback, sends it some traffic (a query, a malformed datagram, a STUN
      request), scrapes /metrics with curl and runs `promtool check metrics`: any problem or warning fails.
  check_metrics.py promtool  --ice-server BIN --promtool PROMTOOL --redis-server REDIS
      the same in cluster mode: a redis-server with a password on loopback, the ice-server with
      --cluster; the scrape must also hold the cluster families and never the password.
  check_metrics.py dashboard --ice-server BIN --dashboard docs/grafana-ice-server.json
      every metric a PromQL expression of the Grafana dashboard names exists in a scrape, every label
      a selector matches on is a label of that metric, and every exact label value matches a series.

Standard library only (plus curl for the scrape).
"""

import argparse
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

# PromQL words that are not metric names.
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "histogram_quantile", "abs",
    "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max", "label_values", "label_replace", "label_join",
    "vector", "scalar", "time", "timestamp", "absent", "changes", "resets", "sort", "sort_desc",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "last_over_time",
    "inf", "nan",
}
# Labels Prometheus adds when it scrapes; a scrape of the endpoint itself does not have them.
TARGET_LABELS = {"instance", "job"}
REQUIRED_PANELS = ["Registered domains", "Heartbeats/s", "Queries/s", "Drops/s by reason", "Verify-cache hit rate",
                   "Key fetches/s"]


def log(*args):
    print(*args, flush=True)


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url):
    result = subprocess.run(["curl", "-sf", "--max-time", "5", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return result.stdout if result.returncode == 0 else None


REDIS_PASSWORD = "metrics-Test-Secret"


class Redis:
    """A redis-server on a free loopback port with a password, no persistence."""

    def __init__(self, binary, workdir):
        self.port = free_port(socket.SOCK_STREAM)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", workdir, "--requirepass", REDIS_PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.1)
        self.url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.port}/0"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class IceServer:
    """The ice-server binary on loopback with a free UDP and HTTP port."""

    def __init__(self, binary, workdir, extra=()):
        self.udp_port, self.http_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
        self.log_path = os.path.join(workdir, "ice-server.log")
        self.url = f"http://127.0.0.1:{self.http_port}/metrics"
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.udp_port), "--http-bind", "127.0.0.1",
             "--http-port", str(self.http_port), "--keys-dir", os.path.join(workdir, "keys"), *extra],
            stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k != "HIFI_METAVERSE_URL"})
        deadline = time.monotonic() + 15
        while scrape(self.url) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ice-server did not serve /metrics:\n" + open(self.log_path).read())
            time.sleep(0.1)

    def send_traffic(self):
        """A query for an unknown domain, a malformed datagram and a STUN request: non-zero counters."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(3)
            target = ("127.0.0.1", self.udp_port)
            me = b"\x00" + socket.inet_aton("127.0.0.1") + struct.pack(">H", s.getsockname()[1])
            s.sendto(struct.pack("<I", 1) + b"\x17\x11" + uuid.uuid4().bytes + me + me + uuid.uuid4().bytes, target)
            s.sendto(struct.pack("<I", 2) + b"\x17\x11" + b"\x00" * 5, target)
            s.sendto(struct.pack(">HHI", 1, 0, 0x2112A442) + os.urandom(12), target)
            s.recvfrom(2048)  # the STUN response: the ice-server has read all three
        time.sleep(1.5)      # the metrics mirror the counters once a second

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def parse_exposition(text):
    """{metric name: [label dicts]} and {metric name: type} from Prometheus text format."""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            match = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s', line)
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
            series.setdefault(match.group(1), []).append(labels)
    return series, types


def wait_for(url, line, seconds=10):
    """Scrapes until a line of the exposition is exactly line (the mirror lags by up to a second)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if line in (scrape(url) or "").splitlines():
            return True
        time.sleep(0.2)
    return False


def check_promtool(args, server):
    if args.redis_server:
        wait_for(server.url, "ice_server_cluster_lookups_total 1")
    text = scrape(server.url)
    if args.redis_server:
        problems = check_cluster_families(text)
        if problems:
            return problems
    result = subprocess.run([args.promtool, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    output = (result.stdout + result.stderr).strip()
    log(f"promtool check metrics: exit {result.returncode}" + (f"\n{output}" if output else ", no output"))
    problems = []
    if result.returncode != 0 or output:
        problems.append("promtool reported problems")
    series, types = parse_exposition(text)
    for name in series:
        if name not in types:
            problems.append(f"{name} has no # TYPE line")
        if not re.search(rf"^# HELP {re.escape(name)} \S", text, re.M):
            problems.append(f"{name} has no # HELP text")
    log(f"{len(series)} metric families, {sum(len(v) for v in series.values())} series")
    return problems


def check_cluster_families(text):
    problems = []
    if REDIS_PASSWORD in text:
        problems.append("the Redis password is in /metrics")
    for wanted in ["ice_server_cluster_redis_up 1", "ice_server_cluster_lookups_total 1",
                   'ice_server_cluster_lookup_results_total{result="not_found"} 1', "redis=\"redis://:***@127.0.0.1:"]:
        if wanted not in text:
            problems.append(f"no {wanted!r} in the cluster scrape")
    return problems


def expressions(dashboard):
    """Every PromQL expression of the dashboard: panel targets and templating queries."""
    exprs = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            exprs.append((panel.get("title", "?"), target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query":
            exprs.append((f"variable {variable['name']}", query["query"] if isinstance(query, dict) else query))
    return exprs


def check_dashboard(args, server):
    series, _ = parse_exposition(scrape(server.url))
    with open(args.dashboard) as f:
        dashboard = json.load(f)
    problems = []
    titles = [p.get("title", "") for p in dashboard.get("panels", [])]
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(set(ids)) != len(ids) or None in ids:
        problems.append(f"panel ids must be present and unique: {ids}")
    for panel in dashboard.get("panels", []):
        if not panel.get("targets") or "gridPos" not in panel or "datasource" not in panel:
            problems.append(f"panel {panel.get('title')!r} lacks targets, gridPos or datasource")
    for wanted in REQUIRED_PANELS:
        if not any(t.startswith(wanted) for t in titles):
            problems.append(f"no panel titled {wanted!r}")
    names_used = set()
    for where, expr in expressions(dashboard):
        # Grafana's label_values(METRIC, LABEL): the second argument names a label, not a metric.
        expr = re.sub(r'label_values\(\s*([^,()]+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)', r'label_values(\1)', expr)
        # Selectors with their matchers; what is left once they, ranges and grouping clauses are gone
        # must be PromQL words and numbers only.
        for name, _, matchers in re.findall(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})', expr):
            names_used.add(name)
            if name not in series:
                problems.append(f"{where}: {name} is not in /metrics")
                continue
            for label, op, value in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"', matchers):
                if label in TARGET_LABELS:
                    continue
                if not any(label in s for s in series[name]):
                    problems.append(f"{where}: {name} has no label {label}")
                elif op == "=" and not any(s.get(label) == value for s in series[name]):
                    problems.append(f"{where}: no {name} series with {label}=\"{value}\"")
        rest = re.sub(r'\{[^}]*\}', ' ', expr)
        rest = re.sub(r'\[[^\]]*\]', ' ', rest)
        rest = re.sub(r'\b(by|without)\s*\([^)]*\)', ' ', rest)
        rest = re.sub(r'"[^"]*"', ' ', rest)
        for word in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', rest):
            if word in PROMQL_WORDS:
                continue
            names_used.add(word)
            if word not in series:
                problems.append(f"{where}: {word} is not in /metrics")
    log(f"{len(expressions(dashboard))} expressions, metrics used: {', '.join(sorted(names_used))}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["promtool", "dashboard"])
    parser.add_argument("--ice-server", required=True)
    parser.add_argument("--promtool")
    parser.add_argument("--dashboard")
    parser.add_argument("--redis-server", help="cluster mode: start this redis-server and pass --cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="icebreaker-metrics-") as work:
        redis = None
        try:
            extra = []
            if args.redis_server:
                redis = Redis(args.redis_server, work)
                extra = ["--cluster", redis.url, "--node-id", "metrics-node"]
            server = IceServer(args.ice_server, work, extra)
        except RuntimeError as error:
            log(f"FAIL: {error}")
            if redis:
                redis.stop()
            return 1
        try:
            if redis:
                # Queries reach Redis only once the node is connected (else they count as errors).
                wait_for(server.url, "ice_server_cluster_redis_up 1")
            server.send_traffic()
            problems = check_promtool(args, server) if args.mode == "promtool" else check_dashboard(args, server)
        finally:
            server.stop()
            if redis:
                redis.stop()
    for problem in problems:
        log("FAIL:", problem)
    log("PASS" if not problems else f"{len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
