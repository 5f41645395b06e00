// The ice-server's options into IceServerOptions: every option's value and bounds, the messages of
// bad values, the config file (FILE:LINE, command line wins), and the shipped ice-server.conf
// holding the built-in defaults.
#include "OptionsTest.h"

#include <IceServerOptions.h>

#include <QtTest/QtTest>

using namespace options_test;

namespace {
Parsed<IceServerOptions> parseIce(const QStringList &arguments) {
    return parse<IceServerOptions>([](CommandLine *cl) { IceServerOptions::declare(cl, QString()); }, arguments);
}

QVariant field(const IceServerOptions &o, const QString &name) {
    QStringList bind;
    for (const QHostAddress &address : o.bind) {
        bind.append(address.toString());
    }
    QStringList relays;
    for (const QHostAddress &address : o.server.rateLimit.trustedRelays) {
        relays.append(address.toString());
    }
    const QHash<QString, QVariant> fields {
        { "port", o.port },
        { "keys-dir", o.keysDir },
        { "keys-rescan", o.keysRescanMs },
        { "metaverse-url", o.fetch.metaverseUrl.toString() },
        { "key-fetch-timeout", o.fetch.timeoutMs },
        { "key-fetch-max-in-flight", o.fetch.maxInFlight },
        { "key-fetch-per-second", o.fetch.maxPerSecond },
        { "key-cache-ttl", o.fetch.keyTtlMs },
        { "key-negative-ttl", o.fetch.negativeTtlMs },
        { "key-refetch-interval", o.fetch.refetchAfterFailedVerifyMs },
        { "http-port", o.httpPort },
        { "http-bind", o.httpBind },
        { "peer-timeout", o.server.peerTimeoutMs },
        { "max-domains", o.server.maxDomains },
        { "rate-limit", o.server.rateLimit.packetsPerSecond },
        { "rate-burst", o.server.rateLimit.burst },
        { "rate-limit-sources", o.server.rateLimit.maxSources },
        { "trusted-relay", relays.join(QLatin1Char(' ')) },
        { "relay-rate-limit", o.server.rateLimit.relayPacketsPerSecond },
        { "receive-buffer", o.receiveBufferBytes },
        { "transport", transportKindName(o.transport) },
        { "threads", o.threads },
        { "verbose", o.verbose },
        { "log-rules", o.logRules },
        { "bind", bind.join(QLatin1Char(' ')) },
        { "cluster", o.clusterEnabled() ? o.cluster.redacted() : QString() },
        { "node-id", o.nodeId },
    };
    if (!fields.contains(name)) {
        qFatal("no field %s", qPrintable(name));
    }
    return fields.value(name);
}
const QStringList AllFields { "port",
                              "keys-dir",
                              "keys-rescan",
                              "metaverse-url",
                              "key-fetch-timeout",
                              "key-fetch-max-in-flight",
                              "key-fetch-per-second",
                              "key-cache-ttl",
                              "key-negative-ttl",
                              "key-refetch-interval",
                              "http-port",
                              "http-bind",
                              "peer-timeout",
                              "max-domains",
                              "rate-limit",
                              "rate-burst",
                              "rate-limit-sources",
                              "trusted-relay",
                              "relay-rate-limit",
                              "receive-buffer",
                              "transport",
                              "threads",
                              "verbose",
                              "log-rules",
                              "bind",
                              "cluster",
                              "node-id" };
} // namespace

