#!/usr/bin/env bash
# The whole NAT testbed run: selftest, matrix, loss and delay, faults, hostile
# traffic, two ice-server nodes on one Redis (cluster), the TURN relay under loss and many clients
# relaying at once (relay), with the real binaries from BUILD_DIR.
# Prints everything, then a summary.
# Exit status: 0 when every stage passed; 1 when a stage failed, when the testbed cannot
# be built here (in CI that is a failure, not a skip), or when anything of ours is left
# behind afterwards (namespace, process, nft table, temp dir).
#
# Usage: run-all.sh BUILD_DIR [STAGE...]      stages: selftest matrix loss faults hostile cluster relay
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-}
if [[ -z $BUILD ]]; then
    echo "usage: run-all.sh BUILD_DIR [STAGE...]   (BUILD_DIR holds ice-server/, domain-server/, interface-stub/, tools/)" >&2
    exit 1
fi
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "run-all: no build directory '$1'" >&2; exit 1; }
shift
STAGES=("$@")
[[ ${#STAGES[@]} -gt 0 ]] || STAGES=(selftest matrix loss faults hostile cluster relay)

# shellcheck source=tests/nat/testbed.sh
source "$HERE/testbed.sh"
# shellcheck source=tests/nat/icelib.sh
source "$HERE/icelib.sh"

if ! testbed_preflight; then
    echo "run-all: FAIL: the NAT testbed cannot be built on this machine (see the reasons above)." >&2
    echo "run-all: it needs root, ip netns, veth, nftables, conntrack, ethtool, python3 and coturn;" >&2
    echo "run-all: this is a failure, not a skip: the NAT tests did not run." >&2
    exit 1
fi
if ! command -v turnserver >/dev/null; then
    echo "run-all: FAIL: no turnserver (install coturn): the STUN server of the testbed" >&2
    exit 1
fi
nat_bins "$BUILD" || { echo "run-all: FAIL: build the binaries first" >&2; exit 1; }

# Every stage keeps its temp files under one directory of this run, so that the check
# for leftovers sees only what this run made: another testbed run on the same machine
# (a developer's, or a concurrent CI) has its own directory and is not counted.
RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/icebreaker-run.XXXXXX") || { echo "run-all: FAIL: no temp dir" >&2; exit 1; }
export TMPDIR=$RUN_TMP

# What exists before, so that afterwards only what we left behind counts.
snapshot() {
    {
        ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
        nft list tables 2>/dev/null | sed 's/^/nft /'
        # processes of our binaries and scripts, or holding our temp files (by command line;
        # only compared, never killed)
        ps -eo pid=,args= | grep -F -e "$BUILD/" -e "$HERE/" -e "$RUN_TMP" | grep -v -e grep -e "$HERE/run-all.sh" |
            awk '{ $1 = "proc " $1; print }'
        find "$RUN_TMP" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's/^/tmp /'
    } | sort
}
BEFORE=$(snapshot)

CHILD=
on_signal() {
    [[ -n $CHILD ]] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null
    echo "run-all: interrupted" >&2
    rmdir "$RUN_TMP" 2>/dev/null   # the stages have torn down; what is left stays for a look
    exit 130
}
trap on_signal INT TERM

# The relay stage: loss and delay through the TURN relay in each of the matrix's four relay cells
# (RELAY_LOSS_CELLS), then many clients falling back to the relay at once.  The cells run
# RELAY_LOSS_JOBS (4) at a time, each loss.sh on a testbed of its own (its own namespace prefix),
# its output kept in a file and printed whole when it ends, so that the cells' logs do not mix;
# every cell must reach its own 99 of 100.  crowd.sh, and then the matrix's two cells where clients
# without TURN meet a domain relaying itself (MATRIX_RELAY_SIDE=domain), run whatever the steps before
# did; the stage's status is the worst of all (2, refused, counts as such).
RELAY_LOSS_CELLS=${RELAY_LOSS_CELLS:-sym/eim eim/sym sym/sym sym/cgnat}
RELAY_LOSS_JOBS=${RELAY_LOSS_JOBS:-4}
relay_stage() {
    local -A cell_of=() figures=()
    local c='' rc=0 status cell pid refused=0
    trap 'kill -TERM "${!cell_of[@]}" $c 2>/dev/null; wait; rm -f "$RUN_TMP"/relay-loss.*.out; exit 130' TERM
    [[ $RELAY_LOSS_JOBS =~ ^[1-9][0-9]*$ ]] || { echo "run-all: RELAY_LOSS_JOBS must be a positive number" >&2; return 1; }
    # one cell's output, printed once it has ended
    relay_cell_done() {
        local pid=$1 status=$2 cell=${cell_of[$1]}
        echo
        echo "---------------- relay: loss and delay, $cell ($status) ----------------"
        local out=$RUN_TMP/relay-loss.${cell/\//-}.out
        cat "$out"
        figures[$cell]=$(sed -n 's/^loss: connected/connected/p' "$out" | head -n 1)
        [[ -n ${figures[$cell]} ]] || figures[$cell]="exit $status, no figures"
        rm -f "$out"
        unset "cell_of[$pid]"
        ((status == 2)) && refused=1
        ((status > rc)) && rc=$status
    }
    echo "== relay: loss and delay in the cells $RELAY_LOSS_CELLS, $RELAY_LOSS_JOBS cell(s) at a time"
    for cell in $RELAY_LOSS_CELLS; do
        while ((${#cell_of[@]} >= RELAY_LOSS_JOBS)); do
            wait -n -p pid "${!cell_of[@]}" && status=0 || status=$?
            relay_cell_done "$pid" "$status"
        done
        LOSS_CELL=$cell "$HERE/loss.sh" "$BUILD" >"$RUN_TMP/relay-loss.${cell/\//-}.out" 2>&1 &
        cell_of[$!]=$cell
    done
    while ((${#cell_of[@]} > 0)); do
        wait -n -p pid "${!cell_of[@]}" && status=0 || status=$?
        relay_cell_done "$pid" "$status"
    done
    echo
    echo "---------------- relay: loss and delay, per cell ----------------"
    for cell in $RELAY_LOSS_CELLS; do printf '%-10s %s\n' "$cell" "${figures[$cell]}"; done
    echo
    echo "---------------- relay: many clients at once ----------------"
    "$HERE/crowd.sh" "$BUILD" &
    c=$!
    wait "$c" && status=0 || status=$?
    c=
    if ((status == 2)); then refused=1; fi
    ((status > rc)) && rc=$status
    # Clients that know nothing of TURN meet a symmetric-NAT domain registering through its relay
    # (--relay fallback on the domain); the none x sym cell runs first, so eim x sym meets a
    # domain-server restarted on the same port, as an operator's restart would.
    echo
    echo "---------------- relay: unmodified clients, the domain relaying ----------------"
    MATRIX_RELAY_SIDE=domain MATRIX_CELLS="none/sym eim/sym" MATRIX_COLLISION_ATTEMPTS=0 "$HERE/matrix.sh" "$BUILD" &
    c=$!
    wait "$c" && status=0 || status=$?
    c=
    if ((status == 2 || refused)); then return 2; fi
    ((status > rc)) && rc=$status
    return "$rc"
}

declare -A RC=() DUR=()
STARTED=$SECONDS
for stage in "${STAGES[@]}"; do
    case $stage in
        selftest) cmd=("$HERE/selftest.sh") ;;
        matrix | loss | faults | hostile | cluster) cmd=("$HERE/$stage.sh" "$BUILD") ;;
        relay) cmd=(relay_stage) ;;
        *) echo "run-all: unknown stage '$stage'" >&2; exit 1 ;;
    esac
    echo
    echo "################ $stage ################"
    t0=$SECONDS
    "${cmd[@]}" &
    CHILD=$!
    wait "$CHILD"
    RC[$stage]=$?
    CHILD=
    DUR[$stage]=$((SECONDS - t0))
done
TOTAL=$((SECONDS - STARTED))

sleep 0.2
AFTER=$(snapshot)
LEFT=$(comm -13 <(echo "$BEFORE") <(echo "$AFTER"))

echo
echo "################ summary ################"
FAILED=0
for stage in "${STAGES[@]}"; do
    verdict=PASS
    case ${RC[$stage]} in
        0) ;;
        2) verdict="FAIL (refused: testbed could not be built)"; FAILED=1 ;;
        *) verdict="FAIL (exit ${RC[$stage]})"; FAILED=1 ;;
    esac
    printf '%-9s %5d s  %s\n' "$stage" "${DUR[$stage]}" "$verdict"
done
# the run's directory goes when nothing of ours is left in it (else it is reported below)
rmdir "$RUN_TMP" 2>/dev/null
if [[ -n $LEFT ]]; then
    echo "left behind (FAIL):"
    sed 's/^/    /' <<<"$LEFT"
    FAILED=1
else
    echo "left behind: nothing (no namespace, process, nft table or temp dir of ours)"
fi
printf 'total     %5d s (%d min %02d s)\n' "$TOTAL" $((TOTAL / 60)) $((TOTAL % 60))
if ((TOTAL >= 840)); then
    echo "run-all: WARNING: over its 14-minute budget"
fi
if [[ $FAILED -ne 0 ]]; then
    echo "run-all: FAIL"
    exit 1
fi
echo "run-all: PASS"
