#include "DomainHandler.h"

#include <NetworkLogging.h>

#include <QtNetwork/QHostInfo>

DomainHandler::DomainHandler(QObject *parent) : QObject(parent) {
    qRegisterMetaType<DomainHandler::Error>();
    qRegisterMetaType<SockAddr>();
}

DomainHandler::~DomainHandler() {
    if (_lookupID >= 0) {
        QHostInfo::abortHostLookup(_lookupID);
    }
}

QString DomainHandler::errorName(Error error) {
    switch (error) {
    case Error::NoError: return QStringLiteral("no error");
    case Error::IceServerLookupFailed: return QStringLiteral("ice-server lookup failed");
    case Error::IceServerSilent: return QStringLiteral("ice-server silent");
    case Error::DomainUnknown: return QStringLiteral("domain unknown");
    case Error::PunchFailed: return QStringLiteral("punch failed");
    case Error::RelayAuthFailed: return QStringLiteral("relay authentication failed");
    }
    return QStringLiteral("unknown error");
}

void DomainHandler::setIceServerHostnameAndID(const QString &iceServerHostname, const QUuid &id) {
    setIceServerHostPortAndID(iceServerHostname, ICE_SERVER_DEFAULT_PORT, id);
}

void DomainHandler::setIceServerHostPortAndID(const QString &iceServerHostname, quint16 iceServerPort,
                                              const QUuid &id) {
    // Compared by what the caller gave (name and port), not by a resolved IP string (Q11).
    const bool same = iceServerHostname == _iceServerHostname && iceServerPort == _iceServerPort
                      && id == _pendingDomainID && !id.isNull();
    if (same && _error == Error::NoError) {
        return;
    }
    hardReset();
    _iceServerHostname = iceServerHostname;
    _iceServerPort = iceServerPort;
    _pendingDomainID = id;
    qCInfo(networking_ice) << "connecting to domain" << id << "through ice-server" << iceServerHostname
                           << iceServerPort;

    const QHostAddress literal(iceServerHostname);
    if (!literal.isNull()) {
        _iceServerSockAddr = SockAddr(literal, iceServerPort);
        startAttempt();
        return;
    }
    _lookupID = QHostInfo::lookupHost(iceServerHostname, this,
                                      [this](const QHostInfo &info) { handleIceServerLookup(info); });
}

void DomainHandler::handleIceServerLookup(const QHostInfo &info) {
    _lookupID = -1;
    for (const QHostAddress &address : info.addresses()) {
        // Our socket is IPv4, as upstream's client.
        if (address.protocol() == QAbstractSocket::IPv4Protocol) {
            _iceServerSockAddr = SockAddr(address, _iceServerPort);
            qCDebug(networking_ice) << "ice-server" << _iceServerHostname << "is" << _iceServerSockAddr;
            startAttempt();
            return;
        }
    }
    const QString reason = info.error() != QHostInfo::NoError ? info.errorString() : QStringLiteral("no IPv4 address");
    setErrorState(Error::IceServerLookupFailed,
                  QStringLiteral("cannot resolve ice-server %1: %2").arg(_iceServerHostname, reason));
}

void DomainHandler::startAttempt() {
    regenerateICEClientID();
    Q_EMIT iceSocketAndIDReceived();
}

void DomainHandler::reconnectThroughIce() {
    if (_iceServerSockAddr.isNull()) {
        return;
    }
    softReset(QStringLiteral("reconnecting through the ice-server"));
    _iceServerHeardFrom = false;
    _everHadPeerInformation = false;
    startAttempt();
}

void DomainHandler::hardReset() {
    if (_lookupID >= 0) {
        QHostInfo::abortHostLookup(_lookupID);
        _lookupID = -1;
    }
    _iceServerHostname.clear();
    _iceServerPort = ICE_SERVER_DEFAULT_PORT;
    _iceServerSockAddr = SockAddr();
    _pendingDomainID = QUuid();
    _iceClientID = QUuid();
    _icePeer = NetworkPeer();
    _hasPeerInformation = false;
    _everHadPeerInformation = false;
    _iceServerHeardFrom = false;
    _sockAddr = SockAddr();
    _error = Error::NoError;
    _errorString.clear();
}

void DomainHandler::softReset(QString reason) {
    qCDebug(networking_ice) << "soft reset of the connection to domain" << _pendingDomainID << ':' << reason;
    _sockAddr = SockAddr();
    softResetICEPeer();
    _error = Error::NoError;
    _errorString.clear();
}

void DomainHandler::softResetICEPeer() {
    _icePeer.softReset();
    _hasPeerInformation = false;
}

void DomainHandler::noteDatagramFrom(const SockAddr &sender) {
    if (!_iceServerHeardFrom && !_iceServerSockAddr.isNull() && sender == _iceServerSockAddr) {
        qCDebug(networking_ice) << "ice-server" << _iceServerSockAddr << "is reachable";
        _iceServerHeardFrom = true;
    }
}

