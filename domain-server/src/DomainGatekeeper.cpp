#include "DomainGatekeeper.h"

#include "DomainServerLogging.h"

#include <IcePackets.h>
#include <PacketReceiver.h>
#include <PacketSender.h>

namespace {
constexpr int BoundLogIntervalMs = 5000;
constexpr int MaxTrackedBudgets = 4096;
// A ping to a stranger's public socket with a TTL up to this dies at the first router past our own
// NAT: it cannot reach a victim on the internet. Anything larger may, and is charged.
constexpr int MaxUnchargedPrimingTtl = 2;
}

DomainGatekeeper::DomainGatekeeper(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver,
                                   const Options &options, QObject *parent)
    : QObject(parent), _domainID(domainID), _sender(sender), _options(options) {
    _clock.start();
    if (receiver) {
        receiver->registerListener(PacketType::ICEServerPeerInformation, this,
                                   &DomainGatekeeper::processICEPeerInformationPacket);
        receiver->registerListener(PacketType::ICEPing, this, &DomainGatekeeper::processICEPingPacket);
        receiver->registerListener(PacketType::ICEPingReply, this, &DomainGatekeeper::processICEPingReplyPacket);
    }
    _sweepTimer.setInterval(qBound(20, _options.connectedPeerTimeoutMs / 4, 1000));
    connect(&_sweepTimer, &QTimer::timeout, this, &DomainGatekeeper::sweepConnectedPeers);
}

DomainGatekeeper::~DomainGatekeeper() = default;

bool DomainGatekeeper::parsePunchTtls(const QString &text, QList<int> *out) {
    QList<int> ttls;
    const QString trimmed = text.trimmed();
    if (!trimmed.isEmpty() && trimmed != QLatin1String("0")) {
        for (const QString &part : trimmed.split(QLatin1Char(','))) {
            bool ok = false;
            const int ttl = part.trimmed().toInt(&ok);
            if (!ok || ttl < 0 || ttl > 255) {
                return false;
            }
            ttls.append(ttl);
        }
    }
    *out = ttls;
    return true;
}

NetworkPeer DomainGatekeeper::icePeer(const QUuid &peerID) const {
    const auto it = _peers.constFind(peerID);
    return it == _peers.constEnd() ? NetworkPeer() : (*it)->peer;
}

bool DomainGatekeeper::isConnected(const QUuid &peerID) const {
    const auto it = _peers.constFind(peerID);
    return it != _peers.constEnd() && (*it)->connected;
}

