#include "PeerTable.h"

namespace {
bool sameIp(const SockAddr &a, const SockAddr &b) {
    return !a.isNull() && !b.isNull() && a.getAddress().isEqual(b.getAddress(), QHostAddress::TolerantConversion);
}

bool isRepeat(const PeerTable::Peer &peer, const QByteArray &payload, const SockAddr &sender) {
    const SockAddr *active = peer.peer.getActiveSocket();
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

const PeerTable::Peer *PeerTable::find(const QUuid &id) const {
    auto it = _peers.constFind(id);
    return it == _peers.constEnd() ? nullptr : &it.value();
}

bool PeerTable::isKnownGood(const QUuid &id, const QByteArray &payload, quint64 keySerial) const {
    const Peer *peer = find(id);
    return peer && peer->keySerial == keySerial && peer->heartbeat == payload;
}

bool PeerTable::isRepeatFromActive(const QUuid &id, const QByteArray &payload, const SockAddr &sender) const {
    const Peer *peer = find(id);
    return peer && isRepeat(*peer, payload, sender);
}

bool PeerTable::refreshRepeat(const QUuid &id, const QByteArray &payload, const SockAddr &sender, quint64 keySerial,
                              qint64 nowMs) {
    auto it = _peers.find(id);
    if (it == _peers.end() || it->keySerial != keySerial || !isRepeat(*it, payload, sender)) {
        return false;
    }
    it->lastHeardMs = nowMs;
    return true;
}

PeerTable::Decision PeerTable::applyVerifiedHeartbeat(const IceServerHeartbeat &heartbeat, const SockAddr &sender,
                                                      const QByteArray &payload, quint64 keySerial, qint64 nowMs) {
    auto it = _peers.find(heartbeat.domainID);
    Decision decision;
    if (it == _peers.end()) {
        if (int(_peers.size()) >= _maxDomains) {
            return Decision::TableFull;
        }
        it = _peers.insert(heartbeat.domainID, Peer());
        it->peer.setUUID(heartbeat.domainID);
        decision = Decision::Registered;
    } else {
        const SockAddr *active = it->peer.getActiveSocket();
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
        peer.peer.setPublicSocket(heartbeat.publicSocket);
        peer.peer.setLocalSocket(heartbeat.localSocket);
        peer.peerInformation = peer.peer.toByteArray();
    }
    if (decision != Decision::Refreshed || !peer.peer.getActiveSocket()) {
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
    for (auto it = _peers.begin(); it != _peers.end();) {
        if (nowMs - it->lastHeardMs > timeoutMs) {
            if (removedIDs) {
                removedIDs->append(it.key());
            }
            it = _peers.erase(it);
            ++removed;
        } else {
            ++it;
        }
    }
    return removed;
}

bool PeerTable::remove(const QUuid &id) {
    return _peers.remove(id) > 0;
}
