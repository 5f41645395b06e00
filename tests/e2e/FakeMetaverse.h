// A tiny metaverse key API for tests (docs/protocol.md 5.1-5.3), on a QTcpServer on loopback:
//   GET /api/v1/domains/<id>/public_key          -> {"status":"success","data":{"public_key":<base64 SPKI DER>}}
//   PUT /api/v1/domains/<id>/public_key          multipart "public_key" (PKCS#1 DER), as a domain uploads it
//   PUT /api/v1/domains/<id>/ice_server_address  {"domain":{"ice_server_address":...}}
// Like an Iamus-style server it converts the uploaded PKCS#1 key to SPKI before serving it (Q8).
// One request per connection ("Connection: close"), which is all QNetworkAccessManager needs.
#pragma once

#include <RsaPublicKey.h>

#include <QtCore/QHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QUuid>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

class FakeMetaverse : public QObject {
    Q_OBJECT
public:
    explicit FakeMetaverse(QObject *parent = nullptr) : QObject(parent) {
        connect(&_server, &QTcpServer::newConnection, this, &FakeMetaverse::accept);
    }

    bool listen() { return _server.listen(QHostAddress::LocalHost, 0); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(_server.serverPort())); }

    void setKey(const QUuid &domainID, const RsaPublicKey &key) { _keys.insert(domainID, key); }
    RsaPublicKey key(const QUuid &domainID) const { return _keys.value(domainID); }
    // Makes key uploads fail with HTTP 500.
    void setFailUploads(bool fail) { _failUploads = fail; }

    int keyFetches() const { return _keyFetches; }
    int keyUploads() const { return _keyUploads; }
    QString iceServerAddress(const QUuid &domainID) const { return _iceAddresses.value(domainID); }
    // The raw multipart body of the last upload, for format checks.
    QByteArray lastUploadBody() const { return _lastUploadBody; }
    QByteArray lastUploadContentType() const { return _lastUploadContentType; }

Q_SIGNALS:
    void publicKeyUploaded(const QUuid &domainID);
    void iceServerAddressChanged(const QUuid &domainID, const QString &address);

private:
    void accept() {
        while (QTcpSocket *socket = _server.nextPendingConnection()) {
            connect(socket, &QTcpSocket::readyRead, this, [this, socket]() { read(socket); });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    void read(QTcpSocket *socket) {
        QByteArray &buffer = _buffers[socket];
        buffer += socket->readAll();
        const int headerEnd = buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) {
            return;
        }
        const QList<QByteArray> lines = buffer.left(headerEnd).split('\n');
        const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
        QHash<QByteArray, QByteArray> headers;
        for (int i = 1; i < lines.size(); ++i) {
            const int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
        }
        const int length = headers.value("content-length", "0").toInt();
        if (buffer.size() < headerEnd + 4 + length) {
            return;
        }
        const QByteArray body = buffer.mid(headerEnd + 4, length);
        _buffers.remove(socket);
        if (requestLine.size() < 2) {
            respond(socket, 400, "{}");
            return;
        }
        handle(
            socket, requestLine[0],
            QString::fromLatin1(requestLine[1]).replace(QRegularExpression(QStringLiteral("/+")), QStringLiteral("/")),
            headers.value("content-type"), body);
    }

    void handle(QTcpSocket *socket, const QByteArray &method, const QString &path, const QByteArray &contentType,
                const QByteArray &body) {
        static const QRegularExpression route(
            QStringLiteral("^/api/v1/domains/([0-9a-fA-F-]{36})/(public_key|ice_server_address)$"));
        const QRegularExpressionMatch match = route.match(path);
        if (!match.hasMatch()) {
            respond(socket, 404, R"({"status":"fail","data":"no route"})");
            return;
        }
        const QUuid id(match.captured(1));
        const QString what = match.captured(2);
        if (method == "GET" && what == QLatin1String("public_key")) {
            ++_keyFetches;
            if (!_keys.contains(id)) {
                respond(socket, 401, R"({"status":"fail","data":"No domain"})");
                return;
            }
            const QJsonObject data { { QStringLiteral("public_key"),
                                       QString::fromLatin1(_keys.value(id).toBase64()) } };
            respond(socket, 200,
                    QJsonDocument(QJsonObject { { QStringLiteral("status"), QStringLiteral("success") },
                                                { QStringLiteral("data"), data } })
                        .toJson(QJsonDocument::Compact));
        } else if (method == "PUT" && what == QLatin1String("public_key")) {
            ++_keyUploads;
            _lastUploadBody = body;
            _lastUploadContentType = contentType;
            const RsaPublicKey key = RsaPublicKey::fromData(multipartField(contentType, body, "public_key"));
            if (_failUploads || key.isNull()) {
                respond(socket, 500, R"({"status":"fail"})");
                return;
            }
            _keys.insert(id, key);
            respond(socket, 200, R"({"status":"success"})");
            Q_EMIT publicKeyUploaded(id);
        } else if (method == "PUT" && what == QLatin1String("ice_server_address")) {
            const QJsonObject
                domain = QJsonDocument::fromJson(body).object().value(QStringLiteral("domain")).toObject();
            _iceAddresses.insert(id, domain.value(QStringLiteral("ice_server_address")).toString());
            respond(socket, 200, R"({"status":"success"})");
            Q_EMIT iceServerAddressChanged(id, _iceAddresses.value(id));
        } else {
            respond(socket, 405, R"({"status":"fail"})");
        }
    }

public:
    // The body of one form-data field of a multipart body.
    static QByteArray multipartField(const QByteArray &contentType, const QByteArray &body, const QByteArray &name) {
        const int at = contentType.indexOf("boundary=");
        if (at < 0) {
            return {};
        }
        QByteArray boundary = contentType.mid(at + 9);
        if (boundary.startsWith('"')) {
            boundary = boundary.mid(1, boundary.indexOf('"', 1) - 1);
        }
        const QByteArray delimiter = "--" + boundary;
        for (int start = body.indexOf(delimiter); start >= 0;) {
            const int next = body.indexOf(delimiter, start + delimiter.size());
            if (next < 0) {
                break;
            }
            const QByteArray part = body.mid(start + delimiter.size(), next - start - delimiter.size());
            const int split = part.indexOf("\r\n\r\n");
            if (split >= 0 && part.left(split).contains("name=\"" + name + "\"")) {
                QByteArray value = part.mid(split + 4);
                if (value.endsWith("\r\n")) {
                    value.chop(2);
                }
                return value;
            }
            start = next;
        }
        return {};
    }

private:
    void respond(QTcpSocket *socket, int status, const QByteArray &json) {
        QByteArray reply = "HTTP/1.1 " + QByteArray::number(status) + (status == 200 ? " OK" : " Error") + "\r\n";
        reply += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size())
                 + "\r\nConnection: close\r\n\r\n" + json;
        socket->write(reply);
        socket->disconnectFromHost();
    }

    QTcpServer _server;
    QHash<QTcpSocket *, QByteArray> _buffers;
    QHash<QUuid, RsaPublicKey> _keys;
    QHash<QUuid, QString> _iceAddresses;
    QByteArray _lastUploadBody;
    QByteArray _lastUploadContentType;
    bool _failUploads = false;
    int _keyFetches = 0;
    int _keyUploads = 0;
};
