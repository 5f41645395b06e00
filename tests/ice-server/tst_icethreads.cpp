// The ice-server on several threads. First two IceServer workers, each on its own QThread over a
// FakeTransport, sharing one domain table and rate limiter (as IceServerThreads runs them over
// sockets), so which worker gets which datagram is the test's choice: a heartbeat on one and the
// query for its domain on the other must meet, limits hold per source IP whichever worker counts,
// and the counters add up. Then IceServerThreads over real loopback sockets with SO_REUSEPORT:
// the kernel spreads many source sockets over both threads and every query is answered.
#include "IceTestSupport.h"

#include <DomainKeyStore.h>
#include <FakeTransport.h>
#include <IceServer.h>
#include <IceServerMetrics.h>
#include <IceServerThreads.h>
#include <KeyDirectory.h>
#include <SocketTransport.h>
#include <StunMessage.h>

#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <atomic>

using namespace icetest;

Q_DECLARE_METATYPE(TransportKind)

namespace {
const QUuid DomainID(QStringLiteral("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
const QUuid ClientID(QStringLiteral("11223344-5566-7788-99aa-bbccddeeff00"));
const SockAddr DomainPublic(QHostAddress(QStringLiteral("198.51.100.7")), 40102);
const SockAddr DomainLocal(QHostAddress(QStringLiteral("10.0.0.2")), 40102);
const SockAddr ClientPublic(QHostAddress(QStringLiteral("203.0.113.5")), 40102);
const SockAddr ClientLocal(QHostAddress(QStringLiteral("192.168.1.10")), 40102);

PacketType typeOf(const QByteArray &datagram) {
    const Decoded<NLDatagram> decoded = NLDatagram::fromDatagram(datagram);
    return decoded.ok() ? decoded.value.type : PacketType::Unknown;
}

// A trusted key directory (on the test's thread, as the daemon keeps it on the main thread).
struct Keys {
    Keys() {
        directory.reset(new KeyDirectory(dir.path(), 0));
        directory->start();
        store.reset(new DomainKeyStore(directory.data(), nullptr, KeyFetchSettings()));
    }
    bool trust(const QUuid &id, const RsaPrivateKey &key) {
        if (!writeFile(dir.filePath(id.toString(QUuid::WithoutBraces) + ".pem"), key.publicKey().toPem())) {
            return false;
        }
        directory->rescan();
        return directory->find(id) != nullptr;
    }
    QTemporaryDir dir;
    QScopedPointer<KeyDirectory> directory;
    QScopedPointer<DomainKeyStore> store;
};

// One worker: a thread, and on it a FakeTransport and an IceServer over the shared state.
class FakeWorker {
public:
    FakeWorker(DomainKeyStore *keys, const IceServerSettings &settings, const IceServerShared &shared,
               const IceServer::Clock &clock) {
        _context = new QObject;
        _context->moveToThread(&_thread);
        QObject::connect(&_thread, &QThread::finished, _context, &QObject::deleteLater);
        _thread.start();
        run([&] {
            _transport = new FakeTransport(SockAddr(QHostAddress::LocalHost, 7337));
            _server = new IceServer(_transport, keys, settings, shared, clock, nullptr);
            _server->start();
        });
    }
    ~FakeWorker() {
        run([this] {
            delete _server;
            delete _transport;
        });
        _thread.quit();
        _thread.wait();
    }
    // Runs call on the worker's thread and waits for it.
    template <typename Call> void run(Call call) {
        QMetaObject::invokeMethod(_context, call, Qt::BlockingQueuedConnection);
    }
    // Delivers a datagram on the worker's thread, as its socket would.
    void deliver(const QByteArray &datagram, const SockAddr &sender) {
        run([&] { _transport->inject(datagram, sender); });
    }
    QList<FakeTransport::Sent> takeSent() {
        QList<FakeTransport::Sent> sent;
        run([&] { sent = _transport->takeSent(); });
        return sent;
    }
    IceServerStats traffic() {
        IceServerStats stats;
        run([&] { stats = _server->trafficStats(); });
        return stats;
    }
    IceServer *server() const { return _server; }
    FakeTransport *transport() const { return _transport; }

private:
    QThread _thread;
    QObject *_context; // lives on _thread, deleted when it finishes
    FakeTransport *_transport = nullptr;
    IceServer *_server = nullptr;
};

// Two workers sharing one table, with a clock the test moves.
struct Pair {
    explicit Pair(IceServerSettings settings = {}) : shared(IceServerShared::create(settings, 2)) {
        const IceServer::Clock clock = [this] { return now.load(); };
        IceServerSettings second = settings;
        second.sweepIntervalMs = 0; // as IceServerThreads: one worker sweeps
        workers[0].reset(new FakeWorker(keys.store.data(), settings, shared, clock));
        workers[1].reset(new FakeWorker(keys.store.data(), second, shared, clock));
    }
    FakeWorker &operator[](int i) { return *workers[i]; }
    // What /status and /metrics would see: every worker's traffic plus the shared state.
    IceServerStats stats() {
        IceServerStats sum;
        for (auto &worker : workers) {
            sum.addTraffic(worker->traffic());
        }
        workers[0]->server()->addSharedStats(&sum);
        return sum;
    }

    Keys keys;
    IceServerShared shared;
    std::atomic<qint64> now { 1000 };
    std::unique_ptr<FakeWorker> workers[2];
};

QByteArray stunRequest() {
    return StunMessage::bindingRequest().encode();
}
} // namespace

class tst_IceThreads : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { testKey(0); }

    void heartbeatAndQueryOnDifferentWorkers_data() {
        QTest::addColumn<int>("heartbeatWorker");
        QTest::addColumn<int>("queryWorker");
        QTest::newRow("heartbeat on 0, query on 1") << 0 << 1;
        QTest::newRow("heartbeat on 1, query on 0") << 1 << 0;
        QTest::newRow("both on 0 (as one thread)") << 0 << 0;
    }
    void heartbeatAndQueryOnDifferentWorkers() {
        QFETCH(int, heartbeatWorker);
        QFETCH(int, queryWorker);
        Pair pair;
        QVERIFY(pair.keys.trust(DomainID, testKey(0)));
        const SockAddr domainSocket(QHostAddress(QStringLiteral("198.51.100.7")), 50000);
        const SockAddr querier(QHostAddress(QStringLiteral("203.0.113.5")), 61000);

        pair[heartbeatWorker].deliver(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), domainSocket);
        const QList<FakeTransport::Sent> acks = pair[heartbeatWorker].takeSent();
        QCOMPARE(acks.size(), 1);
        QCOMPARE(typeOf(acks[0].datagram), PacketType::ICEServerHeartbeatACK);

        pair[queryWorker].deliver(query(ClientID, ClientPublic, ClientLocal, DomainID), querier);
        const QList<FakeTransport::Sent> answers = pair[queryWorker].takeSent();
        QCOMPARE(answers.size(), 2);
        // The domain's record to the querier, the querier's record to the domain's observed socket,
        // both from the worker that took the query.
        QCOMPARE(answers[0].destination, querier);
        QCOMPARE(typeOf(answers[0].datagram), PacketType::ICEServerPeerInformation);
        QVERIFY(answers[0].datagram.endsWith(NetworkPeer(DomainID, DomainPublic, DomainLocal).toByteArray()));
        QCOMPARE(answers[1].destination, domainSocket);
        QVERIFY(answers[1].datagram.endsWith(NetworkPeer(ClientID, ClientPublic, ClientLocal).toByteArray()));
        QCOMPARE(pair[1 - queryWorker].takeSent().size(), 0);

        const IceServerStats stats = pair.stats();
        QCOMPARE(stats.datagramsIn, quint64(2));
        QCOMPARE(stats.heartbeatsAcked, quint64(1));
        QCOMPARE(stats.registrations, quint64(1));
        QCOMPARE(stats.queriesAnswered, quint64(1));
        QCOMPARE(stats.registeredDomains, 1);
        QCOMPARE(stats.totalDrops(), quint64(0));
        QCOMPARE(stats.packetsOutByType[size_t(PacketType::ICEServerPeerInformation)], quint64(2));
    }

