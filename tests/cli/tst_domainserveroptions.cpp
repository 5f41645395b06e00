// The domain-server's options into DomainServerOptions: required options, bounds and the messages
// of bad values, the config file (FILE:LINE, command line wins, ice-server lines) and the shipped
// domain-server.conf holding the built-in defaults.
#include "OptionsTest.h"

#include <DomainServerOptions.h>

#include <QtTest/QtTest>

using namespace options_test;

namespace {
const QString Id = QStringLiteral("1eadc521-39d4-4dbe-9080-4ab8a5a98ea2");

Parsed<DomainServerOptions> parseDomain(const QStringList &arguments) {
    return parse<DomainServerOptions>([](CommandLine *cl) { DomainServerOptions::declare(cl, QString()); }, arguments);
}

// The three options every run needs, with a keypair path that does not exist (so it is creatable).
QStringList required() {
    return { "--domain-id", Id, "--keypair", "/nonexistent/domain.key", "--ice-server", "127.0.0.1" };
}

QVariant field(const DomainServerOptions &o, const QString &name) {
    QStringList ice;
    for (const HostAndPort &server : o.server.iceServers) {
        ice.append(server.toString());
    }
    QStringList ttls;
    for (int ttl : o.server.gatekeeper.punchTtls.ttls()) {
        ttls.append(QString::number(ttl));
    }
    QStringList relays;
    for (const QHostAddress &address : o.server.gatekeeper.trustedRelays) {
        relays.append(address.toString());
    }
    const QHash<QString, QVariant> fields {
        { "domain-id", o.server.domainID.toString(QUuid::WithoutBraces) },
        { "keypair", o.server.keypairPath },
        { "ice-server", ice.join(QLatin1Char(' ')) },
        { "stun-server", o.server.stunServer },
        { "metaverse-url", o.server.metaverseUrl.toString() },
        { "port", o.port },
        { "punch-ttl", ttls.join(QLatin1Char(',')) },
        { "max-ice-peers", o.server.gatekeeper.maxIcePeers },
        { "max-punching-peers-per-address", o.server.gatekeeper.maxConnectingPeersPerTarget },
        { "max-pings-per-target", o.server.gatekeeper.maxPingsPerTarget },
        { "ice-peer-timeout", o.server.gatekeeper.connectedPeerTimeoutMs },
        { "trusted-relay", relays.join(QLatin1Char(' ')) },
        { "verbose", o.verbose },
    };
    if (!fields.contains(name)) {
        qFatal("no field %s", qPrintable(name));
    }
    return fields.value(name);
}
const QStringList TunableFields { "stun-server",
                                  "metaverse-url",
                                  "port",
                                  "punch-ttl",
                                  "max-ice-peers",
                                  "max-punching-peers-per-address",
                                  "max-pings-per-target",
                                  "ice-peer-timeout",
                                  "trusted-relay",
                                  "verbose" };
} // namespace

