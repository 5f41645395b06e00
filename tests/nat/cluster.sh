#!/usr/bin/env bash
# Two ice-server nodes sharing one Redis, behind real NATs: the domain-server (behind an EIM NAT)
# heartbeats to node A only, every client (behind another EIM NAT) asks node B only.  B holds no
# registration of its own: it must look the domain up in Redis, answer the client with the
# domain's sockets, and have A (the only ice-server the domain's NAT lets in) send the client's
# record to the domain.  Every attempt must connect (CLUSTER_ATTEMPTS, default 20).
#
#   ice  203.0.113.10:7337  node A  ice-server --cluster redis://:***@203.0.113.50:6379 --node-id a
#   ice2 203.0.113.11:7337  node B  ice-server --cluster (same) --node-id b
#   redis 203.0.113.50:6379         redis-server (password, no persistence), started and stopped here
#   domain 198.18.1.10 behind dnat (eim)   --ice-server 203.0.113.10 (A only)
#   client 198.18.2.10 behind cnat (eim)   interface-stub --ice-server 203.0.113.11 (B only)
#
# Also checked: the record in Redis names node A as owner, node A received forwarded queries
# (Redis PUBLISH count), and the Redis password appears in neither node's log.
# Prints one line per attempt and a matrix-style row; exits 1 on failure, 2 when the testbed
# cannot be built.  See README.md "Two ice-server nodes on one Redis (cluster.sh)".
#
# Usage: cluster.sh BUILD_DIR
# Env:   CLUSTER_ATTEMPTS (20), CLUSTER_TIMEOUT (10 s per attempt), TB_KEEP_LOGS (keep the logs)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: cluster.sh BUILD_DIR}
ATTEMPTS=${CLUSTER_ATTEMPTS:-20}
TIMEOUT=${CLUSTER_TIMEOUT:-10}

# This scenario's public hosts, beside the standard ones of testbed_init.
CLUSTER_B_IP=203.0.113.11
CLUSTER_REDIS_IP=203.0.113.50
CLUSTER_REDIS_PORT=6379

