// The node's UDP presence (Overte's LimitedNodeList, minus the god object): the transport, the packet
// receiver and sender other roles register with, and what this node knows about its own sockets:
// the public one learned by STUN and the local one learned without contacting anybody.
//
// STUN follows upstream's timings (docs/protocol.md section 6): a request every 250 ms until
// one is answered, failure after more than 10 unanswered (public socket = null address with our local
// port, as upstream), then one request every 10 s. Unlike upstream, an answer counts only when it
// comes from the STUN server's address and carries our transaction ID.
//
// Optionally it owns a TurnClient on the same socket (setTurnServer): datagrams from the TURN server
// are taken apart before any other decoding, what the relay carries is handled exactly like a
// direct datagram from the peer, and sends to a peer marked as relayed go through the relay. The
// roles above never need to know which path a peer is on; they can ask (isRelayedPeer).
//
// Upstream's public shapes sit beside ours as thin adapters: sendPacket/sendUnreliablePacket taking an
// NLPacket, constructICEPing(Reply)Packet returning one, the session UUID, ConnectionStep timings.
#pragma once

#include <IcePackets.h>
#include <NLDatagram.h>
#include <PacketReceiver.h>
#include <PacketSender.h>
#include <SockAddr.h>
#include <TurnClient.h>

#include <NLPacket.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtCore/QTimer>
#include <QtCore/QUuid>

class UdpTransport;
class QHostInfo;
// Upstream signs node traffic with an HMACAuth. ICE packets are never verified (they are sent before
// any node exists), so this library only carries the type for signatures' sake and ignores it.
class HMACAuth;

// Upstream's "no port chosen" for a listen port (a random port is bound).
constexpr int INVALID_PORT = -1;

// Upstream's node types, for NodeList's owner type (ICE does not look at it): the few a caller of
// the ICE part names.
using NodeType_t = quint8;
namespace NodeType {
constexpr NodeType_t DomainServer = 'D';
constexpr NodeType_t Agent = 'I';
constexpr NodeType_t Unassigned = 1;
} // namespace NodeType

class LimitedNodeList : public QObject {
    Q_OBJECT
public:
    static constexpr quint16 STUN_SERVER_DEFAULT_PORT = 19302;
    static constexpr int STUN_INITIAL_INTERVAL_MSECS = 250;
    static constexpr int STUN_REFRESH_INTERVAL_MSECS = 10 * 1000;
    // Upstream declares failure when more than this many initial requests went unanswered.
    static constexpr int MAX_INITIAL_STUN_REQUESTS = 10;

    // Upstream's connection steps (its stats page shows when each happened). We flag the ICE ones.
    enum ConnectionStep {
        LookupAddress = 1,
        HandleAddress,
        SendSTUNRequest,
        SetPublicSocketFromSTUN,
        SetICEServerHostname,
        SetICEServerSocket,
        SendICEServerQuery,
        ReceiveDSPeerInformation,
        SendPingsToDS,
        SetDomainHostname,
        SetDomainSocket,
        SendDSCheckIn,
        ReceiveDSList,
        AddedAudioMixer,
        SendAudioPing,
        SetAudioMixerSocket,
        SendAudioPacket,
        ReceiveFirstAudioPacket
    };
    Q_ENUM(ConnectionStep)

    // Creates and owns a QUdpSocketTransport bound to 0.0.0.0:port (0 = a random port). Check
    // isBound() / errorString() afterwards.
    explicit LimitedNodeList(quint16 port = 0, QObject *parent = nullptr);
    // Uses a transport made elsewhere (e.g. FakeTransport in tests); it is not owned.
    explicit LimitedNodeList(UdpTransport *transport, QObject *parent = nullptr);
    ~LimitedNodeList() override;

    // Our node's session UUID (assigned by a domain server upstream; ICE does not use it).
    QUuid getSessionUUID() const { return _sessionUUID; }
    void setSessionUUID(const QUuid &sessionUUID);

    bool isBound() const;
    QString errorString() const { return _errorString; }

    UdpTransport *getTransport() const { return _transport; }
    PacketReceiver &getPacketReceiver() { return _packetReceiver; }
    PacketSender &getPacketSender() { return _packetSender; }
    quint16 getLocalPort() const;

