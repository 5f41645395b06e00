// IceServerSelector: HOST[:PORT] parsing with the port honoured (Q10), and failover across every
// address of a name (IPv4 and IPv6) and across several configured ice-servers.
#include <IceServerSelector.h>

#include <QtTest/QtTest>

class tst_IceServerSelector : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parse_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("name") << "ice.example.org" << true << "ice.example.org" << 7337;
        QTest::newRow("name:port") << "ice.example.org:7400" << true << "ice.example.org" << 7400;
        QTest::newRow("v4:port") << "127.0.0.2:17337" << true << "127.0.0.2" << 17337;
        QTest::newRow("bare v6") << "2001:db8::1" << true << "2001:db8::1" << 7337;
        QTest::newRow("[v6]:port") << "[2001:db8::1]:9000" << true << "2001:db8::1" << 9000;
        QTest::newRow("[v6]") << "[::1]" << true << "::1" << 7337;
        QTest::newRow("empty") << "" << false << "" << 0;
        QTest::newRow("port 0") << "host:0" << false << "" << 0;
        QTest::newRow("port too big") << "host:70000" << false << "" << 0;
        QTest::newRow("port not a number") << "host:abc" << false << "" << 0;
        QTest::newRow("no host") << ":7337" << false << "" << 0;
        QTest::newRow("unclosed bracket") << "[::1:7337" << false << "" << 0;
    }
    void parse() {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QString why;
        const HostAndPort spec = HostAndPort::parse(text, IceServerSelector::DefaultIcePort, &why);
        QCOMPARE(spec.isValid(), ok);
        if (ok) {
            QTEST(spec.host, "host");
            QTEST(int(spec.port), "port");
        } else {
            QVERIFY(why.contains(text));
        }
    }

    void literalsNeedNoDnsAndKeepTheirPort() {
        IceServerSelector selector({ { QStringLiteral("127.0.0.2"), 17337 } });
        QSignalSpy changed(&selector, &IceServerSelector::currentChanged);
        QSignalSpy finished(&selector, &IceServerSelector::resolutionFinished);
        selector.start();
        QCOMPARE(finished.size(), 1);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(selector.current(), SockAddr(QHostAddress(QStringLiteral("127.0.0.2")), 17337));
    }

    void failoverWalksAddressesThenServersThenWraps() {
        IceServerSelector selector({ { QStringLiteral("ice-a.test"), 7337 }, { QStringLiteral("ice-b.test"), 7400 } });
        QSignalSpy changed(&selector, &IceServerSelector::currentChanged);
        // Stand in for DNS: ice-a has an IPv4 and an IPv6 address, ice-b one IPv4 address.
        selector.setResolvedAddresses(
            0, { QHostAddress(QStringLiteral("192.0.2.1")), QHostAddress(QStringLiteral("2001:db8::1")) });
        selector.setResolvedAddresses(1, { QHostAddress(QStringLiteral("192.0.2.9")) });
        QCOMPARE(selector.candidates().size(), 3);

        const QList<SockAddr> expected {
            SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7337),
            SockAddr(QHostAddress(QStringLiteral("2001:db8::1")), 7337),
            SockAddr(QHostAddress(QStringLiteral("192.0.2.9")), 7400),
            SockAddr(QHostAddress(QStringLiteral("192.0.2.1")), 7337),
        };
        QCOMPARE(selector.current(), expected[0]);
        for (int i = 1; i < expected.size(); ++i) {
            selector.failCurrent();
            QCOMPARE(selector.current(), expected[i]);
        }
        QCOMPARE(changed.size(), expected.size());
        QVERIFY(selector.currentLabel().contains(QStringLiteral("ice-a.test:7337")));
        QVERIFY(selector.isKnownIceServerAddress(QHostAddress(QStringLiteral("192.0.2.9"))));
        QVERIFY(selector.isKnownIceServerAddress(QHostAddress(QStringLiteral("::ffff:192.0.2.9"))));
        QVERIFY(!selector.isKnownIceServerAddress(QHostAddress(QStringLiteral("192.0.2.77"))));
        // The wrap refreshed DNS; .test names fail, and a failed refresh keeps what was known.
        QVERIFY(selector.isResolving());
        QTRY_VERIFY_WITH_TIMEOUT(!selector.isResolving(), 10000);
        QCOMPARE(selector.candidates().size(), 3);
    }

    void newDnsAnswerKeepsTheCurrentChoice() {
        IceServerSelector selector({ { QStringLiteral("ice-a.test"), 7337 } });
        selector.setResolvedAddresses(
            0, { QHostAddress(QStringLiteral("192.0.2.1")), QHostAddress(QStringLiteral("192.0.2.2")) });
        selector.failCurrent();
        QCOMPARE(selector.current().getAddress(), QHostAddress(QStringLiteral("192.0.2.2")));
        QSignalSpy changed(&selector, &IceServerSelector::currentChanged);
        selector.setResolvedAddresses(
            0, { QHostAddress(QStringLiteral("192.0.2.3")), QHostAddress(QStringLiteral("192.0.2.2")) });
        QCOMPARE(changed.size(), 0);
        selector.failCurrent();
        QCOMPARE(selector.current().getAddress(), QHostAddress(QStringLiteral("192.0.2.3")));
        QTRY_VERIFY_WITH_TIMEOUT(!selector.isResolving(), 10000);
    }

    void localhostResolvesToItsAddresses() {
        // /etc/hosts only: no network needed.
        IceServerSelector selector({ { QStringLiteral("localhost"), 7337 } });
        QSignalSpy finished(&selector, &IceServerSelector::resolutionFinished);
        selector.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QVERIFY(!selector.candidates().isEmpty());
        for (const SockAddr &candidate : selector.candidates()) {
            QVERIFY(candidate.getAddress().isLoopback());
            QCOMPARE(candidate.getPort(), quint16(7337));
        }
    }

    void unresolvableNameIsReported() {
        IceServerSelector selector({ { QStringLiteral("no-such-host.invalid"), 7337 } });
        QSignalSpy failed(&selector, &IceServerSelector::resolutionFailed);
        QSignalSpy finished(&selector, &IceServerSelector::resolutionFinished);
        selector.start();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QCOMPARE(failed.size(), 1);
        QVERIFY(!selector.hasCurrent());
        QVERIFY(selector.candidates().isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_IceServerSelector)
#include "tst_iceserverselector.moc"
