#include "LimitedNodeList.h"

#include "HostAndPort.h"

#include <NetworkLogging.h>
#include <QUdpSocketTransport.h>
#include <StunMessage.h>
#include <TurnClient.h>

#include <QtCore/QEventLoop>
#include <QtNetwork/QHostInfo>
#include <QtNetwork/QNetworkInterface>
#include <QtNetwork/QUdpSocket>

LimitedNodeList::LimitedNodeList(quint16 port, QObject *parent) : QObject(parent) {
    auto *transport = new QUdpSocketTransport(this);
    if (!transport->bind(QHostAddress::AnyIPv4, port)) {
        _errorString = transport->errorString();
        qCWarning(networking) << "LimitedNodeList:" << _errorString;
    }
    _transport = transport;
    _ownsTransport = true;
    init();
}

LimitedNodeList::LimitedNodeList(UdpTransport *transport, QObject *parent) : QObject(parent), _transport(transport) {
    init();
}

LimitedNodeList::LimitedNodeList(Detached, QObject *parent) : QObject(parent) {
    _age.start();
}

LimitedNodeList::~LimitedNodeList() {
    if (_stunLookupID >= 0) {
        QHostInfo::abortHostLookup(_stunLookupID);
    }
}

void LimitedNodeList::init() {
    qRegisterMetaType<SockAddr>();
    _age.start();
    _packetReceiver.attach(_transport);
    _packetSender.setTransport(_transport);
    connect(&_packetReceiver, &PacketReceiver::stunDatagramReceived, this, &LimitedNodeList::processSTUNDatagram);
    _stunTimer.setInterval(STUN_INITIAL_INTERVAL_MSECS);
    connect(&_stunTimer, &QTimer::timeout, this, &LimitedNodeList::sendSTUNRequest);
    updateLocalSocket();
}

bool LimitedNodeList::isBound() const {
    return _transport && _transport->isBound();
}

quint16 LimitedNodeList::getLocalPort() const {
    return _transport ? _transport->localSocket().getPort() : 0;
}

// ---- STUN ----

bool LimitedNodeList::setStunServer(const QString &hostAndPort) {
    const HostAndPort parsed = HostAndPort::parse(hostAndPort, STUN_SERVER_DEFAULT_PORT);
    if (!parsed.isValid()) {
        return false;
    }
    setStunServer(parsed.host, parsed.port);
    return true;
}

void LimitedNodeList::setStunServer(const QString &host, quint16 port) {
    if (_stunLookupID >= 0) {
        QHostInfo::abortHostLookup(_stunLookupID);
        _stunLookupID = -1;
    }
    _stunHost = host;
    _stunPort = port;
    _stunSockAddr = SockAddr();
    const QHostAddress literal(host);
    if (!literal.isNull()) {
        _stunSockAddr = SockAddr(literal, port);
        updateLocalSocket();
    } else {
        _stunLookupID = QHostInfo::lookupHost(host, this, [this](const QHostInfo &info) { handleStunLookup(info); });
    }
}

void LimitedNodeList::handleStunLookup(const QHostInfo &info) {
    _stunLookupID = -1;
    // Our socket is IPv4 (as upstream's), so only an IPv4 address of the STUN server is usable.
    for (const QHostAddress &address : info.addresses()) {
        if (address.protocol() == QAbstractSocket::IPv4Protocol) {
            _stunSockAddr = SockAddr(address, _stunPort);
            qCDebug(networking) << "STUN server" << info.hostName() << "is" << _stunSockAddr;
            updateLocalSocket();
            if (_stunRunning && !_initialStunDone) {
                sendSTUNRequest();
            }
            return;
        }
    }
    const QString reason = info.error() != QHostInfo::NoError ? info.errorString() : QStringLiteral("no IPv4 address");
    qCWarning(networking) << "cannot resolve STUN server" << info.hostName() << ':' << reason;
    Q_EMIT stunServerLookupFailed(info.hostName(), reason);
}

