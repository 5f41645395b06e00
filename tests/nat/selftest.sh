#!/usr/bin/env bash
# Self-test of the NAT testbed: proves that each NAT function behaves as it
# claims (with coturn as the STUN server and a one-socket STUN client), that
# every router drops unsolicited inbound traffic, that the same-NAT topology has
# no hairpin and the CGNAT topology maps twice, and re-measures the
# first-packet problem of docs/design.md with a short punch experiment.
# Prints a table; exits 1 on any mismatch, 2 when the testbed cannot run here
# (the caller decides whether that refusal fails the build: in CI it must).
#
# Env: SELFTEST_PUNCH_RUNS (default 4) attempts per punch variant.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"

if ! testbed_preflight; then
    echo "selftest: refused: the NAT testbed needs root, ip netns, nft and conntrack" >&2
    exit 2
fi

NATTOOL=("$TB_PYTHON" "$HERE/nattool.py")
STUN1=$TB_STUN_IP:$TB_STUN_PORT
STUN2=$TB_STUN2_IP:$TB_STUN2_PORT
PUNCH_RUNS=${SELFTEST_PUNCH_RUNS:-4}
FAILS=0
STARTED=$SECONDS
PREFIXES=()

# One table row per check, so the log reads as evidence, not just PASS.
check() {
    local name=$1 expected=$2 measured=$3 verdict=PASS
    [[ $expected == "$measured" ]] || { verdict=FAIL; FAILS=$((FAILS + 1)); }
    printf '%-4s  %-46s  expected %-26s  measured %s\n' "$verdict" "$name" "$expected" "$measured"
}

# A row that records a measurement without asserting it (a race by nature).
note() {
    printf '%-4s  %-46s  %s\n' "info" "$1" "$2"
}

# Mapped address(es) the STUN servers report for one local socket of ROLE.
stun_mapped() {
    local role=$1 bind=$2
    shift 2
    local args=() server
    for server in "$@"; do args+=(--server "$server"); done
    testbed_run_in "$role" "${NATTOOL[@]}" stun --bind "$bind" "${args[@]}" | awk '{ print $3 }'
}

# Filtering proof for one LAN host behind its outermost router: the host sends
# one datagram to attacker:7000 (opening a mapping towards exactly that
# endpoint); the attacker learns the mapping from what it received.  Then, in
# this order: the attacker from 7001 and the victim from 7000 send 3 datagrams
# each to the mapping, the router's upstream neighbour (inet) sends 3 straight
# to the host's LAN address, and last the attacker from 7000 (the solicited
# endpoint) sends 3.  Port-restricted filtering lets only those last 3 in,
# and the router's counters see the 9 others.
check_filtering() {
    local label=$1 host=$2 host_ip=$3 router=$4 router_wan=$5
    local host_out mapping before after lan_net=${host_ip%.*}.0/24
    before=$(testbed_unsolicited_count "$router")
    testbed_run_in attacker "${NATTOOL[@]}" listen --bind "$TB_ATTACKER_IP:7000" --seconds 3 --count 1 >"$TB_TMP/att.out" &
    local att_pid=$!
    testbed_wait_udp attacker 7000
    testbed_run_in "$host" "${NATTOOL[@]}" listen --bind "$host_ip:6000" --hello "$TB_ATTACKER_IP:7000" \
        --seconds 3 --count 3 >"$TB_TMP/host.out" &
    local host_pid=$!
    wait "$att_pid"
    mapping=$(awk '$1 == "from" { print $2; exit }' "$TB_TMP/att.out")
    testbed_run_in attacker "${NATTOOL[@]}" send --bind "$TB_ATTACKER_IP:7001" --to "$mapping" --count 3
    testbed_run_in victim "${NATTOOL[@]}" send --bind "$TB_VICTIM_IP:7000" --to "$mapping" --count 3
    testbed_run_in inet ip route replace "$lan_net" via "$router_wan"
    testbed_run_in inet "${NATTOOL[@]}" send --bind "0.0.0.0:7002" --to "$host_ip:6000" --count 3
    testbed_run_in inet ip route del "$lan_net" via "$router_wan"
    testbed_run_in attacker "${NATTOOL[@]}" send --bind "$TB_ATTACKER_IP:7000" --to "$mapping" --count 3
    wait "$host_pid"
    host_out=$(awk '$1 == "from" { printf "%s%s", sep, $2 "x" $3; sep = "," }' "$TB_TMP/host.out")
    after=$(testbed_unsolicited_count "$router")
    check "$label: what reaches the LAN host" "$TB_ATTACKER_IP:7000x3" "$host_out"
    check "$label: $router counted unsolicited" "9" "$((after - before))"
}

