// An in-memory UdpTransport for tests and fuzzers: records what is sent and lets a test inject
// received datagrams, so roles can be driven without sockets or timing.
#pragma once

#include "UdpTransport.h"

#include <QtCore/QList>

class FakeTransport : public UdpTransport {
    Q_OBJECT
public:
    struct Sent {
        QByteArray datagram;
        SockAddr destination;
        int ttl = 0;
    };

    explicit FakeTransport(const SockAddr &local = SockAddr(QHostAddress::LocalHost, 40102), QObject *parent = nullptr)
        : UdpTransport(parent), _local(local) {}

    qint64 writeDatagram(const QByteArray &datagram, const SockAddr &destination, int ttl = 0) override {
        _sent.append({ datagram, destination, ttl });
        Q_EMIT datagramSent(datagram, destination);
        return datagram.size();
    }
    SockAddr localSocket() const override { return _local; }
    void setLocalSocket(const SockAddr &local) { _local = local; }

    // Delivers a datagram as if it had arrived from sender.
    void inject(const QByteArray &datagram, const SockAddr &sender) { Q_EMIT datagramReceived(datagram, sender); }

    const QList<Sent> &sent() const { return _sent; }
    QList<Sent> takeSent() { QList<Sent> out; out.swap(_sent); return out; }
    void clearSent() { _sent.clear(); }

Q_SIGNALS:
    void datagramSent(const QByteArray &datagram, const SockAddr &destination);

private:
    SockAddr _local;
    QList<Sent> _sent;
};
