// The ice-server binary as an operator meets it: --help lists every option, bad input exits
// non-zero with a clear message, start-up says where it listens and where keys go, /status
// answers, SIGTERM ends it cleanly (on one thread and on several), and a config file alone is
// enough to run it.
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkDatagram>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QUdpSocket>
#include <QtTest/QtTest>

#include <memory>
#include <vector>

namespace {
QString binary() {
    return qEnvironmentVariable("ICEBREAKER_BINARY_DIR") + QStringLiteral("/ice-server/ice-server");
}

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

quint16 freeTcpPort() {
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

QString writeConfig(const QTemporaryDir &dir, const QByteArray &text) {
    const QString path = dir.filePath(QStringLiteral("ice-server.conf"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size()) {
        qFatal("cannot write %s", qPrintable(path));
    }
    return path;
}

// Waits until the server's log contains marker; returns the log so far.
QByteArray waitForLog(QProcess *server, const QByteArray &marker) {
    QByteArray log;
    QElapsedTimer clock;
    clock.start();
    while (!log.contains(marker) && clock.elapsed() < 10000 && server->state() != QProcess::NotRunning) {
        server->waitForReadyRead(200);
        log += server->readAllStandardError();
    }
    return log + server->readAllStandardError();
}

Run run(const QStringList &arguments) {
    QProcess process;
    process.start(binary(), arguments);
    process.waitForFinished(10000);
    return { process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError() };
}
} // namespace

class tst_IceBinary : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY2(QFileInfo(binary()).isExecutable(), qPrintable(binary())); }

    void helpListsEveryOption() {
        const Run help = run({ QStringLiteral("--help") });
        QCOMPARE(help.exitCode, 0);
        for (const char *option : { "--bind",
                                    "--port",
                                    "--keys-dir",
                                    "--metaverse-url",
                                    "HIFI_METAVERSE_URL",
                                    "--http-port",
                                    "--http-bind",
                                    "--peer-timeout",
                                    "--rate-limit",
                                    "--rate-burst",
                                    "--rate-limit-sources",
                                    "--key-fetch-timeout",
                                    "--key-fetch-max-in-flight",
                                    "--key-fetch-per-second",
                                    "--key-cache-ttl",
                                    "--key-negative-ttl",
                                    "--key-refetch-interval",
                                    "--max-domains",
                                    "--verbose",
                                    "--log-rules",
                                    "default 7337",
                                    "default 7338",
                                    "default 5000" }) {
            QVERIFY2(help.out.contains(option), option);
        }
    }

