#include "DomainServerOptions.h"

#include <CommandLine.h>
#include <RelayOptions.h>

#include <QtCore/QFileInfo>

#include <climits>

namespace {
QCommandLineOption option(const char *name, const QString &description, const QString &valueName = QString(),
                          const QString &defaultValue = QString()) {
    return QCommandLineOption(QLatin1String(name), description, valueName, defaultValue);
}
} // namespace

void DomainServerOptions::declare(CommandLine *commandLine, const QString &defaultConfigPath) {
    const DomainGatekeeper::Options defaults;
    CommandLine &cl = *commandLine;
    cl.setDescription(
        QStringLiteral("Registers a domain with ice-servers (signed heartbeats, failover, key regeneration) and "
                       "ping-punches through NATs to the clients they introduce."));
    cl.setUsageError(1, QString());
    cl.addVersionOption({ QStringLiteral("v"), QStringLiteral("version") });
    cl.addConfigFileOption(defaultConfigPath);
    cl.addOption(option("domain-id", QStringLiteral("The domain's ID (a UUID)."), QStringLiteral("UUID")));
    cl.addOption(option("keypair",
                        QStringLiteral("The domain's private key file; created (mode 0600) when missing, "
                                       "with its public key written beside it as <domain-id>.pub."),
                        QStringLiteral("FILE")));
    cl.addOption(option("ice-server",
                        QStringLiteral("An ice-server, HOST[:PORT] (port 7337 by default). Repeat the "
                                       "option for failover servers, tried in order."),
                        QStringLiteral("HOST[:PORT]")),
                 CommandLine::Occurs::Repeatable);
    cl.addOption(option("stun-server",
                        QStringLiteral("STUN server, HOST[:PORT] (port 19302 by default). Default: the "
                                       "current ice-server, which answers STUN on its own port."),
                        QStringLiteral("HOST[:PORT]")));
    cl.addOption(option("port", QStringLiteral("UDP port to listen on (0 = any). Default: %1.").arg(DefaultPort),
                        QStringLiteral("N"), QString::number(DefaultPort)));
    cl.addOption(option("metaverse-url",
                        QStringLiteral("Metaverse API base URL: new public keys are uploaded there and "
                                       "the ice-server address published. Default: none."),
                        QStringLiteral("URL")));
    cl.addOption(option("punch-ttl",
                        QStringLiteral("IP TTL of the pings of the first punch rounds, comma-separated "
                                       "(0 disables priming): NATs in front of this host + 1, so 3,3 behind "
                                       "carrier-grade NAT. Default: 2,2."),
                        QStringLiteral("LIST"), QStringLiteral("2,2")));
    cl.addOption(option("max-ice-peers",
                        QStringLiteral("Most clients held at once while punching or connected. "
                                       "Default: %1.")
                            .arg(defaults.maxIcePeers),
                        QStringLiteral("N"), QString::number(defaults.maxIcePeers)));
    cl.addOption(
        option("max-punching-peers-per-address",
               QStringLiteral("Most clients held at once while punching whose public socket is at one IP address "
                              "(a flood naming one victim takes only these slots). Default: %1.")
                   .arg(defaults.maxConnectingPeersPerTarget),
               QStringLiteral("N"), QString::number(defaults.maxConnectingPeersPerTarget)));
    cl.addOption(option("max-pings-per-target",
                        QStringLiteral("Most ICE pings (replies are not counted) sent to one IP "
                                       "address per %1 s. Default: %2.")
                            .arg(defaults.pingWindowMs / 1000)
                            .arg(defaults.maxPingsPerTarget),
                        QStringLiteral("N"), QString::number(defaults.maxPingsPerTarget)));
    cl.addOption(option("trusted-relay",
                        QStringLiteral("IP address of a TURN server clients relay through: each of its relayed "
                                       "addresses (IP and port) gets the per-address bounds, all of them together "
                                       "%1 punching clients and %2 pings per %3 s. Repeat for several; the domain's "
                                       "own --turn-server is trusted without it.")
                            .arg(defaults.maxConnectingPeersPerRelay)
                            .arg(defaults.maxPingsPerRelay)
                            .arg(defaults.pingWindowMs / 1000),
                        QStringLiteral("ADDR")),
                 CommandLine::Occurs::Repeatable);
    cl.addOption(option("ice-peer-timeout",
                        QStringLiteral("Seconds of silence after which a connected client is "
                                       "forgotten. Default: %1.")
                            .arg(defaults.connectedPeerTimeoutMs / 1000),
                        QStringLiteral("S"), QString::number(defaults.connectedPeerTimeoutMs / 1000)));
    RelayOptions::declare(commandLine, QStringLiteral("when our NAT maps endpoint-dependently, i.e. is symmetric"));
    cl.addOption(option("verbose", QStringLiteral("Also log every ICE packet.")));
}

