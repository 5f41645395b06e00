// Joins an IceServer to the cluster: implements the server's IceServerCluster hooks on top of a
// ClusterRegistry. Verified heartbeats become publishes (with a key fingerprint every node computes
// alike), expiries become unpublishes, a query the local table cannot answer becomes a lookup
// (answered with the owner's record) plus an introduction forwarded to the owning node, and an
// introduction arriving here is checked and sent to the domain from this node's socket.
//
// One link, one registry, on the thread that runs the registry's event loop. Several servers may be
// attached (they share one peer table); an introduction is sent through the first one.
#pragma once

#include "ClusterRegistry.h"
#include "IceServerCluster.h"

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QPointer>

// What a querier's node forwards to the domain's owning node:
//   01 | domain UUID (16 bytes) | the querier's peer information (NetworkPeer wire form)
struct ClusterIntroduction {
    static constexpr quint8 kFormat = 1;

    QUuid domainId;
    QByteArray querierRecord;

    QByteArray encode() const;
    // Strict: the format byte, a non-null domain and a querier record that decodes completely.
    bool decode(const QByteArray &bytes, QString *why = nullptr);
};

class ClusterLink : public QObject, public IceServerCluster {
    Q_OBJECT
public:
    struct Counters {
        quint64 crossNodeAnswers = 0;       // queries answered from another node's record
        quint64 introductionsSent = 0;      // forwarded to the owning node
        quint64 introductionsDelivered = 0; // received and sent on to a domain held here
        quint64 introductionsStale = 0;     // received for a domain no longer held here
        quint64 introductionsMalformed = 0;
    };

    // For /status and /metrics: a copy, with the URL already redacted.
    struct Status {
        QString nodeId;
        QString redis; // RedisUrl::redacted()
        bool healthy = false;
        QString state;  // connected, connecting, down
        QString reason; // why not healthy
        int ownedDomains = 0;
        ClusterRegistry::Counters registry;
        Counters link;
    };

    // Neither is owned; the registry must outlive the link's use.
    explicit ClusterLink(ClusterRegistry *registry, QObject *parent = nullptr);
    ~ClusterLink() override;

    // Hooks server into the cluster (server->setCluster(this)).
    void attach(IceServer *server);

    // The first 8 bytes of SHA-256 over the key's SubjectPublicKeyInfo DER: the same key gives the
    // same bytes at every node (the key serial is only meaningful inside one process).
    static QByteArray fingerprint(const RsaPublicKey &key);

    const Counters &counters() const { return _counters; }
    Status status() const;
    ClusterRegistry *registry() const { return _registry; }

    // IceServerCluster
    void domainHeard(const PeerTable::Peer &peer, const DomainKeyStore::Lookup &key, qint64 nowMs) override;
    void domainDropped(const QUuid &domainID) override;
    bool answerLocally(const QUuid &domainID) const override;
    void resolveQuery(IceServer *server, const QUuid &domainID, const QByteArray &querierRecord,
                      const IpEndpoint &querier, qint64 nowMs) override;

private:
    struct Fingerprint {
        quint64 keySerial = 0;
        QByteArray bytes;
    };
    void introductionReceived(const QString &fromNode, const QByteArray &payload);

    ClusterRegistry *_registry;
    QList<QPointer<IceServer>> _servers;
    // Per domain, the fingerprint of the key that last verified it: computed once per key, not per
    // heartbeat.
    QHash<QUuid, Fingerprint> _fingerprints;
    Counters _counters;
};
