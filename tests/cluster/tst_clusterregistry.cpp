// ClusterRegistry as two (or three) nodes sharing a real redis-server: publish/lookup across
// nodes, write-on-change and the Redis commands a steady heartbeat costs, the negative cache and
// lookup coalescing, pub/sub forwarding, the takeover compare-and-set, a killed and restarted Redis
// (state, reason, re-publish), a paused Redis (deadline, nothing blocks), and memory per record.
#include "RedisTestServer.h"

#include <cluster/ClusterRegistry.h>

#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using redistest::RedisTestServer;
using Status = ClusterRegistry::LookupResult::Status;

namespace {

const QUuid kDomain(QStringLiteral("{1eadc521-39d4-4dbe-9080-4ab8a5a98ea2}"));
const IpEndpoint kPublic(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
const IpEndpoint kLocal(QHostAddress(QStringLiteral("192.168.1.20")), 40102);
const QByteArray kFingerprint = QByteArray::fromHex("a1b2c3d4e5f60718");

std::unique_ptr<ClusterRegistry> makeNode(const RedisTestServer &server, const QString &node, int peerTimeoutMs = 5000,
                                          int maxNegativeEntries = 100000) {
    ClusterRegistry::Options options;
    options.maxNegativeEntries = maxNegativeEntries;
    options.url = RedisUrl::parse(server.url());
    options.nodeId = node;
    options.peerTimeoutMs = peerTimeoutMs;
    options.commandTimeoutMs = 1000;
    auto registry = std::make_unique<ClusterRegistry>(options);
    registry->start();
    return registry;
}

// Runs a lookup and waits for its answer.
ClusterRegistry::LookupResult lookupNow(ClusterRegistry &registry, const QUuid &id, qint64 nowMs) {
    ClusterRegistry::LookupResult result;
    bool done = false;
    registry.lookup(id, nowMs, [&](const ClusterRegistry::LookupResult &r) {
        result = r;
        done = true;
    });
    QElapsedTimer timer;
    timer.start();
    while (!done && timer.elapsed() < 5000) {
        QTest::qWait(5);
    }
    return result;
}

} // namespace

class tst_ClusterRegistry : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void publishedAtOneNodeFoundAtAnother();
    void steadyHeartbeatsCostFewCommands();
    void unknownDomainsCannotFloodRedis();
    void foreignRecordsAreInputToo();
    void forwardBetweenNodes();
    void liveOwnerIsNeverOverwritten();
    void redisRestartRepublishes();
    void pausedRedisBlocksNothing();
    void unpublishReleasesTheDomain();
    void memoryPerRegistration();
};

void tst_ClusterRegistry::initTestCase() {
    QVERIFY2(RedisTestServer::available(),
             "redis-server is not installed (Debian: redis-server; scripts/deps.sh test)");
}

void tst_ClusterRegistry::publishedAtOneNodeFoundAtAnother() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    QVERIFY(a->errorString().isEmpty());

    a->publish(kDomain, kPublic, kLocal, kFingerprint, 1000);
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(kDomain), 5000);
    const auto found = lookupNow(*b, kDomain, 1000);
    QCOMPARE(found.status, Status::Found);
    QCOMPARE(found.record.domainId, kDomain);
    QCOMPARE(found.record.publicSocket, kPublic);
    QCOMPARE(found.record.localSocket, kLocal);
    QCOMPARE(found.record.keyFingerprint, kFingerprint);
    QCOMPARE(found.record.ownerNode, QStringLiteral("node-a"));
    QCOMPARE(found.record.epoch, quint32(1));
    QVERIFY(qAbs(found.record.publishedAtMs - QDateTime::currentMSecsSinceEpoch()) < 60000);

    // The record's key lives a refresh interval plus a peer timeout (liveness is the alive key).
    const qint64 ttl = server.cli({ "PTTL", QString::fromLatin1(a->domainKey(kDomain)) }).toLongLong();
    QVERIFY2(ttl > 20000 && ttl <= 25000, qPrintable(QString::number(ttl)));
    QVERIFY(server.cli({ "PTTL", "icebreaker:alive:node-a" }).toLongLong() > 0);
}

