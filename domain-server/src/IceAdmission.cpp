#include "IceAdmission.h"

#include "DomainServerLogging.h"

QHostAddress IceAdmission::targetAddress(const NetworkPeer &peer) {
    return peer.getPublicSocket().isNull() ? peer.getLocalSocket().getAddress() : peer.getPublicSocket().getAddress();
}

SockAddr IceAdmission::targetSocket(const NetworkPeer &peer) {
    return peer.getPublicSocket().isNull() ? peer.getLocalSocket() : peer.getPublicSocket();
}

bool IceAdmission::isTrustedRelay(const QHostAddress &address) const {
    for (const QHostAddress &relay : _limits.trustedRelays) {
        if (relay.isEqual(address, QHostAddress::TolerantConversion)) {
            return true;
        }
    }
    return false;
}

SockAddr IceAdmission::boundKey(const SockAddr &target) const {
    return SockAddr(target.getAddress(), isTrustedRelay(target.getAddress()) ? target.getPort() : 0);
}

IceAdmission::PeerDecision IceAdmission::decideNewPeer(int connectingAtTarget, int peers, int connectingPeers,
                                                       int connectingAtRelay) const {
    if (_limits.maxConnectingPeersPerTarget > 0 && connectingAtTarget >= _limits.maxConnectingPeersPerTarget) {
        return PeerDecision::RefusedPerTarget;
    }
    if (connectingAtRelay >= 0 && connectingAtRelay >= _limits.maxConnectingPeersPerRelay) {
        return PeerDecision::RefusedPerRelay;
    }
    if (peers >= _limits.maxIcePeers) {
        return connectingPeers > 0 ? PeerDecision::AdmitAfterEviction : PeerDecision::RefusedTableFull;
    }
    return PeerDecision::Admit;
}

bool IceAdmission::isCharged(PacketType type, PingType pingType, int ttl) {
    if (type == PacketType::ICEPingReply) {
        return false;
    }
    return pingType != PingType::Public || ttl <= 0 || ttl > MaxUnchargedPrimingTtl;
}

bool IceAdmission::chargeDatagram(PacketType type, PingType pingType, const SockAddr &target, int ttl) {
    if (!isCharged(type, pingType, ttl)) {
        return true;
    }
    const qint64 now = _clock.nowMs();
    if (_budgets.size() >= MaxTrackedBudgets) {
        for (auto it = _budgets.begin(); it != _budgets.end();) {
            it = now - it->windowStart >= _limits.pingWindowMs ? _budgets.erase(it) : std::next(it);
        }
    }
    const SockAddr key = boundKey(target);
    if (key.getPort() == 0) {
        return charge(key, _limits.maxPingsPerTarget, now);
    }
    // A relayed address: its own budget, and its relay's aggregate. Check both before charging
    // either, so a refused ping costs neither.
    const SockAddr relay(key.getAddress(), 0);
    if (budgetUsed(key) >= _limits.maxPingsPerTarget || budgetUsed(relay) >= _limits.maxPingsPerRelay) {
        return false;
    }
    return charge(relay, _limits.maxPingsPerRelay, now) && charge(key, _limits.maxPingsPerTarget, now);
}

bool IceAdmission::charge(const SockAddr &key, int limit, qint64 now) {
    Budget &budget = _budgets[key];
    if (budget.used == 0 || now - budget.windowStart >= _limits.pingWindowMs) {
        budget.windowStart = now;
        budget.used = 0;
    }
    if (budget.used >= limit) {
        return false;
    }
    ++budget.used;
    return true;
}

int IceAdmission::budgetUsed(const SockAddr &key) const {
    const auto it = _budgets.constFind(key);
    if (it == _budgets.constEnd() || _clock.nowMs() - it->windowStart >= _limits.pingWindowMs) {
        return 0;
    }
    return it->used;
}

void IceAdmission::rememberEarlyPing(const QUuid &id, PingType type, const SockAddr &sender) {
    const qint64 now = _clock.nowMs();
    if (_earlyPings.size() >= MaxEarlyPings) {
        for (auto it = _earlyPings.begin(); it != _earlyPings.end();) {
            it = now - it->atMs >= EarlyPingMemoryMs ? _earlyPings.erase(it) : std::next(it);
        }
        if (_earlyPings.size() >= MaxEarlyPings) {
            return;
        }
    }
    _earlyPings.insert(id, { sender, type, now });
}

bool IceAdmission::takeEarlyPing(const QUuid &id, EarlyPing *ping) {
    const auto it = _earlyPings.find(id);
    if (it == _earlyPings.end()) {
        return false;
    }
    const EarlyPing early = *it;
    _earlyPings.erase(it);
    if (_clock.nowMs() - early.atMs >= EarlyPingMemoryMs) {
        return false;
    }
    *ping = early;
    return true;
}

bool IceAdmission::logBound(const QString &what) {
    ++_boundHitsSinceLog;
    const qint64 now = _clock.nowMs();
    if (_boundLogged && now - _lastBoundLogMs < BoundLogIntervalMs) {
        return false;
    }
    qCWarning(domain_server_ice).noquote()
        << what << QStringLiteral("(%1 times since the last such message)").arg(_boundHitsSinceLog);
    _boundLogged = true;
    _lastBoundLogMs = now;
    _boundHitsSinceLog = 0;
    return true;
}
