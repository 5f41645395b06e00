#!/usr/bin/env bash
# How the punch TTL schedule ("priming", docs/design.md "Linux NATs and the first packet")
# does with the real binaries: N attempts of the EIM x EIM cell and of the cell with the
# domain behind CGNAT, per candidate schedule.  Not for CI (about 4 minutes); the figures
# chose the default and are quoted in README.md.
#
# Usage: ttl-experiment.sh BUILD_DIR [N]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:?usage: ttl-experiment.sh BUILD_DIR [N]}
N=${2:-20}
run() {
    local label=$1 cells=$2 domain_ttl=$3 client_ttl=$4
    local line
    line=$(MATRIX_ATTEMPTS=$N MATRIX_CELLS="$cells" MATRIX_PUNCH_TTL="$domain_ttl" MATRIX_CGNAT_DOMAIN_TTL="$domain_ttl" \
        MATRIX_CLIENT_TTL="$client_ttl" "$HERE/matrix.sh" "$BUILD" 2>&1 | grep -E '^(eim|none|sym) x ' | tail -n 1 || true)
    printf '%-34s %s\n' "$label" "$line"
}
echo "schedule (domain / client)         cell           stun    expected attempts successes median ms  max ms retried  via"
for s in 2,3 2,2 2 0; do
    run "eim x eim: $s / $s" eim/eim "$s" "$s"
done
for pair in "2,3 2,3" "2,2 2,2" "2 2" "3,3 2,2" "3 2" "3,3 3,3"; do
    read -r d c <<<"$pair"
    run "eim x cgnat: $d / $c" eim/cgnat "$d" "$c"
done