void DomainGatekeeper::processICEPeerInformationPacket(ReceivedMessagePointer message) {
    ++_counters.peerInformationReceived;
    const SockAddr &sender = message->getSenderSockAddr();
    if (_iceServerFilter && !_iceServerFilter(sender)) {
        // Anyone else could make us ping addresses of their choosing (Q5).
        ++_counters.peerInformationIgnored;
        qCDebug(domain_server_ice_packets) << "peer information from" << sender << "which is not our ice-server - ignored";
        return;
    }
    const Decoded<NetworkPeer> decoded = NetworkPeer::fromByteArray(message->getMessage());
    if (!decoded.ok() || decoded.value.getUUID().isNull() || decoded.value.getUUID() == _domainID) {
        ++_counters.peerInformationIgnored;
        qCDebug(domain_server_ice_packets) << "unusable peer information from" << sender << wireErrorString(decoded.error);
        return;
    }
    const NetworkPeer &incoming = decoded.value;
    const QUuid id = incoming.getUUID();

    auto it = _peers.find(id);
    if (it != _peers.end()) {
        // The client asked again (new attempt, maybe a new port after a failed punch): take its
        // current sockets and punch afresh, priming rounds included. Upstream ignores this (Q13).
        PeerState &state = **it;
        ++_counters.peersRefreshed;
        state.peer.setPublicSocket(incoming.getPublicSocket());
        state.peer.setLocalSocket(incoming.getLocalSocket());
        state.connected = false;
        state.introducedAtMs = _clock.elapsed();
        qCDebug(domain_server_ice) << "ICE peer" << id.toString(QUuid::WithoutBraces) << "introduced again; punching to" << incoming.getPublicSocket()
                                   << incoming.getLocalSocket();
        startPunch(state);
        return;
    }

    // Introductions naming one address (a flood with fresh client IDs pointed at a victim) take only
    // that address's few slots, so they cannot crowd out clients elsewhere.
    const QHostAddress target = targetAddress(incoming);
    if (_options.maxConnectingPeersPerTarget > 0 && connectingPeersAt(target) >= _options.maxConnectingPeersPerTarget) {
        ++_counters.peersRejected;
        ++_counters.peersRejectedPerTarget;
        logBound(QStringLiteral("%1 ICE peers at %2 still punching (the per-address limit); new peers there are refused")
                     .arg(_options.maxConnectingPeersPerTarget)
                     .arg(target.toString()));
        Q_EMIT peerRejected(id);
        return;
    }
    if (_peers.size() >= _options.maxIcePeers && !evictOldestConnectingPeer()) {
        ++_counters.peersRejected;
        logBound(QStringLiteral("ICE peer limit (%1) reached, all connected; new peers are refused").arg(_options.maxIcePeers));
        Q_EMIT peerRejected(id);
        return;
    }

    auto state = std::make_shared<PeerState>();
    state->peer = NetworkPeer(id, incoming.getPublicSocket(), incoming.getLocalSocket());
    state->introducedAtMs = _clock.elapsed();
    state->pingTimer = std::make_unique<QTimer>();
    state->pingTimer->setInterval(_options.pingIntervalMs);
    connect(state->pingTimer.get(), &QTimer::timeout, this, [this, id]() { pingPunchForConnectingPeer(id); });
    _peers.insert(id, state);
    ++_counters.peersAdded;
    qCDebug(domain_server_ice) << "ICE peer" << id.toString(QUuid::WithoutBraces) << "introduced; punching to" << incoming.getPublicSocket()
                               << incoming.getLocalSocket();
    startPunch(*state);
    const auto early = _earlyPings.constFind(id);
    if (early != _earlyPings.constEnd()) {
        const EarlyPing ping = *early;
        _earlyPings.erase(early);
        if (_clock.elapsed() - ping.atMs < EarlyPingMemoryMs && _peers.contains(id)) {
            ++_counters.earlyPingsAnswered;
            answerPing(*state, ping.type, ping.sender);
        }
    }
}

QHostAddress DomainGatekeeper::targetAddress(const NetworkPeer &peer) {
    return peer.getPublicSocket().isNull() ? peer.getLocalSocket().getAddress() : peer.getPublicSocket().getAddress();
}

int DomainGatekeeper::connectingPeersAt(const QHostAddress &address) const {
    int count = 0;
    for (const auto &state : _peers) {
        if (!state->connected && targetAddress(state->peer) == address) {
            ++count;
        }
    }
    return count;
}

bool DomainGatekeeper::evictOldestConnectingPeer() {
    QUuid oldest;
    qint64 oldestAt = 0;
    for (auto it = _peers.cbegin(); it != _peers.cend(); ++it) {
        if (!(*it)->connected && (oldest.isNull() || (*it)->introducedAtMs < oldestAt)) {
            oldest = it.key();
            oldestAt = (*it)->introducedAtMs;
        }
    }
    if (oldest.isNull()) {
        return false;
    }
    ++_counters.peersEvicted;
    logBound(QStringLiteral("ICE peer limit (%1) reached; the oldest unconnected peers make room for new ones")
                 .arg(_options.maxIcePeers));
    removePeer(oldest, RemovalReason::Evicted);
    return true;
}

void DomainGatekeeper::rememberEarlyPing(const QUuid &id, PingType type, const SockAddr &sender) {
    const qint64 now = _clock.elapsed();
    if (_earlyPings.size() >= MaxEarlyPings) {
        for (auto it = _earlyPings.begin(); it != _earlyPings.end();) {
            it = now - it->atMs >= EarlyPingMemoryMs ? _earlyPings.erase(it) : std::next(it);
        }
        if (_earlyPings.size() >= MaxEarlyPings) {
            return;   // a flood of unknown IDs: answering them early is an optimisation, not a duty
        }
    }
    _earlyPings.insert(id, { sender, type, now });
}

void DomainGatekeeper::startPunch(PeerState &state) {
    state.peer.resetConnectionAttempts();
    state.lastHeard.start();
    state.pingTimer->start();
    pingPunchForConnectingPeer(state.peer.getUUID());
}

