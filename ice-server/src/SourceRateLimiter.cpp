#include "SourceRateLimiter.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

SourceRateLimiter::SourceRateLimiter(const RateLimitSettings &settings, int shards) : _settings(settings) {
    _settings.burst = std::max(1.0, _settings.burst);
    _settings.relayBurst = std::max(1.0, _settings.relayBurst);
    // A relayed source touches two buckets (in one shard): neither may evict the other.
    _settings.maxSources = std::max(_settings.trustedRelays.isEmpty() ? 1 : 2, _settings.maxSources);
    shards = std::max(1, std::min(shards, _settings.maxSources / (_settings.trustedRelays.isEmpty() ? 1 : 2)));
    _maxSourcesPerShard = _settings.maxSources / shards;
    for (int i = 0; i < shards; ++i) {
        _shards.push_back(std::make_unique<Shard>());
    }
}

SourceRateLimiter::~SourceRateLimiter() = default;

bool SourceRateLimiter::isTrustedRelay(const QHostAddress &address) const {
    for (const QHostAddress &relay : _settings.trustedRelays) {
        if (relay.isEqual(address, QHostAddress::TolerantConversion)) {
            return true;
        }
    }
    return false;
}

int SourceRateLimiter::trackedSources() const {
    int sum = 0;
    for (const auto &shard : _shards) {
        QMutexLocker lock(&shard->mutex);
        sum += int(shard->index.size());
    }
    return sum;
}

SourceRateLimiter::Counters SourceRateLimiter::counters() const {
    Counters sum;
    for (const auto &shard : _shards) {
        QMutexLocker lock(&shard->mutex);
        sum.allowed += shard->counters.allowed;
        sum.limited += shard->counters.limited;
        sum.limitedSources += shard->counters.limitedSources;
        sum.evictions += shard->counters.evictions;
    }
    return sum;
}

size_t SourceRateLimiter::KeyHash::operator()(const Key &key) const noexcept {
    // FNV-1a: the key is an address, which a sender can choose, but the table is bounded and
    // std::unordered_map degrades gracefully; a keyed hash is not needed for a 64k-entry cap.
    quint64 h = 1469598103934665603ull;
    for (quint8 byte : key) {
        h = (h ^ byte) * 1099511628211ull;
    }
    return size_t(h);
}

SourceRateLimiter::Key SourceRateLimiter::keyFor(const QHostAddress &address, quint16 port) {
    Key key {};
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4) {
        // IPv4-mapped form, so an IPv4 source has one bucket whichever socket it arrived on.
        key[10] = key[11] = 0xff;
        const quint32 be = qToBigEndian(v4);
        std::memcpy(key.data() + 12, &be, 4);
    } else {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        std::memcpy(key.data(), v6.c, 16);
    }
    key[16] = quint8(port >> 8);
    key[17] = quint8(port & 0xff);
    return key;
}

SourceRateLimiter::Shard &SourceRateLimiter::shardFor(const Key &key) const {
    // By the address bytes only (not the port), so a relay's aggregate and per-port buckets share
    // one shard and one lock.
    Key address = key;
    address[16] = address[17] = 0;
    return *_shards[KeyHash()(address) % _shards.size()];
}

SourceRateLimiter::Bucket &SourceRateLimiter::touch(Shard &shard, const Key &key, double rate, double burst,
                                                    qint64 nowMs) {
    auto found = shard.index.find(key);
    if (found == shard.index.end()) {
        if (int(shard.index.size()) >= _maxSourcesPerShard) {
            shard.index.erase(shard.lru.back().key);
            shard.lru.pop_back();
            ++shard.counters.evictions;
        }
        shard.lru.push_front(Bucket { key, burst, nowMs, false });
        found = shard.index.emplace(key, shard.lru.begin()).first;
    } else if (found->second != shard.lru.begin()) {
        shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    }
    Bucket &bucket = *found->second;
    const qint64 elapsed = std::max<qint64>(0, nowMs - bucket.lastMs);
    bucket.tokens = std::min(burst, bucket.tokens + double(elapsed) * rate / 1000.0);
    bucket.lastMs = nowMs;
    return bucket;
}

bool SourceRateLimiter::take(Shard &shard, Bucket &bucket, Bucket *aggregate) {
    Counters &counters = shard.counters;
    if (bucket.tokens >= 1.0 && (!aggregate || aggregate->tokens >= 1.0)) {
        bucket.tokens -= 1.0;
        bucket.limited = false;
        if (aggregate) {
            aggregate->tokens -= 1.0;
        }
        ++counters.allowed;
        return true;
    }
    if (!bucket.limited) {
        bucket.limited = true;
        ++counters.limitedSources;
    }
    ++counters.limited;
    return false;
}

bool SourceRateLimiter::allow(const IpEndpoint &source, qint64 nowMs) {
    if (!enabled()) {
        return true; // nothing shared is touched: off costs nothing, whatever the thread count
    }
    const QHostAddress &address = source.getAddress();
    const Key perIP = keyFor(address, 0);
    Shard &shard = shardFor(perIP);
    QMutexLocker lock(&shard.mutex);
    if (!_settings.trustedRelays.isEmpty() && isTrustedRelay(address)) {
        // The aggregate first: the per-address bucket, touched last, is then the most recent and
        // the two never evict each other.
        Bucket &aggregate = touch(shard, perIP, _settings.relayPacketsPerSecond, _settings.relayBurst, nowMs);
        Bucket &relayed = touch(shard, keyFor(address, source.getPort()), _settings.packetsPerSecond, _settings.burst,
                                nowMs);
        return take(shard, relayed, &aggregate);
    }
    return take(shard, touch(shard, perIP, _settings.packetsPerSecond, _settings.burst, nowMs), nullptr);
}
