# shellcheck shell=bash
# shellcheck disable=SC2034 # the ICE_* / NAT_* variables are read by the scripts sourcing this
# The real binaries on the NAT testbed: a bash library to be SOURCED after testbed.sh.
# It starts ice-server (in `ice`), domain-server (in `domain`) and interface-stub (in
# `client`) with the testbed's addresses, and parses what they print.  Used by
# matrix.sh, loss.sh, faults.sh and hostile.sh; see README.md "The binaries on the testbed".
#
#   source tests/nat/testbed.sh; source tests/nat/icelib.sh
#   nat_bins /path/to/build || exit 1
#   testbed_topology eim eim; testbed_stun_start
#   nat_keygen; nat_ice_start; nat_domain_start coturn
#   nat_stub coturn --timeout 10; echo "$NAT_STUB_RC $NAT_STUB_MS $NAT_STUB_VIA"

NAT_ICE_PORT=$TB_ICE_PORT
NAT_DOMAIN_PORT=40000           # the domain-server's UDP port (restart tests move it)
NAT_DOMAIN_ID=
NAT_DOMAIN_KEY=
NAT_KEYS_DIR=
NAT_ICE_PID=
NAT_DOMAIN_PID=
NAT_DOMAIN_LOG=
NAT_ICE_LOG=
NAT_SEQ=0                       # numbers log files of restarted processes
NAT_STUB_RC=
NAT_STUB_MS=
NAT_STUB_VIA=
NAT_STUB_OUT=

# One PASS/FAIL line of a scenario script; a failure is counted in NAT_FAILS, which the script
# turns into its exit status.  Usage: nat_check NAME yes|no DETAIL
NAT_FAILS=0
nat_check() {
    local name=$1 ok=$2 detail=$3 verdict=PASS
    [[ $ok == yes ]] || { verdict=FAIL; NAT_FAILS=$((NAT_FAILS + 1)); }
    printf '%-4s  %-58s  %s\n' "$verdict" "$name" "$detail"
}

# Where the four binaries are (the build directory given to run-all.sh).
nat_bins() {
    local dir=$1 missing=()
    ICE_SERVER_BIN=$dir/ice-server/ice-server
    DOMAIN_SERVER_BIN=$dir/domain-server/domain-server
    STUB_BIN=$dir/interface-stub/interface-stub
    KEYGEN_BIN=$dir/tools/ice-keygen/ice-keygen
    local b
    for b in "$ICE_SERVER_BIN" "$DOMAIN_SERVER_BIN" "$STUB_BIN" "$KEYGEN_BIN"; do
        [[ -x $b ]] || missing+=("$b")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        printf 'nat: binaries missing (build first): %s\n' "${missing[*]}" >&2
        return 1
    fi
}

# STUN server arguments for a STUN choice: "coturn" (the stun host) or "ice" (the
# ice-server's own STUN answer on its port, the binaries' default).
nat_stun_args() {
    case $1 in
        coturn) printf '%s\n' --stun-server "$TB_STUN_IP:$TB_STUN_PORT" ;;
        ice) ;;
        *) printf 'nat: unknown STUN choice %s\n' "$1" >&2; return 1 ;;
    esac
}

# A domain keypair and the ice-server's key directory, in this run's temp dir.
nat_keygen() {
    NAT_ICE_PID=
    NAT_DOMAIN_PID=
    NAT_DOMAIN_KEY=$TB_TMP/domain.key
    NAT_KEYS_DIR=$TB_TMP/keys
    NAT_DOMAIN_ID=$("$KEYGEN_BIN" --keypair "$NAT_DOMAIN_KEY" --keys-dir "$NAT_KEYS_DIR" 2>/dev/null) || return 1
    [[ -n $NAT_DOMAIN_ID ]]
}

# Wait until FILE has at least MIN lines matching PATTERN (fixed string), up to SECONDS.
nat_wait_log() {
    local file=$1 pattern=$2 seconds=$3 min=${4:-1} n
    local deadline=$((SECONDS + seconds))
    while ((SECONDS <= deadline)); do
        n=$(grep -cF -- "$pattern" "$file" 2>/dev/null || true)
        ((${n:-0} >= min)) && return 0
        sleep 0.05
    done
    return 1
}

# ice-server in `ice` on TB_ICE_IP:7337 (extra arguments appended).
nat_ice_start() {
    NAT_SEQ=$((NAT_SEQ + 1))
    NAT_ICE_LOG=$TB_TMP/ice-$NAT_SEQ.log
    testbed_spawn ice "ice-$NAT_SEQ" "$ICE_SERVER_BIN" --bind "$TB_ICE_IP" --port "$NAT_ICE_PORT" \
        --keys-dir "$NAT_KEYS_DIR" --http-port 0 "$@"
    NAT_ICE_PID=$TB_LAST_PID
    testbed_wait_udp ice "$NAT_ICE_PORT"
}

# domain-server in `domain` on NAT_DOMAIN_PORT; STUN choice first, extra arguments
# after.  Returns once the domain says it is registered (ACK from the ice-server).
nat_domain_start() {
    local stun=$1
    shift
    local stun_args
    mapfile -t stun_args < <(nat_stun_args "$stun")
    NAT_SEQ=$((NAT_SEQ + 1))
    NAT_DOMAIN_LOG=$TB_TMP/domain-$NAT_SEQ.log
    testbed_spawn domain "domain-$NAT_SEQ" "$DOMAIN_SERVER_BIN" --domain-id "$NAT_DOMAIN_ID" \
        --keypair "$NAT_DOMAIN_KEY" --ice-server "$TB_ICE_IP:$NAT_ICE_PORT" "${stun_args[@]}" \
        --port "$NAT_DOMAIN_PORT" "$@"
    NAT_DOMAIN_PID=$TB_LAST_PID
    if ! nat_wait_log "$NAT_DOMAIN_LOG" "registered with ice-server" 10; then
        printf 'nat: domain-server did not register within 10 s; its log:\n' >&2
        sed 's/^/    /' "$NAT_DOMAIN_LOG" >&2
        return 1
    fi
}

