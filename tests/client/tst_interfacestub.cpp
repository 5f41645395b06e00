// The interface-stub binary on loopback against an in-process fake ice-server (answers STUN, sends
// peer information) and fake domain (answers ICE pings): the success line, each exit code, and
// keepalive noticing a dead path and reconnecting.
#include "ClientTestUtil.h"
#include "FakeIceServer.h"

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace client_test;

namespace {
QString stubPath() {
    return qEnvironmentVariable("ICEBREAKER_BINARY_DIR") + QStringLiteral("/interface-stub/interface-stub");
}

void runStub(const QStringList &arguments, Run *run, int timeoutMs = 30000) {
    runBinary(stubPath(), arguments, run, timeoutMs);
}
} // namespace

class tst_InterfaceStub : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void connects();
    void usageErrors_data();
    void usageErrors();
    void iceServerSilent();
    void domainUnknown();
    void punchFailed();
    void unresolvableIceServer();
    void keepaliveNoticesLostPathAndReconnects();
};

void tst_InterfaceStub::initTestCase() {
    QVERIFY2(QFile::exists(stubPath()), qPrintable(stubPath() + QStringLiteral(" not built (ICEBREAKER_BINARY_DIR?)")));
}

void tst_InterfaceStub::connects() {
    FakeIce fake;
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"), domainID().toString(),
              QStringLiteral("--timeout"), QStringLiteral("10") },
            &run);
    QCOMPARE(run.exitCode, 0);
    const QRegularExpression line(
        QStringLiteral("^connected to domain %1 at 127\\.0\\.0\\.1:%2 via public in \\d+ ms, rtt \\d+\\.\\d\\d ms$")
            .arg(domainID().toString(QUuid::WithoutBraces))
            .arg(fake.domain.localPort()),
        QRegularExpression::MultilineOption);
    QVERIFY2(line.match(run.out).hasMatch(), qPrintable(run.out + run.err));
    QCOMPARE(fake.queries, 1);
}

void tst_InterfaceStub::usageErrors_data() {
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    const QString id = domainID().toString();
    QTest::newRow("no ice-server") << QStringList { QStringLiteral("--domain-id"), id } << "--ice-server is required";
    QTest::newRow("no domain") << QStringList { QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1") }
                               << "--domain-id is required";
    QTest::newRow("bad domain") << QStringList { QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1"),
                                                 QStringLiteral("--domain-id"), QStringLiteral("nope") }
                                << "bad --domain-id";
    QTest::newRow("bad port") << QStringList { QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1:99999"),
                                               QStringLiteral("--domain-id"), id }
                              << "bad --ice-server";
    QTest::newRow("bad ttl") << QStringList { QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1"),
                                              QStringLiteral("--domain-id"),  id,
                                              QStringLiteral("--punch-ttl"),  QStringLiteral("2,x") }
                             << "bad --punch-ttl";
    QTest::newRow("unknown option") << QStringList { QStringLiteral("--frobnicate") } << "frobnicate";
}

void tst_InterfaceStub::usageErrors() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    Run run;
    runStub(arguments, &run);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
}

void tst_InterfaceStub::iceServerSilent() {
    QUdpSocket hole; // bound, so nobody else answers there, and never reads
    QVERIFY(hole.bind(QHostAddress(QHostAddress::LocalHost), 0));
    Run run;
    runStub({ QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1:%1").arg(hole.localPort()),
              QStringLiteral("--domain-id"), domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("2") },
            &run);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(QStringLiteral("ice-server silent")), qPrintable(run.err));
}

void tst_InterfaceStub::domainUnknown() {
    FakeIce fake;
    fake.knownDomain = QUuid::createUuid();
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"), domainID().toString(),
              QStringLiteral("--timeout"), QStringLiteral("2.5") },
            &run);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains(QStringLiteral("domain unknown")), qPrintable(run.err));
    QVERIFY(fake.queries >= 2);
}

void tst_InterfaceStub::punchFailed() {
    FakeIce fake;
    fake.domainAnswers = false;
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"), domainID().toString(),
              QStringLiteral("--timeout"), QStringLiteral("3") },
            &run);
    QCOMPARE(run.exitCode, 4);
    QVERIFY2(run.err.contains(QStringLiteral("punch failed")), qPrintable(run.err));
    // The fake domain reports a public socket unlike its local one (behind NAT) and never pings: the
    // client only primes, two rounds per attempt, and sends no full-TTL rounds (PunchTiming.h).
    QVERIFY(fake.domainPings >= 2);
}

void tst_InterfaceStub::unresolvableIceServer() {
    Run run;
    runStub({ QStringLiteral("--ice-server"), QStringLiteral("ice.example.invalid"), QStringLiteral("--domain-id"),
              domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("20") },
            &run);
    QCOMPARE(run.exitCode, 5);
    QVERIFY2(run.err.contains(QStringLiteral("ice.example.invalid")), qPrintable(run.err));
}

void tst_InterfaceStub::keepaliveNoticesLostPathAndReconnects() {
    FakeIce fake;
    QProcess process;
    process.start(stubPath(), { QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"),
                                domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("10"),
                                QStringLiteral("--keepalive"), QStringLiteral("9") });
    QVERIFY(process.waitForStarted(5000));
    QString out;
    auto readOut = [&] {
        out += QString::fromUtf8(process.readAllStandardOutput());
        return out;
    };
    QTRY_VERIFY_WITH_TIMEOUT(readOut().contains(QStringLiteral("rtt")), 10000);

    fake.domainAnswers = false;
    QTRY_VERIFY_WITH_TIMEOUT(readOut().contains(QStringLiteral("path lost")), 10000);
    fake.domainAnswers = true;
    QTRY_VERIFY_WITH_TIMEOUT(readOut().contains(QStringLiteral("reconnected to domain")), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, 20000);
    readOut();
    QCOMPARE(process.exitCode(), 0);
    QVERIFY2(out.contains(QStringLiteral("keepalive done")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("paths lost 1")), qPrintable(out));
    QCOMPARE(fake.queries, 2);
}

QTEST_GUILESS_MAIN(tst_InterfaceStub)
#include "tst_interfacestub.moc"