testbed_preflight || { echo "cluster: refused: the NAT testbed cannot be built here" >&2; exit 2; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "cluster: refused: no redis-server / redis-cli (install redis-server)" >&2
    exit 2
fi
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS
REDIS_PASS=nat-$RANDOM$RANDOM$RANDOM
CLUSTER_URL="redis://:$REDIS_PASS@$CLUSTER_REDIS_IP:$CLUSTER_REDIS_PORT"

# redis-cli against the scenario's Redis, from the redis host (the password through the
# environment, so it is not on a command line).
rcli() {
    REDISCLI_AUTH=$REDIS_PASS testbed_run_in redis redis-cli --no-auth-warning -h "$CLUSTER_REDIS_IP" \
        -p "$CLUSTER_REDIS_PORT" "$@"
}

redis_start() {
    testbed_spawn redis redis redis-server --bind "$CLUSTER_REDIS_IP" --port "$CLUSTER_REDIS_PORT" \
        --requirepass "$REDIS_PASS" --save "" --appendonly no --dir "$TB_TMP" --daemonize no
    local tries=100
    while ((tries-- > 0)); do
        [[ $(rcli ping 2>/dev/null) == PONG ]] && return 0
        sleep 0.05
    done
    echo "cluster: redis-server did not answer; its log:" >&2
    sed 's/^/    /' "$TB_TMP/redis.log" >&2
    return 1
}

# One node: ROLE NODE-ID ADDRESS.  Returns once it listens and its alive key is in Redis.
NODE_LOGS=()
node_start() {
    local role=$1 id=$2 ip=$3 tries=100
    testbed_spawn "$role" "node-$id" "$ICE_SERVER_BIN" --bind "$ip" --port "$NAT_ICE_PORT" \
        --keys-dir "$NAT_KEYS_DIR" --http-port 0 --cluster "$CLUSTER_URL" --node-id "$id"
    NODE_LOGS+=("$TB_TMP/node-$id.log")
    if ! testbed_wait_udp "$role" "$NAT_ICE_PORT"; then
        echo "cluster: node $id did not start; its log:" >&2
        sed 's/^/    /' "$TB_TMP/node-$id.log" >&2
        return 1
    fi
    while ((tries-- > 0)); do
        [[ $(rcli exists "icebreaker:alive:$id" 2>/dev/null) == 1 ]] && return 0
        sleep 0.05
    done
    echo "cluster: node $id did not come up in Redis within 5 s; its log:" >&2
    sed 's/^/    /' "$TB_TMP/node-$id.log" >&2
    return 1
}

# One interface-stub run in `client` against node B, STUN from coturn (as the matrix's EIM cells).
stub_at_b() {
    local t0
    t0=$(date +%s%N)
    NAT_STUB_RC=0
    NAT_STUB_OUT=$(testbed_run_in client "$STUB_BIN" --ice-server "$CLUSTER_B_IP:$NAT_ICE_PORT" \
        --domain-id "$NAT_DOMAIN_ID" --stun-server "$TB_STUN_IP:$TB_STUN_PORT" --timeout "$TIMEOUT" 2>&1) ||
        NAT_STUB_RC=$?
    NAT_STUB_WALL_MS=$((($(date +%s%N) - t0) / 1000000))
    nat_parse_connected "$NAT_STUB_OUT"
}

yesno() { if "$@"; then echo yes; else echo no; fi; }

echo "== cluster: domain (eim) registered at node A only, clients (eim) query node B only, one Redis"
testbed_topology eim eim
testbed_stun_start
testbed_public_host ice2 "$CLUSTER_B_IP"
testbed_public_host redis "$CLUSTER_REDIS_IP"
nat_keygen
redis_start
node_start ice a "$TB_ICE_IP"
node_start ice2 b "$CLUSTER_B_IP"
nat_domain_start coturn # --ice-server A only (icelib's default)

# The registration reached Redis with A as owner (A publishes what it verified; B never saw it).
owner=
for ((i = 0; i < 100; i++)); do
    owner=$(rcli hget "icebreaker:domain:$NAT_DOMAIN_ID" o 2>/dev/null || true)
    [[ -n $owner ]] && break
    sleep 0.05
done
nat_check "registration in Redis, owned by node A" "$(yesno test "$owner" = a)" "owner '${owner:-none}'"
publish0=$(rcli info commandstats | awk -F'[:=,]' '/^cmdstat_publish:/ { print $3 }')

ok=0
times=()
vias=()
detail=""
for ((i = 1; i <= ATTEMPTS; i++)); do
    stub_at_b
    if [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS ]]; then
        ok=$((ok + 1))
        times+=("$NAT_STUB_MS")
        vias+=("$NAT_STUB_VIA")
        printf '  attempt %2d: connected via %s in %s ms\n' "$i" "$NAT_STUB_VIA" "$NAT_STUB_MS"
    else
        detail="attempt $i: exit $NAT_STUB_RC: $(tail -n 1 <<<"$NAT_STUB_OUT")"
        printf '  attempt %2d: FAILED, exit %s after %s ms: %s\n' "$i" "$NAT_STUB_RC" "$NAT_STUB_WALL_MS" \
            "$(tail -n 1 <<<"$NAT_STUB_OUT")"
    fi
done

publish1=$(rcli info commandstats | awk -F'[:=,]' '/^cmdstat_publish:/ { print $3 }')
forwards=$((${publish1:-0} - ${publish0:-0}))
stats=$(printf '%s\n' "${times[@]}" | nat_stats)
retried=$(printf '%s\n' "${times[@]}" | awk '$1 >= 2000 { n++ } END { print n + 0 }')
via=$(printf '%s\n' "${vias[@]}" | { grep . || true; } | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')

nat_check "clients at node B connect to the domain at node A" "$(yesno test "$ok" -eq "$ATTEMPTS")" \
    "connected $ok/$ATTEMPTS, median ${stats% *} ms, max ${stats#* } ms${detail:+; $detail}"
nat_check "B forwarded the queries to A through Redis" "$(yesno test "$forwards" -ge "$ok" -a "$ok" -gt 0)" \
    "$forwards PUBLISH for $ok connects"
leaked=$(grep -lF -- "$REDIS_PASS" "${NODE_LOGS[@]}" 2>/dev/null || true)
nat_check "the Redis password is in no node's log" "$(yesno test -z "$leaked")" "${leaked:-redacted}"

echo
printf '%-14s %-7s %-8s %8s %9s %9s %7s %7s  %-24s %s\n' cell stun expected attempts successes "median ms" "max ms" \
    retried via verdict
printf '%-14s %-7s %-8s %8s %9s %9s %7s %7s  %-24s %s\n' "eim x eim A/B" coturn connect "$ATTEMPTS" "$ok" \
    "${stats% *}" "${stats#* }" "$retried" "${via:--}" "$([[ $NAT_FAILS -eq 0 ]] && echo PASS || echo FAIL)"
echo "cluster: connected $ok/$ATTEMPTS through node B, median ${stats% *} ms ($((SECONDS - STARTED)) s)"
if [[ $NAT_FAILS -gt 0 ]]; then
    echo "cluster: $NAT_FAILS check(s) failed"
    exit 1
fi
echo "cluster: every check passed"