    void badInputExitsNonZero_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("unknown option") << QStringList { "--bogus" } << QByteArray("Unknown option 'bogus'");
        QTest::newRow("bad port") << QStringList { "--port", "99999" } << QByteArray("--port wants a whole number");
        QTest::newRow("bad timeout") << QStringList { "--peer-timeout", "soon" } << QByteArray("--peer-timeout");
        QTest::newRow("bad bind") << QStringList { "--bind", "example.org" }
                                  << QByteArray("--bind wants an IP address");
        QTest::newRow("bad metaverse") << QStringList { "--metaverse-url", "ftp://x" } << QByteArray("--metaverse-url");
        QTest::newRow("positional") << QStringList { "extra" } << QByteArray("unexpected argument 'extra'");
    }
    void badInputExitsNonZero() {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, message);
        const Run bad = run(arguments);
        QVERIFY(bad.exitCode != 0);
        QVERIFY2(bad.err.contains(message), bad.err.constData());
    }

    void helpSaysWhereTheConfigFileIs() {
        const Run help = run({ QStringLiteral("--help") });
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("--config <FILE>"));
        QVERIFY2(help.out.simplified().contains("/icebreaker/ice-server.conf, when it exists."), help.out.constData());
    }

    void configFileErrorsStop_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("message"); // %1: the file
        QTest::newRow("unknown key") << QByteArray("port = 0\nprot = 1\n") << "ice-server: %1:2: unknown key 'prot'";
        QTest::newRow("bad value") << QByteArray("# udp\n\nport = 99999\n")
                                   << "ice-server: %1:3: --port wants a whole number from 0 to 65535, not '99999'";
        QTest::newRow("bad flag") << QByteArray("verbose = yes\n")
                                  << "ice-server: %1:1: verbose wants true or false, not 'yes'";
        QTest::newRow("syntax") << QByteArray("port 7337\n")
                                << "ice-server: %1:1: expected 'key = value', not 'port 7337'";
    }
    void configFileErrorsStop() {
        QFETCH(QByteArray, text);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const QString path = writeConfig(dir, text);
        const Run bad = run({ QStringLiteral("--config"), path });
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains(message.arg(path).toUtf8()), bad.err.constData());
    }

    void missingConfigFileStops() {
        const Run bad = run({ QStringLiteral("--config"), QStringLiteral("/nonexistent/ice-server.conf") });
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains("cannot read config file /nonexistent/ice-server.conf"), bad.err.constData());
    }

    void runsFromConfigFileOnly() {
        QTemporaryDir dir;
        const quint16 httpPort = freeTcpPort();
        QVERIFY(httpPort != 0);
        const QString keys = dir.filePath(QStringLiteral("keys"));
        const QString config = writeConfig(dir, "# everything from the file\nbind = 127.0.0.1\nport = 0\nkeys-dir = "
                                                    + keys.toUtf8() + "\nhttp-port = " + QByteArray::number(httpPort)
                                                    + "\nhttp-bind = 127.0.0.1\nverbose = false\n");
        QProcess server;
        server.start(binary(), { QStringLiteral("--config"), config });
        const QByteArray log = waitForLog(&server, "HTTP /status");
        QVERIFY2(log.contains("HTTP /status and /metrics on 127.0.0.1:" + QByteArray::number(httpPort)),
                 log.constData());
        QVERIFY2(log.contains("options from " + config.toUtf8()), log.constData());
        QVERIFY2(log.contains("listening on UDP 127.0.0.1:"), log.constData());
        QVERIFY2(log.contains("trusted domain keys in " + keys.toUtf8()), log.constData());

        QNetworkAccessManager network;
        QNetworkReply *reply = network.get(
            QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(httpPort))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        delete reply;
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitCode(), 0);
    }

    void commandLineWinsOverConfigFile() {
        QTemporaryDir dir;
        const QString config = writeConfig(dir, "bind = 127.0.0.1\nport = 0\nhttp-port = 0\nkeys-dir = "
                                                    + dir.filePath(QStringLiteral("from-file")).toUtf8() + "\n");
        const QString keys = dir.filePath(QStringLiteral("from-command-line"));
        QProcess server;
        server.start(binary(), { QStringLiteral("--config"), config, QStringLiteral("--keys-dir"), keys });
        const QByteArray log = waitForLog(&server, "HTTP endpoint off");
        QVERIFY2(log.contains("trusted domain keys in " + keys.toUtf8()), log.constData());
        QVERIFY(!QDir(dir.filePath(QStringLiteral("from-file"))).exists());
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitCode(), 0);
    }

    void startsReportsAndStopsOnSigterm_data() {
        QTest::addColumn<int>("threads");
        QTest::newRow("one thread") << 1;
        QTest::newRow("two threads") << 2;
    }
    void startsReportsAndStopsOnSigterm() {
        QFETCH(int, threads);
        QTemporaryDir dir;
        quint16 httpPort;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            httpPort = probe.serverPort();
        }
        const QString keys = dir.filePath(QStringLiteral("new/keys"));
        QProcess server;
        server.start(binary(), { "--bind", "127.0.0.1", "--port", "0", "--keys-dir", keys, "--http-port",
                                 QString::number(httpPort), "--threads", QString::number(threads) });
        QByteArray log;
        QTRY_VERIFY_WITH_TIMEOUT((log += server.readAllStandardError()).contains("HTTP /status"), 10000);
        QVERIFY2(log.contains("listening on UDP 127.0.0.1:"), log.constData());
        QVERIFY2(log.contains(threads == 1 ? "on 1 thread" : "on 2 threads"), log.constData());
        const QRegularExpressionMatch listening = QRegularExpression(
                                                      QStringLiteral("listening on UDP 127\\.0\\.0\\.1:(\\d+)"))
                                                      .match(QString::fromUtf8(log));
        QVERIFY(listening.hasMatch());
        const quint16 udpPort = quint16(listening.captured(1).toUInt());

        // STUN from several sockets (spread over the threads), each answered from the port asked.
        constexpr int Clients = 8;
        const QByteArray stun = QByteArray::fromHex("000100002112a442") + QByteArray(12, 'x');
        std::vector<std::unique_ptr<QUdpSocket>> clients;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(std::make_unique<QUdpSocket>());
            QVERIFY(clients.back()->bind(QHostAddress(QHostAddress::LocalHost), 0));
            clients.back()->writeDatagram(stun, QHostAddress::LocalHost, udpPort);
        }
        for (const auto &client : clients) {
            QTRY_VERIFY_WITH_TIMEOUT(client->hasPendingDatagrams(), 5000);
            QCOMPARE(client->receiveDatagram().senderPort(), int(udpPort));
        }
        QVERIFY2(log.contains("trusted domain keys in " + keys.toUtf8()), log.constData());
        QVERIFY(QDir(keys).exists());

        QNetworkAccessManager network;
        QNetworkReply *reply = network.get(
            QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(httpPort))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QVERIFY(reply->readAll().contains("\"status\":\"healthy\""));
        delete reply;
        // /metrics counts every thread's datagrams (refreshed once a second).
        const QUrl metrics(QStringLiteral("http://127.0.0.1:%1/metrics").arg(httpPort));
        auto fetchMetrics = [&] {
            QNetworkReply *r = network.get(QNetworkRequest(metrics));
            QTest::qWaitFor([r] { return r->isFinished(); }, 5000);
            const QByteArray text = r->readAll();
            delete r;
            return text;
        };
        QTRY_VERIFY_WITH_TIMEOUT(
            fetchMetrics().contains(QByteArray("ice_server_stun_requests_total ") + QByteArray::number(Clients)), 5000);

        server.terminate(); // SIGTERM
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        QVERIFY(server.readAllStandardError().contains("stopped"));
    }
};

QTEST_GUILESS_MAIN(tst_IceBinary)
#include "tst_icebinary.moc"
