#!/usr/bin/env bash
# The NAT matrix: for each pair (client's NAT x domain's NAT) start
# ice-server (in `ice`), domain-server (in `domain`) and interface-stub (in `client`) with
# the real binaries, and assert the expected outcome of every cell:
#   connect  20 attempts (MATRIX_ATTEMPTS), no added delay, every one connected
#   local    as connect, and every connection on the domain's local address (same NAT)
#   direct   as connect, and no attempt used the relay (cells that punch directly)
#   relay    as connect, and every attempt connected through the TURN relay, or directly
#            where conntrack proves that a symmetric NAT's port collision opened a real
#            direct path (port_collision in icelib.sh; about once in 64,512 flows)
#   collision as relay, on a domain NAT narrowed to 2 ports (the last build), and at least
#            one attempt connected through a proven collision: the proof is exercised
#   fail     MATRIX_FAIL_ATTEMPTS attempts with --timeout MATRIX_FAIL_TIMEOUT: each ends
#            with the punch-failed exit code (4) within the timeout (+1 s to exit)
# With MATRIX_RELAY=1 (the default) a coturn TURN server runs on the public segment and the
# client gets --turn-server (--relay fallback): the cells punching cannot open connect
# through the relay ("relay"), the others still directly ("direct").  MATRIX_RELAY=0 runs the
# matrix without a TURN server: those cells then "fail", as they must.
# After each connecting cell one line lists every attempt's path and connect time.
# Prints one table row per cell; exits 1 when a cell is not as expected, 2 when the
# testbed cannot be built.  See README.md for the expected-outcome table and its reasons.
#
# Usage: matrix.sh BUILD_DIR
# Env:   MATRIX_ATTEMPTS (20), MATRIX_FAIL_ATTEMPTS (2), MATRIX_FAIL_TIMEOUT (6 s),
#        MATRIX_TIMEOUT (10 s, for cells that must connect), MATRIX_CELLS (e.g.
#        "eim/eim none/cgnat": run only these), MATRIX_PUNCH_TTL (passed to both
#        binaries when set), MATRIX_CGNAT_DOMAIN_TTL (3,3: the domain behind two NATs),
#        MATRIX_CLIENT_TTL (passed to the stub only when set), MATRIX_RELAY (1),
#        MATRIX_RELAY_SIDE (client: the stub gets the TURN server; domain: the domain-server
#        gets it with --relay fallback and the stub none, so an unmodified client meets a
#        domain that registers through its relay when its NAT is symmetric: such cells
#        expect "domainrelay", every attempt connected to an address on the TURN server),
#        MATRIX_COLLISION_ATTEMPTS (16; 0 leaves the collision build out; MATRIX_CELLS
#        selects it as "collision").
# An attempt with an unexpected path or a failure prints its output and both NATs' flows.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: matrix.sh BUILD_DIR}
ATTEMPTS=${MATRIX_ATTEMPTS:-20}
FAIL_ATTEMPTS=${MATRIX_FAIL_ATTEMPTS:-2}
FAIL_TIMEOUT=${MATRIX_FAIL_TIMEOUT:-6}
TIMEOUT=${MATRIX_TIMEOUT:-10}
CGNAT_DOMAIN_TTL=${MATRIX_CGNAT_DOMAIN_TTL:-3,3}
CELLS_WANTED=${MATRIX_CELLS:-}
RELAY=${MATRIX_RELAY:-1}
RELAY_SIDE=${MATRIX_RELAY_SIDE:-client}
COLLISION_ATTEMPTS=${MATRIX_COLLISION_ATTEMPTS:-16}

if ! testbed_preflight; then
    echo "matrix: refused: the NAT testbed cannot be built here" >&2
    exit 2
fi
nat_bins "$BUILD" || exit 2

FAILS=0
ROWS=()
STARTED=$SECONDS

wanted() {
    [[ -z $CELLS_WANTED ]] && return 0
    [[ " $CELLS_WANTED " == *" $1${2:+/$2} "* ]]
}

