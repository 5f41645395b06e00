// Cluster mode inside one process: three IceServer nodes on loopback UDP, each with its own
// ClusterRegistry and ClusterLink, sharing one real redis-server. What a domain and a client see
// (byte for byte), the replay rule across nodes, the negative cache, expiry, hostile messages on a
// node's channel, a Redis restart under heartbeat load, and the password kept out of every output.
#include "../ice-server/IceTestSupport.h"
#include "RedisTestServer.h"

#include <DomainKeyStore.h>
#include <HealthMonitor.h>
#include <IceServer.h>
#include <IceServerMetrics.h>
#include <KeyDirectory.h>
#include <NetworkPeer.h>
#include <SocketTransport.h>
#include <StunMessage.h>
#include <cluster/ClusterLink.h>

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace icetest;
using redistest::RedisTestServer;

namespace {
const QUuid DomainID(QStringLiteral("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
const QUuid ClientID(QStringLiteral("11223344-5566-7788-99aa-bbccddeeff00"));
const IpEndpoint DomainPublic(QHostAddress(QStringLiteral("198.51.100.7")), 40102);
const IpEndpoint DomainLocal(QHostAddress(QStringLiteral("10.0.0.2")), 40102);
const IpEndpoint ClientPublic(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
const IpEndpoint ClientLocal(QHostAddress(QStringLiteral("192.168.1.10")), 40102);

// A loopback UDP socket that keeps what it receives and from where.
class Endpoint : public QObject {
public:
    struct Received {
        QByteArray bytes;
        IpEndpoint from;
    };
    Endpoint() {
        _socket.bind(QHostAddress(QHostAddress::LocalHost), 0);
        connect(&_socket, &QUdpSocket::readyRead, this, [this] {
            while (_socket.hasPendingDatagrams()) {
                const QNetworkDatagram d = _socket.receiveDatagram();
                received.append({ d.data(), IpEndpoint(d.senderAddress(), quint16(d.senderPort())) });
            }
        });
    }
    IpEndpoint address() const { return IpEndpoint(QHostAddress::LocalHost, _socket.localPort()); }
    void send(const QByteArray &bytes, const IpEndpoint &to) {
        _socket.writeDatagram(bytes, to.getAddress(), to.getPort());
    }
    // The payloads of the packets of this type received so far.
    QList<Received> packets(PacketType type) const {
        QList<Received> out;
        for (const Received &r : received) {
            const Decoded<NLDatagram> d = NLDatagram::fromDatagram(r.bytes);
            if (d.ok() && d.value.type == type) {
                out.append({ d.value.payload, r.from });
            }
        }
        return out;
    }
    int count(PacketType type) const { return int(packets(type).size()); }

    QList<Received> received;

private:
    QUdpSocket _socket;
};

// One ice-server node of the cluster: the production parts, wired as main.cpp wires them.
struct ClusterNode {
    ClusterNode(const QString &nodeId, const RedisTestServer &redis, const QString &keysDir,
                IceServerSettings settings = {}, const QString &userInfo = QString()) {
        transport->bind(QHostAddress::LocalHost, 0);
        directory.reset(new KeyDirectory(keysDir, 0));
        directory->start();
        keys.reset(new DomainKeyStore(directory.data(), nullptr, KeyFetchSettings()));
        server.reset(new IceServer(transport.get(), keys.data(), settings));
        ClusterRegistry::Options o;
        o.url = RedisUrl::parse(redis.url(userInfo));
        o.nodeId = nodeId;
        o.peerTimeoutMs = settings.peerTimeoutMs;
        registry.reset(new ClusterRegistry(o));
        link.reset(new ClusterLink(registry.data()));
        link->attach(server.data());
        server->start();
        registry->start();
    }
    ~ClusterNode() {
        link.reset();
        registry->stop();
    }
    IpEndpoint address() const { return IpEndpoint(QHostAddress::LocalHost, transport->localPort()); }
    // Processing is in order: once a STUN answer comes back, everything sent before it was handled.
    bool barrier(Endpoint &endpoint) {
        const int before = endpoint.received.size();
        endpoint.send(StunMessage::bindingRequest().encode(), address());
        return QTest::qWaitFor([&] { return endpoint.received.size() > before; }, 5000);
    }

    const std::unique_ptr<SocketTransport> transport = makeSocketTransport();
    QScopedPointer<KeyDirectory> directory;
    QScopedPointer<DomainKeyStore> keys;
    QScopedPointer<IceServer> server;
    QScopedPointer<ClusterRegistry> registry;
    QScopedPointer<ClusterLink> link;
};

QByteArray domainHeartbeat() {
    return signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
}
QByteArray clientQuery(const QUuid &domain = DomainID) {
    return query(ClientID, ClientPublic, ClientLocal, domain);
}
// What a single node sends each side (docs/protocol.md 3.4).
QByteArray domainInformation() {
    return NetworkPeer(DomainID, DomainPublic, DomainLocal).toByteArray();
}
QByteArray querierRecord() {
    return NetworkPeer(ClientID, ClientPublic, ClientLocal).toByteArray();
}
} // namespace

class tst_ClusterLink : public QObject {
    Q_OBJECT

    std::unique_ptr<RedisTestServer> redis;
    std::unique_ptr<QTemporaryDir> keysDir;

    bool trustDomain() {
        const QString path = keysDir->filePath(DomainID.toString(QUuid::WithoutBraces) + ".pem");
        return writeFile(path, testKey(0).publicKey().toPem());
    }
    std::unique_ptr<ClusterNode> node(const QString &id, IceServerSettings settings = {}) {
        auto n = std::make_unique<ClusterNode>(id, *redis, keysDir->path(), settings);
        return n;
    }
    static bool healthy(const ClusterNode &n) {
        return QTest::qWaitFor([&] { return n.registry->isHealthy(); }, 5000);
    }
    // Registers the domain at node through endpoint and waits until the node owns it in Redis.
    static bool registerAt(ClusterNode &n, Endpoint &domain) {
        domain.send(domainHeartbeat(), n.address());
        return QTest::qWaitFor([&] { return domain.count(PacketType::ICEServerHeartbeatACK) > 0; }, 5000)
               && QTest::qWaitFor([&] { return n.registry->owns(DomainID); }, 5000);
    }
    QByteArray ownerInRedis() const {
        return redis->cli({ QStringLiteral("HGET"),
                            QStringLiteral("icebreaker:domain:") + DomainID.toString(QUuid::WithoutBraces),
                            QStringLiteral("o") });
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(RedisTestServer::available(), "redis-server is not installed (scripts/deps.sh installs it)");
        testKey(0);
    }
    void init() {
        redis = std::make_unique<RedisTestServer>();
        QVERIFY(redis->start());
        keysDir = std::make_unique<QTemporaryDir>();
        QVERIFY(trustDomain());
    }
    void cleanup() {
        redis.reset();
        keysDir.reset();
    }

    void introductionCodec_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("ok");
        const QByteArray id = DomainID.toRfc4122();
        const QByteArray record = querierRecord();
        QTest::newRow("good") << (QByteArray(1, '\x01') + id + record) << true;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("format only") << QByteArray(1, '\x01') << false;
        QTest::newRow("format 2") << (QByteArray(1, '\x02') + id + record) << false;
        QTest::newRow("null domain") << (QByteArray(1, '\x01') + QByteArray(16, '\0') + record) << false;
        QTest::newRow("no record") << (QByteArray(1, '\x01') + id) << false;
        QTest::newRow("short record") << (QByteArray(1, '\x01') + id + record.left(record.size() - 1)) << false;
        QTest::newRow("trailing byte") << (QByteArray(1, '\x01') + id + record + 'x') << false;
        QTest::newRow("garbage") << QByteArray(300, '\xff') << false;
    }
    void introductionCodec() {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, ok);
        ClusterIntroduction introduction;
        QString why;
        QCOMPARE(introduction.decode(bytes, &why), ok);
        QCOMPARE(why.isEmpty(), ok);
        if (ok) {
            QCOMPARE(introduction.domainId, DomainID);
            QCOMPARE(introduction.querierRecord, querierRecord());
            QCOMPARE(introduction.encode(), bytes);
        }
    }

    void fingerprintIsTheKeysNotTheProcesss() {
        const QByteArray a = ClusterLink::fingerprint(testKey(0).publicKey());
        QCOMPARE(a.size(), 8);
        QCOMPARE(ClusterLink::fingerprint(RsaPublicKey::fromData(testKey(0).publicKey().toPem())), a);
        QVERIFY(ClusterLink::fingerprint(testKey(1).publicKey()) != a);
    }

    // A query at any node: the client gets the domain's record, the domain gets the client's record
    // from the node it heartbeats to, both byte-identical to what the owning node alone sends.
    void anyNodeAnswersLikeTheOwner() {
        auto a = node(QStringLiteral("node-a"));
        auto b = node(QStringLiteral("node-b"));
        auto c = node(QStringLiteral("node-c"));
        QVERIFY(healthy(*a) && healthy(*b) && healthy(*c));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));
        QCOMPARE(ownerInRedis(), QByteArray("node-a"));
        const QByteArray published = redis->cli(
            { QStringLiteral("HGET"), QStringLiteral("icebreaker:domain:") + DomainID.toString(QUuid::WithoutBraces),
              QStringLiteral("d") });
        QVERIFY(!published.isEmpty());

