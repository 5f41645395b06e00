// Upstream's SockAddr: a QObject holding one IpEndpoint, so that upstream callers keep their
// hostname constructor with an asynchronous lookup they connect to (lookupCompleted/lookupFailed).
// Copies take the endpoint only, never the parent, connections or a pending lookup (as upstream).
//
// A QObject costs an allocation per copy, so the transport, the receiver and the ice-server pass
// IpEndpoint and API classes keep SockAddr in the signatures upstream has. The two convert
// implicitly: a SockAddr is usable as a const IpEndpoint& without a copy, and an IpEndpoint builds
// a SockAddr. Equality and hashes are the endpoint's (the socket type is carried, not compared).
#pragma once

#include "IpEndpoint.h"

#include <QtCore/QObject>

class QHostInfo;

class SockAddr : public QObject {
    Q_OBJECT
public:
    SockAddr() {}
    SockAddr(const IpEndpoint &endpoint) : _endpoint(endpoint) {}
    SockAddr(const QHostAddress &address, quint16 port) : _endpoint(address, port) {}
    SockAddr(SocketType socketType, const QHostAddress &address, quint16 port) : _endpoint(socketType, address, port) {}
    // An IP literal is used as is. A name is resolved to its first IPv4 address: at once when
    // shouldBlockForLookup, otherwise in the background, ending in lookupCompleted() (the address
    // is set) or lookupFailed() (it stays null). The port is kept either way.
    SockAddr(SocketType socketType, const QString &hostname, quint16 hostOrderPort, bool shouldBlockForLookup = false);
    // The older upstream form of the same (a UDP socket).
    SockAddr(const QString &hostname, quint16 hostOrderPort, bool shouldBlockForLookup = false)
        : SockAddr(SocketType::UDP, hostname, hostOrderPort, shouldBlockForLookup) {}
    SockAddr(const SockAddr &other) : QObject(), _endpoint(other._endpoint) {}
    SockAddr &operator=(const SockAddr &other) {
        _endpoint = other._endpoint;
        return *this;
    }
    ~SockAddr() override;

    const IpEndpoint &endpoint() const { return _endpoint; }
    operator const IpEndpoint &() const { return _endpoint; }

    const QHostAddress &getAddress() const { return _endpoint.getAddress(); }
    quint16 getPort() const { return _endpoint.getPort(); }
    void setAddress(const QHostAddress &address) { _endpoint.setAddress(address); }
    void setPort(quint16 port) { _endpoint.setPort(port); }
    // Upstream's in-place accessors.
    QHostAddress *getAddressPointer() { return &_endpoint._address; }
    quint16 *getPortPointer() { return &_endpoint._port; }
    SocketType *getSocketTypePointer() { return &_endpoint._socketType; }

    bool isNull() const { return _endpoint.isNull(); }
    void clear() { _endpoint.clear(); }
    void swap(SockAddr &other) { std::swap(_endpoint, other._endpoint); }

    SocketType getType() const { return _endpoint.getType(); }
    void setType(SocketType socketType) { _endpoint.setType(socketType); }
    // "203.0.113.5:40102" or "[2001:db8::1]:40102"; "null:PORT" for a null address.
    QString toString() const { return _endpoint.toString(); }
    QString toShortString() const { return _endpoint.toString(); }
    // Loopback, or in an RFC 1918 (IPv4) or RFC 4193 (IPv6 unique local) private range.
    bool hasPrivateAddress() const;

    void encode(ByteWriter &out) const { _endpoint.encode(out); }
    static SockAddr decode(ByteReader &in) { return SockAddr(IpEndpoint::decode(in)); }
    static bool skip(ByteReader &in) { return IpEndpoint::skip(in); }

    friend bool operator==(const SockAddr &a, const SockAddr &b) { return a._endpoint == b._endpoint; }
    friend bool operator==(const SockAddr &a, const IpEndpoint &b) { return a._endpoint == b; }
    friend bool operator==(const IpEndpoint &a, const SockAddr &b) { return a == b._endpoint; }
    friend bool operator!=(const SockAddr &a, const SockAddr &b) { return !(a == b); }
    friend bool operator!=(const SockAddr &a, const IpEndpoint &b) { return !(a == b); }
    friend bool operator!=(const IpEndpoint &a, const SockAddr &b) { return !(a == b); }

Q_SIGNALS:
    void lookupCompleted();
    void lookupFailed();

private Q_SLOTS:
    void handleLookupResult(const QHostInfo &hostInfo);

private:
    IpEndpoint _endpoint;
};

#if QT_VERSION >= QT_VERSION_CHECK(6, 0, 0)
inline size_t qHash(const SockAddr &addr, size_t seed = 0) noexcept {
    return qHash(addr.endpoint(), seed);
}
#else
inline uint qHash(const SockAddr &addr, uint seed = 0) noexcept {
    return qHash(addr.endpoint(), seed);
}
#endif

namespace std {
template <> struct hash<SockAddr> {
    size_t operator()(const SockAddr &addr) const noexcept { return size_t(qHash(addr.endpoint(), 0)); }
};
} // namespace std

// The endpoint's forms (the socket type is not written, as upstream).
QDataStream &operator<<(QDataStream &out, const SockAddr &addr);
QDataStream &operator>>(QDataStream &in, SockAddr &addr);
QDebug operator<<(QDebug debug, const SockAddr &addr);

Q_DECLARE_METATYPE(SockAddr)
