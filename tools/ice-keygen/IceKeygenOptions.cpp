#include "IceKeygenOptions.h"

#include <CommandLine.h>

void IceKeygenOptions::declare(CommandLine *commandLine) {
    CommandLine &cl = *commandLine;
    cl.setDescription(
        QStringLiteral("Makes an RSA-2048 domain keypair and writes its public key into an ice-server's key directory "
                       "as <domain-id>.pem. Prints the domain ID on standard output."));
    cl.setUsageError(1, QString());
    cl.addVersionOption({ QStringLiteral("v"), QStringLiteral("version") });
    cl.addOption({ QStringLiteral("keypair"), QStringLiteral("Private key file to create (mode 0600)."),
                   QStringLiteral("FILE") });
    cl.addOption({ QStringLiteral("keys-dir"), QStringLiteral("The ice-server's key directory (created if missing)."),
                   QStringLiteral("DIR") });
    cl.addOption({ QStringLiteral("domain-id"), QStringLiteral("Domain ID to use. Default: a fresh random UUID."),
                   QStringLiteral("UUID") });
    cl.addOption({ QStringLiteral("force"), QStringLiteral("Overwrite an existing keypair file.") });
}

bool IceKeygenOptions::read(CommandLine *commandLine, IceKeygenOptions *options) {
    CommandLine &cl = *commandLine;
    options->keypairPath = cl.value(QStringLiteral("keypair"));
    options->keysDir = cl.value(QStringLiteral("keys-dir"));
    if (options->keypairPath.isEmpty() || options->keysDir.isEmpty()) {
        cl.fail(QStringLiteral("--keypair FILE and --keys-dir DIR are required (see --help)"));
    }
    options->domainID = cl.isSet(QStringLiteral("domain-id"))
                            ? cl.uuid(QStringLiteral("domain-id"), QStringLiteral("--domain-id \"%1\" is not a UUID"))
                            : QUuid::createUuid();
    options->force = cl.flag(QStringLiteral("force"));
    return !cl.hasError();
}
