// Shared pieces of the ice-server suites: cached test keys, signed heartbeats, a loopback UDP
// endpoint that records what it receives, and a fake metaverse key API on a QTcpServer.
#pragma once

#include <CryptoBackend.h>
#include <IcePackets.h>
#include <NLDatagram.h>
#include <RsaPrivateKey.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QTest>

#include <memory>

namespace icetest {

// RSA-2048 keys are slow to make; each suite makes a few and reuses them.
inline const RsaPrivateKey &testKey(int index) {
    static QHash<int, RsaPrivateKey> keys;
    auto it = keys.find(index);
    if (it == keys.end()) {
        it = keys.insert(index, RsaPrivateKey::generate(2048));
    }
    return it.value();
}

inline QByteArray datagram(PacketType type, const QByteArray &payload, quint32 sequence = 1) {
    NLDatagram packet = NLDatagram::create(type, payload);
    packet.udt.sequenceNumber = sequence;
    return packet.toDatagram();
}

inline QByteArray signedHeartbeat(const QUuid &domainID, const SockAddr &publicSocket, const SockAddr &localSocket,
                                  const RsaPrivateKey &key, quint32 sequence = 1) {
    IceServerHeartbeat heartbeat;
    heartbeat.domainID = domainID;
    heartbeat.publicSocket = publicSocket;
    heartbeat.localSocket = localSocket;
    heartbeat.signature = CryptoBackend::defaultBackend()->sign(
        key, IceServerHeartbeat::signedPlaintext(domainID, publicSocket, localSocket));
    return datagram(PacketType::ICEServerHeartbeat, heartbeat.toPayload(), sequence);
}

inline QByteArray query(const QUuid &clientID, const SockAddr &publicSocket, const SockAddr &localSocket,
                        const QUuid &domainID, quint32 sequence = 1) {
    IceServerQuery q { clientID, publicSocket, localSocket, domainID };
    return datagram(PacketType::ICEServerQuery, q.toPayload(), sequence);
}

inline bool writeFile(const QString &path, const QByteArray &content) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(content) == content.size();
}

// A UDP socket on loopback that keeps every datagram it receives.
class UdpEndpoint : public QObject {
public:
    explicit UdpEndpoint(const QHostAddress &address = QHostAddress::LocalHost) {
        _bound = _socket.bind(address, 0);
        connect(&_socket, &QUdpSocket::readyRead, this, [this] {
            bool read = false;
            while (_socket.hasPendingDatagrams()) {
                const QNetworkDatagram datagram = _socket.receiveDatagram();
                received.append(datagram.data());
                senders.append(SockAddr(datagram.senderAddress(), quint16(datagram.senderPort())));
                read = true;
            }
            if (!read) {
                // A stale readyRead with nothing to read leaves QUdpSocket's "pending data" flag set
                // and the socket deaf from the next datagram on, unless some read follows (as
                // QUdpSocketTransport::readPending does for the same reason).
                char none;
                _socket.readDatagram(&none, 0);
            }
        });
    }
    bool isBound() const { return _bound; }
    SockAddr address() const { return SockAddr(_socket.localAddress(), _socket.localPort()); }
    void send(const QByteArray &bytes, const SockAddr &to) {
        _socket.writeDatagram(bytes, to.getAddress(), to.getPort());
    }
    // Everything received so far, as lowercase hex (easy to compare with the protocol document).
    QByteArray hex(int index) const { return received.value(index).toHex(); }

    QList<QByteArray> received;
    QList<SockAddr> senders; // where each received datagram came from

private:
    QUdpSocket _socket;
    bool _bound = false;
};

// The metaverse key API (docs/protocol.md 5.1) as a test needs it: per domain ID a canned answer, a
// counter of GETs, and a "hang" mode that never answers.
class FakeMetaverse : public QTcpServer {
public:
    struct Answer {
        int status = 404;
        QByteArray body;
        bool hang = false;
    };

    FakeMetaverse() {
        listen(QHostAddress::LocalHost, 0);
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handle(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/server/").arg(serverPort())); }

    static QByteArray successBody(const QByteArray &keyText) {
        return QByteArrayLiteral("{\"status\":\"success\",\"data\":{\"public_key\":\"") + keyText + "\"}}";
    }

    QHash<QString, Answer> answers; // by domain ID without braces
    Answer fallback;
    int requests = 0;
    QStringList paths;

private:
    void handle(QTcpSocket *socket) {
        QByteArray &buffer = _buffers[socket];
        buffer += socket->readAll();
        if (!buffer.contains("\r\n\r\n")) {
            return;
        }
        const QList<QByteArray> requestLine = buffer.left(buffer.indexOf("\r\n")).split(' ');
        _buffers.remove(socket);
        ++requests;
        const QString path = QString::fromLatin1(requestLine.value(1));
        paths.append(path);
        const QString id = path.section(QLatin1Char('/'), -2, -2);
        const Answer answer = answers.value(id, fallback);
        if (answer.hang) {
            return;
        }
        const QByteArray reason = answer.status == 200 ? "OK" : "Error";
        socket->write("HTTP/1.1 " + QByteArray::number(answer.status) + " " + reason
                      + "\r\nContent-Type: "
                        "application/json\r\nContent-Length: "
                      + QByteArray::number(answer.body.size()) + "\r\nConnection: close\r\n\r\n" + answer.body);
        socket->disconnectFromHost();
    }

    QHash<QTcpSocket *, QByteArray> _buffers;
};

} // namespace icetest
