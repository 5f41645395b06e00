// The IP TTLs of the first punch rounds ("priming", docs/design.md "Linux NATs and the first packet"):
// round i of a punch attempt sends its pings with ttl(i); 0 means the normal TTL. A small TTL opens
// our own NAT's mapping and dies before the far NAT, so the far NAT keeps its usual mapping free.
// The rule (measured on tests/nat): TTL = NATs in front of this host + 1. The default "2,2" fits a
// host behind one NAT, or none; a host behind carrier-grade NAT (two NATs) needs "3,3". A TTL that
// reaches the far side's NAT before that side has opened it leaves a stale entry there, so the
// default does not ramp to 3: with one transit hop (the testbed), "2,3" and "2,2" both connect a
// single-NAT pair in the first full-TTL round, and neither connects a CGNAT'd domain without its own "3,3".
// The priming rounds go out at once and share a short lead before the first full-TTL round
// (PunchTiming): the lead, not the number of rounds, is the start-skew tolerance.
// "0" or "" disables priming.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>

#include <initializer_list>

class PunchTtlSchedule {
public:
    PunchTtlSchedule() = default;
    explicit PunchTtlSchedule(const QList<int> &ttls) : _ttls(ttls) {}
    PunchTtlSchedule(std::initializer_list<int> ttls) : _ttls(ttls) {}

    static PunchTtlSchedule defaultSchedule() { return PunchTtlSchedule({ 2, 2 }); }
    // "2,3" → {2,3}; "0" or "" → no priming. Each entry 0..255. Returns false on anything else.
    // The one parser of TTL lists: the client's and the domain's --punch-ttl both use it.
    static bool parse(const QString &text, PunchTtlSchedule *schedule);

    // The TTL for a round of an attempt (0-based); 0 = the system default.
    int ttlForRound(int round) const { return round >= 0 && round < _ttls.size() ? _ttls.at(round) : 0; }
    const QList<int> &ttls() const { return _ttls; }
    bool isPriming() const;
    QString toString() const;

    friend bool operator==(const PunchTtlSchedule &a, const PunchTtlSchedule &b) { return a._ttls == b._ttls; }
    friend bool operator!=(const PunchTtlSchedule &a, const PunchTtlSchedule &b) { return !(a == b); }

private:
    QList<int> _ttls;
};
