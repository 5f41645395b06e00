#include "PunchRound.h"

QList<PunchRound::Ping> PunchRound::pings(const NetworkPeer &peer, int round, const PunchTtlSchedule &schedule) {
    const int primingTtl = schedule.ttlForRound(round);
    const Ping candidates[] = {
        { peer.getLocalSocket(), PingType::Local, primingTtl },
        { peer.getPublicSocket(), PingType::Public, primingTtl },
        { peer.getSymmetricSocket(), PingType::Symmetric, 0 }, // never primed: see the header
    };
    QList<Ping> out;
    for (const Ping &candidate : candidates) {
        const SockAddr &socket = candidate.destination;
        if (socket.isNull() || socket.getPort() == 0) {
            continue;
        }
        bool seen = false;
        for (const Ping &earlier : qAsConst(out)) {
            seen = seen || earlier.destination == socket;
        }
        if (!seen) {
            out.append(candidate);
        }
    }
    return out;
}
