# shellcheck shell=bash
# The TB_* variables are the API read by the scripts that source this file.
# shellcheck disable=SC2034
# Icebreaker NAT testbed: a bash library, to be SOURCED (not executed).
#
# It builds small internets out of network namespaces and veth pairs so that the
# ice-server, domain-server and interface-stub can be run behind real netfilter
# NATs on one machine.  See tests/nat/README.md for the diagrams and addresses.
#
# The library does not change the caller's shell options: a script sources it
# after `set -euo pipefail`, a human sources it in an interactive shell (where
# `set -e` would close the shell on the first typo).  Every building step checks
# its own commands and returns non-zero on failure instead.
#
# Quick start:
#   source tests/nat/testbed.sh
#   testbed_preflight || exit 1
#   testbed_topology eim eim          # client NAT, domain NAT
#   testbed_stun_start
#   testbed_run_in client python3 tests/nat/nattool.py stun --bind 198.18.2.10:4000 \
#       --server "$TB_STUN_IP:$TB_STUN_PORT"
#   testbed_teardown                  # also runs by itself on EXIT/INT/TERM

# Directory of this file, so helpers (nattool.py) are found from any cwd.
TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python first: a pyenv shim costs ~0.3 s per start, and the
# selftest starts nattool.py dozens of times.
TB_PYTHON=${TB_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}

# ---- fixed address plan (all inside the documentation / benchmarking ranges) ----
# Public "internet": one router namespace (inet) with three segments.
TB_SVC_NET=203.0.113.0/24      # services segment: a bridge inside inet
TB_INET_SVC_IP=203.0.113.1
TB_ICE_IP=203.0.113.10
TB_ICE_PORT=7337
TB_STUN_IP=203.0.113.20
TB_STUN_PORT=3478
TB_STUN2_IP=203.0.113.21       # second STUN server: other address AND other port
TB_STUN2_PORT=3479
TB_TURN_IP=203.0.113.30        # TURN relay (coturn with credentials), on the stun host
TB_TURN_PORT=3480
TB_TURN_USER=icebreaker
TB_TURN_PASSWORD=relay-test
TB_TURN_REALM=icebreaker.test
TB_ATTACKER_IP=203.0.113.66
TB_VICTIM_IP=203.0.113.99
TB_DOMAIN_WAN_NET=198.51.100.0/24   # inet <-> domain side's outermost router
TB_INET_DOMAIN_IP=198.51.100.1
TB_DOMAIN_WAN_IP=198.51.100.2
TB_CLIENT_WAN_NET=192.0.2.0/24      # inet <-> client side's outermost router
TB_INET_CLIENT_IP=192.0.2.1
TB_CLIENT_WAN_IP=192.0.2.2
# LANs (198.18.0.0/15).
TB_DOMAIN_LAN_NET=198.18.1.0/24
TB_CLIENT_LAN_NET=198.18.2.0/24
TB_SAME_LAN_NET=198.18.3.0/24
TB_DOMAIN_CARRIER_NET=198.18.101.0/24  # between carrier NAT and home NAT (CGNAT)
TB_CLIENT_CARRIER_NET=198.18.102.0/24

# Router input policy for traffic addressed to the router itself from the WAN:
# "accept" (a plain Linux box: closed ports answer ICMP, and conntrack keeps an
# entry for the unsolicited packet -- the hostile case docs/design.md describes) or
# "drop" (the packet dies before conntrack confirms it, so it leaves no entry).
TB_ROUTER_INPUT=${TB_ROUTER_INPUT:-accept}

# TB_SYM_PORTS=LOW-HIGH (unset by default): a symmetric NAT gives UDP flows outside ports from
# this range only, so that port collisions, once in 64,512 flows with the kernel's range, are
# common enough to test (matrix.sh's collision build).
TB_SYM_PORTS=${TB_SYM_PORTS:-}

# Set by testbed_init / testbed_site / testbed_same_nat.
TB_PREFIX=${TB_PREFIX:-}
TB_TMP=${TB_TMP:-}
TB_PIDS=()
TB_LAST_PID=
TB_ROLES=()
TB_DOMAIN_IP=
TB_DOMAIN_PUBLIC_IP=
TB_DOMAIN_NAT_HOPS=
TB_CLIENT_IP=
TB_CLIENT_PUBLIC_IP=
TB_CLIENT_NAT_HOPS=
TB_PUNCH_DOMAIN=
# wire role -> "inet_ifname router_role": the two ends testbed_netem may touch
declare -A TB_WIRE_ENDS=()
TB_PUNCH_CLIENT=

