// A domain that registers through a TURN relay (the mirror of tst_e2e_relay), end to end on
// loopback: a real coturn the test starts, the real ice-server, and the domain-server binary with
// --relay always reached by an unmodified interface-stub; --relay fallback on a NAT-less host registering directly;
// wrong TURN credentials ending the domain with RelayAuthFailed; 20 relayed clients at once reaching a domain that
// trusts their relay; and 100 in-process domains registering through one TURN server and staying registered (the
// ice-server trusting the relay's IP); SIGTERM or SIGINT releasing the domain's allocation (LIFETIME 0) before it
// exits, and not waiting long for a TURN server that is gone; a relay refusing the ice-server's IP ending in a
// direct registration.
#include "../turn/CoturnProcess.h"
#include "ProcessHarness.h"

#include <DomainKeyManager.h>
#include <DomainServer.h>
#include <IceExitCode.h>
#include <IceHeartbeater.h>
#include <LimitedNodeList.h>
#include <MetaverseApi.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>

#include <csignal>
#include <memory>
#include <vector>

namespace {
const QStringList kLongTermArgs { QStringLiteral("--lt-cred-mech"), QStringLiteral("--user"), QStringLiteral("u:p"),
                                  QStringLiteral("--realm"), QStringLiteral("icebreaker.test") };
} // namespace

class tst_E2eRelayDomain : public QObject {
    Q_OBJECT

    ProcessHarness harness;
    std::unique_ptr<QTemporaryDir> tmp;
    QString iceServerBin, domainServerBin, stubBin, keygenBin;

    QUuid makeDomainKey(const QString &keysDir, const QString &keypair) {
        QProcess keygen;
        keygen.start(keygenBin, { QStringLiteral("--keypair"), keypair, QStringLiteral("--keys-dir"), keysDir });
        if (!keygen.waitForFinished(30000) || keygen.exitCode() != 0) {
            qWarning() << "ice-keygen failed:" << keygen.readAllStandardError();
            return {};
        }
        return QUuid(QString::fromLatin1(keygen.readAllStandardOutput().trimmed()));
    }

    // An ice-server on loopback; its address as HOST:PORT.
    QString startIceServer(const QString &keysDir, const QStringList &extra = {}) {
        const quint16 port = ProcessHarness::freeUdpPort();
        harness.start(QStringLiteral("ice-server"), iceServerBin,
                      QStringList { QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                    QString::number(port), QStringLiteral("--keys-dir"), keysDir,
                                    QStringLiteral("--http-port"), QStringLiteral("0") }
                          + extra);
        if (!ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, port), 10000)) {
            return {};
        }
        return QStringLiteral("127.0.0.1:%1").arg(port);
    }

    ProcessHarness::Proc *startDomain(const QUuid &id, const QString &keypair, const QString &ice,
                                      const QStringList &extra) {
        const quint16 port = ProcessHarness::freeUdpPort(QHostAddress::AnyIPv4);
        return harness.start(QStringLiteral("domain-server"), domainServerBin,
                             QStringList { QStringLiteral("--domain-id"), id.toString(QUuid::WithoutBraces),
                                           QStringLiteral("--keypair"), keypair, QStringLiteral("--port"),
                                           QString::number(port), QStringLiteral("--ice-server"), ice }
                                 + extra);
    }

    static QStringList turnArgs(const CoturnProcess &coturn, const QString &password = QStringLiteral("p")) {
        return { QStringLiteral("--turn-server"),   coturn.address().toString(),
                 QStringLiteral("--turn-user"),     QStringLiteral("u"),
                 QStringLiteral("--turn-password"), password };
    }

    // --keepalive keeps the stub answering the domain's pings for a moment after it connected, so
    // the domain sees the path too (a stub exiting at once may leave the domain's pings unanswered).
    int runStub(const QString &ice, const QUuid &domainID, ProcessHarness::Proc **proc) {
        *proc = harness.start(QStringLiteral("interface-stub"), stubBin,
                              { QStringLiteral("--ice-server"), ice, QStringLiteral("--domain-id"),
                                domainID.toString(QUuid::WithoutBraces), QStringLiteral("--timeout"),
                                QStringLiteral("10"), QStringLiteral("--keepalive"), QStringLiteral("2") });
        return ProcessHarness::waitForExit(*proc, 20000);
    }