# One interface-stub run in `client` (STUN choice first, extra arguments after:
# --timeout, --punch-ttl, --keepalive ...).  Sets NAT_STUB_RC (exit code),
# NAT_STUB_MS (connect time it printed, empty if none), NAT_STUB_VIA
# (local|public|symmetric|relay), NAT_STUB_OUT (its output, stdout and stderr) and
# NAT_STUB_WALL_MS (wall time of the whole run).
nat_stub() {
    local stun=$1
    shift
    local stun_args t0
    mapfile -t stun_args < <(nat_stun_args "$stun")
    t0=$(date +%s%N)
    NAT_STUB_RC=0
    NAT_STUB_OUT=$(testbed_run_in client "$STUB_BIN" --ice-server "$TB_ICE_IP:$NAT_ICE_PORT" \
        --domain-id "$NAT_DOMAIN_ID" "${stun_args[@]}" "$@" 2>&1) || NAT_STUB_RC=$?
    NAT_STUB_WALL_MS=$((($(date +%s%N) - t0) / 1000000))
    nat_parse_connected "$NAT_STUB_OUT"
}

# From stub output: NAT_STUB_MS / NAT_STUB_VIA of the first "connected ..." line.
nat_parse_connected() {
    local line
    line=$(grep -m1 '^connected to domain ' <<<"$1" || true)
    NAT_STUB_MS=
    NAT_STUB_VIA=
    # "via local|public|symmetric in N ms" or "via relay ADDR:PORT in N ms"
    if [[ $line =~ via\ ([a-z]+)(\ [0-9.:]+)?\ in\ ([0-9.]+)\ ms ]]; then
        NAT_STUB_VIA=${BASH_REMATCH[1]}
        NAT_STUB_MS=${BASH_REMATCH[3]%.*}
    fi
}

# A relay cell's attempt that connected "via public" opened a real direct path, which a
# symmetric NAT allows by chance.  It gives each destination a random outside port (one of
# 64,512); when the port it picks for the flow between the peers is one that a flow of the same
# NAT toward the STUN server holds (its host's announced mapping or, with several clients behind
# it, another client's), pings sent to that announced address reach this flow, and both sides
# answer.  Accept such an attempt only when conntrack proves it: the client's flow to the
# address it connected to was answered, and on each symmetric NAT the outside address of the
# peers' flow is the outside address of a flow toward the STUN server.  The stub's own flow is
# the one from the local socket it printed (with --verbose), otherwise any answered one.
# Sets COLLISION to the proof when it holds.
port_collision() {
    local cmode=$1 dmode=$2 stun=$3 dst_ip dst_port src='' flow csrc cpub stun_ip mapped owner
    COLLISION=
    [[ $NAT_STUB_OUT =~ at\ ([0-9.]+):([0-9]+)\ via\ public ]] || return 1
    dst_ip=${BASH_REMATCH[1]} dst_port=${BASH_REMATCH[2]}
    [[ $NAT_STUB_OUT =~ local\ socket\ is\ ([0-9.]+:[0-9]+) ]] && src=${BASH_REMATCH[1]}
    stun_ip=$TB_STUN_IP
    [[ $stun == ice ]] && stun_ip=$TB_ICE_IP
    flow=$(testbed_flows cnat -s "$TB_CLIENT_IP" -d "$dst_ip" --dport "$dst_port" |
        awk -v src="$src" '$4 == "replied" && (src == "" || $1 == src) { print; exit }')
    [[ -n $flow ]] || return 1
    read -r csrc _ cpub _ <<<"$flow"
    if [[ $cmode == sym ]]; then
        owner=$(testbed_flows cnat -d "$stun_ip" | awk -v x="$cpub" '$3 == x { print $1; exit }')
        [[ -n $owner ]] || return 1
        COLLISION="client NAT gave $csrc's flow to the domain the outside address $cpub, the mapping of $owner toward STUN $stun_ip"
    fi
    if [[ $dmode == sym ]]; then
        mapped=$(testbed_flows dnat -s "$TB_DOMAIN_IP" --sport "$NAT_DOMAIN_PORT" -d "${cpub%:*}" --dport "${cpub##*:}" |
            awk '$4 == "replied" { print $3; exit }')
        [[ $mapped == "$dst_ip:$dst_port" ]] || return 1
        owner=$(testbed_flows dnat -d "$stun_ip" | awk -v x="$mapped" '$3 == x { print $1; exit }')
        [[ -n $owner ]] || return 1
        COLLISION+="${COLLISION:+; }domain NAT gave $TB_DOMAIN_IP:$NAT_DOMAIN_PORT's flow to the client the outside address"
        COLLISION+=" $mapped, the mapping of $owner toward STUN $stun_ip"
    fi
    [[ -n $COLLISION ]]
}

# Median and maximum of the numbers on stdin ("- -" when none).
nat_stats() {
    sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
                     print a[int((NR + 1) / 2)], a[NR] }'
}

# Stop a process started by nat_*_start (by pid) and reap it.
nat_stop() {
    if [[ -n ${1:-} ]]; then testbed_stop "$1"; fi
}
