// End to end on loopback with the real binaries: ice-server, domain-server and interface-stub (plus
// coturn as an independent STUN server, and an in-test metaverse key API). Each test gets fresh
// ports and a fresh key directory; keys are made by ice-keygen as an operator would.
#include "FakeMetaverse.h"
#include "ProcessHarness.h"

#include <RsaPrivateKey.h>

#include <QtCore/QTemporaryDir>

class tst_E2eIce : public QObject {
    Q_OBJECT

    ProcessHarness harness;
    std::unique_ptr<QTemporaryDir> tmp;

    QString iceServerBin, domainServerBin, stubBin, keygenBin;

    struct Domain {
        QUuid id;
        QString keypair;
        quint16 port = 0;
        ProcessHarness::Proc *proc = nullptr;
    };

    // ice-keygen: a keypair in the temp dir, its public key into keysDir. Returns the domain ID.
    QUuid makeDomainKey(const QString &keysDir, const QString &keypair) {
        QProcess keygen;
        keygen.start(keygenBin, { QStringLiteral("--keypair"), keypair, QStringLiteral("--keys-dir"), keysDir });
        if (!keygen.waitForFinished(30000) || keygen.exitCode() != 0) {
            qWarning() << "ice-keygen failed:" << keygen.readAllStandardError();
            return {};
        }
        return QUuid(QString::fromLatin1(keygen.readAllStandardOutput().trimmed()));
    }

    ProcessHarness::Proc *startIceServer(const QString &name, const QHostAddress &bind, quint16 port,
                                         const QString &keysDir, const QStringList &extra = {}) {
        QStringList args { QStringLiteral("--bind"),      bind.toString(),
                           QStringLiteral("--port"),      QString::number(port),
                           QStringLiteral("--keys-dir"),  keysDir,
                           QStringLiteral("--http-port"), QStringLiteral("0") };
        return harness.start(name, iceServerBin, args + extra);
    }

    Domain startDomain(const QUuid &id, const QString &keypair, const QStringList &iceServers,
                       const QStringList &extra = {}) {
        Domain domain;
        domain.id = id;
        domain.keypair = keypair;
        domain.port = ProcessHarness::freeUdpPort(QHostAddress::AnyIPv4);
        QStringList args { QStringLiteral("--domain-id"), id.toString(QUuid::WithoutBraces),
                           QStringLiteral("--keypair"),   keypair,
                           QStringLiteral("--port"),      QString::number(domain.port) };
        for (const QString &ice : iceServers) {
            args << QStringLiteral("--ice-server") << ice;
        }
        domain.proc = harness.start(QStringLiteral("domain-server"), domainServerBin, args + extra);
        return domain;
    }

    // One interface-stub run to completion; returns its exit code.
    int runStub(const QString &iceServer, const QUuid &domainID, const QStringList &extra = {},
                ProcessHarness::Proc **procOut = nullptr) {
        QStringList args { QStringLiteral("--ice-server"), iceServer,
                           QStringLiteral("--domain-id"),  domainID.toString(QUuid::WithoutBraces),
                           QStringLiteral("--timeout"),    QStringLiteral("10") };
        ProcessHarness::Proc *proc = harness.start(QStringLiteral("interface-stub"), stubBin, args + extra);
        if (procOut) {
            *procOut = proc;
        }
        return ProcessHarness::waitForExit(proc, 20000);
    }

    static QString hostPort(const QHostAddress &address, quint16 port) {
        return QStringLiteral("%1:%2").arg(address.toString()).arg(port);
    }

    // A client connects: exit code 0, the domain's port in what it prints, and the domain saw it.
    void expectClientConnects(const QString &iceServer, const Domain &domain, const QStringList &extra = {}) {
        const int before = ProcessHarness::count(domain.proc, QStringLiteral("reached us at"));
        ProcessHarness::Proc *stub = nullptr;
        const int code = runStub(iceServer, domain.id, extra, &stub);
        QVERIFY2(
            code == 0,
            qPrintable(QStringLiteral("interface-stub exited %1:\n%2").arg(code).arg(ProcessHarness::output(stub))));
        QVERIFY2(ProcessHarness::output(stub).contains(QStringLiteral(":%1").arg(domain.port)),
                 qPrintable(ProcessHarness::output(stub)));
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::count(domain.proc, QStringLiteral("reached us at")) > before, 5000);
    }

    QString writeFile(const QString &name, const QString &text) {
        const QString path = tmp->filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(text.toUtf8()) < 0) {
            qWarning() << "cannot write" << path;
        }
        return path;
    }

    static QString registeredWith(const QString &iceServer) {
        return QStringLiteral("registered with ice-server %1").arg(iceServer);
    }

