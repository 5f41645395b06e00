// When each round of a punch attempt goes out, one implementation for both sides (NodeList,
// DomainGatekeeper). Priming rounds (the small TTLs of PunchTtlSchedule) go out at once and are
// spread over the lead; the first full-TTL round follows the lead; further full-TTL rounds back off
// from the path's round trip to upstream's 250 ms cadence; the attempt ends 2 s after it began, as
// upstream's does. The domain uses the 40 ms lead; a client facing a domain behind NAT uses the
// whole attempt as its lead (WaitForPeerLeadMs) and pings back to the domain's pings instead.
//
// Why a lead, and why a short one (tests/nat/README.md, "The punch schedule"): a full-TTL ping that
// reaches the far NAT before the far side's own priming ping has left it creates a conntrack entry
// that steals the far side's mapping. The far side starts when the ice-server's message reaches it,
// so the lead must cover the start skew between the two sides, minus the time our ping takes to get
// there. On a real path the skew is at most about the one-way delay between the peers (a triangle
// through the ice-server), so the lead only has to absorb scheduling jitter on the hosts; the
// priming itself is sent before anything else. The two sides do not risk the same: a race lost at
// the client's NAT costs that client one attempt (the next uses a fresh port), one lost at the
// domain's NAT moves the domain's public port for every later client. So the domain uses the short
// lead and a client facing a NATed domain waits for the domain's first ping (NodeList).
#pragma once

#include "PunchTtlSchedule.h"

#include <QtCore/QList>

class PunchTiming {
public:
    // Upstream's UDP_PUNCH_PING_INTERVAL_MS, and its rounds per attempt (NUM_DOMAIN_SERVER_PINGS_BEFORE_RESET
    // on the client, NUM_PEER_PINGS_BEFORE_DELETE on the domain).
    static constexpr int UpstreamIntervalMs = 250;
    static constexpr int UpstreamRoundsPerAttempt = 8;
    // The client's lead when the domain is behind a NAT: the whole attempt. Its full-TTL pings go
    // only back to where a domain ping came from (NodeList): a domain that has not pinged us may not
    // have primed (late, or out of ping budget for our address), and a stale entry in its NAT moves
    // its public port for every later client.
    static constexpr int WaitForPeerLeadMs = UpstreamIntervalMs * UpstreamRoundsPerAttempt;

    struct Params {
        // First priming round to first full-TTL round: the start-skew tolerance (see above).
        int leadMs = 40;
        // The gap after the first full-TTL round is the path's round trip, at least this; each
        // further gap doubles, up to maxGapMs.
        int minGapMs = 25;
        // Never slower than an upstream peer.
        int maxGapMs = UpstreamIntervalMs;
        // Upstream's attempt: 8 rounds x 250 ms. The client re-queries after it, the domain drops
        // the peer; an upstream peer's pings keep coming this long, so we keep answering as long.
        int attemptMs = UpstreamIntervalMs * UpstreamRoundsPerAttempt;
    };

    // An attempt with no rounds (roundCount() 0) that ends at once.
    PunchTiming() = default;
    // The rounds for ttls (its first entries are the priming rounds) and what we know of the path:
    // pathRttMs is a round trip we measured towards the peer's side (the client: its ice-server query;
    // 0 when unknown).
    PunchTiming(const PunchTtlSchedule &ttls, int pathRttMs, const Params &params);
    PunchTiming(const PunchTtlSchedule &ttls, int pathRttMs);

    int roundCount() const { return int(_offsetsMs.size()); }
    // When round `round` (0-based) goes out, in ms after the attempt began.
    int offsetMs(int round) const { return _offsetsMs.value(round, _attemptMs); }
    // From round `round` to the next one, or to the end of the attempt after the last round.
    int delayAfterRound(int round) const { return offsetMs(round + 1) - offsetMs(round); }
    int attemptMs() const { return _attemptMs; }
    const QList<int> &offsetsMs() const { return _offsetsMs; }

private:
    QList<int> _offsetsMs;
    int _attemptMs = 0;
};
