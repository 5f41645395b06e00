// The domain's side of the ping-punch (docs/protocol.md 4.4): for every client the ice-server introduces it
// sends punch rounds (PunchRound: the client's local and public sockets, and the source its pings
// really come from) for 2 s, timed by PunchTiming, answers pings only from peers it knows, and
// activates the socket a reply arrives from. The first rounds are "priming" rounds sent at once with a
// small IP TTL (docs/design.md, "Linux NATs and the first packet").
//
// Unlike upstream: a known peer's sockets are refreshed by a new introduction (Q13); introductions
// are taken only from our ice-server; a connected peer is kept until it falls silent, so keepalive
// pings over the punched path are answered; and what one query can make the domain send is bounded
// (Q5): IceAdmission holds those bounds (peer slots per address and in all, ping budgets per
// target address). Timers and timestamps run on an injectable MonotonicClock.
//
// Upstream's public shapes sit beside ours: a constructor a host calls with its node list and domain
// ID, pingPunchForConnectingPeer(SharedNetworkPeer), handlePeerPingTimeout() and
// cleanupICEPeerForNode(). They act on the peers this gatekeeper was introduced to, by UUID.
#pragma once

#include "IceAdmission.h"

#include <IcePackets.h>
#include <MonotonicClock.h>
#include <NetworkPeer.h>
#include <PunchRound.h>
#include <PunchTiming.h>
#include <PunchTtlSchedule.h>
#include <ReceivedMessage.h>

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QUuid>

#include <functional>
#include <memory>

class LimitedNodeList;
class PacketReceiver;
class PacketSender;

class DomainGatekeeper : public QObject {
    Q_OBJECT
public:
    struct Options {
        // IP TTL of each punch round's pings, in round order; rounds past the list use the system
        // default. Empty (or 0 entries) disables priming. NATs in front of us + 1: the default fits
        // one NAT; behind carrier-grade NAT an operator sets 3,3 (see PunchTtlSchedule.h).
        PunchTtlSchedule punchTtls = PunchTtlSchedule::defaultSchedule();
        // When the rounds go out; the peer is dropped when its attempt ends (upstream: 8 x 250 ms).
        // We know no round trip to the client, so retries back off from the minimum gap.
        PunchTiming::Params punchTiming;
        int maxIcePeers = 128;               // peers held at once, connecting or connected
        int maxConnectingPeersPerTarget = 4; // unconnected peers held at once per public IP address
        int maxPingsPerTarget = 128;         // pings per target IP per window (replies to pings are 1:1, free)
        int pingWindowMs = 10 * 1000;
        int connectedPeerTimeoutMs = 30 * 1000; // a connected peer silent this long is forgotten
        // TURN servers whose relayed clients are bounded per relayed address (IP and port), and
        // together by the two bounds below (IceAdmission, docs/turn.md "Bounds").
        QList<QHostAddress> trustedRelays;
        int maxConnectingPeersPerRelay = 64;
        int maxPingsPerRelay = 2048; // per pingWindowMs
    };

    struct Counters {
        quint64 peerInformationReceived = 0;
        quint64 peerInformationIgnored = 0; // malformed, about ourselves, or not from our ice-server
        quint64 peersAdded = 0;
        quint64 peersRefreshed = 0;
        quint64 peersRejected = 0;          // a bound bit: maxIcePeers (all connected) or per target
        quint64 peersRejectedPerTarget = 0; // of those, the per-address (or per-relay) bound
        quint64 peersEvicted = 0;           // unconnected peers dropped to make room for a new one
        quint64 pingsSent = 0;
        quint64 pingRepliesSent = 0;
        quint64 datagramsSuppressed = 0; // the maxPingsPerTarget bound bit
        quint64 pingsFromUnknownPeers = 0;
        quint64 earlyPingsAnswered = 0; // pings that beat their introduction, answered on it
        quint64 peersConnected = 0;
        quint64 peersConnectedViaRelay = 0; // through our relay, or at a trusted relay's address
        quint64 peersGaveUp = 0;            // all rounds sent, no reply
        quint64 peersExpired = 0;           // connected, then silent
    };

    enum class RemovalReason { NoReply, Silent, Removed, Evicted };
    Q_ENUM(RemovalReason)

    // Punch timers and timestamps run on clock; the system clock unless given one (tests), which
    // must outlive the gatekeeper.
    DomainGatekeeper(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver, const Options &options,
                     MonotonicClock &clock, QObject *parent = nullptr);
    DomainGatekeeper(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver, const Options &options,
                     QObject *parent = nullptr)
        : DomainGatekeeper(domainID, sender, receiver, options, MonotonicClock::system(), parent) {}
    DomainGatekeeper(const QUuid &domainID, PacketSender *sender, PacketReceiver *receiver, QObject *parent = nullptr)
        : DomainGatekeeper(domainID, sender, receiver, Options(), parent) {}
    // What a host domain server writes (upstream's takes the DomainServer; ours needs only what the
    // gatekeeper uses of it): sends through nodeList and registers its ICE handlers on its receiver.
    DomainGatekeeper(LimitedNodeList *nodeList, const QUuid &domainID, QObject *parent = nullptr);
    ~DomainGatekeeper() override;

