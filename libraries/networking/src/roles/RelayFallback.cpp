#include "RelayFallback.h"

#include "DomainHandler.h"
#include "LimitedNodeList.h"

#include <NetworkLogging.h>

RelayFallback::RelayFallback(LimitedNodeList *nodeList, DomainHandler *domainHandler, QObject *parent)
    : QObject(parent), _nodeList(nodeList), _domainHandler(domainHandler) {
    connect(domainHandler, &DomainHandler::icePeerSocketsReceived, this, &RelayFallback::permitNewDomainIPs);
}

TurnClient *RelayFallback::turn() const {
    return _nodeList->getTurnClient();
}

bool RelayFallback::isEnabled() const {
    return _mode != RelayConfig::Mode::Never && turn() != nullptr;
}

SockAddr RelayFallback::relayedAddress() const {
    return turn() ? turn()->relayedAddress() : SockAddr();
}

TurnClient::Timing RelayFallback::clientTiming() {
    TurnClient::Timing timing;
    timing.initialRtoMs = 250;
    timing.maxTransmissions = 4;
    timing.finalWaitFactor = 4;
    return timing;
}

void RelayFallback::reset() {
    _phase = Phase::Direct;
    _domainIPs.clear();
    _permissionsRefused = 0;
    _serverSilent = false;
    _pingTarget = SockAddr();
    _nodeList->clearRelayedPeers();
}

bool RelayFallback::takeOverBeforePunching() {
    if (_phase != Phase::Direct || _mode != RelayConfig::Mode::Always || !isEnabled()) {
        return false;
    }
    begin();
    return true;
}

bool RelayFallback::takeOverAfterFailedAttempt() {
    const bool askAgain = _phase == Phase::Unavailable && _serverSilent;
    if ((_phase != Phase::Direct && !askAgain) || !isEnabled()) {
        return false;
    }
    qCInfo(networking_ice) << "no direct path to domain" << _domainHandler->getPendingDomainID()
                           << (askAgain ? "opened; asking the silent TURN server again:"
                                        : "opened; relaying through TURN server")
                           << turn()->server();
    _serverSilent = false;
    begin();
    return true;
}

void RelayFallback::begin() {
    TurnClient *client = turn();
    if (client != _connectedTurn) {
        _connectedTurn = client;
        connect(client, &TurnClient::allocated, this, &RelayFallback::onAllocated);
        connect(client, &TurnClient::permissionCreated, this, &RelayFallback::onPermissionCreated);
        connect(client, &TurnClient::errorOccurred, this, &RelayFallback::onError);
    }
    // The domain's IPs from the peer information of the attempt that just ran: its public IP is where
    // its pings will come from, its local IP matters when the relay sits on the domain's side.
    _domainIPs.clear();
    _permissionsRefused = 0;
    _domainIPs = domainIPsFromPeerInformation();
    _phase = Phase::Allocating;
    if (client->state() == TurnClient::Allocated) {
        onAllocated();
    } else if (client->state() != TurnClient::Allocating) {
        client->allocate();
    }
}

QList<QHostAddress> RelayFallback::domainIPsFromPeerInformation() const {
    QList<QHostAddress> ips;
    const NetworkPeer &peer = _domainHandler->getICEPeer();
    for (const SockAddr &socket : { peer.getPublicSocket(), peer.getSymmetricSocket(), peer.getLocalSocket() }) {
        if (!socket.isNull() && !socket.getAddress().isNull() && !ips.contains(socket.getAddress())) {
            ips.append(socket.getAddress());
        }
    }
    return ips;
}

void RelayFallback::permitNewDomainIPs() {
    // The peer information the relay started from may have lacked an IP: an ice-server that has not
    // yet learned a freshly registered domain's public socket reports it null. Without a permission
    // for the IP its pings come from, the relay drops every one of them.
    if (_phase != Phase::Permitting && _phase != Phase::Relaying) {
        return;
    }
    for (const QHostAddress &ip : domainIPsFromPeerInformation()) {
        if (!_domainIPs.contains(ip)) {
            qCInfo(networking_ice) << "domain" << _domainHandler->getPendingDomainID() << "now also at" << ip
                                   << "; permitting it on the relay";
            _domainIPs.append(ip);
            turn()->addPermission(ip);
        }
    }
}

void RelayFallback::onAllocated() {
    if (_phase != Phase::Allocating) {
        return;
    }
    qCInfo(networking_ice) << "relayed address" << turn()->relayedAddress() << "on TURN server" << turn()->server();
    _phase = Phase::Permitting;
    if (_domainIPs.isEmpty()) {
        becomeReady(); // nothing to permit: sendTo() adds permissions as it goes
        return;
    }
    bool permitted = false;
    for (const QHostAddress &ip : qAsConst(_domainIPs)) {
        turn()->addPermission(ip);
        permitted = permitted || turn()->hasPermission(ip);
    }
    if (permitted) {
        becomeReady();
    }
}

void RelayFallback::onPermissionCreated(const QHostAddress &peer) {
    if (_phase == Phase::Permitting && _domainIPs.contains(peer)) {
        becomeReady();
    }
}

void RelayFallback::becomeReady() {
    _phase = Phase::Relaying;
    _pingTarget = SockAddr();
    Q_EMIT readyToQuery();
}

void RelayFallback::onError(TurnClient::Error error) {
    const QString why = turn() ? turn()->errorString() : QString();
    if (error == TurnClient::Unauthorized) {
        if (_phase != Phase::Direct && _phase != Phase::Unavailable) {
            _phase = Phase::Unavailable;
            Q_EMIT authenticationFailed(why);
        }
        return;
    }
    if (error == TurnClient::PermissionFailed) {
        // Refused for one IP (e.g. a private one the server will not relay to) is fine while another
        // gets through; refused for all of them, the relay is of no use.
        if (_phase == Phase::Permitting && ++_permissionsRefused >= _domainIPs.size()) {
            _phase = Phase::Unavailable;
            Q_EMIT unavailable(why);
        }
        return;
    }
    if (error == TurnClient::ChannelBindFailed) {
        return; // Send indications still work
    }
    // Unreachable, AllocationFailed, AllocationLost.
    if (_phase == Phase::Allocating || _phase == Phase::Permitting) {
        _phase = Phase::Unavailable;
        _serverSilent = error == TurnClient::Unreachable;
        Q_EMIT unavailable(why);
    }
    // While relaying, a lost allocation shows as a dead path (keepalive), and the reconnection that
    // follows allocates again.
}

void RelayFallback::noteDomainPing(const SockAddr &sender) {
    if (_phase != Phase::Relaying || !_pingTarget.isNull() || !_nodeList->isRelayedPeer(sender)) {
        return;
    }
    qCInfo(networking_ice) << "domain" << _domainHandler->getPendingDomainID() << "pings through the relay from"
                           << sender;
    _pingTarget = sender;
    Q_EMIT pingTargetFound();
}

QList<PunchRound::Ping> RelayFallback::pings() const {
    if (_pingTarget.isNull()) {
        return {};
    }
    // The relay carries it at the normal TTL: a priming TTL would only expire before the TURN server.
    return { PunchRound::Ping { _pingTarget, PingType::Public, 0 } };
}
