// UdpTransport over one or more QUdpSockets sharing a port: one per bound address, so a daemon can
// listen on IPv4 and IPv6 at once. A datagram goes out of the socket whose family matches its
// destination.
#pragma once

#include "UdpTransport.h"

#include <QtCore/QList>
#include <QtNetwork/QUdpSocket>

class QUdpSocketTransport : public UdpTransport {
    Q_OBJECT
public:
    explicit QUdpSocketTransport(QObject *parent = nullptr);
    ~QUdpSocketTransport() override;

    // Binds one more socket. Port 0 picks one for the first socket; later sockets reuse it when
    // given 0, so every address listens on the same port. On failure errorString() says why.
    bool bind(const QHostAddress &address, quint16 port = 0);
    // Closes all sockets (e.g. to move to a fresh local port after a stale NAT mapping).
    void close();

    bool isBound() const override { return !_sockets.isEmpty(); }
    // Closes every socket and binds the same addresses again on one new random port (0.0.0.0 when
    // nothing was bound).
    bool rebindToFreshPort() override;
    quint16 localPort() const;
    QList<SockAddr> boundSockets() const;
    QString errorString() const override { return _errorString; }

    qint64 writeDatagram(const QByteArray &datagram, const SockAddr &destination, int ttl = 0) override;
    SockAddr localSocket() const override;

    // Kernel receive buffer size for every socket; a busy daemon wants more than the default.
    void setReceiveBufferSize(int bytes);

private:
    void readPending(QUdpSocket *socket);
    QUdpSocket *socketFor(const QHostAddress &destination) const;

    QList<QUdpSocket *> _sockets;
    QString _errorString;
};