void LimitedNodeList::startSTUNPublicSocketUpdate() {
    _stunRunning = true;
    _initialStunDone = false;
    _initialStunFailed = false;
    _numInitialSTUNRequests = 0;
    // Retransmissions of one request keep its transaction ID (RFC 5389 7.2.1), so an answer that
    // arrives after the next retransmission went out still counts.
    _stunTransactionID = StunMessage::bindingRequest().transactionId;
    _stunTimer.start(STUN_INITIAL_INTERVAL_MSECS);
    sendSTUNRequest();
}

void LimitedNodeList::stopSTUNPublicSocketUpdate() {
    _stunRunning = false;
    _stunTimer.stop();
}

void LimitedNodeList::sendSTUNRequest() {
    if (!_transport) {
        return;
    }
    if (!_initialStunDone) {
        if (_numInitialSTUNRequests > MAX_INITIAL_STUN_REQUESTS) {
            qCWarning(networking) << "no answer from STUN server" << _stunHost << "after" << _numInitialSTUNRequests
                                  << "requests; public socket unknown";
            _initialStunDone = true;
            _initialStunFailed = true;
            _stunTimer.start(STUN_REFRESH_INTERVAL_MSECS);
            setPublicSockAddr(SockAddr(QHostAddress(), getLocalPort()));
            Q_EMIT stunFailed();
            Q_EMIT initialSTUNCompleted(false);
            return;
        }
        ++_numInitialSTUNRequests;
    } else {
        _stunTransactionID = StunMessage::bindingRequest().transactionId;
    }
    if (_stunHost.isEmpty()) {
        return;
    }
    if (_stunSockAddr.isNull()) {
        // Unresolved: (re)start the lookup; the series keeps counting so a dead name still fails.
        if (_stunLookupID < 0) {
            setStunServer(_stunHost, _stunPort);
        }
        return;
    }
    StunMessage request = StunMessage::bindingRequest();
    request.transactionId = _stunTransactionID;
    qCDebug(networking_packets) << "STUN binding request to" << _stunSockAddr;
    flagTimeForConnectionStep(SendSTUNRequest);
    _transport->writeDatagram(request.encode(), _stunSockAddr);
}

void LimitedNodeList::processSTUNDatagram(const QByteArray &datagram, const SockAddr &sender) {
    if (_stunSockAddr.isNull() || sender != _stunSockAddr) {
        qCDebug(networking_packets) << "ignoring STUN datagram from" << sender << "(STUN server is" << _stunSockAddr
                                    << ')';
        return;
    }
    const Decoded<IpEndpoint> mapped = StunMessage::parseBindingResponse(datagram, _stunTransactionID);
    if (!mapped.ok()) {
        qCDebug(networking_packets) << "ignoring STUN datagram from" << sender << ':' << wireErrorString(mapped.error);
        return;
    }
    const bool firstAnswer = !_initialStunDone || _initialStunFailed;
    if (!_initialStunDone) {
        _initialStunDone = true;
        _stunTimer.start(STUN_REFRESH_INTERVAL_MSECS);
    }
    _initialStunFailed = false;
    setPublicSockAddr(mapped.value);
    if (firstAnswer) {
        Q_EMIT initialSTUNCompleted(true);
    }
}

void LimitedNodeList::setPublicSockAddr(const SockAddr &socket) {
    if (socket == _publicSockAddr) {
        return;
    }
    qCInfo(networking) << "public socket is" << socket;
    _publicSockAddr = socket;
    if (!socket.isNull()) {
        flagTimeForConnectionStep(SetPublicSocketFromSTUN);
    }
    Q_EMIT publicSockAddrChanged(socket);
}

// ---- Local socket ----

void LimitedNodeList::setLocalSocketProbeTarget(const QHostAddress &target) {
    _localProbeTarget = target;
    updateLocalSocket();
}

QHostAddress LimitedNodeList::probeLocalAddress() const {
    const QHostAddress target = !_localProbeTarget.isNull() ? _localProbeTarget : _stunSockAddr.getAddress();
    if (!target.isNull() && target.protocol() == QAbstractSocket::IPv4Protocol) {
        // A connect()ed UDP socket sends nothing; the kernel just picks the route and source address.
        QUdpSocket probe;
        probe.connectToHost(target, 9);
        if (probe.state() == QAbstractSocket::ConnectedState || probe.waitForConnected(100)) {
            const QHostAddress local = probe.localAddress();
            if (!local.isNull() && local != QHostAddress::AnyIPv4) {
                return local;
            }
        }
    }
    QHostAddress loopback;
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.protocol() != QAbstractSocket::IPv4Protocol) {
            continue;
        }
        if (!address.isLoopback()) {
            return address;
        }
        loopback = address;
    }
    return loopback.isNull() ? QHostAddress(QHostAddress::LocalHost) : loopback;
}

