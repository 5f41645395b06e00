// What one side knows about another during ICE: its ID, the public and local sockets it reported,
// a "symmetric" socket learned from where its packets really come from, and which of the three is
// the one to use (the active socket).
//
// Wire form (ICEServerPeerInformation payload): QUuid id (16 raw bytes) | SockAddr public | SockAddr local.
// Only id, public and local travel; the symmetric and active sockets are local knowledge.
// Source: docs/protocol.md 2.4, 3.4.
//
// Upstream's NetworkPeer is a QObject shared as SharedNetworkPeer, with a ping timer and a
// socketActivated signal; ours is too, and stays copyable as a value: a copy takes the peer's data
// (IDs, sockets, attempts, last heard), never its parent, connections or running timer.
// The sockets are stored as IpEndpoints (the ice-server keeps a peer per domain and updates it per
// heartbeat); the SockAddr getters upstream callers use build their QObjects on first use.
#pragma once

#include "SockAddr.h"
#include "WireError.h"

#include <QtCore/QObject>
#include <QtCore/QSharedPointer>
#include <QtCore/QUuid>

#include <memory>

class QTimer;

// Upstream's global ICE constants, with upstream's spellings (ICE_HEARBEAT is theirs).
const quint16 ICE_SERVER_DEFAULT_PORT = 7337;
const int ICE_HEARBEAT_INTERVAL_MSECS = 1 * 1000;
const int MAX_ICE_CONNECTION_ATTEMPTS = 5;
const int UDP_PUNCH_PING_INTERVAL_MS = 250;

class NetworkPeer : public QObject {
    Q_OBJECT
public:
    enum class ActiveSocket : quint8 { None, Local, Public, Symmetric };

    explicit NetworkPeer(QObject *parent = nullptr) : QObject(parent) {}
    NetworkPeer(const QUuid &uuid, const IpEndpoint &publicSocket, const IpEndpoint &localSocket,
                QObject *parent = nullptr)
        : QObject(parent), _uuid(uuid), _publicSocket(publicSocket), _localSocket(localSocket) {}
    NetworkPeer(const NetworkPeer &other) : QObject() { copyDataFrom(other); }
    NetworkPeer &operator=(const NetworkPeer &other) {
        copyDataFrom(other);
        return *this;
    }
    ~NetworkPeer() override;

    bool isNull() const { return _uuid.isNull(); }

    const QUuid &getUUID() const { return _uuid; }
    void setUUID(const QUuid &uuid) { _uuid = uuid; }

    // Upstream's getters. The references stay valid, and follow the setters, while the peer lives.
    const SockAddr &getPublicSocket() const { return views().publicSocket; }
    const SockAddr &getLocalSocket() const { return views().localSocket; }
    const SockAddr &getSymmetricSocket() const { return views().symmetricSocket; }
    // The same without a QObject, for per-datagram code.
    const IpEndpoint &publicEndpoint() const { return _publicSocket; }
    const IpEndpoint &localEndpoint() const { return _localSocket; }
    const IpEndpoint &symmetricEndpoint() const { return _symmetricSocket; }
    // Changing a socket that is active deactivates it: the peer must be re-confirmed there.
    void setPublicSocket(const IpEndpoint &socket);
    void setLocalSocket(const IpEndpoint &socket);
    void setSymmetricSocket(const IpEndpoint &socket);

    // Both reported sockets are known (Overte's hasSockets()).
    bool hasSockets() const { return !_publicSocket.isNull() && !_localSocket.isNull(); }

    ActiveSocket activeSocketKind() const { return _active; }
    // The socket to talk to, or nullptr before one was activated.
    const SockAddr *getActiveSocket() const;
    const IpEndpoint *activeEndpoint() const;
    // Each emits socketActivated with the socket now active.
    void activateLocalSocket() { setActive(ActiveSocket::Local); }
    void activatePublicSocket() { setActive(ActiveSocket::Public); }
    void activateSymmetricSocket() { setActive(ActiveSocket::Symmetric); }
    // Activates public or local when the observed sender equals one of them; otherwise records
    // the sender as the symmetric socket and activates that (what a symmetric NAT produces).
    void activateMatchingOrNewSymmetricSocket(const IpEndpoint &observed);

    // Forgets sockets and attempts, keeping the ID (Overte's softReset()).
    void softReset();
    // softReset(), and forgets the ID and when it was last heard (Overte's reset()).
    void reset();

    // When the peer was last heard from, in microseconds of the caller's clock (upstream uses
    // usecTimestampNow()); this class only stores it.
    quint64 getLastHeardMicrostamp() const { return _lastHeardMicrostamp; }
    void setLastHeardMicrostamp(quint64 microstamp) { _lastHeardMicrostamp = microstamp; }

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

public Q_SLOTS:
    // pingTimerTimeout() every UDP_PUNCH_PING_INTERVAL_MS until stopped (or the peer is destroyed).
    void startPingTimer();
    void stopPingTimer();

Q_SIGNALS:
    void pingTimerTimeout();
    void socketActivated(const SockAddr &sockAddr);

private:
    struct SockAddrViews {
        SockAddr publicSocket;
        SockAddr localSocket;
        SockAddr symmetricSocket;
    };

    void copyDataFrom(const NetworkPeer &other);
    void setActive(ActiveSocket kind);
    // The SockAddr forms of the three sockets, made on first use (not thread-safe, like the rest
    // of the class); socketsChanged() keeps made ones in step.
    const SockAddrViews &views() const;
    void socketsChanged();

    QUuid _uuid;
    IpEndpoint _publicSocket;
    IpEndpoint _localSocket;
    IpEndpoint _symmetricSocket;
    mutable std::unique_ptr<SockAddrViews> _views;
    ActiveSocket _active = ActiveSocket::None;
    int _connectionAttempts = 0;
    quint64 _lastHeardMicrostamp = 0;
    QTimer *_pingTimer = nullptr; // created by startPingTimer(); a child of this peer
};

using SharedNetworkPeer = QSharedPointer<NetworkPeer>;

// The wire form (ID, public, local), as upstream's QDataStream operators write it; >> leaves the
// peer's active socket unset.
QDataStream &operator<<(QDataStream &out, const NetworkPeer &peer);
QDataStream &operator>>(QDataStream &in, NetworkPeer &peer);

// QUuid as 16 raw RFC 4122 bytes, as Qt's big-endian QDataStream writes it.
void encodeUuid(ByteWriter &out, const QUuid &uuid);
QUuid decodeUuid(ByteReader &in);

// "local", "public", "symmetric" or "none": how a peer was reached, for operators' output.
QString activeSocketName(NetworkPeer::ActiveSocket kind);

QDebug operator<<(QDebug debug, const NetworkPeer &peer);