    // ---- Our sockets ----
    const SockAddr &getPublicSockAddr() const { return _publicSockAddr; }
    const SockAddr &getLocalSockAddr() const { return _localSockAddr; }

    // ---- STUN ----
    // The STUN server, "HOST[:PORT]" (default port 19302) or a host and port. A name is resolved
    // asynchronously; an IP literal is used as is. Returns false for text that is no host at all.
    bool setStunServer(const QString &hostAndPort);
    void setStunServer(const QString &host, quint16 port);
    const SockAddr &getStunSockAddr() const { return _stunSockAddr; }
    const SockAddr &getSTUNSockAddr() const { return _stunSockAddr; } // upstream's spelling
    bool hasStunServer() const { return !_stunHost.isEmpty(); }
    // startSTUNPublicSocketUpdate() and sendSTUNRequest() are slots, below.
    void stopSTUNPublicSocketUpdate();
    // True once the initial series ended, answered or not: the public socket is as good as it gets.
    bool hasCompletedInitialSTUN() const { return _initialStunDone; }
    bool didInitialSTUNFail() const { return _initialStunFailed; }

    // ---- Local socket ----
    // Where our traffic will go (the ice-server or STUN server): the local address is the one the
    // kernel would route from towards it. Learned by connect()ing a throwaway UDP socket, which
    // sends nothing. Without a target: the first non-loopback IPv4 interface address.
    void setLocalSocketProbeTarget(const QHostAddress &target);

    // Closes the socket and binds a fresh random port, to escape a stale NAT mapping after a failed
    // punch. The public socket is then unknown until STUN runs again (restarted here when it was
    // configured). False when the transport could not bind again (errorString() says why).
    bool rebindToFreshPort();

    // ---- TURN relay ----
    // Relays through the TURN server at server (an address: resolve a name first) with these
    // credentials: makes a TurnClient on our socket, replacing an earlier one. It does not allocate
    // yet (getTurnClient()->allocate()). Null when there is no transport.
    TurnClient *setTurnServer(const SockAddr &server, const TurnCredentials &credentials);
    TurnClient *getTurnClient() const { return _turnClient; }
    // Whether datagrams to peer go through the relay. A peer heard through the relay is marked by
    // itself: it is answered the way it came. Marks stay until cleared (a peer that is relayed does
    // not start getting direct datagrams because a relay hiccups).
    void setRelayedPeer(const SockAddr &peer, bool relayed = true);
    bool isRelayedPeer(const SockAddr &peer) const { return _relayedPeers.contains(peer); }
    void clearRelayedPeers() { _relayedPeers.clear(); }
    // At exit: ends the allocation (Refresh with LIFETIME 0) and runs the event loop until the
    // server confirmed or timeoutMs passed. Does nothing without an allocation.
    void releaseTurn(int timeoutMs = 1000);
    // Upper bound on peers marked as relayed (a relay only carries permitted IPs, but stay bounded).
    static constexpr int MaxRelayedPeers = 4096;

    // ---- ICE packets ----
    bool sendPacket(const NLDatagram &packet, const SockAddr &destination, int ttl = 0);
    // Upstream's forms: the bytes written (header included), or -1. hmacAuth is ignored (see HMACAuth).
    qint64 sendPacket(std::unique_ptr<NLPacket> packet, const SockAddr &sockAddr, HMACAuth *hmacAuth = nullptr);
    qint64 sendUnreliablePacket(const NLPacket &packet, const SockAddr &sockAddr, HMACAuth *hmacAuth = nullptr);
    // ICEServerQuery(clientID, our public, our local, peerID) to the ice-server (section 3.3).
    // Upstream returns nothing; the result here says whether the datagram left.
    bool sendPeerQueryToIceServer(const SockAddr &iceServerSockAddr, const QUuid &clientID, const QUuid &peerID);
    // The same with the sockets to announce given (e.g. a relayed address instead of ours).
    bool sendPeerQueryToIceServer(const SockAddr &iceServerSockAddr, const QUuid &clientID, const QUuid &peerID,
                                  const SockAddr &publicSocket, const SockAddr &localSocket);
    // ICEPing: our ICE ID and the ping type (section 3.5).
    static NLDatagram makeICEPingDatagram(PingType pingType, const QUuid &iceID);
    // ICEPingReply: the replier's own ID and the ping type copied from the ping (section 3.6).
    static NLDatagram makeICEPingReplyDatagram(const IcePing &ping, const QUuid &replierID);
    // The same from a received ICEPing; a malformed ping gives a packet with an empty payload.
    static NLDatagram makeICEPingReplyDatagram(const ReceivedMessage &message, const QUuid &replierID);
    // Upstream's forms of the two above, as NLPackets ready for sendPacket.
    static std::unique_ptr<NLPacket> constructICEPingPacket(PingType_t pingType, const QUuid &iceID);
    static std::unique_ptr<NLPacket> constructICEPingReplyPacket(ReceivedMessage &message, const QUuid &iceID);

