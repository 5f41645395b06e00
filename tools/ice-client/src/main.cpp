// ice-client: the operator's ICE diagnostic. Reads its options into IceClientOptions and runs
// IceClientApp.
#include "IceClientApp.h"
#include "IceClientOptions.h"

#include <CommandLine.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-client"));

    CommandLine commandLine;
    IceClientOptions::declare(&commandLine);
    IceClientOptions options;
    if (commandLine.parse(QCoreApplication::arguments()) != CommandLine::Outcome::Run
        || !IceClientOptions::read(&commandLine, &options)) {
        return commandLine.finish();
    }
    QLoggingCategory::setFilterRules(options.loggingRules());

    IceClientApp client(options.client);
    QObject::connect(&client, &IceClientApp::finished, &app, [](int code) { QCoreApplication::exit(code); });
    client.start();
    const int exitCode = app.exec();
    client.releaseRelay();
    return exitCode;
}