private Q_SLOTS:
    void initTestCase() {
        // Missing binaries fail rather than skip: CI builds them all.
        iceServerBin = ProcessHarness::binary(QStringLiteral("ice-server/ice-server"));
        domainServerBin = ProcessHarness::binary(QStringLiteral("domain-server/domain-server"));
        stubBin = ProcessHarness::binary(QStringLiteral("interface-stub/interface-stub"));
        keygenBin = ProcessHarness::binary(QStringLiteral("tools/ice-keygen/ice-keygen"));
        QVERIFY2(!iceServerBin.isEmpty(), "ice-server binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!domainServerBin.isEmpty(), "domain-server binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!stubBin.isEmpty(), "interface-stub binary not found under ICEBREAKER_BINARY_DIR");
        QVERIFY2(!keygenBin.isEmpty(), "ice-keygen binary not found under ICEBREAKER_BINARY_DIR");
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

    void connectsWithCoturnAsStunServer() {
        // coturn is a CI dependency (Debian package coturn): its absence is a failure, not a skip.
        QString turnserver = QStandardPaths::findExecutable(QStringLiteral("turnserver"));
        if (turnserver.isEmpty()) {
            turnserver = QStandardPaths::findExecutable(QStringLiteral("turnserver"),
                                                        { QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin") });
        }
        QVERIFY2(!turnserver.isEmpty(), "coturn's turnserver not found (apt-get install coturn)");
        const quint16 stunPort = ProcessHarness::freeUdpPort();
        const QString turnDir = tmp->filePath(QStringLiteral("coturn"));
        QVERIFY(QDir().mkpath(turnDir));
        // -n: no config file; every file it could write is inside the temp dir; no CLI, TLS or TCP.
        harness.start(QStringLiteral("coturn"), turnserver,
                      { QStringLiteral("-n"), QStringLiteral("--stun-only"), QStringLiteral("-L"),
                        QStringLiteral("127.0.0.1"), QStringLiteral("--listening-port"), QString::number(stunPort),
                        QStringLiteral("--no-cli"), QStringLiteral("--no-tls"), QStringLiteral("--no-dtls"),
                        QStringLiteral("--no-tcp"), QStringLiteral("--log-file"), QStringLiteral("stdout"),
                        QStringLiteral("--simple-log"), QStringLiteral("--pidfile"),
                        turnDir + QStringLiteral("/turnserver.pid"), QStringLiteral("--userdb"),
                        turnDir + QStringLiteral("/turndb") });
        const SockAddr stun(QHostAddress::LocalHost, stunPort);
        QVERIFY2(ProcessHarness::waitForStun(stun, 10000), "coturn does not answer STUN");

        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QUuid id = makeDomainKey(keysDir, tmp->filePath(QStringLiteral("domain.key")));
        QVERIFY(!id.isNull());
        const quint16 icePort = ProcessHarness::freeUdpPort();
        startIceServer(QStringLiteral("ice-server"), QHostAddress::LocalHost, icePort, keysDir);
        QVERIFY2(ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, icePort), 10000),
                 "ice-server is not up");

        const QString ice = hostPort(QHostAddress::LocalHost, icePort);
        const QString stunText = hostPort(QHostAddress::LocalHost, stunPort);
        Domain domain = startDomain(id, tmp->filePath(QStringLiteral("domain.key")), { ice },
                                    { QStringLiteral("--stun-server"), stunText });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(ice)), 15000);
        expectClientConnects(ice, domain, { QStringLiteral("--stun-server"), stunText });
    }

    void connectsWithIceServerAsStunServer() {
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QUuid id = makeDomainKey(keysDir, tmp->filePath(QStringLiteral("domain.key")));
        QVERIFY(!id.isNull());
        const quint16 icePort = ProcessHarness::freeUdpPort();
        startIceServer(QStringLiteral("ice-server"), QHostAddress::LocalHost, icePort, keysDir);
        QVERIFY2(ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, icePort), 10000),
                 "ice-server is not up");

        const QString ice = hostPort(QHostAddress::LocalHost, icePort);
        Domain domain = startDomain(id, tmp->filePath(QStringLiteral("domain.key")), { ice });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(ice)), 15000);
        // Registration means the heartbeat carried a public socket learned from the ice-server's STUN.
        expectClientConnects(ice, domain);
        expectClientConnects(ice, domain); // and again: a second client, same domain
    }

    // Both daemons configured by nothing but their config files, as the packaged services run.
    void daemonsRunFromTheirConfigFilesAlone() {
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        const QUuid id = makeDomainKey(keysDir, keypair);
        QVERIFY(!id.isNull());
        const quint16 icePort = ProcessHarness::freeUdpPort();
        const QString ice = hostPort(QHostAddress::LocalHost, icePort);
        const QString iceConfig = writeFile(
            QStringLiteral("ice-server.conf"),
            QStringLiteral("# ice-server for this test\nbind = 127.0.0.1\nport = %1\nkeys-dir = %2\nhttp-port = 0\n")
                .arg(icePort)
                .arg(keysDir));
        harness.start(QStringLiteral("ice-server"), iceServerBin, { QStringLiteral("--config"), iceConfig });
        QVERIFY2(ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, icePort), 10000),
                 "ice-server is not up");

        Domain domain;
        domain.id = id;
        domain.keypair = keypair;
        domain.port = ProcessHarness::freeUdpPort(QHostAddress::AnyIPv4);
        const QString domainConfig = writeFile(
            QStringLiteral("domain-server.conf"),
            QStringLiteral("domain-id = %1\nkeypair = %2\nice-server = %3\nport = %4\nverbose = false\n")
                .arg(id.toString(QUuid::WithoutBraces), keypair, ice)
                .arg(domain.port));
        domain.proc = harness.start(QStringLiteral("domain-server"), domainServerBin,
                                    { QStringLiteral("--config"), domainConfig });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(ice)), 15000);
        expectClientConnects(ice, domain);
    }

    void domainReRegistersAfterIceServerRestart() {
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QUuid id = makeDomainKey(keysDir, tmp->filePath(QStringLiteral("domain.key")));
        QVERIFY(!id.isNull());
        const quint16 icePort = ProcessHarness::freeUdpPort();
        const SockAddr iceSock(QHostAddress::LocalHost, icePort);
        ProcessHarness::Proc *ice1 = startIceServer(QStringLiteral("ice-server #1"), QHostAddress::LocalHost, icePort,
                                                    keysDir);
        QVERIFY(ProcessHarness::waitForStun(iceSock, 10000));
        const QString ice = hostPort(QHostAddress::LocalHost, icePort);
        Domain domain = startDomain(id, tmp->filePath(QStringLiteral("domain.key")), { ice });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(ice)), 15000);
        expectClientConnects(ice, domain);

        // Restart: the new process knows nothing about the domain until its next heartbeat.
        ProcessHarness::stop(ice1);
        startIceServer(QStringLiteral("ice-server #2"), QHostAddress::LocalHost, icePort, keysDir);
        QVERIFY(ProcessHarness::waitForStun(iceSock, 10000));
        QVERIFY(ProcessHarness::isRunning(domain.proc));
        // A client may ask before the first heartbeat reached the new process; it then gets no
        // answer ("domain unknown"). The domain heartbeats every second, so a retry must succeed.
        int code = -1;
        for (int attempt = 0; attempt < 3 && code != 0; ++attempt) {
            code = runStub(ice, id);
        }
        QCOMPARE(code, 0);
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::count(domain.proc, QStringLiteral("reached us at")) >= 2, 5000);
    }

    void domainFailsOverToTheSecondIceServer() {
        const QString keysDir = tmp->filePath(QStringLiteral("keys"));
        const QUuid id = makeDomainKey(keysDir, tmp->filePath(QStringLiteral("domain.key")));
        QVERIFY(!id.isNull());
        const QHostAddress a(QStringLiteral("127.0.0.2"));
        const QHostAddress b(QStringLiteral("127.0.0.3"));
        const quint16 portA = ProcessHarness::freeUdpPort(a);
        const quint16 portB = ProcessHarness::freeUdpPort(b);
        ProcessHarness::Proc *iceProcA = startIceServer(QStringLiteral("ice-server A"), a, portA, keysDir);
        startIceServer(QStringLiteral("ice-server B"), b, portB, keysDir);
        QVERIFY(ProcessHarness::waitForStun(SockAddr(a, portA), 10000));
        QVERIFY(ProcessHarness::waitForStun(SockAddr(b, portB), 10000));

        const QString iceA = hostPort(a, portA);
        const QString iceB = hostPort(b, portB);
        Domain domain = startDomain(id, tmp->filePath(QStringLiteral("domain.key")), { iceA, iceB });
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(iceA)), 15000);
        QVERIFY(!ProcessHarness::output(domain.proc).contains(registeredWith(iceB)));

        ProcessHarness::stop(iceProcA);
        // Seven unanswered heartbeats at 1 s, then B at once.
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(iceB)), 20000);
        QVERIFY(ProcessHarness::output(domain.proc).contains(QStringLiteral("failing over")));
        expectClientConnects(iceB, domain);
    }

    void keypairRegeneratedAfterRepeatedDenials() {
        constexpr int RefetchIntervalS = 2;
        // The metaverse holds a key that is not the domain's: the ice-server denies every
        // heartbeat until the domain makes a new keypair and PUTs it.
        FakeMetaverse metaverse;
        QVERIFY(metaverse.listen());
        const QString keysDir = tmp->filePath(QStringLiteral("keys")); // stays empty for the ice-server
        const QString unusedDir = tmp->filePath(QStringLiteral("keygen-output"));
        const QString keypair = tmp->filePath(QStringLiteral("domain.key"));
        QVERIFY(QDir().mkpath(keysDir));
        const QUuid id = makeDomainKey(unusedDir, keypair);
        QVERIFY(!id.isNull());
        const RsaPrivateKey original = RsaPrivateKey::loadFromFile(keypair);
        QVERIFY(!original.isNull());
        metaverse.setKey(id, RsaPrivateKey::generate(2048).publicKey());

        const quint16 icePort = ProcessHarness::freeUdpPort();
        startIceServer(QStringLiteral("ice-server"), QHostAddress::LocalHost, icePort, keysDir,
                       { QStringLiteral("--metaverse-url"), metaverse.url().toString(),
                         QStringLiteral("--key-refetch-interval"), QString::number(RefetchIntervalS) });
        QVERIFY(ProcessHarness::waitForStun(SockAddr(QHostAddress::LocalHost, icePort), 10000));
        const QString ice = hostPort(QHostAddress::LocalHost, icePort);
        Domain domain = startDomain(id, keypair, { ice },
                                    { QStringLiteral("--metaverse-url"), metaverse.url().toString() });

        QTRY_VERIFY_WITH_TIMEOUT(metaverse.keyUploads() >= 1, 30000);
        // The ice-server re-fetches a key that failed to verify at most once per refetch interval
        // (its defence against metaverse amplification, Q7; 60 s by default, short here), so the
        // new key is picked up up to one interval later.
        QTRY_VERIFY_WITH_TIMEOUT(ProcessHarness::output(domain.proc).contains(registeredWith(ice)),
                                 30000 + RefetchIntervalS * 1000);
        QVERIFY(ProcessHarness::count(domain.proc, QStringLiteral("denied our heartbeat")) >= 4);
        QCOMPARE(metaverse.keyUploads(), 1);
        const RsaPrivateKey regenerated = RsaPrivateKey::loadFromFile(keypair);
        QVERIFY(regenerated != original);
        QCOMPARE(metaverse.key(id), regenerated.publicKey());
        // Protocol 5.3: once registered, the domain publishes the ice-server it uses.
        QTRY_COMPARE_WITH_TIMEOUT(metaverse.iceServerAddress(id), QStringLiteral("127.0.0.1"), 10000);
        expectClientConnects(ice, domain);
    }
};

QTEST_GUILESS_MAIN(tst_E2eIce)
#include "tst_e2e_ice.moc"
