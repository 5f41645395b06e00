// The TURN relay end to end on loopback: a real coturn (long-term credentials or a shared secret),
// the real ice-server, an unmodified domain-server (it knows nothing of TURN) and the client tools
// with --relay always. The client must connect and say "via relay <relayed address>"; the domain
// must see the relayed address; wrong credentials end with the RelayAuthFailed exit code; a TURN
// server that does not answer leaves the direct attempt's result.
#include "ProcessHarness.h"

#include <IceExitCode.h>

#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>

class tst_E2eRelay : public QObject {
    Q_OBJECT

    ProcessHarness harness;
    std::unique_ptr<QTemporaryDir> tmp;
    QString iceServerBin, domainServerBin, stubBin, iceClientBin, keygenBin, turnserverBin;

    QString ice;    // the ice-server, HOST:PORT
    QUuid domainID; // registered there
    quint16 domainPort = 0;
    ProcessHarness::Proc *domain = nullptr;
    SockAddr turn; // coturn
    ProcessHarness::Proc *coturn = nullptr;

    static QString hostPort(const SockAddr &socket) { return socket.toString(); }

    QUuid makeDomainKey(const QString &keysDir, const QString &keypair) {
        QProcess keygen;
        keygen.start(keygenBin, { QStringLiteral("--keypair"), keypair, QStringLiteral("--keys-dir"), keysDir });
        if (!keygen.waitForFinished(30000) || keygen.exitCode() != 0) {
            qWarning() << "ice-keygen failed:" << keygen.readAllStandardError();
            return {};
        }
        return QUuid(QString::fromLatin1(keygen.readAllStandardOutput().trimmed()));
    }

    // coturn on 127.0.0.1 relaying to loopback peers, with the credentials given.
    bool startCoturn(const QStringList &credentials) {
        const quint16 port = ProcessHarness::freeUdpPort();
        const QString dir = tmp->filePath(QStringLiteral("coturn"));
        QDir().mkpath(dir);
        coturn = harness.start(
            QStringLiteral("coturn"), turnserverBin,
            QStringList { QStringLiteral("-n"), QStringLiteral("--no-cli"), QStringLiteral("--no-tls"),
                          QStringLiteral("--no-dtls"), QStringLiteral("--no-tcp"), QStringLiteral("--no-rfc5780"),
                          QStringLiteral("--allow-loopback-peers"), QStringLiteral("-L"), QStringLiteral("127.0.0.1"),
                          QStringLiteral("--listening-port"), QString::number(port), QStringLiteral("--relay-ip"),
                          QStringLiteral("127.0.0.1"), QStringLiteral("--log-file"), QStringLiteral("stdout"),
                          QStringLiteral("--simple-log"),
                          // sessions and refreshes are logged only with --verbose
                          QStringLiteral("--verbose"), QStringLiteral("--pidfile"),
                          dir + QStringLiteral("/turnserver.pid"), QStringLiteral("--userdb"),
                          dir + QStringLiteral("/turndb") }
                + credentials);
        turn = SockAddr(QHostAddress::LocalHost, port);
        return ProcessHarness::waitForStun(turn, 10000);
    }

    // ice-server and an unmodified domain-server registered with it.
    bool startIceAndDomain() {
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        domainID = makeDomainKey(keysDir, keypair);
        if (domainID.isNull()) {
            return false;
        }
        const quint16 icePort = ProcessHarness::freeUdpPort();
        harness.start(QStringLiteral("ice-server"), iceServerBin,
                      { QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                        QString::number(icePort), QStringLiteral("--keys-dir"), keysDir, QStringLiteral("--http-port"),
                        QStringLiteral("0") });
        if (!ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, icePort), 10000)) {
            return false;
        }
        ice = hostPort(SockAddr(QHostAddress::LocalHost, icePort));
        domainPort = ProcessHarness::freeUdpPort(QHostAddress::AnyIPv4);
        domain = harness.start(QStringLiteral("domain-server"), domainServerBin,
                               { QStringLiteral("--domain-id"), domainID.toString(QUuid::WithoutBraces),
                                 QStringLiteral("--keypair"), keypair, QStringLiteral("--port"),
                                 QString::number(domainPort), QStringLiteral("--ice-server"), ice });
        QElapsedTimer clock;
        clock.start();
        const QString registered = QStringLiteral("registered with ice-server %1").arg(ice);
        while (!ProcessHarness::output(domain).contains(registered) && clock.elapsed() < 15000) {
            QTest::qWait(50);
        }
        return ProcessHarness::output(domain).contains(registered);
    }

    QStringList turnArguments(const QString &password) const {
        return { QStringLiteral("--turn-server"),   hostPort(turn), QStringLiteral("--turn-user"), QStringLiteral("u"),
                 QStringLiteral("--turn-password"), password };
    }

    // One interface-stub run to completion: its exit code, and its output in *output.
    int runStub(const QStringList &extra, QString *output) {
        ProcessHarness::Proc *proc = harness.start(
            QStringLiteral("interface-stub"), stubBin,
            QStringList { QStringLiteral("--ice-server"), ice, QStringLiteral("--domain-id"),
                          domainID.toString(QUuid::WithoutBraces), QStringLiteral("--timeout"), QStringLiteral("10") }
                + extra);
        const int code = ProcessHarness::waitForExit(proc, 20000);
        *output = ProcessHarness::output(proc);
        return code;
    }

    // "connected ... at 127.0.0.1:<domain port> via relay 127.0.0.1:<port> in N ms, rtt M ms"; returns
    // the relayed address, empty when the line is not there.
    QString relayedAddressIn(const QString &output) const {
        const QRegularExpression line(
            QStringLiteral("^connected to domain %1 at 127\\.0\\.0\\.1:%2 via relay (127\\.0\\.0\\.1:\\d+) in \\d+ ms, "
                           "rtt \\d+\\.\\d\\d ms$")
                .arg(domainID.toString(QUuid::WithoutBraces))
                .arg(domainPort),
            QRegularExpression::MultilineOption);
        return line.match(output).captured(1);
    }