void LimitedNodeList::updateLocalSocket() {
    if (!_transport) {
        return;
    }
    const SockAddr bound = _transport->localSocket();
    if (bound.getPort() == 0) {
        return;
    }
    QHostAddress address = bound.getAddress();
    if (address.isNull() || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6
        || address == QHostAddress::Any) {
        address = probeLocalAddress();
    }
    const SockAddr local(address, bound.getPort());
    if (local == _localSockAddr) {
        return;
    }
    qCInfo(networking) << "local socket is" << local;
    _localSockAddr = local;
    Q_EMIT localSockAddrChanged(local);
}

bool LimitedNodeList::rebindToFreshPort() {
    if (!_transport) {
        return false;
    }
    const quint16 oldPort = getLocalPort();
    if (!_transport->rebindToFreshPort()) {
        _errorString = _transport->errorString();
        qCWarning(networking) << "rebind failed:" << _errorString;
        return false;
    }
    const quint16 newPort = getLocalPort();
    qCInfo(networking) << "moved from local port" << oldPort << "to" << newPort;
    Q_EMIT transportRebound(newPort);
    updateLocalSocket();
    setPublicSockAddr(SockAddr());
    if (_stunRunning) {
        startSTUNPublicSocketUpdate();
    }
    return true;
}

// ---- TURN relay ----

TurnClient *LimitedNodeList::setTurnServer(const SockAddr &server, const TurnCredentials &credentials) {
    if (!_transport) {
        return nullptr;
    }
    delete _turnClient;
    _turnClient = new TurnClient(_transport, server, credentials, this);
    connect(_turnClient, &TurnClient::relayedDatagram, this, &LimitedNodeList::processRelayedDatagram);
    // The TURN client sees every datagram first: the receiver no longer listens to the transport
    // itself, it gets what the TURN client leaves and what the relay carried.
    disconnect(_transport, &UdpTransport::datagramReceived, &_packetReceiver, nullptr);
    disconnect(_transport, &UdpTransport::datagramReceived, this, &LimitedNodeList::processDatagram);
    connect(_transport, &UdpTransport::datagramReceived, this, &LimitedNodeList::processDatagram);
    _packetSender.setDetour({ [this](const SockAddr &destination) { return _relayedPeers.contains(destination); },
                              [this](const QByteArray &datagram, const SockAddr &destination) {
                                  return _turnClient ? _turnClient->sendTo(destination, datagram) : qint64(-1);
                              } });
    qCInfo(networking) << "TURN server is" << server;
    return _turnClient;
}

void LimitedNodeList::processDatagram(const QByteArray &datagram, const SockAddr &sender) {
    if (_turnClient && _turnClient->handleDatagram(datagram, sender)) {
        return;
    }
    _packetReceiver.handleDatagram(datagram, sender);
}

void LimitedNodeList::processRelayedDatagram(const QByteArray &payload, const SockAddr &peer) {
    if (!_relayedPeers.contains(peer)) {
        setRelayedPeer(peer);
        Q_EMIT relayedPeerHeard(peer);
    }
    _packetReceiver.handleDatagram(payload, peer);
}

void LimitedNodeList::setRelayedPeer(const SockAddr &peer, bool relayed) {
    if (!relayed) {
        _relayedPeers.remove(peer);
        return;
    }
    if (_relayedPeers.size() >= MaxRelayedPeers) {
        _relayedPeers.clear();
    }
    qCDebug(networking) << peer << "is reached through the relay";
    _relayedPeers.insert(peer);
}