# N punch attempts between domain and client with the given first-round TTLs;
# prints "ok/N".
punch_runs() {
    local dttl=$1 cttl=$2 n=$3 ok=0 i
    for ((i = 0; i < n; i++)); do
        testbed_flush_nat
        PUNCH_PORT=$((PUNCH_PORT + 1))
        if testbed_punch_attempt "$dttl" "$cttl" "$PUNCH_PORT" >/dev/null; then ok=$((ok + 1)); fi
    done
    echo "$ok/$n"
}

# Remember each run's prefix so the end can prove nothing of it is left.
remember_prefix() { PREFIXES+=("$TB_PREFIX"); }

echo "== NAT testbed self-test (router input policy: $TB_ROUTER_INPUT)"

# --- 1. separate domain and client sites; walk none / eim / sym in place -----
testbed_topology eim eim
remember_prefix
testbed_stun_start
TURN_PIDS=("${TB_PIDS[@]}")

testbed_side_nat domain none
testbed_side_nat client none
check "none: domain mapped (nattool)" "$TB_DOMAIN_IP:5000" "$(stun_mapped domain "$TB_DOMAIN_IP:5000" "$STUN1")"
cot=$(testbed_run_in client timeout 3 turnutils_stunclient -p "$TB_STUN_PORT" "$TB_STUN_IP" |
    awk '/reflexive addr/ { sub(/:[0-9]+$/, "", $NF); print $NF; exit }')
check "none: client mapped IP (turnutils_stunclient)" "$TB_CLIENT_IP" "$cot"