# Report a failed command with its text, because the library cannot rely on
# the caller's `set -e` (and a silent failure in a topology is hard to debug).
_tb_do() {
    "$@" && return 0
    local rc=$?
    printf 'testbed: command failed (rc=%d): %s\n' "$rc" "$*" >&2
    return "$rc"
}

# Print an error and fail; one place for the message format.
_tb_die() {
    printf 'testbed: %s\n' "$*" >&2
    return 1
}

# Refuse clearly where namespaces cannot be made (not root, no ip netns, no nft,
# no veth).  Returns 1 and prints why; the caller decides whether that is a
# skip (a laptop) or a failure (CI: it must be a failure).
testbed_preflight() {
    local why=()
    [[ $(id -u) -eq 0 ]] || why+=("not root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    command -v ip >/dev/null || why+=("no 'ip' (install iproute2)")
    command -v nft >/dev/null || why+=("no 'nft' (install nftables)")
    command -v conntrack >/dev/null || why+=("no 'conntrack' (install conntrack)")
    command -v "$TB_PYTHON" >/dev/null || why+=("no python3 (needed by tests/nat/nattool.py)")
    command -v ethtool >/dev/null || why+=("no ethtool (needed for delay/loss without sch_netem)")
    if [[ ${#why[@]} -eq 0 ]]; then
        # try the real thing: a namespace with a veth and an nft table
        local probe="ibpre$$"
        if ! ip netns add "$probe" 2>/dev/null; then
            why+=("'ip netns add' failed (no netns support, or a container without CAP_SYS_ADMIN)")
        else
            ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null ||
                why+=("cannot create veth pairs (veth module missing?)")
            ip netns exec "$probe" nft add table ip probe 2>/dev/null ||
                why+=("nft cannot create tables in a namespace (nf_tables missing?)")
            ip netns del "$probe" 2>/dev/null
        fi
    fi
    if [[ ${#why[@]} -gt 0 ]]; then
        printf 'testbed: cannot build network namespaces here:\n' >&2
        printf '  - %s\n' "${why[@]}" >&2
        return 1
    fi
    return 0
}

# Full namespace name of a role (inet, ice, stun, domain, dnat, ...): every name
# carries the run's prefix so parallel or stale runs never collide.
testbed_ns() {
    printf '%s-%s\n' "$TB_PREFIX" "$1"
}

# Run a command inside a role's namespace (the one way tests touch a host).
testbed_run_in() {
    local role=$1
    shift
    ip netns exec "$(testbed_ns "$role")" "$@"
}

# Start a long-running command in a role's namespace in the background, output
# to $TB_TMP/NAME.log.  Sets TB_LAST_PID (no $(...): the pid must belong to this
# shell so teardown can wait for it) and registers it for teardown.
testbed_spawn() {
    local role=$1 name=$2
    shift 2
    ip netns exec "$(testbed_ns "$role")" "$@" >"$TB_TMP/$name.log" 2>&1 &
    TB_LAST_PID=$!
    TB_PIDS+=("$TB_LAST_PID")
}

# Stop one spawned process and reap it, so its exit does not race teardown.
testbed_stop() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Wait until something listens on UDP PORT in ROLE (servers start asynchronously;
# tests must not race their first packet against bind()).
testbed_wait_udp() {
    local role=$1 port=$2 tries=${3:-100}
    while ((tries-- > 0)); do
        if testbed_run_in "$role" ss -Hlun "sport = :$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.05
    done
    _tb_die "nothing listens on udp/$port in $role"
}

# Create one namespace for a role, loopback up, IPv6 off (no DAD/RS chatter in
# captures), forwarding on for routers.
_tb_ns_add() {
    local role=$1 router=${2:-}
    local ns
    ns=$(testbed_ns "$role")
    _tb_do ip netns add "$ns" || return 1
    TB_ROLES+=("$role")
    _tb_do ip -n "$ns" link set lo up || return 1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
    if [[ -n $router ]]; then
        _tb_do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
    fi
}

# A veth pair between two roles with an address (CIDR) on each end; both ends
# are created directly inside their namespaces, so nothing touches the host's
# own interface names.  An empty address leaves that end unaddressed.
_tb_link() {
    local role_a=$1 if_a=$2 addr_a=$3 role_b=$4 if_b=$5 addr_b=$6
    local ns_a ns_b
    ns_a=$(testbed_ns "$role_a")
    ns_b=$(testbed_ns "$role_b")
    _tb_do ip -n "$ns_a" link add name "$if_a" type veth peer name "$if_b" netns "$ns_b" || return 1
    if [[ -n $addr_a ]]; then _tb_do ip -n "$ns_a" addr add "$addr_a" dev "$if_a" || return 1; fi
    if [[ -n $addr_b ]]; then _tb_do ip -n "$ns_b" addr add "$addr_b" dev "$if_b" || return 1; fi
    _tb_do ip -n "$ns_a" link set dev "$if_a" up || return 1
    _tb_do ip -n "$ns_b" link set dev "$if_b" up || return 1
}

# A public access link inet <-> router that runs through a "wire" namespace
# (role dwire/cwire) holding a plain bridge between its ports up0 (inet side)
# and down0 (router side).  Bridging is L2, so it adds no router hop (TTL figures stay
# the same); it is where testbed_netem puts delay and loss.
_tb_wan_link() {
    local wire=$1 inet_if=$2 inet_addr=$3 role=$4 addr=$5 wns
    _tb_ns_add "$wire" || return 1
    wns=$(testbed_ns "$wire")
    _tb_link inet "$inet_if" "$inet_addr" "$wire" up0 "" || return 1
    _tb_link "$wire" down0 "" "$role" wan "$addr" || return 1
    _tb_do ip -n "$wns" link add name wire0 type bridge || return 1
    _tb_do ip -n "$wns" link set dev up0 master wire0 || return 1
    _tb_do ip -n "$wns" link set dev down0 master wire0 || return 1
    _tb_do ip -n "$wns" link set dev wire0 up || return 1
    TB_WIRE_ENDS[$wire]="$inet_if $role"
}

# A host on a bridge: veth eth0 in the host, port PORT_IF enslaved to BRIDGE in
# BRIDGE_ROLE, address ADDR, default route via GW.
_tb_bridge_host() {
    local role=$1 addr=$2 gw=$3 bridge_role=$4 bridge=$5 port_if=$6
    _tb_ns_add "$role" || return 1
    _tb_link "$role" eth0 "$addr" "$bridge_role" "$port_if" "" || return 1
    _tb_do ip -n "$(testbed_ns "$bridge_role")" link set "$port_if" master "$bridge" || return 1
    _tb_do ip -n "$(testbed_ns "$role")" route add default via "$gw" || return 1
}

# Start a run: pick a unique prefix, make the temp dir, register teardown,
# build the public internet (router "inet" with the services bridge) and its
# hosts: ice (203.0.113.10), stun (.20 and .21), attacker (.66), victim (.99).
testbed_init() {
    if [[ -n $TB_PREFIX ]] && ip netns list | grep -q "^$TB_PREFIX-"; then
        _tb_die "a testbed with prefix $TB_PREFIX is already up (call testbed_teardown first)"
        return 1
    fi
    TB_PREFIX=ib$$
    # a stale run with a recycled pid must not collide with us
    while ip netns list | grep -q "^$TB_PREFIX-"; do TB_PREFIX=ib$$r$RANDOM; done
    TB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/icebreaker-nat.XXXXXX") || return 1
    TB_PIDS=()
    TB_ROLES=()
    TB_WIRE_ENDS=()
    trap testbed_teardown EXIT
    if [[ $- != *i* ]]; then
        # in a script, an interrupt must tear down too; in an interactive shell
        # Ctrl-C only stops the current command and leaves the testbed up
        trap '_tb_on_signal INT 130' INT
        trap '_tb_on_signal TERM 143' TERM
    fi

    _tb_ns_add inet router || return 1
    local inet
    inet=$(testbed_ns inet)
    _tb_do ip -n "$inet" link add name svc type bridge || return 1
    _tb_do ip -n "$inet" addr add "$TB_INET_SVC_IP/24" dev svc || return 1
    _tb_do ip -n "$inet" link set svc up || return 1
    _tb_bridge_host ice "$TB_ICE_IP/24" "$TB_INET_SVC_IP" inet svc s-ice || return 1
    _tb_bridge_host stun "$TB_STUN_IP/24" "$TB_INET_SVC_IP" inet svc s-stun || return 1
    _tb_do ip -n "$(testbed_ns stun)" addr add "$TB_STUN2_IP/24" dev eth0 || return 1
    _tb_do ip -n "$(testbed_ns stun)" addr add "$TB_TURN_IP/24" dev eth0 || return 1
    _tb_bridge_host attacker "$TB_ATTACKER_IP/24" "$TB_INET_SVC_IP" inet svc s-attacker || return 1
    _tb_bridge_host victim "$TB_VICTIM_IP/24" "$TB_INET_SVC_IP" inet svc s-victim || return 1
}

# One more host on the services segment (203.0.113.0/24), for scenarios that need public hosts
# beyond the standard ones (cluster.sh: a second ice-server node and Redis).  Call after
# testbed_init / testbed_topology; ROLE gets eth0 with IP/24 and a default route via inet.
testbed_public_host() {
    local role=$1 ip=$2
    _tb_bridge_host "$role" "$ip/24" "$TB_INET_SVC_IP" inet svc "s-$role"
}

# Apply a NAT behaviour to a router namespace (replacing any previous one, and
# flushing its conntrack so no old mapping survives the switch):
#   none  plain routing, no filter; the upstream router gets a route to the LAN
#   eim   masquerade: port-preserving, endpoint-independent mapping; the forward
#         chain passes only ct state established,related inbound (port-restricted)
#   sym   masquerade random: a fresh random port per new flow (per destination),
#         same port-restricted filter
# UPSTREAM_ROLE/UPSTREAM_GW/LAN_NET are only used by "none" (the route back).
testbed_set_nat() {
    local role=$1 mode=$2 upstream_role=${3:-} router_wan_ip=${4:-} lan_net=${5:-}
    local ns masq input_rule="" udp_ports_rule=""
    ns=$(testbed_ns "$role")
    ip netns exec "$ns" nft delete table ip ibnat 2>/dev/null || true
    ip netns exec "$ns" conntrack -F >/dev/null 2>&1 || true
    case $mode in
        none)
            if [[ -n $upstream_role ]]; then
                _tb_do ip -n "$(testbed_ns "$upstream_role")" route replace "$lan_net" via "$router_wan_ip" || return 1
            fi
            return 0
            ;;
        eim) masq="masquerade" ;;
        sym) masq="masquerade random" ;;
        *) _tb_die "unknown NAT mode '$mode' (none|eim|sym)"; return 1 ;;
    esac
    # a narrowed symmetric NAT (TB_SYM_PORTS above): the rule for UDP first, the general one
    # for the rest (ICMP errors)
    if [[ $mode == sym && -n $TB_SYM_PORTS ]]; then
        udp_ports_rule="oifname \"wan\" meta l4proto udp masquerade to :$TB_SYM_PORTS random"
    fi
    if [[ -n $upstream_role ]]; then
        # a NATed LAN is not routable from outside
        ip -n "$(testbed_ns "$upstream_role")" route del "$lan_net" 2>/dev/null || true
    fi
    case $TB_ROUTER_INPUT in
        accept) input_rule='iifname "wan" ct state new counter name "unsolicited_router"' ;;
        drop) input_rule='iifname "wan" ct state new counter name "unsolicited_router" drop' ;;
        *) _tb_die "TB_ROUTER_INPUT must be accept or drop"; return 1 ;;
    esac
    _tb_do ip netns exec "$ns" nft -f - <<EOF || return 1
table ip ibnat {
    counter unsolicited_in { }
    counter unsolicited_router { }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        $udp_ports_rule
        oifname "wan" $masq
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        iifname "lan" accept
        iifname "wan" counter name "unsolicited_in" drop
    }
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        $input_rule
    }
}
EOF
}

