// The ice-client tool on loopback against the in-process fake ice-server and domain: cycles that
// succeed, and the exit code of each step that can fail.
#include "ClientTestUtil.h"
#include "FakeIceServer.h"

#include <QtCore/QFile>
#include <QtTest/QTest>

using namespace client_test;

namespace {
QString toolPath() {
    return qEnvironmentVariable("ICEBREAKER_BINARY_DIR") + QStringLiteral("/tools/ice-client/ice-client");
}

void runTool(const QStringList &arguments, Run *run) {
    runBinary(toolPath(), arguments, run);
}
} // namespace

class tst_IceClient : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cyclesSucceed_data();
    void cyclesSucceed();
    void iceServerOnlyCheck();
    void iceServerSilent();
    void domainUnknown();
    void punchFailed();
    void stunFailed();
    void usageError();
};

void tst_IceClient::initTestCase() {
    QVERIFY2(QFile::exists(toolPath()), qPrintable(toolPath() + QStringLiteral(" not built (ICEBREAKER_BINARY_DIR?)")));
}

void tst_IceClient::cyclesSucceed_data() {
    QTest::addColumn<bool>("cacheStun");
    QTest::newRow("fresh socket each cycle") << false;
    QTest::newRow("cached STUN (-s)") << true;
}

void tst_IceClient::cyclesSucceed() {
    QFETCH(bool, cacheStun);
    FakeIce fake;
    QStringList args { QStringLiteral("-i"),  fake.iceAddress(),    QStringLiteral("-d"),
                       domainID().toString(), QStringLiteral("-n"), QStringLiteral("3") };
    if (cacheStun) {
        args << QStringLiteral("-s");
    }
    Run run;
    runTool(args, &run);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains(QStringLiteral("all 3 cycles succeeded")), qPrintable(run.out + run.err));
    QCOMPARE(run.out.count(QStringLiteral("answered at 127.0.0.1:%1 via public").arg(fake.domain.localPort())), 3);
    QCOMPARE(run.out.count(QStringLiteral("by STUN in")), cacheStun ? 1 : 3);
    QCOMPARE(fake.queries, 3);
}

void tst_IceClient::iceServerOnlyCheck() {
    FakeIce fake;
    Run run;
    runTool({ QStringLiteral("-i"), fake.iceAddress() }, &run);
    QCOMPARE(run.exitCode, 0);
    QVERIFY2(run.out.contains(QStringLiteral("is reachable")), qPrintable(run.out + run.err));
}

void tst_IceClient::iceServerSilent() {
    QUdpSocket hole;
    QVERIFY(hole.bind(QHostAddress(QHostAddress::LocalHost), 0));
    Run run;
    runTool({ QStringLiteral("-i"), QStringLiteral("127.0.0.1:%1").arg(hole.localPort()), QStringLiteral("-d"),
              domainID().toString() },
            &run);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.out.contains(QStringLiteral("does not answer STUN")), qPrintable(run.out));
    QVERIFY2(run.err.contains(QStringLiteral("did not answer")), qPrintable(run.err));
}

void tst_IceClient::domainUnknown() {
    FakeIce fake;
    fake.knownDomain = QUuid::createUuid();
    Run run;
    runTool({ QStringLiteral("-i"), fake.iceAddress(), QStringLiteral("-d"), domainID().toString() }, &run);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains(QStringLiteral("no peer information")), qPrintable(run.err));
}

void tst_IceClient::punchFailed() {
    FakeIce fake;
    fake.domainAnswers = false;
    Run run;
    runTool({ QStringLiteral("-i"), fake.iceAddress(), QStringLiteral("-d"), domainID().toString() }, &run);
    QCOMPARE(run.exitCode, 4);
    QVERIFY2(run.err.contains(QStringLiteral("no ping reply")), qPrintable(run.err));
}

void tst_IceClient::stunFailed() {
    FakeIce fake;
    QUdpSocket hole;
    QVERIFY(hole.bind(QHostAddress(QHostAddress::LocalHost), 0));
    Run run;
    runTool({ QStringLiteral("-i"), fake.iceAddress(), QStringLiteral("-d"), domainID().toString(),
              QStringLiteral("--stun-server"), QStringLiteral("127.0.0.1:%1").arg(hole.localPort()) },
            &run);
    QCOMPARE(run.exitCode, 6);
    QVERIFY2(run.err.contains(QStringLiteral("STUN server")), qPrintable(run.err));
    QCOMPARE(fake.queries, 0);
}

void tst_IceClient::usageError() {
    Run run;
    runTool({ QStringLiteral("-n"), QStringLiteral("0") }, &run);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("bad --cycles")), qPrintable(run.err));
}

QTEST_GUILESS_MAIN(tst_IceClient)
#include "tst_iceclient.moc"
