// The IP TTLs of the first punch rounds ("priming", DESIGN.md "Linux NATs and the first packet"):
// round i of a punch attempt sends its pings with ttl(i); 0 means the normal TTL. A small TTL opens
// our own NAT's mapping and dies before the far NAT, so the far NAT keeps its usual mapping free.
// Operators and the NAT testbed set it as "2,3" (the default); "0" or "" disables priming.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>

class PunchTtlSchedule {
public:
    PunchTtlSchedule() = default;
    explicit PunchTtlSchedule(const QList<int> &ttls) : _ttls(ttls) {}

    static PunchTtlSchedule defaultSchedule() { return PunchTtlSchedule({ 2, 3 }); }
    // "2,3" → {2,3}; "0" or "" → no priming. Each entry 0..255. Returns false on anything else.
    static bool parse(const QString &text, PunchTtlSchedule *schedule);

    // The TTL for a round of an attempt (0-based); 0 = the system default.
    int ttlForRound(int round) const { return round >= 0 && round < _ttls.size() ? _ttls.at(round) : 0; }
    const QList<int> &ttls() const { return _ttls; }
    bool isPriming() const;
    QString toString() const;

private:
    QList<int> _ttls;
};
