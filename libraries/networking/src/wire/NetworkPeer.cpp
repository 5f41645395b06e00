#include "NetworkPeer.h"

#include <QtCore/QMetaMethod>
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
    socketsChanged();
}

const NetworkPeer::SockAddrViews &NetworkPeer::views() const {
    if (!_views) {
        _views.reset(new SockAddrViews { _publicSocket, _localSocket, _symmetricSocket });
    }
    return *_views;
}

void NetworkPeer::socketsChanged() {
    if (_views) {
        _views->publicSocket = _publicSocket;
        _views->localSocket = _localSocket;
        _views->symmetricSocket = _symmetricSocket;
    }
}

void NetworkPeer::setActive(ActiveSocket kind) {
    _active = kind;
    // Only a connected signal needs the SockAddr (the ice-server's peers have none).
    if (isSignalConnected(QMetaMethod::fromSignal(&NetworkPeer::socketActivated))) {
        Q_EMIT socketActivated(*getActiveSocket());
    }
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

void NetworkPeer::setPublicSocket(const IpEndpoint &socket) {
    if (socket != _publicSocket && _active == ActiveSocket::Public) {
        _active = ActiveSocket::None;
    }
    _publicSocket = socket;
    socketsChanged();
}

void NetworkPeer::setLocalSocket(const IpEndpoint &socket) {
    if (socket != _localSocket && _active == ActiveSocket::Local) {
        _active = ActiveSocket::None;
    }
    _localSocket = socket;
    socketsChanged();
}

void NetworkPeer::setSymmetricSocket(const IpEndpoint &socket) {
    if (socket != _symmetricSocket && _active == ActiveSocket::Symmetric) {
        _active = ActiveSocket::None;
    }
    _symmetricSocket = socket;
    socketsChanged();
}

const SockAddr *NetworkPeer::getActiveSocket() const {
    switch (_active) {
    case ActiveSocket::Local: return &views().localSocket;
    case ActiveSocket::Public: return &views().publicSocket;
    case ActiveSocket::Symmetric: return &views().symmetricSocket;
    case ActiveSocket::None: break;
    }
    return nullptr;
}

const IpEndpoint *NetworkPeer::activeEndpoint() const {
    switch (_active) {
    case ActiveSocket::Local: return &_localSocket;
    case ActiveSocket::Public: return &_publicSocket;
    case ActiveSocket::Symmetric: return &_symmetricSocket;
    case ActiveSocket::None: break;
    }
    return nullptr;
}

void NetworkPeer::activateMatchingOrNewSymmetricSocket(const IpEndpoint &observed) {
    if (observed == _publicSocket) {
        activatePublicSocket();
    } else if (observed == _localSocket) {
        activateLocalSocket();
    } else {
        _symmetricSocket = observed;
        socketsChanged();
        activateSymmetricSocket();
    }
}

void NetworkPeer::softReset() {
    _publicSocket = IpEndpoint();
    _localSocket = IpEndpoint();
    _symmetricSocket = IpEndpoint();
    _active = ActiveSocket::None;
    _connectionAttempts = 0;
    socketsChanged();
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
    result.value._publicSocket = IpEndpoint::decode(in);
    result.value._localSocket = IpEndpoint::decode(in);
    if (!in.ok()) {
        return Decoded<NetworkPeer>::failure(in.error());
    }
    if (!in.atEnd()) {
        return Decoded<NetworkPeer>::failure(WireError::TrailingBytes);
    }
    return result;
}

QDataStream &operator<<(QDataStream &out, const NetworkPeer &peer) {
    out << peer.getUUID() << peer.publicEndpoint() << peer.localEndpoint();
    return out;
}

QDataStream &operator>>(QDataStream &in, NetworkPeer &peer) {
    QUuid uuid;
    IpEndpoint publicSocket;
    IpEndpoint localSocket;
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
                    << peer.publicEndpoint() << " local " << peer.localEndpoint();
    if (const IpEndpoint *active = peer.activeEndpoint()) {
        debug.nospace() << " active " << *active;
    }
    debug.nospace() << ')';
    return debug;
}
