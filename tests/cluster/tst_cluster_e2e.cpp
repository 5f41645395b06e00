// Cluster mode end to end with the real binaries: three ice-server processes (--cluster, one
// redis-server the test starts on loopback), a domain-server registered at node A, interface-stub
// clients at every node. Any node connects clients; losing A loses no domain (the domain fails
// over to B through its --ice-server list and C keeps connecting clients); a Redis restart under
// load never stops local service and cross-node service comes back; a genuine heartbeat replayed
// at B does not move the domain away from A.
#include "../e2e/ProcessHarness.h"
#include "RedisTestServer.h"

#include <CryptoBackend.h>
#include <IcePackets.h>
#include <NLDatagram.h>
#include <RsaPrivateKey.h>

#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

using redistest::RedisTestServer;

namespace {
constexpr int ClientsPerNode = 20;
constexpr int ClientsAtOnce = 4; // the machine is small; enough to overlap queries at one node

quint16 freeTcpPort() {
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

// GET path from the node's HTTP endpoint; the body, or empty.
QByteArray httpGet(quint16 port, const QByteArray &path) {
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(3000)) {
        return {};
    }
    socket.write("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
    QByteArray response;
    while (socket.waitForReadyRead(3000)) {
        response += socket.readAll();
    }
    response += socket.readAll();
    const int body = response.indexOf("\r\n\r\n");
    return body < 0 ? QByteArray() : response.mid(body + 4);
}
// The value of one sample ("name{labels}" exactly as exposed) in the node's /metrics; -1 when absent.
double metric(quint16 port, const QByteArray &sample) {
    for (const QByteArray &line : httpGet(port, "/metrics").split('\n')) {
        if (line.startsWith(sample + ' ')) {
            return line.mid(sample.size() + 1).toDouble();
        }
    }
    return -1;
}
} // namespace

class tst_ClusterE2e : public QObject {
    Q_OBJECT

    ProcessHarness harness;
    std::unique_ptr<QTemporaryDir> tmp;
    std::unique_ptr<RedisTestServer> redis;
    QString iceServerBin, domainServerBin, stubBin, keygenBin;

    struct IceNode {
        QString name;
        quint16 port = 0;
        quint16 httpPort = 0;
        ProcessHarness::Proc *proc = nullptr;
        QString address() const { return QStringLiteral("127.0.0.1:%1").arg(port); }
    };
    struct Cluster {
        QString keysDir, keypair;
        QUuid domainID;
        quint16 domainPort = 0;
        IceNode a, b, c;
        ProcessHarness::Proc *domain = nullptr;
    };

    IceNode startNode(const QString &name, const QString &keysDir) {
        IceNode node;
        node.name = name;
        node.port = ProcessHarness::freeUdpPort();
        node.httpPort = freeTcpPort();
        node.proc = harness.start(QStringLiteral("ice-server ") + name, iceServerBin,
                                  { QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                    QString::number(node.port), QStringLiteral("--keys-dir"), keysDir,
                                    QStringLiteral("--http-port"), QString::number(node.httpPort),
                                    QStringLiteral("--cluster"), redis->url(), QStringLiteral("--node-id"), name });
        return node;
    }

    // Redis, three nodes, a domain registered at A (B second in its list) and published by A.
    bool startCluster(Cluster *cluster) {
        redis = std::make_unique<RedisTestServer>();
        if (!redis->start()) {
            return false;
        }
        cluster->keysDir = tmp->filePath(QStringLiteral("keys"));
        cluster->keypair = tmp->filePath(QStringLiteral("domain.key"));
        QProcess keygen;
        keygen.start(keygenBin,
                     { QStringLiteral("--keypair"), cluster->keypair, QStringLiteral("--keys-dir"), cluster->keysDir });
        if (!keygen.waitForFinished(30000) || keygen.exitCode() != 0) {
            qWarning() << "ice-keygen failed:" << keygen.readAllStandardError();
            return false;
        }
        cluster->domainID = QUuid(QString::fromLatin1(keygen.readAllStandardOutput().trimmed()));
        cluster->a = startNode(QStringLiteral("ice-a"), cluster->keysDir);
        cluster->b = startNode(QStringLiteral("ice-b"), cluster->keysDir);
        cluster->c = startNode(QStringLiteral("ice-c"), cluster->keysDir);
        for (const IceNode *node : { &cluster->a, &cluster->b, &cluster->c }) {
            if (!ProcessHarness::waitForStun(IpEndpoint(QHostAddress::LocalHost, node->port), 10000)
                || !QTest::qWaitFor(
                    [&] { return httpGet(node->httpPort, "/status").contains("\"state\":\"connected\""); }, 10000)) {
                qWarning() << node->name << "is not up, or not connected to Redis";
                return false;
            }
        }
        cluster->domainPort = ProcessHarness::freeUdpPort(QHostAddress::AnyIPv4);
        cluster->domain = harness.start(QStringLiteral("domain-server"), domainServerBin,
                                        { QStringLiteral("--domain-id"),
                                          cluster->domainID.toString(QUuid::WithoutBraces), QStringLiteral("--keypair"),
                                          cluster->keypair, QStringLiteral("--port"),
                                          QString::number(cluster->domainPort), QStringLiteral("--ice-server"),
                                          cluster->a.address(), QStringLiteral("--ice-server"), cluster->b.address() });
        return QTest::qWaitFor([&] { return registeredWith(*cluster, cluster->a); }, 15000)
               && QTest::qWaitFor([&] { return ownerInRedis(*cluster) == "ice-a"; }, 5000);
    }

