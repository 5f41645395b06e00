// domain-server: registers a domain with one or more ice-servers and punches through to the clients
// they introduce. Parses the command line and wires the roles; nothing else.
#include "DomainServer.h"
#include "DomainServerLogging.h"

#include <LimitedNodeList.h>
#include <NetworkLogging.h>
#include <QUdpSocketTransport.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>
#include <QtCore/QLoggingCategory>

#include <cstdio>

namespace {
constexpr quint16 DefaultDomainPort = 40102;   // DomainHandler.h DEFAULT_DOMAIN_SERVER_PORT

int usageError(const QString &message) {
    std::fprintf(stderr, "domain-server: %s\n", qPrintable(message));
    return 1;
}

bool parseCount(const QCommandLineParser &parser, const QString &name, int min, int *out) {
    bool ok = false;
    const int value = parser.value(name).toInt(&ok);
    if (!ok || value < min) {
        return false;
    }
    *out = value;
    return true;
}
}

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("domain-server"));
    installDaemonMessagePattern();
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1"));

    const DomainGatekeeper::Options defaults;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Registers a domain with ice-servers (signed heartbeats, failover, key regeneration) and "
        "ping-punches through NATs to the clients they introduce."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        { QStringLiteral("domain-id"), QStringLiteral("The domain's ID (a UUID)."), QStringLiteral("UUID") },
        { QStringLiteral("keypair"), QStringLiteral("The domain's private key file; created (mode 0600) when missing, "
                                                    "with its public key written beside it as <domain-id>.pub."),
          QStringLiteral("FILE") },
        { QStringLiteral("ice-server"), QStringLiteral("An ice-server, HOST[:PORT] (port 7337 by default). Repeat the "
                                                       "option for failover servers, tried in order."),
          QStringLiteral("HOST[:PORT]") },
        { QStringLiteral("stun-server"), QStringLiteral("STUN server, HOST[:PORT] (port 19302 by default). Default: the "
                                                        "current ice-server, which answers STUN on its own port."),
          QStringLiteral("HOST[:PORT]") },
        { QStringLiteral("port"), QStringLiteral("UDP port to listen on (0 = any). Default: %1.").arg(DefaultDomainPort),
          QStringLiteral("N"), QString::number(DefaultDomainPort) },
        { QStringLiteral("metaverse-url"), QStringLiteral("Metaverse API base URL: new public keys are uploaded there and "
                                                          "the ice-server address published. Default: none."),
          QStringLiteral("URL") },
        { QStringLiteral("punch-ttl"), QStringLiteral("IP TTL of the pings of the first punch rounds, comma-separated "
                                                      "(0 disables priming): NATs in front of this host + 1, so 3,3 behind carrier-grade NAT. "
                                                      "Default: 2,2."),
          QStringLiteral("LIST"), QStringLiteral("2,2") },
        { QStringLiteral("max-ice-peers"), QStringLiteral("Most clients held at once while punching or connected. "
                                                          "Default: %1.").arg(defaults.maxIcePeers),
          QStringLiteral("N"), QString::number(defaults.maxIcePeers) },
        { QStringLiteral("max-punching-peers-per-address"),
          QStringLiteral("Most clients held at once while punching whose public socket is at one IP address "
                         "(a flood naming one victim takes only these slots). Default: %1.")
              .arg(defaults.maxConnectingPeersPerTarget),
          QStringLiteral("N"), QString::number(defaults.maxConnectingPeersPerTarget) },
        { QStringLiteral("max-pings-per-target"), QStringLiteral("Most ICE pings (replies are not counted) sent to one IP address "
                                                                 "per %1 s. Default: %2.")
                                                      .arg(defaults.pingWindowMs / 1000).arg(defaults.maxPingsPerTarget),
          QStringLiteral("N"), QString::number(defaults.maxPingsPerTarget) },
        { QStringLiteral("ice-peer-timeout"), QStringLiteral("Seconds of silence after which a connected client is "
                                                             "forgotten. Default: %1.").arg(defaults.connectedPeerTimeoutMs / 1000),
          QStringLiteral("S"), QString::number(defaults.connectedPeerTimeoutMs / 1000) },
        { QStringLiteral("verbose"), QStringLiteral("Also log every ICE packet.") },
    });
    parser.process(app);

    if (parser.isSet(QStringLiteral("verbose"))) {
        QLoggingCategory::setFilterRules(
            QStringLiteral("hifi.domain-server.ice.packets.debug=true\nhifi.networking.packets.debug=true"));
    }

    DomainServer::Settings settings;
    const QString idText = parser.value(QStringLiteral("domain-id"));
    if (idText.isEmpty()) {
        return usageError(QStringLiteral("--domain-id UUID is required (tools/ice-keygen makes one)"));
    }
    settings.domainID = QUuid(idText);
    if (settings.domainID.isNull()) {
        return usageError(QStringLiteral("--domain-id \"%1\" is not a UUID").arg(idText));
    }
    settings.keypairPath = parser.value(QStringLiteral("keypair"));
    if (settings.keypairPath.isEmpty()) {
        return usageError(QStringLiteral("--keypair FILE is required"));
    }
    const QFileInfo keypair(settings.keypairPath);
    if (keypair.exists() && !keypair.isReadable()) {
        return usageError(QStringLiteral("cannot read keypair %1").arg(settings.keypairPath));
    }
    const QStringList iceServers = parser.values(QStringLiteral("ice-server"));
    if (iceServers.isEmpty()) {
        return usageError(QStringLiteral("at least one --ice-server HOST[:PORT] is required"));
    }
    for (const QString &text : iceServers) {
        QString why;
        const HostAndPort spec = HostAndPort::parse(text, IceServerSelector::DefaultIcePort, &why);
        if (!spec.isValid()) {
            return usageError(QStringLiteral("--ice-server: ") + why);
        }
        settings.iceServers.append(spec);
    }
    settings.stunServer = parser.value(QStringLiteral("stun-server"));
    settings.metaverseUrl = QUrl(parser.value(QStringLiteral("metaverse-url")));
    if (parser.isSet(QStringLiteral("metaverse-url"))
        && (!settings.metaverseUrl.isValid() || !settings.metaverseUrl.scheme().startsWith(QLatin1String("http")))) {
        return usageError(QStringLiteral("--metaverse-url \"%1\" is not an http(s) URL").arg(parser.value(QStringLiteral("metaverse-url"))));
    }
    bool portOk = false;
    const uint port = parser.value(QStringLiteral("port")).toUInt(&portOk);
    if (!portOk || port > 65535) {
        return usageError(QStringLiteral("--port must be 0-65535"));
    }
    if (!DomainGatekeeper::parsePunchTtls(parser.value(QStringLiteral("punch-ttl")), &settings.gatekeeper.punchTtls)) {
        return usageError(QStringLiteral("--punch-ttl wants TTLs 1-255 separated by commas, or 0"));
    }
    int timeoutSeconds = 0;
    if (!parseCount(parser, QStringLiteral("max-ice-peers"), 1, &settings.gatekeeper.maxIcePeers)
        || !parseCount(parser, QStringLiteral("max-punching-peers-per-address"), 1,
                       &settings.gatekeeper.maxConnectingPeersPerTarget)
        || !parseCount(parser, QStringLiteral("max-pings-per-target"), 1, &settings.gatekeeper.maxPingsPerTarget)
        || !parseCount(parser, QStringLiteral("ice-peer-timeout"), 1, &timeoutSeconds)) {
        return usageError(QStringLiteral("--max-ice-peers, --max-pings-per-target and --ice-peer-timeout want a positive number"));
    }
    settings.gatekeeper.connectedPeerTimeoutMs = timeoutSeconds * 1000;

    // IPv4 always; IPv6 on the same port when the host has it, for IPv6 ice-servers and clients.
    QUdpSocketTransport transport;
    if (!transport.bind(QHostAddress::AnyIPv4, quint16(port))) {
        return usageError(transport.errorString());
    }
    if (!transport.bind(QHostAddress::AnyIPv6, 0)) {
        qCInfo(domain_server).noquote() << "no IPv6:" << transport.errorString();
    }
    LimitedNodeList nodeList(&transport);
    DomainServer server(settings, &nodeList);
    QObject::connect(&server, &DomainServer::errorOccurred, &app, [](DomainServer::Error error) {
        if (error == DomainServer::Error::IceServerUnresolvable) {
            QCoreApplication::exit(1);
        }
    });
    if (!server.start()) {
        return usageError(server.errorString());
    }
    return app.exec();
}
