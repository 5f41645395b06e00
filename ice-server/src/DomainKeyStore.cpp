#include "DomainKeyStore.h"

#include "IceServerLogging.h"
#include "IceServerStats.h"

#include <QtCore/QThread>

DomainKeyStore::DomainKeyStore(KeyDirectory *directory, MetaverseKeyFetcher *fetcher, const KeyFetchSettings &settings,
                               QObject *parent)
    : QObject(parent), _directory(directory), _fetcher(fetcher), _settings(settings) {
    if (_directory) {
        connect(_directory, &KeyDirectory::keyChanged, this, [this](const QUuid &id, bool present) {
            QMutexLocker lock(&_mutex);
            if (!present && !_cache.contains(id)) {
                Q_EMIT keyRevoked(id);
            }
        });
    }
    if (_fetcher) {
        connect(_fetcher, &MetaverseKeyFetcher::finished, this,
                [this](const QUuid &id, MetaverseKeyFetcher::Outcome outcome, const RsaPublicKey &key,
                       const QString &) { handleFetched(id, outcome, key); });
    }
}

int DomainKeyStore::cachedKeys() const {
    QMutexLocker lock(&_mutex);
    return int(_cache.size());
}

int DomainKeyStore::negativeEntries() const {
    QMutexLocker lock(&_mutex);
    return int(_negative.size());
}

DomainKeyStore::Counters DomainKeyStore::counters() const {
    QMutexLocker lock(&_mutex);
    return _counters;
}

DomainKeyStore::Lookup DomainKeyStore::lookup(const QUuid &id, qint64 nowMs) {
    Lookup result;
    if (_directory) {
        KeyDirectory::Key trusted;
        if (_directory->copyKey(id, &trusted)) {
            result.state = Lookup::Known;
            result.key = trusted.key;
            result.serial = trusted.serial;
            return result;
        }
    }
    if (!_fetcher) {
        return result;
    }
    QMutexLocker lock(&_mutex);

    auto cached = _cache.find(id);
    if (cached != _cache.end()) {
        const qint64 age = nowMs - cached->fetchedMs;
        if (age < _settings.keyTtlMs) {
            result.state = Lookup::Known;
        } else if (age < 2 * qint64(_settings.keyTtlMs)) {
            // Expired: keep using it while a refresh is on its way, so a live domain sees no Denied.
            if (!_fetching.contains(id) && nowMs - cached->lastRefetchMs >= TransientFailureBackoffMs) {
                cached->lastRefetchMs = nowMs;
                startFetch(id, nowMs);
            }
            result.state = Lookup::Known;
        } else {
            _cache.erase(cached);
            cached = _cache.end();
        }
        if (cached != _cache.end()) {
            result.key = cached->key;
            result.serial = cached->serial;
            return result;
        }
    }

    if (_fetching.contains(id)) {
        result.state = Lookup::Pending;
        return result;
    }
    auto negative = _negative.find(id);
    if (negative != _negative.end()) {
        if (nowMs < *negative) {
            ++_counters.negativeHits;
            return result;
        }
        _negative.erase(negative);
    }
    if (startFetch(id, nowMs)) {
        result.state = Lookup::Pending;
    }
    return result;
}

bool DomainKeyStore::knownSerial(const QUuid &id, qint64 nowMs, quint64 *serial) {
    if (_directory && _directory->keySerial(id, serial)) {
        return true;
    }
    if (!_fetcher) {
        return false;
    }
    QMutexLocker lock(&_mutex);
    auto cached = _cache.constFind(id);
    if (cached == _cache.constEnd() || nowMs - cached->fetchedMs >= _settings.keyTtlMs) {
        return false; // expired (lookup() may refresh it) or absent
    }
    *serial = cached->serial;
    return true;
}

void DomainKeyStore::verifyFailed(const QUuid &id, qint64 nowMs) {
    QMutexLocker lock(&_mutex);
    auto cached = _cache.find(id);
    if (cached == _cache.end() || !_fetcher || _fetching.contains(id)) {
        return; // directory keys are the operator's word; nothing to re-fetch
    }
    if (nowMs - cached->lastRefetchMs < _settings.refetchAfterFailedVerifyMs) {
        return;
    }
    cached->lastRefetchMs = nowMs;
    if (startFetch(id, nowMs)) {
        ++_counters.refetchesAfterFailedVerify;
    }
}

