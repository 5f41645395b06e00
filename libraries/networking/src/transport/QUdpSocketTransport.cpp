#include "QUdpSocketTransport.h"

#include "NetworkLogging.h"

#include <QtCore/QVariant>
#include <QtNetwork/QNetworkDatagram>

#ifdef Q_OS_LINUX
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

namespace {
#ifdef Q_OS_LINUX
// QUdpSocket has no SO_REUSEPORT bind mode: make and bind the descriptor here, as Qt would
// (IPV6_V6ONLY for the IPv6 wildcard, dual-stack for QHostAddress::Any), and hand it over.
bool bindReusePort(QUdpSocket *socket, const QHostAddress &address, quint16 port, QString *error) {
    sockaddr_storage local {};
    socklen_t length = 0;
    int family = AF_INET6;
    int v6Only = 1;
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        family = AF_INET;
        auto *v4 = reinterpret_cast<sockaddr_in *>(&local);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr.s_addr = htonl(address.toIPv4Address());
        length = sizeof(sockaddr_in);
    } else if (address.protocol() == QAbstractSocket::IPv6Protocol
               || address.protocol() == QAbstractSocket::AnyIPProtocol) {
        auto *v6 = reinterpret_cast<sockaddr_in6 *>(&local);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        if (address.protocol() == QAbstractSocket::IPv6Protocol) {
            const Q_IPV6ADDR bytes = address.toIPv6Address();
            std::memcpy(&v6->sin6_addr, bytes.c, 16);
            v6->sin6_scope_id = address.scopeId().toUInt();
        } else {
            v6Only = 0;
        }
        length = sizeof(sockaddr_in6);
    } else {
        *error = QStringLiteral("not an IP address");
        return false;
    }
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    const bool ok = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0
                    && (family != AF_INET6 || ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6Only, sizeof(v6Only)) == 0)
                    && ::bind(fd, reinterpret_cast<sockaddr *>(&local), length) == 0;
    if (!ok) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        if (fd >= 0) {
            ::close(fd);
        }
        return false;
    }
    if (!socket->setSocketDescriptor(fd, QAbstractSocket::BoundState)) {
        *error = socket->errorString();
        ::close(fd);
        return false;
    }
    return true;
}
#endif
} // namespace

QUdpSocketTransport::QUdpSocketTransport(QObject *parent) : SocketTransport(parent) {}

QUdpSocketTransport::~QUdpSocketTransport() = default;

bool QUdpSocketTransport::bind(const QHostAddress &address, quint16 port) {
    if (port == 0 && !_sockets.isEmpty()) {
        port = localPort();
    }
    auto *socket = new QUdpSocket(this);
    // Qt binds QHostAddress::AnyIPv6 with IPV6_V6ONLY, so IPv4 and IPv6 "any" sockets can share a
    // port; DontShareAddress keeps a second daemon from silently splitting our traffic.
    QString error;
#ifdef Q_OS_LINUX
    const bool bound = _reusePort ? bindReusePort(socket, address, port, &error)
                                  : socket->bind(address, port, QUdpSocket::DontShareAddress);
#else
    const bool bound = socket->bind(address, port, QUdpSocket::DontShareAddress);
#endif
    if (!bound) {
        _errorString = QStringLiteral("cannot bind UDP %1: %2")
                           .arg(IpEndpoint(address, port).toString(), error.isEmpty() ? socket->errorString() : error);
        delete socket;
        return false;
    }
    connect(socket, &QUdpSocket::readyRead, this, [this, socket] { readPending(socket); });
    _sockets.append(socket);
    return true;
}

void QUdpSocketTransport::close() {
    // A receiver may close us from its slot, inside the socket's readyRead: close the sockets now
    // (the port is free at once) and delete them when control is back in the event loop.
    ++_generation;
    for (QUdpSocket *socket : qAsConst(_sockets)) {
        socket->disconnect(this);
        socket->close();
        socket->deleteLater();
    }
    _sockets.clear();
}