void DomainHandler::setErrorState(Error error, const QString &detail) {
    _error = error;
    _errorString = detail.isEmpty() ? errorName(error) : detail;
    qCWarning(networking_ice) << "giving up on domain" << _pendingDomainID << ':' << _errorString;
    Q_EMIT errorOccurred(error, _errorString);
}

DomainHandler::Error DomainHandler::diagnose() const {
    if (_error != Error::NoError) {
        return _error;
    }
    if (_everHadPeerInformation) {
        return Error::PunchFailed;
    }
    if (_iceServerSockAddr.isNull() && !_iceServerHostname.isEmpty()) {
        return Error::IceServerLookupFailed;
    }
    return _iceServerHeardFrom ? Error::DomainUnknown : Error::IceServerSilent;
}

void DomainHandler::processICEResponsePacket(ReceivedMessagePointer message) {
    const IpEndpoint &sender = message->getSenderEndpoint();
    if (_iceServerSockAddr.isNull() || sender != _iceServerSockAddr) {
        qCDebug(networking_ice) << "ignoring peer information from" << sender << "(not our ice-server)";
        return;
    }
    if (_hasPeerInformation || isSocketDiscovered()) {
        return;
    }
    const Decoded<NetworkPeer> peer = NetworkPeer::fromByteArray(message->getMessage());
    if (!peer.ok()) {
        qCDebug(networking_ice) << "malformed peer information from" << sender << ':' << wireErrorString(peer.error);
        return;
    }
    if (peer.value.getUUID() != _pendingDomainID || _pendingDomainID.isNull()) {
        qCDebug(networking_ice) << "ignoring peer information for" << peer.value.getUUID() << "while connecting to"
                                << _pendingDomainID;
        return;
    }
    if (peer.value.getPublicSocket().isNull() && peer.value.getLocalSocket().isNull()) {
        qCDebug(networking_ice) << "peer information for" << _pendingDomainID << "carries no socket";
        return;
    }
    // Keep a symmetric socket already learned from the domain's own pings.
    _icePeer.setUUID(peer.value.getUUID());
    _icePeer.setPublicSocket(peer.value.getPublicSocket());
    _icePeer.setLocalSocket(peer.value.getLocalSocket());
    _icePeer.resetConnectionAttempts();
    _hasPeerInformation = true;
    _everHadPeerInformation = true;
    qCInfo(networking_ice) << "domain" << _pendingDomainID << "is at public" << _icePeer.getPublicSocket() << "local"
                           << _icePeer.getLocalSocket();
    Q_EMIT icePeerSocketsReceived();
}

void DomainHandler::noteDomainPingFrom(const SockAddr &sender) {
    if (isSocketDiscovered() || sender == _icePeer.getPublicSocket() || sender == _icePeer.getLocalSocket()
        || sender == _icePeer.getSymmetricSocket()) {
        return;
    }
    qCInfo(networking_ice) << "domain" << _pendingDomainID << "pings from" << sender
                           << "which it did not report: its symmetric socket";
    _icePeer.setSymmetricSocket(sender);
}

void DomainHandler::processICEPingReplyPacket(ReceivedMessagePointer message) {
    const IpEndpoint &sender = message->getSenderEndpoint();
    const Decoded<IcePingReply> reply = IcePingReply::fromPayload(message->getMessage());
    if (!reply.ok() || _pendingDomainID.isNull() || reply.value.senderID != _pendingDomainID) {
        qCDebug(networking_ice) << "ignoring ICEPingReply from" << sender
                                << (reply.ok() ? "for another ID" : "(malformed)");
        return;
    }
    if (isSocketDiscovered()) {
        if (sender == _sockAddr) {
            Q_EMIT domainPingReplyReceived(sender);
        }
        return;
    }
    if (!_hasPeerInformation && _icePeer.getSymmetricSocket().isNull()) {
        qCDebug(networking_ice) << "ICEPingReply from" << sender << "before peer information; ignored";
        return;
    }
    if (sender == _icePeer.getLocalSocket()) {
        activateICELocalSocket();
    } else if (sender == _icePeer.getPublicSocket()) {
        activateICEPublicSocket();
    } else {
        _icePeer.setSymmetricSocket(sender);
        _icePeer.activateSymmetricSocket();
        socketDiscovered(sender);
    }
}

void DomainHandler::activateICELocalSocket() {
    _icePeer.activateLocalSocket();
    socketDiscovered(_icePeer.getLocalSocket());
}

void DomainHandler::activateICEPublicSocket() {
    _icePeer.activatePublicSocket();
    socketDiscovered(_icePeer.getPublicSocket());
}

void DomainHandler::socketDiscovered(const SockAddr &sockAddr) {
    _sockAddr = sockAddr;
    qCInfo(networking_ice) << "domain" << _pendingDomainID << "answers at" << sockAddr;
    Q_EMIT completedSocketDiscovery();
}
