// The client tools' options into their settings (interface-stub, ice-client, ice-keygen): values,
// bounds and the messages of bad values, and the exit-code help each shows.
#include "OptionsTest.h"

#include <IceClientOptions.h>
#include <IceKeygenOptions.h>
#include <InterfaceStubOptions.h>

#include <QtTest/QtTest>

using namespace options_test;

namespace {
const QString Id = QStringLiteral("1eadc521-39d4-4dbe-9080-4ab8a5a98ea2");

Parsed<InterfaceStubOptions> parseStub(const QStringList &arguments) {
    return parse<InterfaceStubOptions>([](CommandLine *cl) { InterfaceStubOptions::declare(cl); }, arguments);
}
Parsed<IceClientOptions> parseClient(const QStringList &arguments) {
    return parse<IceClientOptions>([](CommandLine *cl) { IceClientOptions::declare(cl); }, arguments);
}
Parsed<IceKeygenOptions> parseKeygen(const QStringList &arguments) {
    return parse<IceKeygenOptions>([](CommandLine *cl) { IceKeygenOptions::declare(cl); }, arguments);
}

QVariant stubField(const InterfaceStubOptions &o, const QString &name) {
    const QHash<QString, QVariant> fields {
        { "ice-server", HostAndPort { o.client.iceServerHost, o.client.iceServerPort }.toString() },
        { "domain-id", o.client.domainID.toString(QUuid::WithoutBraces) },
        { "stun-server", o.stunServer.toString() },
        { "timeout", o.client.timeoutMs },
        { "keepalive", o.client.keepaliveMs },
        { "punch-ttl", o.punchTtl.toString() },
        { "port", o.port },
        { "verbose", o.verbose },
    };
    if (!fields.contains(name)) {
        qFatal("no field %s", qPrintable(name));
    }
    return fields.value(name);
}

QVariant clientField(const IceClientOptions &o, const QString &name) {
    const QHash<QString, QVariant> fields {
        { "ice-server", HostAndPort { o.client.iceServerHost, o.client.iceServerPort }.toString() },
        { "domain-id", o.client.domainID.isNull() ? QString() : o.client.domainID.toString(QUuid::WithoutBraces) },
        { "cycles", o.client.cycles },
        { "cache-stun", o.client.cacheStun },
        { "stun-server",
          o.client.stunHost.isEmpty() ? QString() : HostAndPort { o.client.stunHost, o.client.stunPort }.toString() },
        { "punch-ttl", o.client.punchTtl.toString() },
        { "verbose", o.verbose },
    };
    if (!fields.contains(name)) {
        qFatal("no field %s", qPrintable(name));
    }
    return fields.value(name);
}
} // namespace

