// PunchRound, the round both sides send: which sockets, in which order, with which TTL, and the
// one decision about the symmetric socket (full TTL even in a priming round); and PunchTiming, when
// both sides send their rounds.
#include <PunchRound.h>
#include <PunchTiming.h>
#include <SampleValues.h>

#include <QtTest/QTest>

class tst_PunchRound : public QObject {
    Q_OBJECT

    static QList<SockAddr> destinations(const QList<PunchRound::Ping> &pings) {
        QList<SockAddr> out;
        for (const PunchRound::Ping &ping : pings) {
            out.append(ping.destination);
        }
        return out;
    }
    static QList<int> ttls(const QList<PunchRound::Ping> &pings) {
        QList<int> out;
        for (const PunchRound::Ping &ping : pings) {
            out.append(ping.ttl);
        }
        return out;
    }

private Q_SLOTS:
    // The one parser of --punch-ttl, for the client and the domain alike.
    void parse_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QList<int>>("ttls");
        QTest::newRow("default") << "2,2" << true << QList<int> { 2, 2 };
        QTest::newRow("carrier-grade NAT") << "3,3" << true << QList<int> { 3, 3 };
        QTest::newRow("spaces") << " 2, 3 ,4" << true << QList<int> { 2, 3, 4 };
        QTest::newRow("zero disables") << "0" << true << QList<int> {};
        QTest::newRow("empty disables") << "" << true << QList<int> {};
        QTest::newRow("garbage") << "2,x" << false << QList<int> { 99 };
        QTest::newRow("too big") << "256" << false << QList<int> { 99 };
        QTest::newRow("negative") << "-1" << false << QList<int> { 99 };
    }
    void parse() {
        QFETCH(QString, text);
        QFETCH(QList<int>, ttls);
        PunchTtlSchedule schedule { 99 };
        QTEST(PunchTtlSchedule::parse(text, &schedule), "ok");
        // Element by element: Qt 6.4's QList == hands memcmp a null pointer for two empty lists,
        // which UBSan rightly reports. A failed parse leaves the schedule as it was.
        QCOMPARE(schedule.ttls().size(), ttls.size());
        for (int i = 0; i < ttls.size(); ++i) {
            QCOMPARE(schedule.ttls().at(i), ttls.at(i));
        }
    }

    void localThenPublicWithTheRoundsTtl_data() {
        QTest::addColumn<int>("round");
        QTest::addColumn<int>("ttl");
        QTest::newRow("round 0 primes") << 0 << 2;
        QTest::newRow("round 1 primes") << 1 << 3;
        QTest::newRow("round 2 full TTL") << 2 << 0;
        QTest::newRow("round 7 full TTL") << 7 << 0;
    }
    void localThenPublicWithTheRoundsTtl() {
        QFETCH(int, round);
        QFETCH(int, ttl);
        const NetworkPeer peer(samples::domainID(), samples::domainPublic(), samples::domainLocal());
        const QList<PunchRound::Ping> pings = PunchRound::pings(peer, round, PunchTtlSchedule { 2, 3 });
        QCOMPARE(destinations(pings), (QList<SockAddr> { samples::domainLocal(), samples::domainPublic() }));
        QCOMPARE(ttls(pings), (QList<int> { ttl, ttl }));
        QCOMPARE(pings[0].type, PingType::Local);
        QCOMPARE(pings[1].type, PingType::Public);
    }

    void symmetricSocketAlwaysAtFullTtl() {
        NetworkPeer peer(samples::clientID(), samples::clientPublic(), samples::clientLocal());
        const SockAddr symmetric(samples::clientPublic().getAddress(), 61000);
        peer.setSymmetricSocket(symmetric);
        for (int round = 0; round < PunchRound::RoundsPerAttempt; ++round) {
            const QList<PunchRound::Ping> pings = PunchRound::pings(peer, round, PunchTtlSchedule::defaultSchedule());
            QCOMPARE(pings.size(), 3);
            QCOMPARE(pings[2].destination, symmetric);
            QCOMPARE(pings[2].type, PingType::Symmetric);
            QCOMPARE(pings[2].ttl, 0);
            QCOMPARE(pings[0].ttl, round < 2 ? 2 : 0);
        }
    }

    void eachUsableSocketOnce_data() {
        QTest::addColumn<SockAddr>("publicSocket");
        QTest::addColumn<SockAddr>("localSocket");
        QTest::addColumn<SockAddr>("symmetricSocket");
        QTest::addColumn<QList<SockAddr>>("expected");
        const SockAddr pub = samples::clientPublic();
        const SockAddr local = samples::clientLocal();
        const SockAddr sym(pub.getAddress(), 61000);
        QTest::newRow("all three") << pub << local << sym << QList<SockAddr> { local, pub, sym };
        QTest::newRow("public == local (LAN, loopback)") << local << local << SockAddr() << QList<SockAddr> { local };
        QTest::newRow("symmetric == public") << pub << local << pub << QList<SockAddr> { local, pub };
        QTest::newRow("no public (STUN failed)") << SockAddr() << local << SockAddr() << QList<SockAddr> { local };
        QTest::newRow("port 0 is no socket")
            << SockAddr(pub.getAddress(), 0) << local << SockAddr() << QList<SockAddr> { local };
        QTest::newRow("nothing known") << SockAddr() << SockAddr() << SockAddr() << QList<SockAddr> {};
    }
    void eachUsableSocketOnce() {
        QFETCH(SockAddr, publicSocket);
        QFETCH(SockAddr, localSocket);
        QFETCH(SockAddr, symmetricSocket);
        NetworkPeer peer(samples::clientID(), publicSocket, localSocket);
        peer.setSymmetricSocket(symmetricSocket);
        QTEST(destinations(PunchRound::pings(peer, 0, PunchTtlSchedule())), "expected");
    }

    // The defaults both sides use, and why they are what they are (PunchTiming.h).
    void timingDefaults() {
        const PunchTiming::Params params;
        QCOMPARE(params.leadMs, 40);
        QCOMPARE(params.minGapMs, 25);
        QCOMPARE(params.maxGapMs, PunchRound::IntervalMs);                                 // never slower than upstream
        QCOMPARE(params.attemptMs, PunchRound::IntervalMs * PunchRound::RoundsPerAttempt); // 2 s, as upstream
        const PunchTiming timing(PunchTtlSchedule::defaultSchedule(), 0);
        QCOMPARE(timing.offsetsMs(), (QList<int> { 0, 20, 40, 65, 115, 215, 415, 665, 915, 1165, 1415, 1665, 1915 }));
        QCOMPARE(timing.attemptMs(), 2000);
        QCOMPARE(timing.delayAfterRound(0), 20);
        QCOMPARE(timing.delayAfterRound(12), 85); // the last round waits for the end of the attempt
        QCOMPARE(timing.offsetMs(13), 2000);
        QCOMPARE(PunchTiming().roundCount(), 0);
        QCOMPARE(PunchTiming().attemptMs(), 0);
    }

    void timingOffsets_data() {
        QTest::addColumn<QList<int>>("ttls");
        QTest::addColumn<int>("pathRttMs");
        QTest::addColumn<int>("leadMs");
        QTest::addColumn<int>("minGapMs");
        QTest::addColumn<int>("maxGapMs");
        QTest::addColumn<int>("attemptMs");
        QTest::addColumn<QList<int>>("offsets");
        QTest::newRow("three priming rounds share the lead") << QList<int> { 2, 2, 3 } << 0 << 60 << 100 << 250 << 1000
                                                             << QList<int> { 0, 20, 40, 60, 160, 360, 610, 860 };
        QTest::newRow("path RTT sets the first gap")
            << QList<int> { 2 } << 70 << 40 << 25 << 250 << 1000 << QList<int> { 0, 40, 110, 250, 500, 750 };
        QTest::newRow("RTT above the cap")
            << QList<int> { 2 } << 5000 << 40 << 25 << 250 << 600 << QList<int> { 0, 40, 290, 540 };
        QTest::newRow("no priming: no lead")
            << QList<int> {} << 0 << 40 << 25 << 250 << 200 << QList<int> { 0, 25, 75, 175 };
        QTest::newRow("TTL 0 alone is no priming")
            << QList<int> { 0 } << 0 << 40 << 25 << 250 << 100 << QList<int> { 0, 25, 75 };
        QTest::newRow("min gap above max gap: max wins")
            << QList<int> {} << 0 << 40 << 500 << 100 << 350 << QList<int> { 0, 100, 200, 300 };
        QTest::newRow("attempt shorter than the lead: priming only")
            << QList<int> { 2, 2 } << 0 << 40 << 25 << 250 << 15 << QList<int> { 0 };
        QTest::newRow("zero lead: priming and first full round together")
            << QList<int> { 2 } << 0 << 0 << 25 << 250 << 30 << QList<int> { 0, 0, 25 };
        QTest::newRow("no attempt") << QList<int> { 2 } << 0 << 40 << 25 << 250 << 0 << QList<int> {};
        QTest::newRow("huge values do not overflow")
            << QList<int> { 2, 2 } << 0 << 2000000000 << 2000000000 << 2000000000 << 2100000000
            << QList<int> { 0, 1000000000, 2000000000 };
    }
    void timingOffsets() {
        QFETCH(QList<int>, ttls);
        QFETCH(int, pathRttMs);
        PunchTiming::Params params;
        QFETCH(int, leadMs);
        QFETCH(int, minGapMs);
        QFETCH(int, maxGapMs);
        QFETCH(int, attemptMs);
        params.leadMs = leadMs;
        params.minGapMs = minGapMs;
        params.maxGapMs = maxGapMs;
        params.attemptMs = attemptMs;
        PunchTtlSchedule schedule;
        QStringList text;
        for (int ttl : ttls) {
            text.append(QString::number(ttl));
        }
        QVERIFY(PunchTtlSchedule::parse(text.join(QLatin1Char(',')), &schedule));
        const PunchTiming timing(schedule, pathRttMs, params);
        QTEST(timing.offsetsMs(), "offsets");
        QCOMPARE(timing.attemptMs(), attemptMs);
        // The rounds' TTLs line up with the offsets: priming rounds are the ones inside the lead.
        for (int round = 0; round < timing.roundCount(); ++round) {
            QVERIFY(timing.delayAfterRound(round) >= 0);
            if (schedule.ttlForRound(round) > 0) {
                QVERIFY(timing.offsetMs(round) < qMax(1, leadMs));
            } else {
                QVERIFY(timing.offsetMs(round) >= (schedule.isPriming() ? leadMs : 0));
            }
        }
    }

    void noPrimingWithAnEmptySchedule() {
        const NetworkPeer peer(samples::domainID(), samples::domainPublic(), samples::domainLocal());
        QCOMPARE(ttls(PunchRound::pings(peer, 0, PunchTtlSchedule())), (QList<int> { 0, 0 }));
    }
};

QTEST_GUILESS_MAIN(tst_PunchRound)
#include "tst_punchround.moc"