bool DomainKeyStore::startFetch(const QUuid &id, qint64 nowMs) {
    if (QThread::currentThread() != thread()) {
        // The fetcher lives here; whether its bounds allow the fetch is decided when it starts.
        // Until then (and if they refuse) the domain is Pending, which a heartbeat answers with
        // Denied exactly as it answers Unknown.
        _fetching.insert(id);
        QMetaObject::invokeMethod(
            this, [this, id] { startQueuedFetch(id); }, Qt::QueuedConnection);
        return true;
    }
    if (!_fetcher->canStart(nowMs)) {
        ++_counters.throttled;
        return false;
    }
    _fetching.insert(id);
    _fetcher->fetch(id, nowMs);
    return true;
}

void DomainKeyStore::startQueuedFetch(const QUuid &id) {
    QMutexLocker lock(&_mutex);
    const qint64 nowMs = monotonicMs();
    if (_fetcher->isPending(id)) {
        return;
    }
    if (!_fetcher->canStart(nowMs)) {
        ++_counters.throttled;
        _fetching.remove(id);
        return;
    }
    _fetcher->fetch(id, nowMs);
}

void DomainKeyStore::rememberNegative(const QUuid &id, qint64 untilMs, qint64 nowMs) {
    if (_negative.size() >= _settings.maxNegativeEntries) {
        for (auto it = _negative.begin(); it != _negative.end();) {
            it = *it <= nowMs ? _negative.erase(it) : std::next(it);
        }
        if (_negative.size() >= _settings.maxNegativeEntries) {
            // Still full of live entries: forget an arbitrary one. The fetch bounds still hold.
            _negative.erase(_negative.begin());
        }
    }
    _negative.insert(id, untilMs);
}

void DomainKeyStore::handleFetched(const QUuid &id, MetaverseKeyFetcher::Outcome outcome, const RsaPublicKey &key) {
    using Outcome = MetaverseKeyFetcher::Outcome;
    QMutexLocker lock(&_mutex);
    _fetching.remove(id);
    const qint64 nowMs = monotonicMs();
    auto cached = _cache.find(id);
    switch (outcome) {
    case Outcome::Ok: {
        _negative.remove(id);
        if (cached == _cache.end()) {
            if (_cache.size() >= _settings.maxCachedKeys) {
                // Prefer dropping the oldest fetch; a linear scan is fine at this (rare) point.
                auto oldest = _cache.begin();
                for (auto it = _cache.begin(); it != _cache.end(); ++it) {
                    if (it->fetchedMs < oldest->fetchedMs) {
                        oldest = it;
                    }
                }
                _cache.erase(oldest);
            }
            cached = _cache.insert(id, CachedKey());
        }
        if (cached->key != key) {
            cached->key = key;
            cached->serial = _nextSerial++;
        }
        cached->fetchedMs = nowMs;
        cached->lastRefetchMs = nowMs;
        return;
    }
    case Outcome::NotFound:
    case Outcome::BadJson:
    case Outcome::BadKey:
    case Outcome::TooLarge:
        // The metaverse answered and has no usable key: stop trusting any old one.
        rememberNegative(id, nowMs + _settings.negativeTtlMs, nowMs);
        if (cached != _cache.end()) {
            _cache.erase(cached);
            if (!_directory || !_directory->find(id)) {
                Q_EMIT keyRevoked(id);
            }
        }
        return;
    case Outcome::HttpError:
    case Outcome::Timeout:
    case Outcome::NetworkError:
    case Outcome::Count:
        // Transient: keep a key we already have, and back off a little before asking again.
        if (cached == _cache.end()) {
            rememberNegative(id, nowMs + qMin<qint64>(TransientFailureBackoffMs, _settings.negativeTtlMs), nowMs);
        }
        return;
    }
}
