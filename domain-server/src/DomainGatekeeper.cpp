#include "DomainGatekeeper.h"

#include "DomainServerLogging.h"

#include <IcePackets.h>
#include <LimitedNodeList.h>
#include <PacketReceiver.h>
#include <PacketSender.h>

namespace {
// Connected peers are checked for silence four times per timeout, within these bounds.
constexpr int MinSweepIntervalMs = 20;
constexpr int MaxSweepIntervalMs = 1000;

IceAdmission::Limits admissionLimits(const DomainGatekeeper::Options &options) {
    IceAdmission::Limits limits;
    limits.maxIcePeers = options.maxIcePeers;
    limits.maxConnectingPeersPerTarget = options.maxConnectingPeersPerTarget;
    limits.maxPingsPerTarget = options.maxPingsPerTarget;
    limits.pingWindowMs = options.pingWindowMs;
    limits.trustedRelays = options.trustedRelays;
    limits.maxConnectingPeersPerRelay = options.maxConnectingPeersPerRelay;
    limits.maxPingsPerRelay = options.maxPingsPerRelay;
    return limits;
}
} // namespace

DomainGatekeeper::DomainGatekeeper(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver,
                                   const Options &options, MonotonicClock &clock, QObject *parent)
    : QObject(parent), _domainID(domainID), _sender(sender), _options(options), _clock(clock),
      _admission(admissionLimits(options), clock), _sweepTimer(clock.createTimer(this)) {
    if (receiver) {
        receiver->registerListener(PacketType::ICEServerPeerInformation, this,
                                   &DomainGatekeeper::processICEPeerInformationPacket);
        receiver->registerListener(PacketType::ICEPing, this, &DomainGatekeeper::processICEPingPacket);
        receiver->registerListener(PacketType::ICEPingReply, this, &DomainGatekeeper::processICEPingReplyPacket);
    }
    _sweepTimer->setInterval(qBound(MinSweepIntervalMs, _options.connectedPeerTimeoutMs / 4, MaxSweepIntervalMs));
    connect(_sweepTimer, &ClockTimer::timeout, this, &DomainGatekeeper::sweepConnectedPeers);
}

DomainGatekeeper::~DomainGatekeeper() = default;

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
    const IpEndpoint &sender = message->getSenderEndpoint();
    if (_iceServerFilter && !_iceServerFilter(sender)) {
        // Anyone else could make us ping addresses of their choosing (Q5).
        ++_counters.peerInformationIgnored;
        qCDebug(domain_server_ice_packets)
            << "peer information from" << sender << "which is not our ice-server - ignored";
        return;
    }
    const Decoded<NetworkPeer> decoded = NetworkPeer::fromByteArray(message->getMessage());
    if (!decoded.ok() || decoded.value.getUUID().isNull() || decoded.value.getUUID() == _domainID) {
        ++_counters.peerInformationIgnored;
        qCDebug(domain_server_ice_packets)
            << "unusable peer information from" << sender << wireErrorString(decoded.error);
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
        state.introducedAtMs = _clock.nowMs();
        qCDebug(domain_server_ice) << "ICE peer" << id.toString(QUuid::WithoutBraces) << "introduced again; punching to"
                                   << incoming.getPublicSocket() << incoming.getLocalSocket();
        Q_EMIT peerIntroduced(id, incoming.getPublicSocket(), incoming.getLocalSocket());
        startPunch(state);
        return;
    }

    admitNewPeer(incoming);
}

