// Answers "which key verifies this domain's heartbeats?" from the key directory first (trusted,
// no expiry) and then from keys fetched from the metaverse, with the caching rules that keep a
// stranger from turning the ice-server into an HTTP amplifier (quirk Q7):
//  - a fetched key is kept for keyTtlMs whether or not its domain is heard from (upstream drops
//    it after a 5 s silence); after that it is still used while a refresh is in flight, for at
//    most one more keyTtlMs;
//  - an ID the metaverse does not know (404, failure status, bad key) is not asked for again for
//    negativeTtlMs; a transient failure (timeout, 5xx, network) backs off for a few seconds;
//  - a failed verify re-fetches at most once per refetchAfterFailedVerifyMs per domain;
//  - GETs are bounded in flight and per second by MetaverseKeyFetcher; both caches are capped.
// Threads: lookup() and verifyFailed() may be called from any thread (ice-server workers); the
// directory and the fetcher stay on the store's thread, and a fetch wanted elsewhere is started
// there by a queued call.
#pragma once

#include "KeyDirectory.h"
#include "MetaverseKeyFetcher.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QSet>

class DomainKeyStore : public QObject {
    Q_OBJECT
public:
    struct Lookup {
        enum State : quint8 { Known, Pending, Unknown } state = Unknown;
        RsaPublicKey key;
        quint64 serial = 0; // identifies the key, for the verified-heartbeat cache
    };

    struct Counters {
        quint64 negativeHits = 0;
        quint64 throttled = 0; // a fetch was wanted but the bounds said no
        quint64 refetchesAfterFailedVerify = 0;
    };

    // Either source may be null. The store does not own them.
    DomainKeyStore(KeyDirectory *directory, MetaverseKeyFetcher *fetcher, const KeyFetchSettings &settings,
                   QObject *parent = nullptr);

    // The key for the domain now. May start a fetch (then Pending); Unknown when there is no key
    // and none is coming (no metaverse, negatively cached, or the fetch bounds are exhausted).
    Lookup lookup(const QUuid &id, qint64 nowMs);
    // The serial lookup() would report as Known, without copying the key and without side effects
    // (no fetch, no counter): false when lookup() might say anything else or start a refresh, so
    // the caller then takes the full path. For the repeated-heartbeat path, which needs the serial.
    bool knownSerial(const QUuid &id, qint64 nowMs, quint64 *serial);
    // A heartbeat did not verify with the key lookup() gave: maybe the domain has a new key.
    void verifyFailed(const QUuid &id, qint64 nowMs);

    int cachedKeys() const;
    int negativeEntries() const;
    Counters counters() const;
    KeyDirectory *directory() const { return _directory; }
    MetaverseKeyFetcher *fetcher() const { return _fetcher; }

    static constexpr qint64 TransientFailureBackoffMs = 5000;

Q_SIGNALS:
    // The domain's key is gone (its file was removed, or the metaverse no longer knows it).
    void keyRevoked(const QUuid &id);

private:
    struct CachedKey {
        RsaPublicKey key;
        quint64 serial = 0;
        qint64 fetchedMs = 0;
        qint64 lastRefetchMs = 0;
    };

    bool startFetch(const QUuid &id, qint64 nowMs);
    void startQueuedFetch(const QUuid &id);
    void handleFetched(const QUuid &id, MetaverseKeyFetcher::Outcome outcome, const RsaPublicKey &key);
    void rememberNegative(const QUuid &id, qint64 untilMs, qint64 nowMs);

    // Guards everything below but the two sources. Recursive: a signal emitted under it may
    // come back (keyRevoked -> a direct slot -> lookup()).
    mutable QRecursiveMutex _mutex;
    KeyDirectory *_directory;
    MetaverseKeyFetcher *_fetcher;
    KeyFetchSettings _settings;
    QHash<QUuid, CachedKey> _cache;
    QHash<QUuid, qint64> _negative;   // ID -> until (monotonic ms)
    QSet<QUuid> _fetching;            // fetches asked for and not finished (the fetcher's, or queued to it)
    quint64 _nextSerial = 1ull << 62; // fetched keys never share a serial with directory keys
    Counters _counters;
};