row() {
    local line
    line=$(printf '%-14s %-7s %-8s %8s %9s %9s %7s %7s  %-24s %s' "$@")
    ROWS+=("$line")
    echo "$line"
}

header() {
    printf '%-14s %-7s %-8s %8s %9s %9s %7s %7s  %-24s %s\n' cell stun expected attempts successes "median ms" "max ms" retried via verdict
}

# Start ice-server and domain-server afresh for a cell (clean registration, no
# peers from the previous cell).  DOMAIN_TTL empty: the binary's default.
start_servers() {
    local stun=$1 domain_ttl=$2 args=()
    nat_stop "$NAT_DOMAIN_PID"
    nat_stop "$NAT_ICE_PID"
    [[ -n $domain_ttl ]] && args=(--punch-ttl "$domain_ttl")
    if [[ $RELAY == 1 && $RELAY_SIDE == domain ]]; then
        args+=(--turn-server "$TB_TURN_IP:$TB_TURN_PORT" --turn-user "$TB_TURN_USER"
            --turn-password "$TB_TURN_PASSWORD" --relay fallback)
    fi
    nat_ice_start
    nat_domain_start "$stun" "${args[@]}"
}

# One cell: CLIENT DOMAIN STUN EXPECT [DOMAIN_TTL]
cell() {
    local cmode=$1 dmode=$2 stun=$3 expect=$4 domain_ttl=${5:-${MATRIX_PUNCH_TTL:-}}
    if [[ $expect == collision ]]; then wanted collision "" || return 0; else wanted "$cmode" "$dmode" || return 0; fi
    local name="$cmode x $dmode" stub_args=() i ok=0 times=() vias=() paths=() verdict=PASS detail="" path
    local client_ttl=${MATRIX_CLIENT_TTL:-${MATRIX_PUNCH_TTL:-}}
    [[ -n $client_ttl ]] && stub_args=(--punch-ttl "$client_ttl")
    if [[ $RELAY == 1 && $RELAY_SIDE == client ]]; then
        stub_args+=(--turn-server "$TB_TURN_IP:$TB_TURN_PORT" --turn-user "$TB_TURN_USER"
            --turn-password "$TB_TURN_PASSWORD")
    fi
    if ! start_servers "$stun" "$domain_ttl"; then
        row "$name" "$stun" "$expect" 0 0 - - - - "FAIL (servers did not start)"
        FAILS=$((FAILS + 1))
        return 0
    fi
    if [[ $expect == fail ]]; then
        # attempts in parallel: each must end with exit 4 within the timeout
        local pids=() outs=() t0 walls=() rc
        for ((i = 0; i < FAIL_ATTEMPTS; i++)); do
            outs+=("$TB_TMP/fail.$cmode.$dmode.$i")
            (
                t0=$(date +%s%N)
                rc=0
                nat_stub "$stun" --timeout "$FAIL_TIMEOUT" "${stub_args[@]}" >/dev/null || true
                printf '%s %s\n%s\n' "$NAT_STUB_RC" "$NAT_STUB_WALL_MS" "$NAT_STUB_OUT" >"${outs[$i]}"
            ) &
            pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i" || true; done
        local codes=()
        for ((i = 0; i < FAIL_ATTEMPTS; i++)); do
            read -r rc wall <"${outs[$i]}"
            codes+=("$rc")
            walls+=("$wall")
            if [[ $rc == 4 && $wall -le $(((FAIL_TIMEOUT + 1) * 1000)) ]]; then
                ok=$((ok + 1))
            else
                detail="exit $rc after $wall ms: $(tail -n 1 "${outs[$i]}")"
            fi
        done
        [[ $ok -eq $FAIL_ATTEMPTS ]] || { verdict="FAIL ($detail)"; FAILS=$((FAILS + 1)); }
        local stats
        stats=$(printf '%s\n' "${walls[@]}" | nat_stats)
        row "$name" "$stun" "fail" "$FAIL_ATTEMPTS" "exit4 $ok" "${stats% *}" "${stats#* }" - "(wall ms; exit ${codes[*]})" "$verdict"
        return 0
    fi
    for ((i = 0; i < ATTEMPTS; i++)); do
        nat_stub "$stun" --timeout "$TIMEOUT" "${stub_args[@]}"
        if [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS && $expect == domainrelay && $NAT_STUB_OUT != *" at $TB_TURN_IP:"* ]]; then
            # the client knows nothing of TURN: the relay shows as the domain's address
            detail="attempt $((i + 1)) connected, but not to the domain's relayed address"
            NAT_STUB_MS=
        fi
        if [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS ]]; then
            path=$NAT_STUB_VIA
            if [[ $expect == local && $NAT_STUB_VIA != local ]]; then
                detail="attempt $((i + 1)) connected via $NAT_STUB_VIA, not local"
            elif [[ $expect == relay || $expect == collision ]] && [[ $NAT_STUB_VIA == public ]] &&
                port_collision "$cmode" "$dmode" "$stun"; then
                ok=$((ok + 1))
                path=collision
                echo "  $name attempt $((i + 1)) connected directly, through a NAT port collision: $COLLISION"
            elif [[ $expect == relay || $expect == collision ]] && [[ $NAT_STUB_VIA != relay ]]; then
                detail="attempt $((i + 1)) connected via $NAT_STUB_VIA, not through the relay"
                unexpected_evidence "$name" "$((i + 1))"
            elif [[ $expect == direct && $NAT_STUB_VIA == relay ]]; then
                detail="attempt $((i + 1)) connected through the relay, not directly"
                unexpected_evidence "$name" "$((i + 1))"
            else
                ok=$((ok + 1))
            fi
            times+=("$NAT_STUB_MS")
            vias+=("$path")
            paths+=("$((i + 1)):$path/${NAT_STUB_MS}ms")
        else
            detail="attempt $((i + 1)): exit $NAT_STUB_RC: $(tail -n 1 <<<"$NAT_STUB_OUT")"
            paths+=("$((i + 1)):exit$NAT_STUB_RC")
            unexpected_evidence "$name" "$((i + 1))"
        fi
    done
    echo "  $name attempts: ${paths[*]}"
    if [[ $expect == collision && " ${vias[*]} " != *" collision "* ]]; then
        detail="no attempt connected through a proven port collision"
        ok=0
    fi
    [[ $ok -eq $ATTEMPTS ]] || { verdict="FAIL ($detail)"; FAILS=$((FAILS + 1)); }
    local stats via retried
    stats=$(printf '%s\n' "${times[@]}" | nat_stats)
    # a connect after 2 s needed a second punch attempt (new port, new query)
    retried=$(printf '%s\n' "${times[@]}" | awk '$1 >= 2000 { n++ } END { print n + 0 }')
    via=$(printf '%s\n' "${vias[@]}" | { grep . || true; } | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
    row "$name" "$stun" "$expect" "$ATTEMPTS" "$ok" "${stats% *}" "${stats#* }" "$retried" "${via:--}" "$verdict"
}

