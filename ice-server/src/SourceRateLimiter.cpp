#include "SourceRateLimiter.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

SourceRateLimiter::SourceRateLimiter(const RateLimitSettings &settings) : _settings(settings) {
    _settings.burst = std::max(1.0, _settings.burst);
    _settings.maxSources = std::max(1, _settings.maxSources);
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
        ++_counters.allowed;
        return true;
    }
    const Key key = keyFor(source);
    auto found = _index.find(key);
    if (found == _index.end()) {
        if (int(_index.size()) >= _settings.maxSources) {
            _index.erase(_lru.back().key);
            _lru.pop_back();
            ++_counters.evictions;
        }
        _lru.push_front(Bucket { key, _settings.burst, nowMs, false });
        found = _index.emplace(key, _lru.begin()).first;
    } else if (found->second != _lru.begin()) {
        _lru.splice(_lru.begin(), _lru, found->second);
    }

    Bucket &bucket = *found->second;
    const qint64 elapsed = std::max<qint64>(0, nowMs - bucket.lastMs);
    bucket.tokens = std::min(_settings.burst, bucket.tokens + double(elapsed) * _settings.packetsPerSecond / 1000.0);
    bucket.lastMs = nowMs;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        bucket.limited = false;
        ++_counters.allowed;
        return true;
    }
    if (!bucket.limited) {
        bucket.limited = true;
        ++_counters.limitedSources;
    }
    ++_counters.limited;
    return false;
}