    // Introductions (ICEServerPeerInformation) are taken only from senders this accepts; without a
    // filter, from anyone (component tests).
    void setIceServerFilter(std::function<bool(const SockAddr &)> filter) { _iceServerFilter = std::move(filter); }
    // Says whether datagrams to a socket go through our own TURN relay (counted as relayed peers).
    void setRelayedPathFilter(std::function<bool(const SockAddr &)> filter) { _relayedPath = std::move(filter); }
    // Whether a peer connected at socket is relayed: by our relay, or by a trusted one of its own.
    bool isRelayedPath(const SockAddr &socket) const;

    const Options &options() const { return _options; }
    const Counters &counters() const { return _counters; }
    int icePeerCount() const { return int(_peers.size()); }
    bool hasIcePeer(const QUuid &peerID) const { return _peers.contains(peerID); }
    // A copy of what is known about a peer (a default NetworkPeer when unknown).
    NetworkPeer icePeer(const QUuid &peerID) const;
    bool isConnected(const QUuid &peerID) const;

    // The same handlers in the form PacketReceiver::makeSourcedListenerReference() takes. An ICE
    // packet comes from a peer that is not a node yet, so the node is always null and not used.
    void processICEPeerInformationPacket(QSharedPointer<ReceivedMessage> message, SharedNodePointer) {
        processICEPeerInformationPacket(std::move(message));
    }
    void processICEPingPacket(QSharedPointer<ReceivedMessage> message, SharedNodePointer) {
        processICEPingPacket(std::move(message));
    }
    void processICEPingReplyPacket(QSharedPointer<ReceivedMessage> message, SharedNodePointer) {
        processICEPingReplyPacket(std::move(message));
    }

public Q_SLOTS:
    void processICEPeerInformationPacket(ReceivedMessagePointer message);
    void processICEPingPacket(ReceivedMessagePointer message);
    void processICEPingReplyPacket(ReceivedMessagePointer message);
    // The next punch round for a connecting peer; once its attempt is over the peer is dropped.
    void pingPunchForConnectingPeer(const QUuid &peerID);
    // Upstream's form: one punch round for the peer with that UUID, if we were introduced to it (our
    // own record's sockets are pinged: an introduction from the ice-server is the only source).
    void pingPunchForConnectingPeer(const SharedNetworkPeer &peer);
    // Upstream's ping timer slot: connect a NetworkPeer's pingTimerTimeout() to it; the peer is
    // sender(). Our own peers run their rounds on internal timers and do not need it.
    void handlePeerPingTimeout();
    // The host made a node of this peer: forget the ICE peer (its punch stops, and pings from it are
    // no longer answered here; the node owns the path now).
    void cleanupICEPeerForNode(const QUuid &nodeID);
    void removeICEPeer(const QUuid &peerID);

Q_SIGNALS:
    // A peer was introduced (new or again), just before its punch starts: a relaying domain opens
    // its relay to the peer here.
    void peerIntroduced(const QUuid &peerID, const SockAddr &publicSocket, const SockAddr &localSocket);
    void peerConnected(const QUuid &peerID, const SockAddr &socket);
    void icePeerRemoved(const QUuid &peerID, DomainGatekeeper::RemovalReason reason);
    // A bound bit (for metrics and tests); the log line is rate-limited, this is not.
    void peerRejected(const QUuid &peerID);
    void datagramSuppressed(const SockAddr &target);

private:
    struct PeerState {
        NetworkPeer peer;
        std::unique_ptr<ClockTimer> pingTimer; // single-shot, set to the next round
        PunchTiming timing;                    // this attempt's rounds
        bool connected = false;
        qint64 lastHeardMs = 0;
        qint64 introducedAtMs = 0; // first or latest introduction (eviction order)
    };

    void admitNewPeer(const NetworkPeer &incoming);
    int connectingPeersAt(const SockAddr &boundKey) const;
    int connectingPeersAtRelay(const QHostAddress &relay) const;
    int connectingPeerCount() const;
    bool evictOldestConnectingPeer();
    void answerPing(PeerState &state, PingType type, const SockAddr &sender);
    bool sendIcePacket(PacketType type, PingType pingType, const SockAddr &target, int ttl);
    void startPunch(PeerState &state);
    void sweepConnectedPeers();
    void removePeer(const QUuid &peerID, RemovalReason reason);

    QUuid _domainID;
    PacketSender *_sender;
    Options _options;
    MonotonicClock &_clock;
    IceAdmission _admission;
    Counters _counters;
    std::function<bool(const SockAddr &)> _iceServerFilter;
    std::function<bool(const SockAddr &)> _relayedPath;
    QHash<QUuid, std::shared_ptr<PeerState>> _peers;
    ClockTimer *_sweepTimer; // a child of this
};
