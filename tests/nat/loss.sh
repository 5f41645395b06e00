#!/usr/bin/env bash
# Loss and delay: 50 ms delay and 10 % loss on each public access link
# (each crossing, each direction; so client -> domain is 100 ms one way and crosses two
# lossy links), EIM on both sides, coturn as STUN.  LOSS_ATTEMPTS (100) interface-stub
# runs one after the other; at least LOSS_REQUIRED (99) must connect.  Prints the success
# count, the median and the worst time to connect.
# LOSS_CELL picks the NATs (client/domain): eim/eim (the default, above), or a cell only a
# relay opens (sym/eim, eim/sym, sym/sym, sym/cgnat: the four relay cells of the matrix): a coturn
# TURN relay runs on the public segment too, the client gets --turn-server ... --relay fallback,
# and every attempt that connects must have connected through the relay (or directly where
# conntrack proves that a symmetric NAT's port collision opened a real direct path: see
# port_collision in icelib.sh).  A domain behind CGNAT gets --punch-ttl LOSS_CGNAT_DOMAIN_TTL
# (3,3), as in the matrix.  A relay cell runs its attempts
# LOSS_PARALLEL (4) at a time, each a separate interface-stub with its own socket, so its own
# mapping in the symmetric NAT (the domain is told the relay is trusted, --trusted-relay, so that
# the relayed addresses, all on the relay's IP, are bounded one by one); every stub runs --verbose,
# and the log of a failed attempt is printed (its tail) and kept.
#
# Usage: loss.sh BUILD_DIR          Env: LOSS_CELL (eim/eim), LOSS_ATTEMPTS, LOSS_REQUIRED,
#                                   LOSS_DELAY_MS, LOSS_PCT, LOSS_TIMEOUT (15 s per attempt,
#                                   20 s in a relay cell), LOSS_PARALLEL (1; 4 in a relay cell),
#                                   LOSS_KEEP_FAILED (a directory for the logs of failed attempts),
#                                   LOSS_CGNAT_DOMAIN_TTL (3,3)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: loss.sh BUILD_DIR}
ATTEMPTS=${LOSS_ATTEMPTS:-100}
REQUIRED=${LOSS_REQUIRED:-99}
DELAY=${LOSS_DELAY_MS:-50}
PCT=${LOSS_PCT:-10}
CELL=${LOSS_CELL:-eim/eim}
case $CELL in
    eim/eim) RELAY=0 ;;
    sym/eim | eim/sym | sym/sym | sym/cgnat) RELAY=1 ;;
    *) echo "loss: LOSS_CELL must be eim/eim, sym/eim, eim/sym, sym/sym or sym/cgnat, not '$CELL'" >&2; exit 2 ;;
esac
# A relay cell first spends a direct attempt (about 2 s) before it relays, and under loss
# the allocation, the permission and the re-query through the relay retransmit: 5 s more.
DEFAULT_TIMEOUT=15
[[ $RELAY == 1 ]] && DEFAULT_TIMEOUT=20
TIMEOUT=${LOSS_TIMEOUT:-$DEFAULT_TIMEOUT}
# Sequential through the direct cell (its figures are comparable with earlier runs); a relayed
# connect takes ~4 s, so 100 in a row would take 7 min: four at a time.
PARALLEL=${LOSS_PARALLEL:-$((RELAY == 1 ? 4 : 1))}
[[ $PARALLEL =~ ^[1-9][0-9]*$ ]] || { echo "loss: LOSS_PARALLEL must be a positive number" >&2; exit 2; }

