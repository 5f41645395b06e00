#!/usr/bin/env bash
# Many at once through one TURN relay: CROWD_CLIENTS (20) interface-stubs behind the symmetric NAT,
# all started within one second, each with its own socket (so its own mappings in the symmetric NAT),
# --relay fallback against one domain behind EIM.  No direct path exists, so every stub's first attempt
# fails at about the same moment and all of them fall back to the one coturn at once.  Every stub must
# connect, through the relay, on a relayed address of its own (or directly, where conntrack proves
# the symmetric NAT's port collision: see port_collision in icelib.sh).  Prints each client's time to connect,
# the median and the worst.
# The domain is told the relay is trusted (--trusted-relay): the relayed addresses all sit on the
# relay's IP, and the domain's default bound (4 punching clients per IP) would otherwise count them
# as one address (CROWD_TRUSTED_RELAY=0 leaves the option out, to see that bound at work).
#
# Usage: crowd.sh BUILD_DIR        Env: CROWD_CLIENTS (20), CROWD_TIMEOUT (20 s per stub),
#                                  CROWD_TRUSTED_RELAY (1)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

BUILD=${1:?usage: crowd.sh BUILD_DIR}
CLIENTS=${CROWD_CLIENTS:-20}
TIMEOUT=${CROWD_TIMEOUT:-20}
[[ $CLIENTS =~ ^[1-9][0-9]*$ ]] || { echo "crowd: CROWD_CLIENTS must be a positive number" >&2; exit 2; }

testbed_preflight || { echo "crowd: refused: the NAT testbed cannot be built here" >&2; exit 2; }
nat_bins "$BUILD" || exit 2

STARTED=$SECONDS
testbed_topology sym eim
testbed_stun_start
testbed_turn_start
echo "== many at once: $CLIENTS clients behind one symmetric NAT, one domain behind EIM, one TURN relay at" \
    "$TB_TURN_IP:$TB_TURN_PORT (--relay fallback), started within one second, --timeout $TIMEOUT s"
nat_keygen
nat_ice_start
domain_args=(--trusted-relay "$TB_TURN_IP")
[[ ${CROWD_TRUSTED_RELAY:-1} == 0 ]] && domain_args=()
nat_domain_start coturn "${domain_args[@]}"

OUT=$TB_TMP/crowd
mkdir -p "$OUT"
# Start every stub first (no $(...) per stub: a fork each would spread the starts), then wait.
pids=()
t0=$(date +%s%N)
for ((i = 1; i <= CLIENTS; i++)); do
    testbed_run_in client "$STUB_BIN" --ice-server "$TB_ICE_IP:$NAT_ICE_PORT" --domain-id "$NAT_DOMAIN_ID" \
        --stun-server "$TB_STUN_IP:$TB_STUN_PORT" --turn-server "$TB_TURN_IP:$TB_TURN_PORT" \
        --turn-user "$TB_TURN_USER" --turn-password "$TB_TURN_PASSWORD" --relay fallback \
        --timeout "$TIMEOUT" --verbose >"$OUT/$i.out" 2>&1 &
    pids[i]=$!
done
spread_ms=$((($(date +%s%N) - t0) / 1000000))
rcs=()
for ((i = 1; i <= CLIENTS; i++)); do
    rc=0
    wait "${pids[i]}" || rc=$?
    rcs[i]=$rc
done
wall_ms=$((($(date +%s%N) - t0) / 1000000))

ok=0
collisions=0
times=()
relayed=()
failed=()
for ((i = 1; i <= CLIENTS; i++)); do
    out=$(<"$OUT/$i.out")
    nat_parse_connected "$out"
    relay_addr=$(grep -m1 '^connected to domain ' <<<"$out" | sed -n 's/.* via relay \([0-9.:]*\) in .*/\1/p')
    if [[ ${rcs[i]} -eq 0 && $NAT_STUB_VIA == relay && -n $NAT_STUB_MS ]]; then
        ok=$((ok + 1))
        times+=("$NAT_STUB_MS")
        relayed+=("$relay_addr")
        printf '   client %2d: connected via relay %s in %s ms\n' "$i" "$relay_addr" "$NAT_STUB_MS"
    elif [[ ${rcs[i]} -eq 0 && $NAT_STUB_VIA == public ]] && NAT_STUB_OUT=$out port_collision sym eim coturn; then
        # a real direct path, which the symmetric NAT opened by chance (see port_collision)
        ok=$((ok + 1))
        collisions=$((collisions + 1))
        times+=("$NAT_STUB_MS")
        printf '   client %2d: connected directly in %s ms, through a NAT port collision: %s\n' "$i" "$NAT_STUB_MS" "$COLLISION"
    else
        failed+=("$i")
        printf '   client %2d: FAILED: exit %s, %s\n' "$i" "${rcs[i]}" \
            "${NAT_STUB_VIA:+connected via $NAT_STUB_VIA, not the relay}$(grep -v '^hifi' "$OUT/$i.out" | tail -n 1)"
    fi
done
read -r median worst < <(printf '%s\n' "${times[@]}" | nat_stats)
distinct=$(printf '%s\n' "${relayed[@]}" | sort -u | grep -c . || true)
echo "crowd: $CLIENTS stubs started within $spread_ms ms; connected $ok of $CLIENTS, $((ok - collisions)) through the" \
    "relay on $distinct distinct relayed addresses, $collisions directly by a NAT port collision; time to connect median $median ms, worst $worst ms" \
    "(all done after $wall_ms ms; scenario $((SECONDS - STARTED)) s)"
for i in "${failed[@]}"; do
    echo "   --- client $i, the last 40 lines of its output:"
    tail -n 40 "$OUT/$i.out" | sed 's/^/   | /'
done
verdict=yes
((ok == CLIENTS && distinct == CLIENTS - collisions && spread_ms < 1000)) || verdict=no
nat_check "$CLIENTS clients started within 1 s all connect via the relay" "$verdict" \
    "$ok/$CLIENTS, $distinct relayed addresses, started within $spread_ms ms"
if ((NAT_FAILS > 0)); then
    echo "crowd: FAIL"
    exit 1
fi
echo "crowd: PASS"
