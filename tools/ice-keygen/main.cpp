// ice-keygen: makes a domain keypair (mode 0600) and writes its public key as <domain-uuid>.pem
// (SubjectPublicKeyInfo PEM) into an ice-server's key directory, then prints the domain ID.
// Parses the command line and calls the crypto layer; nothing else.
#include <RsaPrivateKey.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>
#include <QtCore/QUuid>

#include <cstdio>

namespace {
int fail(const QString &message) {
    std::fprintf(stderr, "ice-keygen: %s\n", qPrintable(message));
    return 1;
}
}

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("ice-keygen"));
    QCoreApplication::setApplicationVersion(QStringLiteral("0.1"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Makes an RSA-2048 domain keypair and writes its public key into an ice-server's key directory "
        "as <domain-id>.pem. Prints the domain ID on standard output."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        { QStringLiteral("keypair"), QStringLiteral("Private key file to create (mode 0600)."), QStringLiteral("FILE") },
        { QStringLiteral("keys-dir"), QStringLiteral("The ice-server's key directory (created if missing)."), QStringLiteral("DIR") },
        { QStringLiteral("domain-id"), QStringLiteral("Domain ID to use. Default: a fresh random UUID."), QStringLiteral("UUID") },
        { QStringLiteral("force"), QStringLiteral("Overwrite an existing keypair file.") },
    });
    parser.process(app);

    const QString keypairPath = parser.value(QStringLiteral("keypair"));
    const QString keysDir = parser.value(QStringLiteral("keys-dir"));
    if (keypairPath.isEmpty() || keysDir.isEmpty()) {
        return fail(QStringLiteral("--keypair FILE and --keys-dir DIR are required (see --help)"));
    }
    QUuid domainID = QUuid::createUuid();
    if (parser.isSet(QStringLiteral("domain-id"))) {
        domainID = QUuid(parser.value(QStringLiteral("domain-id")));
        if (domainID.isNull()) {
            return fail(QStringLiteral("--domain-id \"%1\" is not a UUID").arg(parser.value(QStringLiteral("domain-id"))));
        }
    }
    if (QFileInfo::exists(keypairPath) && !parser.isSet(QStringLiteral("force"))) {
        return fail(QStringLiteral("%1 already exists; pass --force to replace it").arg(keypairPath));
    }
    if (!QDir().mkpath(keysDir)) {
        return fail(QStringLiteral("cannot create key directory %1").arg(keysDir));
    }

    QString why;
    const RsaPrivateKey key = RsaPrivateKey::generate(2048, &why);
    if (key.isNull()) {
        return fail(QStringLiteral("cannot generate a keypair: %1").arg(why));
    }
    if (!key.saveToFile(keypairPath, &why)) {
        return fail(why);
    }
    const QString id = domainID.toString(QUuid::WithoutBraces);
    const QString publicPath = QDir(keysDir).filePath(id + QStringLiteral(".pem"));
    QSaveFile publicFile(publicPath);
    if (!publicFile.open(QIODevice::WriteOnly) || publicFile.write(key.publicKey().toPem()) < 0 || !publicFile.commit()) {
        return fail(QStringLiteral("cannot write %1: %2").arg(publicPath, publicFile.errorString()));
    }
    std::fprintf(stderr, "ice-keygen: keypair in %s, public key in %s\n", qPrintable(keypairPath), qPrintable(publicPath));
    std::printf("%s\n", qPrintable(id));
    return 0;
}