void tst_ClusterRegistry::steadyHeartbeatsCostFewCommands() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    server.cli({ "CONFIG", "RESETSTAT" });
    const quint64 writesBefore = a->counters().writes;

    // 1,000 heartbeats one second apart (caller clock), each answered before the next, so no
    // write is skipped merely because one is in flight. At heartbeat 500 the public socket moves.
    const IpEndpoint moved(QHostAddress(QStringLiteral("198.51.100.9")), 50000);
    quint64 writesAtMove = 0;
    for (int beat = 0; beat < 1000; ++beat) {
        const IpEndpoint publicSocket = beat < 500 ? kPublic : moved;
        if (beat == 500) {
            writesAtMove = a->counters().writes;
        }
        a->publish(kDomain, publicSocket, kLocal, kFingerprint, qint64(beat) * 1000);
        if (beat == 500) {
            QCOMPARE(a->counters().writes, writesAtMove + 1); // a change is written at once
        }
        QTRY_COMPARE_WITH_TIMEOUT(a->writesInFlight(), 0, 5000);
        QVERIFY(a->owns(kDomain));
    }
    QCOMPARE(lookupNow(*b, kDomain, 0).record.publicSocket, moved);

    const quint64 writes = a->counters().writes - writesBefore;
    const quint64 evalsha = server.commandCalls(QStringLiteral("evalsha"));
    const quint64 eval = server.commandCalls(QStringLiteral("eval"));
    const double perHeartbeat = double(writes) / 1000.0;
    qInfo("1000 heartbeats: %llu writes (%.3f Redis commands per heartbeat); Redis saw %llu EVALSHA, %llu EVAL "
          "(one of them B's lookup), %llu HSET, %llu PEXPIRE inside the scripts",
          writes, perHeartbeat, evalsha, eval, server.commandCalls(QStringLiteral("hset")),
          server.commandCalls(QStringLiteral("pexpire")));
    QVERIFY2(perHeartbeat <= 0.1, qPrintable(QString::number(perHeartbeat)));
    // First write, one refresh every 20 s of heartbeats (49 over 1,000 s, the move restarts the
    // period once), the move itself: about 51.
    QVERIFY2(writes >= 45 && writes <= 55, qPrintable(QString::number(writes)));
    QCOMPARE(evalsha + eval, writes + 1);
    QCOMPARE(a->counters().publishCalls, quint64(1000));
}

