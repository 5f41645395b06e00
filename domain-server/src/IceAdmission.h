// The domain's flood bounds for ICE (quirk Q5): what introductions naming addresses of a stranger's
// choosing can make the gatekeeper hold and send. It decides whether a new peer gets a slot, charges
// each ping to a budget per target IP address and time window, remembers pings that beat their
// introduction for a moment, and rate-limits the warnings a flood produces. DomainGatekeeper owns one
// and keeps the peer table; this class holds no peers, only counts and budgets, so every bound can
// be tested on its own with a driven clock.
//
// Every client relayed by one TURN server shares that server's IP. For the relays an operator
// trusts (Limits::trustedRelays), slots and budgets are therefore counted per relayed address (IP
// and port), and all of one relay's addresses together have larger aggregate bounds: a flood that
// claims a relay's IP takes at most the relay's share, never the whole table (docs/turn.md, "Bounds").
#pragma once

#include <IcePackets.h>
#include <MonotonicClock.h>
#include <NetworkPeer.h>
#include <PacketHeaders.h>

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QUuid>
#include <QtNetwork/QHostAddress>

class IceAdmission {
public:
    struct Limits {
        int maxIcePeers = 128;               // peers held at once, connecting or connected
        int maxConnectingPeersPerTarget = 4; // unconnected peers per public IP address; 0 = no bound
        int maxPingsPerTarget = 128;         // charged pings per target IP per window
        int pingWindowMs = 10 * 1000;
        // TURN servers whose relayed addresses are bounded one by one, with the per-target limits
        // above, and together by the two below.
        QList<QHostAddress> trustedRelays;
        int maxConnectingPeersPerRelay = 64; // unconnected peers at all relayed addresses of one relay
        int maxPingsPerRelay = 2048;         // charged pings to one relay's IP per window
    };

    // A ping that arrived before the ice-server's introduction of its sender (the client got its
    // peer information first and pinged at once).
    struct EarlyPing {
        SockAddr sender;
        PingType type = PingType::Agnostic;
        qint64 atMs = 0;
    };

    static constexpr int EarlyPingMemoryMs = 2000;
    static constexpr int MaxEarlyPings = 256;
    static constexpr int MaxTrackedBudgets = 4096;
    // A ping to a public socket with a TTL up to this dies at the first router past our own NAT: it
    // cannot reach a victim on the internet, so it is not charged. Anything larger may, and is.
    static constexpr int MaxUnchargedPrimingTtl = 2;
    static constexpr int BoundLogIntervalMs = 5000;

    enum class PeerDecision {
        Admit,
        AdmitAfterEviction, // the table is full: the oldest unconnected peer must go first
        RefusedPerTarget,   // maxConnectingPeersPerTarget unconnected peers already at that address
        RefusedPerRelay,    // maxConnectingPeersPerRelay unconnected peers already at that relay's IP
        RefusedTableFull,   // maxIcePeers held and every one of them connected
    };

    IceAdmission(const Limits &limits, const MonotonicClock &clock) : _limits(limits), _clock(clock) {}

    const Limits &limits() const { return _limits; }

    // The address a peer's pings are charged to and its slots counted at: its public socket's, or
    // the local one's when no public socket is known.
    static QHostAddress targetAddress(const NetworkPeer &peer);
    static SockAddr targetSocket(const NetworkPeer &peer);
    bool isTrustedRelay(const QHostAddress &address) const;
    // What slots and budgets are counted at for a datagram to, or a peer at, target: its IP
    // address (port 0), or the whole relayed address when the IP is a trusted relay's.
    SockAddr boundKey(const SockAddr &target) const;

    // A newly introduced peer: connectingAtTarget unconnected peers are already held at its bound
    // key; the table holds peers, of which connectingPeers are unconnected; when its target is a
    // trusted relay's address, connectingAtRelay are held at that relay's IP (-1: not relayed). A
    // flood naming one address fills only that address's slots, one claiming a relay's IP only the
    // relay's; a full table makes room by evicting, never a connected peer.
    PeerDecision decideNewPeer(int connectingAtTarget, int peers, int connectingPeers,
                               int connectingAtRelay = -1) const;

    // Whether this datagram counts against its target's budget. Replies answer one ping that came
    // from that very socket for a known peer (one for one, no amplification): free. A priming ping
    // to a public socket expires before reaching anyone: free. Pings to a "local" socket can reach
    // our own LAN whatever their TTL: charged.
    static bool isCharged(PacketType type, PingType pingType, int ttl);
    // Charges the datagram if it counts; false when the target's budget for this window is spent.
    bool chargeDatagram(PacketType type, PingType pingType, const SockAddr &target, int ttl);
    // Pings charged to an address in its current window (0 once the window has passed): for a
    // trusted relay's IP, to all of its relayed addresses together.
    int budgetUsed(const QHostAddress &address) const { return budgetUsed(SockAddr(address, 0)); }
    // Pings charged to a bound key (boundKey()) in its current window.
    int budgetUsed(const SockAddr &key) const;

    // Remembers a ping from an unknown ID for EarlyPingMemoryMs (at most MaxEarlyPings at once:
    // beyond that, a flood of unknown IDs is not remembered; answering early is an optimisation).
    void rememberEarlyPing(const QUuid &id, PingType type, const SockAddr &sender);
    // Forgets the ping remembered for id; true (and *ping set) when it is still fresh.
    bool takeEarlyPing(const QUuid &id, EarlyPing *ping);
    int earlyPingCount() const { return int(_earlyPings.size()); }

    // A bound bit: logs what as a warning, at most once per BoundLogIntervalMs with the number of
    // hits since the last message. True when it logged.
    bool logBound(const QString &what);

private:
    Limits _limits;
    const MonotonicClock &_clock;

    struct Budget {
        qint64 windowStart = 0;
        int used = 0;
    };
    // True, and one ping charged, when key's budget of limit per window is not spent.
    bool charge(const SockAddr &key, int limit, qint64 now);

    QHash<SockAddr, Budget> _budgets; // by bound key; a relay's aggregate at (relay IP, 0)
    QHash<QUuid, EarlyPing> _earlyPings;
    bool _boundLogged = false;
    qint64 _lastBoundLogMs = 0;
    quint64 _boundHitsSinceLog = 0;
};

Q_DECLARE_METATYPE(IceAdmission::PeerDecision)
