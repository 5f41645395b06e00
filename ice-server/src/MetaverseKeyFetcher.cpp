#include "MetaverseKeyFetcher.h"

#include "IceServerLogging.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>

#include <algorithm>

namespace {
const char *const TimedOutProperty = "iceServerTimedOut";
const char *const TooLargeProperty = "iceServerTooLarge";
} // namespace

MetaverseKeyFetcher::MetaverseKeyFetcher(const KeyFetchSettings &settings, QObject *parent)
    : QObject(parent), _settings(settings), _network(new QNetworkAccessManager(this)),
      _tokens(std::max(1.0, settings.maxPerSecond)) {
    qRegisterMetaType<RsaPublicKey>();
    qRegisterMetaType<MetaverseKeyFetcher::Outcome>(); // for queued connections and QSignalSpy on Qt 5
}

MetaverseKeyFetcher::~MetaverseKeyFetcher() {
    // Replies are children of the manager; abort them without reporting to a half-destroyed owner.
    const auto replies = _pending.values();
    _pending.clear();
    for (QNetworkReply *reply : replies) {
        reply->disconnect(this);
        reply->abort();
    }
}

const char *MetaverseKeyFetcher::outcomeName(Outcome outcome) {
    switch (outcome) {
    case Outcome::Ok: return "ok";
    case Outcome::NotFound: return "not_found";
    case Outcome::HttpError: return "http_error";
    case Outcome::Timeout: return "timeout";
    case Outcome::NetworkError: return "network_error";
    case Outcome::BadJson: return "bad_json";
    case Outcome::BadKey: return "bad_key";
    case Outcome::TooLarge: return "too_large";
    case Outcome::Count: break;
    }
    return "?";
}

QUrl MetaverseKeyFetcher::urlFor(const QUuid &id) const {
    // Join paths with exactly one slash (upstream builds "//server/api/...", quirk Q12).
    QUrl url = _settings.metaverseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/'))) {
        path.chop(1);
    }
    url.setPath(path + QStringLiteral("/api/v1/domains/") + id.toString(QUuid::WithoutBraces)
                + QStringLiteral("/public_key"));
    return url;
}

bool MetaverseKeyFetcher::canStart(qint64 nowMs) {
    if (_pending.size() >= _settings.maxInFlight) {
        ++_counters.refusedInFlight;
        return false;
    }
    const double rate = std::max(0.001, _settings.maxPerSecond);
    const double burst = std::max(1.0, _settings.maxPerSecond);
    if (_lastRefillMs >= 0) {
        _tokens = std::min(burst, _tokens + double(nowMs - _lastRefillMs) * rate / 1000.0);
    }
    _lastRefillMs = nowMs;
    if (_tokens < 1.0) {
        ++_counters.refusedRate;
        return false;
    }
    return true;
}

void MetaverseKeyFetcher::fetch(const QUuid &id, qint64 nowMs) {
    Q_UNUSED(nowMs)
    if (_pending.contains(id)) {
        return;
    }
    _tokens = std::max(0.0, _tokens - 1.0);
    ++_counters.started;

    QNetworkRequest request(urlFor(id));
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setMaximumRedirectsAllowed(3);
    request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("icebreaker-ice-server"));
    QNetworkReply *reply = _network->get(request);
    _pending.insert(id, reply);
    qCDebug(ice_server_packets) << "fetching key of" << id << "from" << request.url().toString();

    // Abort slow servers: the whole request, not just a stalled read, must finish in time.
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, reply, [reply] {
        reply->setProperty(TimedOutProperty, true);
        reply->abort();
    });
    timer->start(_settings.timeoutMs);
    connect(reply, &QNetworkReply::downloadProgress, reply, [this, reply](qint64 received, qint64) {
        if (received > _settings.maxResponseBytes) {
            reply->setProperty(TooLargeProperty, true);
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, id] { handleFinished(reply, id); });
}

void MetaverseKeyFetcher::handleFinished(QNetworkReply *reply, const QUuid &id) {
    reply->deleteLater();
    if (_pending.value(id) != reply) {
        return;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->property(TimedOutProperty).toBool()) {
        complete(id, Outcome::Timeout, {}, QStringLiteral("no answer within %1 ms").arg(_settings.timeoutMs));
        return;
    }
    if (reply->property(TooLargeProperty).toBool()) {
        complete(id, Outcome::TooLarge, {},
                 QStringLiteral("response larger than %1 bytes").arg(_settings.maxResponseBytes));
        return;
    }
    if (status == 0) {
        complete(id, Outcome::NetworkError, {}, reply->errorString());
        return;
    }
    if (status == 404 || status == 401 || status == 403 || status == 410) {
        complete(id, Outcome::NotFound, {}, QStringLiteral("HTTP %1").arg(status));
        return;
    }
    if (status < 200 || status > 299) {
        complete(id, Outcome::HttpError, {}, QStringLiteral("HTTP %1").arg(status));
        return;
    }
    const QByteArray body = reply->read(_settings.maxResponseBytes + 1);
    if (body.size() > _settings.maxResponseBytes) {
        complete(id, Outcome::TooLarge, {},
                 QStringLiteral("response larger than %1 bytes").arg(_settings.maxResponseBytes));
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument json = QJsonDocument::fromJson(body, &parseError);
    const QJsonObject root = json.object();
    if (parseError.error != QJsonParseError::NoError || !json.isObject()) {
        complete(id, Outcome::BadJson, {}, QStringLiteral("not a JSON object"));
        return;
    }
    if (root.value(QStringLiteral("status")).toString() != QStringLiteral("success")) {
        // Iamus answers an unknown domain with a failure status (docs/protocol.md 5.1).
        complete(id, Outcome::NotFound, {}, QStringLiteral("status is not \"success\""));
        return;
    }
    const QJsonValue keyValue = root.value(QStringLiteral("data")).toObject().value(QStringLiteral("public_key"));
    if (!keyValue.isString()) {
        complete(id, Outcome::BadJson, {}, QStringLiteral("no data.public_key string"));
        return;
    }
    QString error;
    const RsaPublicKey key = RsaPublicKey::fromData(keyValue.toString().toUtf8(), &error);
    if (key.isNull()) {
        complete(id, Outcome::BadKey, {}, error);
        return;
    }
    complete(id, Outcome::Ok, key, QString());
}

void MetaverseKeyFetcher::complete(const QUuid &id, Outcome outcome, const RsaPublicKey &key, const QString &detail) {
    _pending.remove(id);
    ++_counters.outcomes[size_t(outcome)];
    if (outcome == Outcome::Ok) {
        qCDebug(ice_server_packets) << "fetched key of" << id;
    } else {
        qCDebug(ice_server) << "key fetch for" << id << "failed:" << outcomeName(outcome) << detail;
    }
    Q_EMIT finished(id, outcome, key, detail);
}
