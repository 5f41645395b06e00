// The ice-server role (Overte's IceServer, docs/protocol.md 4.2): keeps signed domain registrations and
// answers queries so a client and a domain learn each other's sockets. A QObject with its
// dependencies passed in: the transport it listens on, the key store, and (defaults for
// production) a monotonic clock and a crypto backend. Per datagram:
//   processDatagram -> per-source rate limit -> PacketReceiver (decode, version check; heartbeats
//   and queries reach their direct listeners as a view of the payload, no copy) ->
//   heartbeat (verify, replay rule in PeerTable, ACK/Denied) or query (two
//   ICEServerPeerInformation packets); STUN binding requests are answered on the same port.
// In cluster mode (setCluster) accepted heartbeats, expiries and queries the local table cannot
// answer also go to an IceServerCluster, which shares them with the other nodes.
// Several IceServers, one per thread and socket, may share one domain table and one rate limiter
// (IceServerShared; IceServerThreads runs them); each keeps its own counters.
#pragma once

#include "DomainKeyStore.h"
#include "IceServerSettings.h"
#include "IceServerStats.h"
#include "PeerTable.h"
#include "SourceRateLimiter.h"

#include <PacketReceiver.h>
#include <PacketSender.h>

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <functional>
#include <memory>

class CryptoBackend;
class IceServerCluster;
class UdpTransport;

// What IceServers on several threads share: the domain table (a heartbeat on one thread, the
// query for its domain on another) and the per-source limits. An IceServer alone makes its own.
struct IceServerShared {
    std::shared_ptr<PeerTable> peers;
    std::shared_ptr<SourceRateLimiter> rateLimiter;

    // threads > 1 shards the rate limiter so the workers rarely wait for each other.
    static IceServerShared create(const IceServerSettings &settings, int threads = 1);
};

class IceServer : public QObject {
    Q_OBJECT
public:
    // Milliseconds of a monotonic clock (monotonicMs() in production).
    using Clock = std::function<qint64()>;

    IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings = {},
              QObject *parent = nullptr);
    // crypto is not owned; nullptr or an empty clock take the production defaults.
    IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings, Clock clock,
              CryptoBackend *crypto, QObject *parent = nullptr);
    // One of several workers over shared state (see IceServerShared).
    IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings,
              const IceServerShared &shared, Clock clock, CryptoBackend *crypto, QObject *parent = nullptr);

    // Connects to the transport and starts the expiry sweep (none when sweepIntervalMs is 0: of
    // workers sharing a table, one sweeps).
    void start();

    // The datagram entry point (what the transport feeds, and what the fuzzer drives).
    void processDatagram(const QByteArray &datagram, const IpEndpoint &sender);
    // The receiver's direct listeners for ICEServerHeartbeat and ICEServerQuery.
    void processPacketView(const PacketReceiver::PacketView &packet);

    // Cluster mode: heartbeats, expiries and unanswered queries also go to cluster (not owned;
    // nullptr, the default, is a single node). Set before start().
    void setCluster(IceServerCluster *cluster) { _cluster = cluster; }
    // Finishes a query from the local table (the domain's record to the querier, the querier's to
    // the domain); false, counted as an unknown domain, when the table does not hold the domain.
    bool answerQuery(const QUuid &domainID, const QByteArray &querierRecord, const IpEndpoint &querier);
    // Finishes a query for a domain another node holds: its peer information (built from the
    // cluster's record) to the querier; the owning node introduces the querier to the domain.
    void answerForOtherNode(const QByteArray &domainInformation, const IpEndpoint &querier);
    // The other half, at the owning node: the querier's record to the domain's active socket.
    // False when this node no longer holds the domain.
    bool introduceQuerier(const QUuid &domainID, const QByteArray &querierRecord);

    const PeerTable &peers() const { return _peers; }
    const IceServerSettings &settings() const { return _settings; }
    IceServerStats stats() const;
    // stats() in two halves: what this server counted (call on its thread), and what it shares
    // with other workers (the table, the limiter, the key store: call on the key store's thread).
    IceServerStats trafficStats() const;
    void addSharedStats(IceServerStats *stats) const;

public Q_SLOTS:
    // Drops domains silent longer than the peer timeout (run every sweepIntervalMs).
    void clearInactivePeers();

Q_SIGNALS:
    void peerRegistered(const QUuid &domainID);
    void peerRemoved(const QUuid &domainID);
    void peersExpired(int count);

private:
    void processHeartbeat(const QByteArray &payload, const IpEndpoint &sender);
    void processQuery(const QByteArray &payload, const IpEndpoint &sender);
    void processStun(const QByteArray &datagram, const IpEndpoint &sender);
    void send(PacketType type, const QByteArray &payload, const IpEndpoint &destination);
    void sendEncoded(QByteArray &datagram, const IpEndpoint &destination);
    void dropPeer(const QUuid &domainID);
    void announce(const QUuid &domainID, const DomainKeyStore::Lookup &key, qint64 now);

    UdpTransport *_transport;
    DomainKeyStore *_keys;
    Clock _clock;
    CryptoBackend *_crypto;
    IceServerSettings _settings;
    PacketReceiver _receiver;
    PacketSender _sender;
    // The empty answers, encoded once; the sender stamps each one's sequence number.
    QByteArray _ackDatagram;
    QByteArray _deniedDatagram;
    IceServerShared _shared;
    SourceRateLimiter &_rateLimiter;
    PeerTable &_peers;
    QTimer _sweepTimer;
    IceServerStats _counts; // the counters this class owns; stats() adds those of its parts
    IceServerCluster *_cluster = nullptr;
};
