// The two metaverse calls a domain makes for ICE (docs/protocol.md 5.2, 5.3): upload its public key after a
// regeneration, and publish which ice-server it uses. One ice_server_address request is in flight at
// a time; a newer value waits its turn and a failure is retried every 2 s, as upstream.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtCore/QUuid>

class QNetworkAccessManager;
class QNetworkReply;

class MetaverseApi : public QObject {
    Q_OBJECT
public:
    static constexpr int IceServerAddressRetryMs = 2000;

    MetaverseApi(const QUrl &metaverseUrl, const QUuid &domainID, QObject *parent = nullptr);

    QUrl metaverseUrl() const { return _url; }
    // Optional bearer token (upstream sends its OAuth access token when it has one).
    void setAccessToken(const QByteArray &token) { _accessToken = token; }
    // Temporary-domain API key sent alongside both calls (may stay empty).
    void setApiKey(const QString &apiKey) { _apiKey = apiKey; }

    // PUT /api/v1/domains/<id>/public_key, multipart: "public_key" = PKCS#1 DER, "api_key".
    void uploadPublicKey(const QByteArray &pkcs1Der);
    // PUT /api/v1/domains/<id>/ice_server_address, {"domain":{"ice_server_address": ...}}.
    // "0.0.0.0" means "no ice-server".
    void updateIceServerAddress(const QString &address);

    QString lastPublishedIceServerAddress() const { return _publishedIceAddress; }

Q_SIGNALS:
    void publicKeyUploadFinished(bool ok, const QString &errorString);
    void iceServerAddressUpdated(const QString &address);

private:
    QUrl endpoint(const QString &suffix) const;
    void sendIceServerAddress();
    void decorate(class QNetworkRequest &request) const;

    QUrl _url;
    QUuid _domainID;
    QByteArray _accessToken;
    QString _apiKey;
    QNetworkAccessManager *_manager;

    QString _wantedIceAddress;
    QString _inFlightIceAddress;
    QString _publishedIceAddress;
    bool _iceRequestInFlight = false;
    QTimer _iceRetryTimer;
};
