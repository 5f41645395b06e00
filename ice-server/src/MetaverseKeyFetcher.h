// Fetches domain public keys from a metaverse server: GET <url>/api/v1/domains/<id>/public_key,
// JSON {"status":"success","data":{"public_key":"<base64 SPKI or PKCS#1>"}} (docs/protocol.md 5.1, Q8).
// Asynchronous (QNetworkAccessManager), so the UDP socket is never blocked, and bounded: at most
// maxInFlight requests at once and maxPerSecond new ones, each aborted after timeoutMs, each
// response capped in size. The caller asks canStart() before fetch(); refusals are counted.
#pragma once

#include "IceServerSettings.h"

#include <RsaPublicKey.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QUuid>

#include <array>

class QNetworkAccessManager;
class QNetworkReply;

class MetaverseKeyFetcher : public QObject {
    Q_OBJECT
public:
    enum class Outcome : quint8 { Ok, NotFound, HttpError, Timeout, NetworkError, BadJson, BadKey, TooLarge, Count };
    Q_ENUM(Outcome)

    struct Counters {
        quint64 started = 0;
        quint64 refusedInFlight = 0;
        quint64 refusedRate = 0;
        std::array<quint64, size_t(Outcome::Count)> outcomes {};
    };

    explicit MetaverseKeyFetcher(const KeyFetchSettings &settings, QObject *parent = nullptr);
    ~MetaverseKeyFetcher() override;

    // True when a new request may start now (in-flight and per-second bounds); counts a refusal.
    bool canStart(qint64 nowMs);
    // Starts a GET for the ID; call only after canStart() said yes. One request per ID at a time.
    void fetch(const QUuid &id, qint64 nowMs);
    bool isPending(const QUuid &id) const { return _pending.contains(id); }

    int inFlight() const { return int(_pending.size()); }
    const Counters &counters() const { return _counters; }
    QUrl urlFor(const QUuid &id) const;
    static const char *outcomeName(Outcome outcome);

Q_SIGNALS:
    // key is non-null only for Ok; detail says what went wrong otherwise.
    void finished(const QUuid &id, MetaverseKeyFetcher::Outcome outcome, const RsaPublicKey &key,
                  const QString &detail);

private:
    void handleFinished(QNetworkReply *reply, const QUuid &id);
    void complete(const QUuid &id, Outcome outcome, const RsaPublicKey &key, const QString &detail);

    KeyFetchSettings _settings;
    QNetworkAccessManager *_network;
    QHash<QUuid, QNetworkReply *> _pending;
    double _tokens;
    qint64 _lastRefillMs = -1;
    Counters _counters;
};