# Print what an attempt with an unexpected path left: its whole output and both NATs' flows.
unexpected_evidence() {
    local name=$1 attempt=$2 role
    echo "  $name attempt $attempt, unexpected path; its output:"
    sed 's/^/      /' <<<"$NAT_STUB_OUT"
    for role in cnat dnat; do
        echo "    $role conntrack (orig src:port, orig dst:port, outside address, state):"
        testbed_flows "$role" | sed 's/^/      /'
    done
}

any_wanted() {
    local pair
    [[ -z $CELLS_WANTED ]] && return 0
    for pair in "$@"; do [[ " $CELLS_WANTED " == *" $pair "* ]] && return 0; done
    return 1
}

# What the cells that punch can open expect, and what the others expect.
DIRECT=connect UNPUNCHABLE=fail
[[ $RELAY == 1 ]] && DIRECT=direct UNPUNCHABLE=relay
# A relaying domain helps where its own NAT is the obstacle; a symmetric client still fails.
relay_expect() {
    local cmode=$1 dmode=$2
    if [[ $RELAY == 1 && $RELAY_SIDE == domain ]]; then
        if [[ $dmode == sym && $cmode != sym ]]; then echo domainrelay; else echo "$3"; fi
    else
        echo "$3"
    fi
}

# Each build's STUN servers, plus the TURN relay when it is used.
servers_start() {
    testbed_stun_start || return 1
    if [[ $RELAY == 1 ]]; then testbed_turn_start || return 1; fi
}