# Unsolicited inbound packets ROLE's router has seen from the WAN: those that
# match no mapping and so are addressed to the router itself (input chain:
# answered with ICMP or dropped, per TB_ROUTER_INPUT) plus those routed
# straight at a LAN address (forward chain: always dropped).  None of them
# reaches the LAN.  The selftest and the hostile-traffic tests read it.
testbed_unsolicited_count() {
    testbed_run_in "$1" nft list counters table ip ibnat | awk '/packets/ { n += $2 } END { print n + 0 }'
}

# One NATed side: SIDE is domain or client, MODE none|eim|sym|cgnat.
# Creates router <s>nat (LAN .1, WAN on the side's public link) and host
# <side> (LAN .10); cgnat adds a carrier router <s>cgn in front (EIM, holding
# the public address) with the home router (EIM) behind it.
testbed_site() {
    local side=$1 mode=$2
    local s lan_net wan_net inet_ip wan_ip carrier_net inet_if
    case $side in
        domain) s=d; lan_net=$TB_DOMAIN_LAN_NET; wan_net=$TB_DOMAIN_WAN_NET; inet_ip=$TB_INET_DOMAIN_IP
                wan_ip=$TB_DOMAIN_WAN_IP; carrier_net=$TB_DOMAIN_CARRIER_NET; inet_if=dwan ;;
        client) s=c; lan_net=$TB_CLIENT_LAN_NET; wan_net=$TB_CLIENT_WAN_NET; inet_ip=$TB_INET_CLIENT_IP
                wan_ip=$TB_CLIENT_WAN_IP; carrier_net=$TB_CLIENT_CARRIER_NET; inet_if=cwan ;;
        *) _tb_die "side must be domain or client"; return 1 ;;
    esac
    local lan_pfx=${lan_net%.0/24} carrier_pfx=${carrier_net%.0/24}
    local host_ip=$lan_pfx.10
    local wbits=${wan_net#*/}
    _tb_ns_add "${s}nat" router || return 1
    _tb_ns_add "$side" || return 1
    _tb_link "${s}nat" lan "$lan_pfx.1/24" "$side" eth0 "$host_ip/24" || return 1
    _tb_do ip -n "$(testbed_ns "$side")" route add default via "$lan_pfx.1" || return 1
    case $mode in
        none | eim | sym)
            _tb_wan_link "${s}wire" "$inet_if" "$inet_ip/$wbits" "${s}nat" "$wan_ip/$wbits" || return 1
            _tb_do ip -n "$(testbed_ns "${s}nat")" route add default via "$inet_ip" || return 1
            testbed_set_nat "${s}nat" "$mode" inet "$wan_ip" "$lan_net" || return 1
            ;;
        cgnat)
            _tb_ns_add "${s}cgn" router || return 1
            _tb_wan_link "${s}wire" "$inet_if" "$inet_ip/$wbits" "${s}cgn" "$wan_ip/$wbits" || return 1
            _tb_link "${s}cgn" lan "$carrier_pfx.1/24" "${s}nat" wan "$carrier_pfx.2/24" || return 1
            _tb_do ip -n "$(testbed_ns "${s}cgn")" route add default via "$inet_ip" || return 1
            _tb_do ip -n "$(testbed_ns "${s}nat")" route add default via "$carrier_pfx.1" || return 1
            testbed_set_nat "${s}cgn" eim || return 1
            testbed_set_nat "${s}nat" eim || return 1
            ;;
        *) _tb_die "unknown site mode '$mode' (none|eim|sym|cgnat)"; return 1 ;;
    esac
    local hops=1
    [[ $mode == cgnat ]] && hops=2
    [[ $mode == none ]] && hops=0
    if [[ $side == domain ]]; then
        TB_DOMAIN_IP=$host_ip
        TB_DOMAIN_PUBLIC_IP=$wan_ip
        [[ $mode == none ]] && TB_DOMAIN_PUBLIC_IP=$host_ip
        TB_DOMAIN_NAT_HOPS=$hops
    else
        TB_CLIENT_IP=$host_ip
        TB_CLIENT_PUBLIC_IP=$wan_ip
        [[ $mode == none ]] && TB_CLIENT_PUBLIC_IP=$host_ip
        TB_CLIENT_NAT_HOPS=$hops
    fi
}

