#include "NodeList.h"

#include "LimitedNodeList.h"

#include <NetworkLogging.h>
#include <StunMessage.h>
#include <UdpTransport.h>

namespace {
quint16 listenPort(int socketListenPort) {
    return socketListenPort > 0 && socketListenPort <= 0xFFFF ? quint16(socketListenPort) : quint16(0);
}
} // namespace

NodeList::NodeList(char ownerType, int socketListenPort, int /*dtlsListenPort*/)
    : LimitedNodeList(listenPort(socketListenPort)), _ownerType(ownerType), _domainHandler(this),
      _relay(this, &_domainHandler), _clock(&MonotonicClock::system()), _queryTimer(_clock->createTimer(this)),
      _pingTimer(_clock->createTimer(this)) {
    wire();
}

NodeList::NodeList(UdpTransport *transport, QObject *parent) : NodeList(transport, MonotonicClock::system(), parent) {}

NodeList::NodeList(UdpTransport *transport, MonotonicClock &clock, QObject *parent)
    : LimitedNodeList(transport, parent), _domainHandler(this), _relay(this, &_domainHandler), _clock(&clock),
      _queryTimer(clock.createTimer(this)), _pingTimer(clock.createTimer(this)) {
    wire();
}

NodeList::NodeList(LimitedNodeList *limitedNodeList, QObject *parent)
    : NodeList(limitedNodeList, MonotonicClock::system(), parent) {}

NodeList::NodeList(LimitedNodeList *limitedNodeList, MonotonicClock &clock, QObject *parent)
    : LimitedNodeList(Detached {}, parent), _limitedNodeList(limitedNodeList), _domainHandler(this),
      _relay(limitedNodeList, &_domainHandler), _clock(&clock), _queryTimer(clock.createTimer(this)),
      _pingTimer(clock.createTimer(this)) {
    wire();
}

void NodeList::wire() {
    PacketReceiver &receiver = _limitedNodeList->getPacketReceiver();
    receiver.registerListener(PacketType::ICEServerPeerInformation, &_domainHandler,
                              &DomainHandler::processICEResponsePacket);
    receiver.registerListener(PacketType::ICEPingReply, &_domainHandler, &DomainHandler::processICEPingReplyPacket);
    receiver.registerListener(PacketType::ICEPing, this, &NodeList::processICEPingPacket);

    // Anything from the ice-server's address proves it reachable (see DomainHandler.h).
    connect(_limitedNodeList->getTransport(), &UdpTransport::datagramReceived, this,
            [this](const QByteArray &, const SockAddr &sender) { _domainHandler.noteDatagramFrom(sender); });

    _queryTimer->setInterval(DOMAIN_SERVER_CHECK_IN_MSECS);
    connect(_queryTimer, &ClockTimer::timeout, this, &NodeList::queryTimerFired);
    _pingTimer->setSingleShot(true); // each round sets the delay to the next (PunchTiming)
    connect(_pingTimer, &ClockTimer::timeout, this, &NodeList::pingPunchForDomainServer);

    connect(&_domainHandler, &DomainHandler::iceSocketAndIDReceived, this, &NodeList::startAttempt);
    connect(&_domainHandler, &DomainHandler::icePeerSocketsReceived, this, &NodeList::startPunching);
    connect(&_domainHandler, &DomainHandler::completedSocketDiscovery, this, &NodeList::stop);
    connect(&_domainHandler, &DomainHandler::iceSocketAndIDReceived, this,
            [this] { _limitedNodeList->flagTimeForConnectionStep(SetICEServerSocket); });
    connect(&_domainHandler, &DomainHandler::completedSocketDiscovery, this, [this] {
        _limitedNodeList->flagTimeForConnectionStep(SetDomainSocket);
        const auto sent = _pingSentNs.constFind(_domainHandler.getSockAddr());
        _discoveryRttMs = sent != _pingSentNs.constEnd() ? (_pingClock.nsecsElapsed() - *sent) / 1e6 : -1;
    });
    connect(&_domainHandler, &DomainHandler::errorOccurred, this, &NodeList::stop);
    connect(&_relay, &RelayFallback::readyToQuery, this, &NodeList::requeryThroughRelay);
    // Ping back at once (the round timer keeps going), also when the ping beat the peer information.
    connect(&_relay, &RelayFallback::pingTargetFound, this, [this] {
        for (const PunchRound::Ping &ping : _relay.pings()) {
            sendPing(ping.destination, ping.type, ping.ttl);
        }
    });
    connect(&_relay, &RelayFallback::authenticationFailed, this, [this](const QString &why) {
        stop();
        _domainHandler.setErrorState(DomainHandler::Error::RelayAuthFailed, why);
    });
    connect(&_relay, &RelayFallback::unavailable, this, [this](const QString &why) {
        qCInfo(networking_ice).noquote() << "relay unavailable, going on directly:" << why;
        // Where the relay took over, the direct path goes on: punch now (--relay always), or the
        // retry that follows a failed attempt (--relay fallback).
        if (_domainHandler.hasIcePeerInformation() && _failedPunchAttempts == 0) {
            startPunching();
        } else {
            retryOrGiveUp();
        }
    });
    connect(_limitedNodeList, &LimitedNodeList::initialSTUNCompleted, this, [this] {
        if (_queryWaitingForStun) {
            _queryWaitingForStun = false;
            sendIceServerQuery();
        }
    });
}