echo "== NAT matrix: client NAT x domain NAT, real binaries from $BUILD"
echo "   connect cells: $ATTEMPTS attempts, --timeout $TIMEOUT s; fail cells: $FAIL_ATTEMPTS attempts, --timeout $FAIL_TIMEOUT s"
echo "   TURN relay: $( [[ $RELAY == 1 ]] && echo "coturn at $TB_TURN_IP:$TB_TURN_PORT, $( [[ $RELAY_SIDE == domain ]] && echo "the domain" || echo "clients") --relay fallback" || echo "none (MATRIX_RELAY=0)")"
echo "   punch TTL: binaries' default$( [[ -n ${MATRIX_PUNCH_TTL:-} ]] && echo " overridden: $MATRIX_PUNCH_TTL"); domain behind CGNAT: --punch-ttl $CGNAT_DOMAIN_TTL"
header

# Build 1: separate sites, NAT modes none/eim/sym switched in place on both sides.
if any_wanted none/none none/eim none/sym eim/none eim/eim eim/sym sym/none sym/eim sym/sym; then
    testbed_topology eim eim
    servers_start
    nat_keygen
    for dmode in none eim sym; do
        testbed_side_nat domain "$dmode"
        # STUN: coturn where the domain is behind eim or sym, the ice-server's own otherwise
        stun=coturn
        [[ $dmode == none ]] && stun=ice
        for cmode in none eim sym; do
            testbed_side_nat client "$cmode"
            expect=$DIRECT
            if [[ $cmode == sym && $dmode != none ]] || [[ $dmode == sym && $cmode != none ]]; then
                expect=$UNPUNCHABLE
                [[ $RELAY_SIDE == domain ]] && expect=fail
            fi
            cell "$cmode" "$dmode" "$stun" "$(relay_expect "$cmode" "$dmode" "$expect")"
        done
    done
    testbed_teardown
fi

# Build 2: the domain behind carrier-grade NAT (two EIM NATs); the operator of such a
# host sets --punch-ttl to NATs in front + 1 = 3.  ice-server as STUN.
if any_wanted none/cgnat eim/cgnat sym/cgnat; then
    testbed_topology eim cgnat
    servers_start
    nat_keygen
    for cmode in none eim sym; do
        testbed_side_nat client "$cmode"
        expect=$DIRECT
        [[ $cmode == sym ]] && expect=$UNPUNCHABLE
        cell "$cmode" cgnat ice "$expect" "$CGNAT_DOMAIN_TTL"
    done
    testbed_teardown
fi

# Build 3: both peers behind one router without hairpin: they must meet locally.
if any_wanted same/same; then
    testbed_topology same same
    servers_start
    nat_keygen
    cell same same ice local
    testbed_teardown
fi

# Build 4: the relay cells accept a direct attempt only where conntrack proves a symmetric NAT's
# port collision (port_collision in icelib.sh), which the kernel's 64,512 ports make too rare to
# see here.  A domain NAT with 2 ports makes it every other attempt: eim x sym must then connect
# every time, directly through proven collisions (at least one) or through the relay.
if [[ $RELAY == 1 && $RELAY_SIDE == client && $COLLISION_ATTEMPTS -gt 0 ]] && any_wanted collision; then
    testbed_topology eim eim
    servers_start
    nat_keygen
    TB_SYM_PORTS=40000-40001 testbed_side_nat domain sym
    ATTEMPTS=$COLLISION_ATTEMPTS cell eim sym coturn collision
    testbed_teardown
fi

echo
echo "== NAT matrix summary ($((SECONDS - STARTED)) s)"
header
printf '%s\n' "${ROWS[@]}"
if [[ $FAILS -gt 0 ]]; then
    echo "matrix: $FAILS cell(s) not as expected"
    exit 1
fi
echo "matrix: every cell as expected"