# Switch one side built by testbed_site (modes none|eim|sym, not cgnat) to
# another NAT behaviour in place, so a test can walk several modes without
# rebuilding namespaces.  Keeps TB_<SIDE>_PUBLIC_IP / _NAT_HOPS in step.
testbed_side_nat() {
    local side=$1 mode=$2 wan_ip lan_net host_ip
    case $side in
        domain) wan_ip=$TB_DOMAIN_WAN_IP lan_net=$TB_DOMAIN_LAN_NET host_ip=$TB_DOMAIN_IP ;;
        client) wan_ip=$TB_CLIENT_WAN_IP lan_net=$TB_CLIENT_LAN_NET host_ip=$TB_CLIENT_IP ;;
        *) _tb_die "side must be domain or client"; return 1 ;;
    esac
    testbed_set_nat "${side:0:1}nat" "$mode" inet "$wan_ip" "$lan_net" || return 1
    local public=$wan_ip hops=1
    [[ $mode == none ]] && public=$host_ip hops=0
    if [[ $side == domain ]]; then
        TB_DOMAIN_PUBLIC_IP=$public TB_DOMAIN_NAT_HOPS=$hops
    else
        TB_CLIENT_PUBLIC_IP=$public TB_CLIENT_NAT_HOPS=$hops
    fi
}

