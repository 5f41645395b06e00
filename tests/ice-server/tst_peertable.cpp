// The replay rule and the bounded state, with the clock in the test's hands: PeerTable decides
// where a domain's peer information goes, SourceRateLimiter keeps a bounded set of buckets.
#include <PeerTable.h>
#include <SourceRateLimiter.h>

#include <algorithm>
#include <vector>

#include <QtTest/QtTest>

#include <atomic>
#include <thread>

namespace {
const QUuid Domain(QStringLiteral("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
SockAddr addr(const char *ip, quint16 port) {
    return SockAddr(QHostAddress(QString::fromLatin1(ip)), port);
}

IceServerHeartbeat heartbeat(const SockAddr &publicSocket, const SockAddr &localSocket) {
    IceServerHeartbeat hb;
    hb.domainID = Domain;
    hb.publicSocket = publicSocket;
    hb.localSocket = localSocket;
    return hb;
}
} // namespace

class tst_PeerTable : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void replayRule_data() {
        QTest::addColumn<SockAddr>("reportedPublic");
        QTest::addColumn<SockAddr>("secondSender");
        QTest::addColumn<qint64>("silenceMs");
        QTest::addColumn<int>("expected");
        const SockAddr pub = addr("198.51.100.7", 40102);
        const auto Moved = int(PeerTable::Decision::Moved);
        const auto Ignored = int(PeerTable::Decision::Ignored);
        const auto Refreshed = int(PeerTable::Decision::Refreshed);
        QTest::newRow("same sender refreshes") << pub << addr("198.51.100.7", 50000) << qint64(100) << Refreshed;
        QTest::newRow("NAT port change on reported IP moves")
            << pub << addr("198.51.100.7", 50001) << qint64(100) << Moved;
        QTest::newRow("LAN address moves") << pub << addr("10.0.0.2", 40102) << qint64(100) << Moved;
        QTest::newRow("other IP while live is ignored") << pub << addr("192.0.2.66", 40102) << qint64(100) << Ignored;
        QTest::newRow("other IP just before takeover") << pub << addr("192.0.2.66", 40102) << qint64(2499) << Ignored;
        QTest::newRow("other IP after silence takes over") << pub << addr("192.0.2.66", 40102) << qint64(2500) << Moved;
        QTest::newRow("null public, other IP while live")
            << SockAddr() << addr("192.0.2.66", 1) << qint64(100) << Ignored;
    }
    void replayRule() {
        QFETCH(SockAddr, reportedPublic);
        QFETCH(SockAddr, secondSender);
        QFETCH(qint64, silenceMs);
        QFETCH(int, expected);
        PeerTable table(10, 2500);
        const IceServerHeartbeat hb = heartbeat(reportedPublic, addr("10.0.0.2", 40102));
        const QByteArray payload("payload");
        const SockAddr first = addr("198.51.100.7", 50000);
        QCOMPARE(table.applyVerifiedHeartbeat(hb, first, payload, 1, 1000), PeerTable::Decision::Registered);
        QCOMPARE(*table.find(Domain)->peer.getActiveSocket(), first);

        const auto decision = table.applyVerifiedHeartbeat(hb, secondSender, payload, 1, 1000 + silenceMs);
        QCOMPARE(int(decision), expected);
        const SockAddr active = *table.find(Domain)->peer.getActiveSocket();
        QCOMPARE(active, expected == int(PeerTable::Decision::Ignored) ? first : secondSender);
        // An ignored heartbeat does not keep the domain alive either.
        QCOMPARE(table.find(Domain)->lastHeardMs,
                 expected == int(PeerTable::Decision::Ignored) ? 1000 : 1000 + silenceMs);
    }

    void newContentUpdatesPeerInformation() {
        PeerTable table(10, 2500);
        const SockAddr sender = addr("198.51.100.7", 40102);
        table.applyVerifiedHeartbeat(heartbeat(sender, addr("10.0.0.2", 1)), sender, QByteArray("a"), 1, 0);
        QCOMPARE(table.find(Domain)->peer.activeSocketKind(), NetworkPeer::ActiveSocket::Public);
        table.applyVerifiedHeartbeat(heartbeat(sender, addr("10.0.0.3", 1)), sender, QByteArray("b"), 1, 10);
        const std::optional<PeerTable::Peer> peer = table.find(Domain);
        QCOMPARE(peer->peer.getLocalSocket(), addr("10.0.0.3", 1));
        QCOMPARE(peer->peerInformation, NetworkPeer(Domain, sender, addr("10.0.0.3", 1)).toByteArray());
        QVERIFY(peer->peer.getActiveSocket());
        QVERIFY(table.isKnownGood(Domain, QByteArray("b"), 1));
        QVERIFY(!table.isKnownGood(Domain, QByteArray("b"), 2));
        QVERIFY(!table.isKnownGood(Domain, QByteArray("a"), 1));
    }

    // A domain heartbeating before its STUN answered (or after it failed) reports a null public
    // socket; queriers get where its heartbeats come from instead, until it reports one itself.
    void nullPublicSocketAnnouncesTheSender_data() {
        QTest::addColumn<SockAddr>("reportedPublic");
        QTest::newRow("before STUN answered (ff 00 00)") << SockAddr();
        QTest::newRow("STUN failed (ff and the local port)") << SockAddr(QHostAddress(), 40102);
    }
    void nullPublicSocketAnnouncesTheSender() {
        QFETCH(SockAddr, reportedPublic);
        PeerTable table(10, 2500);
        const SockAddr local = addr("10.0.0.2", 40102);
        const SockAddr sender = addr("198.51.100.7", 50000);
        QCOMPARE(table.applyVerifiedHeartbeat(heartbeat(reportedPublic, local), sender, QByteArray("a"), 1, 0),
                 PeerTable::Decision::Registered);
        PeerTable::Route route;
        QVERIFY(table.route(Domain, &route));
        QCOMPARE(route.activeSocket, sender);
        QCOMPARE(route.peerInformation, NetworkPeer(Domain, sender, local).toByteArray());

        // The same heartbeat again changes nothing; the fast path agrees.
        QVERIFY(table.refreshRepeat(Domain, QByteArray("a"), sender, 1, 1000));
        QCOMPARE(table.applyVerifiedHeartbeat(heartbeat(reportedPublic, local), sender, QByteArray("a"), 1, 1100),
                 PeerTable::Decision::Refreshed);
        QVERIFY(table.route(Domain, &route));
        QCOMPARE(route.peerInformation, NetworkPeer(Domain, sender, local).toByteArray());

        // STUN answers with another mapping than the one seen here (a symmetric NAT): what the
        // domain reports wins, and its heartbeats still arrive from the sender.
        const SockAddr stunMapped = addr("198.51.100.7", 40102);
        QCOMPARE(table.applyVerifiedHeartbeat(heartbeat(stunMapped, local), sender, QByteArray("b"), 1, 2000),
                 PeerTable::Decision::Refreshed);
        QVERIFY(table.route(Domain, &route));
        QCOMPARE(route.activeSocket, sender);
        QCOMPARE(route.peerInformation, NetworkPeer(Domain, stunMapped, local).toByteArray());
        QCOMPARE(table.find(Domain)->peer.activeSocketKind(), NetworkPeer::ActiveSocket::Symmetric);
    }

    void nullPublicSocketFollowsAMove() {
        // Silent long enough, the domain comes back from elsewhere (rule d): the announced public
        // socket is the new sender, and only a sender the replay rule accepts can become it.
        PeerTable table(10, 2500);
        const SockAddr local = addr("10.0.0.2", 40102);
        const IceServerHeartbeat hb = heartbeat(SockAddr(), local);
        const SockAddr first = addr("198.51.100.7", 50000);
        const SockAddr stranger = addr("192.0.2.66", 40102);
        table.applyVerifiedHeartbeat(hb, first, QByteArray("a"), 1, 0);
        QCOMPARE(table.applyVerifiedHeartbeat(hb, stranger, QByteArray("a"), 1, 100), PeerTable::Decision::Ignored);
        QCOMPARE(table.find(Domain)->peerInformation, NetworkPeer(Domain, first, local).toByteArray());

        const SockAddr moved = addr("203.0.113.9", 61000);
        QCOMPARE(table.applyVerifiedHeartbeat(hb, moved, QByteArray("a"), 1, 3000), PeerTable::Decision::Moved);
        PeerTable::Route route;
        QVERIFY(table.route(Domain, &route));
        QCOMPARE(route.activeSocket, moved);
        QCOMPARE(route.peerInformation, NetworkPeer(Domain, moved, local).toByteArray());
    }

    void expiryAndBound() {
        PeerTable table(2, 2500);
        const SockAddr s = addr("192.0.2.1", 1);
        for (int i = 0; i < 3; ++i) {
            IceServerHeartbeat hb = heartbeat(s, s);
            hb.domainID = QUuid::createUuid();
            const auto decision = table.applyVerifiedHeartbeat(hb, s, QByteArray("x"), 1, i * 1000);
            QCOMPARE(decision, i < 2 ? PeerTable::Decision::Registered : PeerTable::Decision::TableFull);
        }
        QCOMPARE(table.expire(5500, 5000), 1); // the one heard at 0 ms
        QCOMPARE(table.size(), 1);
    }

    void boundHoldsAcrossThreads() {
        // Two threads register different domains into one table at once: never more than
        // maxDomains, and every domain is either registered or refused.
        constexpr int Max = 300;
        constexpr int PerThread = 400;
        PeerTable table(Max, 2500);
        std::atomic<int> registered { 0 }, full { 0 }, unroutable { 0 };
        auto registerMany = [&](int offset) {
            for (int i = 0; i < PerThread; ++i) {
                const SockAddr s = addr("192.0.2.1", quint16(offset + i));
                IceServerHeartbeat hb = heartbeat(s, s);
                hb.domainID = QUuid::createUuid();
                PeerTable::Route route;
                switch (table.applyVerifiedHeartbeat(hb, s, QByteArray("x"), 1, 0)) {
                case PeerTable::Decision::Registered:
                    ++registered;
                    unroutable += table.route(hb.domainID, &route) && route.activeSocket == s ? 0 : 1;
                    break;
                case PeerTable::Decision::TableFull: ++full; break;
                default: break;
                }
            }
        };
        std::thread a(registerMany, 1000), b(registerMany, 2000);
        a.join();
        b.join();
        QCOMPARE(registered.load(), Max);
        QCOMPARE(full.load(), 2 * PerThread - Max);
        QCOMPARE(unroutable.load(), 0);
        QCOMPARE(table.size(), Max);
        QCOMPARE(table.expire(10000, 5000), Max);
        QCOMPARE(table.size(), 0);
    }

    void routeCopiesWhatAQueryNeeds() {
        PeerTable table(10, 2500);
        PeerTable::Route route;
        QVERIFY(!table.route(Domain, &route));
        const SockAddr sender = addr("198.51.100.7", 50000);
        table.applyVerifiedHeartbeat(heartbeat(addr("198.51.100.7", 40102), addr("10.0.0.2", 1)), sender,
                                     QByteArray("a"), 1, 0);
        QVERIFY(table.route(Domain, &route));
        QCOMPARE(route.activeSocket, sender);
        QCOMPARE(route.peerInformation, table.find(Domain)->peerInformation);
        QVERIFY(table.remove(Domain));
        QVERIFY(!table.remove(Domain));
        QCOMPARE(table.size(), 0);
    }

    void shardedRateLimiterIsExactPerSource() {
        // Shared by several threads the limiter is sharded; each source still has one bucket.
        RateLimitSettings settings;
        settings.packetsPerSecond = 10;
        settings.burst = 5;
        settings.maxSources = 1024;
        SourceRateLimiter limiter(settings, 64);
        for (int source = 1; source <= 20; ++source) {
            const QHostAddress address(QStringLiteral("192.0.2.%1").arg(source));
            int allowed = 0;
            for (int i = 0; i < 8; ++i) {
                allowed += limiter.allow(address, 0) ? 1 : 0;
            }
            QCOMPARE(allowed, 5);
        }
        QCOMPARE(limiter.trackedSources(), 20);
        QCOMPARE(limiter.counters().limitedSources, quint64(20));
        QCOMPARE(limiter.counters().limited, quint64(20 * 3));

        // Two threads on one source: the burst is shared, not doubled.
        const QHostAddress one(QStringLiteral("203.0.113.1"));
        std::atomic<int> allowed { 0 };
        auto hammer = [&] {
            for (int i = 0; i < 1000; ++i) {
                allowed += limiter.allow(one, 0) ? 1 : 0;
            }
        };
        std::thread a(hammer), b(hammer);
        a.join();
        b.join();
        QCOMPARE(allowed.load(), 5);
    }

    void rateLimiterBuckets() {
        RateLimitSettings settings;
        settings.packetsPerSecond = 10;
        settings.burst = 2;
        settings.maxSources = 3;
        SourceRateLimiter limiter(settings);
        const QHostAddress a(QStringLiteral("192.0.2.1"));
        QVERIFY(limiter.allow(a, 0));
        QVERIFY(limiter.allow(a, 0));
        QVERIFY(!limiter.allow(a, 0));
        QVERIFY(!limiter.allow(a, 50));
        QVERIFY(limiter.allow(a, 100)); // 10/s refills one token in 100 ms
        QCOMPARE(limiter.counters().limitedSources, quint64(1));
        // IPv4 and its IPv4-mapped IPv6 form share one bucket.
        QVERIFY(!limiter.allow(QHostAddress(QStringLiteral("::ffff:192.0.2.1")), 100));
        for (int i = 2; i < 10; ++i) {
            limiter.allow(QHostAddress(QStringLiteral("192.0.2.%1").arg(i)), 100);
        }
        QCOMPARE(limiter.trackedSources(), 3);
        QCOMPARE(limiter.counters().evictions, quint64(6)); // 9 sources, 3 kept
    }

    void trustedRelayGetsABucketPerRelayedAddress_data() {
        QTest::addColumn<bool>("trusted");
        QTest::addColumn<int>("allowedDomains");
        // Untrusted, the relay's IP is one source: 100 domains share 50 packets/s, enough for 25.
        QTest::newRow("relay not trusted") << false << 25;
        QTest::newRow("trusted relay") << true << 100;
    }
    void trustedRelayGetsABucketPerRelayedAddress() {
        // 100 domains heartbeat through one TURN server, each 2 packets/s (heartbeat and STUN) for
        // 10 s of driven time: a domain is "allowed" when none of its packets was dropped.
        QFETCH(bool, trusted);
        RateLimitSettings settings; // 50/s, burst 100: the binary's defaults
        const QHostAddress relay(QStringLiteral("203.0.113.7"));
        if (trusted) {
            settings.trustedRelays = { relay };
        }
        SourceRateLimiter limiter(settings);
        std::vector<bool> dropped(100, false);
        for (qint64 now = 0; now < 10000; now += 500) {
            for (int domain = 0; domain < 100; ++domain) {
                dropped[domain] = !limiter.allow(SockAddr(relay, quint16(49152 + domain)), now) || dropped[domain];
            }
        }
        QTEST(int(std::count(dropped.cbegin(), dropped.cend(), false)), "allowedDomains");
    }

    void spoofingATrustedRelayBuysOnlyItsAggregate() {
        // Anyone may send from (or spoof) the relay's IP with any port: one relayed address gets
        // the ordinary per-source rate, all of them together the relay's aggregate.
        RateLimitSettings settings;
        settings.packetsPerSecond = 10;
        settings.burst = 10;
        settings.relayPacketsPerSecond = 100;
        settings.relayBurst = 100;
        const QHostAddress relay(QStringLiteral("203.0.113.7"));
        settings.trustedRelays = { relay };
        SourceRateLimiter limiter(settings);
        int allowedOnePort = 0;
        for (int i = 0; i < 1000; ++i) {
            allowedOnePort += limiter.allow(SockAddr(relay, 40000), 0) ? 1 : 0;
        }
        QCOMPARE(allowedOnePort, 10);
        int allowedManyPorts = 0;
        for (int i = 0; i < 1000; ++i) {
            allowedManyPorts += limiter.allow(SockAddr(relay, quint16(1 + i)), 0) ? 1 : 0;
        }
        QCOMPARE(allowedManyPorts, 90); // the aggregate's burst of 100, 10 of it spent above
        // One second later, the aggregate refilled at its rate: 100 more across ports.
        int allowedLater = 0;
        for (int i = 0; i < 1000; ++i) {
            allowedLater += limiter.allow(SockAddr(relay, quint16(2000 + i)), 1000) ? 1 : 0;
        }
        QCOMPARE(allowedLater, 100);
        // A source that is not a relay is one bucket whatever its port.
        const QHostAddress other(QStringLiteral("198.18.0.1"));
        int allowedOther = 0;
        for (int i = 0; i < 100; ++i) {
            allowedOther += limiter.allow(SockAddr(other, quint16(1 + i)), 1000) ? 1 : 0;
        }
        QCOMPARE(allowedOther, 10);
    }
};

QTEST_GUILESS_MAIN(tst_PeerTable)
#include "tst_peertable.moc"