void NodeList::stop() {
    _queryTimer->stop();
    _pingTimer->stop();
    _queryWaitingForStun = false;
}

void NodeList::startAttempt() {
    // A new connection (or reconnection): counters start over.
    stop();
    _unansweredQueries = 0;
    _failedPunchAttempts = 0;
    _relay.reset();
    _pingSentNs.clear();
    _discoveryRttMs = -1;
    _limitedNodeList->setLocalSocketProbeTarget(_domainHandler.getIceServerSockAddr().getAddress());
    handleICEConnectionToDomainServer();
}

void NodeList::sendDomainServerCheckIn() {
    // Only the ICE part of upstream's check-in lives here: without the domain's socket, find it.
    if (_domainHandler.requiresICE() && !_domainHandler.isSocketDiscovered()) {
        handleICEConnectionToDomainServer();
    }
}

void NodeList::handleICEConnectionToDomainServer() {
    if (!_domainHandler.requiresICE() || _domainHandler.isSocketDiscovered() || _domainHandler.hasIcePeerInformation()
        || _domainHandler.error() != DomainHandler::Error::NoError) {
        return;
    }
    _domainHandler.getICEPeer().resetConnectionAttempts();
    if (!_queryTimer->isActive()) {
        _queryTimer->start();
    }
    // Wait for our public socket before the first query (upstream may send it null, and a domain
    // told only our null public socket pings just the local one). The query timer bounds the wait.
    if (_limitedNodeList->hasStunServer() && !_limitedNodeList->hasCompletedInitialSTUN()) {
        _queryWaitingForStun = true;
        return;
    }
    sendIceServerQuery();
}

void NodeList::queryTimerFired() {
    if (_domainHandler.isSocketDiscovered() || _domainHandler.hasIcePeerInformation()) {
        _queryTimer->stop();
        return;
    }
    _queryWaitingForStun = false;
    sendIceServerQuery();
}

void NodeList::sendIceServerQuery() {
    if (_domainHandler.isSocketDiscovered() || _domainHandler.hasIcePeerInformation()
        || _domainHandler.error() != DomainHandler::Error::NoError) {
        return;
    }
    if (_unansweredQueries >= _maxUnansweredQueries) {
        stop();
        const DomainHandler::Error reason = _domainHandler.wasIceServerHeardFrom()
                                                ? DomainHandler::Error::DomainUnknown
                                                : DomainHandler::Error::IceServerSilent;
        const QString
            detail = reason == DomainHandler::Error::DomainUnknown
                         ? QStringLiteral(
                             "ice-server %1 is reachable but sent no peer information for domain %2 after %3 queries "
                             "(the domain is not registered there, or its heartbeats are not verified)")
                         : QStringLiteral(
                             "ice-server %1 did not answer %3 queries for domain %2 (nothing came back from it)");
        _domainHandler.setErrorState(reason,
                                     detail.arg(_domainHandler.getIceServerSockAddr().toString(),
                                                _domainHandler.getPendingDomainID().toString(QUuid::WithoutBraces),
                                                QString::number(_unansweredQueries)));
        return;
    }
    const SockAddr &iceServer = _domainHandler.getIceServerSockAddr();
    if (_relay.isRelaying()) {
        // Both our sockets are the relayed address: whatever the domain pings comes through the relay.
        _limitedNodeList->sendPeerQueryToIceServer(iceServer, _domainHandler.getICEClientID(),
                                                   _domainHandler.getPendingDomainID(), _relay.relayedAddress(),
                                                   _relay.relayedAddress());
    } else {
        _limitedNodeList->sendPeerQueryToIceServer(iceServer, _domainHandler.getICEClientID(),
                                                   _domainHandler.getPendingDomainID());
    }
    // A reachability probe: our ice-server answers STUN binding requests (an Overte one drops them as
    // a version mismatch). Not needed when the ice-server already is our STUN server.
    if (!_domainHandler.wasIceServerHeardFrom() && _limitedNodeList->getStunSockAddr() != iceServer) {
        _limitedNodeList->getTransport()->writeDatagram(StunMessage::bindingRequest().encode(), iceServer);
    }
    _lastQuerySentMs = _clock->nowMs();
    ++_unansweredQueries;
    ++_queriesSent;
    Q_EMIT iceServerQuerySent(_queriesSent);
}