void DomainGatekeeper::admitNewPeer(const NetworkPeer &incoming) {
    const QUuid id = incoming.getUUID();
    // Introductions naming one address (a flood with fresh client IDs pointed at a victim) take only
    // that address's few slots, so they cannot crowd out clients elsewhere. A trusted relay's
    // addresses are counted one by one, and together against the relay's own bound.
    const SockAddr target = _admission.boundKey(IceAdmission::targetSocket(incoming));
    const bool relayed = target.getPort() != 0;
    const int atRelay = relayed ? connectingPeersAtRelay(target.getAddress()) : -1;
    switch (_admission.decideNewPeer(connectingPeersAt(target), int(_peers.size()), connectingPeerCount(), atRelay)) {
    case IceAdmission::PeerDecision::RefusedPerTarget:
        ++_counters.peersRejected;
        ++_counters.peersRejectedPerTarget;
        _admission.logBound(
            QStringLiteral("%1 ICE peers at %2 still punching (the per-address limit); new peers there are refused")
                .arg(_options.maxConnectingPeersPerTarget)
                .arg(relayed ? target.toString() : target.getAddress().toString()));
        Q_EMIT peerRejected(id);
        return;
    case IceAdmission::PeerDecision::RefusedPerRelay:
        ++_counters.peersRejected;
        ++_counters.peersRejectedPerTarget;
        _admission.logBound(
            QStringLiteral(
                "%1 ICE peers relayed by %2 still punching (the per-relay limit); new peers there are refused")
                .arg(_options.maxConnectingPeersPerRelay)
                .arg(target.getAddress().toString()));
        Q_EMIT peerRejected(id);
        return;
    case IceAdmission::PeerDecision::RefusedTableFull:
        ++_counters.peersRejected;
        _admission.logBound(QStringLiteral("ICE peer limit (%1) reached, all connected; new peers are refused")
                                .arg(_options.maxIcePeers));
        Q_EMIT peerRejected(id);
        return;
    case IceAdmission::PeerDecision::AdmitAfterEviction: evictOldestConnectingPeer(); break;
    case IceAdmission::PeerDecision::Admit: break;
    }

    auto state = std::make_shared<PeerState>();
    state->peer = NetworkPeer(id, incoming.getPublicSocket(), incoming.getLocalSocket());
    state->introducedAtMs = _clock.nowMs();
    state->pingTimer.reset(_clock.createTimer());
    state->pingTimer->setSingleShot(true);
    connect(state->pingTimer.get(), &ClockTimer::timeout, this, [this, id]() { pingPunchForConnectingPeer(id); });
    _peers.insert(id, state);
    ++_counters.peersAdded;
    qCDebug(domain_server_ice) << "ICE peer" << id.toString(QUuid::WithoutBraces) << "introduced; punching to"
                               << incoming.getPublicSocket() << incoming.getLocalSocket();
    Q_EMIT peerIntroduced(id, incoming.getPublicSocket(), incoming.getLocalSocket());
    startPunch(*state);
    // Answered at once, so the race with the client's first ping does not cost the client a round.
    IceAdmission::EarlyPing early;
    if (_admission.takeEarlyPing(id, &early) && _peers.contains(id)) {
        ++_counters.earlyPingsAnswered;
        answerPing(*state, early.type, early.sender);
    }
}

int DomainGatekeeper::connectingPeersAt(const SockAddr &boundKey) const {
    int count = 0;
    for (const auto &state : _peers) {
        if (!state->connected && _admission.boundKey(IceAdmission::targetSocket(state->peer)) == boundKey) {
            ++count;
        }
    }
    return count;
}

int DomainGatekeeper::connectingPeersAtRelay(const QHostAddress &relay) const {
    int count = 0;
    for (const auto &state : _peers) {
        if (!state->connected && IceAdmission::targetAddress(state->peer) == relay) {
            ++count;
        }
    }
    return count;
}

