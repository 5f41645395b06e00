// The domains the ice-server knows: one record per domain ID with the sockets its last accepted
// heartbeat reported, the observed (active) socket peer information is sent to, and what is needed
// to skip the RSA verify of a heartbeat already verified. Bounded by maxDomains.
//
// A heartbeat whose public socket is null (sent before the domain's STUN answered, or after it
// failed) is recorded, and announced to queriers, with its observed sender as the public socket:
// the mapping STUN would have reported (docs/protocol.md Q2). The replay rule below still looks
// only at what the heartbeat itself reports.
//
// The replay rule (docs/protocol.md quirk Q3). A heartbeat's signature covers only "ID | public | local":
// no time, no nonce. Anyone who captured one can resend it from anywhere, and upstream then moves
// the domain's active socket to the sender, so peer information (client addresses) goes to the
// attacker. Here a verified heartbeat changes the record only when one of these holds:
//   (a) the domain has no record yet (first registration, or after expiry);
//   (b) it comes from the active socket (the usual case, every second);
//   (c) its source IP equals the IP of the public or local socket the heartbeat itself reports:
//       a genuine domain whose NAT mapping changed, or one behind a symmetric NAT whose observed
//       port differs from the STUN-reported one, moves at once (the IP is what STUN saw);
//   (d) the active socket has been silent for takeoverSilenceMs (default: half the peer timeout):
//       a domain that moved to an address it does not report (e.g. STUN failed) is back after a
//       short gap, while a live domain, heartbeating every second, can never be taken over.
// Anything else is "ignored": the heartbeat is valid but moves nothing and refreshes nothing.
// What this cannot stop: a replay from the domain's own public IP (same NAT), or one sent while
// the domain is down (no nonce exists to tell old from new). Both need the attacker on the path.
//
// Threads: every method may be called from any thread. The table is split into shards by domain
// ID, each with its own mutex held only for the one call, so ice-server workers on several
// threads meet in one table (a heartbeat on one thread, the query for that domain on another)
// without waiting on each other unless they touch the same shard at the same instant.
#pragma once

#include <IcePackets.h>

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMutex>

#include <array>
#include <atomic>
#include <optional>

class PeerTable {
public:
    struct Peer {
        NetworkPeer peer;           // ID, public (reported; observed if null), local, which is active
        QByteArray peerInformation; // the ICEServerPeerInformation payload queriers get
        // The last accepted heartbeat payload (an owned copy). Compared byte for byte: cheaper
        // than hashing every heartbeat, and no collision can ever be forged.
        QByteArray heartbeat;
        quint64 keySerial = 0;  // the key that verified it
        qint64 lastHeardMs = 0; // last accepted heartbeat
    };

    enum class Decision : quint8 {
        Registered, // (a) new record
        Refreshed,  // (b) from the active socket
        Moved,      // (c) or (d): the active socket moved to the sender
        Ignored,    // valid, but neither (a)-(d): a replay from elsewhere while the domain is live
        TableFull   // a new domain while maxDomains are registered
    };

    // What a query needs of a domain, copied out of the table.
    struct Route {
        IpEndpoint activeSocket;    // where the querier's record goes
        QByteArray peerInformation; // what the querier gets
    };

    // A power of two; 64 keeps two threads apart almost always, and sixteen mostly.
    static constexpr int ShardCount = 64;

    PeerTable(int maxDomains, int takeoverSilenceMs) : _maxDomains(maxDomains), _takeoverSilenceMs(takeoverSilenceMs) {}

    // A copy of the domain's record (tests, diagnostics); the hot path uses route().
    std::optional<Peer> find(const QUuid &id) const;
    // False when the domain is unknown or has no active socket yet.
    bool route(const QUuid &id, Route *route) const;
    int size() const { return _size.load(std::memory_order_relaxed); }

    // True when this exact heartbeat payload was accepted for the domain under the key with this
    // serial: its signature is known to be good, whoever resends it.
    bool isKnownGood(const QUuid &id, const QByteArray &payload, quint64 keySerial) const;

    // The steady state, every second per domain: the payload is byte-identical to the one last
    // accepted for its domain, comes from the domain's active socket, and keySerial is still the key
    // that verified it. Then the only effect of the full path (decode, verify-cache hit,
    // applyVerifiedHeartbeat: Refreshed, same content) is the new lastHeard: this sets it and
    // returns true, in one lock and one lookup. False (nothing changed) sends the caller down the
    // full path.
    bool refreshRepeat(const QUuid &id, const QByteArray &payload, const IpEndpoint &sender, quint64 keySerial,
                       qint64 nowMs);

    // Applies the replay rule above to a heartbeat whose signature is good; payload is its bytes.
    Decision applyVerifiedHeartbeat(const IceServerHeartbeat &heartbeat, const IpEndpoint &sender,
                                    const QByteArray &payload, quint64 keySerial, qint64 nowMs);

    // Drops domains silent longer than timeoutMs; returns how many, and appends their IDs to
    // removedIDs when given.
    int expire(qint64 nowMs, qint64 timeoutMs, QList<QUuid> *removedIDs = nullptr);
    bool remove(const QUuid &id);

private:
    struct alignas(64) Shard { // one cache line each, so two threads' locks do not share one
        mutable QMutex mutex;
        QHash<QUuid, Peer> peers;
    };
    Shard &shardFor(const QUuid &id) const { return _shards[qHash(id) & (ShardCount - 1)]; }

    mutable std::array<Shard, ShardCount> _shards;
    std::atomic<int> _size { 0 };
    int _maxDomains;
    int _takeoverSilenceMs;
};

const char *decisionName(PeerTable::Decision decision);