void tst_ClusterRegistry::unknownDomainsCannotFloodRedis() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(b->isHealthy(), 5000);
    server.cli({ "CONFIG", "RESETSTAT" });

    // 100 queries for one unknown domain before Redis answers: one lookup, 99 join it.
    const QUuid unknown = QUuid::createUuid();
    int answers = 0;
    int notFound = 0;
    for (int i = 0; i < 100; ++i) {
        b->lookup(unknown, 10000, [&](const ClusterRegistry::LookupResult &r) {
            ++answers;
            notFound += r.status == Status::NotFound;
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(answers, 100, 5000);
    QCOMPARE(notFound, 100);
    QCOMPARE(b->counters().lookupsSent, quint64(1));
    QCOMPARE(b->counters().coalesced, quint64(99));

    // Cached: answered synchronously, no Redis command, until negativeTtlMs (2 s) has passed.
    for (int i = 0; i < 1000; ++i) {
        bool synchronous = false;
        b->lookup(unknown, 10000 + i,
                  [&](const ClusterRegistry::LookupResult &r) { synchronous = r.status == Status::NotFound; });
        QVERIFY(synchronous);
    }
    QCOMPARE(b->counters().negativeHits, quint64(1000));
    QCOMPARE(b->counters().lookupsSent, quint64(1));
    QCOMPARE(lookupNow(*b, unknown, 12001).status, Status::NotFound);
    QCOMPARE(b->counters().lookupsSent, quint64(2));
    QCOMPARE(server.commandCalls(QStringLiteral("evalsha")) + server.commandCalls(QStringLiteral("eval")), quint64(2));

    // Many distinct unknown IDs: each costs one lookup, the cache stays bounded.
    auto small = makeNode(server, QStringLiteral("node-c"), 5000, 50);
    QTRY_VERIFY_WITH_TIMEOUT(small->isHealthy(), 5000);
    for (int i = 0; i < 300; ++i) {
        QCOMPARE(lookupNow(*small, QUuid::createUuid(), 20000).status, Status::NotFound);
    }
    QCOMPARE(small->counters().lookupsSent, quint64(300));
    QCOMPARE(small->negativeCacheSize(), 50);
}

void tst_ClusterRegistry::foreignRecordsAreInputToo() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(b->isHealthy(), 5000);
    const QString key = QString::fromLatin1(b->domainKey(kDomain));
    const QList<QStringList> garbage {
        { "HSET", key, "o", "node-a", "e", "1", "d", "garbage" },
        { "HSET", key, "o", "node-a", "e", "x", "d", "" },
        { "HSET", key, "o", "node-a", "d", QString::fromLatin1(QByteArray(5000, 'z')) },
    };
    server.cli({ "SET", "icebreaker:alive:node-a", "1" });
    for (const QStringList &command : garbage) {
        server.cli({ "DEL", key });
        server.cli(command);
        const auto result = lookupNow(*b, kDomain, 0);
        QVERIFY2(result.status == Status::Unavailable, qPrintable(command.join(QLatin1Char(' '))));
    }
    // A key of the wrong type: the script's error reply is an answer, not a crash.
    server.cli({ "DEL", key });
    server.cli({ "SET", key, "not a hash" });
    QCOMPARE(lookupNow(*b, kDomain, 0).status, Status::Unavailable);
    b->publish(kDomain, kPublic, kLocal, kFingerprint, 0);
    QTRY_COMPARE_WITH_TIMEOUT(b->counters().writeErrors, quint64(1), 5000);
    QVERIFY(b->isHealthy());
}

void tst_ClusterRegistry::forwardBetweenNodes() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    QSignalSpy atA(a.get(), &ClusterRegistry::forwardReceived);
    QSignalSpy atB(b.get(), &ClusterRegistry::forwardReceived);

    const QByteArray query = QByteArray::fromHex("0000000117001eadc52139d44dbe90804ab8a5a98ea2");
    QVERIFY(b->forward(QStringLiteral("node-a"), query));
    QTRY_COMPARE_WITH_TIMEOUT(atA.size(), 1, 5000);
    QCOMPARE(atA.at(0).at(0).toString(), QStringLiteral("node-b"));
    QCOMPARE(atA.at(0).at(1).toByteArray(), query);
    QCOMPARE(atB.size(), 0);

    // Hostile bytes on a node's channel are counted and dropped.
    server.cli({ "PUBLISH", "icebreaker:node:node-a", "garbage" });
    QTRY_COMPARE_WITH_TIMEOUT(a->counters().forwardsMalformed, quint64(1), 5000);
    QCOMPARE(atA.size(), 1);

    // Nobody listens on a dead node's channel: counted as undelivered.
    QVERIFY(b->forward(QStringLiteral("node-gone"), query));
    QTRY_COMPARE_WITH_TIMEOUT(b->counters().forwardsUndelivered, quint64(1), 5000);
    QVERIFY(!b->forward(QStringLiteral("node-a"), QByteArray(ClusterMessage::kMaxPayload + 1, 'x')));
}