for mode in eim sym; do
    testbed_side_nat domain "$mode"
    testbed_side_nat client "$mode"
    for side in domain client; do
        if [[ $side == domain ]]; then ip=$TB_DOMAIN_IP pub=$TB_DOMAIN_WAN_IP; else ip=$TB_CLIENT_IP pub=$TB_CLIENT_WAN_IP; fi
        mapfile -t m < <(stun_mapped "$side" "$ip:5001" "$STUN1" "$STUN2")
        p1=${m[0]##*:} p2=${m[1]##*:}
        check "$mode: $side mapped IP (both servers)" "$pub $pub" "${m[0]%:*} ${m[1]%:*}"
        if [[ $mode == eim ]]; then
            check "eim: $side same port to both servers" "5001 5001" "$p1 $p2"
        else
            same=same; [[ $p1 != "$p2" ]] && same=different
            check "sym: $side port per destination ($p1, $p2)" "different" "$same"
        fi
        check_filtering "$mode: $side" "$side" "$ip" "${side:0:1}nat" "$pub"
    done
done
cot=$(testbed_run_in client timeout 3 turnutils_stunclient -p "$TB_STUN_PORT" "$TB_STUN_IP" |
    awk '/reflexive addr/ { sub(/:[0-9]+$/, "", $NF); print $NF; exit }')
check "sym: client mapped IP (turnutils_stunclient)" "$TB_CLIENT_WAN_IP" "$cot"

# --- 2. the first-packet problem, EIM on both sides ------------------------
testbed_side_nat domain eim
testbed_side_nat client eim
PUNCH_PORT=30000
export TB_PUNCH_TIMEOUT=2   # 8 rounds of 250 ms: where upstream gives up and re-queries
ttl=$((TB_DOMAIN_NAT_HOPS + 1))
note "eim/eim punch, plain (no low TTL)" "$(punch_runs 0 0 "$PUNCH_RUNS") connected (a race; not asserted)"
check "eim/eim punch, first round TTL $ttl both sides" "$PUNCH_RUNS/$PUNCH_RUNS" "$(punch_runs "$ttl" "$ttl" "$PUNCH_RUNS")"
testbed_teardown

# --- 3. both peers behind one NAT: no hairpin ------------------------------
testbed_topology same same
remember_prefix
testbed_stun_start
TURN_PIDS+=("${TB_PIDS[@]}")
dmap=$(stun_mapped domain "$TB_DOMAIN_IP:5000" "$STUN1")
cmap=$(stun_mapped client "$TB_CLIENT_IP:5000" "$STUN1")
check "same: both map to one public IP" "$TB_DOMAIN_WAN_IP $TB_DOMAIN_WAN_IP" "${dmap%:*} ${cmap%:*}"
testbed_run_in domain "${NATTOOL[@]}" listen --bind "$TB_DOMAIN_IP:5000" --seconds 1 >"$TB_TMP/same.out" &
lpid=$!
testbed_wait_udp domain 5000
testbed_run_in client "${NATTOOL[@]}" send --bind "$TB_CLIENT_IP:5101" --to "$dmap" --count 3
testbed_run_in client "${NATTOOL[@]}" send --bind "$TB_CLIENT_IP:5102" --to "$TB_DOMAIN_IP:5000" --count 3
wait "$lpid"
got=$(awk '$1 == "from" { printf "%s%s", sep, $2 "x" $3; sep = "," }' "$TB_TMP/same.out")
check "same: domain receives local only, no hairpin" "$TB_CLIENT_IP:5102x3" "$got"
check_filtering "same: domain" domain "$TB_DOMAIN_IP" snat "$TB_DOMAIN_WAN_IP"
testbed_teardown

# --- 4. domain behind two NATs in a row (CGNAT) ----------------------------
testbed_topology eim cgnat
remember_prefix
testbed_stun_start
TURN_PIDS+=("${TB_PIDS[@]}")
home_wan=${TB_DOMAIN_CARRIER_NET%.0/24}.2
check "cgnat: domain mapped by STUN" "$TB_DOMAIN_WAN_IP:5000" "$(stun_mapped domain "$TB_DOMAIN_IP:5000" "$STUN1")"
check "cgnat: home NAT maps (conntrack dnat)" "$home_wan:5000" "$(testbed_mapping dnat "$TB_DOMAIN_IP" 5000 "$TB_STUN_IP")"
check "cgnat: carrier maps again (conntrack dcgn)" "$TB_DOMAIN_WAN_IP:5000" "$(testbed_mapping dcgn "$home_wan" 5000 "$TB_STUN_IP")"
check_filtering "cgnat: domain" domain "$TB_DOMAIN_IP" dcgn "$TB_DOMAIN_WAN_IP"
PUNCH_PORT=31000
export TB_PUNCH_TIMEOUT=2
check "cgnat/eim punch, TTL $((TB_DOMAIN_NAT_HOPS + 1)) domain, $((TB_CLIENT_NAT_HOPS + 1)) client" "$PUNCH_RUNS/$PUNCH_RUNS" \
    "$(punch_runs $((TB_DOMAIN_NAT_HOPS + 1)) $((TB_CLIENT_NAT_HOPS + 1)) "$PUNCH_RUNS")"
testbed_teardown

# --- 5. nothing left behind --------------------------------------------------
left=0
for p in "${PREFIXES[@]}"; do
    left=$((left + $(ip netns list | grep -c "^$p-" || true)))
done
check "namespaces left behind" "0" "$left"
alive=0
for pid in "${TURN_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
check "turnserver processes left running" "0" "$alive"

echo "== $((SECONDS - STARTED)) s, $FAILS failed"
[[ $FAILS -eq 0 ]]