    static bool registeredWith(const Cluster &cluster, const IceNode &node) {
        return ProcessHarness::output(cluster.domain)
            .contains(QStringLiteral("registered with ice-server %1").arg(node.address()));
    }
    QByteArray ownerInRedis(const Cluster &cluster) const {
        return redis->cli({ QStringLiteral("HGET"),
                            QStringLiteral("icebreaker:domain:") + cluster.domainID.toString(QUuid::WithoutBraces),
                            QStringLiteral("o") });
    }

    // Runs count interface-stubs against node, a few at a time; returns how many connected (exit 0
    // and the domain's port in what they print). The failures' output goes to the log.
    int connectClients(const Cluster &cluster, const IceNode &node, int count) {
        int connected = 0;
        for (int started = 0; started < count;) {
            QList<ProcessHarness::Proc *> batch;
            for (int i = 0; i < ClientsAtOnce && started < count; ++i, ++started) {
                batch.append(
                    harness.start(QStringLiteral("interface-stub at ") + node.name, stubBin,
                                  { QStringLiteral("--ice-server"), node.address(), QStringLiteral("--domain-id"),
                                    cluster.domainID.toString(QUuid::WithoutBraces), QStringLiteral("--timeout"),
                                    QStringLiteral("10") }));
            }
            for (ProcessHarness::Proc *stub : batch) {
                const int code = ProcessHarness::waitForExit(stub, 20000);
                if (code == 0 && ProcessHarness::output(stub).contains(QStringLiteral(":%1").arg(cluster.domainPort))) {
                    ++connected;
                } else {
                    qWarning().noquote() << "client at" << node.name << "exited" << code << ":\n"
                                         << ProcessHarness::output(stub);
                }
            }
        }
        return connected;
    }

