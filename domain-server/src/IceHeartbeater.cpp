#include "IceHeartbeater.h"

#include "DomainServerLogging.h"

#include <PacketReceiver.h>
#include <PacketSender.h>

IceHeartbeater::IceHeartbeater(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver, QObject *parent)
    : QObject(parent), _sender(sender) {
    _packet.setDomainID(domainID);
    connect(&_timer, &QTimer::timeout, this, &IceHeartbeater::sendHeartbeatToIceServer);
    if (receiver) {
        receiver->registerListener(PacketType::ICEServerHeartbeatACK, this,
                                   &IceHeartbeater::processICEServerHeartbeatACK);
        receiver->registerListener(PacketType::ICEServerHeartbeatDenied, this,
                                   &IceHeartbeater::processICEServerHeartbeatDenialPacket);
    }
}

void IceHeartbeater::start(int intervalMs) {
    _timer.start(intervalMs);
    sendHeartbeatToIceServer();
}

void IceHeartbeater::stop() {
    _timer.stop();
}

void IceHeartbeater::setIceServer(const SockAddr &iceServer) {
    _iceServer = iceServer;
    _noReplyHeartbeats = 0;
    _denials = 0;
    _registered = false;
    if (_timer.isActive()) {
        sendHeartbeatToIceServer();
    }
}

void IceHeartbeater::setSockets(const SockAddr &publicSocket, const SockAddr &localSocket) {
    if (publicSocket == _packet.publicSocket() && localSocket == _packet.localSocket()) {
        return;
    }
    _packet.setSockets(publicSocket, localSocket);
    if (_timer.isActive()) {
        sendHeartbeatToIceServer();
    }
}

void IceHeartbeater::setAwaitingPublicSocket(bool awaiting) {
    _awaitingPublicSocket = awaiting;
    if (!awaiting && _heldForPublicSocket && _timer.isActive()) {
        sendHeartbeatToIceServer();
    }
}

void IceHeartbeater::setPrivateKey(const RsaPrivateKey &key) {
    _packet.setPrivateKey(key);
    _denials = 0;
    if (_timer.isActive()) {
        sendHeartbeatToIceServer();
    }
}

void IceHeartbeater::sendHeartbeatToIceServer() {
    if (_iceServer.isNull()) {
        qCDebug(domain_server_ice_packets) << "no ice-server chosen yet; heartbeat skipped";
        return;
    }
    if (!_packet.hasKey()) {
        setError(Error::NoKeypair, QStringLiteral("no domain keypair yet; heartbeat skipped"));
        ++_counters.keypairRequests;
        Q_EMIT keypairRegenerationNeeded();
        return;
    }
    if (_awaitingPublicSocket && _packet.publicSocket().isNull()) {
        // Not counted as unanswered: a wait for STUN must not look like a silent ice-server.
        if (!_heldForPublicSocket) {
            qCDebug(domain_server_ice) << "heartbeat held until STUN tells our public socket";
        }
        _heldForPublicSocket = true;
        ++_counters.heldForPublicSocket;
        return;
    }
    _heldForPublicSocket = false;
    if (++_noReplyHeartbeats > FailoverNoReplyHeartbeats) {
        qCInfo(domain_server_ice).noquote() << "ice-server" << _iceServer.toString() << "did not answer"
                                            << FailoverNoReplyHeartbeats << "heartbeats; failing over";
        ++_counters.failovers;
        const SockAddr silent = _iceServer;
        _noReplyHeartbeats = 0;
        _registered = false;
        // The receiver of this signal picks another server and calls setIceServer(), which sends.
        Q_EMIT iceServerUnresponsive(silent);
        return;
    }

    QString why;
    const QByteArray payload = _packet.payload(&why);
    if (payload.isEmpty()) {
        setError(Error::SigningFailed, why);
        return;
    }
    if (!_sender || !_sender->sendPacket(PacketType::ICEServerHeartbeat, payload, _iceServer)) {
        setError(Error::SendFailed, QStringLiteral("could not send the heartbeat to %1").arg(_iceServer.toString()));
        return;
    }
    ++_counters.heartbeatsSent;
    qCDebug(domain_server_ice_packets) << "heartbeat to" << _iceServer << "unanswered so far:" << _noReplyHeartbeats;
}

bool IceHeartbeater::isFromIceServer(const ReceivedMessagePointer &message) {
    // A spoofed Denied could otherwise push us into making new keys, a spoofed ACK hide a failover.
    if (message->getSenderEndpoint() == _iceServer) {
        return true;
    }
    ++_counters.repliesFromStrangers;
    qCDebug(domain_server_ice_packets) << message->getType() << "from" << message->getSenderEndpoint()
                                       << "which is not our ice-server" << _iceServer << "- ignored";
    return false;
}

void IceHeartbeater::processICEServerHeartbeatACK(ReceivedMessagePointer message) {
    if (!isFromIceServer(message)) {
        return;
    }
    ++_counters.acks;
    _noReplyHeartbeats = 0;
    _denials = 0;
    if (!_registered) {
        _registered = true;
        _error = Error::NoError;
        _errorString.clear();
        qCInfo(domain_server_ice).noquote() << "registered with ice-server" << _iceServer.toString() << "as"
                                            << domainID().toString(QUuid::WithoutBraces);
        Q_EMIT registered(_iceServer);
    }
}

void IceHeartbeater::processICEServerHeartbeatDenialPacket(ReceivedMessagePointer message) {
    if (!isFromIceServer(message)) {
        return;
    }
    ++_counters.denials;
    _noReplyHeartbeats = 0;
    const bool wasRegistered = _registered;
    _registered = false;
    ++_denials;
    qCInfo(domain_server_ice).noquote() << "ice-server" << _iceServer.toString() << "denied our heartbeat"
                                        << QStringLiteral("(%1 in a row%2)")
                                               .arg(_denials)
                                               .arg(wasRegistered ? QStringLiteral(", registration lost") : QString());
    Q_EMIT denied(_iceServer, _denials);
    if (_denials > DenialsBeforeNewKeypair) {
        _denials = 0;
        ++_counters.keypairRequests;
        qCInfo(domain_server_ice) << "the ice-server keeps denying our key; asking for a new keypair";
        Q_EMIT keypairRegenerationNeeded();
    }
}

void IceHeartbeater::setError(Error error, const QString &text) {
    const bool repeated = error == _error && text == _errorString;
    _error = error;
    _errorString = text;
    if (!repeated) {
        qCWarning(domain_server_ice).noquote() << text;
    }
    Q_EMIT errorOccurred(error, text);
}