quint16 QUdpSocketTransport::localPort() const {
    return _sockets.isEmpty() ? 0 : _sockets.first()->localPort();
}

QList<IpEndpoint> QUdpSocketTransport::boundSockets() const {
    QList<IpEndpoint> result;
    for (const QUdpSocket *socket : _sockets) {
        result.append(IpEndpoint(socket->localAddress(), socket->localPort()));
    }
    return result;
}

IpEndpoint QUdpSocketTransport::localSocket() const {
    return _sockets.isEmpty() ? IpEndpoint() : IpEndpoint(_sockets.first()->localAddress(), localPort());
}

void QUdpSocketTransport::setReceiveBufferSize(int bytes) {
    for (QUdpSocket *socket : qAsConst(_sockets)) {
        socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, bytes);
    }
}

void QUdpSocketTransport::setSendBufferSize(int bytes) {
    for (QUdpSocket *socket : qAsConst(_sockets)) {
        socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, bytes);
    }
}

QUdpSocket *QUdpSocketTransport::socketFor(const QHostAddress &destination) const {
    const bool v6 = destination.protocol() == QAbstractSocket::IPv6Protocol;
    for (QUdpSocket *socket : _sockets) {
        const auto protocol = socket->localAddress().protocol();
        if (protocol == QAbstractSocket::AnyIPProtocol
            || (v6 ? protocol == QAbstractSocket::IPv6Protocol : protocol == QAbstractSocket::IPv4Protocol)) {
            return socket;
        }
    }
    return nullptr;
}

qint64 QUdpSocketTransport::writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl) {
    QUdpSocket *socket = socketFor(destination.getAddress());
    if (!socket || destination.isNull() || destination.getPort() == 0) {
        qCDebug(networking_packets) << "no socket can send to" << destination;
        return -1;
    }
    if (ttl <= 0) {
        return socket->writeDatagram(datagram, destination.getAddress(), destination.getPort());
    }
    QNetworkDatagram out(datagram, destination.getAddress(), destination.getPort());
    out.setHopLimit(ttl);
    return socket->writeDatagram(out);
}

void QUdpSocketTransport::readPending(QUdpSocket *socket) {
    // Bound the work per readyRead so one flooded socket cannot starve timers and other sockets.
    int received = 0;
    const quint64 generation = _generation;
    for (int budget = 256; budget > 0 && socket->hasPendingDatagrams(); --budget) {
        const QNetworkDatagram datagram = socket->receiveDatagram();
        if (!datagram.isValid()) {
            break;
        }
        ++received;
        QHostAddress sender = datagram.senderAddress();
        bool isMappedV4 = false;
        const quint32 v4 = sender.toIPv4Address(&isMappedV4);
        if (isMappedV4 && sender.protocol() == QAbstractSocket::IPv6Protocol) {
            sender = QHostAddress(v4);
        }
        Q_EMIT datagramReceived(datagram.data(), IpEndpoint(sender, quint16(datagram.senderPort())));
        if (generation != _generation) {
            return; // closed by a receiver
        }
    }
    if (received == 0) {
        // A stale read notification (the socket was drained since the poll) made QUdpSocket emit
        // readyRead with nothing to read. Unless a read call follows, QAbstractSocket keeps its
        // "pending data" flag and disables the read notifier at the next datagram: the socket
        // then goes deaf for good (seen under load with the glib dispatcher). A zero-length read
        // of the empty socket clears the flag and re-enables the notifier.
        char none;
        socket->readDatagram(&none, 0);
    }
    if (socket->hasPendingDatagrams()) {
        QMetaObject::invokeMethod(
            this,
            [this, socket] {
                if (_sockets.contains(socket)) { // not closed meanwhile
                    readPending(socket);
                }
            },
            Qt::QueuedConnection);
    }
}
