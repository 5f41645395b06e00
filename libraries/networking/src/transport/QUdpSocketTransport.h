// SocketTransport over one or more QUdpSockets sharing a port: one per bound address, so a daemon
// can listen on IPv4 and IPv6 at once. A datagram goes out of the socket whose family matches its
// destination. The portable transport, and the reference the native one is tested against.
#pragma once

#include "SocketTransport.h"

#include <QtNetwork/QUdpSocket>

class QUdpSocketTransport : public SocketTransport {
    Q_OBJECT
public:
    explicit QUdpSocketTransport(QObject *parent = nullptr);
    ~QUdpSocketTransport() override;

    bool bind(const QHostAddress &address, quint16 port = 0) override;
    void close() override;

    bool isBound() const override { return !_sockets.isEmpty(); }
    quint16 localPort() const override;
    QList<IpEndpoint> boundSockets() const override;

    qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl = 0) override;
    IpEndpoint localSocket() const override;

    void setReceiveBufferSize(int bytes) override;
    void setSendBufferSize(int bytes) override;

private:
    void readPending(QUdpSocket *socket);
    QUdpSocket *socketFor(const QHostAddress &destination) const;

    QList<QUdpSocket *> _sockets;
    quint64 _generation = 0; // bumped by close(), so a read loop notices its socket is gone
};