void LimitedNodeList::releaseTurn(int timeoutMs) {
    if (!_turnClient || _turnClient->state() != TurnClient::Allocated) {
        return;
    }
    QEventLoop loop;
    connect(_turnClient, &TurnClient::released, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    _turnClient->release();
    if (_turnClient->state() == TurnClient::Releasing) {
        loop.exec();
    }
}

// ---- ICE packets ----

bool LimitedNodeList::sendPacket(const NLDatagram &packet, const SockAddr &destination, int ttl) {
    return _packetSender.sendPacket(packet, destination, ttl);
}

bool LimitedNodeList::sendPeerQueryToIceServer(const SockAddr &iceServerSockAddr, const QUuid &clientID,
                                               const QUuid &peerID) {
    return sendPeerQueryToIceServer(iceServerSockAddr, clientID, peerID, _publicSockAddr, _localSockAddr);
}

bool LimitedNodeList::sendPeerQueryToIceServer(const SockAddr &iceServerSockAddr, const QUuid &clientID,
                                               const QUuid &peerID, const SockAddr &publicSocket,
                                               const SockAddr &localSocket) {
    IceServerQuery query;
    query.clientID = clientID;
    query.publicSocket = publicSocket;
    query.localSocket = localSocket;
    query.domainID = peerID;
    qCDebug(networking_ice) << "ICEServerQuery for" << peerID << "to" << iceServerSockAddr << "as" << clientID
                            << "public" << publicSocket << "local" << localSocket;
    flagTimeForConnectionStep(SendICEServerQuery);
    return sendPacket(NLDatagram::create(PacketType::ICEServerQuery, query.toPayload()), iceServerSockAddr);
}

qint64 LimitedNodeList::sendUnreliablePacket(const NLPacket &packet, const SockAddr &sockAddr, HMACAuth *) {
    const NLDatagram datagram = packet.toNLDatagram();
    if (!sendPacket(datagram, sockAddr)) {
        return -1;
    }
    return datagram.toDatagram().size();
}

qint64 LimitedNodeList::sendPacket(std::unique_ptr<NLPacket> packet, const SockAddr &sockAddr, HMACAuth *hmacAuth) {
    return packet ? sendUnreliablePacket(*packet, sockAddr, hmacAuth) : -1;
}

std::unique_ptr<NLPacket> LimitedNodeList::constructICEPingPacket(PingType_t pingType, const QUuid &iceID) {
    return NLPacket::fromDatagram(makeICEPingDatagram(static_cast<PingType>(pingType), iceID));
}

std::unique_ptr<NLPacket> LimitedNodeList::constructICEPingReplyPacket(ReceivedMessage &message, const QUuid &iceID) {
    return NLPacket::fromDatagram(makeICEPingReplyDatagram(message, iceID));
}

void LimitedNodeList::setSessionUUID(const QUuid &sessionUUID) {
    if (sessionUUID == _sessionUUID) {
        return;
    }
    const QUuid oldUUID = _sessionUUID;
    _sessionUUID = sessionUUID;
    qCInfo(networking) << "session UUID is" << sessionUUID;
    Q_EMIT uuidChanged(sessionUUID, oldUUID);
}

void LimitedNodeList::flagTimeForConnectionStep(ConnectionStep connectionStep) {
    const qint64 elapsed = _age.isValid() ? _age.elapsed() : 0;
    _connectionTimes.insert(connectionStep, elapsed);
    qCDebug(networking) << "connection step" << connectionStep << "at" << elapsed << "ms";
}

NLDatagram LimitedNodeList::makeICEPingDatagram(PingType pingType, const QUuid &iceID) {
    IcePing ping;
    ping.senderID = iceID;
    ping.pingType = pingType;
    return NLDatagram::create(PacketType::ICEPing, ping.toPayload());
}

NLDatagram LimitedNodeList::makeICEPingReplyDatagram(const IcePing &ping, const QUuid &replierID) {
    IcePingReply reply;
    reply.senderID = replierID;
    reply.pingType = ping.pingType;
    return NLDatagram::create(PacketType::ICEPingReply, reply.toPayload());
}

NLDatagram LimitedNodeList::makeICEPingReplyDatagram(const ReceivedMessage &message, const QUuid &replierID) {
    const Decoded<IcePing> ping = IcePing::fromPayload(message.getMessage());
    if (!ping.ok()) {
        return NLDatagram::create(PacketType::ICEPingReply);
    }
    return makeICEPingReplyDatagram(ping.value, replierID);
}