bool DomainServerOptions::read(CommandLine *commandLine, DomainServerOptions *options) {
    CommandLine &cl = *commandLine;
    DomainServer::Settings &s = options->server;
    // In the order operators met the checks so far: the first problem is the one reported.
    if (cl.value(QStringLiteral("domain-id")).isEmpty()) {
        cl.fail(QStringLiteral("--domain-id UUID is required (tools/ice-keygen makes one)"));
    } else {
        s.domainID = cl.uuid(QStringLiteral("domain-id"), QStringLiteral("--domain-id \"%1\" is not a UUID"));
    }
    s.keypairPath = cl.value(QStringLiteral("keypair"));
    const QFileInfo keypair(s.keypairPath);
    if (s.keypairPath.isEmpty()) {
        cl.fail(QStringLiteral("--keypair FILE is required"));
    } else if (keypair.exists() && !keypair.isReadable()) {
        cl.reject(QStringLiteral("keypair"), QStringLiteral("cannot read keypair %1").arg(s.keypairPath));
    }
    if (cl.require(QStringLiteral("ice-server"), QStringLiteral("at least one --ice-server HOST[:PORT] is required"))) {
        s.iceServers = cl.hostAndPorts(QStringLiteral("ice-server"), IceServerSelector::DefaultIcePort,
                                       QStringLiteral("--ice-server: %2"));
    }
    s.stunServer = cl.value(QStringLiteral("stun-server"));
    if (cl.isSet(QStringLiteral("metaverse-url"))) {
        s.metaverseUrl = cl.httpUrl(QStringLiteral("metaverse-url"),
                                    QStringLiteral("--metaverse-url \"%1\" is not an http(s) URL"));
    }
    options->port = quint16(cl.number(QStringLiteral("port"), 0, 65535, QStringLiteral("--port must be 0-65535")));
    if (!PunchTtlSchedule::parse(cl.value(QStringLiteral("punch-ttl")), &s.gatekeeper.punchTtls)) {
        cl.reject(QStringLiteral("punch-ttl"),
                  QStringLiteral("--punch-ttl wants TTLs 1-255 separated by commas, or 0"));
    }
    const QString countMessage = QStringLiteral(
        "--max-ice-peers, --max-pings-per-target and --ice-peer-timeout want a positive number");
    s.gatekeeper.maxIcePeers = int(cl.number(QStringLiteral("max-ice-peers"), 1, INT_MAX, countMessage));
    s.gatekeeper.maxConnectingPeersPerTarget = int(
        cl.number(QStringLiteral("max-punching-peers-per-address"), 1, INT_MAX, countMessage));
    s.gatekeeper.maxPingsPerTarget = int(cl.number(QStringLiteral("max-pings-per-target"), 1, INT_MAX, countMessage));
    // Bounded so that the milliseconds fit an int.
    s.gatekeeper.connectedPeerTimeoutMs = cl.seconds(QStringLiteral("ice-peer-timeout"), 1, INT_MAX / 1000,
                                                     countMessage);
    s.gatekeeper.trustedRelays.clear();
    const QStringList relays = cl.values(QStringLiteral("trusted-relay"));
    for (int i = 0; i < relays.size(); ++i) {
        QHostAddress address;
        if (!address.setAddress(relays.at(i))) {
            cl.reject(QStringLiteral("trusted-relay"),
                      QStringLiteral("--trusted-relay wants an IP address, not '%1'").arg(relays.at(i)), i);
        }
        s.gatekeeper.trustedRelays.append(address);
    }
    RelayOptions::read(commandLine, &options->relay);
    s.relayMode = options->relay.mode;
    options->verbose = cl.flag(QStringLiteral("verbose"));
    return !cl.hasError();
}