private Q_SLOTS:
    void initTestCase() {
        // Missing binaries fail rather than skip: CI builds them all, and coturn is a CI dependency.
        iceServerBin = ProcessHarness::binary(QStringLiteral("ice-server/ice-server"));
        domainServerBin = ProcessHarness::binary(QStringLiteral("domain-server/domain-server"));
        stubBin = ProcessHarness::binary(QStringLiteral("interface-stub/interface-stub"));
        iceClientBin = ProcessHarness::binary(QStringLiteral("tools/ice-client/ice-client"));
        keygenBin = ProcessHarness::binary(QStringLiteral("tools/ice-keygen/ice-keygen"));
        turnserverBin = qEnvironmentVariable("ICEBREAKER_TURNSERVER");
        if (turnserverBin.isEmpty()) {
            turnserverBin = QStandardPaths::findExecutable(QStringLiteral("turnserver"),
                                                           { QStringLiteral("/usr/bin"), QStringLiteral("/usr/sbin") });
        }
        QVERIFY2(!iceServerBin.isEmpty() && !domainServerBin.isEmpty() && !stubBin.isEmpty() && !iceClientBin.isEmpty()
                     && !keygenBin.isEmpty(),
                 "a binary under test was not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!turnserverBin.isEmpty(), "coturn's turnserver not found (apt-get install coturn)");
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
        tmp.reset();
        domain = coturn = nullptr;
    }

    void relayAlwaysConnectsThroughCoturn_data() {
        QTest::addColumn<QString>("credentialsKind");
        QTest::newRow("long-term credentials") << QStringLiteral("password");
        QTest::newRow("REST-API secret") << QStringLiteral("secret");
    }
    void relayAlwaysConnectsThroughCoturn() {
        QFETCH(QString, credentialsKind);
        const bool secret = credentialsKind == QLatin1String("secret");
        QVERIFY2(startCoturn(secret ? QStringList { QStringLiteral("--use-auth-secret"),
                                                    QStringLiteral("--static-auth-secret"), QStringLiteral("S3cret"),
                                                    QStringLiteral("--realm"), QStringLiteral("icebreaker.test") }
                                    : QStringList { QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"),
                                                    QStringLiteral("u:p"), QStringLiteral("--realm"),
                                                    QStringLiteral("icebreaker.test") }),
                 "coturn did not start");
        QVERIFY2(startIceAndDomain(), "ice-server or domain-server did not come up");

        const QStringList credentials = secret
                                            ? QStringList { QStringLiteral("--turn-server"), hostPort(turn),
                                                            QStringLiteral("--turn-secret"), QStringLiteral("S3cret") }
                                            : turnArguments(QStringLiteral("p"));
        QString output;
        const int code = runStub(credentials
                                     + QStringList { QStringLiteral("--relay"), QStringLiteral("always"),
                                                     QStringLiteral("--keepalive"), QStringLiteral("2") },
                                 &output);
        QVERIFY2(code == 0, qPrintable(output));
        const QString relayed = relayedAddressIn(output);
        QVERIFY2(!relayed.isEmpty(), qPrintable(output));
        QVERIFY2(relayed != QStringLiteral("127.0.0.1:%1").arg(turn.getPort()), "the relayed address is the server's");
        // The keepalive runs through the relay too, and every ping is answered.
        QVERIFY2(
            QRegularExpression(QStringLiteral("keepalive done: (\\d+) pings, \\1 replies")).match(output).hasMatch(),
            qPrintable(output));
        // The allocation was released at exit (Refresh with LIFETIME 0), not left to expire.
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(coturn).contains(QStringLiteral("lifetime=0")), 5000);
        // The domain, which knows nothing of TURN, was reached by the relayed address.
        QTRY_VERIFY_WITH_TIMEOUT(
            ProcessHarness::output(domain).contains(QStringLiteral("reached us at %1").arg(relayed)), 5000);
    }

    void iceClientSaysViaRelay() {
        QVERIFY2(startCoturn({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                               QStringLiteral("--realm"), QStringLiteral("icebreaker.test") }),
                 "coturn did not start");
        QVERIFY2(startIceAndDomain(), "ice-server or domain-server did not come up");
        ProcessHarness::Proc *proc = harness.start(
            QStringLiteral("ice-client"), iceClientBin,
            QStringList { QStringLiteral("--ice-server"), ice, QStringLiteral("--domain-id"),
                          domainID.toString(QUuid::WithoutBraces), QStringLiteral("--cycles"), QStringLiteral("2"),
                          QStringLiteral("--relay"), QStringLiteral("always") }
                + turnArguments(QStringLiteral("p")));
        const int code = ProcessHarness::waitForExit(proc, 30000);
        const QString output = ProcessHarness::output(proc);
        QVERIFY2(code == 0, qPrintable(output));
        const QRegularExpression line(QStringLiteral("^cycle \\d/2: domain .* answered at 127\\.0\\.0\\.1:%1 via relay "
                                                     "127\\.0\\.0\\.1:\\d+ in \\d+ ms, rtt \\d+\\.\\d\\d ms$")
                                          .arg(domainPort),
                                      QRegularExpression::MultilineOption);
        QCOMPARE(output.count(line), 2);
    }

    void wrongPasswordIsRelayAuthFailed() {
        QVERIFY2(startCoturn({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                               QStringLiteral("--realm"), QStringLiteral("icebreaker.test") }),
                 "coturn did not start");
        QVERIFY2(startIceAndDomain(), "ice-server or domain-server did not come up");
        QString output;
        const int code = runStub(turnArguments(QStringLiteral("wrong"))
                                     + QStringList { QStringLiteral("--relay"), QStringLiteral("always") },
                                 &output);
        QVERIFY2(code == IceExitCode::RelayAuthFailed, qPrintable(output));
        QVERIFY2(output.contains(
                     QStringLiteral("interface-stub: relay authentication failed: TURN server %1").arg(hostPort(turn))),
                 qPrintable(output));
        QVERIFY2(!output.contains(QStringLiteral("connected to domain")), qPrintable(output));
    }

    // Nothing listens where the TURN server should be: the client says so and connects directly.
    void turnServerDownLeavesTheDirectResult() {
        QVERIFY2(startIceAndDomain(), "ice-server or domain-server did not come up");
        turn = SockAddr(QHostAddress::LocalHost, ProcessHarness::freeUdpPort());
        QString output;
        const int code = runStub(turnArguments(QStringLiteral("p"))
                                     + QStringList { QStringLiteral("--relay"), QStringLiteral("always") },
                                 &output);
        QVERIFY2(code == 0, qPrintable(output));
        QVERIFY2(output.contains(QStringLiteral("interface-stub: relay unavailable, going on directly: TURN server %1")
                                     .arg(hostPort(turn))),
                 qPrintable(output));
        QVERIFY2(QRegularExpression(QStringLiteral("at 127\\.0\\.0\\.1:%1 via (local|public) in ").arg(domainPort))
                     .match(output)
                     .hasMatch(),
                 qPrintable(output));
    }

    // With --relay fallback a path that punches directly never touches the relay.
    void fallbackStaysDirectWhenPunchingWorks() {
        QVERIFY2(startCoturn({ QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                               QStringLiteral("--realm"), QStringLiteral("icebreaker.test") }),
                 "coturn did not start");
        QVERIFY2(startIceAndDomain(), "ice-server or domain-server did not come up");
        QString output;
        QCOMPARE(runStub(turnArguments(QStringLiteral("p")), &output), 0);
        QVERIFY2(QRegularExpression(QStringLiteral("at 127\\.0\\.0\\.1:%1 via (local|public) in ").arg(domainPort))
                     .match(output)
                     .hasMatch(),
                 qPrintable(output));
        // coturn logs every new allocation ("session ...: new, realm=<...>"): there was none.
        QTest::qWait(200);
        QVERIFY2(!ProcessHarness::output(coturn).contains(QStringLiteral(": new, realm=")),
                 qPrintable(ProcessHarness::output(coturn)));
    }
};

QTEST_GUILESS_MAIN(tst_E2eRelay)
#include "tst_e2e_relay.moc"