int DomainGatekeeper::connectingPeerCount() const {
    int count = 0;
    for (const auto &state : _peers) {
        count += state->connected ? 0 : 1;
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
    _admission.logBound(
        QStringLiteral("ICE peer limit (%1) reached; the oldest unconnected peers make room for new ones")
            .arg(_options.maxIcePeers));
    removePeer(oldest, RemovalReason::Evicted);
    return true;
}

void DomainGatekeeper::startPunch(PeerState &state) {
    state.peer.resetConnectionAttempts();
    state.lastHeardMs = _clock.nowMs();
    state.timing = PunchTiming(_options.punchTtls, 0, _options.punchTiming);
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
    if (round >= state.timing.roundCount()) {
        qCDebug(domain_server_ice) << "ICE peer" << peerID.toString(QUuid::WithoutBraces) << "never answered" << round
                                   << "ping rounds; dropped";
        ++_counters.peersGaveUp;
        removePeer(peerID, RemovalReason::NoReply);
        return;
    }
    for (const PunchRound::Ping &ping : PunchRound::pings(state.peer, round, _options.punchTtls)) {
        if (sendIcePacket(PacketType::ICEPing, ping.type, ping.destination, ping.ttl)) {
            ++_counters.pingsSent;
        }
    }
    state.peer.incrementConnectionAttempts();
    state.pingTimer->start(state.timing.delayAfterRound(round));
}

bool DomainGatekeeper::sendIcePacket(PacketType type, PingType pingType, const SockAddr &target, int ttl) {
    // The budget bounds what introductions make us send to addresses of a stranger's choosing
    // (which datagrams it charges, and why: IceAdmission::isCharged).
    if (!_admission.chargeDatagram(type, pingType, target, ttl)) {
        ++_counters.datagramsSuppressed;
        _admission.logBound(
            QStringLiteral("ping budget for %1 (%2 per %3 ms) used up; further ICE pings to it are suppressed")
                .arg(target.getAddress().toString())
                .arg(_options.maxPingsPerTarget)
                .arg(_options.pingWindowMs));
        Q_EMIT datagramSuppressed(target);
        return false;
    }
    const IcePing ping { _domainID, pingType };
    return _sender && _sender->sendPacket(type, ping.toPayload(), target, ttl);
}

void DomainGatekeeper::processICEPingPacket(ReceivedMessagePointer message) {
    const Decoded<IcePing> ping = IcePing::fromPayload(message->getMessage());
    const IpEndpoint &sender = message->getSenderEndpoint();
    const auto it = ping.ok() ? _peers.find(ping.value.senderID) : _peers.end();
    if (it == _peers.end()) {
        // Upstream also answers known peers only; anyone else would get a free reflector. The
        // introduction may still be on its way, though: remember the ping for a moment.
        ++_counters.pingsFromUnknownPeers;
        if (ping.ok()) {
            _admission.rememberEarlyPing(ping.value.senderID, ping.value.pingType, sender);
        }
        qCDebug(domain_server_ice_packets) << "ICE ping from" << sender << "for no known peer - not answered";
        return;
    }
    answerPing(**it, ping.value.pingType, sender);
}

void DomainGatekeeper::answerPing(PeerState &state, PingType type, const SockAddr &sender) {
    state.lastHeardMs = _clock.nowMs();
    // A client behind a symmetric NAT pings from a port it could not report (Q2): remember where it
    // really is, so the next rounds ping there too.
    const NetworkPeer &peer = state.peer;
    if (sender != peer.getPublicSocket() && sender != peer.getLocalSocket() && sender != peer.getSymmetricSocket()) {
        qCDebug(domain_server_ice) << "ICE peer" << peer.getUUID().toString(QUuid::WithoutBraces)
                                   << "pings from unreported socket" << sender << "- using it as its symmetric socket";
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
        qCDebug(domain_server_ice_packets)
            << "ICE ping reply from" << message->getSenderEndpoint() << "for no known peer - ignored";
        return;
    }
    PeerState &state = **it;
    state.lastHeardMs = _clock.nowMs();
    if (state.connected) {
        return;
    }
    state.peer.activateMatchingOrNewSymmetricSocket(message->getSenderEndpoint());
    state.pingTimer->stop();
    state.peer.resetConnectionAttempts();
    state.connected = true;
    ++_counters.peersConnected;
    if (!_sweepTimer->isActive()) {
        _sweepTimer->start();
    }
    const IpEndpoint socket = state.peer.activeEndpoint() ? *state.peer.activeEndpoint() : message->getSenderEndpoint();
    if (isRelayedPath(socket)) {
        ++_counters.peersConnectedViaRelay;
    }
    qCInfo(domain_server_ice) << "ICE peer" << reply.value.senderID.toString(QUuid::WithoutBraces) << "connected at"
                              << socket;
    Q_EMIT peerConnected(reply.value.senderID, socket);
}

bool DomainGatekeeper::isRelayedPath(const SockAddr &socket) const {
    return (_relayedPath && _relayedPath(socket)) || _admission.isTrustedRelay(socket.getAddress());
}

void DomainGatekeeper::sweepConnectedPeers() {
    const qint64 now = _clock.nowMs();
    QList<QUuid> silent;
    bool anyConnected = false;
    for (auto it = _peers.cbegin(); it != _peers.cend(); ++it) {
        if ((*it)->connected) {
            if (now - (*it)->lastHeardMs >= _options.connectedPeerTimeoutMs) {
                silent.append(it.key());
            } else {
                anyConnected = true;
            }
        }
    }
    for (const QUuid &id : silent) {
        qCDebug(domain_server_ice) << "connected ICE peer" << id.toString(QUuid::WithoutBraces)
                                   << "fell silent; forgotten";
        ++_counters.peersExpired;
        removePeer(id, RemovalReason::Silent);
    }
    if (!anyConnected) {
        _sweepTimer->stop();
    }
}

DomainGatekeeper::DomainGatekeeper(LimitedNodeList *nodeList, const QUuid &domainID, QObject *parent)
    : DomainGatekeeper(domainID, &nodeList->getPacketSender(), &nodeList->getPacketReceiver(), Options(), parent) {}

void DomainGatekeeper::pingPunchForConnectingPeer(const SharedNetworkPeer &peer) {
    if (peer) {
        pingPunchForConnectingPeer(peer->getUUID());
    }
}

void DomainGatekeeper::handlePeerPingTimeout() {
    if (auto *peer = qobject_cast<NetworkPeer *>(sender())) {
        pingPunchForConnectingPeer(peer->getUUID());
    }
}

void DomainGatekeeper::cleanupICEPeerForNode(const QUuid &nodeID) {
    removePeer(nodeID, RemovalReason::Removed);
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