    void repeatedHeartbeatOnOtherWorkerTakesFastPath() {
        // A domain's socket normally stays on one worker; when the kernel rehashes (a worker's
        // socket closed) its next heartbeat lands elsewhere and must still be the cheap repeat.
        Pair pair;
        QVERIFY(pair.keys.trust(DomainID, testKey(0)));
        const QByteArray heartbeat = signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
        pair[0].deliver(heartbeat, DomainPublic);
        pair[1].deliver(heartbeat, DomainPublic);
        QCOMPARE(pair[1].takeSent().size(), 1);
        const IceServerStats second = pair[1].traffic();
        QCOMPARE(second.heartbeatsAcked, quint64(1));
        QCOMPARE(second.verifyCacheHits, quint64(1));
        QCOMPARE(second.rsaVerifies, quint64(0));
        QCOMPARE(pair.stats().rsaVerifies, quint64(1));
    }

    void replayFromElsewhereIgnoredAcrossWorkers() {
        // The replay rule holds whichever worker sees the replay: the record stays with the domain.
        Pair pair;
        QVERIFY(pair.keys.trust(DomainID, testKey(0)));
        const QByteArray heartbeat = signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0));
        pair[0].deliver(heartbeat, DomainPublic);
        const SockAddr attacker(QHostAddress(QStringLiteral("192.0.2.66")), 40102);
        pair[1].deliver(heartbeat, attacker);
        QCOMPARE(pair.stats().drops[IceServerStats::ReplayIgnored], quint64(1));
        QCOMPARE(*pair.shared.peers->find(DomainID)->peer.getActiveSocket(), DomainPublic);

        pair[1].takeSent();
        pair[1].deliver(query(ClientID, ClientPublic, ClientLocal, DomainID), ClientPublic);
        const QList<FakeTransport::Sent> answers = pair[1].takeSent();
        QCOMPARE(answers.size(), 2);
        QCOMPARE(answers[1].destination, DomainPublic);
    }

    void rateLimitIsPerSourceAcrossWorkers() {
        // One IP from many ports: the kernel spreads it over the workers, the limit still counts it once.
        IceServerSettings settings;
        settings.rateLimit.packetsPerSecond = 1;
        settings.rateLimit.burst = 4;
        Pair pair(settings);
        for (int i = 0; i < 10; ++i) {
            pair[i % 2].deliver(stunRequest(),
                                SockAddr(QHostAddress(QStringLiteral("203.0.113.9")), quint16(40000 + i)));
        }
        const int answered = pair[0].takeSent().size() + pair[1].takeSent().size();
        QCOMPARE(answered, 4);
        const IceServerStats stats = pair.stats();
        QCOMPARE(stats.drops[IceServerStats::RateLimited], quint64(6));
        QCOMPARE(stats.stunOut, quint64(4));
        QCOMPARE(stats.datagramsIn, quint64(10));
        QCOMPARE(stats.rateLimitedSources, quint64(1));
        QCOMPARE(stats.rateLimitTrackedSources, 1);

        // Another source has its own bucket, on either worker.
        pair[1].deliver(stunRequest(), SockAddr(QHostAddress(QStringLiteral("203.0.113.10")), 40000));
        QCOMPARE(pair[1].takeSent().size(), 1);
    }

    void oneWorkerSweepsTheSharedTable() {
        IceServerSettings settings;
        settings.peerTimeoutMs = 5000;
        Pair pair(settings);
        QVERIFY(pair.keys.trust(DomainID, testKey(0)));
        pair[1].deliver(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), DomainPublic);
        QCOMPARE(pair[1].takeSent().size(), 1);
        QCOMPARE(pair.shared.peers->size(), 1);
        pair.now += 5001;
        pair[0].run([&] { pair[0].server()->clearInactivePeers(); });
        QCOMPARE(pair.shared.peers->size(), 0);
        const IceServerStats stats = pair.stats();
        QCOMPARE(stats.expirations, quint64(1));
        QCOMPARE(stats.registeredDomains, 0);
        pair[1].deliver(query(ClientID, ClientPublic, ClientLocal, DomainID), ClientPublic);
        QCOMPARE(pair[1].takeSent().size(), 0);
        QCOMPARE(pair.stats().drops[IceServerStats::UnknownDomain], quint64(1));
    }

    void concurrentHeartbeatsAndQueries() {
        // Both workers busy at once on the same domains (what the sanitizers watch): worker 0
        // takes every domain's repeated heartbeats, worker 1 the queries for them.
        IceServerSettings settings;
        settings.rateLimit.packetsPerSecond = 0; // thousands from one querier address
        Pair pair(settings);
        QVERIFY(pair.keys.trust(DomainID, testKey(0)));
        constexpr int Domains = 16;
        constexpr int Rounds = 200;
        QList<QByteArray> heartbeats;
        QList<QByteArray> queries;
        QList<SockAddr> sockets;
        for (int i = 0; i < Domains; ++i) {
            // One key file per domain ID (the same key in each).
            const QUuid id = QUuid::createUuid();
            QVERIFY(pair.keys.trust(id, testKey(0)));
            sockets.append(SockAddr(QHostAddress(QStringLiteral("198.51.100.%1").arg(i + 1)), 40102));
            heartbeats.append(signedHeartbeat(id, sockets.last(), DomainLocal, testKey(0)));
            queries.append(query(ClientID, ClientPublic, ClientLocal, id));
            pair[0].deliver(heartbeats.last(), sockets.last());
        }
        pair[0].takeSent();

        std::atomic<int> done { 0 };
        FakeTransport *t0 = pair[0].transport();
        FakeTransport *t1 = pair[1].transport();
        QMetaObject::invokeMethod(t0, [&] {
            for (int r = 0; r < Rounds; ++r) {
                for (int i = 0; i < Domains; ++i) {
                    t0->inject(heartbeats[i], sockets[i]);
                }
                t0->clearSent();
            }
            ++done;
        });
        QMetaObject::invokeMethod(t1, [&] {
            for (int r = 0; r < Rounds; ++r) {
                for (int i = 0; i < Domains; ++i) {
                    t1->inject(queries[i], ClientPublic);
                }
                t1->clearSent();
            }
            ++done;
        });
        // Meanwhile the main thread reads the aggregate, as /status does every second.
        while (done.load() < 2) {
            const IceServerStats snapshot = pair.stats();
            QVERIFY(snapshot.queriesAnswered <= quint64(Domains * Rounds));
            QTest::qWait(1);
        }
        const IceServerStats stats = pair.stats();
        QCOMPARE(stats.heartbeatsAcked, quint64(Domains * (Rounds + 1)));
        QCOMPARE(stats.queriesAnswered, quint64(Domains * Rounds));
        QCOMPARE(stats.totalDrops(), quint64(0));
        QCOMPARE(stats.registeredDomains, Domains);
        QCOMPARE(stats.rsaVerifies, quint64(Domains));
    }

    void realSocketsSpreadOverThreads_data() {
        QTest::addColumn<TransportKind>("kind");
        QTest::newRow("qt") << TransportKind::Qt;
        if (nativeTransportAvailable()) {
            QTest::newRow("native") << TransportKind::Native;
        }
    }
    void realSocketsSpreadOverThreads() {
        if (!SocketTransport::reusePortAvailable()) {
            QSKIP("no SO_REUSEPORT load balancing on this platform: --threads is 1 here");
        }
        QFETCH(TransportKind, kind);
        Keys keys;
        QVERIFY(keys.trust(DomainID, testKey(0)));
        // The domain heartbeats once: it must stay registered while 64 clients are answered, however
        // slowly a loaded machine runs them (the default 5 s timeout once expired it mid-test).
        IceServerSettings settings;
        settings.peerTimeoutMs = 120000;
        IceServerThreads threads(keys.store.data(), settings);
        QVERIFY2(threads.start(2, 0,
                               [kind](quint16 port, QString *error) {
                                   std::unique_ptr<SocketTransport> t = makeSocketTransport(kind);
                                   t->setReusePort(true);
                                   if (!t->bind(QHostAddress::LocalHost, port)) {
                                       *error = t->errorString();
                                       return std::unique_ptr<SocketTransport>();
                                   }
                                   return t;
                               }),
                 qPrintable(threads.errorString()));
        QCOMPARE(threads.threadCount(), 2);
        const QList<IpEndpoint> bound = threads.boundSockets();
        QCOMPARE(bound.size(), 1);
        const SockAddr server = bound.first();
        QVERIFY(server.getPort() != 0);

        UdpEndpoint domain;
        domain.send(signedHeartbeat(DomainID, DomainPublic, DomainLocal, testKey(0)), server);
        QTRY_COMPARE(domain.received.size(), 1);
        QCOMPARE(typeOf(domain.received[0]), PacketType::ICEServerHeartbeatACK);

        // Many source sockets: the kernel hashes each to one of the two sockets. A client asks again
        // every second until answered, as a real one does: a query lost in a loaded kernel is not
        // what this test is about, but a socket or thread that stops answering still fails it.
        constexpr int Clients = 64;
        const QByteArray ask = query(ClientID, ClientPublic, ClientLocal, DomainID);
        std::vector<std::unique_ptr<UdpEndpoint>> clients;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(std::make_unique<UdpEndpoint>());
            clients.back()->send(ask, server);
        }
        int queriesSent = Clients;
        const auto perThreadIn = [&threads] {
            return QStringLiteral("datagrams in per thread: %1, %2")
                .arg(threads.trafficStats(0).datagramsIn)
                .arg(threads.trafficStats(1).datagramsIn);
        };
        for (const auto &client : clients) {
            QElapsedTimer waited;
            waited.start();
            while (client->received.isEmpty() && waited.elapsed() < 15000) {
                QTest::qWait(1000);
                if (client->received.isEmpty()) {
                    client->send(ask, server);
                    ++queriesSent;
                }
            }
            QVERIFY2(!client->received.isEmpty(), qPrintable(perThreadIn()));
            QCOMPARE(typeOf(client->received[0]), PacketType::ICEServerPeerInformation);
            QCOMPARE(client->senders[0], server); // the address and port the client asked
        }
        if (queriesSent > Clients) {
            qInfo().noquote() << queriesSent - Clients << "queries asked again;" << perThreadIn();
        }
        // Every query that arrived was answered, and the domain hears of every one, from the port its
        // heartbeats went to, whichever thread's socket sent it.
        const quint64 queriesIn = threads.stats().datagramsIn - 1;
        QVERIFY(queriesIn >= quint64(Clients) && queriesIn <= quint64(queriesSent));
        QTRY_COMPARE(quint64(domain.received.size()), 1 + queriesIn);
        for (int i = 0; i < domain.received.size(); ++i) {
            QCOMPARE(domain.senders[i], server);
        }

        QList<quint64> perThread;
        for (int i = 0; i < 2; ++i) {
            perThread.append(threads.trafficStats(i).queriesAnswered);
        }
        qInfo() << "queries answered per thread:" << perThread;
        QVERIFY2(perThread[0] > 0 && perThread[1] > 0, "the kernel put every client on one socket");
        const IceServerStats stats = threads.stats();
        QCOMPARE(stats.queriesAnswered, queriesIn);
        QCOMPARE(stats.heartbeatsAcked, quint64(1));
        QCOMPARE(stats.datagramsIn, queriesIn + 1);
        QCOMPARE(stats.registeredDomains, 1);

        // /metrics reports the sum.
        IceServerMetrics metrics;
        metrics.update(stats, true);
        QVERIFY(QString::fromStdString(metrics.text())
                    .contains(QStringLiteral("ice_server_queries_answered_total %1").arg(queriesIn)));

        threads.stop();
        QCOMPARE(threads.threadCount(), 0);
        // Stopped means closed: the port is free for a socket without SO_REUSEPORT.
        QUdpSocket again;
        QVERIFY(again.bind(server.getAddress(), server.getPort()));
    }

    void realSocketsRateLimitPerIp() {
        if (!SocketTransport::reusePortAvailable()) {
            QSKIP("no SO_REUSEPORT load balancing on this platform: --threads is 1 here");
        }
        // Every client is 127.0.0.1: one source IP from 40 ports, spread over both threads. With
        // a limiter per thread about twice the burst would be answered.
        Keys keys;
        IceServerSettings settings;
        settings.rateLimit.packetsPerSecond = 0.001;
        settings.rateLimit.burst = 10;
        IceServerThreads threads(keys.store.data(), settings);
        QVERIFY(threads.start(2, 0, [](quint16 port, QString *error) {
            std::unique_ptr<SocketTransport> t = makeSocketTransport();
            t->setReusePort(true);
            if (!t->bind(QHostAddress::LocalHost, port)) {
                *error = t->errorString();
                return std::unique_ptr<SocketTransport>();
            }
            return t;
        }));
        const SockAddr server = threads.boundSockets().first();
        constexpr int Clients = 40;
        std::vector<std::unique_ptr<UdpEndpoint>> clients;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(std::make_unique<UdpEndpoint>());
            clients.back()->send(stunRequest(), server);
        }
        QTRY_COMPARE(threads.stats().datagramsIn, quint64(Clients));
        const IceServerStats stats = threads.stats();
        QCOMPARE(stats.stunOut, quint64(10)); // so no more than these can arrive
        auto answered = [&] {
            int sum = 0;
            for (const auto &client : clients) {
                sum += client->received.size();
            }
            return sum;
        };
        QTRY_COMPARE(answered(), 10);
        QCOMPARE(stats.drops[IceServerStats::RateLimited], quint64(Clients - 10));
        QVERIFY2(threads.trafficStats(0).datagramsIn > 0 && threads.trafficStats(1).datagramsIn > 0,
                 "the kernel put every client on one socket");
    }

    void bindFailureStartsNothing() {
        // A port taken by a socket without SO_REUSEPORT: the first worker cannot bind, nothing runs.
        QUdpSocket taken;
        QVERIFY(taken.bind(QHostAddress(QHostAddress::LocalHost), 0));
        Keys keys;
        IceServerThreads threads(keys.store.data(), IceServerSettings());
        const bool started = threads.start(2, taken.localPort(), [](quint16 port, QString *error) {
            std::unique_ptr<SocketTransport> t = makeSocketTransport();
            t->setReusePort(true);
            if (!t->bind(QHostAddress::LocalHost, port)) {
                *error = t->errorString();
                return std::unique_ptr<SocketTransport>();
            }
            return t;
        });
        QVERIFY(!started);
        QVERIFY2(threads.errorString().contains(QStringLiteral("cannot bind")), qPrintable(threads.errorString()));
        QCOMPARE(threads.threadCount(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_IceThreads)
#include "tst_icethreads.moc"
