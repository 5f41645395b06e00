#include "SockAddr.h"

#include <QtNetwork/QHostInfo>

namespace {
// The first IPv4 address of a lookup (what upstream connects to), or a null address.
QHostAddress firstIPv4(const QHostInfo &info) {
    for (const QHostAddress &candidate : info.addresses()) {
        if (candidate.protocol() == QAbstractSocket::IPv4Protocol) {
            return candidate;
        }
    }
    return QHostAddress();
}
} // namespace

SockAddr::SockAddr(SocketType socketType, const QString &hostname, quint16 hostOrderPort, bool shouldBlockForLookup)
    : _endpoint(socketType, hostname, hostOrderPort, shouldBlockForLookup) {
    if (shouldBlockForLookup || !_endpoint.isNull()) {
        return; // an IP literal, or a name IpEndpoint already looked up (or failed to)
    }
    // The result arrives in this object's thread; a copy does not get it, and a SockAddr destroyed
    // first cancels the delivery (Qt drops a callback whose context object is gone).
    QHostInfo::lookupHost(hostname, this, &SockAddr::handleLookupResult);
}

SockAddr::~SockAddr() = default;

void SockAddr::handleLookupResult(const QHostInfo &hostInfo) {
    const QHostAddress address = hostInfo.error() == QHostInfo::NoError ? firstIPv4(hostInfo) : QHostAddress();
    if (address.isNull()) {
        Q_EMIT lookupFailed();
        return;
    }
    _endpoint.setAddress(address);
    Q_EMIT lookupCompleted();
}

bool SockAddr::hasPrivateAddress() const {
    const QHostAddress &address = getAddress();
    if (address.isLoopback()) {
        return true;
    }
    static const QPair<QHostAddress, int> privateRanges[] = {
        QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8")),
        QHostAddress::parseSubnet(QStringLiteral("172.16.0.0/12")),
        QHostAddress::parseSubnet(QStringLiteral("192.168.0.0/16")),
        QHostAddress::parseSubnet(QStringLiteral("fc00::/7")),
    };
    for (const auto &range : privateRanges) {
        if (address.isInSubnet(range)) {
            return true;
        }
    }
    return false;
}

QDataStream &operator<<(QDataStream &out, const SockAddr &addr) {
    return out << addr.endpoint();
}

QDataStream &operator>>(QDataStream &in, SockAddr &addr) {
    IpEndpoint endpoint;
    in >> endpoint;
    addr.setAddress(endpoint.getAddress());
    addr.setPort(endpoint.getPort());
    return in;
}

QDebug operator<<(QDebug debug, const SockAddr &addr) {
    return debug << addr.endpoint();
}
