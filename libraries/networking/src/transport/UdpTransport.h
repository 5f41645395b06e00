// The seam between the protocol and the network: send a datagram, get told when one arrives.
// Roles talk to this interface only, so tests and fuzzers drive them with a fake (tests/common) and
// no socket; QUdpSocketTransport is the real one.
#pragma once

#include <IpEndpoint.h>

#include <QtCore/QObject>

class UdpTransport : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Sends one datagram; returns the bytes sent or -1. ttl > 0 sets the IP TTL / hop limit of
    // this datagram only (used for the first punch packets, see docs/design.md "Linux NATs").
    virtual qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl = 0) = 0;
    // Where this transport receives, for reporting our local socket. Null before binding.
    virtual IpEndpoint localSocket() const = 0;
    // Whether datagrams can be sent and received (a socket is bound).
    virtual bool isBound() const = 0;
    // Moves to a fresh random local port on the same addresses: a NAT entry keyed on the old port
    // (a stale mapping after a failed punch) no longer matters. On failure the transport may be
    // unbound and errorString() says why.
    virtual bool rebindToFreshPort() = 0;
    // Why the last bind or rebind failed; empty when none did.
    virtual QString errorString() const { return QString(); }

Q_SIGNALS:
    // One received datagram and its observed sender (IPv4-mapped IPv6 senders come as IPv4).
    void datagramReceived(const QByteArray &datagram, const IpEndpoint &sender);
};
