#include "SocketTransport.h"

#include "QUdpSocketTransport.h"
#ifdef Q_OS_LINUX
#include "NativeUdpTransport.h"
#endif

bool SocketTransport::reusePortAvailable() {
#ifdef Q_OS_LINUX
    return true; // the kernel balances SO_REUSEPORT groups since Linux 3.9
#else
    return false; // BSD-family SO_REUSEPORT does not balance unicast UDP: every datagram goes to one socket
#endif
}

bool SocketTransport::setReusePort(bool on) {
    if (on && !reusePortAvailable()) {
        return false;
    }
    _reusePort = on;
    return true;
}

bool SocketTransport::rebindToFreshPort() {
    QList<QHostAddress> addresses;
    for (const IpEndpoint &socket : boundSockets()) {
        addresses.append(socket.getAddress());
    }
    if (addresses.isEmpty()) {
        addresses.append(QHostAddress(QHostAddress::AnyIPv4));
    }
    close();
    for (const QHostAddress &address : qAsConst(addresses)) {
        if (!bind(address, 0)) {
            return false;
        }
    }
    return true;
}

TransportKind parseTransportKind(const QString &text, bool *ok) {
    *ok = true;
    if (text == QLatin1String("auto")) {
        return TransportKind::Auto;
    }
    if (text == QLatin1String("qt")) {
        return TransportKind::Qt;
    }
    if (text == QLatin1String("native")) {
        return TransportKind::Native;
    }
    *ok = false;
    return TransportKind::Auto;
}

QString transportKindName(TransportKind kind) {
    switch (kind) {
    case TransportKind::Qt: return QStringLiteral("qt");
    case TransportKind::Native: return QStringLiteral("native");
    case TransportKind::Auto: break;
    }
    return QStringLiteral("auto");
}

bool nativeTransportAvailable() {
#ifdef Q_OS_LINUX
    return true;
#else
    return false;
#endif
}

std::unique_ptr<SocketTransport> makeSocketTransport(TransportKind kind, QObject *parent) {
#ifdef Q_OS_LINUX
    if (kind != TransportKind::Qt) {
        return std::make_unique<NativeUdpTransport>(parent);
    }
#else
    Q_UNUSED(kind);
#endif
    return std::make_unique<QUdpSocketTransport>(parent);
}
