// The domain's signed ICEServerHeartbeat payload, cached: it is re-signed only when the domain ID,
// a socket or the key changes (docs/protocol.md 3.1), so the steady state costs no RSA operation.
// A failed signature is an error and leaves no payload; it is never 256 zero bytes (quirk Q9).
#pragma once

#include <IcePackets.h>
#include <RsaPrivateKey.h>

class IceHeartbeatPacket {
public:
    void setDomainID(const QUuid &domainID);
    void setSockets(const SockAddr &publicSocket, const SockAddr &localSocket);
    void setPrivateKey(const RsaPrivateKey &key);

    const QUuid &domainID() const { return _domainID; }
    const SockAddr &publicSocket() const { return _publicSocket; }
    const SockAddr &localSocket() const { return _localSocket; }
    bool hasKey() const { return !_key.isNull(); }

    // The heartbeat payload, signing it first when something changed. Empty on failure, with the
    // reason in *errorString (no key, or the backend refused to sign).
    QByteArray payload(QString *errorString = nullptr);

    // How many signatures were made; tests use it to prove the cache.
    int signCount() const { return _signCount; }

private:
    void invalidate() { _cached.clear(); }

    QUuid _domainID;
    SockAddr _publicSocket;
    SockAddr _localSocket;
    RsaPrivateKey _key;
    QByteArray _cached;
    int _signCount = 0;
};
