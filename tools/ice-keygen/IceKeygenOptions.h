// Everything ice-keygen's command line decides, in one value. declare() lists the options (and with
// them --help); read() checks what was given with the messages users know. Tests drive both.
#pragma once

#include <QtCore/QString>
#include <QtCore/QUuid>

class CommandLine;

struct IceKeygenOptions {
    QString keypairPath; // the private key file to create (mode 0600)
    QString keysDir;     // the ice-server's key directory, for <domain-id>.pem
    QUuid domainID;      // a fresh random one unless --domain-id is given
    bool force = false;  // replace an existing keypair file

    static void declare(CommandLine *commandLine);
    // False when a value is bad or a required one missing; commandLine->errorString() says which.
    static bool read(CommandLine *commandLine, IceKeygenOptions *options);
};