class tst_DomainServerOptions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults() {
        const Parsed<DomainServerOptions> p = parseDomain(required());
        QVERIFY2(p.ok, qPrintable(p.error));
        DomainServerOptions defaults;
        defaults.server.gatekeeper.punchTtls = { 2, 2 }; // the option's default text, "2,2"
        for (const QString &name : TunableFields) {
            QVERIFY2(field(p.options, name) == field(defaults, name), qPrintable(name));
        }
    }

    void goodValues_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("domain id") << QStringList {} << "domain-id" << QVariant(Id);
        QTest::newRow("ice-servers in order, default port")
            << QStringList { "--ice-server", "ice2.example.org:7400", "--ice-server", "[::1]" } << "ice-server"
            << QVariant("127.0.0.1:7337 ice2.example.org:7400 [::1]:7337");
        QTest::newRow("stun") << QStringList { "--stun-server", "stun.example.org" } << "stun-server"
                              << QVariant("stun.example.org");
        QTest::newRow("metaverse") << QStringList { "--metaverse-url", "https://mv.example.org" } << "metaverse-url"
                                   << QVariant("https://mv.example.org");
        QTest::newRow("port 0") << QStringList { "--port", "0" } << "port" << QVariant(quint16(0));
        QTest::newRow("port max") << QStringList { "--port", "65535" } << "port" << QVariant(quint16(65535));
        QTest::newRow("ttl list") << QStringList { "--punch-ttl", "3,3" } << "punch-ttl" << QVariant("3,3");
        QTest::newRow("ttl off") << QStringList { "--punch-ttl", "0" } << "punch-ttl" << QVariant("");
        QTest::newRow("peers") << QStringList { "--max-ice-peers", "1" } << "max-ice-peers" << QVariant(1);
        QTest::newRow("per address") << QStringList { "--max-punching-peers-per-address", "9" }
                                     << "max-punching-peers-per-address" << QVariant(9);
        QTest::newRow("pings") << QStringList { "--max-pings-per-target", "5" } << "max-pings-per-target"
                               << QVariant(5);
        QTest::newRow("timeout s to ms") << QStringList { "--ice-peer-timeout", "2" } << "ice-peer-timeout"
                                         << QVariant(2000);
        QTest::newRow("trusted relays") << QStringList { "--trusted-relay", "203.0.113.7", "--trusted-relay", "::1" }
                                        << "trusted-relay" << QVariant("203.0.113.7 ::1");
        QTest::newRow("verbose") << QStringList { "--verbose" } << "verbose" << QVariant(true);
    }
    void goodValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        const Parsed<DomainServerOptions> p = parseDomain(required() + arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(::field(p.options, field), expected);
    }

    void badValues_data() {
        const QString counts = QStringLiteral(
            "--max-ice-peers, --max-pings-per-target and --ice-peer-timeout want a positive number");
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("no domain id") << QStringList { "--keypair", "k", "--ice-server", "a" }
                                      << "--domain-id UUID is required (tools/ice-keygen makes one)";
        QTest::newRow("bad domain id") << QStringList { "--domain-id", "nope", "--keypair", "k", "--ice-server", "a" }
                                       << "--domain-id \"nope\" is not a UUID";
        QTest::newRow("no keypair") << QStringList { "--domain-id", Id, "--ice-server", "a" }
                                    << "--keypair FILE is required";
        QTest::newRow("no ice-server") << QStringList { "--domain-id", Id, "--keypair", "k" }
                                       << "at least one --ice-server HOST[:PORT] is required";
        QTest::newRow("bad ice-server") << required() + QStringList { "--ice-server", "a:0" }
                                        << "--ice-server: bad address \"a:0\": port must be 1-65535";
        QTest::newRow("metaverse") << required() + QStringList { "--metaverse-url", "ftp://x" }
                                   << "--metaverse-url \"ftp://x\" is not an http(s) URL";
        QTest::newRow("port") << required() + QStringList { "--port", "65536" } << "--port must be 0-65535";
        QTest::newRow("ttl") << required() + QStringList { "--punch-ttl", "2,256" }
                             << "--punch-ttl wants TTLs 1-255 separated by commas, or 0";
        QTest::newRow("peers") << required() + QStringList { "--max-ice-peers", "0" } << counts;
        QTest::newRow("per address") << required() + QStringList { "--max-punching-peers-per-address", "x" } << counts;
        QTest::newRow("pings") << required() + QStringList { "--max-pings-per-target", "-1" } << counts;
        QTest::newRow("timeout") << required() + QStringList { "--ice-peer-timeout", "0" } << counts;
        QTest::newRow("timeout overflow") << required() + QStringList { "--ice-peer-timeout", "2147484" } << counts;
        QTest::newRow("trusted relay name") << required() + QStringList { "--trusted-relay", "turn.example.org" }
                                            << "--trusted-relay wants an IP address, not 'turn.example.org'";
    }
    void badValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<DomainServerOptions> p = parseDomain(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void configFile_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("error"); // %1: the file; empty: reads
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        const QByteArray base = "domain-id = " + Id.toUtf8() + "\nkeypair = /nonexistent/k\n";
        QTest::newRow("everything from the file")
            << base + "ice-server = a\nice-server = b:1\n"
            << QStringList {} << QString() << "ice-server" << QVariant("a:7337 b:1");
        QTest::newRow("command line replaces ice-servers")
            << base + "ice-server = a\nice-server = b\n"
            << QStringList { "--ice-server", "c" } << QString() << "ice-server" << QVariant("c:7337");
        QTest::newRow("required from the command line")
            << QByteArray("port = 0\n") << required() << QString() << "port" << QVariant(quint16(0));
        QTest::newRow("ttl with commas") << base + "ice-server = a\npunch-ttl = 3,3\n"
                                         << QStringList {} << QString() << "punch-ttl" << QVariant("3,3");
        QTest::newRow("bad ice-server line")
            << base + "ice-server = a\nice-server = [nope]\n"
            << QStringList {} << "%1:4: --ice-server: bad address \"[nope]\": brackets hold an IPv6 address"
            << QString() << QVariant();
        QTest::newRow("bad ttl line") << base + "ice-server = a\n\npunch-ttl = 300\n"
                                      << QStringList {}
                                      << "%1:5: --punch-ttl wants TTLs 1-255 separated by commas, or 0" << QString()
                                      << QVariant();
        QTest::newRow("unknown key")
            << base + "ice-servers = a\n"
            << QStringList {}
            << "%1:3: unknown key 'ice-servers' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("domain id twice") << base + "domain-id = " + Id.toUtf8() + "\n"
                                         << QStringList {} << "%1:3: domain-id is already set on line 1" << QString()
                                         << QVariant();
    }
    void configFile() {
        QFETCH(QByteArray, text);
        QFETCH(QStringList, arguments);
        QFETCH(QString, error);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("domain-server.conf"), text);
        const Parsed<DomainServerOptions> p = parseDomain(QStringList { QStringLiteral("--config"), path } + arguments);
        if (!error.isEmpty()) {
            QVERIFY(!p.ok);
            QCOMPARE(p.error, error.arg(path));
            return;
        }
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(::field(p.options, field), expected);
    }

    void shippedConfigHoldsTheDefaults() {
        const QString path = qEnvironmentVariable("ICEBREAKER_SOURCE_DIR")
                             + QStringLiteral("/domain-server/domain-server.conf");
        QVERIFY2(QFile::exists(path), qPrintable(path));
        const Parsed<DomainServerOptions> withFile = parseDomain(QStringList { QStringLiteral("--config"), path }
                                                                 + required());
        QVERIFY2(withFile.ok, qPrintable(withFile.error));
        const Parsed<DomainServerOptions> without = parseDomain(required());
        for (const QString &name : TunableFields) {
            QVERIFY2(field(withFile.options, name) == field(without.options, name), qPrintable(name));
        }
        // The required keys are left to the operator: the file alone is not enough.
        QCOMPARE(parseDomain({ QStringLiteral("--config"), path }).error,
                 QStringLiteral("--domain-id UUID is required (tools/ice-keygen makes one)"));
    }
};

QTEST_GUILESS_MAIN(tst_DomainServerOptions)
#include "tst_domainserveroptions.moc"