void tst_ClusterRegistry::liveOwnerIsNeverOverwritten() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"), 1000);
    auto b = makeNode(server, QStringLiteral("node-b"), 1000);
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    a->publish(kDomain, kPublic, kLocal, kFingerprint, 0);
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(kDomain), 5000);

    // The same heartbeat replayed at B (its verify passes: the signature is genuine).
    QSignalSpy rejected(b.get(), &ClusterRegistry::publishRejected);
    const IpEndpoint attacker(QHostAddress(QStringLiteral("192.0.2.66")), 6666);
    b->publish(kDomain, attacker, kLocal, kFingerprint, 0);
    QTRY_COMPARE_WITH_TIMEOUT(rejected.size(), 1, 5000);
    QCOMPARE(rejected.at(0).at(1).toString(), QStringLiteral("node-a"));
    QVERIFY(!b->owns(kDomain));
    auto found = lookupNow(*b, kDomain, 0);
    QCOMPARE(found.record.ownerNode, QStringLiteral("node-a"));
    QCOMPARE(found.record.publicSocket, kPublic);

    // Replays keep coming: retried at most every retryRejectedMs, never accepted.
    const quint64 writes = b->counters().writes;
    for (int i = 1; i <= 50; ++i) {
        b->publish(kDomain, attacker, kLocal, kFingerprint, i * 100); // 5 s of replays every 100 ms
        QTRY_COMPARE_WITH_TIMEOUT(b->writesInFlight(), 0, 5000);
    }
    QTRY_COMPARE_WITH_TIMEOUT(b->counters().rejected, quint64(3), 5000); // at 0, 2.5 s and 5 s
    QCOMPARE(b->counters().writes, writes + 2);
    QCOMPARE(lookupNow(*b, kDomain, 0).record.ownerNode, QStringLiteral("node-a"));

    // Node A dies: once its alive key expires (peer timeout 1 s) the domain can move to B.
    a.reset();
    QTRY_COMPARE_WITH_TIMEOUT(server.cli({ "EXISTS", "icebreaker:alive:node-a" }), QByteArray("0"), 5000);
    b->publish(kDomain, attacker, kLocal, kFingerprint, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(b->owns(kDomain), 5000);
    QCOMPARE(b->counters().takeovers, quint64(1));
    found = lookupNow(*b, kDomain, 0);
    QCOMPARE(found.record.ownerNode, QStringLiteral("node-b"));
    QCOMPARE(found.record.epoch, quint32(2));

    // A comes back and re-publishes what it held: refused, B is alive.
    a = makeNode(server, QStringLiteral("node-a"), 1000);
    QSignalSpy aRejected(a.get(), &ClusterRegistry::publishRejected);
    a->publish(kDomain, kPublic, kLocal, kFingerprint, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(aRejected.size(), 1, 5000);
    QCOMPARE(lookupNow(*a, kDomain, 0).record.ownerNode, QStringLiteral("node-b"));
}

void tst_ClusterRegistry::redisRestartRepublishes() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    QList<QUuid> domains;
    for (int i = 0; i < 3; ++i) {
        domains << QUuid::createUuid();
        a->publish(domains.last(), kPublic, kLocal, kFingerprint, 0);
    }
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(domains.at(0)) && a->owns(domains.at(1)) && a->owns(domains.at(2)), 5000);
    QSignalSpy health(a.get(), &ClusterRegistry::healthChanged);

    server.kill();
    QTRY_VERIFY_WITH_TIMEOUT(!a->isHealthy(), 5000);
    QCOMPARE(health.size(), 1);
    QCOMPARE(health.at(0).at(0).toBool(), false);
    QVERIFY2(a->errorString().contains(QLatin1String("lost")) || a->errorString().contains(QLatin1String("refused")),
             qPrintable(a->errorString()));
    // Down: lookups answer at once, publishes are kept for later, nothing throws or waits.
    bool unavailable = false;
    a->lookup(QUuid::createUuid(), 0,
              [&](const ClusterRegistry::LookupResult &r) { unavailable = r.status == Status::Unavailable; });
    QVERIFY(unavailable);
    const QUuid addedWhileDown = QUuid::createUuid();
    a->publish(addedWhileDown, kPublic, kLocal, kFingerprint, 1000);
    domains << addedWhileDown;
    QTRY_VERIFY_WITH_TIMEOUT(a->counters().redisReconnects >= 2, 5000); // attempts against nothing

    QVERIFY(server.start()); // empty: no persistence
    QElapsedTimer sinceBack;
    sinceBack.start();
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 15000);
    const qint64 reconnectMs = sinceBack.elapsed();
    QTRY_VERIFY_WITH_TIMEOUT(
        server.cli({ "EXISTS", QString::fromLatin1(a->domainKey(domains.at(0))),
                     QString::fromLatin1(a->domainKey(domains.at(1))), QString::fromLatin1(a->domainKey(domains.at(2))),
                     QString::fromLatin1(a->domainKey(domains.at(3))) })
            == "4",
        1000); // within one heartbeat interval of being healthy again
    qInfo("Redis back: node healthy after %lld ms (back-off), all 4 records re-published within 1 s of that",
          reconnectMs);
    for (const QUuid &id : domains) {
        const auto found = lookupNow(*b, id, 0);
        QCOMPARE(found.status, Status::Found);
        QCOMPARE(found.record.ownerNode, QStringLiteral("node-a"));
    }
    QVERIFY(a->counters().republished >= 4);
    QVERIFY(a->counters().redisErrors >= 2); // both connections lost, plus refused reconnects
}

