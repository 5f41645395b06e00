// interface-stub: find a domain through an ice-server, print its socket and the time it took.
// Parses the command line and wires LimitedNodeList, NodeList and StubClient; nothing else.
#include "StubClient.h"

#include <HostAndPort.h>
#include <LimitedNodeList.h>
#include <NodeList.h>
#include <PunchTtlSchedule.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTextStream>

namespace {
int usageError(const QString &message) {
    QTextStream(stderr) << "interface-stub: " << message << "\n(see interface-stub --help)" << Qt::endl;
    return IceExitCode::UsageError;
}

bool parseSeconds(const QString &text, double min, double *seconds) {
    bool ok = false;
    *seconds = text.toDouble(&ok);
    return ok && *seconds >= min && *seconds <= 24 * 3600;
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("interface-stub"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A headless client: finds a domain through an ice-server (ICE query, STUN, UDP ping-punch),\n"
        "prints the domain's socket and the time it took, and with --keepalive keeps pinging it over\n"
        "the punched path, printing RTTs and reconnecting through the ice-server if the path dies.\n"
        "\n"
        "Exit codes:\n"
        "  0  connected (or keepalive finished)\n"
        "  1  usage or configuration error (bad option, port in use)\n"
        "  2  ice-server silent: nothing came back from the ice-server\n"
        "  3  domain unknown: the ice-server answers (its STUN reply) but sends no peer information\n"
        "     for the domain (not registered there, or its heartbeats are not verified)\n"
        "  4  punch failed: the domain's sockets are known but no ping got a reply\n"
        "  5  the ice-server's name does not resolve"));
    parser.addHelpOption();
    const QCommandLineOption iceServerOption(QStringLiteral("ice-server"),
        QStringLiteral("The ice-server, HOST[:PORT] (port default 7337). Required."), QStringLiteral("HOST[:PORT]"));
    const QCommandLineOption domainOption(QStringLiteral("domain-id"),
        QStringLiteral("The ID of the domain to connect to. Required."), QStringLiteral("UUID"));
    const QCommandLineOption stunOption(QStringLiteral("stun-server"),
        QStringLiteral("STUN server, HOST[:PORT] (port default 19302). Default: the ice-server itself."),
        QStringLiteral("HOST[:PORT]"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
        QStringLiteral("Give up connecting (and each reconnection) after this long. Default: 20."),
        QStringLiteral("SECONDS"), QStringLiteral("20"));
    const QCommandLineOption keepaliveOption(QStringLiteral("keepalive"),
        QStringLiteral("After connecting, ping the domain once a second for this long, print RTTs; after 3 s "
                       "without a reply say \"path lost\" and reconnect. Default: 0 (exit once connected)."),
        QStringLiteral("SECONDS"), QStringLiteral("0"));
    const QCommandLineOption ttlOption(QStringLiteral("punch-ttl"),
        QStringLiteral("IP TTLs of the first punch rounds of each attempt (priming; see DESIGN.md), e.g. 2,3; "
                       "0 or empty disables priming. Default: %1.").arg(PunchTtlSchedule::defaultSchedule().toString()),
        QStringLiteral("LIST"), PunchTtlSchedule::defaultSchedule().toString());
    const QCommandLineOption portOption(QStringLiteral("port"),
        QStringLiteral("Local UDP port. Default: 0, a random port, and a fresh one for each new punch attempt "
                       "(escapes a stale NAT mapping); a fixed port is kept."),
        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
        QStringLiteral("Log what the networking roles do (hifi.networking* at info and debug level)."));
    parser.addOptions({ iceServerOption, domainOption, stunOption, timeoutOption, keepaliveOption, ttlOption,
                        portOption, verboseOption });
    if (!parser.parse(QCoreApplication::arguments())) {
        return usageError(parser.errorText());
    }
    if (parser.isSet(QStringLiteral("help"))) {
        parser.showHelp(0);
    }
    // The result lines are the output; library chatter only on request (warnings always).
    QLoggingCategory::setFilterRules(parser.isSet(verboseOption)
                                         ? QStringLiteral("hifi.*.debug=true\nhifi.networking.packets.debug=false")
                                         : QStringLiteral("hifi.*.debug=false\nhifi.*.info=false"));
    if (!parser.positionalArguments().isEmpty()) {
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    }

    StubClient::Options options;
    if (!parser.isSet(iceServerOption)) {
        return usageError(QStringLiteral("--ice-server is required"));
    }
    const HostAndPort iceServer = HostAndPort::parse(parser.value(iceServerOption), DomainHandler::ICE_SERVER_DEFAULT_PORT);
    if (!iceServer.isValid()) {
        return usageError(QStringLiteral("bad --ice-server '%1' (want HOST[:PORT])").arg(parser.value(iceServerOption)));
    }
    options.iceServerHost = iceServer.host;
    options.iceServerPort = iceServer.port;
    if (!parser.isSet(domainOption)) {
        return usageError(QStringLiteral("--domain-id is required"));
    }
    options.domainID = QUuid(parser.value(domainOption));
    if (options.domainID.isNull()) {
        return usageError(QStringLiteral("bad --domain-id '%1' (want a UUID)").arg(parser.value(domainOption)));
    }
    HostAndPort stunServer = iceServer;
    if (parser.isSet(stunOption)) {
        stunServer = HostAndPort::parse(parser.value(stunOption), LimitedNodeList::STUN_SERVER_DEFAULT_PORT);
        if (!stunServer.isValid()) {
            return usageError(QStringLiteral("bad --stun-server '%1' (want HOST[:PORT])").arg(parser.value(stunOption)));
        }
    }
    double timeout = 0, keepalive = 0;
    if (!parseSeconds(parser.value(timeoutOption), 0.1, &timeout)) {
        return usageError(QStringLiteral("bad --timeout '%1' (want seconds > 0)").arg(parser.value(timeoutOption)));
    }
    if (!parseSeconds(parser.value(keepaliveOption), 0, &keepalive)) {
        return usageError(QStringLiteral("bad --keepalive '%1' (want seconds >= 0)").arg(parser.value(keepaliveOption)));
    }
    options.timeoutMs = int(timeout * 1000);
    options.keepaliveMs = int(keepalive * 1000);
    PunchTtlSchedule schedule;
    if (!PunchTtlSchedule::parse(parser.value(ttlOption), &schedule)) {
        return usageError(QStringLiteral("bad --punch-ttl '%1' (want e.g. 2,3 or 0)").arg(parser.value(ttlOption)));
    }
    bool portOk = false;
    const uint port = parser.value(portOption).toUInt(&portOk);
    if (!portOk || port > 65535) {
        return usageError(QStringLiteral("bad --port '%1'").arg(parser.value(portOption)));
    }

    LimitedNodeList limitedNodeList(quint16(port), &app);
    if (!limitedNodeList.isBound()) {
        return usageError(limitedNodeList.errorString());
    }
    limitedNodeList.setStunServer(stunServer.host, stunServer.port);
    limitedNodeList.startSTUNPublicSocketUpdate();

    NodeList nodeList(&limitedNodeList);
    nodeList.setPunchTtlSchedule(schedule);
    nodeList.setUseFreshPortOnRetry(port == 0);
    // --timeout is the bound: the node list's own limits only stop it from querying forever.
    const int timeoutSeconds = int(timeout) + 1;
    nodeList.setMaxUnansweredQueries(timeoutSeconds + 1);
    nodeList.setMaxPunchAttempts(timeoutSeconds);

    StubClient client(&nodeList, options);
    QObject::connect(&client, &StubClient::finished, &app, [](int code) { QCoreApplication::exit(code); });
    client.start();
    return app.exec();
}
