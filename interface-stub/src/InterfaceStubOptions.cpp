#include "InterfaceStubOptions.h"

#include <CommandLine.h>
#include <ExitCodeHelp.h>
#include <LimitedNodeList.h>
#include <RelayOptions.h>

namespace {
QCommandLineOption option(const char *name, const QString &description, const QString &valueName = QString(),
                          const QString &defaultValue = QString()) {
    return QCommandLineOption(QLatin1String(name), description, valueName, defaultValue);
}
constexpr double MaxSeconds = 24 * 3600;
} // namespace

QString InterfaceStubOptions::loggingRules() const {
    // The result lines are the output; library chatter only on request (warnings always).
    return verbose ? QStringLiteral("hifi.*.debug=true\nhifi.networking.packets.debug=false")
                   : QStringLiteral("hifi.*.debug=false\nhifi.*.info=false\n"
                                    // the TURN client's failures are printed as our own error lines
                                    "hifi.networking.turn.warning=false");
}

void InterfaceStubOptions::declare(CommandLine *commandLine) {
    CommandLine &cl = *commandLine;
    cl.setDescription(
        QStringLiteral("A headless client: finds a domain through an ice-server (ICE query, STUN, UDP ping-punch),\n"
                       "prints the domain's socket and the time it took, and with --keepalive keeps pinging it over\n"
                       "the punched path, printing RTTs and reconnecting through the ice-server if the path dies.\n\n")
        + exitCodeHelp(QStringLiteral("connected (or keepalive finished)"),
                       { IceExitCode::Success, IceExitCode::UsageError, IceExitCode::IceServerSilent,
                         IceExitCode::DomainUnknown, IceExitCode::PunchFailed, IceExitCode::IceServerLookupFailed,
                         IceExitCode::RelayAuthFailed }));
    cl.setUsageError(IceExitCode::UsageError, QStringLiteral("(see interface-stub --help)"));
    const QString ttlDefault = PunchTtlSchedule::defaultSchedule().toString();
    cl.addOption(option("ice-server", QStringLiteral("The ice-server, HOST[:PORT] (port default 7337). Required."),
                        QStringLiteral("HOST[:PORT]")));
    cl.addOption(
        option("domain-id", QStringLiteral("The ID of the domain to connect to. Required."), QStringLiteral("UUID")));
    cl.addOption(option(
        "stun-server", QStringLiteral("STUN server, HOST[:PORT] (port default 19302). Default: the ice-server itself."),
        QStringLiteral("HOST[:PORT]")));
    cl.addOption(option("timeout",
                        QStringLiteral("Give up connecting (and each reconnection) after this long. Default: 20."),
                        QStringLiteral("SECONDS"), QStringLiteral("20")));
    cl.addOption(
        option("keepalive",
               QStringLiteral("After connecting, ping the domain once a second for this long, print RTTs; after 3 s "
                              "without a reply say \"path lost\" and reconnect. Default: 0 (exit once connected)."),
               QStringLiteral("SECONDS"), QStringLiteral("0")));
    cl.addOption(option(
        "punch-ttl",
        QStringLiteral("IP TTLs of the first punch rounds of each attempt (priming; see docs/design.md), e.g. 2,3; "
                       "0 or empty disables priming. Default: %1.")
            .arg(ttlDefault),
        QStringLiteral("LIST"), ttlDefault));
    cl.addOption(
        option("port",
               QStringLiteral("Local UDP port. Default: 0, a random port, and a fresh one for each new punch attempt "
                              "(escapes a stale NAT mapping); a fixed port is kept."),
               QStringLiteral("N"), QStringLiteral("0")));
    RelayOptions::declare(&cl, QStringLiteral("when the first direct punch attempt gets no reply"));
    cl.addOption(option(
        "verbose", QStringLiteral("Log what the networking roles do (hifi.networking* at info and debug level).")));
}

bool InterfaceStubOptions::read(CommandLine *commandLine, InterfaceStubOptions *options) {
    CommandLine &cl = *commandLine;
    InterfaceStubOptions &o = *options;
    o.verbose = cl.flag(QStringLiteral("verbose"));
    if (cl.require(QStringLiteral("ice-server"), QStringLiteral("--ice-server is required"))) {
        const HostAndPort iceServer = cl.hostAndPort(QStringLiteral("ice-server"),
                                                     DomainHandler::ICE_SERVER_DEFAULT_PORT,
                                                     QStringLiteral("bad --ice-server '%1' (want HOST[:PORT])"));
        o.client.iceServerHost = iceServer.host;
        o.client.iceServerPort = iceServer.port;
        o.stunServer = iceServer;
    }
    if (cl.require(QStringLiteral("domain-id"), QStringLiteral("--domain-id is required"))) {
        o.client.domainID = cl.uuid(QStringLiteral("domain-id"), QStringLiteral("bad --domain-id '%1' (want a UUID)"));
    }
    if (cl.isSet(QStringLiteral("stun-server"))) {
        o.stunServer = cl.hostAndPort(QStringLiteral("stun-server"), LimitedNodeList::STUN_SERVER_DEFAULT_PORT,
                                      QStringLiteral("bad --stun-server '%1' (want HOST[:PORT])"));
    }
    o.client.timeoutMs = cl.decimalSeconds(QStringLiteral("timeout"), 0.1, MaxSeconds,
                                           QStringLiteral("bad --timeout '%1' (want seconds > 0)"));
    o.client.keepaliveMs = cl.decimalSeconds(QStringLiteral("keepalive"), 0, MaxSeconds,
                                             QStringLiteral("bad --keepalive '%1' (want seconds >= 0)"));
    if (!PunchTtlSchedule::parse(cl.value(QStringLiteral("punch-ttl")), &o.punchTtl)) {
        cl.reject(
            QStringLiteral("punch-ttl"),
            QStringLiteral("bad --punch-ttl '%1' (want e.g. 2,3 or 0)").arg(cl.value(QStringLiteral("punch-ttl"))));
    }
    o.port = quint16(cl.number(QStringLiteral("port"), 0, 65535, QStringLiteral("bad --port '%1'")));
    RelayOptions::read(&cl, &o.relay);
    return !cl.hasError();
}
