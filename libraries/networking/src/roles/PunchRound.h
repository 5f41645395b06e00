// One round of the ICE ping-punch, the same on both sides: the client (NodeList) pinging a domain
// and the domain (DomainGatekeeper) pinging a client each send, every 250 ms, one ICEPing to each
// distinct socket known for the peer, in the order local, public, symmetric, with the round's TTL
// from the priming schedule (PunchTtlSchedule). What each side does between rounds differs (the
// client re-queries after an attempt, the domain drops the peer), so each keeps its own loop.
//
// The symmetric socket is pinged with the normal TTL in every round, priming rounds included. It is
// learned only from a packet the peer sent us from there, so the peer's NAT already holds a mapping
// towards us and our own NAT let that packet in: there is no stale entry to avoid. A priming TTL
// (NATs in front of us + 1, docs/design.md "Linux NATs and the first packet") is chosen to expire before
// the far NAT, so a primed ping there could only die on the way and cost the peer a round. On the
// NAT testbed (tests/nat/README.md) the symmetric socket is learned from the peer's first full-TTL
// round, after the priming rounds, so the matrix results are the same either way; the choice
// matters when the two sides start out of step (one side already past its priming rounds).
#pragma once

#include <IcePackets.h>
#include <NetworkPeer.h>
#include <SockAddr.h>

#include "PunchTtlSchedule.h"

#include <QtCore/QList>

class PunchRound {
public:
    // Upstream's timing: UDP_PUNCH_PING_INTERVAL_MS, and NUM_DOMAIN_SERVER_PINGS_BEFORE_RESET (client)
    // or NUM_PEER_PINGS_BEFORE_DELETE (domain) rounds per attempt.
    static constexpr int IntervalMs = 250;
    static constexpr int RoundsPerAttempt = 8;

    struct Ping {
        SockAddr destination;
        PingType type = PingType::Agnostic;
        int ttl = 0; // 0 = the system default
    };

    // The pings of round `round` (0-based within an attempt) to peer. A socket that is null, has
    // port 0, or equals one already listed (public == local on a LAN or loopback) is skipped.
    static QList<Ping> pings(const NetworkPeer &peer, int round, const PunchTtlSchedule &schedule);
};
