// The interface-stub binary on loopback against an in-process fake ice-server (answers STUN, sends
// peer information) and fake domain (answers ICE pings): the success line, each exit code, and
// keepalive noticing a dead path and reconnecting.
#include "ClientTestUtil.h"

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace client_test;

namespace {
QString stubPath() {
    return qEnvironmentVariable("ICEBREAKER_BINARY_DIR") + QStringLiteral("/interface-stub/interface-stub");
}

// A loopback ice-server that knows one domain, and the domain itself.
class FakeIce : public QObject {
public:
    QUdpSocket ice;
    QUdpSocket domain;
    QUuid knownDomain = domainID();
    bool answerStun = true;
    bool domainAnswers = true;
    int queries = 0;
    int domainPings = 0;

    FakeIce() {
        ice.bind(QHostAddress(QHostAddress::LocalHost), 0);
        domain.bind(QHostAddress(QHostAddress::LocalHost), 0);
        connect(&ice, &QUdpSocket::readyRead, this, [this] { readIce(); });
        connect(&domain, &QUdpSocket::readyRead, this, [this] { readDomain(); });
    }
    QString iceAddress() const { return QStringLiteral("127.0.0.1:%1").arg(ice.localPort()); }
    SockAddr domainSocket() const { return SockAddr(QHostAddress::LocalHost, domain.localPort()); }

    void readIce() {
        while (ice.hasPendingDatagrams()) {
            const QNetworkDatagram in = ice.receiveDatagram();
            const SockAddr sender(in.senderAddress(), quint16(in.senderPort()));
            if (StunMessage::looksLikeStun(in.data())) {
                const Decoded<StunMessage> request = StunMessage::decode(in.data());
                if (answerStun && request.ok()) {
                    send(ice, StunMessage::bindingSuccess(request.value.transactionId, sender).encode(), sender);
                }
                continue;
            }
            const Decoded<NLPacket> packet = NLPacket::fromDatagram(in.data());
            if (!packet.ok() || packet.value.type != PacketType::ICEServerQuery) {
                continue;
            }
            ++queries;
            const Decoded<IceServerQuery> query = IceServerQuery::fromPayload(packet.value.payload);
            if (query.ok() && query.value.domainID == knownDomain) {
                // The domain reports a local socket nobody listens on and its real one as public.
                const SockAddr deadLocal(QHostAddress(QStringLiteral("127.0.0.1")), 9);
                send(ice, datagram(PacketType::ICEServerPeerInformation,
                                   NetworkPeer(knownDomain, domainSocket(), deadLocal).toByteArray()), sender);
            }
        }
    }
    void readDomain() {
        while (domain.hasPendingDatagrams()) {
            const QNetworkDatagram in = domain.receiveDatagram();
            const Decoded<NLPacket> packet = NLPacket::fromDatagram(in.data());
            if (!packet.ok() || packet.value.type != PacketType::ICEPing) {
                continue;
            }
            ++domainPings;
            const Decoded<IcePing> ping = IcePing::fromPayload(packet.value.payload);
            if (domainAnswers && ping.ok()) {
                IcePingReply reply;
                reply.senderID = knownDomain;
                reply.pingType = ping.value.pingType;
                send(domain, datagram(PacketType::ICEPingReply, reply.toPayload()),
                     SockAddr(in.senderAddress(), quint16(in.senderPort())));
            }
        }
    }
    static void send(QUdpSocket &socket, const QByteArray &data, const SockAddr &to) {
        socket.writeDatagram(data, to.getAddress(), to.getPort());
    }
};

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

// Runs the stub to its end; the fakes live on this thread, so QTRY keeps the event loop turning.
void runStub(const QStringList &arguments, Run *run, int timeoutMs = 30000) {
    QProcess process;
    process.start(stubPath(), arguments);
    QVERIFY2(process.waitForStarted(5000), qPrintable(process.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, timeoutMs);
    run->exitCode = process.exitCode();
    run->out = QString::fromUtf8(process.readAllStandardOutput());
    run->err = QString::fromUtf8(process.readAllStandardError());
}
} // namespace

class TestInterfaceStub : public QObject {
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

void TestInterfaceStub::initTestCase() {
    if (!QFile::exists(stubPath())) {
        QSKIP("interface-stub not built (ICEBREAKER_BINARY_DIR unset?)");
    }
}

void TestInterfaceStub::connects() {
    FakeIce fake;
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"),
                              domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("10") }, &run);
    QCOMPARE(run.exitCode, 0);
    const QRegularExpression line(QStringLiteral("^connected to domain %1 at 127\\.0\\.0\\.1:%2 via public in \\d+ ms$")
                                      .arg(domainID().toString(QUuid::WithoutBraces))
                                      .arg(fake.domain.localPort()),
                                  QRegularExpression::MultilineOption);
    QVERIFY2(line.match(run.out).hasMatch(), qPrintable(run.out + run.err));
    QCOMPARE(fake.queries, 1);
}