void DomainGatekeeper::pingPunchForConnectingPeer(const QUuid &peerID) {
    const auto it = _peers.find(peerID);
    if (it == _peers.end()) {
        return;
    }
    PeerState &state = **it;
    if (state.connected) {
        state.pingTimer->stop();
        return;
    }
    const int round = state.peer.getConnectionAttempts();
    if (round >= _options.pingRounds) {
        qCDebug(domain_server_ice) << "ICE peer" << peerID.toString(QUuid::WithoutBraces) << "never answered" << round << "ping rounds; dropped";
        ++_counters.peersGaveUp;
        removePeer(peerID, RemovalReason::NoReply);
        return;
    }
    const int ttl = round < _options.punchTtls.size() ? _options.punchTtls[round] : 0;
    // Each distinct socket once: on a LAN (or loopback) public and local are often the same.
    QList<SockAddr> done;
    const std::pair<const SockAddr *, PingType> targets[] = {
        { &state.peer.getLocalSocket(), PingType::Local },
        { &state.peer.getPublicSocket(), PingType::Public },
        { &state.peer.getSymmetricSocket(), PingType::Symmetric },
    };
    for (const auto &target : targets) {
        const SockAddr &socket = *target.first;
        if (socket.isNull() || socket.getPort() == 0 || done.contains(socket)) {
            continue;
        }
        done.append(socket);
        if (sendIcePacket(PacketType::ICEPing, target.second, socket, ttl)) {
            ++_counters.pingsSent;
        }
    }
    state.peer.incrementConnectionAttempts();
}

bool DomainGatekeeper::sendIcePacket(PacketType type, PingType pingType, const SockAddr &target, int ttl) {
    // The budget bounds what introductions make us send to addresses of a stranger's choosing. A
    // reply answers one ping that just came from that very socket for a known peer: one for one,
    // no amplification, so it is not charged. Charging it made every real client behind one NAT
    // spend the shared public IP's budget on its own handshake, so a few clients in a window
    // locked out the next ones (hostile.sh: 2/3, then 0/2 with a budget of 16).
    // A TTL-2 priming ping to a public socket expires at the first router past our NAT: it opens
    // our mapping and reaches no target, so it is not charged either (otherwise each client behind
    // one public IP spent two rounds of that IP's budget before a single ping could arrive). Local
    // sockets are charged whatever the TTL: a stranger's "local" address may be a host on our own
    // LAN, which a TTL-2 ping does reach (quirk Q5).
    const bool reachesTarget = pingType != PingType::Public || ttl <= 0 || ttl > MaxUnchargedPrimingTtl;
    if (type != PacketType::ICEPingReply && reachesTarget && !takeBudget(target)) {
        return false;
    }
    const IcePing ping { _domainID, pingType };
    return _sender && _sender->sendPacket(type, ping.toPayload(), target, ttl);
}

bool DomainGatekeeper::takeBudget(const SockAddr &target) {
    const qint64 now = _clock.elapsed();
    if (_budgets.size() >= MaxTrackedBudgets) {
        for (auto it = _budgets.begin(); it != _budgets.end();) {
            it = now - it->windowStart >= _options.pingWindowMs ? _budgets.erase(it) : std::next(it);
        }
    }
    Budget &budget = _budgets[target.getAddress()];
    if (budget.used == 0 || now - budget.windowStart >= _options.pingWindowMs) {
        budget.windowStart = now;
        budget.used = 0;
    }
    if (budget.used >= _options.maxPingsPerTarget) {
        ++_counters.datagramsSuppressed;
        logBound(QStringLiteral("ping budget for %1 (%2 per %3 ms) used up; further ICE pings to it are suppressed")
                     .arg(target.getAddress().toString())
                     .arg(_options.maxPingsPerTarget)
                     .arg(_options.pingWindowMs));
        Q_EMIT datagramSuppressed(target);
        return false;
    }
    ++budget.used;
    return true;
}

void DomainGatekeeper::processICEPingPacket(ReceivedMessagePointer message) {
    const Decoded<IcePing> ping = IcePing::fromPayload(message->getMessage());
    const SockAddr &sender = message->getSenderSockAddr();
    const auto it = ping.ok() ? _peers.find(ping.value.senderID) : _peers.end();
    if (it == _peers.end()) {
        // Upstream also answers known peers only; anyone else would get a free reflector. The
        // introduction may still be on its way, though: remember the ping for a moment.
        ++_counters.pingsFromUnknownPeers;
        if (ping.ok()) {
            rememberEarlyPing(ping.value.senderID, ping.value.pingType, sender);
        }
        qCDebug(domain_server_ice_packets) << "ICE ping from" << sender << "for no known peer - not answered";
        return;
    }
    answerPing(**it, ping.value.pingType, sender);
}

