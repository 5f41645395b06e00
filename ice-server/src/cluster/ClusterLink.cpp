#include "ClusterLink.h"

#include "ClusterLogging.h"
#include "IceServer.h"

#include <NetworkPeer.h>

#include <QtCore/QCryptographicHash>

QByteArray ClusterIntroduction::encode() const {
    QByteArray out;
    out.reserve(1 + 16 + querierRecord.size());
    out.append(char(kFormat));
    out.append(domainId.toRfc4122());
    out.append(querierRecord);
    return out;
}

bool ClusterIntroduction::decode(const QByteArray &bytes, QString *why) {
    const auto fail = [why](const QString &reason) {
        if (why) {
            *why = reason;
        }
        return false;
    };
    if (bytes.size() < 1 + 16) {
        return fail(QStringLiteral("introduction of %1 bytes is too short").arg(bytes.size()));
    }
    if (quint8(bytes.at(0)) != kFormat) {
        return fail(QStringLiteral("introduction format %1 is not known").arg(quint8(bytes.at(0))));
    }
    const QUuid id = QUuid::fromRfc4122(bytes.mid(1, 16));
    if (id.isNull()) {
        return fail(QStringLiteral("introduction for the null domain"));
    }
    const QByteArray record = bytes.mid(1 + 16);
    const Decoded<NetworkPeer> peer = NetworkPeer::fromByteArray(record);
    if (!peer.ok()) {
        return fail(QStringLiteral("querier record: %1").arg(wireErrorString(peer.error)));
    }
    domainId = id;
    querierRecord = record;
    return true;
}

ClusterLink::ClusterLink(ClusterRegistry *registry, QObject *parent) : QObject(parent), _registry(registry) {
    connect(_registry, &ClusterRegistry::forwardReceived, this, &ClusterLink::introductionReceived);
}

ClusterLink::~ClusterLink() {
    for (const QPointer<IceServer> &server : qAsConst(_servers)) {
        if (server) {
            server->setCluster(nullptr);
        }
    }
}

void ClusterLink::attach(IceServer *server) {
    _servers.append(server);
    server->setCluster(this);
}

QByteArray ClusterLink::fingerprint(const RsaPublicKey &key) {
    return QCryptographicHash::hash(key.toSubjectPublicKeyInfoDer(), QCryptographicHash::Sha256).left(8);
}

ClusterLink::Status ClusterLink::status() const {
    Status s;
    s.nodeId = _registry->options().nodeId;
    s.redis = _registry->options().url.redacted();
    s.healthy = _registry->isHealthy();
    switch (_registry->state()) {
    case RedisConnection::State::Connected: s.state = QStringLiteral("connected"); break;
    case RedisConnection::State::Connecting: s.state = QStringLiteral("connecting"); break;
    case RedisConnection::State::Down: s.state = QStringLiteral("down"); break;
    }
    s.reason = _registry->errorString();
    s.ownedDomains = _registry->ownedCount();
    s.registry = _registry->counters();
    s.link = _counters;
    return s;
}

void ClusterLink::domainHeard(const PeerTable::Peer &peer, const DomainKeyStore::Lookup &key, qint64 nowMs) {
    const QUuid &id = peer.peer.getUUID();
    Fingerprint &print = _fingerprints[id];
    if (print.bytes.isEmpty() || print.keySerial != key.serial) {
        print.keySerial = key.serial;
        print.bytes = fingerprint(key.key);
    }
    _registry->publish(id, peer.peer.publicEndpoint(), peer.peer.localEndpoint(), print.bytes, nowMs);
}

void ClusterLink::domainDropped(const QUuid &domainID) {
    _fingerprints.remove(domainID);
    _registry->unpublish(domainID);
}

bool ClusterLink::answerLocally(const QUuid &domainID) const {
    return !_registry->heldElsewhere(domainID);
}

void ClusterLink::resolveQuery(IceServer *server, const QUuid &domainID, const QByteArray &querierRecord,
                               const IpEndpoint &querier, qint64 nowMs) {
    // The lookup may answer later: keep our own copy of the record, and guard both objects.
    const QByteArray record(querierRecord.constData(), querierRecord.size());
    const QPointer<IceServer> guardedServer(server);
    const QPointer<ClusterLink> self(this);
    _registry->lookup(domainID, nowMs,
                      [self, guardedServer, domainID, record, querier](const ClusterRegistry::LookupResult &result) {
                          if (!self || !guardedServer) {
                              return;
                          }
                          const ClusterRecord &found = result.record;
                          if (result.status == ClusterRegistry::LookupResult::Status::Found
                              && found.ownerNode != self->_registry->options().nodeId) {
                              // The same bytes the owning node's table would send: NetworkPeer(ID, public, local).
                              guardedServer->answerForOtherNode(
                                  NetworkPeer(domainID, found.publicSocket, found.localSocket).toByteArray(), querier);
                              ++self->_counters.crossNodeAnswers;
                              ClusterIntroduction introduction;
                              introduction.domainId = domainID;
                              introduction.querierRecord = record;
                              if (self->_registry->forward(found.ownerNode, introduction.encode())) {
                                  ++self->_counters.introductionsSent;
                              }
                              return;
                          }
                          // Not held elsewhere (or Redis is unavailable): whatever the local table says, which for a
                          // domain nobody holds is the single node's silence.
                          guardedServer->answerQuery(domainID, record, querier);
                      });
}

void ClusterLink::introductionReceived(const QString &fromNode, const QByteArray &payload) {
    ClusterIntroduction introduction;
    QString why;
    if (!introduction.decode(payload, &why)) {
        ++_counters.introductionsMalformed;
        qCDebug(ice_cluster).noquote() << "dropped an introduction from node" << fromNode << ":" << why;
        return;
    }
    for (const QPointer<IceServer> &server : qAsConst(_servers)) {
        if (server) {
            if (server->introduceQuerier(introduction.domainId, introduction.querierRecord)) {
                ++_counters.introductionsDelivered;
            } else {
                ++_counters.introductionsStale;
                qCDebug(ice_cluster).noquote()
                    << "introduction from node" << fromNode << "for domain"
                    << introduction.domainId.toString(QUuid::WithoutBraces) << "which is no longer held here";
            }
            return;
        }
    }
}