void tst_ClusterRegistry::pausedRedisBlocksNothing() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy(), 5000);

    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&ticks] { ++ticks; });
    ticker.start(20);

    server.pause();
    Status status = Status::Found;
    bool answered = false;
    QElapsedTimer call;
    call.start();
    a->lookup(QUuid::createUuid(), 0, [&](const ClusterRegistry::LookupResult &r) {
        answered = true;
        status = r.status;
    });
    a->publish(kDomain, kPublic, kLocal, kFingerprint, 0);
    QVERIFY(call.elapsed() < 50); // both returned at once
    const int ticksAtPause = ticks;
    QTRY_VERIFY_WITH_TIMEOUT(!a->isHealthy(), 5000);
    QVERIFY2(a->errorString().contains(QLatin1String("no reply")), qPrintable(a->errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(answered, 5000);
    QCOMPARE(status, Status::Unavailable);
    QVERIFY2(ticks - ticksAtPause >= 10, qPrintable(QString::number(ticks - ticksAtPause)));
    QVERIFY(a->counters().redisTimeouts >= 1);

    server.resume();
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy(), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(kDomain), 5000); // the publish made during the outage
}

void tst_ClusterRegistry::unpublishReleasesTheDomain() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("node-a"));
    auto b = makeNode(server, QStringLiteral("node-b"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy() && b->isHealthy(), 5000);
    a->publish(kDomain, kPublic, kLocal, kFingerprint, 0);
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(kDomain), 5000);
    b->unpublish(kDomain); // B never held it: nothing happens
    QCOMPARE(lookupNow(*b, kDomain, 0).status, Status::Found);

    // The domain went silent at A (peer timeout): A deletes its record; the domain, now
    // heartbeating to B, is B's at B's next retry.
    a->unpublish(kDomain);
    QTRY_COMPARE_WITH_TIMEOUT(server.cli({ "EXISTS", QString::fromLatin1(a->domainKey(kDomain)) }), QByteArray("0"),
                              5000);
    QCOMPARE(lookupNow(*b, kDomain, 100000).status, Status::NotFound);
    b->publish(kDomain, kPublic, kLocal, kFingerprint, 0);
    QTRY_VERIFY_WITH_TIMEOUT(b->owns(kDomain), 5000);
    QCOMPARE(b->counters().takeovers, quint64(0)); // a fresh record, not a takeover
}

void tst_ClusterRegistry::memoryPerRegistration() {
    RedisTestServer server;
    QVERIFY(server.start());
    auto a = makeNode(server, QStringLiteral("ice-node-01.example.net:7337"));
    QTRY_VERIFY_WITH_TIMEOUT(a->isHealthy(), 5000);
    a->publish(kDomain, kPublic, kLocal, QByteArray(8, 'f'), 0);
    QTRY_VERIFY_WITH_TIMEOUT(a->owns(kDomain), 5000);
    const qint64 oneKey = server.cli({ "MEMORY", "USAGE", QString::fromLatin1(a->domainKey(kDomain)) }).toLongLong();
    QVERIFY(oneKey > 0);

    // 10,000 registrations: the growth of used_memory per record (key, hash, expiry entry).
    auto usedMemory = [&server] {
        const QByteArray info = server.cli({ "INFO", "memory" });
        const int at = info.indexOf("used_memory:") + 12;
        return info.mid(at, info.indexOf('\n', at) - at).trimmed().toLongLong();
    };
    const qint64 before = usedMemory();
    const int count = 10000;
    for (int i = 0; i < count; ++i) {
        a->publish(QUuid::createUuid(), kPublic, kLocal, QByteArray(8, 'f'), 0);
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.cli({ "DBSIZE" }).toLongLong(), qint64(count + 2),
                              30000); // + the first + alive key
    const double perRecord = double(usedMemory() - before) / count;
    qInfo("MEMORY USAGE of one registration: %lld bytes; used_memory growth over %d registrations: %.0f bytes each",
          oneKey, count, perRecord);
    QVERIFY(perRecord > 0 && perRecord < 1024);
}

QTEST_GUILESS_MAIN(tst_ClusterRegistry)
#include "tst_clusterregistry.moc"
