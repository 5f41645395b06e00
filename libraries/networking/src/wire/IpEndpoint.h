// A UDP endpoint (address and port) as a plain value, with Overte's wire form.
//
// Wire form (Qt's QDataStream, big-endian): QHostAddress then quint16 port.
//   IPv4:  00 aa aa aa aa pp pp                          (7 bytes)
//   IPv6:  01 <16 bytes> <QString scope id> pp pp        (23 bytes with no scope id)
//   null:  ff pp pp   (also 02 pp pp for QHostAddress::Any)
// Two IpEndpoints are equal when IP and port are; there is no socket type to disagree on (the
// mismatch behind upstream's quirk Q1: the socket type is carried for upstream-style callers but
// never compared). Source: docs/protocol.md 2.3, 2.4.
//
// IpEndpoint is what upstream's SockAddr holds, as a plain value: the transport, the receiver and
// the ice-server pass and store endpoints per datagram, where a QObject would cost an allocation
// each. SockAddr (SockAddr.h) is upstream's QObject shape around one, with the asynchronous
// lookup; the two convert implicitly. A name given here is resolved only when asked to block.
#pragma once

#include "ByteReader.h"
#include "SocketType.h"

#include <QtCore/QDataStream>
#include <QtCore/QDebug>
#include <QtCore/QHashFunctions>
#include <QtNetwork/QHostAddress>

class IpEndpoint {
public:
    IpEndpoint() = default;
    IpEndpoint(const QHostAddress &address, quint16 port) : _address(address), _port(port) {}
    IpEndpoint(SocketType socketType, const QHostAddress &address, quint16 port)
        : _address(address), _port(port), _socketType(socketType) {}
    // An IP literal is used as is; a name is resolved only when shouldBlockForLookup (blocking,
    // first IPv4 address, as upstream). Otherwise, and when the lookup fails, the address is null.
    IpEndpoint(SocketType socketType, const QString &hostname, quint16 hostOrderPort,
               bool shouldBlockForLookup = false);
    // The older upstream form of the same (a UDP socket).
    IpEndpoint(const QString &hostname, quint16 hostOrderPort, bool shouldBlockForLookup = false)
        : IpEndpoint(SocketType::UDP, hostname, hostOrderPort, shouldBlockForLookup) {}

    const QHostAddress &getAddress() const { return _address; }
    quint16 getPort() const { return _port; }
    void setAddress(const QHostAddress &address) { _address = address; }
    void setPort(quint16 port) { _port = port; }

    bool isNull() const { return _address.isNull(); }
    void clear() {
        _address.clear();
        _port = 0;
    }

    SocketType getType() const { return _socketType; }
    void setType(SocketType socketType) { _socketType = socketType; }
    // "203.0.113.5:40102" or "[2001:db8::1]:40102"; "null:PORT" for a null address.
    QString toString() const;

    // The wire codec. decode() fails with BadAddress for an unknown protocol byte.
    void encode(ByteWriter &out) const;
    static IpEndpoint decode(ByteReader &in);
    // Moves past one encoded IpEndpoint without building a QHostAddress. It fails on the same inputs
    // with the same error as decode(), and whatever it accepts decode() then encode() reproduces
    // byte for byte.
    static bool skip(ByteReader &in);

    friend bool operator==(const IpEndpoint &a, const IpEndpoint &b) {
        return a._port == b._port && a._address == b._address;
    }
    friend bool operator!=(const IpEndpoint &a, const IpEndpoint &b) { return !(a == b); }

private:
    friend class SockAddr; // upstream's get...Pointer() accessors

    QHostAddress _address;
    quint16 _port = 0;
    SocketType _socketType = SocketType::UDP;
};

#if QT_VERSION >= QT_VERSION_CHECK(6, 0, 0)
size_t qHash(const IpEndpoint &addr, size_t seed = 0) noexcept;
#else
uint qHash(const IpEndpoint &addr, uint seed = 0) noexcept;
#endif

namespace std {
template <> struct hash<IpEndpoint> {
    size_t operator()(const IpEndpoint &addr) const noexcept { return size_t(qHash(addr, 0)); }
};
} // namespace std

// Qt's own stream form, for code that already holds a QDataStream (identical bytes to encode()).
QDataStream &operator<<(QDataStream &out, const IpEndpoint &addr);
QDataStream &operator>>(QDataStream &in, IpEndpoint &addr);
QDebug operator<<(QDebug debug, const IpEndpoint &addr);

Q_DECLARE_METATYPE(IpEndpoint)