private Q_SLOTS:
    void initTestCase() {
        qRegisterMetaType<SockAddr>();
        iceServerBin = ProcessHarness::binary(QStringLiteral("ice-server/ice-server"));
        domainServerBin = ProcessHarness::binary(QStringLiteral("domain-server/domain-server"));
        stubBin = ProcessHarness::binary(QStringLiteral("interface-stub/interface-stub"));
        keygenBin = ProcessHarness::binary(QStringLiteral("tools/ice-keygen/ice-keygen"));
        QVERIFY2(!iceServerBin.isEmpty() && !domainServerBin.isEmpty() && !stubBin.isEmpty() && !keygenBin.isEmpty(),
                 "binaries not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!CoturnProcess::executable().isEmpty(), "turnserver (coturn) is not installed; see scripts/deps.sh");
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
    }

    void unmodifiedClientReachesADomainRegisteredThroughTheRelay() {
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        QVERIFY(!id.isNull());
        const QString ice = startIceServer(keysDir);
        QVERIFY(!ice.isEmpty());
        ProcessHarness::Proc *domain = startDomain(
            id, keypair, ice, turnArgs(coturn) << QStringLiteral("--relay") << QStringLiteral("always"));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("registered with ice-server")),
                                 15000);
        // The relay opened to the ice-server before the first heartbeat left, so the registration
        // the ice-server holds is the relayed address.
        const QString out = ProcessHarness::output(domain);
        const QRegularExpressionMatch
            relayed = QRegularExpression(QStringLiteral("registering through the relay (\\S+):(\\d+)")).match(out);
        QVERIFY2(relayed.hasMatch(), qPrintable(out));
        QVERIFY(out.indexOf(QStringLiteral("heartbeats go through it"))
                < out.indexOf(QStringLiteral("registered with")));

        // A client that knows nothing of TURN: it learns the relayed address as the domain's public
        // socket, and the domain answers it through the relay.
        ProcessHarness::Proc *stub = nullptr;
        const int code = runStub(ice, id, &stub);
        QVERIFY2(code == 0, qPrintable(ProcessHarness::output(stub)));
        QVERIFY2(ProcessHarness::output(stub).contains(QStringLiteral(":%1 via public").arg(relayed.captured(2))),
                 qPrintable(ProcessHarness::output(stub)));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(
                                     QStringLiteral("via relay %1:%2").arg(relayed.captured(1), relayed.captured(2))),
                                 5000);
    }

    void fallbackWithoutASymmetricNatRegistersDirectly() {
        // On loopback the ice-server's STUN and the TURN server see the same mapped address: no
        // endpoint-dependent NAT, so the domain keeps its direct registration.
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        const QString ice = startIceServer(keysDir);
        QVERIFY(!ice.isEmpty());
        ProcessHarness::Proc *domain = startDomain(id, keypair, ice, turnArgs(coturn));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("maps endpoint-independently")),
                                 15000);
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("registered with ice-server")),
                                 15000);
        QVERIFY(!ProcessHarness::output(domain).contains(QStringLiteral("heartbeats go through it")));
        ProcessHarness::Proc *stub = nullptr;
        QCOMPARE(runStub(ice, id, &stub), 0);
        QVERIFY2(!ProcessHarness::output(domain).contains(QStringLiteral("via relay")),
                 qPrintable(ProcessHarness::output(domain)));
    }

    void wrongTurnPasswordWithRelayAlwaysExitsRelayAuthFailed() {
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        const QString ice = startIceServer(keysDir);
        ProcessHarness::Proc *domain = startDomain(id, keypair, ice,
                                                   turnArgs(coturn, QStringLiteral("wrong"))
                                                       << QStringLiteral("--relay") << QStringLiteral("always"));
        QCOMPARE(ProcessHarness::waitForExit(domain, 20000), int(IceExitCode::RelayAuthFailed));
        QVERIFY(ProcessHarness::output(domain).contains(QStringLiteral("rejected our credentials")));
    }

    void refusedIceServerPermissionRegistersDirectly() {
        // The relay refuses to let the ice-server's IP in (403): with --relay always the domain holds
        // its heartbeats until the relay is open, so that refusal must end the relay, not leave the
        // domain unregistered.
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs + QStringList { QStringLiteral("--denied-peer-ip=127.0.0.1") }),
                 coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        QVERIFY(!id.isNull());
        const QString ice = startIceServer(keysDir);
        QVERIFY(!ice.isEmpty());
        ProcessHarness::Proc *domain = startDomain(
            id, keypair, ice, turnArgs(coturn) << QStringLiteral("--relay") << QStringLiteral("always"));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("registered with ice-server")),
                                 15000);
        const QString out = ProcessHarness::output(domain);
        QVERIFY2(out.contains(QStringLiteral("registering directly")), qPrintable(out));
        QVERIFY2(!out.contains(QStringLiteral("heartbeats go through it")), qPrintable(out));
    }

    void terminationReleasesTheAllocation_data() {
        QTest::addColumn<int>("signalNumber");
        QTest::addColumn<bool>("turnServerGone");
        QTest::newRow("SIGTERM") << int(SIGTERM) << false;
        QTest::newRow("SIGINT") << int(SIGINT) << false;
        QTest::newRow("SIGTERM, TURN server gone") << int(SIGTERM) << true;
    }

    // A domain told to stop releases its allocation (Refresh with LIFETIME 0) instead of leaving it
    // to expire on the server, and exits normally; a TURN server that no longer answers costs it at
    // most the bounded wait.
    void terminationReleasesTheAllocation() {
        QFETCH(int, signalNumber);
        QFETCH(bool, turnServerGone);
        CoturnProcess coturn;
        // sessions and refreshes are logged only with --verbose
        QVERIFY2(coturn.start(kLongTermArgs + QStringList { QStringLiteral("--verbose") }),
                 coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        QVERIFY(!id.isNull());
        const QString ice = startIceServer(keysDir);
        QVERIFY(!ice.isEmpty());
        ProcessHarness::Proc *domain = startDomain(
            id, keypair, ice, turnArgs(coturn) << QStringLiteral("--relay") << QStringLiteral("always"));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("registered with ice-server")),
                                 15000);
        QVERIFY(ProcessHarness::output(domain).contains(QStringLiteral("heartbeats go through it")));
        QVERIFY(!QString::fromUtf8(coturn.output()).contains(QStringLiteral("lifetime=0")));
        if (turnServerGone) {
            coturn.stop();
        }

        QElapsedTimer clock;
        clock.start();
        QCOMPARE(::kill(pid_t(domain->process->processId()), signalNumber), 0);
        QCOMPARE(ProcessHarness::waitForExit(domain, 10000), 0);
        const qint64 stoppingMs = clock.elapsed();
        QVERIFY2(
            ProcessHarness::output(domain).contains(QStringLiteral("signal %1 received, stopping").arg(signalNumber)),
            qPrintable(ProcessHarness::output(domain)));
        if (turnServerGone) {
            QVERIFY2(stoppingMs < 3000, qPrintable(QString::number(stoppingMs)));
            return;
        }
        QTRY_VERIFY_WITH_TIMEOUT(QString::fromUtf8(coturn.output()).contains(QStringLiteral("lifetime=0")), 5000);
        QVERIFY2(ProcessHarness::output(domain).contains(QStringLiteral("released")),
                 qPrintable(ProcessHarness::output(domain)));
    }

    void twentyRelayedClientsAtOnceAllConnect() {
        // Twenty interface-stubs with --relay always start within the same instant against one
        // domain that knows nothing of TURN but trusts the relay's IP: each relayed address gets its
        // own punching slot, so all twenty are introduced and connect on their first attempt. (On
        // loopback every address is 127.0.0.1: untrusted, the domain would hold 4 of them at once.)
        constexpr int Clients = 20;
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        const QString ice = startIceServer(keysDir, { QStringLiteral("--trusted-relay"), QStringLiteral("127.0.0.1") });
        QVERIFY(!ice.isEmpty());
        ProcessHarness::Proc *domain = startDomain(id, keypair, ice,
                                                   { QStringLiteral("--trusted-relay"), QStringLiteral("127.0.0.1") });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain).contains(QStringLiteral("registered with ice-server")),
                                 15000);
        QList<ProcessHarness::Proc *> stubs;
        for (int i = 0; i < Clients; ++i) {
            stubs.append(harness.start(
                QStringLiteral("interface-stub %1").arg(i), stubBin,
                QStringList { QStringLiteral("--ice-server"), ice, QStringLiteral("--domain-id"),
                              id.toString(QUuid::WithoutBraces), QStringLiteral("--timeout"), QStringLiteral("15"),
                              QStringLiteral("--keepalive"), QStringLiteral("2") }
                    + turnArgs(coturn) + QStringList { QStringLiteral("--relay"), QStringLiteral("always") }));
        }
        int viaRelay = 0;
        for (ProcessHarness::Proc *stub : qAsConst(stubs)) {
            QCOMPARE(ProcessHarness::waitForExit(stub, 30000), 0);
            viaRelay += ProcessHarness::output(stub).contains(QStringLiteral(" via relay ")) ? 1 : 0;
        }
        QCOMPARE(viaRelay, Clients);
        // At least one path per client (a stub may reach the domain under two client IDs: its first
        // query's and the fresh one it re-queries with through the relay).
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::count(domain, QStringLiteral("reached us at")) >= Clients, 5000);
        QVERIFY2(!ProcessHarness::output(domain).contains(QStringLiteral("per-address limit")),
                 qPrintable(ProcessHarness::output(domain)));
    }

    void hundredDomainsRegisterThroughOneTurnServerAndStay() {
        // In one process: 100 domain servers, each on its own socket with its own allocation on one
        // coturn, heartbeating once a second through it. The ice-server trusts the relay's IP; one
        // source's 50 packets/s would otherwise fit only about 50 of them.
        constexpr int Domains = 100;
        CoturnProcess coturn;
        QVERIFY2(coturn.start(kLongTermArgs), coturn.output().constData());
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        QVERIFY(QDir().mkpath(keysDir));
        QList<QUuid> ids;
        // One keypair made the way a domain makes it, shared by all: 100 RSA key generations
        // would cost minutes on a loaded machine and test nothing more. Each domain ID gets the
        // public key under its name in the ice-server's key directory, each domain its own copy.
        const QString sharedKeypair = tmp->filePath(QStringLiteral("shared.key"));
        QString publicKey;
        {
            DomainKeyManager keys(QUuid::createUuid(), sharedKeypair);
            QVERIFY2(keys.loadOrCreate(), qPrintable(keys.errorString()));
            publicKey = keys.publicKeyPath();
        }
        for (int i = 0; i < Domains; ++i) {
            ids.append(QUuid::createUuid());
            QVERIFY(QFile::copy(
                publicKey, QDir(keysDir).filePath(ids.last().toString(QUuid::WithoutBraces) + QStringLiteral(".pem"))));
            QVERIFY(QFile::copy(sharedKeypair, tmp->filePath(QStringLiteral("k%1.key").arg(i))));
        }
        const QString ice = startIceServer(keysDir, { QStringLiteral("--trusted-relay"), QStringLiteral("127.0.0.1") });
        QVERIFY(!ice.isEmpty());

        std::vector<std::unique_ptr<LimitedNodeList>> nodeLists;
        std::vector<std::unique_ptr<DomainServer>> domains;
        std::vector<std::unique_ptr<QSignalSpy>> unresponsive;
        for (int i = 0; i < Domains; ++i) {
            auto nodeList = std::make_unique<LimitedNodeList>(quint16(0));
            QVERIFY(nodeList->isBound());
            QVERIFY(nodeList->setTurnServer(coturn.address(),
                                            TurnCredentials { QStringLiteral("u"), QStringLiteral("p") }));
            DomainServer::Settings settings;
            settings.domainID = ids.at(i);
            settings.keypairPath = tmp->filePath(QStringLiteral("k%1.key").arg(i));
            settings.iceServers = { HostAndPort::parse(ice, 7337) };
            settings.relayMode = RelayConfig::Mode::Always;
            auto domain = std::make_unique<DomainServer>(settings, nodeList.get());
            unresponsive.push_back(
                std::make_unique<QSignalSpy>(domain->heartbeater(), &IceHeartbeater::iceServerUnresponsive));
            QVERIFY2(domain->start(), qPrintable(domain->errorString()));
            nodeLists.push_back(std::move(nodeList));
            domains.push_back(std::move(domain));
        }
        const auto registeredThroughRelay = [&domains]() {
            int count = 0;
            for (const auto &domain : domains) {
                count += domain->relay()->isRelaying() && domain->heartbeater()->isRegistered() ? 1 : 0;
            }
            return count;
        };
        QTRY_COMPARE_WITH_TIMEOUT(registeredThroughRelay(), Domains, 30000);
        // Stay registered: beyond the ice-server's 5 s peer timeout, no domain missed its ACKs.
        QTest::qWait(8000);
        QCOMPARE(registeredThroughRelay(), Domains);
        for (const auto &spy : unresponsive) {
            QCOMPARE(spy->count(), 0);
        }
        for (const auto &nodeList : nodeLists) {
            nodeList->releaseTurn(200);
        }
    }
};

QTEST_GUILESS_MAIN(tst_E2eRelayDomain)
#include "tst_e2e_relaydomain.moc"
