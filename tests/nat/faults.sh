#!/usr/bin/env bash
# Faults, EIM x EIM with coturn as STUN, real binaries:
#   1. ice-server killed during a run: a client meanwhile gets "ice-server silent" (exit 2);
#      a fresh ice-server (no state) on the same address learns the domain from its next
#      heartbeats, and new clients connect.
#   2. the domain's NAT mappings flushed (conntrack -F in dnat) while a client keeps alive:
#      the client says "path lost" and "reconnected" (through the ice-server), the domain's
#      heartbeats go on from the new mapping, and a new client connects too.
#   3. domain-server restarted on a new port: new clients connect to the new port.
# Prints one line per check; exits 1 on any failure, 2 when the testbed cannot be built.
#
# Usage: faults.sh BUILD_DIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: faults.sh BUILD_DIR}
testbed_preflight || { echo "faults: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS

# A new client must connect (3 attempts in a row, each within 10 s).
clients_connect() {
    local label=$1 n=${2:-3} i ok=0 times=()
    for ((i = 0; i < n; i++)); do
        nat_stub coturn --timeout 10
        if [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS ]]; then
            ok=$((ok + 1))
            times+=("$NAT_STUB_MS ms at ${NAT_STUB_OUT##* at }")
        fi
    done
    local last=none
    [[ ${#times[@]} -gt 0 ]] && last=${times[${#times[@]} - 1]}
    nat_check "$label" "$([[ $ok -eq $n ]] && echo yes || echo no)" "$ok/$n connected (last: ${last%% via*})"
}

echo "== faults: EIM x EIM, coturn as STUN"
testbed_topology eim eim
testbed_stun_start
nat_keygen
nat_ice_start
nat_domain_start coturn
clients_connect "baseline: new clients connect"

# ---- 1. ice-server killed and restarted ------------------------------------------
nat_stop "$NAT_ICE_PID"
nat_stub coturn --timeout 3
nat_check "ice-server down: a client exits 2 (ice-server silent)" \
    "$([[ $NAT_STUB_RC -eq 2 ]] && echo yes || echo no)" "exit $NAT_STUB_RC: $(tail -n 1 <<<"$NAT_STUB_OUT")"
nat_ice_start
# the new ice-server knows nothing; the domain's next heartbeat (1 s) registers it again
sleep 1.5
clients_connect "ice-server restarted: new clients connect"

# ---- 2. the domain's NAT mappings flushed under a keepalive ----------------------
KA_OUT=$TB_TMP/keepalive.out
testbed_run_in client "$STUB_BIN" --ice-server "$TB_ICE_IP:$NAT_ICE_PORT" --domain-id "$NAT_DOMAIN_ID" \
    --stun-server "$TB_STUN_IP:$TB_STUN_PORT" --timeout "${FAULTS_RECONNECT_TIMEOUT:-30}" --keepalive 36 >"$KA_OUT" 2>&1 &
KA_PID=$!
TB_PIDS+=("$KA_PID")
nat_wait_log "$KA_OUT" "rtt" 10 2 || true
before=$(testbed_mapping dnat "$TB_DOMAIN_IP" "$NAT_DOMAIN_PORT" "$TB_ICE_IP")
flush_at=$SECONDS
testbed_run_in dnat conntrack -F >/dev/null 2>&1
echo "      flushed dnat's conntrack (domain heartbeat mapping was $before)"
nat_wait_log "$KA_OUT" "reconnected to domain" 40 || true
KA_RC=0
wait "$KA_PID" || KA_RC=$?
sed 's/^/      stub: /' "$KA_OUT" | grep -v ' rtt ' || true
after=$(testbed_mapping dnat "$TB_DOMAIN_IP" "$NAT_DOMAIN_PORT" "$TB_ICE_IP")
lost=$(grep -m1 '^path lost' "$KA_OUT" || true)
recon=$(grep -m1 '^reconnected to domain' "$KA_OUT" || true)
nat_check "flush: client reports the path lost" "$([[ -n $lost ]] && echo yes || echo no)" "${lost:-no 'path lost' line}"
nat_check "flush: client reconnects through the ice-server" "$([[ -n $recon ]] && echo yes || echo no)" \
    "${recon:-no 'reconnected' line} (exit $KA_RC)"
replies_after=$(awk '/^reconnected/ { r = 1; next } r && / rtt / { n++ } END { print n + 0 }' "$KA_OUT")
nat_check "flush: keepalive replies over the new path" "$([[ $replies_after -gt 0 && $KA_RC -eq 0 ]] && echo yes || echo no)" \
    "$replies_after replies after reconnecting; $(grep -m1 '^keepalive done' "$KA_OUT" || echo 'no summary')"
nat_check "flush: domain heartbeats from its new mapping" "$([[ -n $after ]] && echo yes || echo no)" \
    "heartbeat mapping before $before, after ${after:-none} ($((SECONDS - flush_at)) s after the flush)"
clients_connect "flush: new clients connect"

# ---- 3. domain-server restarted on a new port -------------------------------------
old_port=$NAT_DOMAIN_PORT
nat_stop "$NAT_DOMAIN_PID"
NAT_DOMAIN_PORT=$((NAT_DOMAIN_PORT + 1))
nat_domain_start coturn
clients_connect "domain restarted on port $NAT_DOMAIN_PORT (was $old_port): new clients connect"
nat_stub coturn --timeout 10
nat_check "domain restarted: clients reach the new port" \
    "$([[ $NAT_STUB_RC -eq 0 && $NAT_STUB_OUT == *":$NAT_DOMAIN_PORT via "* ]] && echo yes || echo no)" \
    "$(head -n 1 <<<"$NAT_STUB_OUT")"

echo "faults: $NAT_FAILS failure(s) ($((SECONDS - STARTED)) s)"
[[ $NAT_FAILS -eq 0 ]]
