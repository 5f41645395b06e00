#!/usr/bin/env bash
# Loss and delay: 50 ms delay and 10 % loss on each public access link
# (each crossing, each direction; so client -> domain is 100 ms one way and crosses two
# lossy links), EIM on both sides, coturn as STUN.  LOSS_ATTEMPTS (100) interface-stub
# runs one after the other; at least LOSS_REQUIRED (99) must connect.  Prints the success
# count, the median and the worst time to connect.
# LOSS_CELL picks the NATs (client/domain): eim/eim (the default, above), or a cell only a
# relay opens (sym/eim, eim/sym, sym/sym): a coturn TURN relay runs on the public segment
# too, the client gets --turn-server ... --relay fallback, and every attempt that connects
# must have connected through the relay.
#
# Usage: loss.sh BUILD_DIR          Env: LOSS_CELL (eim/eim), LOSS_ATTEMPTS, LOSS_REQUIRED,
#                                   LOSS_DELAY_MS, LOSS_PCT, LOSS_TIMEOUT (15 s per attempt,
#                                   20 s in a relay cell)
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
    sym/eim | eim/sym | sym/sym) RELAY=1 ;;
    *) echo "loss: LOSS_CELL must be eim/eim, sym/eim, eim/sym or sym/sym, not '$CELL'" >&2; exit 2 ;;
esac
# A relay cell first spends a direct attempt (about 2 s) before it relays, and under loss
# the allocation, the permission and the re-query through the relay retransmit: 5 s more.
DEFAULT_TIMEOUT=15
[[ $RELAY == 1 ]] && DEFAULT_TIMEOUT=20
TIMEOUT=${LOSS_TIMEOUT:-$DEFAULT_TIMEOUT}

testbed_preflight || { echo "loss: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS
testbed_topology "${CELL%/*}" "${CELL#*/}"
testbed_stun_start
stub_args=()
if [[ $RELAY == 1 ]]; then
    testbed_turn_start
    stub_args=(--turn-server "$TB_TURN_IP:$TB_TURN_PORT" --turn-user "$TB_TURN_USER"
        --turn-password "$TB_TURN_PASSWORD" --relay fallback)
fi
testbed_netem "$DELAY" "$PCT"
how=tc-netem
testbed_netem_available || how="userspace wire (no sch_netem in this kernel)"
if [[ $RELAY == 1 ]]; then
    cell_name=$(tr '[:lower:]/' '[:upper:] ' <<<"$CELL" | sed 's/ / x /')
    echo "== loss and delay: $cell_name through the TURN relay at $TB_TURN_IP:$TB_TURN_PORT (--relay fallback)," \
        "${DELAY} ms and ${PCT} % loss per public link crossing ($how), $ATTEMPTS attempts, --timeout $TIMEOUT s"
else
    echo "== loss and delay: EIM x EIM, ${DELAY} ms and ${PCT} % loss per public link crossing ($how), $ATTEMPTS attempts"
fi
nat_keygen
nat_ice_start
nat_domain_start coturn

ok=0
times=()
retried=0
failures=()
for ((i = 1; i <= ATTEMPTS; i++)); do
    nat_stub coturn --timeout "$TIMEOUT" "${stub_args[@]}"
    if [[ $RELAY == 1 && $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS && $NAT_STUB_VIA != relay ]]; then
        failures+=("attempt $i: connected via $NAT_STUB_VIA in $NAT_STUB_MS ms, not through the relay")
    elif [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS ]]; then
        ok=$((ok + 1))
        times+=("$NAT_STUB_MS")
        if ((NAT_STUB_MS >= 2000)); then retried=$((retried + 1)); fi
    else
        failures+=("attempt $i: exit $NAT_STUB_RC: $(tail -n 1 <<<"$NAT_STUB_OUT")")
    fi
    if ((i % 20 == 0)); then echo "   ... $i attempts, $ok connected"; fi
done
read -r median worst < <(printf '%s\n' "${times[@]}" | nat_stats)
if [[ $RELAY == 1 ]]; then
    # every relayed connect follows a failed direct attempt (~2 s): "retried" says nothing here
    echo "loss: connected $ok of $ATTEMPTS through the relay (required $REQUIRED); time to connect" \
        "median $median ms, worst $worst ms ($((SECONDS - STARTED)) s)"
else
    echo "loss: connected $ok of $ATTEMPTS (required $REQUIRED); time to connect median $median ms, worst $worst ms;" \
        "$retried needed more than one punch attempt ($((SECONDS - STARTED)) s)"
fi
for f in "${failures[@]}"; do echo "   failed: $f"; done
if ((ok < REQUIRED)); then
    echo "loss: FAIL: fewer than $REQUIRED connected"
    exit 1
fi
echo "loss: PASS"
