// What one side knows about another during ICE: its ID, the public and local sockets it reported,
// a "symmetric" socket learned from where its packets really come from, and which of the three is
// the one to use (the active socket).
//
// Wire form (ICEServerPeerInformation payload): QUuid id (16 raw bytes) | SockAddr public | SockAddr local.
// Only id, public and local travel; the symmetric and active sockets are local knowledge.
// Source: protocol/overte-ice.md 2.4, 3.4.
#pragma once

#include "SockAddr.h"
#include "WireError.h"

#include <QtCore/QUuid>

class NetworkPeer {
public:
    enum class ActiveSocket : quint8 { None, Local, Public, Symmetric };

    NetworkPeer() = default;
    NetworkPeer(const QUuid &uuid, const SockAddr &publicSocket, const SockAddr &localSocket)
        : _uuid(uuid), _publicSocket(publicSocket), _localSocket(localSocket) {}

    const QUuid &getUUID() const { return _uuid; }
    void setUUID(const QUuid &uuid) { _uuid = uuid; }

    const SockAddr &getPublicSocket() const { return _publicSocket; }
    const SockAddr &getLocalSocket() const { return _localSocket; }
    const SockAddr &getSymmetricSocket() const { return _symmetricSocket; }
    // Changing a socket that is active deactivates it: the peer must be re-confirmed there.
    void setPublicSocket(const SockAddr &socket);
    void setLocalSocket(const SockAddr &socket);
    void setSymmetricSocket(const SockAddr &socket);

    // Both reported sockets are known (Overte's hasSockets()).
    bool hasSockets() const { return !_publicSocket.isNull() && !_localSocket.isNull(); }

    ActiveSocket activeSocketKind() const { return _active; }
    // The socket to talk to, or nullptr before one was activated.
    const SockAddr *getActiveSocket() const;
    void activateLocalSocket() { _active = ActiveSocket::Local; }
    void activatePublicSocket() { _active = ActiveSocket::Public; }
    void activateSymmetricSocket() { _active = ActiveSocket::Symmetric; }
    // Activates public or local when the observed sender equals one of them; otherwise records
    // the sender as the symmetric socket and activates that (what a symmetric NAT produces).
    void activateMatchingOrNewSymmetricSocket(const SockAddr &observed);

    // Forgets sockets and attempts, keeping the ID (Overte's softReset()).
    void softReset();

    int getConnectionAttempts() const { return _connectionAttempts; }
    void incrementConnectionAttempts() { ++_connectionAttempts; }
    void resetConnectionAttempts() { _connectionAttempts = 0; }

    // The wire codec (id, public, local). Trailing bytes are an error.
    QByteArray toByteArray() const;
    void encode(ByteWriter &out) const;
    static Decoded<NetworkPeer> fromByteArray(const QByteArray &payload);

    friend bool operator==(const NetworkPeer &a, const NetworkPeer &b) {
        return a._uuid == b._uuid && a._publicSocket == b._publicSocket && a._localSocket == b._localSocket;
    }

private:
    QUuid _uuid;
    SockAddr _publicSocket;
    SockAddr _localSocket;
    SockAddr _symmetricSocket;
    ActiveSocket _active = ActiveSocket::None;
    int _connectionAttempts = 0;
};

// QUuid as 16 raw RFC 4122 bytes, as Qt's big-endian QDataStream writes it.
void encodeUuid(ByteWriter &out, const QUuid &uuid);
QUuid decodeUuid(ByteReader &in);

// "local", "public", "symmetric" or "none": how a peer was reached, for operators' output.
QString activeSocketName(NetworkPeer::ActiveSocket kind);

QDebug operator<<(QDebug debug, const NetworkPeer &peer);
