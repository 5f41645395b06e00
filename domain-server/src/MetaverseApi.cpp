#include "MetaverseApi.h"

#include "DomainServerLogging.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QHttpMultiPart>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>

MetaverseApi::MetaverseApi(const QUrl &metaverseUrl, const QUuid &domainID, QObject *parent)
    : QObject(parent), _url(metaverseUrl), _domainID(domainID), _manager(new QNetworkAccessManager(this)) {
    _iceRetryTimer.setSingleShot(true);
    _iceRetryTimer.setInterval(IceServerAddressRetryMs);
    connect(&_iceRetryTimer, &QTimer::timeout, this, &MetaverseApi::sendIceServerAddress);
}

QUrl MetaverseApi::endpoint(const QString &suffix) const {
    QUrl url = _url;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/'))) {
        path.chop(1); // avoid upstream's double slash (quirk Q12)
    }
    url.setPath(path + QStringLiteral("/api/v1/domains/%1/%2").arg(_domainID.toString(QUuid::WithoutBraces), suffix));
    return url;
}

void MetaverseApi::decorate(QNetworkRequest &request) const {
    request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Icebreaker domain-server"));
    if (!_accessToken.isEmpty()) {
        request.setRawHeader("Authorization", "Bearer " + _accessToken);
    }
}

void MetaverseApi::uploadPublicKey(const QByteArray &pkcs1Der) {
    auto *multipart = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    QHttpPart keyPart;
    keyPart.setHeader(QNetworkRequest::ContentDispositionHeader,
                      QStringLiteral("form-data; name=\"public_key\"; filename=\"public_key\""));
    keyPart.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/octet-stream"));
    keyPart.setBody(pkcs1Der);
    multipart->append(keyPart);
    QHttpPart apiKeyPart;
    apiKeyPart.setHeader(QNetworkRequest::ContentDispositionHeader, QStringLiteral("form-data; name=\"api_key\""));
    apiKeyPart.setBody(_apiKey.toUtf8());
    multipart->append(apiKeyPart);

    QNetworkRequest request(endpoint(QStringLiteral("public_key")));
    decorate(request);
    QNetworkReply *reply = _manager->put(request, multipart);
    multipart->setParent(reply);
    qCInfo(domain_server).noquote() << "uploading the domain's new public key to" << request.url().toString();
    connect(reply, &QNetworkReply::finished, this, [this, reply]() {
        reply->deleteLater();
        if (reply->error() != QNetworkReply::NoError) {
            const QString why = QStringLiteral("public key upload to %1 failed: %2")
                                    .arg(reply->url().toString(), reply->errorString());
            Q_EMIT publicKeyUploadFinished(false, why); // the caller reports it
            return;
        }
        qCInfo(domain_server) << "the metaverse accepted the domain's new public key";
        Q_EMIT publicKeyUploadFinished(true, QString());
    });
}

void MetaverseApi::updateIceServerAddress(const QString &address) {
    _wantedIceAddress = address;
    if (!_iceRequestInFlight && !_iceRetryTimer.isActive()) {
        sendIceServerAddress();
    }
}

void MetaverseApi::sendIceServerAddress() {
    if (_wantedIceAddress == _publishedIceAddress) {
        return;
    }
    _iceRequestInFlight = true;
    _inFlightIceAddress = _wantedIceAddress;
    QJsonObject domain { { QStringLiteral("ice_server_address"), _inFlightIceAddress } };
    if (!_apiKey.isEmpty()) {
        domain.insert(QStringLiteral("api_key"), _apiKey);
    }
    const QByteArray body = QJsonDocument(QJsonObject { { QStringLiteral("domain"), domain } })
                                .toJson(QJsonDocument::Compact);
    QNetworkRequest request(endpoint(QStringLiteral("ice_server_address")));
    decorate(request);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply *reply = _manager->put(request, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply]() {
        reply->deleteLater();
        _iceRequestInFlight = false;
        if (reply->error() != QNetworkReply::NoError) {
            qCWarning(domain_server).noquote() << "publishing ice_server_address failed:" << reply->errorString()
                                               << "- retrying in" << IceServerAddressRetryMs << "ms";
            _iceRetryTimer.start();
            return;
        }
        _publishedIceAddress = _inFlightIceAddress;
        qCInfo(domain_server).noquote() << "published ice_server_address" << _publishedIceAddress;
        Q_EMIT iceServerAddressUpdated(_publishedIceAddress);
        if (_wantedIceAddress != _publishedIceAddress) {
            sendIceServerAddress(); // a newer value arrived meanwhile
        }
    });
}
