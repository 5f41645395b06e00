#!/usr/bin/env bash
# Hostile traffic, EIM x EIM with coturn as STUN, real binaries:
#   1. replay: the attacker (203.0.113.66, public segment) captures a real heartbeat of the
#      domain as it arrives at the ice-server (AF_PACKET in the ice namespace, hostile.py
#      capture) and replays it from its own address; real clients still connect to the
#      real domain (its public address, not the attacker's).
#   2. query flood: the attacker sends ICEServerQuery with fresh client IDs whose public
#      and local sockets point at the victim (203.0.113.99).  The domain-server runs with
#      --max-pings-per-target $HOSTILE_MAX_PINGS; an nft counter on the victim counts every
#      UDP datagram arriving there, which must stay within the domain's bound:
#      max-pings-per-target x (floor(observed seconds / 10 s window) + 1); and real clients
#      still connect during the flood.
# Exits 1 on any failure, 2 when the testbed cannot be built.
#
# Usage: hostile.sh BUILD_DIR     Env: HOSTILE_MAX_PINGS (16), HOSTILE_FLOOD (300 queries),
#                                 HOSTILE_RATE (100 per second)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: hostile.sh BUILD_DIR}
MAX_PINGS=${HOSTILE_MAX_PINGS:-16}
FLOOD=${HOSTILE_FLOOD:-300}
RATE=${HOSTILE_RATE:-100}
WINDOW_S=10        # DomainGatekeeper::Options::pingWindowMs
HOSTILE=("$TB_PYTHON" "$HERE/hostile.py")

testbed_preflight || { echo "hostile: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS

# N clients one after the other; each must connect to the domain's real public socket.
real_clients() {
    local label=$1 n=$2 i ok=0 where=()
    for ((i = 0; i < n; i++)); do
        nat_stub coturn --timeout 10
        if [[ $NAT_STUB_RC -eq 0 && $NAT_STUB_OUT == *" at $TB_DOMAIN_PUBLIC_IP:$NAT_DOMAIN_PORT via "* ]]; then
            ok=$((ok + 1))
            where+=("$NAT_STUB_MS")
        else
            where+=("exit $NAT_STUB_RC: $(head -n 1 <<<"$NAT_STUB_OUT")")
        fi
    done
    nat_check "$label" "$([[ $ok -eq $n ]] && echo yes || echo no)" \
        "$ok/$n connected to $TB_DOMAIN_PUBLIC_IP:$NAT_DOMAIN_PORT (ms: ${where[*]})"
}

echo "== hostile traffic: EIM x EIM, coturn as STUN, domain --max-pings-per-target $MAX_PINGS"
testbed_topology eim eim
testbed_stun_start
nat_keygen
nat_ice_start
nat_domain_start coturn --max-pings-per-target "$MAX_PINGS"
real_clients "baseline: real clients connect" 2

# ---- 1. heartbeat replay from the attacker's address ------------------------------
HB=$TB_TMP/heartbeat.bin
capture=$(testbed_run_in ice "${HOSTILE[@]}" capture --iface eth0 --port "$NAT_ICE_PORT" --type 38 --out "$HB" --timeout 5 || true)
nat_check "replay: a real heartbeat captured at the ice-server" "$([[ -s $HB ]] && echo yes || echo no)" "${capture:-nothing captured}"
if [[ -s $HB ]]; then
    testbed_run_in attacker "${HOSTILE[@]}" replay --file "$HB" --to "$TB_ICE_IP:$NAT_ICE_PORT" \
        --bind "$TB_ATTACKER_IP:40000" --count 80 --rate 20 >"$TB_TMP/replay.out" 2>&1 &
    REPLAY_PID=$!
    TB_PIDS+=("$REPLAY_PID")
    sleep 0.5
    real_clients "replay: real clients connect to the real domain meanwhile" 3
    wait "$REPLAY_PID" || true
    echo "      attacker: $(cat "$TB_TMP/replay.out")"
    real_clients "replay: and after it" 2
fi

# ---- 2. query flood pointing at the victim ---------------------------------------
testbed_rx_counter_install victim
rx0=$(testbed_rx_counter victim)
flood_start=$(date +%s%N)
testbed_run_in attacker "${HOSTILE[@]}" flood --to "$TB_ICE_IP:$NAT_ICE_PORT" --bind "$TB_ATTACKER_IP:40001" \
    --domain-id "$NAT_DOMAIN_ID" --victim "$TB_VICTIM_IP:5000" --count "$FLOOD" --rate "$RATE" >"$TB_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
TB_PIDS+=("$FLOOD_PID")
sleep 0.3
real_clients "flood: real clients connect during the flood" 3
wait "$FLOOD_PID" || true
sleep 2.5   # the domain's last punch rounds (8 x 250 ms) for the last introductions
rx1=$(testbed_rx_counter victim)
observed_s=$((($(date +%s%N) - flood_start) / 1000000000))
bound=$((MAX_PINGS * (observed_s / WINDOW_S + 1)))
received=$((rx1 - rx0))
echo "      attacker: $(cat "$TB_TMP/flood.out")"
suppressed=$(grep -c "ping budget for $TB_VICTIM_IP" "$NAT_DOMAIN_LOG" || true)
# The domain's own evidence that the flood reached it: introductions naming the victim (it logs
# each "introduced; punching to <victim>") and refusals at the victim's per-address limit.  Victim
# arrivals cannot show it: the first punch rounds go out with TTL 2 and die before the victim, and
# the budget may stop the rest, so 0 arrivals is a correct outcome.
victim_intros=$(grep -c "introduced; punching to $TB_VICTIM_IP:" "$NAT_DOMAIN_LOG" || true)
victim_refused=$(grep -c "ICE peers at $TB_VICTIM_IP still punching" "$NAT_DOMAIN_LOG" || true)
unbounded=$(awk '/flooded/ { print $2 * 8 }' "$TB_TMP/flood.out")
nat_check "flood: victim receives no more than the domain's bound" "$([[ $received -le $bound ]] && echo yes || echo no)" \
    "victim got $received datagrams in ${observed_s} s; bound $MAX_PINGS per ${WINDOW_S} s window = $bound (unbounded: up to ${unbounded:-?})"
nat_check "flood: the flood did reach the domain (test not vacuous)" "$([[ ${victim_intros:-0} -gt 0 ]] && echo yes || echo no)" \
    "domain took ${victim_intros:-0} introduction(s) naming the victim; logged its per-address limit ${victim_refused:-0} and the victim's ping budget $suppressed time(s) (rate-limited lines); victim got $received"
real_clients "flood: real clients connect after it" 2

echo "hostile: $NAT_FAILS failure(s) ($((SECONDS - STARTED)) s)"
[[ $NAT_FAILS -eq 0 ]]
