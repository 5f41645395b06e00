#include "SourceRateLimiter.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

SourceRateLimiter::SourceRateLimiter(const RateLimitSettings &settings, int shards) : _settings(settings) {
    _settings.burst = std::max(1.0, _settings.burst);
    _settings.maxSources = std::max(1, _settings.maxSources);
    shards = std::max(1, std::min(shards, _settings.maxSources));
    _maxSourcesPerShard = _settings.maxSources / shards;
    for (int i = 0; i < shards; ++i) {
        _shards.push_back(std::make_unique<Shard>());
    }
}

SourceRateLimiter::~SourceRateLimiter() = default;

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

SourceRateLimiter::Key SourceRateLimiter::keyFor(const QHostAddress &address) {
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
    return key;
}

bool SourceRateLimiter::allow(const QHostAddress &source, qint64 nowMs) {
    if (!enabled()) {
        return true; // nothing shared is touched: off costs nothing, whatever the thread count
    }
    const Key key = keyFor(source);
    Shard &shard = *_shards[KeyHash()(key) % _shards.size()];
    QMutexLocker lock(&shard.mutex);
    auto &index = shard.index;
    auto &lru = shard.lru;
    Counters &counters = shard.counters;
    auto found = index.find(key);
    if (found == index.end()) {
        if (int(index.size()) >= _maxSourcesPerShard) {
            index.erase(lru.back().key);
            lru.pop_back();
            ++counters.evictions;
        }
        lru.push_front(Bucket { key, _settings.burst, nowMs, false });
        found = index.emplace(key, lru.begin()).first;
    } else if (found->second != lru.begin()) {
        lru.splice(lru.begin(), lru, found->second);
    }

    Bucket &bucket = *found->second;
    const qint64 elapsed = std::max<qint64>(0, nowMs - bucket.lastMs);
    bucket.tokens = std::min(_settings.burst, bucket.tokens + double(elapsed) * _settings.packetsPerSecond / 1000.0);
    bucket.lastMs = nowMs;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        bucket.limited = false;
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
