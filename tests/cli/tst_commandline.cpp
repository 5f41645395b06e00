// The shared option helper: number, duration and HOST:PORT readers with their bounds and messages,
// the config file's syntax and keys (with FILE:LINE in every message), the command line winning
// over the file, and the client tools' exit-code help.
#include "OptionsTest.h"

#include <ConfigFile.h>
#include <ExitCodeHelp.h>
#include <OptionText.h>
#include <RelayOptions.h>

#include <QtTest/QtTest>

using namespace options_test;

namespace {
// A small binary's worth of options, one of each kind.
const QString NoDefaultConfig = QStringLiteral("/nonexistent/icebreaker-sample.conf");

void declareSample(CommandLine *cl, const QString &defaultConfig) {
    cl->setUsageError(2, QStringLiteral("Try 'sample --help'."));
    cl->addVersionOption({ QStringLiteral("version") });
    cl->addConfigFileOption(defaultConfig);
    cl->addOption({ QStringLiteral("count"), QStringLiteral("A count."), QStringLiteral("N"), QStringLiteral("5") });
    cl->addOption(
        { QStringLiteral("wait"), QStringLiteral("Milliseconds."), QStringLiteral("MS"), QStringLiteral("100") });
    cl->addOption({ QStringLiteral("ttl"), QStringLiteral("Seconds."), QStringLiteral("S"), QStringLiteral("60") });
    cl->addOption(
        { QStringLiteral("span"), QStringLiteral("Seconds."), QStringLiteral("SECONDS"), QStringLiteral("1.5") });
    cl->addOption({ QStringLiteral("name"), QStringLiteral("Text."), QStringLiteral("TEXT") });
    cl->addOption({ QStringLiteral("server"), QStringLiteral("Servers."), QStringLiteral("HOST[:PORT]") },
                  CommandLine::Occurs::Repeatable);
    cl->addOption({ { QStringLiteral("q"), QStringLiteral("quiet") }, QStringLiteral("A flag.") });
}

// What the sample's main would read; every reader once, in a fixed order.
struct Sample {
    qint64 count = 0;
    int waitMs = 0;
    int ttlMs = 0;
    int spanMs = 0;
    QString name;
    QList<HostAndPort> servers;
    bool quiet = false;

    static bool read(CommandLine *cl, Sample *s) {
        s->count = cl->number(QStringLiteral("count"), 0, 10);
        s->waitMs = cl->milliseconds(QStringLiteral("wait"), 10, 1000);
        s->ttlMs = cl->seconds(QStringLiteral("ttl"), 1, 3600);
        s->spanMs = cl->decimalSeconds(QStringLiteral("span"), 0.1, 60,
                                       QStringLiteral("bad --span '%1' (want seconds > 0)"));
        s->name = cl->value(QStringLiteral("name"));
        s->servers = cl->hostAndPorts(QStringLiteral("server"), 7337, QStringLiteral("--server: %2"));
        s->quiet = cl->flag(QStringLiteral("quiet"));
        return !cl->hasError();
    }
};

// The shared relay options, alone.
struct Relay {
    RelayConfig config;
    static bool read(CommandLine *cl, Relay *r) { return RelayOptions::read(cl, &r->config); }
};
Parsed<Relay> parseRelay(const QStringList &arguments) {
    return parse<Relay>(
        [](CommandLine *cl) { RelayOptions::declare(cl, QStringLiteral("when direct punching fails")); }, arguments);
}

Parsed<Sample> parseSample(const QStringList &arguments, const QString &defaultConfig = NoDefaultConfig) {
    return parse<Sample>([&](CommandLine *cl) { declareSample(cl, defaultConfig); }, arguments);
}
} // namespace

