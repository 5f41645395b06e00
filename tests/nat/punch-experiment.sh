#!/usr/bin/env bash
# The first-packet experiment behind docs/design.md "Linux NATs and the first
# packet", on this testbed: N reference punches (nattool.py punch: STUN from the
# punch socket, addresses exchanged by the harness, 250 ms ping rounds) per
# variant, printed as a table.  Not part of CI: the figures guide the C++ punch
# design and are quoted in tests/nat/README.md.
#
# Usage: punch-experiment.sh [N] [GROUP...]
#   groups: ttl (EIM/EIM, which first-round TTL works), skew (start skew vs the
#   TTL cure), input-drop (routers that drop unsolicited input), cgnat (domain
#   behind two NATs), delay (50 ms per public link).  Default: all.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
testbed_preflight || exit 2

N=${1:-10}
shift || true
GROUPS_WANTED=("$@")
[[ ${#GROUPS_WANTED[@]} -gt 0 ]] || GROUPS_WANTED=(ttl skew input-drop cgnat delay)
export TB_PUNCH_TIMEOUT=${TB_PUNCH_TIMEOUT:-2}
PORT=40000

# N attempts of one variant; one table row with both-sides successes, the
# per-side successes and the median connect time of the connected runs.
variant() {
    local label=$1 dttl=$2 cttl=$3 skew=${4:-0}
    local ok=0 dok=0 cok=0 i times=()
    for ((i = 0; i < N; i++)); do
        testbed_flush_nat
        PORT=$((PORT + 1))
        if testbed_punch_attempt "$dttl" "$cttl" "$PORT" "$skew"; then ok=$((ok + 1)); fi
        [[ $TB_PUNCH_DOMAIN == result=connected* ]] && dok=$((dok + 1))
        [[ $TB_PUNCH_CLIENT == result=connected* ]] && { cok=$((cok + 1)); times+=("${TB_PUNCH_CLIENT##*ms=}"); }
    done
    local median=-
    if [[ ${#times[@]} -gt 0 ]]; then
        median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    fi
    printf '%-58s %7s %9s %9s %10s\n' "$label" "$ok/$N" "$dok/$N" "$cok/$N" "$median"
}

printf '%-58s %7s %9s %9s %10s\n' "variant (TTL = IP TTL of the first 250 ms round)" "both" "domain" "client" "median ms"
for group in "${GROUPS_WANTED[@]}"; do
    case $group in
        ttl)
            testbed_topology eim eim
            testbed_stun_start
            variant "eim/eim plain" 0 0
            variant "eim/eim TTL 2 both sides" 2 2
            variant "eim/eim TTL 2 domain only" 2 0
            variant "eim/eim TTL 2 client only" 0 2
            variant "eim/eim TTL 1 both (dies inside own NAT)" 1 1
            variant "eim/eim TTL 3 both (reaches the far NAT)" 3 3
            testbed_teardown
            ;;
        skew)
            testbed_topology eim eim
            testbed_stun_start
            variant "eim/eim TTL 2 both, client starts 100 ms late" 2 2 100
            variant "eim/eim TTL 2 both, client starts 200 ms late" 2 2 200
            variant "eim/eim TTL 2 both, client starts 300 ms late" 2 2 300
            testbed_teardown
            ;;
        input-drop)
            TB_ROUTER_INPUT=drop testbed_topology eim eim
            testbed_stun_start
            variant "eim/eim plain, routers drop unsolicited input" 0 0
            variant "eim/eim TTL 2 both, routers drop unsolicited input" 2 2
            testbed_teardown
            ;;
        cgnat)
            testbed_topology eim cgnat
            testbed_stun_start
            variant "domain cgnat / client eim plain" 0 0
            variant "domain cgnat / client eim TTL 2 both" 2 2
            variant "domain cgnat / client eim TTL 3 domain, 2 client" 3 2
            testbed_teardown
            ;;
        delay)
            testbed_topology eim eim
            testbed_stun_start
            testbed_netem 50 0
            variant "eim/eim 50 ms per link, plain" 0 0
            variant "eim/eim 50 ms per link, plain, client 300 ms late" 0 0 300
            variant "eim/eim 50 ms per link, TTL 2 both" 2 2
            testbed_teardown
            ;;
        *) echo "unknown group $group" >&2; exit 2 ;;
    esac
done
