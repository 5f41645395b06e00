#!/usr/bin/env bash
# Loss and delay: 50 ms delay and 10 % loss on each public access link
# (each crossing, each direction; so client -> domain is 100 ms one way and crosses two
# lossy links), EIM on both sides, coturn as STUN.  LOSS_ATTEMPTS (100) interface-stub
# runs one after the other; at least LOSS_REQUIRED (99) must connect.  Prints the success
# count, the median and the worst time to connect.
#
# Usage: loss.sh BUILD_DIR          Env: LOSS_ATTEMPTS, LOSS_REQUIRED, LOSS_DELAY_MS,
#                                   LOSS_PCT, LOSS_TIMEOUT (15 s per attempt)
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
TIMEOUT=${LOSS_TIMEOUT:-15}

testbed_preflight || { echo "loss: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS
testbed_topology eim eim
testbed_stun_start
testbed_netem "$DELAY" "$PCT"
how=tc-netem
testbed_netem_available || how="userspace wire (no sch_netem in this kernel)"
echo "== loss and delay: EIM x EIM, ${DELAY} ms and ${PCT} % loss per public link crossing ($how), $ATTEMPTS attempts"
nat_keygen
nat_ice_start
nat_domain_start coturn

ok=0
times=()
retried=0
failures=()
for ((i = 1; i <= ATTEMPTS; i++)); do
    nat_stub coturn --timeout "$TIMEOUT"
    if [[ $NAT_STUB_RC -eq 0 && -n $NAT_STUB_MS ]]; then
        ok=$((ok + 1))
        times+=("$NAT_STUB_MS")
        if ((NAT_STUB_MS >= 2000)); then retried=$((retried + 1)); fi
    else
        failures+=("attempt $i: exit $NAT_STUB_RC: $(tail -n 1 <<<"$NAT_STUB_OUT")")
    fi
    if ((i % 20 == 0)); then echo "   ... $i attempts, $ok connected"; fi
done
read -r median worst < <(printf '%s\n' "${times[@]}" | nat_stats)
echo "loss: connected $ok of $ATTEMPTS (required $REQUIRED); time to connect median $median ms, worst $worst ms;" \
    "$retried needed more than one punch attempt ($((SECONDS - STARTED)) s)"
for f in "${failures[@]}"; do echo "   failed: $f"; done
if ((ok < REQUIRED)); then
    echo "loss: FAIL: fewer than $REQUIRED connected"
    exit 1
fi
echo "loss: PASS"
