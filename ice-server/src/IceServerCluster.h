// What an IceServer tells the cluster and asks of it (docs/cluster.md), as a small interface so the
// server knows nothing about Redis: without a cluster the pointer is null and every hook is one
// branch. Every call comes from the server's thread and must return at once (no blocking I/O);
// ClusterLink implements it on top of ClusterRegistry.
#pragma once

#include "DomainKeyStore.h"
#include "PeerTable.h"

class IceServer;

class IceServerCluster {
public:
    virtual ~IceServerCluster() = default;

    // A verified heartbeat was accepted for the domain (registered, refreshed, moved, or the repeat
    // fast path): peer is its record in the local table now, key the key that verified it.
    virtual void domainHeard(const PeerTable::Peer &peer, const DomainKeyStore::Lookup &key, qint64 nowMs) = 0;
    // The domain left the local table (silent past the peer timeout, or its key was revoked).
    virtual void domainDropped(const QUuid &domainID) = 0;
    // Whether a query for a domain the local table holds may be answered from it: false when
    // another live node holds the domain (this node's record came from a replay or a domain that
    // is moving), so the owner's record wins.
    virtual bool answerLocally(const QUuid &domainID) const = 0;
    // A query the local table does not answer. querierRecord is the querier's peer information and
    // may be a view into the datagram: copy it before returning. The implementation finishes the
    // query through server->answerQuery() or server->answerForOtherNode(), possibly later.
    virtual void resolveQuery(IceServer *server, const QUuid &domainID, const QByteArray &querierRecord,
                              const IpEndpoint &querier, qint64 nowMs) = 0;
};
