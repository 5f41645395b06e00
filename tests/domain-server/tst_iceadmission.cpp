// IceAdmission: the domain's flood bounds on their own, at their boundaries, on a FakeClock: which
// new peers get a slot, which datagrams are charged, the budget per address and window, the memory
// of early pings, and the throttled warning.
#include <FakeClock.h>
#include <IceAdmission.h>
#include <SampleValues.h>

#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

class tst_IceAdmission : public QObject {
    Q_OBJECT

    static IceAdmission::Limits limits(int maxPeers, int perTarget, int pings, int windowMs) {
        IceAdmission::Limits limits;
        limits.maxIcePeers = maxPeers;
        limits.maxConnectingPeersPerTarget = perTarget;
        limits.maxPingsPerTarget = pings;
        limits.pingWindowMs = windowMs;
        return limits;
    }
    static SockAddr sock(const char *address, quint16 port) {
        return SockAddr(QHostAddress(QLatin1String(address)), port);
    }

private Q_SLOTS:
    void decideNewPeer_data() {
        QTest::addColumn<int>("perTarget");
        QTest::addColumn<int>("connectingAtTarget");
        QTest::addColumn<int>("peers");
        QTest::addColumn<int>("connectingPeers");
        QTest::addColumn<IceAdmission::PeerDecision>("decision");
        // maxIcePeers is 10 in every row.
        QTest::newRow("empty table") << 4 << 0 << 0 << 0 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("one below the per-address cap") << 4 << 3 << 5 << 5 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("at the per-address cap") << 4 << 4 << 5 << 5 << IceAdmission::PeerDecision::RefusedPerTarget;
        QTest::newRow("per-address cap 0 = no bound") << 0 << 9 << 9 << 9 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("one slot left") << 4 << 0 << 9 << 9 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("full, some punching") << 4 << 0 << 10 << 1 << IceAdmission::PeerDecision::AdmitAfterEviction;
        QTest::newRow("full, all connected") << 4 << 0 << 10 << 0 << IceAdmission::PeerDecision::RefusedTableFull;
        QTest::newRow("per-address cap before the table")
            << 4 << 4 << 10 << 10 << IceAdmission::PeerDecision::RefusedPerTarget;
    }
    void decideNewPeer() {
        QFETCH(int, perTarget);
        QFETCH(int, connectingAtTarget);
        QFETCH(int, peers);
        QFETCH(int, connectingPeers);
        FakeClock clock;
        const IceAdmission admission(limits(10, perTarget, 128, 10000), clock);
        QTEST(admission.decideNewPeer(connectingAtTarget, peers, connectingPeers), "decision");
    }

    void targetAddressIsPublicElseLocal() {
        const NetworkPeer both(samples::clientID(), samples::clientPublic(), samples::clientLocal());
        QCOMPARE(IceAdmission::targetAddress(both), samples::clientPublic().getAddress());
        const NetworkPeer localOnly(samples::clientID(), SockAddr(), samples::clientLocal());
        QCOMPARE(IceAdmission::targetAddress(localOnly), samples::clientLocal().getAddress());
    }

    void isCharged_data() {
        // The enums as ints: their metatypes are not declared by the library.
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("pingType");
        QTest::addColumn<int>("ttl");
        QTest::addColumn<bool>("charged");
        QTest::newRow("reply") << int(PacketType::ICEPingReply) << int(PingType::Public) << 0 << false;
        QTest::newRow("reply to local") << int(PacketType::ICEPingReply) << int(PingType::Local) << 0 << false;
        QTest::newRow("public, full TTL") << int(PacketType::ICEPing) << int(PingType::Public) << 0 << true;
        QTest::newRow("public, TTL 1") << int(PacketType::ICEPing) << int(PingType::Public) << 1 << false;
        QTest::newRow("public, TTL 2") << int(PacketType::ICEPing) << int(PingType::Public) << 2 << false;
        QTest::newRow("public, TTL 3 may arrive") << int(PacketType::ICEPing) << int(PingType::Public) << 3 << true;
        QTest::newRow("local, TTL 2 reaches our LAN") << int(PacketType::ICEPing) << int(PingType::Local) << 2 << true;
        QTest::newRow("local, full TTL") << int(PacketType::ICEPing) << int(PingType::Local) << 0 << true;
        QTest::newRow("symmetric") << int(PacketType::ICEPing) << int(PingType::Symmetric) << 0 << true;
    }
    void isCharged() {
        QFETCH(int, type);
        QFETCH(int, pingType);
        QFETCH(int, ttl);
        QTEST(IceAdmission::isCharged(PacketType(type), PingType(pingType), ttl), "charged");
    }