void NodeList::startPunching() {
    _limitedNodeList->flagTimeForConnectionStep(ReceiveDSPeerInformation);
    _queryTimer->stop();
    _queryWaitingForStun = false;
    _unansweredQueries = 0;
    _domainHandler.getICEPeer().resetConnectionAttempts();
    if (_relay.takeOverBeforePunching()) {
        return; // requeryThroughRelay() follows
    }
    // A full-TTL ping of ours that reaches the domain's NAT before the domain's priming leaves a
    // stale entry there, and a Linux NAT then moves the domain's public port for every later flow:
    // every later client fails, not just this attempt (tests/nat/README.md, "The punch schedule").
    // So when the domain is behind a NAT (its public socket is not its local one) our rounds only
    // prime, and full-TTL pings go back to where the domain's pings come from (processICEPingPacket),
    // which proves it has primed. A domain without NAT has nothing to lose: the short lead.
    PunchTiming::Params params;
    const NetworkPeer &peer = _domainHandler.getICEPeer();
    if (peer.getPublicSocket() != peer.getLocalSocket()) {
        params.leadMs = PunchTiming::WaitForPeerLeadMs;
    }
    // The query's round trip is what we know of our path: retries are spaced by it.
    const qint64 queryRtt = _lastQuerySentMs < 0 ? 0 : _clock->nowMs() - _lastQuerySentMs;
    _punchTiming = PunchTiming(_punchTtlSchedule, int(qBound(qint64(0), queryRtt, qint64(PunchRound::IntervalMs))),
                               params);
    pingPunchForDomainServer();
}

void NodeList::pingPunchForDomainServer() {
    if (_domainHandler.isSocketDiscovered() || !_domainHandler.hasIcePeerInformation()) {
        _pingTimer->stop();
        return;
    }
    NetworkPeer &peer = _domainHandler.getICEPeer();
    const int round = peer.getConnectionAttempts(); // reset when the attempt starts
    if (round >= _punchTiming.roundCount()) {
        endPunchAttempt();
        return;
    }
    _limitedNodeList->flagTimeForConnectionStep(SendPingsToDS);
    const QList<PunchRound::Ping> pings = _relay.isRelaying() ? _relay.pings()
                                                              : PunchRound::pings(peer, round, _punchTtlSchedule);
    for (const PunchRound::Ping &ping : pings) {
        sendPing(ping.destination, ping.type, ping.ttl);
    }
    peer.incrementConnectionAttempts();
    _pingTimer->start(_punchTiming.delayAfterRound(round));
}

void NodeList::sendPing(const SockAddr &destination, PingType type, int ttl) {
    if (!_pingClock.isValid()) {
        _pingClock.start();
    }
    _pingSentNs.insert(destination, _pingClock.nsecsElapsed());
    _limitedNodeList->sendPacket(LimitedNodeList::makeICEPingDatagram(type, _domainHandler.getICEClientID()),
                                 destination, ttl);
}

void NodeList::endPunchAttempt() {
    _pingTimer->stop();
    ++_failedPunchAttempts;
    qCInfo(networking_ice) << "punch attempt" << _failedPunchAttempts << "to domain"
                           << _domainHandler.getPendingDomainID() << "got no reply";
    Q_EMIT punchAttemptFailed(_failedPunchAttempts);
    if (_relay.takeOverAfterFailedAttempt()) {
        return; // requeryThroughRelay(), or retryOrGiveUp() when the relay is unavailable
    }
    retryOrGiveUp();
}

