#include "DomainRelay.h"

#include "DomainServerLogging.h"

#include <LimitedNodeList.h>

DomainRelay::DomainRelay(RelayConfig::Mode mode, LimitedNodeList *nodeList, QObject *parent)
    : QObject(parent), _mode(mode), _nodeList(nodeList), _turn(nodeList->getTurnClient()) {
    if (!_turn || _mode == RelayConfig::Mode::Never) {
        return;
    }
    connect(_turn, &TurnClient::allocated, this, &DomainRelay::decide);
    connect(_turn, &TurnClient::permissionCreated, this, &DomainRelay::onPermission);
    connect(_turn, &TurnClient::errorOccurred, this, &DomainRelay::onError);
    connect(_nodeList, &LimitedNodeList::publicSockAddrChanged, this, &DomainRelay::decide);
}

void DomainRelay::start() {
    if (!_turn || _mode == RelayConfig::Mode::Never) {
        return;
    }
    setState(State::Deciding);
    _turn->allocate();
}

SockAddr DomainRelay::relayedAddress() const {
    return isRelaying() && _turn ? _turn->relayedAddress() : SockAddr();
}

bool DomainRelay::isRelayedPath(const SockAddr &socket) const {
    return isRelaying() && _nodeList->isRelayedPeer(socket);
}

bool DomainRelay::mapsEndpointDependently(const SockAddr &stunMapped, const SockAddr &turnMapped) {
    if (stunMapped.isNull() || turnMapped.isNull()) {
        return false;
    }
    return !stunMapped.getAddress().isEqual(turnMapped.getAddress(), QHostAddress::TolerantConversion)
           || stunMapped.getPort() != turnMapped.getPort();
}

void DomainRelay::decide() {
    if (_state != State::Deciding || !_turn || _turn->state() != TurnClient::Allocated) {
        return;
    }
    if (_mode == RelayConfig::Mode::Always) {
        qCInfo(domain_server_ice).noquote()
            << "registering through the relay" << _turn->relayedAddress().toString() << "(--relay always)";
        open();
        return;
    }
    const SockAddr stunMapped = _nodeList->getPublicSockAddr();
    const SockAddr turnMapped = _turn->mappedAddress();
    if (stunMapped.isNull()) {
        return; // publicSockAddrChanged brings us back
    }
    if (mapsEndpointDependently(stunMapped, turnMapped)) {
        qCInfo(domain_server_ice).noquote() << "our NAT maps endpoint-dependently (the ice-server sees"
                                            << stunMapped.toString() << "and the TURN server" << turnMapped.toString()
                                            << "): registering through the relay" << _turn->relayedAddress().toString();
        open();
        return;
    }
    qCInfo(domain_server_ice).noquote() << "our NAT maps endpoint-independently (" << stunMapped.toString()
                                        << "for both servers): registering directly, no relay";
    setState(State::Direct);
    _turn->release();
}

void DomainRelay::open() {
    setState(State::Opening);
    if (_iceServer.isNull()) {
        return; // setIceServer() opens it
    }
    _turn->addPermission(_iceServer.getAddress());
    if (_turn->hasPermission(_iceServer.getAddress())) {
        onPermission(_iceServer.getAddress());
    }
}

void DomainRelay::setIceServer(const SockAddr &iceServer) {
    if (_iceServer == iceServer) {
        return;
    }
    if (!_iceServer.isNull()) {
        _nodeList->setRelayedPeer(_iceServer, false);
    }
    _iceServer = iceServer;
    if (_state == State::Relaying) {
        // A failover while relaying: heartbeats to the new server go through the relay too, and
        // the relay already carries them if its IP is permitted (TurnClient::sendTo adds the
        // permission otherwise; the heartbeater retries until one arrives).
        _turn->addPermission(iceServer.getAddress());
        _nodeList->setRelayedPeer(iceServer);
    } else if (_state == State::Opening) {
        open();
    }
}

void DomainRelay::onPermission(const QHostAddress &peer) {
    if (_state != State::Opening || _iceServer.isNull()
        || !peer.isEqual(_iceServer.getAddress(), QHostAddress::TolerantConversion)) {
        return;
    }
    _nodeList->setRelayedPeer(_iceServer);
    qCInfo(domain_server_ice).noquote() << "relay" << _turn->relayedAddress().toString() << "open to the ice-server"
                                        << _iceServer.toString() << "- heartbeats go through it";
    setState(State::Relaying);
    Q_EMIT relayingChanged(true);
}

void DomainRelay::peerIntroduced(const SockAddr &publicSocket) {
    if (_state != State::Relaying || publicSocket.isNull()) {
        return;
    }
    // Before the first ping: the client's pings through the relay are let in from now on, and our
    // pings to its public socket leave from the relayed address the ice-server gave it.
    _turn->addPermission(publicSocket.getAddress());
    _nodeList->setRelayedPeer(publicSocket);
}

void DomainRelay::onError(TurnClient::Error error) {
    if (!_turn || _state == State::Off) {
        return;
    }
    const QString text = _turn->errorString();
    // While opening, the permission that failed may be the ice-server's (refused, or unanswered a few
    // times): heartbeats cannot go through the relay then, so it is the relay's failure.
    const bool iceServerShut = error == TurnClient::PermissionFailed && _state == State::Opening && !_iceServer.isNull()
                               && !_turn->hasPermission(_iceServer.getAddress());
    switch (error) {
    case TurnClient::PermissionFailed:
    case TurnClient::ChannelBindFailed:
        if (!iceServerShut) {
            // One peer's trouble, not the relay's.
            qCWarning(domain_server_ice).noquote() << "TURN:" << text;
            break;
        }
        Q_FALLTHROUGH();
    default: {
        const bool wasRelaying = _state == State::Relaying;
        qCWarning(domain_server_ice).noquote() << "TURN relay failed:" << text << "- registering directly";
        _nodeList->clearRelayedPeers();
        setState(State::Direct);
        if (wasRelaying) {
            Q_EMIT relayingChanged(false);
        }
        break;
    }
    }
    Q_EMIT errorOccurred(error, text);
}

void DomainRelay::setState(State state) {
    if (_state != state) {
        _state = state;
        Q_EMIT stateChanged(state);
    }
}