# Both peers behind ONE NAT router (snat, on the domain's public link) on one
# LAN (a bridge inside snat): domain .10, client .20.  masquerade has no
# hairpin (no DNAT back into the LAN), so they can only meet on local addresses.
testbed_same_nat() {
    local mode=${1:-eim}
    local lan_pfx=${TB_SAME_LAN_NET%.0/24}
    local snat
    _tb_ns_add snat router || return 1
    snat=$(testbed_ns snat)
    _tb_do ip -n "$snat" link add name lan type bridge || return 1
    _tb_do ip -n "$snat" addr add "$lan_pfx.1/24" dev lan || return 1
    _tb_do ip -n "$snat" link set lan up || return 1
    _tb_bridge_host domain "$lan_pfx.10/24" "$lan_pfx.1" snat lan l-domain || return 1
    _tb_bridge_host client "$lan_pfx.20/24" "$lan_pfx.1" snat lan l-client || return 1
    _tb_wan_link dwire dwan "$TB_INET_DOMAIN_IP/24" snat "$TB_DOMAIN_WAN_IP/24" || return 1
    _tb_do ip -n "$snat" route add default via "$TB_INET_DOMAIN_IP" || return 1
    testbed_set_nat snat "$mode" || return 1
    TB_DOMAIN_IP=$lan_pfx.10
    TB_CLIENT_IP=$lan_pfx.20
    TB_DOMAIN_PUBLIC_IP=$TB_DOMAIN_WAN_IP
    TB_CLIENT_PUBLIC_IP=$TB_DOMAIN_WAN_IP
    TB_DOMAIN_NAT_HOPS=1
    TB_CLIENT_NAT_HOPS=1
}

