// interface-stub: find a domain through an ice-server, print its socket and the time it took.
// Reads its options into InterfaceStubOptions and wires LimitedNodeList, NodeList and StubClient.
#include "InterfaceStubOptions.h"
#include "StubClient.h"

#include <CommandLine.h>
#include <LimitedNodeList.h>
#include <NodeList.h>
#include <RelayOptions.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("interface-stub"));

    CommandLine commandLine;
    InterfaceStubOptions::declare(&commandLine);
    InterfaceStubOptions options;
    if (commandLine.parse(QCoreApplication::arguments()) != CommandLine::Outcome::Run
        || !InterfaceStubOptions::read(&commandLine, &options)) {
        return commandLine.finish();
    }
    QLoggingCategory::setFilterRules(options.loggingRules());

    LimitedNodeList limitedNodeList(options.port, &app);
    if (!limitedNodeList.isBound()) {
        return CommandLine::printError(limitedNodeList.errorString() + QStringLiteral("\n(see interface-stub --help)"),
                                       IceExitCode::UsageError);
    }
    QString relayError;
    if (!RelayOptions::apply(options.relay, &limitedNodeList, &relayError)) {
        return CommandLine::printError(relayError + QStringLiteral("\n(see interface-stub --help)"),
                                       IceExitCode::UsageError);
    }
    if (TurnClient *turn = limitedNodeList.getTurnClient()) {
        turn->setTiming(RelayFallback::clientTiming());
        turn->setSoftware(QByteArrayLiteral("icebreaker interface-stub"));
    }
    limitedNodeList.setStunServer(options.stunServer.host, options.stunServer.port);
    limitedNodeList.startSTUNPublicSocketUpdate();

    NodeList nodeList(&limitedNodeList);
    nodeList.setPunchTtlSchedule(options.punchTtl);
    nodeList.setUseFreshPortOnRetry(options.port == 0);
    nodeList.setRelayMode(options.relay.mode);
    // --timeout is the bound: the node list's own limits only stop it from querying forever.
    const int timeoutSeconds = options.client.timeoutMs / 1000 + 1;
    nodeList.setMaxUnansweredQueries(timeoutSeconds + 1);
    nodeList.setMaxPunchAttempts(timeoutSeconds);

    StubClient client(&nodeList, options.client);
    QObject::connect(&client, &StubClient::finished, &app, [](int code) { QCoreApplication::exit(code); });
    client.start();
    const int exitCode = app.exec();
    limitedNodeList.releaseTurn(); // LIFETIME 0: the relay is freed now, not when it expires
    return exitCode;
}
