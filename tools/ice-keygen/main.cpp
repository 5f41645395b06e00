// ice-keygen: makes a domain keypair (mode 0600) and writes its public key as <domain-uuid>.pem
// (SubjectPublicKeyInfo PEM) into an ice-server's key directory, then prints the domain ID.
// Reads its options into IceKeygenOptions and calls the crypto layer; nothing else.
#include "IceKeygenOptions.h"

#include <CommandLine.h>
#include <RsaPrivateKey.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>

#include <cstdio>

namespace {
// Writes the keypair and the public key; the process's exit code.
int writeKeys(const IceKeygenOptions &options) {
    if (QFileInfo::exists(options.keypairPath) && !options.force) {
        return CommandLine::printError(
            QStringLiteral("%1 already exists; pass --force to replace it").arg(options.keypairPath));
    }
    if (!QDir().mkpath(options.keysDir)) {
        return CommandLine::printError(QStringLiteral("cannot create key directory %1").arg(options.keysDir));
    }
    QString why;
    const RsaPrivateKey key = RsaPrivateKey::generate(2048, &why);
    if (key.isNull()) {
        return CommandLine::printError(QStringLiteral("cannot generate a keypair: %1").arg(why));
    }
    if (!key.saveToFile(options.keypairPath, &why)) {
        return CommandLine::printError(why);
    }
    const QString id = options.domainID.toString(QUuid::WithoutBraces);
    const QString publicPath = QDir(options.keysDir).filePath(id + QStringLiteral(".pem"));
    QSaveFile publicFile(publicPath);
    if (!publicFile.open(QIODevice::WriteOnly) || publicFile.write(key.publicKey().toPem()) < 0
        || !publicFile.commit()) {
        return CommandLine::printError(QStringLiteral("cannot write %1: %2").arg(publicPath, publicFile.errorString()));
    }
    std::fprintf(stderr, "ice-keygen: keypair in %s, public key in %s\n", qPrintable(options.keypairPath),
                 qPrintable(publicPath));
    std::printf("%s\n", qPrintable(id));
    return 0;
}
} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-keygen"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1"));

    CommandLine commandLine;
    IceKeygenOptions::declare(&commandLine);
    IceKeygenOptions options;
    if (commandLine.parse(QCoreApplication::arguments()) != CommandLine::Outcome::Run
        || !IceKeygenOptions::read(&commandLine, &options)) {
        return commandLine.finish();
    }
    return writeKeys(options);
}
