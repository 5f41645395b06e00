#include "PeerTable.h"

namespace {
bool sameIp(const IpEndpoint &a, const IpEndpoint &b) {
    return !a.isNull() && !b.isNull() && a.getAddress().isEqual(b.getAddress(), QHostAddress::TolerantConversion);
}

bool isRepeat(const PeerTable::Peer &peer, const QByteArray &payload, const IpEndpoint &sender) {
    const IpEndpoint *active = peer.peer.activeEndpoint();
    return active && *active == sender && peer.heartbeat == payload;
}
} // namespace

const char *decisionName(PeerTable::Decision decision) {
    switch (decision) {
    case PeerTable::Decision::Registered: return "registered";
    case PeerTable::Decision::Refreshed: return "refreshed";
    case PeerTable::Decision::Moved: return "moved";
    case PeerTable::Decision::Ignored: return "ignored";
    case PeerTable::Decision::TableFull: return "table_full";
    }
    return "?";
}

std::optional<PeerTable::Peer> PeerTable::find(const QUuid &id) const {
    const Shard &shard = shardFor(id);
    QMutexLocker lock(&shard.mutex);
    auto it = shard.peers.constFind(id);
    return it == shard.peers.constEnd() ? std::nullopt : std::optional<Peer>(it.value());
}

bool PeerTable::route(const QUuid &id, Route *route) const {
    const Shard &shard = shardFor(id);
    QMutexLocker lock(&shard.mutex);
    auto it = shard.peers.constFind(id);
    const IpEndpoint *active = it == shard.peers.constEnd() ? nullptr : it->peer.activeEndpoint();
    if (!active) {
        return false;
    }
    route->activeSocket = *active;
    route->peerInformation = it->peerInformation;
    return true;
}

bool PeerTable::isKnownGood(const QUuid &id, const QByteArray &payload, quint64 keySerial) const {
    const Shard &shard = shardFor(id);
    QMutexLocker lock(&shard.mutex);
    auto it = shard.peers.constFind(id);
    return it != shard.peers.constEnd() && it->keySerial == keySerial && it->heartbeat == payload;
}

bool PeerTable::refreshRepeat(const QUuid &id, const QByteArray &payload, const IpEndpoint &sender, quint64 keySerial,
                              qint64 nowMs) {
    Shard &shard = shardFor(id);
    QMutexLocker lock(&shard.mutex);
    auto it = shard.peers.find(id);
    if (it == shard.peers.end() || it->keySerial != keySerial || !isRepeat(*it, payload, sender)) {
        return false;
    }
    it->lastHeardMs = nowMs;
    return true;
}

PeerTable::Decision PeerTable::applyVerifiedHeartbeat(const IceServerHeartbeat &heartbeat, const IpEndpoint &sender,
                                                      const QByteArray &payload, quint64 keySerial, qint64 nowMs) {
    Shard &shard = shardFor(heartbeat.domainID);
    QMutexLocker lock(&shard.mutex);
    auto it = shard.peers.find(heartbeat.domainID);
    Decision decision;
    if (it == shard.peers.end()) {
        // Claim a place first, so threads registering in different shards never overshoot.
        if (_size.fetch_add(1, std::memory_order_relaxed) >= _maxDomains) {
            _size.fetch_sub(1, std::memory_order_relaxed);
            return Decision::TableFull;
        }
        it = shard.peers.insert(heartbeat.domainID, Peer());
        it->peer.setUUID(heartbeat.domainID);
        decision = Decision::Registered;
    } else {
        const IpEndpoint *active = it->peer.activeEndpoint();
        if (active && *active == sender) {
            decision = Decision::Refreshed;
        } else if (sameIp(sender, heartbeat.publicSocket) || sameIp(sender, heartbeat.localSocket)
                   || nowMs - it->lastHeardMs >= _takeoverSilenceMs) {
            decision = Decision::Moved;
        } else {
            return Decision::Ignored;
        }
    }

    Peer &peer = it.value();
    if (decision != Decision::Refreshed || peer.heartbeat != payload) {
        // New content (or a new record): store the reported sockets and re-encode what queriers get.
        // A null public socket (the domain's STUN has not answered yet, or failed) would leave
        // queriers only its LAN address; where its heartbeats come from is what STUN would have
        // told it, so that is announced instead. The sender is the active socket from here on.
        peer.peer.setPublicSocket(heartbeat.publicSocket.isNull() ? sender : heartbeat.publicSocket);
        peer.peer.setLocalSocket(heartbeat.localSocket);
        peer.peerInformation = peer.peer.toByteArray();
    }
    if (decision != Decision::Refreshed || !peer.peer.activeEndpoint()) {
        peer.peer.activateMatchingOrNewSymmetricSocket(sender);
    }
    if (peer.heartbeat != payload) {
        // A deep copy: the caller's payload may be a view into a datagram buffer.
        peer.heartbeat = QByteArray(payload.constData(), payload.size());
    }
    peer.keySerial = keySerial;
    peer.lastHeardMs = nowMs;
    return decision;
}

int PeerTable::expire(qint64 nowMs, qint64 timeoutMs, QList<QUuid> *removedIDs) {
    int removed = 0;
    for (Shard &shard : _shards) { // one shard locked at a time: workers wait at most one shard's sweep
        QMutexLocker lock(&shard.mutex);
        for (auto it = shard.peers.begin(); it != shard.peers.end();) {
            if (nowMs - it->lastHeardMs > timeoutMs) {
                if (removedIDs) {
                    removedIDs->append(it.key());
                }
                it = shard.peers.erase(it);
                ++removed;
            } else {
                ++it;
            }
        }
    }
    _size.fetch_sub(removed, std::memory_order_relaxed);
    return removed;
}

bool PeerTable::remove(const QUuid &id) {
    Shard &shard = shardFor(id);
    QMutexLocker lock(&shard.mutex);
    if (shard.peers.remove(id) == 0) {
        return false;
    }
    _size.fetch_sub(1, std::memory_order_relaxed);
    return true;
}