    void budgetPerAddressAndWindow() {
        FakeClock clock;
        IceAdmission admission(limits(128, 4, 3, 1000), clock);
        const SockAddr victim = sock("198.18.0.99", 1);
        for (int i = 0; i < 3; ++i) {
            // Any port of the address draws on the same budget.
            QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, sock("198.18.0.99", quint16(i + 1)),
                                             0));
        }
        QCOMPARE(admission.budgetUsed(victim.getAddress()), 3);
        QVERIFY(!admission.chargeDatagram(PacketType::ICEPing, PingType::Local, victim, 0));
        // Uncharged datagrams still pass with the budget spent.
        QVERIFY(admission.chargeDatagram(PacketType::ICEPingReply, PingType::Public, victim, 0));
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, victim, 2));
        // Another address has its own budget.
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, samples::clientPublic(), 0));

        clock.advance(999); // the window opened with the first charge and still runs
        QVERIFY(!admission.chargeDatagram(PacketType::ICEPing, PingType::Public, victim, 0));
        clock.advance(1);
        QCOMPARE(admission.budgetUsed(victim.getAddress()), 0);
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, victim, 0));
        QCOMPARE(admission.budgetUsed(victim.getAddress()), 1);
    }

    void budgetTableStaysBoundedUnderManyAddresses() {
        // One charge each to more addresses than are tracked: the table is swept of finished
        // windows, and a fresh window for a swept address starts with its whole budget.
        FakeClock clock;
        IceAdmission admission(limits(128, 4, 1, 1000), clock);
        const auto address = [](int i) { return SockAddr(QHostAddress(quint32(0xC6120000u + quint32(i))), 9); };
        for (int i = 0; i < IceAdmission::MaxTrackedBudgets; ++i) {
            QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, address(i), 0));
        }
        QVERIFY(!admission.chargeDatagram(PacketType::ICEPing, PingType::Public, address(0), 0));
        clock.advance(1000);
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public,
                                         address(IceAdmission::MaxTrackedBudgets), 0));
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, address(0), 0));
    }

    void relayedAddressesAreBoundedOneByOneAndTogether_data() {
        QTest::addColumn<int>("connectingAtTarget");
        QTest::addColumn<int>("connectingAtRelay");
        QTest::addColumn<IceAdmission::PeerDecision>("decision");
        // maxIcePeers 128, 4 per relayed address, 16 per relay.
        QTest::newRow("not relayed") << 0 << -1 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("15 others at the relay") << 0 << 15 << IceAdmission::PeerDecision::Admit;
        QTest::newRow("the relay's share taken") << 0 << 16 << IceAdmission::PeerDecision::RefusedPerRelay;
        QTest::newRow("per address first") << 4 << 16 << IceAdmission::PeerDecision::RefusedPerTarget;
        QTest::newRow("one relayed address full") << 4 << 4 << IceAdmission::PeerDecision::RefusedPerTarget;
    }
    void relayedAddressesAreBoundedOneByOneAndTogether() {
        QFETCH(int, connectingAtTarget);
        QFETCH(int, connectingAtRelay);
        FakeClock clock;
        IceAdmission::Limits relayLimits = limits(128, 4, 128, 10000);
        relayLimits.maxConnectingPeersPerRelay = 16;
        const IceAdmission admission(relayLimits, clock);
        QTEST(admission.decideNewPeer(connectingAtTarget, 20, 20, connectingAtRelay), "decision");
    }

    void boundKeyIsTheIpUnlessATrustedRelay() {
        FakeClock clock;
        IceAdmission::Limits relayLimits = limits(128, 4, 128, 10000);
        relayLimits.trustedRelays = { QHostAddress(QStringLiteral("203.0.113.7")) };
        const IceAdmission admission(relayLimits, clock);
        QCOMPARE(admission.boundKey(sock("198.18.0.99", 4000)), sock("198.18.0.99", 0));
        QCOMPARE(admission.boundKey(sock("203.0.113.7", 49152)), sock("203.0.113.7", 49152));
        // The IPv4-mapped form of the relay's address is the relay.
        QVERIFY(admission.isTrustedRelay(QHostAddress(QStringLiteral("::ffff:203.0.113.7"))));
        QVERIFY(!admission.isTrustedRelay(QHostAddress(QStringLiteral("203.0.113.8"))));
        const NetworkPeer relayed(samples::clientID(), sock("203.0.113.7", 49152), sock("10.0.0.2", 5000));
        QCOMPARE(IceAdmission::targetSocket(relayed), sock("203.0.113.7", 49152));
    }

    void relayedBudgetsPerAddressAndForTheRelay() {
        FakeClock clock;
        IceAdmission::Limits relayLimits = limits(128, 4, 3, 1000);
        relayLimits.trustedRelays = { QHostAddress(QStringLiteral("203.0.113.7")) };
        relayLimits.maxPingsPerRelay = 10;
        IceAdmission admission(relayLimits, clock);
        // One relayed address has the per-target budget...
        for (int i = 0; i < 3; ++i) {
            QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, sock("203.0.113.7", 49152), 0));
        }
        QVERIFY(!admission.chargeDatagram(PacketType::ICEPing, PingType::Public, sock("203.0.113.7", 49152), 0));
        QCOMPARE(admission.budgetUsed(sock("203.0.113.7", 49152)), 3);
        // ...and the relay's other addresses have theirs, until the relay's own budget is spent.
        for (int i = 0; i < 7; ++i) {
            QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public,
                                             sock("203.0.113.7", quint16(50000 + i)), 0));
        }
        QCOMPARE(admission.budgetUsed(QHostAddress(QStringLiteral("203.0.113.7"))), 10);
        QVERIFY(!admission.chargeDatagram(PacketType::ICEPing, PingType::Public, sock("203.0.113.7", 60000), 0));
        // A refused ping charged nothing.
        QCOMPARE(admission.budgetUsed(sock("203.0.113.7", 60000)), 0);
        QCOMPARE(admission.budgetUsed(QHostAddress(QStringLiteral("203.0.113.7"))), 10);
        // Replies stay free; other addresses are untouched.
        QVERIFY(admission.chargeDatagram(PacketType::ICEPingReply, PingType::Public, sock("203.0.113.7", 60000), 0));
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, samples::clientPublic(), 0));
        clock.advance(1000);
        QVERIFY(admission.chargeDatagram(PacketType::ICEPing, PingType::Public, sock("203.0.113.7", 60000), 0));
    }

    void earlyPingIsRememberedForTwoSeconds() {
        FakeClock clock;
        IceAdmission admission(limits(128, 4, 128, 10000), clock);
        IceAdmission::EarlyPing ping;
        QVERIFY(!admission.takeEarlyPing(samples::clientID(), &ping));

        admission.rememberEarlyPing(samples::clientID(), PingType::Local, samples::clientLocal());
        clock.advance(IceAdmission::EarlyPingMemoryMs - 1);
        QVERIFY(admission.takeEarlyPing(samples::clientID(), &ping));
        QCOMPARE(ping.sender, samples::clientLocal());
        QCOMPARE(ping.type, PingType::Local);
        QVERIFY(!admission.takeEarlyPing(samples::clientID(), &ping)); // taken once only

        admission.rememberEarlyPing(samples::clientID(), PingType::Public, samples::clientPublic());
        clock.advance(IceAdmission::EarlyPingMemoryMs);
        QVERIFY(!admission.takeEarlyPing(samples::clientID(), &ping));
        QCOMPARE(admission.earlyPingCount(), 0);
    }

    void earlyPingsAreBoundedUnderAFlood() {
        FakeClock clock;
        IceAdmission admission(limits(128, 4, 128, 10000), clock);
        QList<QUuid> ids;
        for (int i = 0; i <= IceAdmission::MaxEarlyPings; ++i) {
            ids.append(QUuid::createUuid());
            admission.rememberEarlyPing(ids.last(), PingType::Public, samples::clientPublic());
        }
        QCOMPARE(admission.earlyPingCount(), IceAdmission::MaxEarlyPings);
        IceAdmission::EarlyPing ping;
        QVERIFY(!admission.takeEarlyPing(ids.last(), &ping)); // the one past the bound was not kept
        QVERIFY(admission.takeEarlyPing(ids.first(), &ping));
        // Once the flood's pings are stale they make room for a new one.
        admission.rememberEarlyPing(QUuid::createUuid(), PingType::Public, samples::clientPublic());
        clock.advance(IceAdmission::EarlyPingMemoryMs);
        const QUuid late = QUuid::createUuid();
        admission.rememberEarlyPing(late, PingType::Local, samples::clientLocal());
        QCOMPARE(admission.earlyPingCount(), 1);
        QVERIFY(admission.takeEarlyPing(late, &ping));
    }

    void boundWarningsAreThrottled() {
        FakeClock clock;
        IceAdmission admission(limits(128, 4, 128, 10000), clock);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("^budget spent \\(1 times since the last")));
        QVERIFY(admission.logBound(QStringLiteral("budget spent")));
        QVERIFY(!admission.logBound(QStringLiteral("budget spent")));
        clock.advance(IceAdmission::BoundLogIntervalMs - 1);
        QVERIFY(!admission.logBound(QStringLiteral("budget spent")));
        clock.advance(1);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^table full \\(3 times since the last")));
        QVERIFY(admission.logBound(QStringLiteral("table full")));
    }
};

QTEST_GUILESS_MAIN(tst_IceAdmission)
#include "tst_iceadmission.moc"
