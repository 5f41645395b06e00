// A token bucket per source IP address in front of every packet the ice-server handles, so one
// sender cannot make it verify, fetch or answer without limit. State is bounded: at most
// maxSources buckets, the least recently seen source is evicted first (an evicted source comes
// back with a full bucket, which costs at most one burst). A trusted TURN relay's IP is the one
// exception: its relayed addresses (IP and port) each get a bucket, bounded together by one
// larger bucket for the relay IP (RateLimitSettings::trustedRelays).
//
// Threads: allow() may be called from any thread. The buckets are split into shards by source
// IP (a relay's per-port buckets share their IP's shard), each with its own mutex and its own
// share of maxSources (LRU per shard), so workers on several threads share one exact limit per
// source IP: the kernel spreads one IP's datagrams over the workers when they come from several
// ports, so per-thread limiters would let it send N times its rate.
#pragma once

#include "IceServerSettings.h"

#include <IpEndpoint.h>

#include <QtCore/QMutex>
#include <QtNetwork/QHostAddress>

#include <array>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

class SourceRateLimiter {
public:
    struct Counters {
        quint64 allowed = 0;        // counted while limiting is on
        quint64 limited = 0;        // packets dropped
        quint64 limitedSources = 0; // times a source went from allowed to limited
        quint64 evictions = 0;
    };

    // shards > 1 for a limiter shared by several threads; 1 is one exact LRU over maxSources.
    explicit SourceRateLimiter(const RateLimitSettings &settings = {}, int shards = 1);
    ~SourceRateLimiter();

    bool enabled() const { return _settings.packetsPerSecond > 0; }
    // Takes one token for the source; false when its bucket is empty. nowMs is a monotonic clock.
    // The port counts only for a trusted relay, whose aggregate bucket must have a token too.
    bool allow(const IpEndpoint &source, qint64 nowMs);
    bool allow(const QHostAddress &source, qint64 nowMs) { return allow(IpEndpoint(source, 0), nowMs); }
    bool isTrustedRelay(const QHostAddress &address) const;

    int trackedSources() const;
    Counters counters() const; // summed over the shards

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

    struct Shard {
        mutable QMutex mutex;
        std::list<Bucket> lru; // front = most recently seen
        std::unordered_map<Key, std::list<Bucket>::iterator, KeyHash> index;
        Counters counters;
    };

    static Key keyFor(const QHostAddress &address, quint16 port);
    Shard &shardFor(const Key &key) const;
    // The source's bucket in its shard (locked by the caller), refilled to nowMs at rate/burst
    // (created full, evicting the shard's least recently seen when the shard is full).
    Bucket &touch(Shard &shard, const Key &key, double rate, double burst, qint64 nowMs);
    static bool take(Shard &shard, Bucket &bucket, Bucket *aggregate);

    RateLimitSettings _settings;
    int _maxSourcesPerShard;
    std::vector<std::unique_ptr<Shard>> _shards;
};