class tst_ClientOptions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void stubGood_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("ice default port") << QStringList {} << "ice-server" << QVariant("127.0.0.1:7337");
        QTest::newRow("stun is the ice-server") << QStringList {} << "stun-server" << QVariant("127.0.0.1:7337");
        QTest::newRow("stun default port") << QStringList { "--stun-server", "stun.example.org" } << "stun-server"
                                           << QVariant("stun.example.org:19302");
        QTest::newRow("domain") << QStringList {} << "domain-id" << QVariant(Id);
        QTest::newRow("timeout default") << QStringList {} << "timeout" << QVariant(20000);
        QTest::newRow("timeout fraction") << QStringList { "--timeout", "2.5" } << "timeout" << QVariant(2500);
        QTest::newRow("timeout lower bound") << QStringList { "--timeout", "0.1" } << "timeout" << QVariant(100);
        QTest::newRow("keepalive") << QStringList { "--keepalive", "9" } << "keepalive" << QVariant(9000);
        QTest::newRow("keepalive a day") << QStringList { "--keepalive", "86400" } << "keepalive" << QVariant(86400000);
        QTest::newRow("ttl default") << QStringList {} << "punch-ttl" << QVariant("2,2");
        QTest::newRow("ttl") << QStringList { "--punch-ttl", "3,4" } << "punch-ttl" << QVariant("3,4");
        QTest::newRow("port") << QStringList { "--port", "65535" } << "port" << QVariant(quint16(65535));
        QTest::newRow("verbose") << QStringList { "--verbose" } << "verbose" << QVariant(true);
    }
    void stubGood() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        const Parsed<InterfaceStubOptions> p = parseStub(QStringList { "--ice-server", "127.0.0.1", "--domain-id", Id }
                                                         + arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(stubField(p.options, field), expected);
    }

    void stubBad_data() {
        const QStringList base { "--ice-server", "127.0.0.1", "--domain-id", Id };
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("no ice-server") << QStringList { "--domain-id", Id } << "--ice-server is required";
        QTest::newRow("no domain") << QStringList { "--ice-server", "127.0.0.1" } << "--domain-id is required";
        QTest::newRow("bad domain") << QStringList { "--ice-server", "127.0.0.1", "--domain-id", "nope" }
                                    << "bad --domain-id 'nope' (want a UUID)";
        QTest::newRow("bad ice port") << QStringList { "--ice-server", "127.0.0.1:99999", "--domain-id", Id }
                                      << "bad --ice-server '127.0.0.1:99999' (want HOST[:PORT])";
        QTest::newRow("bad stun") << base + QStringList { "--stun-server", "a b" }
                                  << "bad --stun-server 'a b' (want HOST[:PORT])";
        QTest::newRow("timeout too small")
            << base + QStringList { "--timeout", "0.05" } << "bad --timeout '0.05' (want seconds > 0)";
        QTest::newRow("timeout above a day")
            << base + QStringList { "--timeout", "86401" } << "bad --timeout '86401' (want seconds > 0)";
        QTest::newRow("keepalive negative")
            << base + QStringList { "--keepalive", "-1" } << "bad --keepalive '-1' (want seconds >= 0)";
        QTest::newRow("ttl") << base + QStringList { "--punch-ttl", "2,x" }
                             << "bad --punch-ttl '2,x' (want e.g. 2,3 or 0)";
        QTest::newRow("port") << base + QStringList { "--port", "65536" } << "bad --port '65536'";
        QTest::newRow("unknown") << QStringList { "--frobnicate" } << "Unknown option 'frobnicate'.";
    }
    void stubBad() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<InterfaceStubOptions> p = parseStub(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void clientGood_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("ice default") << QStringList {} << "ice-server" << QVariant("127.0.0.1:7337");
        QTest::newRow("ice -i") << QStringList { "-i", "ice.example.org" } << "ice-server"
                                << QVariant("ice.example.org:7337");
        QTest::newRow("no domain") << QStringList {} << "domain-id" << QVariant(QString());
        QTest::newRow("domain -d") << QStringList { "-d", Id } << "domain-id" << QVariant(Id);
        QTest::newRow("cycles default") << QStringList {} << "cycles" << QVariant(1);
        QTest::newRow("cycles -n") << QStringList { "-n", "3" } << "cycles" << QVariant(3);
        QTest::newRow("cache -s") << QStringList { "-s" } << "cache-stun" << QVariant(true);
        QTest::newRow("stun") << QStringList { "--stun-server", "[::1]:3478" } << "stun-server"
                              << QVariant("[::1]:3478");
        QTest::newRow("ttl off") << QStringList { "--punch-ttl", "0" } << "punch-ttl"
                                 << QVariant(PunchTtlSchedule().toString());
        QTest::newRow("verbose -v") << QStringList { "-v" } << "verbose" << QVariant(true);
    }
    void clientGood() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        const Parsed<IceClientOptions> p = parseClient(arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        QCOMPARE(clientField(p.options, field), expected);
    }

    void clientBad_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("ice") << QStringList { "-i", "[nope" } << "bad --ice-server '[nope' (want HOST[:PORT])";
        QTest::newRow("domain") << QStringList { "-d", "x" } << "bad --domain-id 'x' (want a UUID)";
        QTest::newRow("cycles 0") << QStringList { "-n", "0" } << "bad --cycles '0' (want a number >= 1)";
        QTest::newRow("cycles word") << QStringList { "--cycles", "lots" }
                                     << "bad --cycles 'lots' (want a number >= 1)";
        QTest::newRow("stun") << QStringList { "--stun-server", "h:0" } << "bad --stun-server 'h:0' (want HOST[:PORT])";
        QTest::newRow("ttl") << QStringList { "--punch-ttl", "999" } << "bad --punch-ttl '999' (want e.g. 2,3 or 0)";
        QTest::newRow("positional") << QStringList { "extra" } << "unexpected argument 'extra'";
    }
    void clientBad() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<IceClientOptions> p = parseClient(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void keygen() {
        const Parsed<IceKeygenOptions> good = parseKeygen(
            { "--keypair", "k.pem", "--keys-dir", "keys", "--domain-id", Id, "--force" });
        QVERIFY2(good.ok, qPrintable(good.error));
        QCOMPARE(good.options.keypairPath, QStringLiteral("k.pem"));
        QCOMPARE(good.options.keysDir, QStringLiteral("keys"));
        QCOMPARE(good.options.domainID, QUuid(Id));
        QVERIFY(good.options.force);
        const Parsed<IceKeygenOptions> fresh = parseKeygen({ "--keypair", "k.pem", "--keys-dir", "keys" });
        QVERIFY(fresh.ok);
        QVERIFY(!fresh.options.domainID.isNull());
        QVERIFY(!fresh.options.force);
        QCOMPARE(parseKeygen({ "--keypair", "k.pem" }).error,
                 QStringLiteral("--keypair FILE and --keys-dir DIR are required (see --help)"));
        QCOMPARE(parseKeygen({ "--keypair", "k", "--keys-dir", "d", "--domain-id", "nope" }).error,
                 QStringLiteral("--domain-id \"nope\" is not a UUID"));
        QCOMPARE(parseKeygen({ "-v" }).outcome, CommandLine::Outcome::ShowVersion);
    }

    void exitCodesInHelp() {
        CommandLine stub;
        InterfaceStubOptions::declare(&stub);
        QVERIFY(stub.helpText().contains(QStringLiteral("  5  the ice-server's name does not resolve")));
        QVERIFY(!stub.helpText().contains(QStringLiteral("  6  ")));
        CommandLine client;
        IceClientOptions::declare(&client);
        QVERIFY(client.helpText().contains(QStringLiteral(
            "  4  punch failed: the domain's sockets are known but no ping got a reply (8 rounds, 2 s)")));
        QVERIFY(client.helpText().contains(
            QStringLiteral("  6  STUN failed: no answer from the --stun-server (11 requests")));
    }
};

QTEST_GUILESS_MAIN(tst_ClientOptions)
#include "tst_clientoptions.moc"