# The one call a matrix cell needs: testbed_init plus both sides.
# CLIENT_MODE/DOMAIN_MODE: none|eim|sym|cgnat, or "same" for both (one NAT).
testbed_topology() {
    local client_mode=$1 domain_mode=$2
    testbed_init || return 1
    if [[ $client_mode == same || $domain_mode == same ]]; then
        [[ $client_mode == same && $domain_mode == same ]] ||
            { _tb_die "'same' means both peers behind one NAT: use 'same same'"; return 1; }
        testbed_same_nat eim || return 1
    else
        testbed_site domain "$domain_mode" || return 1
        testbed_site client "$client_mode" || return 1
    fi
}

# Delay and loss on the public access links (the wire between inet and the
# domain's / client's outermost router), each direction: DELAY_MS per crossing,
# LOSS_PCT percent dropped per crossing.  So client -> domain crosses two
# links (2 x DELAY_MS one way), client -> ice-server one.  Optional SIDES
# (default: domain client).  Uses tc netem where the kernel has it; otherwise
# (CONFIG_NET_SCH_NETEM unset: "Specified qdisc kind is unknown") the bridge
# is replaced by nattool.py's userspace wire with the same semantics.
testbed_netem() {
    local delay=$1 loss=$2
    shift 2
    local sides=("$@") side wire wns dev inet_if router
    [[ ${#sides[@]} -gt 0 ]] || sides=(domain client)
    for side in "${sides[@]}"; do
        wire=${side:0:1}wire
        wns=$(testbed_ns "$wire")
        ip netns list | grep -q "^$wns\b" || continue
        if testbed_netem_available; then
            for dev in up0 down0; do
                _tb_do ip netns exec "$wns" tc qdisc replace dev "$dev" root netem delay "${delay}ms" loss "${loss}%" || return 1
            done
        else
            # veths hand over UDP with the checksum still to be filled in
            # (CHECKSUM_PARTIAL); a userspace copy would carry it unfilled and
            # the receiver would drop it.  Without tx offload on the two
            # interfaces that feed the wire, the kernel fills it in first.
            read -r inet_if router <<<"${TB_WIRE_ENDS[$wire]}"
            _tb_do testbed_run_in inet ethtool -K "$inet_if" tx off >/dev/null || return 1
            _tb_do testbed_run_in "$router" ethtool -K wan tx off >/dev/null || return 1
            _tb_do ip -n "$wns" link set dev up0 nomaster || return 1
            _tb_do ip -n "$wns" link set dev down0 nomaster || return 1
            testbed_spawn "$wire" "$wire" "$TB_PYTHON" "$TB_DIR/nattool.py" wire --a up0 --b down0 \
                --delay-ms "$delay" --loss-pct "$loss"
        fi
    done
}

# Whether this kernel has sch_netem (some VM kernels are built without it).
testbed_netem_available() {
    local ns
    ns=$(testbed_ns inet)
    if ip netns exec "$ns" tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
        ip netns exec "$ns" tc qdisc del dev lo root 2>/dev/null || true
        return 0
    fi
    return 1
}

# coturn as the STUN server: two instances on the stun host, 203.0.113.20:3478
# and 203.0.113.21:3479 (two addresses and two ports, so a symmetric NAT shows
# two mappings).  No config file (-n), logs/pid/sqlite db in $TB_TMP only.
testbed_stun_start() {
    local i ip port
    for i in 1 2; do
        if [[ $i == 1 ]]; then ip=$TB_STUN_IP port=$TB_STUN_PORT; else ip=$TB_STUN2_IP port=$TB_STUN2_PORT; fi
        testbed_spawn stun "turnserver$i" turnserver -n --stun-only -L "$ip" --listening-port "$port" \
            --no-cli --no-tls --no-dtls --no-tcp --no-rfc5780 --no-software-attribute \
            --log-file "$TB_TMP/turnserver$i-file.log" --simple-log --no-stdout-log \
            --pidfile "$TB_TMP/turnserver$i.pid" --db "$TB_TMP/turnserver$i.db"
        testbed_wait_udp stun "$port" || return 1
    done
}

# coturn as a TURN relay on the stun host, 203.0.113.30:3480, long-term credentials
# TB_TURN_USER / TB_TURN_PASSWORD, relayed addresses on the same IP.  Peers may be on any
# segment of the testbed (LAN addresses included: they are not loopback).
testbed_turn_start() {
    testbed_spawn stun turnserver-relay turnserver -n -L "$TB_TURN_IP" --listening-port "$TB_TURN_PORT" \
        --relay-ip "$TB_TURN_IP" --no-cli --no-tls --no-dtls --no-tcp --no-rfc5780 --no-software-attribute \
        --lt-cred-mech --user "$TB_TURN_USER:$TB_TURN_PASSWORD" --realm "$TB_TURN_REALM" \
        --log-file "$TB_TMP/turnserver-relay-file.log" --simple-log --no-stdout-log \
        --pidfile "$TB_TMP/turnserver-relay.pid" --db "$TB_TMP/turnserver-relay.db"
    testbed_wait_udp stun "$TB_TURN_PORT" || return 1
}

# Count UDP datagrams arriving at a host (nft counter in its input chain): how
# the hostile-traffic tests show what reached the victim.
testbed_rx_counter_install() {
    _tb_do testbed_run_in "$1" nft -f - <<'EOF'
table ip ibcount {
    counter rx_udp { }
    chain input {
        type filter hook input priority filter; policy accept;
        meta l4proto udp counter name "rx_udp"
    }
}
EOF
}

# Read the counter installed by testbed_rx_counter_install.
testbed_rx_counter() {
    testbed_run_in "$1" nft list counter ip ibcount rx_udp | awk '/packets/ { print $2; exit }'
}

# The UDP flows in ROLE's conntrack that a conntrack filter selects (-s, -d, --sport, --dport;
# none: all), one per line: "ORIG_SRC:SPORT ORIG_DST:DPORT OUTSIDE_IP:PORT replied|unreplied".
# The third field is the reply tuple's destination: the outside address a NAT gave the flow.
testbed_flows() {
    local role=$1
    shift
    testbed_run_in "$role" conntrack -L -p udp "$@" 2>/dev/null |
        awk '{ ns = 0; nd = 0; nsp = 0; ndp = 0; st = "replied"
               for (i = 1; i <= NF; i++) {
                   if ($i ~ /^src=/ && ++ns == 1) os = substr($i, 5)
                   if ($i ~ /^dst=/ && ++nd <= 2) d[nd] = substr($i, 5)
                   if ($i ~ /^sport=/ && ++nsp == 1) osp = substr($i, 7)
                   if ($i ~ /^dport=/ && ++ndp <= 2) dp[ndp] = substr($i, 7)
                   if ($i == "[UNREPLIED]") st = "unreplied"
               }
               print os ":" osp, d[1] ":" dp[1], d[2] ":" dp[2], st }'
}

# Public IP:port a router's conntrack shows for a flow from LAN_IP:PORT (to DST
# if given): how a test learns a mapping without trusting the peers.
testbed_mapping() {
    local role=$1 lan_ip=$2 port=$3 dst=${4:-}
    local args=(-s "$lan_ip" --sport "$port")
    [[ -n $dst ]] && args+=(-d "$dst")
    testbed_flows "$role" "${args[@]}" | awk '{ print $3; exit }'
}

# Forget every NAT mapping on all routers of this run (conntrack -F), so an
# experiment or a fault test starts from clean NATs.
testbed_flush_nat() {
    local role
    for role in "${TB_ROLES[@]}"; do
        case $role in
            ?nat | ?cgn) testbed_run_in "$role" conntrack -F >/dev/null 2>&1 || true ;;
        esac
    done
}

# One reference UDP punch between the domain host and the client host (nattool.py
# punch): each side learns its public address from coturn on its punch socket,
# the harness hands it to the other (playing the ice-server), both ping every
# 250 ms.  DOMAIN_TTL/CLIENT_TTL: IP TTL of each side's first round (0 = plain).
# PORT: local UDP port on both hosts (use a fresh one per attempt).  SKEW_MS
# delays the client's start; TB_PUNCH_TIMEOUT (s, default 3) bounds a try.  Sets TB_PUNCH_DOMAIN/TB_PUNCH_CLIENT to the last
# result line of each side; returns 0 when both sides got a PONG.
testbed_punch_attempt() {
    local dttl=$1 cttl=$2 port=$3 skew=${4:-0}
    local dir="$TB_TMP/punch.$port" dpid cpid drc=0 crc=0
    mkdir -p "$dir"
    testbed_run_in domain "$TB_PYTHON" "$TB_DIR/nattool.py" punch --bind "$TB_DOMAIN_IP:$port" \
        --stun "$TB_STUN_IP:$TB_STUN_PORT" --me "$dir/domain" --peer "$dir/client" --ttl "$dttl" --timeout "${TB_PUNCH_TIMEOUT:-3}" \
        >"$dir/domain.out" 2>&1 &
    dpid=$!
    testbed_run_in client "$TB_PYTHON" "$TB_DIR/nattool.py" punch --bind "$TB_CLIENT_IP:$port" \
        --stun "$TB_STUN_IP:$TB_STUN_PORT" --me "$dir/client" --peer "$dir/domain" --ttl "$cttl" --timeout "${TB_PUNCH_TIMEOUT:-3}" \
        --skew "$skew" >"$dir/client.out" 2>&1 &
    cpid=$!
    wait "$dpid" || drc=$?
    wait "$cpid" || crc=$?
    TB_PUNCH_DOMAIN=$(tail -n 1 "$dir/domain.out")
    TB_PUNCH_CLIENT=$(tail -n 1 "$dir/client.out")
    [[ $drc -eq 0 && $crc -eq 0 ]]
}

# Kill every process living in our namespaces (found by namespace membership,
# never by name), delete the namespaces (veths, bridges and nft tables go with
# them), remove the temp dir.  Idempotent; registered on EXIT/INT/TERM.
testbed_teardown() {
    [[ -n ${TB_PREFIX:-} ]] || return 0
    local ns pids pid i
    local all=()
    mapfile -t all < <(ip netns list 2>/dev/null | awk -v p="$TB_PREFIX-" 'index($1, p) == 1 { print $1 }')
    for ns in "${all[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086 # a list of pids
        [[ -n $pids ]] && kill $pids 2>/dev/null
    done
    for ((i = 0; i < 20; i++)); do
        pids=""
        for ns in "${all[@]}"; do pids+=$(ip netns pids "$ns" 2>/dev/null || true); done
        [[ -z $pids ]] && break
        sleep 0.05
    done
    for ns in "${all[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
    done
    for pid in "${TB_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ns in "${all[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [[ -n ${TB_TMP:-} && -d $TB_TMP ]]; then
        if [[ -n ${TB_KEEP_LOGS:-} ]]; then
            printf 'testbed: logs kept in %s\n' "$TB_TMP" >&2
        else
            rm -rf "$TB_TMP"
        fi
    fi
    TB_PREFIX=
    TB_TMP=
    TB_PIDS=()
    TB_ROLES=()
    TB_WIRE_ENDS=()
}

# On INT/TERM: tear down, then die of the same signal's exit code (so a CI
# runner sees an interrupted run, not a pass).
_tb_on_signal() {
    local sig=$1 code=$2
    trap - "$sig" EXIT
    testbed_teardown
    printf 'testbed: interrupted by SIG%s, torn down\n' "$sig" >&2
    exit "$code"
}
