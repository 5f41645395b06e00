#include "IceHeartbeatPacket.h"

#include <CryptoBackend.h>

void IceHeartbeatPacket::setDomainID(const QUuid &domainID) {
    if (domainID != _domainID) {
        _domainID = domainID;
        invalidate();
    }
}

void IceHeartbeatPacket::setSockets(const SockAddr &publicSocket, const SockAddr &localSocket) {
    if (publicSocket != _publicSocket || localSocket != _localSocket) {
        _publicSocket = publicSocket;
        _localSocket = localSocket;
        invalidate();
    }
}

void IceHeartbeatPacket::setPrivateKey(const RsaPrivateKey &key) {
    if (key != _key) {
        _key = key;
        invalidate();
    }
}

QByteArray IceHeartbeatPacket::payload(QString *errorString) {
    if (!_cached.isEmpty()) {
        return _cached;
    }
    if (_key.isNull()) {
        if (errorString) {
            *errorString = QStringLiteral("no domain keypair to sign the heartbeat with");
        }
        return {};
    }
    IceServerHeartbeat heartbeat;
    heartbeat.domainID = _domainID;
    heartbeat.publicSocket = _publicSocket;
    heartbeat.localSocket = _localSocket;
    const QByteArray plaintext = IceServerHeartbeat::signedPlaintext(_domainID, _publicSocket, _localSocket);
    QString why;
    heartbeat.signature = CryptoBackend::defaultBackend()->sign(_key, plaintext, &why);
    if (heartbeat.signature.isEmpty()) {
        if (errorString) {
            *errorString = QStringLiteral("signing the heartbeat failed: %1").arg(why);
        }
        return {};
    }
    ++_signCount;
    _cached = heartbeat.toPayload();
    return _cached;
}