    // One client, retried a few times (a node may have cached the domain as unknown for a moment,
    // or not know yet where it moved): true once one connects.
    bool eventuallyConnects(const Cluster &cluster, const IceNode &node, int attempts) {
        for (int i = 0; i < attempts; ++i) {
            if (connectClients(cluster, node, 1) == 1) {
                return true;
            }
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(RedisTestServer::available(), "redis-server is not installed (scripts/deps.sh installs it)");
        iceServerBin = ProcessHarness::binary(QStringLiteral("ice-server/ice-server"));
        domainServerBin = ProcessHarness::binary(QStringLiteral("domain-server/domain-server"));
        stubBin = ProcessHarness::binary(QStringLiteral("interface-stub/interface-stub"));
        keygenBin = ProcessHarness::binary(QStringLiteral("tools/ice-keygen/ice-keygen"));
        QVERIFY2(!iceServerBin.isEmpty(), "ice-server binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!domainServerBin.isEmpty(), "domain-server binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!stubBin.isEmpty(), "interface-stub binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!keygenBin.isEmpty(), "ice-keygen binary not found under ICEBREAKER_BINARY_DIR");
    }
    void init() {
        tmp = std::make_unique<QTemporaryDir>();
        QVERIFY(tmp->isValid());
    }
    void cleanup() {
        harness.killAll();
        if (QTest::currentTestFailed()) {
            harness.dumpOutputs();
        }
        harness.clear();
        redis.reset();
        tmp.reset();
    }

    // Clients at A, B and C all connect, 20 of 20 each; then A dies, the domain fails over to B,
    // B takes the registration over, and new clients at C connect.
    void anyNodeConnectsAndLosingANodeLosesNoDomain() {
        Cluster cluster;
        QVERIFY(startCluster(&cluster));
        for (const IceNode *node : { &cluster.a, &cluster.b, &cluster.c }) {
            QCOMPARE(connectClients(cluster, *node, ClientsPerNode), ClientsPerNode);
        }
        qInfo("the domain logged %d clients reaching it",
              ProcessHarness::count(cluster.domain, QStringLiteral("reached us at")));
        QTRY_VERIFY_WITH_TIMEOUT(
            ProcessHarness::count(cluster.domain, QStringLiteral("reached us at")) >= 3 * ClientsPerNode, 5000);
        // B and C answered from A's record (metrics refresh once a second).
        QTRY_COMPARE_WITH_TIMEOUT(metric(cluster.b.httpPort, "ice_server_cluster_cross_node_answers_total"),
                                  double(ClientsPerNode), 3000);
        QTRY_COMPARE_WITH_TIMEOUT(metric(cluster.c.httpPort, "ice_server_cluster_cross_node_answers_total"),
                                  double(ClientsPerNode), 3000);
        QElapsedTimer failover;
        failover.start();

        ProcessHarness::stop(cluster.a.proc); // SIGKILL: no goodbye, its alive key just expires
        QTRY_VERIFY_WITH_TIMEOUT(registeredWith(cluster, cluster.b), 30000);
        qInfo("the domain registered with B %lld ms after A died", failover.elapsed());
        QTRY_COMPARE_WITH_TIMEOUT(ownerInRedis(cluster), QByteArray("ice-b"), 15000);
        qInfo("B owns the registration %lld ms after A died", failover.elapsed());
        QVERIFY(eventuallyConnects(cluster, cluster.c, 3));
        QCOMPARE(connectClients(cluster, cluster.c, ClientsPerNode), ClientsPerNode);
        QTRY_COMPARE_WITH_TIMEOUT(metric(cluster.b.httpPort, "ice_server_cluster_writes_total{result=\"takeover\"}"),
                                  1.0, 3000);
    }

    // Redis goes away and comes back (empty) while clients keep connecting at A: every one does,
    // /status says degraded meanwhile, and clients at B connect again once A re-published.
    void redisRestartUnderLoad() {
        Cluster cluster;
        QVERIFY(startCluster(&cluster));
        QCOMPARE(connectClients(cluster, cluster.b, 2), 2);

        redis->kill();
        QElapsedTimer outage;
        outage.start();
        QTRY_VERIFY_WITH_TIMEOUT(httpGet(cluster.a.httpPort, "/status").contains("\"status\":\"degraded\""), 5000);
        const QByteArray status = httpGet(cluster.a.httpPort, "/status");
        QVERIFY2(status.contains("cluster: Redis redis://127.0.0.1:"), status.constData());
        QCOMPARE(connectClients(cluster, cluster.a, 8), 8); // local service goes on

        QVERIFY(redis->start());
        qInfo("Redis back after %lld ms", outage.elapsed());
        QCOMPARE(connectClients(cluster, cluster.a, 4), 4);
        // Re-published within one heartbeat of A reconnecting (back-off after a short outage: < 2 s).
        QTRY_COMPARE_WITH_TIMEOUT(ownerInRedis(cluster), QByteArray("ice-a"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(httpGet(cluster.b.httpPort, "/status").contains("\"status\":\"healthy\""), 20000);
        QVERIFY(eventuallyConnects(cluster, cluster.b, 3));
        QCOMPARE(connectClients(cluster, cluster.b, 8), 8);
        QTRY_VERIFY2_WITH_TIMEOUT(httpGet(cluster.a.httpPort, "/status").contains("\"status\":\"healthy\""),
                                  httpGet(cluster.a.httpPort, "/status").constData(), 3000);
    }

    // A heartbeat signed with the domain's own key, sent to B from elsewhere: B accepts the
    // signature, but the registration stays A's and B's clients still reach the domain through A.
    void replayedHeartbeatAtBDoesNotMoveTheDomain() {
        Cluster cluster;
        QVERIFY(startCluster(&cluster));
        const RsaPrivateKey key = RsaPrivateKey::loadFromFile(cluster.keypair);
        QVERIFY(!key.isNull());
        QUdpSocket attacker;
        QVERIFY(attacker.bind(QHostAddress(QHostAddress::LocalHost), 0));
        IceServerHeartbeat heartbeat;
        heartbeat.domainID = cluster.domainID;
        heartbeat.publicSocket = IpEndpoint(QHostAddress::LocalHost, attacker.localPort());
        heartbeat.localSocket = heartbeat.publicSocket;
        heartbeat.signature = CryptoBackend::defaultBackend()->sign(
            key,
            IceServerHeartbeat::signedPlaintext(heartbeat.domainID, heartbeat.publicSocket, heartbeat.localSocket));
        const QByteArray datagram = NLDatagram::create(PacketType::ICEServerHeartbeat, heartbeat.toPayload())
                                        .toDatagram();
        for (int i = 0; i < 3; ++i) {
            attacker.writeDatagram(datagram, QHostAddress::LocalHost, cluster.b.port);
            QTest::qWait(200);
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            metric(cluster.b.httpPort, "ice_server_cluster_writes_total{result=\"rejected\"}") >= 1, 5000);
        QCOMPARE(ownerInRedis(cluster), QByteArray("ice-a"));
        QCOMPARE(connectClients(cluster, cluster.b, 5), 5);
        QCOMPARE(connectClients(cluster, cluster.c, 5), 5);
        QCOMPARE(ownerInRedis(cluster), QByteArray("ice-a"));
        // The replayer got ACKs and nothing else: no client's record was sent its way.
        int acks = 0;
        while (attacker.hasPendingDatagrams()) {
            QByteArray bytes(int(attacker.pendingDatagramSize()), Qt::Uninitialized);
            attacker.readDatagram(bytes.data(), bytes.size());
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(bytes);
            QVERIFY(packet.ok());
            QCOMPARE(packet.value.type, PacketType::ICEServerHeartbeatACK);
            ++acks;
        }
        QCOMPARE(acks, 3);
    }
};

QTEST_GUILESS_MAIN(tst_ClusterE2e)
#include "tst_cluster_e2e.moc"
