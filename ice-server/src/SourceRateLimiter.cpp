#include "SourceRateLimiter.h"

#include <QtCore/QtEndian>

#include <algorithm>
#include <cstring>

SourceRateLimiter::SourceRateLimiter(const RateLimitSettings &settings) : _settings(settings) {
    _settings.burst = std::max(1.0, _settings.burst);
    _settings.relayBurst = std::max(1.0, _settings.relayBurst);
    // A relayed source touches two buckets: neither may evict the other.
    _settings.maxSources = std::max(_settings.trustedRelays.isEmpty() ? 1 : 2, _settings.maxSources);
}

bool SourceRateLimiter::isTrustedRelay(const QHostAddress &address) const {
    for (const QHostAddress &relay : _settings.trustedRelays) {
        if (relay.isEqual(address, QHostAddress::TolerantConversion)) {
            return true;
        }
    }
    return false;
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

SourceRateLimiter::Bucket &SourceRateLimiter::touch(const Key &key, double rate, double burst, qint64 nowMs) {
    auto found = _index.find(key);
    if (found == _index.end()) {
        if (int(_index.size()) >= _settings.maxSources) {
            _index.erase(_lru.back().key);
            _lru.pop_back();
            ++_counters.evictions;
        }
        _lru.push_front(Bucket { key, burst, nowMs, false });
        found = _index.emplace(key, _lru.begin()).first;
    } else if (found->second != _lru.begin()) {
        _lru.splice(_lru.begin(), _lru, found->second);
    }
    Bucket &bucket = *found->second;
    const qint64 elapsed = std::max<qint64>(0, nowMs - bucket.lastMs);
    bucket.tokens = std::min(burst, bucket.tokens + double(elapsed) * rate / 1000.0);
    bucket.lastMs = nowMs;
    return bucket;
}

bool SourceRateLimiter::take(Bucket &bucket, Bucket *aggregate) {
    if (bucket.tokens >= 1.0 && (!aggregate || aggregate->tokens >= 1.0)) {
        bucket.tokens -= 1.0;
        bucket.limited = false;
        if (aggregate) {
            aggregate->tokens -= 1.0;
        }
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

bool SourceRateLimiter::allow(const SockAddr &source, qint64 nowMs) {
    if (!enabled()) {
        ++_counters.allowed;
        return true;
    }
    const QHostAddress &address = source.getAddress();
    if (!_settings.trustedRelays.isEmpty() && isTrustedRelay(address)) {
        // The aggregate first: the per-address bucket, touched last, is then the most recent and
        // the two never evict each other.
        Bucket &aggregate = touch(keyFor(address, 0), _settings.relayPacketsPerSecond, _settings.relayBurst, nowMs);
        Bucket &relayed = touch(keyFor(address, source.getPort()), _settings.packetsPerSecond, _settings.burst, nowMs);
        return take(relayed, &aggregate);
    }
    return take(touch(keyFor(address, 0), _settings.packetsPerSecond, _settings.burst, nowMs), nullptr);
}