void DomainGatekeeper::answerPing(PeerState &state, PingType type, const SockAddr &sender) {
    state.lastHeard.start();
    // A client behind a symmetric NAT pings from a port it could not report (Q2): remember where it
    // really is, so the next rounds ping there too.
    const NetworkPeer &peer = state.peer;
    if (sender != peer.getPublicSocket() && sender != peer.getLocalSocket() && sender != peer.getSymmetricSocket()) {
        qCDebug(domain_server_ice) << "ICE peer" << peer.getUUID().toString(QUuid::WithoutBraces) << "pings from unreported socket" << sender
                                   << "- using it as its symmetric socket";
        state.peer.setSymmetricSocket(sender);
    }
    if (sendIcePacket(PacketType::ICEPingReply, type, sender, 0)) {
        ++_counters.pingRepliesSent;
    }
}

void DomainGatekeeper::processICEPingReplyPacket(ReceivedMessagePointer message) {
    const Decoded<IcePing> reply = IcePing::fromPayload(message->getMessage());
    const auto it = reply.ok() ? _peers.find(reply.value.senderID) : _peers.end();
    if (it == _peers.end()) {
        qCDebug(domain_server_ice_packets) << "ICE ping reply from" << message->getSenderSockAddr()
                                           << "for no known peer - ignored";
        return;
    }
    PeerState &state = **it;
    state.lastHeard.start();
    if (state.connected) {
        return;
    }
    state.peer.activateMatchingOrNewSymmetricSocket(message->getSenderSockAddr());
    state.pingTimer->stop();
    state.peer.resetConnectionAttempts();
    state.connected = true;
    ++_counters.peersConnected;
    if (!_sweepTimer.isActive()) {
        _sweepTimer.start();
    }
    const SockAddr socket = state.peer.getActiveSocket() ? *state.peer.getActiveSocket() : message->getSenderSockAddr();
    qCInfo(domain_server_ice) << "ICE peer" << reply.value.senderID.toString(QUuid::WithoutBraces) << "connected at" << socket;
    Q_EMIT peerConnected(reply.value.senderID, socket);
}

void DomainGatekeeper::sweepConnectedPeers() {
    QList<QUuid> silent;
    bool anyConnected = false;
    for (auto it = _peers.cbegin(); it != _peers.cend(); ++it) {
        if ((*it)->connected) {
            if ((*it)->lastHeard.elapsed() >= _options.connectedPeerTimeoutMs) {
                silent.append(it.key());
            } else {
                anyConnected = true;
            }
        }
    }
    for (const QUuid &id : silent) {
        qCDebug(domain_server_ice) << "connected ICE peer" << id.toString(QUuid::WithoutBraces) << "fell silent; forgotten";
        ++_counters.peersExpired;
        removePeer(id, RemovalReason::Silent);
    }
    if (!anyConnected) {
        _sweepTimer.stop();
    }
}

void DomainGatekeeper::removeICEPeer(const QUuid &peerID) {
    removePeer(peerID, RemovalReason::Removed);
}

void DomainGatekeeper::removePeer(const QUuid &peerID, RemovalReason reason) {
    const auto state = _peers.take(peerID);
    if (!state) {
        return;
    }
    state->pingTimer->stop();
    Q_EMIT icePeerRemoved(peerID, reason);
    // The timer may be the one whose timeout got us here: delete it once control returns to it.
    state->pingTimer.release()->deleteLater();
}

void DomainGatekeeper::logBound(const QString &what) {
    ++_boundHitsSinceLog;
    const qint64 now = _clock.elapsed();
    if (_lastBoundLog >= 0 && now - _lastBoundLog < BoundLogIntervalMs) {
        return;
    }
    qCWarning(domain_server_ice).noquote() << what
                                           << QStringLiteral("(%1 times since the last such message)").arg(_boundHitsSinceLog);
    _lastBoundLog = now;
    _boundHitsSinceLog = 0;
}