testbed_preflight || { echo "loss: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS
testbed_topology "${CELL%/*}" "${CELL#*/}"
testbed_stun_start
stub_args=()
domain_args=()
if [[ $RELAY == 1 ]]; then
    testbed_turn_start
    stub_args=(--turn-server "$TB_TURN_IP:$TB_TURN_PORT" --turn-user "$TB_TURN_USER"
        --turn-password "$TB_TURN_PASSWORD" --relay fallback --verbose)
    domain_args=(--trusted-relay "$TB_TURN_IP")
fi
# behind two NATs the domain's priming TTL must pass both (NATs in front + 1), as its operator sets it
[[ ${CELL#*/} == cgnat ]] && domain_args+=(--punch-ttl "${LOSS_CGNAT_DOMAIN_TTL:-3,3}")
testbed_netem "$DELAY" "$PCT"
how=tc-netem
testbed_netem_available || how="userspace wire (no sch_netem in this kernel)"
if [[ $RELAY == 1 ]]; then
    cell_name=$(tr '[:lower:]/' '[:upper:] ' <<<"$CELL" | sed 's/ / x /')
    echo "== loss and delay: $cell_name through the TURN relay at $TB_TURN_IP:$TB_TURN_PORT (--relay fallback)," \
        "${DELAY} ms and ${PCT} % loss per public link crossing ($how), $ATTEMPTS attempts ($PARALLEL at a time)," \
        "--timeout $TIMEOUT s"
else
    echo "== loss and delay: EIM x EIM, ${DELAY} ms and ${PCT} % loss per public link crossing ($how), $ATTEMPTS attempts"
fi
nat_keygen
nat_ice_start
nat_domain_start coturn "${domain_args[@]}"

# One attempt in the background: its figures to $RESULTS/N.res ("rc ms via wall_ms"), its output
# to $RESULTS/N.out.
RESULTS=$TB_TMP/attempts
mkdir -p "$RESULTS"
run_attempt() {
    local n=$1
    nat_stub coturn --timeout "$TIMEOUT" "${stub_args[@]}"
    printf '%s\n' "$NAT_STUB_OUT" >"$RESULTS/$n.out"
    # a direct path in a relay cell: proven a NAT port collision now, while conntrack holds it
    if [[ $RELAY == 1 && $NAT_STUB_RC -eq 0 && $NAT_STUB_VIA == public ]] &&
        port_collision "${CELL%/*}" "${CELL#*/}" coturn; then
        NAT_STUB_VIA=collision
        printf 'collision: %s\n' "$COLLISION" >"$RESULTS/$n.collision"
    fi
    echo "$NAT_STUB_RC ${NAT_STUB_MS:--} ${NAT_STUB_VIA:--} $NAT_STUB_WALL_MS" >"$RESULTS/$n.res"
}

ok=0
collisions=0
times=()
retried=0
failures=()
failed_logs=()
# Judge attempt N from its files.
judge() {
    local n=$1 rc ms via wall
    read -r rc ms via wall <"$RESULTS/$n.res"
    [[ $ms == - ]] && ms=
    if [[ $via == collision ]]; then
        collisions=$((collisions + 1))
        echo "   attempt $n connected directly, through a NAT port collision: $(sed 's/^collision: //' "$RESULTS/$n.collision")"
    fi
    if [[ $RELAY == 1 && $rc -eq 0 && -n $ms && $via != relay && $via != collision ]]; then
        failures+=("attempt $n: connected via $via in $ms ms, not through the relay")
    elif [[ $rc -eq 0 && -n $ms ]]; then
        ok=$((ok + 1))
        times+=("$ms")
        if ((ms >= 2000)); then retried=$((retried + 1)); fi
        return
    else
        failures+=("attempt $n: exit $rc after $wall ms: $(grep -v '^\[' "$RESULTS/$n.out" | tail -n 1)")
    fi
    failed_logs+=("$n")
}

declare -A running=()   # pid -> attempt number
done_count=0
reap_one() {
    local pid
    wait -n -p pid "${!running[@]}" || true
    judge "${running[$pid]}"
    unset "running[$pid]"
    done_count=$((done_count + 1))
    if ((done_count % 20 == 0)); then echo "   ... $done_count attempts, $ok connected"; fi
}
for ((i = 1; i <= ATTEMPTS; i++)); do
    while ((${#running[@]} >= PARALLEL)); do reap_one; done
    run_attempt "$i" &
    running[$!]=$i
done
while ((${#running[@]} > 0)); do reap_one; done
read -r median worst < <(printf '%s\n' "${times[@]}" | nat_stats)
if [[ $RELAY == 1 ]]; then
    # every relayed connect follows a failed direct attempt (~2 s): "retried" says nothing here
    echo "loss: connected $ok of $ATTEMPTS, $((ok - collisions)) through the relay and $collisions directly by a NAT" \
        "port collision (required $REQUIRED); time to connect median $median ms, worst $worst ms ($((SECONDS - STARTED)) s)"
    # how close the slow ones come to the timeout (a loaded machine shows here first)
    echo "   slowest five: $(printf '%s\n' "${times[@]}" | sort -n | tail -n 5 | tr '\n' ' ')ms; over 10 s:" \
        "$(printf '%s\n' "${times[@]}" | awk '$1 > 10000 { n++ } END { print n + 0 }')"
else
    echo "loss: connected $ok of $ATTEMPTS (required $REQUIRED); time to connect median $median ms, worst $worst ms;" \
        "$retried needed more than one punch attempt ($((SECONDS - STARTED)) s)"
fi
for f in "${failures[@]}"; do echo "   failed: $f"; done
for n in "${failed_logs[@]}"; do
    # its output without the per-step timing lines (at most 120 lines), and what the domain logged
    # about its relayed address
    echo "   --- attempt $n, its output (without 'connection step' lines):"
    grep -v 'connection step' "$RESULTS/$n.out" | head -n 120 | sed 's/^/   | /'
    relayed=$(sed -n 's/.*relayed address \([0-9.]*:[0-9]*\) on TURN server.*/\1/p' "$RESULTS/$n.out" | head -n 1)
    if [[ -n $relayed ]]; then
        echo "   --- the domain's log on $relayed:"
        grep -F -- "$relayed" "$NAT_DOMAIN_LOG" | head -n 30 | sed 's/^/   | /'
    fi
    if [[ -n ${LOSS_KEEP_FAILED:-} ]]; then
        mkdir -p "$LOSS_KEEP_FAILED" && cp "$RESULTS/$n.out" "$LOSS_KEEP_FAILED/attempt-$n.log"
    fi
done
if ((ok < REQUIRED)); then
    echo "loss: FAIL: fewer than $REQUIRED connected"
    exit 1
fi
echo "loss: PASS"
