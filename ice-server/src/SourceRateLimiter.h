// A token bucket per source IP address in front of every packet the ice-server handles, so one
// sender cannot make it verify, fetch or answer without limit. State is bounded: at most
// maxSources buckets, the least recently seen source is evicted first (an evicted source comes
// back with a full bucket, which costs at most one burst). A trusted TURN relay's IP is the one
// exception: its relayed addresses (IP and port) each get a bucket, bounded together by one
// larger bucket for the relay IP (RateLimitSettings::trustedRelays).
#pragma once

#include "IceServerSettings.h"

#include <SockAddr.h>

#include <QtNetwork/QHostAddress>

#include <array>
#include <list>
#include <unordered_map>

class SourceRateLimiter {
public:
    struct Counters {
        quint64 allowed = 0;
        quint64 limited = 0;        // packets dropped
        quint64 limitedSources = 0; // times a source went from allowed to limited
        quint64 evictions = 0;
    };

    explicit SourceRateLimiter(const RateLimitSettings &settings = {});

    bool enabled() const { return _settings.packetsPerSecond > 0; }
    // Takes one token for the source; false when its bucket is empty. nowMs is a monotonic clock.
    // The port counts only for a trusted relay, whose aggregate bucket must have a token too.
    bool allow(const SockAddr &source, qint64 nowMs);
    bool allow(const QHostAddress &source, qint64 nowMs) { return allow(SockAddr(source, 0), nowMs); }
    bool isTrustedRelay(const QHostAddress &address) const;

    int trackedSources() const { return int(_index.size()); }
    const Counters &counters() const { return _counters; }

private:
    using Key = std::array<quint8, 18>; // IPv6 (or IPv4-mapped) address, then port (0 = per IP)
    struct KeyHash {
        size_t operator()(const Key &key) const noexcept;
    };
    struct Bucket {
        Key key;
        double tokens;
        qint64 lastMs;
        bool limited;
    };

    static Key keyFor(const QHostAddress &address, quint16 port);
    // The source's bucket, refilled to nowMs at rate/burst (created full, evicting the least
    // recently seen when the table is full).
    Bucket &touch(const Key &key, double rate, double burst, qint64 nowMs);
    bool take(Bucket &bucket, Bucket *aggregate);

    RateLimitSettings _settings;
    std::list<Bucket> _lru; // front = most recently seen
    std::unordered_map<Key, std::list<Bucket>::iterator, KeyHash> _index;
    Counters _counters;
};