        for (ClusterNode *n : { a.get(), b.get(), c.get() }) {
            Endpoint client;
            const int introducedBefore = domain.count(PacketType::ICEServerPeerInformation);
            client.send(clientQuery(), n->address());
            QTRY_COMPARE_WITH_TIMEOUT(client.count(PacketType::ICEServerPeerInformation), 1, 5000);
            const Endpoint::Received answer = client.packets(PacketType::ICEServerPeerInformation).first();
            QCOMPARE(answer.bytes.toHex(), domainInformation().toHex());
            QCOMPARE(answer.from, n->address()); // the node asked answers
            QTRY_COMPARE_WITH_TIMEOUT(domain.count(PacketType::ICEServerPeerInformation), introducedBefore + 1, 5000);
            const Endpoint::Received intro = domain.packets(PacketType::ICEServerPeerInformation).last();
            QCOMPARE(intro.bytes.toHex(), querierRecord().toHex());
            QCOMPARE(intro.from, a->address()); // only the owner's address is open in the domain's NAT
        }
        QCOMPARE(b->link->counters().crossNodeAnswers, quint64(1));
        QCOMPARE(c->link->counters().crossNodeAnswers, quint64(1));
        QCOMPARE(a->link->counters().introductionsDelivered, quint64(2));
        QCOMPARE(a->server->stats().queriesAnswered, quint64(1));
        QCOMPARE(b->server->stats().queriesAnswered, quint64(1));
    }

    // Steady heartbeats cost no Redis command each: the registry writes on change only.
    void steadyHeartbeatsDoNotReachRedis() {
        auto a = node(QStringLiteral("node-a"));
        QVERIFY(healthy(*a));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));
        const quint64 writes = a->registry->counters().writes;
        for (int i = 0; i < 50; ++i) {
            domain.send(domainHeartbeat(), a->address());
        }
        QTRY_COMPARE_WITH_TIMEOUT(domain.count(PacketType::ICEServerHeartbeatACK), 51, 5000);
        QCOMPARE(a->registry->counters().publishCalls, quint64(51));
        QCOMPARE(a->registry->counters().writes, writes);
    }

    // The replay rule across nodes: the heartbeat is genuine, so B ACKs it, but A (alive) keeps
    // the domain in Redis, and B's queries still reach the domain through A, not the replayer.
    void replayedHeartbeatAtAnotherNodeMovesNothing() {
        auto a = node(QStringLiteral("node-a"));
        auto b = node(QStringLiteral("node-b"));
        QVERIFY(healthy(*a) && healthy(*b));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));

        Endpoint attacker;
        for (int i = 0; i < 3; ++i) {
            attacker.send(domainHeartbeat(), b->address());
        }
        QTRY_COMPARE_WITH_TIMEOUT(attacker.count(PacketType::ICEServerHeartbeatACK), 3, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(b->registry->counters().rejected >= 1, 5000);
        QVERIFY(b->registry->heldElsewhere(DomainID));
        QVERIFY(!b->registry->owns(DomainID));
        QCOMPARE(ownerInRedis(), QByteArray("node-a"));
        QCOMPARE(a->registry->counters().takeovers + b->registry->counters().takeovers, quint64(0));

        Endpoint client;
        client.send(clientQuery(), b->address());
        QTRY_COMPARE_WITH_TIMEOUT(client.count(PacketType::ICEServerPeerInformation), 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(domain.count(PacketType::ICEServerPeerInformation), 1, 5000);
        QCOMPARE(domain.packets(PacketType::ICEServerPeerInformation).first().from, a->address());
        QVERIFY(b->barrier(attacker));
        QCOMPARE(attacker.count(PacketType::ICEServerPeerInformation), 0);
    }

    // A flood of queries for an unknown domain is one Redis lookup, then the negative cache.
    void unknownDomainCostsOneLookup() {
        auto b = node(QStringLiteral("node-b"));
        QVERIFY(healthy(*b));
        const QUuid unknown = QUuid::createUuid();
        Endpoint client;
        for (int i = 0; i < 40; ++i) {
            client.send(clientQuery(unknown), b->address());
        }
        QVERIFY(b->barrier(client));
        QTRY_COMPARE_WITH_TIMEOUT(b->registry->counters().lookups, quint64(40), 5000);
        const ClusterRegistry::Counters counters = b->registry->counters();
        QCOMPARE(counters.lookupsSent, quint64(1));
        QCOMPARE(counters.lookupsNotFound, quint64(1));
        QCOMPARE(counters.negativeHits + counters.coalesced, quint64(39));
        QCOMPARE(client.count(PacketType::ICEServerPeerInformation), 0);
        QTRY_COMPARE_WITH_TIMEOUT(b->server->stats().drops[IceServerStats::UnknownDomain], quint64(40), 5000);
    }

    // A domain that falls silent at its node is withdrawn from Redis, and other nodes stop
    // answering for it.
    void silentDomainIsWithdrawn() {
        IceServerSettings quick;
        quick.peerTimeoutMs = 400;
        quick.sweepIntervalMs = 100;
        auto a = node(QStringLiteral("node-a"), quick);
        auto b = node(QStringLiteral("node-b"), quick);
        QVERIFY(healthy(*a) && healthy(*b));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));
        QCOMPARE(ownerInRedis(), QByteArray("node-a"));
        QTRY_COMPARE_WITH_TIMEOUT(a->server->peers().size(), 0, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(ownerInRedis(), QByteArray(), 5000);
        QCOMPARE(a->registry->counters().unpublishes, quint64(1));
        Endpoint client;
        client.send(clientQuery(), b->address());
        QVERIFY(b->barrier(client));
        QTRY_COMPARE_WITH_TIMEOUT(b->registry->counters().lookupsNotFound, quint64(1), 5000);
        QCOMPARE(client.count(PacketType::ICEServerPeerInformation), 0);
    }

    // Whatever arrives on a node's channel is hostile input: counted and dropped, nothing sent.
    void hostileIntroductionsAreDropped() {
        auto a = node(QStringLiteral("node-a"));
        auto x = node(QStringLiteral("node-x"));
        QVERIFY(healthy(*a) && healthy(*x));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));
        const QByteArray id = DomainID.toRfc4122();
        const QList<QByteArray> hostile { QByteArray(),
                                          QByteArray(1, '\x01'),
                                          QByteArray(1, '\x07') + id + querierRecord(),
                                          QByteArray(1, '\x01') + QByteArray(16, '\0') + querierRecord(),
                                          QByteArray(1, '\x01') + id + querierRecord().left(20),
                                          QByteArray(1, '\x01') + id + querierRecord() + "tail",
                                          QByteArray(2048, '\x01') };
        for (const QByteArray &payload : hostile) {
            QVERIFY(x->registry->forward(QStringLiteral("node-a"), payload));
        }
        // A well-formed one for a domain A does not hold is stale, not delivered.
        ClusterIntroduction stale;
        stale.domainId = QUuid::createUuid();
        stale.querierRecord = querierRecord();
        QVERIFY(x->registry->forward(QStringLiteral("node-a"), stale.encode()));
        QTRY_COMPARE_WITH_TIMEOUT(a->registry->counters().forwardsReceived, quint64(hostile.size() + 1), 5000);
        QCOMPARE(a->link->counters().introductionsMalformed, quint64(hostile.size()));
        QCOMPARE(a->link->counters().introductionsStale, quint64(1));
        QCOMPARE(a->link->counters().introductionsDelivered, quint64(0));
        QVERIFY(a->barrier(domain));
        QCOMPARE(domain.count(PacketType::ICEServerPeerInformation), 0);
    }

    // Redis restarts (empty) while the domain heartbeats: its node answers local queries throughout,
    // reports degraded, and re-publishes within one heartbeat interval of Redis returning; then other
    // nodes answer again.
    void redisRestartUnderLoad() {
        auto a = node(QStringLiteral("node-a"));
        auto b = node(QStringLiteral("node-b"));
        QVERIFY(healthy(*a) && healthy(*b));
        Endpoint domain;
        QVERIFY(registerAt(*a, domain));
        QTimer heartbeats; // the domain's heartbeat interval
        connect(&heartbeats, &QTimer::timeout, this, [&] { domain.send(domainHeartbeat(), a->address()); });
        heartbeats.start(ICE_HEARBEAT_INTERVAL_MSECS);

        redis->kill();
        QTRY_VERIFY_WITH_TIMEOUT(!a->registry->isHealthy(), 5000);
        HealthMonitor health;
        const ClusterLink::Status down = a->link->status();
        health.update(a->server->stats(), 0, &down);
        QVERIFY(!health.report().healthy);
        QVERIFY2(health.report().json.contains("\"status\":\"degraded\""), health.report().json.constData());
        QVERIFY2(health.report().json.contains("cluster: Redis redis://127.0.0.1:"), health.report().json.constData());

        // Local service never stops.
        for (int i = 0; i < 3; ++i) {
            Endpoint client;
            client.send(clientQuery(), a->address());
            QTRY_COMPARE_WITH_TIMEOUT(client.count(PacketType::ICEServerPeerInformation), 1, 5000);
            QTest::qWait(300);
        }
        // Another node cannot find the domain meanwhile, and says nothing (as for an unknown domain).
        Endpoint early;
        early.send(clientQuery(), b->address());
        QVERIFY(b->barrier(early));
        QCOMPARE(early.count(PacketType::ICEServerPeerInformation), 0);

        QVERIFY(redis->start()); // same port, empty
        QTRY_VERIFY_WITH_TIMEOUT(a->registry->isHealthy(), 20000);
        QElapsedTimer sinceUp;
        sinceUp.start();
        QTRY_COMPARE_WITH_TIMEOUT(ownerInRedis(), QByteArray("node-a"), ICE_HEARBEAT_INTERVAL_MSECS);
        qInfo("re-published %lld ms after the node saw Redis again", sinceUp.elapsed());
        QVERIFY(a->registry->counters().republished >= 1);

        QTRY_VERIFY_WITH_TIMEOUT(b->registry->isHealthy(), 20000);
        // B may have cached the domain as unknown while Redis was empty: within the negative TTL
        // a retry (as a client does) is answered.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                Endpoint client;
                client.send(clientQuery(), b->address());
                return QTest::qWaitFor([&] { return client.count(PacketType::ICEServerPeerInformation) == 1; }, 500);
            }(),
            10000);
    }

    // The password reaches Redis and nothing else: not the log, /status or /metrics, whatever happens.
    void passwordIsNeverShown() {
        const QString password = QStringLiteral("pa55-Very-Secret");
        redis = std::make_unique<RedisTestServer>(
            RedisTestServer::Config { QString(), QStringLiteral("ice"), password });
        QVERIFY(redis->start());
        static QStringList messages;
        messages.clear();
        const QtMessageHandler previous = qInstallMessageHandler(
            [](QtMsgType, const QMessageLogContext &, const QString &message) { messages.append(message); });
        QLoggingCategory::setFilterRules(QStringLiteral("hifi.*.debug=true"));
        {
            auto a = std::make_unique<ClusterNode>(QStringLiteral("node-a"), *redis, keysDir->path(),
                                                   IceServerSettings(), QStringLiteral("ice:") + password);
            QVERIFY(healthy(*a));
            Endpoint domain;
            QVERIFY(registerAt(*a, domain));
            IceServerMetrics metrics;
            HealthMonitor health;
            ClusterLink::Status status = a->link->status();
            metrics.updateCluster(status);
            health.update(a->server->stats(), 0, &status);
            QByteArray outputs = QByteArray::fromStdString(metrics.text()) + health.report().json;

            redis->kill(); // errors, reconnect attempts
            QTRY_VERIFY_WITH_TIMEOUT(!a->registry->isHealthy(), 5000);
            QTest::qWait(600);
            status = a->link->status();
            metrics.updateCluster(status);
            health.update(a->server->stats(), 1000, &status);
            outputs += QByteArray::fromStdString(metrics.text()) + health.report().json;
            QVERIFY(redis->start());
            QTRY_VERIFY_WITH_TIMEOUT(a->registry->isHealthy(), 20000);

            QVERIFY2(outputs.contains("redis://ice:***@127.0.0.1:"), outputs.constData());
            QVERIFY(!outputs.contains(password.toUtf8()));
        }
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(messages.join(QLatin1Char('\n')).contains(QStringLiteral("redis://ice:***@")));
        for (const QString &message : qAsConst(messages)) {
            QVERIFY2(!message.contains(password), qPrintable(message));
        }
    }
};

QTEST_GUILESS_MAIN(tst_ClusterLink)
#include "tst_clusterlink.moc"
