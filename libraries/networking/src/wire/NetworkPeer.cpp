#include "NetworkPeer.h"

#include <QtCore/QTimer>

NetworkPeer::~NetworkPeer() = default;

void NetworkPeer::copyDataFrom(const NetworkPeer &other) {
    if (this == &other) {
        return;
    }
    _uuid = other._uuid;
    _publicSocket = other._publicSocket;
    _localSocket = other._localSocket;
    _symmetricSocket = other._symmetricSocket;
    _active = other._active;
    _connectionAttempts = other._connectionAttempts;
    _lastHeardMicrostamp = other._lastHeardMicrostamp;
}

void NetworkPeer::setActive(ActiveSocket kind) {
    _active = kind;
    Q_EMIT socketActivated(*getActiveSocket());
}

void NetworkPeer::startPingTimer() {
    if (!_pingTimer) {
        _pingTimer = new QTimer(this);
        connect(_pingTimer, &QTimer::timeout, this, &NetworkPeer::pingTimerTimeout);
    }
    _pingTimer->start(UDP_PUNCH_PING_INTERVAL_MS);
}

void NetworkPeer::stopPingTimer() {
    if (_pingTimer) {
        _pingTimer->stop();
        _pingTimer->deleteLater();
        _pingTimer = nullptr;
    }
}

void NetworkPeer::reset() {
    softReset();
    _uuid = QUuid();
    _lastHeardMicrostamp = 0;
}

void NetworkPeer::setPublicSocket(const SockAddr &socket) {
    if (socket != _publicSocket && _active == ActiveSocket::Public) {
        _active = ActiveSocket::None;
    }
    _publicSocket = socket;
}

void NetworkPeer::setLocalSocket(const SockAddr &socket) {
    if (socket != _localSocket && _active == ActiveSocket::Local) {
        _active = ActiveSocket::None;
    }
    _localSocket = socket;
}

void NetworkPeer::setSymmetricSocket(const SockAddr &socket) {
    if (socket != _symmetricSocket && _active == ActiveSocket::Symmetric) {
        _active = ActiveSocket::None;
    }
    _symmetricSocket = socket;
}

const SockAddr *NetworkPeer::getActiveSocket() const {
    switch (_active) {
    case ActiveSocket::Local: return &_localSocket;
    case ActiveSocket::Public: return &_publicSocket;
    case ActiveSocket::Symmetric: return &_symmetricSocket;
    case ActiveSocket::None: break;
    }
    return nullptr;
}

void NetworkPeer::activateMatchingOrNewSymmetricSocket(const SockAddr &observed) {
    if (observed == _publicSocket) {
        activatePublicSocket();
    } else if (observed == _localSocket) {
        activateLocalSocket();
    } else {
        _symmetricSocket = observed;
        activateSymmetricSocket();
    }
}

void NetworkPeer::softReset() {
    _publicSocket = SockAddr();
    _localSocket = SockAddr();
    _symmetricSocket = SockAddr();
    _active = ActiveSocket::None;
    _connectionAttempts = 0;
}

void encodeUuid(ByteWriter &out, const QUuid &uuid) {
    out.writeBytes(uuid.toRfc4122());
}

QUuid decodeUuid(ByteReader &in) {
    const QByteArray raw = in.readBytes(16);
    return raw.size() == 16 ? QUuid::fromRfc4122(raw) : QUuid();
}

void NetworkPeer::encode(ByteWriter &out) const {
    encodeUuid(out, _uuid);
    _publicSocket.encode(out);
    _localSocket.encode(out);
}

QByteArray NetworkPeer::toByteArray() const {
    QByteArray out;
    ByteWriter writer(out);
    encode(writer);
    return out;
}

Decoded<NetworkPeer> NetworkPeer::fromByteArray(const QByteArray &payload) {
    ByteReader in(payload);
    Decoded<NetworkPeer> result;
    result.value._uuid = decodeUuid(in);
    result.value._publicSocket = SockAddr::decode(in);
    result.value._localSocket = SockAddr::decode(in);
    if (!in.ok()) {
        return Decoded<NetworkPeer>::failure(in.error());
    }
    if (!in.atEnd()) {
        return Decoded<NetworkPeer>::failure(WireError::TrailingBytes);
    }
    return result;
}

QDataStream &operator<<(QDataStream &out, const NetworkPeer &peer) {
    out << peer.getUUID() << peer.getPublicSocket() << peer.getLocalSocket();
    return out;
}

QDataStream &operator>>(QDataStream &in, NetworkPeer &peer) {
    QUuid uuid;
    SockAddr publicSocket;
    SockAddr localSocket;
    in >> uuid >> publicSocket >> localSocket;
    peer.setUUID(uuid);
    peer.setPublicSocket(publicSocket);
    peer.setLocalSocket(localSocket);
    return in;
}

QString activeSocketName(NetworkPeer::ActiveSocket kind) {
    switch (kind) {
    case NetworkPeer::ActiveSocket::Local: return QStringLiteral("local");
    case NetworkPeer::ActiveSocket::Public: return QStringLiteral("public");
    case NetworkPeer::ActiveSocket::Symmetric: return QStringLiteral("symmetric");
    case NetworkPeer::ActiveSocket::None: break;
    }
    return QStringLiteral("none");
}

QDebug operator<<(QDebug debug, const NetworkPeer &peer) {
    QDebugStateSaver saver(debug);
    debug.nospace() << "NetworkPeer(" << peer.getUUID().toString(QUuid::WithoutBraces) << " public "
                    << peer.getPublicSocket() << " local " << peer.getLocalSocket();
    if (const SockAddr *active = peer.getActiveSocket()) {
        debug.nospace() << " active " << *active;
    }
    debug.nospace() << ')';
    return debug;
}
