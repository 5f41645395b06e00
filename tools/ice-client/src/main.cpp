// ice-client: the operator's ICE diagnostic. Parses the command line and runs IceClientApp.
#include "IceClientApp.h"

#include <HostAndPort.h>
#include <LimitedNodeList.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

namespace {
int usageError(const QString &message) {
    QTextStream(stderr) << "ice-client: " << message << "\n(see ice-client --help)" << Qt::endl;
    return IceExitCode::UsageError;
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-client"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Checks ICE step by step, N times: on a fresh UDP socket, learn the public socket by STUN, query the\n"
        "domain through the ice-server, ping-punch the domain. Each step is timed.\n"
        "Without --domain-id it only checks that the ice-server is reachable (it answers STUN).\n"
        "\n"
        "Exit codes (the first step that failed):\n"
        "  0  every cycle succeeded\n"
        "  1  usage or configuration error\n"
        "  2  ice-server silent: no peer information and nothing at all back from the ice-server\n"
        "  3  domain unknown: the ice-server answers but sends no peer information for the domain\n"
        "  4  punch failed: the domain's sockets are known but it answered no ping (8 rounds, 2 s)\n"
        "  5  the ice-server's name does not resolve\n"
        "  6  STUN failed: no answer from the --stun-server (11 requests, about 2.75 s); when the\n"
        "     ice-server is the STUN server and does not answer STUN (Overte's does not), the run goes on"));
    parser.addHelpOption();
    const QCommandLineOption iceOption({ QStringLiteral("i"), QStringLiteral("ice-server") },
        QStringLiteral("The ice-server, HOST[:PORT] (port default 7337). Default: 127.0.0.1:7337."),
        QStringLiteral("HOST[:PORT]"), QStringLiteral("127.0.0.1:7337"));
    const QCommandLineOption domainOption({ QStringLiteral("d"), QStringLiteral("domain-id") },
        QStringLiteral("The domain to query and ping. Default: none (check the ice-server only)."),
        QStringLiteral("UUID"));
    const QCommandLineOption cyclesOption({ QStringLiteral("n"), QStringLiteral("cycles") },
        QStringLiteral("Number of cycles. Default: 1."), QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption cacheOption({ QStringLiteral("s"), QStringLiteral("cache-stun") },
        QStringLiteral("Keep the socket and its STUN result across cycles instead of starting fresh."));
    const QCommandLineOption stunOption(QStringLiteral("stun-server"),
        QStringLiteral("STUN server, HOST[:PORT] (port default 19302). Default: the ice-server itself."),
        QStringLiteral("HOST[:PORT]"));
    const QCommandLineOption ttlOption(QStringLiteral("punch-ttl"),
        QStringLiteral("IP TTLs of the first punch rounds, e.g. 2,3; 0 disables priming. Default: %1.")
            .arg(PunchTtlSchedule::defaultSchedule().toString()),
        QStringLiteral("LIST"), PunchTtlSchedule::defaultSchedule().toString());
    const QCommandLineOption verboseOption({ QStringLiteral("v"), QStringLiteral("verbose") },
        QStringLiteral("Log what the networking roles do, including every packet."));
    parser.addOptions({ iceOption, domainOption, cyclesOption, cacheOption, stunOption, ttlOption, verboseOption });
    if (!parser.parse(QCoreApplication::arguments())) {
        return usageError(parser.errorText());
    }
    if (parser.isSet(QStringLiteral("help"))) {
        parser.showHelp(0);
    }
    QLoggingCategory::setFilterRules(parser.isSet(verboseOption) ? QStringLiteral("hifi.*.debug=true")
                                                                 : QStringLiteral("hifi.*.debug=false\nhifi.*.info=false"));
    if (!parser.positionalArguments().isEmpty()) {
        return usageError(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    }

    IceClientApp::Options options;
    const HostAndPort ice = HostAndPort::parse(parser.value(iceOption), DomainHandler::ICE_SERVER_DEFAULT_PORT);
    if (!ice.isValid()) {
        return usageError(QStringLiteral("bad --ice-server '%1' (want HOST[:PORT])").arg(parser.value(iceOption)));
    }
    options.iceServerHost = ice.host;
    options.iceServerPort = ice.port;
    if (parser.isSet(domainOption)) {
        options.domainID = QUuid(parser.value(domainOption));
        if (options.domainID.isNull()) {
            return usageError(QStringLiteral("bad --domain-id '%1' (want a UUID)").arg(parser.value(domainOption)));
        }
    }
    bool ok = false;
    options.cycles = parser.value(cyclesOption).toInt(&ok);
    if (!ok || options.cycles < 1) {
        return usageError(QStringLiteral("bad --cycles '%1' (want a number >= 1)").arg(parser.value(cyclesOption)));
    }
    options.cacheStun = parser.isSet(cacheOption);
    if (parser.isSet(stunOption)) {
        const HostAndPort stun = HostAndPort::parse(parser.value(stunOption), LimitedNodeList::STUN_SERVER_DEFAULT_PORT);
        if (!stun.isValid()) {
            return usageError(QStringLiteral("bad --stun-server '%1' (want HOST[:PORT])").arg(parser.value(stunOption)));
        }
        options.stunHost = stun.host;
        options.stunPort = stun.port;
    }
    if (!PunchTtlSchedule::parse(parser.value(ttlOption), &options.punchTtl)) {
        return usageError(QStringLiteral("bad --punch-ttl '%1' (want e.g. 2,3 or 0)").arg(parser.value(ttlOption)));
    }

    IceClientApp client(options);
    QObject::connect(&client, &IceClientApp::finished, &app, [](int code) { QCoreApplication::exit(code); });
    client.start();
    return app.exec();
}
