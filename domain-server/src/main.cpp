// domain-server: registers a domain with one or more ice-servers and punches through to the clients
// they introduce. Reads its options (command line, then config file) and wires the roles; nothing else.
#include "DomainServer.h"
#include "DomainServerLogging.h"
#include "DomainServerOptions.h"

#include <CommandLine.h>
#include <IceExitCode.h>
#include <LimitedNodeList.h>
#include <NetworkLogging.h>
#include <QUdpSocketTransport.h>
#include <RelayOptions.h>
#include <SignalWatcher.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("domain-server"));
    installDaemonMessagePattern();
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1"));

    CommandLine commandLine;
    DomainServerOptions::declare(&commandLine, QStringLiteral(ICEBREAKER_DOMAIN_SERVER_CONFIG));
    DomainServerOptions options;
    if (commandLine.parse(QCoreApplication::arguments()) != CommandLine::Outcome::Run
        || !DomainServerOptions::read(&commandLine, &options)) {
        return commandLine.finish();
    }
    if (options.verbose) {
        QLoggingCategory::setFilterRules(
            QStringLiteral("hifi.domain-server.ice.packets.debug=true\nhifi.networking.packets.debug=true"));
    }

    // IPv4 always; IPv6 on the same port when the host has it, for IPv6 ice-servers and clients.
    QUdpSocketTransport transport;
    if (!transport.bind(QHostAddress::AnyIPv4, options.port)) {
        return CommandLine::printError(transport.errorString());
    }
    if (!transport.bind(QHostAddress::AnyIPv6, 0)) {
        qCInfo(domain_server).noquote() << "no IPv6:" << transport.errorString();
    }
    LimitedNodeList nodeList(&transport);
    QString relayError;
    if (!RelayOptions::apply(options.relay, &nodeList, &relayError)) {
        return CommandLine::printError(relayError);
    }
    DomainServer server(options.server, &nodeList);
    QObject::connect(&server, &DomainServer::errorOccurred, &app, [](DomainServer::Error error) {
        if (error == DomainServer::Error::IceServerUnresolvable) {
            QCoreApplication::exit(1);
        }
    });
    QObject::connect(server.relay(), &DomainRelay::errorOccurred, &app,
                     [&options](TurnClient::Error error, const QString &text) {
                         // Wrong credentials with --relay always: the operator asked for a relay
                         // that will never open. With fallback the domain goes on directly.
                         if (error == TurnClient::Unauthorized && options.relay.mode == RelayConfig::Mode::Always) {
                             qCCritical(domain_server).noquote() << "TURN server rejected our credentials:" << text;
                             QCoreApplication::exit(IceExitCode::RelayAuthFailed);
                         }
                     });
    if (!server.start()) {
        return CommandLine::printError(server.errorString());
    }
    // SIGTERM / SIGINT end the event loop instead of the process, so the TURN allocation is released
    // (Refresh with LIFETIME 0, waited for at most a second) rather than left to expire on the server.
    SignalWatcher signalWatcher;
    signalWatcher.install();
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &app, [](int signalNumber) {
        qCInfo(domain_server) << "signal" << signalNumber << "received, stopping";
        QCoreApplication::quit();
    });
    const int code = app.exec();
    nodeList.releaseTurn();
    return code;
}
