// An in-memory UdpTransport for tests and fuzzers: records what is sent and lets a test inject
// received datagrams, so roles can be driven without sockets or timing. It can also "move" to a
// fresh port (or be told to fail at it), so the fresh-port retry is testable without a socket.
#pragma once

#include <UdpTransport.h>

#include <QtCore/QList>

class FakeTransport : public UdpTransport {
    Q_OBJECT
public:
    struct Sent {
        QByteArray datagram;
        IpEndpoint destination;
        int ttl = 0;
    };

    explicit FakeTransport(const IpEndpoint &local = IpEndpoint(QHostAddress::LocalHost, 40102),
                           QObject *parent = nullptr)
        : UdpTransport(parent), _local(local) {}

    qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl = 0) override {
        _sent.append({ datagram, destination, ttl });
        Q_EMIT datagramSent(datagram, destination);
        return datagram.size();
    }
    IpEndpoint localSocket() const override { return _local; }
    void setLocalSocket(const IpEndpoint &local) { _local = local; }
    bool isBound() const override { return !_local.isNull(); }

    // Moves to the next port (old port + 1 unless setNextPort() chose one), or fails as told.
    bool rebindToFreshPort() override {
        ++_rebinds;
        if (!_rebindError.isEmpty()) {
            _local = IpEndpoint();
            return false;
        }
        const quint16 port = _nextPort ? _nextPort : quint16(_local.getPort() + 1);
        _nextPort = 0;
        _local = IpEndpoint(_local.isNull() ? QHostAddress(QHostAddress::AnyIPv4) : _local.getAddress(), port);
        return true;
    }
    QString errorString() const override { return _rebindError; }
    void setNextPort(quint16 port) { _nextPort = port; }
    // A non-empty error makes every rebind fail with it (and leaves the transport unbound).
    void setRebindError(const QString &error) { _rebindError = error; }
    int rebindCount() const { return _rebinds; }

    // Delivers a datagram as if it had arrived from sender.
    void inject(const QByteArray &datagram, const IpEndpoint &sender) { Q_EMIT datagramReceived(datagram, sender); }

    const QList<Sent> &sent() const { return _sent; }
    QList<Sent> takeSent() {
        QList<Sent> out;
        out.swap(_sent);
        return out;
    }
    void clearSent() { _sent.clear(); }

Q_SIGNALS:
    void datagramSent(const QByteArray &datagram, const IpEndpoint &destination);

private:
    IpEndpoint _local;
    QList<Sent> _sent;
    quint16 _nextPort = 0;
    QString _rebindError;
    int _rebinds = 0;
};
