#include "PeerTable.h"

#include <QtCore/QCryptographicHash>

#include <cstring>

namespace {
bool sameIp(const SockAddr &a, const SockAddr &b) {
    return !a.isNull() && !b.isNull() && a.getAddress().isEqual(b.getAddress(), QHostAddress::TolerantConversion);
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

PeerTable::Digest PeerTable::digestOf(const QByteArray &payload) {
    Digest digest {};
    const QByteArray hash = QCryptographicHash::hash(payload, QCryptographicHash::Sha256);
    std::memcpy(digest.data(), hash.constData(), digest.size());
    return digest;
}

const PeerTable::Peer *PeerTable::find(const QUuid &id) const {
    auto it = _peers.constFind(id);
    return it == _peers.constEnd() ? nullptr : &it.value();
}

bool PeerTable::isKnownGood(const QUuid &id, const Digest &digest, quint64 keySerial) const {
    const Peer *peer = find(id);
    return peer && peer->keySerial == keySerial && peer->heartbeatDigest == digest;
}

PeerTable::Decision PeerTable::applyVerifiedHeartbeat(const IceServerHeartbeat &heartbeat, const SockAddr &sender,
                                                      const Digest &digest, quint64 keySerial, qint64 nowMs) {
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
    if (decision != Decision::Refreshed || peer.heartbeatDigest != digest) {
        // New content (or a new record): store the reported sockets and re-encode what queriers get.
        peer.peer.setPublicSocket(heartbeat.publicSocket);
        peer.peer.setLocalSocket(heartbeat.localSocket);
        peer.peerInformation = peer.peer.toByteArray();
    }
    if (decision != Decision::Refreshed || !peer.peer.getActiveSocket()) {
        peer.peer.activateMatchingOrNewSymmetricSocket(sender);
    }
    peer.heartbeatDigest = digest;
    peer.keySerial = keySerial;
    peer.lastHeardMs = nowMs;
    return decision;
}

int PeerTable::expire(qint64 nowMs, qint64 timeoutMs) {
    int removed = 0;
    for (auto it = _peers.begin(); it != _peers.end();) {
        if (nowMs - it->lastHeardMs > timeoutMs) {
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
