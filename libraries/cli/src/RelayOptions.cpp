#include "RelayOptions.h"

#include "CommandLine.h"

#include <LimitedNodeList.h>
#include <TurnClient.h>

#include <QtNetwork/QHostInfo>

namespace {
const QString TurnServer = QStringLiteral("turn-server");
const QString TurnUser = QStringLiteral("turn-user");
const QString TurnPassword = QStringLiteral("turn-password");
const QString TurnSecret = QStringLiteral("turn-secret");
const QString Relay = QStringLiteral("relay");
} // namespace

void RelayOptions::declare(CommandLine *commandLine, const QString &fallbackHelp) {
    CommandLine &cl = *commandLine;
    cl.addOption(QCommandLineOption(
        TurnServer,
        QStringLiteral("TURN server (RFC 8656, e.g. coturn) to relay through, HOST[:PORT] (port default %1).")
            .arg(RelayConfig::DefaultTurnPort),
        QStringLiteral("HOST[:PORT]")));
    cl.addOption(QCommandLineOption(TurnUser,
                                    QStringLiteral("TURN username (with --turn-secret: the user part of the "
                                                   "REST-API username, may be omitted)."),
                                    QStringLiteral("NAME")));
    cl.addOption(QCommandLineOption(TurnPassword, QStringLiteral("TURN password (long-term credentials)."),
                                    QStringLiteral("PASSWORD")));
    cl.addOption(
        QCommandLineOption(TurnSecret,
                           QStringLiteral("Secret shared with the TURN server (its static auth secret): REST-API "
                                          "credentials are made from it instead of a password."),
                           QStringLiteral("SECRET")));
    cl.addOption(
        QCommandLineOption(Relay,
                           QStringLiteral("When to relay: never, fallback (%1) or always. Default: fallback with "
                                          "--turn-server, never without.")
                               .arg(fallbackHelp),
                           QStringLiteral("never|fallback|always")));
}

bool RelayOptions::read(CommandLine *commandLine, RelayConfig *config) {
    CommandLine &cl = *commandLine;
    RelayConfig &c = *config;
    c = RelayConfig();
    if (cl.isSet(TurnServer)) {
        const HostAndPort server = cl.hostAndPort(TurnServer, RelayConfig::DefaultTurnPort,
                                                  QStringLiteral("bad --turn-server '%1' (want HOST[:PORT])"));
        c.serverHost = server.host;
        c.serverPort = server.port;
        c.mode = RelayConfig::Mode::Fallback;
    }
    if (cl.isSet(Relay) && !RelayConfig::parseMode(cl.value(Relay), &c.mode)) {
        cl.reject(Relay, QStringLiteral("bad --relay '%1' (want never, fallback or always)").arg(cl.value(Relay)));
    }
    c.user = cl.value(TurnUser);
    c.password = cl.value(TurnPassword);
    c.secret = cl.value(TurnSecret).toUtf8();
    if (!cl.isSet(TurnServer)) {
        for (const QString &name : { TurnUser, TurnPassword, TurnSecret }) {
            if (cl.isSet(name)) {
                cl.reject(name, QStringLiteral("--%1 needs --turn-server").arg(name));
            }
        }
        if (c.mode != RelayConfig::Mode::Never) {
            cl.reject(Relay, QStringLiteral("--relay %1 needs --turn-server").arg(RelayConfig::modeName(c.mode)));
        }
    } else if (cl.isSet(TurnPassword) && cl.isSet(TurnSecret)) {
        cl.fail(QStringLiteral("give --turn-password or --turn-secret, not both"));
    } else if (cl.isSet(TurnSecret)) {
        if (c.secret.isEmpty()) {
            cl.reject(TurnSecret, QStringLiteral("--turn-secret is empty"));
        }
    } else if (!cl.isSet(TurnPassword) || c.user.isEmpty()) {
        cl.fail(QStringLiteral("--turn-server needs --turn-user and --turn-password, or --turn-secret"));
    }
    return !cl.hasError();
}

bool RelayOptions::apply(const RelayConfig &config, LimitedNodeList *nodeList, QString *errorString) {
    if (!config.isEnabled()) {
        return true;
    }
    QHostAddress address(config.serverHost);
    if (address.isNull()) {
        const QHostInfo info = QHostInfo::fromName(config.serverHost);
        for (const QHostAddress &candidate : info.addresses()) {
            // Our socket is IPv4, and so is every relayed address this client asks for.
            if (candidate.protocol() == QAbstractSocket::IPv4Protocol) {
                address = candidate;
                break;
            }
        }
    }
    if (address.isNull() || address.protocol() != QAbstractSocket::IPv4Protocol) {
        if (errorString) {
            *errorString = QStringLiteral("cannot resolve TURN server %1 to an IPv4 address").arg(config.serverHost);
        }
        return false;
    }
    TurnClient *turn = nodeList->setTurnServer(SockAddr(address, config.serverPort), config.credentials());
    if (!turn) {
        if (errorString) {
            *errorString = QStringLiteral("no socket to relay from");
        }
        return false;
    }
    return true;
}
