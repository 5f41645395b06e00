#include "PunchTiming.h"

#include <QtCore/QtGlobal>

PunchTiming::PunchTiming(const PunchTtlSchedule &ttls, int pathRttMs, const Params &params)
    : _attemptMs(qMax(0, params.attemptMs)) {
    const int maxGap = qMax(1, params.maxGapMs);
    const int minGap = qBound(1, params.minGapMs, maxGap);
    const int priming = ttls.isPriming() ? int(ttls.ttls().size()) : 0;
    const int lead = priming > 0 ? qMax(0, params.leadMs) : 0;
    // Priming rounds: the first at once, the others spread evenly over the lead.
    // (In 64 bits: tests use hour-long leads and gaps to drive rounds by hand.)
    for (int round = 0; round < priming && qint64(round) * lead / priming < _attemptMs; ++round) {
        _offsetsMs.append(int(qint64(round) * lead / priming));
    }
    // Full-TTL rounds: after the lead, then on a backoff starting from the path's round trip (a reply
    // cannot come sooner, so pinging faster only spends datagrams) up to upstream's cadence.
    qint64 gap = qBound(minGap, pathRttMs, maxGap);
    for (qint64 at = lead; at < _attemptMs; at += gap, gap = qMin<qint64>(maxGap, gap * 2)) {
        _offsetsMs.append(int(at));
    }
}

PunchTiming::PunchTiming(const PunchTtlSchedule &ttls, int pathRttMs) : PunchTiming(ttls, pathRttMs, Params()) {}
