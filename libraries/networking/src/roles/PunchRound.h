// One round of the ICE ping-punch, the same on both sides: the client (NodeList) pinging a domain
// and the domain (DomainGatekeeper) pinging a client each send, in every round, one ICEPing to each
// distinct socket known for the peer, in the order local, public, symmetric, with the round's TTL
// from the priming schedule (PunchTtlSchedule). When the rounds go out is PunchTiming's. What each
// side does between attempts differs (the client re-queries, the domain drops the peer), so each
// keeps its own loop.
//
// The symmetric socket is pinged with the normal TTL in every round, priming rounds included. It is
// learned only from a packet the peer sent us from there, so the peer's NAT already holds a mapping
// towards us and our own NAT let that packet in: there is no stale entry to avoid. A priming TTL
// (NATs in front of us + 1, docs/design.md "Linux NATs and the first packet") is chosen to expire before
// the far NAT, so a primed ping there could only die on the way and cost the peer a round. With the
// short priming lead (PunchTiming) a symmetric socket is normally learned from the peer's first
// full-TTL round, after our priming rounds, so on the NAT testbed (tests/nat/README.md) the matrix
// results are the same either way; the choice matters when the two sides start out of step (one side
// already past its priming rounds when the other's ping arrives): then our next round, primed or not,
// reaches the peer at once.
#pragma once

#include <IcePackets.h>
#include <NetworkPeer.h>
#include <SockAddr.h>

#include "PunchTiming.h"
#include "PunchTtlSchedule.h"

#include <QtCore/QList>

class PunchRound {
public:
    // Upstream's timing (see PunchTiming): our slowest round interval, and the attempt length in
    // upstream rounds.
    static constexpr int IntervalMs = PunchTiming::UpstreamIntervalMs;
    static constexpr int RoundsPerAttempt = PunchTiming::UpstreamRoundsPerAttempt;

    struct Ping {
        SockAddr destination;
        PingType type = PingType::Agnostic;
        int ttl = 0; // 0 = the system default
    };

    // The pings of round `round` (0-based within an attempt) to peer. A socket that is null, has
    // port 0, or equals one already listed (public == local on a LAN or loopback) is skipped.
    static QList<Ping> pings(const NetworkPeer &peer, int round, const PunchTtlSchedule &schedule);
};
