#!/bin/sh
# connect-bench.sh [BUILD_DIR] [RUNS]
# Connects interface-stub to a domain on loopback RUNS times (default 20) through a local ice-server
# and prints each time to connect, then the median and the worst. Two figures per run: "connect",
# the time interface-stub reports from its ICE query to the punched path, and "wall", the whole
# interface-stub process (start-up and STUN discovery included). Builds nothing: BUILD_DIR
# (default build/qt6) must already hold ice-server, domain-server, interface-stub and ice-keygen.
# Everything it starts is stopped, and its temporary keys removed, when it exits.
set -eu

BUILD_DIR=${1:-build/qt6}
RUNS=${2:-20}

ICE_SERVER=$BUILD_DIR/ice-server/ice-server
DOMAIN_SERVER=$BUILD_DIR/domain-server/domain-server
STUB=$BUILD_DIR/interface-stub/interface-stub
KEYGEN=$BUILD_DIR/tools/ice-keygen/ice-keygen
for bin in "$ICE_SERVER" "$DOMAIN_SERVER" "$STUB" "$KEYGEN"; do
    [ -x "$bin" ] || { echo "connect-bench: $bin not found; build first (cmake --build $BUILD_DIR)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/connect-bench.XXXXXX")
ICE_PID=
DOMAIN_PID=
cleanup() {
    for pid in $DOMAIN_PID $ICE_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free UDP port on loopback: bind port 0, read what the kernel chose.
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ICE_PORT=$(free_port)
DOMAIN_PORT=$(free_port)
DOMAIN_ID=$("$KEYGEN" --keypair "$WORK/domain.key" --keys-dir "$WORK/keys" 2>/dev/null)

"$ICE_SERVER" --bind 127.0.0.1 --port "$ICE_PORT" --keys-dir "$WORK/keys" --http-port 0 >"$WORK/ice-server.log" 2>&1 &
ICE_PID=$!
"$DOMAIN_SERVER" --domain-id "$DOMAIN_ID" --keypair "$WORK/domain.key" --ice-server "127.0.0.1:$ICE_PORT" \
    --port "$DOMAIN_PORT" >"$WORK/domain-server.log" 2>&1 &
DOMAIN_PID=$!

# Wait (at most 15 s) until the domain is registered, so the runs measure connecting, not start-up.
i=0
until grep -q "registered with ice-server" "$WORK/domain-server.log"; do
    i=$((i + 1))
    if [ $i -gt 150 ] || ! kill -0 "$DOMAIN_PID" 2>/dev/null; then
        echo "connect-bench: the domain did not register; its log:" >&2
        cat "$WORK/domain-server.log" >&2
        exit 1
    fi
    sleep 0.1
done

echo "connect-bench: domain $DOMAIN_ID on 127.0.0.1:$DOMAIN_PORT, ice-server 127.0.0.1:$ICE_PORT, $RUNS runs"
: >"$WORK/times"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
: >"$WORK/walls"
n=1
while [ $n -le "$RUNS" ]; do
    start=$(now_ms)
    if ! out=$("$STUB" --ice-server "127.0.0.1:$ICE_PORT" --domain-id "$DOMAIN_ID" --timeout 10 2>&1); then
        echo "run $n: FAILED" >&2
        echo "$out" >&2
        exit 1
    fi
    # interface-stub prints "connected to domain ... in N ms".
    ms=$(echo "$out" | sed -n 's/.* in \([0-9][0-9]*\) ms.*/\1/p' | head -n 1)
    [ -n "$ms" ] || { echo "run $n: no time in: $out" >&2; exit 1; }
    wall=$(($(now_ms) - start))
    echo "run $n: connect $ms ms, wall $wall ms"
    echo "$ms" >>"$WORK/times"
    echo "$wall" >>"$WORK/walls"
    n=$((n + 1))
done

summary() {
    sort -n "$1" | awk -v what="$2" '
        { t[NR] = $1 }
        END {
            median = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%s: median %s ms, worst %s ms (%d runs)\n", what, median, t[NR], NR
        }'
}
summary "$WORK/times" "connect"
summary "$WORK/walls" "wall   "