class tst_IceServerOptions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        // Both change defaults; the suite pins them.
        qunsetenv("STATE_DIRECTORY");
        qunsetenv("HIFI_METAVERSE_URL");
    }

    void defaultsEqualTheSettingsStructs() {
        const Parsed<IceServerOptions> p = parseIce({});
        QVERIFY2(p.ok, qPrintable(p.error));
        const IceServerOptions defaults;
        for (const QString &name : AllFields) {
            QVERIFY2(field(p.options, name) == field(defaults, name), qPrintable(name));
        }
        const IceServerSettings server;
        QCOMPARE(p.options.server.peerTimeoutMs, server.peerTimeoutMs);
        QCOMPARE(p.options.server.rateLimit.burst, server.rateLimit.burst);
        const KeyFetchSettings fetch;
        QCOMPARE(p.options.fetch.keyTtlMs, fetch.keyTtlMs);
        QCOMPARE(p.options.fetch.negativeTtlMs, fetch.negativeTtlMs);
        QVERIFY(p.options.keysDir.endsWith(QStringLiteral("icebreaker/ice-server/keys")));
    }

    void goodValues_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("port 0") << QStringList { "--port", "0" } << "port" << QVariant(quint16(0));
        QTest::newRow("port max") << QStringList { "--port", "65535" } << "port" << QVariant(quint16(65535));
        QTest::newRow("keys-dir") << QStringList { "--keys-dir", "/tmp/k" } << "keys-dir" << QVariant("/tmp/k");
        QTest::newRow("rescan off") << QStringList { "--keys-rescan", "0" } << "keys-rescan" << QVariant(0);
        QTest::newRow("fetch timeout min")
            << QStringList { "--key-fetch-timeout", "100" } << "key-fetch-timeout" << QVariant(100);
        QTest::newRow("in flight max") << QStringList { "--key-fetch-max-in-flight", "10000" }
                                       << "key-fetch-max-in-flight" << QVariant(10000);
        QTest::newRow("per second") << QStringList { "--key-fetch-per-second", "3" } << "key-fetch-per-second"
                                    << QVariant(3.0);
        QTest::newRow("cache ttl s to ms")
            << QStringList { "--key-cache-ttl", "604800" } << "key-cache-ttl" << QVariant(604800000);
        QTest::newRow("negative ttl 0") << QStringList { "--key-negative-ttl", "0" } << "key-negative-ttl"
                                        << QVariant(0);
        QTest::newRow("refetch s to ms") << QStringList { "--key-refetch-interval", "2" } << "key-refetch-interval"
                                         << QVariant(2000);
        QTest::newRow("http off") << QStringList { "--http-port", "0" } << "http-port" << QVariant(quint16(0));
        QTest::newRow("http bind") << QStringList { "--http-bind", "0.0.0.0" } << "http-bind" << QVariant("0.0.0.0");
        QTest::newRow("peer timeout max")
            << QStringList { "--peer-timeout", "3600000" } << "peer-timeout" << QVariant(3600000);
        QTest::newRow("max domains") << QStringList { "--max-domains", "1" } << "max-domains" << QVariant(1);
        QTest::newRow("rate limit off") << QStringList { "--rate-limit", "0" } << "rate-limit" << QVariant(0.0);
        QTest::newRow("burst") << QStringList { "--rate-burst", "7" } << "rate-burst" << QVariant(7.0);
        QTest::newRow("sources") << QStringList { "--rate-limit-sources", "9" } << "rate-limit-sources" << QVariant(9);
        QTest::newRow("buffer max") << QStringList { "--receive-buffer", "1073741824" } << "receive-buffer"
                                    << QVariant(1 << 30);
        QTest::newRow("transport qt") << QStringList { "--transport", "qt" } << "transport"
                                      << QVariant(transportKindName(TransportKind::Qt));
        QTest::newRow("transport native") << QStringList { "--transport", "native" } << "transport"
                                          << QVariant(transportKindName(TransportKind::Native));
        QTest::newRow("threads") << QStringList { "--threads", "4" } << "threads" << QVariant(4);
        QTest::newRow("threads per core") << QStringList { "--threads", "0" } << "threads" << QVariant(0);
        QTest::newRow("verbose -v") << QStringList { "-v" } << "verbose" << QVariant(true);
        QTest::newRow("log rules") << QStringList { "--log-rules", "a=true;b=false" } << "log-rules"
                                   << QVariant("a=true;b=false");
        QTest::newRow("metaverse") << QStringList { "--metaverse-url", "https://mv.example.org" } << "metaverse-url"
                                   << QVariant("https://mv.example.org");
        QTest::newRow("cluster") << QStringList { "--cluster", "redis://10.0.0.5" } << "cluster"
                                 << QVariant("redis://10.0.0.5:6379/0");
        QTest::newRow("cluster redacted") << QStringList { "--cluster", "redis://ice:pw@[::1]:6380/3" } << "cluster"
                                          << QVariant("redis://ice:***@[::1]:6380/3");
        QTest::newRow("node id") << QStringList { "--cluster", "redis://h", "--node-id", "ice-a.example:7337" }
                                 << "node-id" << QVariant("ice-a.example:7337");
        QTest::newRow("trusted relays") << QStringList { "--trusted-relay", "203.0.113.7", "--trusted-relay", "::1" }
                                        << "trusted-relay" << QVariant("203.0.113.7 ::1");
        QTest::newRow("relay rate") << QStringList { "--relay-rate-limit", "800" } << "relay-rate-limit"
                                    << QVariant(800.0);
        QTest::newRow("bind two") << QStringList { "--bind", "127.0.0.1", "--bind", "::1" } << "bind"
                                  << QVariant("127.0.0.1 ::1");
    }
    void goodValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        const Parsed<IceServerOptions> p = parseIce(arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(::field(p.options, field), expected);
    }

    void badValues_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("port") << QStringList { "--port", "65536" }
                              << "--port wants a whole number from 0 to 65535, not '65536'";
        QTest::newRow("rescan") << QStringList { "--keys-rescan", "-1" }
                                << "--keys-rescan wants a whole number from 0 to 86400000, not '-1'";
        QTest::newRow("fetch timeout") << QStringList { "--key-fetch-timeout", "99" }
                                       << "--key-fetch-timeout wants a whole number from 100 to 600000, not '99'";
        QTest::newRow("in flight") << QStringList { "--key-fetch-max-in-flight", "0" }
                                   << "--key-fetch-max-in-flight wants a whole number from 1 to 10000, not '0'";
        QTest::newRow("per second") << QStringList { "--key-fetch-per-second", "100001" }
                                    << "--key-fetch-per-second wants a whole number from 1 to 100000, not '100001'";
        QTest::newRow("cache ttl") << QStringList { "--key-cache-ttl", "604801" }
                                   << "--key-cache-ttl wants a whole number from 1 to 604800, not '604801'";
        QTest::newRow("negative ttl") << QStringList { "--key-negative-ttl", "86401" }
                                      << "--key-negative-ttl wants a whole number from 0 to 86400, not '86401'";
        QTest::newRow("refetch") << QStringList { "--key-refetch-interval", "0" }
                                 << "--key-refetch-interval wants a whole number from 1 to 86400, not '0'";
        QTest::newRow("http port") << QStringList { "--http-port", "x" }
                                   << "--http-port wants a whole number from 0 to 65535, not 'x'";
        QTest::newRow("peer timeout") << QStringList { "--peer-timeout", "soon" }
                                      << "--peer-timeout wants a whole number from 100 to 3600000, not 'soon'";
        QTest::newRow("max domains") << QStringList { "--max-domains", "0" }
                                     << "--max-domains wants a whole number from 1 to 100000000, not '0'";
        QTest::newRow("rate limit") << QStringList { "--rate-limit", "-5" }
                                    << "--rate-limit wants a whole number from 0 to 100000000, not '-5'";
        QTest::newRow("burst") << QStringList { "--rate-burst", "0" }
                               << "--rate-burst wants a whole number from 1 to 100000000, not '0'";
        QTest::newRow("sources") << QStringList { "--rate-limit-sources", "0" }
                                 << "--rate-limit-sources wants a whole number from 1 to 100000000, not '0'";
        QTest::newRow("buffer") << QStringList { "--receive-buffer", "1073741825" }
                                << "--receive-buffer wants a whole number from 0 to 1073741824, not '1073741825'";
        QTest::newRow("transport") << QStringList { "--transport", "fast" }
                                   << "--transport wants auto, qt or native, not 'fast'";
        QTest::newRow("threads") << QStringList { "--threads", "65" }
                                 << "--threads wants a whole number from 0 to 64, not '65'";
        QTest::newRow("threads with cluster")
            << QStringList { "--cluster", "redis://h", "--threads", "2" }
            << "--cluster serves UDP on one thread for now: leave out --threads or set it to 1";
        QTest::newRow("trusted relay name") << QStringList { "--trusted-relay", "turn.example.org" }
                                            << "--trusted-relay wants an IP address, not 'turn.example.org'";
        QTest::newRow("bind name") << QStringList { "--bind", "example.org" }
                                   << "--bind wants an IP address, not 'example.org'";
        QTest::newRow("metaverse scheme")
            << QStringList { "--metaverse-url", "ftp://x" } << "--metaverse-url wants an http(s) URL, not 'ftp://x'";
        QTest::newRow("cluster scheme") << QStringList { "--cluster", "http://h" }
                                        << "--cluster: a Redis URL starts with redis://";
        QTest::newRow("cluster password stays out") << QStringList { "--cluster", "redis://u:Secret1@h:99999" }
                                                    << "--cluster: port '99999' is not a number from 1 to 65535";
        QTest::newRow("cluster empty") << QStringList { "--cluster", "" } << "--cluster: no Redis URL";
        QTest::newRow("node id chars") << QStringList { "--cluster", "redis://h", "--node-id", "a b" }
                                       << "--node-id wants 1 to 200 letters, digits or .:_-, not 'a b'";
        QTest::newRow("node id alone") << QStringList { "--node-id", "a" } << "--node-id needs --cluster";
        QTest::newRow("positional") << QStringList { "extra" } << "unexpected argument 'extra'";
        QTest::newRow("unknown") << QStringList { "--bogus" } << "Unknown option 'bogus'.";
    }
    void badValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<IceServerOptions> p = parseIce(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void environment() {
        qputenv("HIFI_METAVERSE_URL", "https://env.example.org");
        QCOMPARE(parseIce({}).options.fetch.metaverseUrl, QUrl(QStringLiteral("https://env.example.org")));
        QCOMPARE(parseIce({ "--metaverse-url", "http://cli.example.org" }).options.fetch.metaverseUrl,
                 QUrl(QStringLiteral("http://cli.example.org")));
        qputenv("HIFI_METAVERSE_URL", "gopher://x");
        QCOMPARE(parseIce({}).error, QStringLiteral("HIFI_METAVERSE_URL wants an http(s) URL, not 'gopher://x'"));
        qunsetenv("HIFI_METAVERSE_URL");
        qputenv("STATE_DIRECTORY", "/var/lib/icebreaker/ice-server:/other");
        QCOMPARE(IceServerOptions::defaultKeysDir(), QStringLiteral("/var/lib/icebreaker/ice-server/keys"));
        qunsetenv("STATE_DIRECTORY");
    }

    // hostname:port, with what Redis client names and keys cannot hold replaced.
    void defaultNodeId() {
        const QString id = IceServerOptions::defaultNodeId(7337);
        QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9._-]+:7337$")).match(id).hasMatch(), qPrintable(id));
    }

    void loggingRules() {
        IceServerOptions o;
        QCOMPARE(o.loggingRules(), QStringLiteral("hifi.*.debug=false"));
        o.verbose = true;
        o.logRules = QStringLiteral("a=true;b=false");
        QVERIFY(o.loggingRules().startsWith(QStringLiteral("hifi.*.debug=true\n")));
        QVERIFY(o.loggingRules().endsWith(QStringLiteral("\na=true\nb=false")));
    }

    void configFile_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("error"); // %1: the file; empty: reads
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("port") << QByteArray("port = 7400\n") << QStringList {} << QString() << "port"
                              << QVariant(quint16(7400));
        QTest::newRow("command line wins") << QByteArray("port = 7400\n") << QStringList { "--port", "7401" }
                                           << QString() << "port" << QVariant(quint16(7401));
        QTest::newRow("bind lines") << QByteArray("bind = 127.0.0.1\nbind = ::1\n") << QStringList {} << QString()
                                    << "bind" << QVariant("127.0.0.1 ::1");
        QTest::newRow("verbose") << QByteArray("verbose = true\n") << QStringList {} << QString() << "verbose"
                                 << QVariant(true);
        QTest::newRow("cluster") << QByteArray("cluster = redis://ice:pw@10.0.0.5/2\nnode-id = ice-a\n")
                                 << QStringList {} << QString() << "cluster"
                                 << QVariant("redis://ice:***@10.0.0.5:6379/2");
        QTest::newRow("bad cluster line") << QByteArray("port = 7400\ncluster = redis://ice:pw@/2\n") << QStringList {}
                                          << "%1:2: --cluster: no host in the Redis URL" << QString() << QVariant();
        QTest::newRow("unknown key")
            << QByteArray("port = 7400\nprot = 1\n") << QStringList {}
            << "%1:2: unknown key 'prot' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("bad value") << QByteArray("# ports\n\nhttp-port = 70000\n") << QStringList {}
                                   << "%1:3: --http-port wants a whole number from 0 to 65535, not '70000'" << QString()
                                   << QVariant();
        QTest::newRow("bad bind line") << QByteArray("bind = 127.0.0.1\nbind = localhost\n") << QStringList {}
                                       << "%1:2: --bind wants an IP address, not 'localhost'" << QString()
                                       << QVariant();
        QTest::newRow("inline comment is value")
            << QByteArray("port = 7400 # udp\n") << QStringList {}
            << "%1:1: --port wants a whole number from 0 to 65535, not '7400 # udp'" << QString() << QVariant();
    }
    void configFile() {
        QFETCH(QByteArray, text);
        QFETCH(QStringList, arguments);
        QFETCH(QString, error);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("ice-server.conf"), text);
        const Parsed<IceServerOptions> p = parseIce(QStringList { QStringLiteral("--config"), path } + arguments);
        if (!error.isEmpty()) {
            QVERIFY(!p.ok);
            QCOMPARE(p.error, error.arg(path));
            return;
        }
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(::field(p.options, field), expected);
    }

    // The shipped file sets every key to its built-in default, except the packaged key directory.
    void shippedConfigHoldsTheDefaults() {
        const QString path = qEnvironmentVariable("ICEBREAKER_SOURCE_DIR")
                             + QStringLiteral("/ice-server/ice-server.conf");
        QVERIFY2(QFile::exists(path), qPrintable(path));
        const Parsed<IceServerOptions> p = parseIce({ QStringLiteral("--config"), path });
        QVERIFY2(p.ok, qPrintable(p.error));
        const IceServerOptions defaults;
        for (const QString &name : AllFields) {
            if (name != QLatin1String("keys-dir")) {
                QVERIFY2(field(p.options, name) == field(defaults, name), qPrintable(name));
            }
        }
        QCOMPARE(p.options.keysDir, QStringLiteral("/var/lib/icebreaker/ice-server/keys"));
    }

    // The packaged service keeps its state where the shipped file's keys-dir points, and passes no
    // options that would override the file.
    void shippedConfigMatchesTheService() {
        QFile unit(qEnvironmentVariable("ICEBREAKER_SOURCE_DIR") + QStringLiteral("/ice-server/ice-server.service.in"));
        QVERIFY2(unit.open(QIODevice::ReadOnly), qPrintable(unit.fileName()));
        QString stateDirectory, execStart;
        for (const QString &line : QString::fromUtf8(unit.readAll()).split(QLatin1Char('\n'))) {
            if (line.startsWith(QLatin1String("StateDirectory="))) {
                stateDirectory = line.section(QLatin1Char('='), 1);
            } else if (line.startsWith(QLatin1String("ExecStart="))) {
                execStart = line.section(QLatin1Char('='), 1);
            }
        }
        const Parsed<IceServerOptions> p = parseIce(
            { QStringLiteral("--config"),
              qEnvironmentVariable("ICEBREAKER_SOURCE_DIR") + QStringLiteral("/ice-server/ice-server.conf") });
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(p.options.keysDir, QStringLiteral("/var/lib/%1/keys").arg(stateDirectory));
        QVERIFY2(execStart.endsWith(QLatin1String("/ice-server")), qPrintable(execStart));
    }
};

QTEST_GUILESS_MAIN(tst_IceServerOptions)
#include "tst_iceserveroptions.moc"
