// The ice-server binary as an operator meets it: --help lists every option, bad input exits
// non-zero with a clear message, start-up says where it listens and where keys go, /status
// answers, and SIGTERM ends it cleanly.
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

namespace {
QString binary() {
    return qEnvironmentVariable("ICEBREAKER_BINARY_DIR") + QStringLiteral("/ice-server/ice-server");
}

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run run(const QStringList &arguments) {
    QProcess process;
    process.start(binary(), arguments);
    process.waitForFinished(10000);
    return { process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError() };
}
} // namespace

class TestIceBinary : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY2(QFileInfo(binary()).isExecutable(), qPrintable(binary())); }

    void helpListsEveryOption() {
        const Run help = run({ QStringLiteral("--help") });
        QCOMPARE(help.exitCode, 0);
        for (const char *option : { "--bind", "--port", "--keys-dir", "--metaverse-url", "HIFI_METAVERSE_URL",
                                    "--http-port", "--http-bind", "--peer-timeout", "--rate-limit", "--rate-burst",
                                    "--rate-limit-sources", "--key-fetch-timeout", "--key-fetch-max-in-flight",
                                    "--key-fetch-per-second", "--key-cache-ttl", "--key-negative-ttl", "--key-refetch-interval",
                                    "--max-domains", "--verbose", "--log-rules", "default 7337", "default 7338",
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
        QTest::newRow("bad bind") << QStringList { "--bind", "example.org" } << QByteArray("--bind wants an IP address");
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

    void startsReportsAndStopsOnSigterm() {
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
                                 QString::number(httpPort) });
        QByteArray log;
        QTRY_VERIFY_WITH_TIMEOUT((log += server.readAllStandardError()).contains("HTTP /status"), 10000);
        QVERIFY2(log.contains("listening on UDP 127.0.0.1:"), log.constData());
        QVERIFY2(log.contains("trusted domain keys in " + keys.toUtf8()), log.constData());
        QVERIFY(QDir(keys).exists());

        QNetworkAccessManager network;
        QNetworkReply *reply = network.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(httpPort))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QVERIFY(reply->readAll().contains("\"status\":\"healthy\""));
        delete reply;

        server.terminate(); // SIGTERM
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        QVERIFY(server.readAllStandardError().contains("stopped"));
    }
};

QTEST_GUILESS_MAIN(TestIceBinary)
#include "tst_icebinary.moc"
