// interface-stub: find a domain through an ice-server, print its socket and the time it took.
// Reads its options into InterfaceStubOptions and wires LimitedNodeList, NodeList and StubClient.
#include "InterfaceStubOptions.h"
#include "StubClient.h"

#include <CommandLine.h>
#include <LimitedNodeList.h>
#include <NodeList.h>

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
    limitedNodeList.setStunServer(options.stunServer.host, options.stunServer.port);
    limitedNodeList.startSTUNPublicSocketUpdate();

    NodeList nodeList(&limitedNodeList);
    nodeList.setPunchTtlSchedule(options.punchTtl);
    nodeList.setUseFreshPortOnRetry(options.port == 0);
    // --timeout is the bound: the node list's own limits only stop it from querying forever.
    const int timeoutSeconds = options.client.timeoutMs / 1000 + 1;
    nodeList.setMaxUnansweredQueries(timeoutSeconds + 1);
    nodeList.setMaxPunchAttempts(timeoutSeconds);

    StubClient client(&nodeList, options.client);
    QObject::connect(&client, &StubClient::finished, &app, [](int code) { QCoreApplication::exit(code); });
    client.start();
    return app.exec();
}