    // ---- Connection step timings ----
    // When each step last happened, in ms since this object was made (upstream keys usec timestamps).
    QMap<ConnectionStep, qint64> getLastConnectionTimes() const { return _connectionTimes; }
    bool hasFlaggedConnectionStep(ConnectionStep step) const { return _connectionTimes.contains(step); }

public Q_SLOTS:
    // Starts (or restarts) discovery: the 250 ms series first, then the 10 s refresh.
    void startSTUNPublicSocketUpdate();
    // One STUN binding request (the STUN timer's tick; upstream's public slot).
    void sendSTUNRequest();
    // Recomputes the local socket; emits localSockAddrChanged when it moved.
    void updateLocalSocket();
    // Records that a connection step happened now (and logs it at debug level).
    void flagTimeForConnectionStep(LimitedNodeList::ConnectionStep connectionStep);

Q_SIGNALS:
    void publicSockAddrChanged(const SockAddr &publicSockAddr);
    void localSockAddrChanged(const SockAddr &localSockAddr);
    // The initial STUN series got no answer; the public socket is (null, local port).
    void stunFailed();
    // The initial STUN series ended, answered or not (connect this to wait for the public socket).
    void initialSTUNCompleted(bool succeeded);
    void stunServerLookupFailed(const QString &host, const QString &reason);
    // A fresh local port is in use (after rebindToFreshPort()).
    void transportRebound(quint16 port);
    void uuidChanged(const QUuid &ownerUUID, const QUuid &oldUUID);
    // A datagram from peer came through the relay for the first time (peer is now relayed).
    void relayedPeerHeard(const SockAddr &peer);

protected:
    // For NodeList's compatibility constructor only: a node list with no socket of its own, whose
    // sends fail and whose STUN never runs (the NodeList works through another LimitedNodeList).
    struct Detached {};
    LimitedNodeList(Detached, QObject *parent);

private:
    void init();
    void processDatagram(const QByteArray &datagram, const SockAddr &sender);
    void processRelayedDatagram(const QByteArray &payload, const SockAddr &peer);
    void processSTUNDatagram(const QByteArray &datagram, const SockAddr &sender);
    void handleStunLookup(const QHostInfo &info);
    void setPublicSockAddr(const SockAddr &socket);
    QHostAddress probeLocalAddress() const;

    UdpTransport *_transport = nullptr;
    bool _ownsTransport = false;
    QString _errorString;
    PacketReceiver _packetReceiver;
    PacketSender _packetSender;

    QPointer<TurnClient> _turnClient; // a child
    QSet<SockAddr> _relayedPeers;

    SockAddr _publicSockAddr;
    SockAddr _localSockAddr;
    QHostAddress _localProbeTarget;

    QString _stunHost;
    quint16 _stunPort = STUN_SERVER_DEFAULT_PORT;
    SockAddr _stunSockAddr;
    int _stunLookupID = -1;
    QTimer _stunTimer;
    QByteArray _stunTransactionID;
    int _numInitialSTUNRequests = 0;
    bool _stunRunning = false;
    bool _initialStunDone = false;
    bool _initialStunFailed = false;

    QUuid _sessionUUID;
    QElapsedTimer _age;
    QMap<ConnectionStep, qint64> _connectionTimes;
};