void TestInterfaceStub::usageErrors_data() {
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
                                              QStringLiteral("--domain-id"), id, QStringLiteral("--punch-ttl"),
                                              QStringLiteral("2,x") }
                             << "bad --punch-ttl";
    QTest::newRow("unknown option") << QStringList { QStringLiteral("--frobnicate") } << "frobnicate";
}

void TestInterfaceStub::usageErrors() {
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    Run run;
    runStub(arguments, &run);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(message), qPrintable(run.err));
}

void TestInterfaceStub::iceServerSilent() {
    QUdpSocket hole; // bound, so nobody else answers there, and never reads
    QVERIFY(hole.bind(QHostAddress(QHostAddress::LocalHost), 0));
    Run run;
    runStub({ QStringLiteral("--ice-server"), QStringLiteral("127.0.0.1:%1").arg(hole.localPort()),
                              QStringLiteral("--domain-id"), domainID().toString(), QStringLiteral("--timeout"),
                              QStringLiteral("2") }, &run);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(QStringLiteral("ice-server silent")), qPrintable(run.err));
}

void TestInterfaceStub::domainUnknown() {
    FakeIce fake;
    fake.knownDomain = QUuid::createUuid();
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"),
                              domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("2.5") }, &run);
    QCOMPARE(run.exitCode, 3);
    QVERIFY2(run.err.contains(QStringLiteral("domain unknown")), qPrintable(run.err));
    QVERIFY(fake.queries >= 2);
}

void TestInterfaceStub::punchFailed() {
    FakeIce fake;
    fake.domainAnswers = false;
    Run run;
    runStub({ QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"),
                              domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("3") }, &run);
    QCOMPARE(run.exitCode, 4);
    QVERIFY2(run.err.contains(QStringLiteral("punch failed")), qPrintable(run.err));
    QVERIFY(fake.domainPings >= 8);
}

void TestInterfaceStub::unresolvableIceServer() {
    Run run;
    runStub({ QStringLiteral("--ice-server"), QStringLiteral("ice.example.invalid"),
                              QStringLiteral("--domain-id"), domainID().toString(), QStringLiteral("--timeout"),
                              QStringLiteral("20") }, &run);
    QCOMPARE(run.exitCode, 5);
    QVERIFY2(run.err.contains(QStringLiteral("ice.example.invalid")), qPrintable(run.err));
}

void TestInterfaceStub::keepaliveNoticesLostPathAndReconnects() {
    FakeIce fake;
    QProcess process;
    process.start(stubPath(), { QStringLiteral("--ice-server"), fake.iceAddress(), QStringLiteral("--domain-id"),
                                domainID().toString(), QStringLiteral("--timeout"), QStringLiteral("10"),
                                QStringLiteral("--keepalive"), QStringLiteral("9") });
    QVERIFY(process.waitForStarted(5000));
    QString out;
    auto readOut = [&] { out += QString::fromUtf8(process.readAllStandardOutput()); return out; };
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

QTEST_GUILESS_MAIN(TestInterfaceStub)
#include "tst_interfacestub.moc"