void NodeList::retryOrGiveUp() {
    if (_failedPunchAttempts >= _maxPunchAttempts) {
        const NetworkPeer &peer = _domainHandler.getICEPeer();
        _domainHandler.setErrorState(
            DomainHandler::Error::PunchFailed,
            QStringLiteral("no ping reply from domain %1 (public %2, local %3) in %4 attempts%5")
                .arg(_domainHandler.getPendingDomainID().toString(QUuid::WithoutBraces),
                     peer.getPublicSocket().toString(), peer.getLocalSocket().toString(),
                     QString::number(_failedPunchAttempts),
                     _relay.isRelaying() ? QStringLiteral(" (through the relay)") : QString()));
        return;
    }
    // A new attempt: new ID (the domain may still hold the old one, Q13), maybe a new port, new STUN.
    _domainHandler.softResetICEPeer();
    _domainHandler.regenerateICEClientID();
    // The allocation belongs to this socket: while relaying, keep it.
    const bool rebound = _freshPortOnRetry && !_relay.isRelaying() && _limitedNodeList->rebindToFreshPort();
    if (!rebound && _limitedNodeList->hasStunServer()) {
        _limitedNodeList->startSTUNPublicSocketUpdate();
    }
    _unansweredQueries = 0;
    handleICEConnectionToDomainServer();
}

void NodeList::requeryThroughRelay() {
    qCInfo(networking_ice) << "querying for domain" << _domainHandler.getPendingDomainID() << "again as"
                           << _relay.relayedAddress();
    stop();
    _domainHandler.softResetICEPeer();
    _domainHandler.regenerateICEClientID();
    _unansweredQueries = 0;
    handleICEConnectionToDomainServer();
}

void NodeList::processICEPingPacket(ReceivedMessagePointer message) {
    const IpEndpoint &sender = message->getSenderEndpoint();
    const Decoded<IcePing> ping = IcePing::fromPayload(message->getMessage());
    const QUuid &domainID = _domainHandler.getPendingDomainID();
    if (!ping.ok() || domainID.isNull() || ping.value.senderID != domainID) {
        qCDebug(networking_ice) << "not answering ICEPing from" << sender
                                << (ping.ok() ? "(not our domain)" : "(malformed)");
        return;
    }
    if (_relay.isRelaying() && !_limitedNodeList->isRelayedPeer(sender)) {
        // A ping that did not come through the relay is left over from the direct attempt before it, sent to the
        // socket we queried with then. Our reply would carry the new ICE client ID on the direct path,
        // and the domain would take that path for the relayed one. Once the domain's pings come
        // through the relay, its address is a relayed peer and our replies go back the same way.
        qCDebug(networking_ice) << "not answering ICEPing from" << sender << "outside the relay";
        return;
    }
    _limitedNodeList->sendPacket(LimitedNodeList::makeICEPingReplyDatagram(ping.value, _domainHandler.getICEClientID()),
                                 sender);
    _domainHandler.noteDomainPingFrom(sender);
    _relay.noteDomainPing(sender);
    // While punching directly, ping back at once at full TTL (ICE's triggered check) instead of
    // waiting for our next round: the domain sent this after its priming, and its NAT holds a
    // mapping towards us, so nothing stale can be left; this is also what ends our wait
    // (startPunching). Through the relay, RelayFallback decides when to ping.
    if (_pingTimer->isActive() && !_domainHandler.isSocketDiscovered() && !_relay.isRelaying()) {
        const NetworkPeer &peer = _domainHandler.getICEPeer();
        const PingType type = sender == peer.getLocalSocket()    ? PingType::Local
                              : sender == peer.getPublicSocket() ? PingType::Public
                                                                 : PingType::Symmetric;
        sendPing(sender, type, 0);
    }
    Q_EMIT domainPingAnswered(sender);
}

QString NodeList::domainPathName() const {
    if (_domainHandler.isSocketDiscovered() && _limitedNodeList->isRelayedPeer(_domainHandler.getSockAddr())) {
        return QStringLiteral("relay ") + _relay.relayedAddress().toString();
    }
    return activeSocketName(_domainHandler.getICEPeer().activeSocketKind());
}

void NodeList::reconnectThroughIce() {
    stop();
    const bool rebound = _freshPortOnRetry && !_relay.isRelaying() && _limitedNodeList->rebindToFreshPort();
    if (!rebound && _limitedNodeList->hasStunServer()) {
        // Our public socket may have changed with the path: learn it again before the query.
        _limitedNodeList->startSTUNPublicSocketUpdate();
    }
    _domainHandler.reconnectThroughIce();
}

bool NodeList::sendPingToDomain(PingType pingType) {
    if (!_domainHandler.isSocketDiscovered()) {
        return false;
    }
    return _limitedNodeList->sendPacket(LimitedNodeList::makeICEPingDatagram(pingType, _domainHandler.getICEClientID()),
                                        _domainHandler.getSockAddr());
}