class tst_CommandLine : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void wholeNumber_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<qint64>("value");
        QTest::newRow("lower bound") << "0" << true << qint64(0);
        QTest::newRow("upper bound") << "10" << true << qint64(10);
        QTest::newRow("inside") << "7" << true << qint64(7);
        QTest::newRow("above") << "11" << false << qint64(0);
        QTest::newRow("below") << "-1" << false << qint64(0);
        QTest::newRow("word") << "ten" << false << qint64(0);
        QTest::newRow("trailing junk") << "5x" << false << qint64(0);
        QTest::newRow("fraction") << "2.5" << false << qint64(0);
        QTest::newRow("empty") << "" << false << qint64(0);
        QTest::newRow("overflow") << "99999999999999999999" << false << qint64(0);
    }
    void wholeNumber() {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(qint64, value);
        qint64 parsed = -42;
        QCOMPARE(OptionText::wholeNumber(text, 0, 10, &parsed), ok);
        QCOMPARE(parsed, ok ? value : qint64(-42)); // untouched on failure
    }

    void decimalSeconds_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<double>("value");
        QTest::newRow("whole") << "20" << true << 20.0;
        QTest::newRow("fraction") << "2.5" << true << 2.5;
        QTest::newRow("lower bound") << "0.1" << true << 0.1;
        QTest::newRow("below") << "0.05" << false << 0.0;
        QTest::newRow("above a day") << "86401" << false << 0.0;
        QTest::newRow("nan") << "nan" << false << 0.0;
        QTest::newRow("suffix") << "2s" << false << 0.0;
    }
    void decimalSeconds() {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(double, value);
        double parsed = -1;
        QCOMPARE(OptionText::decimalSeconds(text, 0.1, 86400, &parsed), ok);
        if (ok) {
            QCOMPARE(parsed, value);
        }
    }

    void fillSubstitutesOnce() {
        QCOMPARE(OptionText::fill(QStringLiteral("--x: %2"), { QStringLiteral("a"), QStringLiteral("why") }),
                 QStringLiteral("--x: why"));
        QCOMPARE(OptionText::fill(QStringLiteral("bad '%1'"), { QStringLiteral("%2 100%") }),
                 QStringLiteral("bad '%2 100%'"));
        QCOMPARE(OptionText::fill(QStringLiteral("no marker"), { QStringLiteral("a") }), QStringLiteral("no marker"));
    }

    void readsValues_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("count default") << QStringList {} << "count" << QVariant(qint64(5));
        QTest::newRow("count") << QStringList { "--count", "10" } << "count" << QVariant(qint64(10));
        QTest::newRow("last of two wins")
            << QStringList { "--count", "1", "--count", "2" } << "count" << QVariant(qint64(2));
        QTest::newRow("milliseconds") << QStringList { "--wait", "250" } << "wait" << QVariant(250);
        QTest::newRow("seconds in ms") << QStringList { "--ttl", "2" } << "ttl" << QVariant(2000);
        QTest::newRow("decimal seconds in ms") << QStringList { "--span", "2.5" } << "span" << QVariant(2500);
        QTest::newRow("flag off") << QStringList {} << "quiet" << QVariant(false);
        QTest::newRow("flag short") << QStringList { "-q" } << "quiet" << QVariant(true);
        QTest::newRow("servers none") << QStringList {} << "servers" << QVariant(QString());
        QTest::newRow("servers, default port, IPv6")
            << QStringList { "--server", "ice.example.org", "--server", "[::1]:7400" } << "servers"
            << QVariant(QStringLiteral("ice.example.org:7337 [::1]:7400"));
    }
    void readsValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        const Parsed<Sample> p = parseSample(arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        const Sample &s = p.options;
        QStringList servers;
        for (const HostAndPort &server : s.servers) {
            servers.append(server.toString());
        }
        const QHash<QString, QVariant> fields { { "count", s.count }, { "wait", s.waitMs },
                                                { "ttl", s.ttlMs },   { "span", s.spanMs },
                                                { "quiet", s.quiet }, { "servers", servers.join(QLatin1Char(' ')) } };
        QCOMPARE(fields.value(field), expected);
    }

    void rejectsValues_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("above bound") << QStringList { "--count", "11" }
                                     << "--count wants a whole number from 0 to 10, not '11'";
        QTest::newRow("not a number") << QStringList { "--count", "many" }
                                      << "--count wants a whole number from 0 to 10, not 'many'";
        QTest::newRow("ms below bound") << QStringList { "--wait", "5" }
                                        << "--wait wants a whole number from 10 to 1000, not '5'";
        QTest::newRow("seconds in their unit")
            << QStringList { "--ttl", "0" } << "--ttl wants a whole number from 1 to 3600, not '0'";
        QTest::newRow("no unit suffix") << QStringList { "--wait", "100ms" }
                                        << "--wait wants a whole number from 10 to 1000, not '100ms'";
        QTest::newRow("own pattern") << QStringList { "--span", "0" } << "bad --span '0' (want seconds > 0)";
        QTest::newRow("address with reason")
            << QStringList { "--server", "a:99999" } << "--server: bad address \"a:99999\": port must be 1-65535";
        QTest::newRow("first error wins")
            << QStringList { "--count", "11", "--wait", "5" } << "--count wants a whole number from 0 to 10, not '11'";
        QTest::newRow("unknown option") << QStringList { "--bogus" } << "Unknown option 'bogus'.";
        QTest::newRow("positional") << QStringList { "extra" } << "unexpected argument 'extra'";
    }
    void rejectsValues() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<Sample> p = parseSample(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void earlyOutcomes() {
        QCOMPARE(parseSample({ QStringLiteral("--help") }).outcome, CommandLine::Outcome::ShowHelp);
        QCOMPARE(parseSample({ QStringLiteral("--help-all") }).outcome, CommandLine::Outcome::ShowHelp);
        QCOMPARE(parseSample({ QStringLiteral("-h"), QStringLiteral("--count"), QStringLiteral("99") }).outcome,
                 CommandLine::Outcome::ShowHelp); // help before any validation
        QCOMPARE(parseSample({ QStringLiteral("--version") }).outcome, CommandLine::Outcome::ShowVersion);
        QCOMPARE(parseSample({ QStringLiteral("--count"), QStringLiteral("1") }).outcome, CommandLine::Outcome::Run);
    }

    void configSyntax_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error"); // empty: parses
        QTest::newRow("empty file") << QByteArray() << QString();
        QTest::newRow("comments and blanks")
            << QByteArray("# a comment\n\n   \n  # indented\ncount = 3\n") << QString();
        QTest::newRow("no spaces, CRLF") << QByteArray("count=3\r\nwait=20\r\n") << QString();
        QTest::newRow("empty value") << QByteArray("name =\n") << QString();
        QTest::newRow("no equals") << QByteArray("count = 3\nwait 20\n")
                                   << "F:2: expected 'key = value', not 'wait 20'";
        QTest::newRow("no key") << QByteArray("= 3\n") << "F:1: expected 'key = value', not '= 3'";
        QTest::newRow("option dashes") << QByteArray("--count = 3\n")
                                       << "F:1: expected 'key = value', not '--count = 3'";
    }
    void configSyntax() {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        ConfigFile file;
        QCOMPARE(file.parse(QStringLiteral("F"), text), error.isEmpty());
        QCOMPARE(file.errorString(), error);
    }

    void configFile_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QStringList>("arguments"); // besides --config
        QTest::addColumn<QString>("error");         // "%1" is the file's path; empty: reads
        QTest::addColumn<QString>("field");
        QTest::addColumn<QVariant>("expected");
        QTest::newRow("value from file") << QByteArray("count = 3\n") << QStringList {} << QString() << "count"
                                         << QVariant(qint64(3));
        QTest::newRow("command line wins") << QByteArray("count = 3\n") << QStringList { "--count", "4" } << QString()
                                           << "count" << QVariant(qint64(4));
        QTest::newRow("default when in neither")
            << QByteArray("wait = 20\n") << QStringList {} << QString() << "count" << QVariant(qint64(5));
        QTest::newRow("flag true") << QByteArray("quiet = true\n") << QStringList {} << QString() << "quiet"
                                   << QVariant(true);
        QTest::newRow("flag false") << QByteArray("quiet = false\n") << QStringList {} << QString() << "quiet"
                                    << QVariant(false);
        QTest::newRow("flag on command line wins")
            << QByteArray("quiet = false\n") << QStringList { "-q" } << QString() << "quiet" << QVariant(true);
        QTest::newRow("repeated key collects") << QByteArray("server = a\nserver = b:1\n") << QStringList {}
                                               << QString() << "servers" << QVariant(QStringLiteral("a:7337 b:1"));
        QTest::newRow("command line replaces the list")
            << QByteArray("server = a\nserver = b\n") << QStringList { "--server", "c" } << QString() << "servers"
            << QVariant(QStringLiteral("c:7337"));
        QTest::newRow("unknown key")
            << QByteArray("# x\ncount = 3\ncolour = red\n") << QStringList {}
            << "%1:3: unknown key 'colour' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("short name is no key")
            << QByteArray("q = true\n") << QStringList {}
            << "%1:1: unknown key 'q' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("help is no key")
            << QByteArray("help = true\n") << QStringList {}
            << "%1:1: unknown key 'help' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("config is no key")
            << QByteArray("config = /x\n") << QStringList {}
            << "%1:1: unknown key 'config' (the keys are the long options of --help, without '--')" << QString()
            << QVariant();
        QTest::newRow("bad value, with line")
            << QByteArray("\n\ncount = 12\n") << QStringList {}
            << "%1:3: --count wants a whole number from 0 to 10, not '12'" << QString() << QVariant();
        QTest::newRow("bad value overridden") << QByteArray("count = 12\n") << QStringList { "--count", "2" }
                                              << QString() << "count" << QVariant(qint64(2));
        QTest::newRow("bad list entry, its line")
            << QByteArray("server = a\nserver = [x]\n") << QStringList {}
            << "%1:2: --server: bad address \"[x]\": brackets hold an IPv6 address" << QString() << QVariant();
        QTest::newRow("bad flag value") << QByteArray("quiet = yes\n") << QStringList {}
                                        << "%1:1: quiet wants true or false, not 'yes'" << QString() << QVariant();
        QTest::newRow("single key twice") << QByteArray("count = 1\ncount = 2\n") << QStringList {}
                                          << "%1:2: count is already set on line 1" << QString() << QVariant();
        QTest::newRow("syntax") << QByteArray("count\n") << QStringList {}
                                << "%1:1: expected 'key = value', not 'count'" << QString() << QVariant();
    }
    void configFile() {
        QFETCH(QByteArray, text);
        QFETCH(QStringList, arguments);
        QFETCH(QString, error);
        QFETCH(QString, field);
        QFETCH(QVariant, expected);
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("sample.conf"), text);
        const Parsed<Sample> p = parseSample(QStringList { QStringLiteral("--config"), path } + arguments);
        if (!error.isEmpty()) {
            QVERIFY(!p.ok);
            QCOMPARE(p.error, error.arg(path));
            return;
        }
        QVERIFY2(p.ok, qPrintable(p.error));
        QStringList servers;
        for (const HostAndPort &server : p.options.servers) {
            servers.append(server.toString());
        }
        const QHash<QString, QVariant> fields { { "count", p.options.count },
                                                { "quiet", p.options.quiet },
                                                { "servers", servers.join(QLatin1Char(' ')) } };
        QCOMPARE(fields.value(field), expected);
    }

    void defaultConfigPath() {
        QTemporaryDir dir;
        const QString installed = writeFile(dir, QStringLiteral("installed.conf"), "count = 7\n");
        const QString other = writeFile(dir, QStringLiteral("other.conf"), "count = 8\n");
        QCOMPARE(parseSample({}, installed).options.count, qint64(7)); // read when it exists
        QCOMPARE(parseSample({}, dir.filePath(QStringLiteral("absent.conf"))).options.count, qint64(5)); // else skipped
        QCOMPARE(parseSample({ QStringLiteral("--config"), other }, installed).options.count,
                 qint64(8)); // --config instead
        const Parsed<Sample> missing = parseSample(
            { QStringLiteral("--config"), dir.filePath(QStringLiteral("absent.conf")) });
        QVERIFY(!missing.ok);
        QVERIFY2(missing.error.startsWith(
                     QStringLiteral("cannot read config file %1: ").arg(dir.filePath(QStringLiteral("absent.conf")))),
                 qPrintable(missing.error));
    }

    void helpNamesTheConfigPath() {
        CommandLine cl;
        declareSample(&cl, QStringLiteral("/etc/icebreaker/sample.conf"));
        QVERIFY(cl.helpText().contains(QStringLiteral("--config <FILE>")));
        QVERIFY2(cl.helpText().simplified().contains(
                     QStringLiteral("Default: /etc/icebreaker/sample.conf, when it exists.")),
                 qPrintable(cl.helpText()));
    }

    void relayOptions_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("server"); // host:port
        QTest::addColumn<QString>("username");
        QTest::addColumn<QString>("password"); // "secret:<name>" when credentials come from a secret
        QTest::newRow("none") << QStringList {} << "never"
                              << ":3478"
                              << ""
                              << "";
        QTest::newRow("server means fallback")
            << QStringList { "--turn-server", "turn.example", "--turn-user", "u", "--turn-password", "p" } << "fallback"
            << "turn.example:3478"
            << "u"
            << "p";
        QTest::newRow("always, own port")
            << QStringList { "--turn-server", "192.0.2.1:5349", "--turn-user", "u", "--turn-password", "p",
                             "--relay",       "always" }
            << "always"
            << "192.0.2.1:5349"
            << "u"
            << "p";
        QTest::newRow("never with a server")
            << QStringList { "--turn-server", "t", "--turn-user", "u", "--turn-password", "p", "--relay", "never" }
            << "never"
            << "t:3478"
            << "u"
            << "p";
        QTest::newRow("secret") << QStringList { "--turn-server", "t", "--turn-secret", "s3cret", "--turn-user", "bob" }
                                << "fallback"
                                << "t:3478"
                                << ":bob"
                                << "secret:s3cret";
        QTest::newRow("secret without user") << QStringList { "--turn-server", "t", "--turn-secret", "s" } << "fallback"
                                             << "t:3478"
                                             << ""
                                             << "secret:s";
    }
    void relayOptions() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, mode);
        QFETCH(QString, server);
        QFETCH(QString, username);
        QFETCH(QString, password);
        const Parsed<Relay> p = parseRelay(arguments);
        QVERIFY2(p.ok, qPrintable(p.error));
        const RelayConfig &c = p.options.config;
        QCOMPARE(RelayConfig::modeName(c.mode), mode);
        QCOMPARE(c.serverHost + QLatin1Char(':') + QString::number(c.serverPort), server);
        QCOMPARE(c.isEnabled(), mode != QLatin1String("never"));
        const TurnCredentials credentials = c.credentials();
        if (password.startsWith(QLatin1String("secret:"))) {
            // REST-API credentials: "<expiry>:<user>", the password derived from the secret.
            QVERIFY(credentials.username.endsWith(username) || username.isEmpty());
            QCOMPARE(credentials.password, TurnCredentials::fromSharedSecret(
                                               password.mid(7).toUtf8(), c.user,
                                               credentials.username.section(QLatin1Char(':'), 0, 0).toLongLong())
                                               .password);
        } else {
            QCOMPARE(credentials.username, username);
            QCOMPARE(credentials.password, password);
        }
    }

    void relayOptionsRejected_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad mode") << QStringList { "--turn-server", "t", "--turn-secret", "s", "--relay", "sometimes" }
                                  << "bad --relay 'sometimes' (want never, fallback or always)";
        QTest::newRow("always without server")
            << QStringList { "--relay", "always" } << "--relay always needs --turn-server";
        QTest::newRow("password without server")
            << QStringList { "--turn-password", "p" } << "--turn-password needs --turn-server";
        QTest::newRow("no credentials") << QStringList { "--turn-server", "t" }
                                        << "--turn-server needs --turn-user and --turn-password, or --turn-secret";
        QTest::newRow("no user") << QStringList { "--turn-server", "t", "--turn-password", "p" }
                                 << "--turn-server needs --turn-user and --turn-password, or --turn-secret";
        QTest::newRow("both") << QStringList { "--turn-server",   "t", "--turn-user",   "u",
                                               "--turn-password", "p", "--turn-secret", "s" }
                              << "give --turn-password or --turn-secret, not both";
        QTest::newRow("bad server") << QStringList { "--turn-server", "t:0", "--turn-secret", "s" }
                                    << "bad --turn-server 't:0' (want HOST[:PORT])";
    }
    void relayOptionsRejected() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Parsed<Relay> p = parseRelay(arguments);
        QVERIFY(!p.ok);
        QCOMPARE(p.error, message);
    }

    void exitCodeHelpListsChosenCodes() {
        const QString text = exitCodeHelp(
            QStringLiteral("ok"), { IceExitCode::Success, IceExitCode::PunchFailed, IceExitCode::RelayAuthFailed });
        QVERIFY(!text.contains(QStringLiteral("  6  ")));
        QVERIFY(text.contains(QStringLiteral("\n  4  punch failed")));
        QVERIFY(text.contains(QStringLiteral("\n  7  relay authentication failed: the --turn-server rejected the "
                                             "credentials\n     (a TURN server that does not answer")));
    }

    void exitCodeHelpListsEveryCode() {
        const QString text = exitCodeHelp(QStringLiteral("all good"), IceExitCode::StunFailed,
                                          { { IceExitCode::PunchFailed, QStringLiteral(" (8 rounds)\nsecond line") } });
        const QStringList lines = text.split(QLatin1Char('\n'));
        QCOMPARE(lines.value(0), QStringLiteral("Exit codes:"));
        QCOMPARE(lines.value(1), QStringLiteral("  0  all good"));
        QCOMPARE(lines.value(2), QStringLiteral("  1  usage or configuration error (bad option, port in use)"));
        QVERIFY(text.contains(QStringLiteral("\n  4  punch failed: the domain's sockets are known but no ping got a "
                                             "reply (8 rounds)\n     second line\n")));
        QVERIFY(lines.constLast().startsWith(QStringLiteral("  6  STUN failed")));
        QVERIFY(
            !exitCodeHelp(QStringLiteral("ok"), IceExitCode::IceServerLookupFailed).contains(QStringLiteral("  6  ")));
    }
};

QTEST_GUILESS_MAIN(tst_CommandLine)
#include "tst_commandline.moc"
