#include "IceClientOptions.h"

#include <CommandLine.h>
#include <ExitCodeHelp.h>
#include <LimitedNodeList.h>
#include <RelayOptions.h>

#include <climits>

namespace {
QCommandLineOption option(const QStringList &names, const QString &description, const QString &valueName = QString(),
                          const QString &defaultValue = QString()) {
    return QCommandLineOption(names, description, valueName, defaultValue);
}
} // namespace

QString IceClientOptions::loggingRules() const {
    // Without --verbose, the TURN client's failures are printed as our own error lines.
    return verbose ? QStringLiteral("hifi.*.debug=true")
                   : QStringLiteral("hifi.*.debug=false\nhifi.*.info=false\nhifi.networking.turn.warning=false");
}

void IceClientOptions::declare(CommandLine *commandLine) {
    CommandLine &cl = *commandLine;
    cl.setDescription(
        QStringLiteral(
            "Checks ICE step by step, N times: on a fresh UDP socket, learn the public socket by STUN, query the\n"
            "domain through the ice-server, ping-punch the domain. Each step is timed.\n"
            "Without --domain-id it only checks that the ice-server is reachable (it answers STUN).\n\n")
        + exitCodeHelp(QStringLiteral("every cycle succeeded"),
                       { IceExitCode::Success, IceExitCode::UsageError, IceExitCode::IceServerSilent,
                         IceExitCode::DomainUnknown, IceExitCode::PunchFailed, IceExitCode::IceServerLookupFailed,
                         IceExitCode::StunFailed, IceExitCode::RelayAuthFailed },
                       { { IceExitCode::PunchFailed, QStringLiteral(" (8 rounds, 2 s)") },
                         { IceExitCode::StunFailed,
                           QStringLiteral(" (11 requests, about 2.75 s);\nwhen the ice-server is the STUN server and "
                                          "does not answer STUN (Overte's does not), the run goes on") } }));
    cl.setUsageError(IceExitCode::UsageError, QStringLiteral("(see ice-client --help)"));
    const QString ttlDefault = PunchTtlSchedule::defaultSchedule().toString();
    cl.addOption(option({ QStringLiteral("i"), QStringLiteral("ice-server") },
                        QStringLiteral("The ice-server, HOST[:PORT] (port default 7337). Default: 127.0.0.1:7337."),
                        QStringLiteral("HOST[:PORT]"), QStringLiteral("127.0.0.1:7337")));
    cl.addOption(option({ QStringLiteral("d"), QStringLiteral("domain-id") },
                        QStringLiteral("The domain to query and ping. Default: none (check the ice-server only)."),
                        QStringLiteral("UUID")));
    cl.addOption(option({ QStringLiteral("n"), QStringLiteral("cycles") },
                        QStringLiteral("Number of cycles. Default: 1."), QStringLiteral("N"), QStringLiteral("1")));
    cl.addOption(
        option({ QStringLiteral("s"), QStringLiteral("cache-stun") },
               QStringLiteral("Keep the socket and its STUN result across cycles instead of starting fresh.")));
    cl.addOption(
        option({ QStringLiteral("stun-server") },
               QStringLiteral("STUN server, HOST[:PORT] (port default 19302). Default: the ice-server itself."),
               QStringLiteral("HOST[:PORT]")));
    cl.addOption(option(
        { QStringLiteral("punch-ttl") },
        QStringLiteral("IP TTLs of the first punch rounds, e.g. 2,3; 0 disables priming. Default: %1.").arg(ttlDefault),
        QStringLiteral("LIST"), ttlDefault));
    RelayOptions::declare(&cl, QStringLiteral("when the punch attempt gets no reply"));
    cl.addOption(option({ QStringLiteral("v"), QStringLiteral("verbose") },
                        QStringLiteral("Log what the networking roles do, including every packet.")));
}

bool IceClientOptions::read(CommandLine *commandLine, IceClientOptions *options) {
    CommandLine &cl = *commandLine;
    IceClientApp::Options &o = options->client;
    options->verbose = cl.flag(QStringLiteral("verbose"));
    const HostAndPort ice = cl.hostAndPort(QStringLiteral("ice-server"), DomainHandler::ICE_SERVER_DEFAULT_PORT,
                                           QStringLiteral("bad --ice-server '%1' (want HOST[:PORT])"));
    o.iceServerHost = ice.host;
    o.iceServerPort = ice.port;
    if (cl.isSet(QStringLiteral("domain-id"))) {
        o.domainID = cl.uuid(QStringLiteral("domain-id"), QStringLiteral("bad --domain-id '%1' (want a UUID)"));
    }
    o.cycles = int(
        cl.number(QStringLiteral("cycles"), 1, INT_MAX, QStringLiteral("bad --cycles '%1' (want a number >= 1)")));
    o.cacheStun = cl.flag(QStringLiteral("cache-stun"));
    if (cl.isSet(QStringLiteral("stun-server"))) {
        const HostAndPort stun = cl.hostAndPort(QStringLiteral("stun-server"),
                                                LimitedNodeList::STUN_SERVER_DEFAULT_PORT,
                                                QStringLiteral("bad --stun-server '%1' (want HOST[:PORT])"));
        o.stunHost = stun.host;
        o.stunPort = stun.port;
    }
    RelayOptions::read(&cl, &o.relay);
    if (!PunchTtlSchedule::parse(cl.value(QStringLiteral("punch-ttl")), &o.punchTtl)) {
        cl.reject(
            QStringLiteral("punch-ttl"),
            QStringLiteral("bad --punch-ttl '%1' (want e.g. 2,3 or 0)").arg(cl.value(QStringLiteral("punch-ttl"))));
    }
    return !cl.hasError();
}
