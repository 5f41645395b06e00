#include "RsaPrivateKey.h"

#include "KeyEncoding_p.h"
#include "OpenSslKeys_p.h"
#include "RsaKeyData_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <QSaveFile>
#endif

namespace {

constexpr int kMinBits = 1024;
constexpr int kMaxBits = 16384;
constexpr qint64 kMaxFileSize = 64 * 1024; // a PEM RSA-16384 key is about 12 KiB

RsaPrivateKey fail(QString *errorString, const QString &why) {
    if (errorString)
        *errorString = why;
    return {};
}

bool failed(QString *errorString, const QString &why) {
    if (errorString)
        *errorString = why;
    return false;
}

#ifdef Q_OS_UNIX
QString systemError(const QString &what, const QString &path) {
    return QStringLiteral("%1 %2: %3").arg(what, path, QString::fromLocal8Bit(std::strerror(errno)));
}

// mkstemp creates the file with mode 0600 whatever the umask, so the key is never readable by
// others, not even for a moment; the rename makes the new key appear whole or not at all.
bool writeOwnerOnly(const QString &path, const QByteArray &content, QString *errorString) {
    const QByteArray target = QFile::encodeName(QDir::cleanPath(QFileInfo(path).absoluteFilePath()));
    QByteArray pattern = target + ".XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0)
        return failed(errorString, systemError(QStringLiteral("cannot create a temporary file beside"), path));
    const QString tempPath = QFile::decodeName(pattern);
    const auto abandon = [&](const QString &what) {
        const QString message = systemError(what, tempPath);
        ::close(fd);
        ::unlink(pattern.constData());
        return failed(errorString, message);
    };
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0)
        return abandon(QStringLiteral("cannot set permissions of"));
    qint64 written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.constData() + written, size_t(content.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return abandon(QStringLiteral("cannot write"));
        written += n;
    }
    if (::fsync(fd) != 0)
        return abandon(QStringLiteral("cannot flush"));
    if (::close(fd) != 0) {
        const QString message = systemError(QStringLiteral("cannot close"), tempPath);
        ::unlink(pattern.constData());
        return failed(errorString, message);
    }
    if (::rename(pattern.constData(), target.constData()) != 0) {
        const QString message = systemError(QStringLiteral("cannot rename the temporary file to"), path);
        ::unlink(pattern.constData());
        return failed(errorString, message);
    }
    return true;
}
#else
bool writeOwnerOnly(const QString &path, const QByteArray &content, QString *errorString) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(content) != content.size() || !file.commit()) {
        return failed(errorString, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    }
    return true;
}
#endif

// Canonical encodings of a parsed or generated key, or null with a reason.
std::shared_ptr<RsaPrivateKeyData> makeData(EVP_PKEY *key, QString *errorString) {
    auto shared = std::make_shared<RsaPrivateKeyData>();
    shared->pkcs1 = OpenSslKeys::pkcs1PrivateDer(key);
    shared->pkcs8 = OpenSslKeys::pkcs8PrivateDer(key);
    shared->bits = EVP_PKEY_get_bits(key);
    QString error;
    shared->publicKey = RsaPublicKey::fromData(OpenSslKeys::subjectPublicKeyInfoDer(key), &error);
    if (shared->pkcs1.isEmpty() || shared->pkcs8.isEmpty() || shared->publicKey.isNull()) {
        failed(errorString, QStringLiteral("could not encode the private key: %1").arg(error));
        return {};
    }
    return shared;
}

} // namespace

RsaPrivateKey::RsaPrivateKey(std::shared_ptr<const RsaPrivateKeyData> data) : d(std::move(data)) {}

RsaPrivateKey RsaPrivateKey::generate(int bits, QString *errorString) {
    if (bits < kMinBits || bits > kMaxBits)
        return fail(errorString,
                    QStringLiteral("RSA key size %1 is outside [%2, %3]").arg(bits).arg(kMinBits).arg(kMaxBits));
    QString error;
    OpenSslKeys::PkeyPtr key = OpenSslKeys::generate(bits, &error);
    if (!key)
        return fail(errorString, error);
    auto shared = makeData(key.get(), errorString);
    return shared ? RsaPrivateKey(std::move(shared)) : RsaPrivateKey();
}

RsaPrivateKey RsaPrivateKey::fromData(const QByteArray &data, QString *errorString) {
    if (data.trimmed().isEmpty())
        return fail(errorString, QStringLiteral("empty private key data"));

    QString error;
    OpenSslKeys::PkeyPtr key;
    if (data.at(0) == 0x30) { // a DER SEQUENCE
        key = OpenSslKeys::parsePrivateDer(data, &error);
    } else if (KeyEncoding::looksLikePem(data)) {
        KeyEncoding::PemBlock block;
        if (!KeyEncoding::decodePem(data, &block, &error))
            return fail(errorString, error);
        if (block.label == "RSA PRIVATE KEY" || block.label == "PRIVATE KEY")
            key = OpenSslKeys::parsePrivateDer(block.der, &error);
        else if (block.label == "ENCRYPTED PRIVATE KEY")
            error = QStringLiteral("encrypted private keys are not supported");
        else
            error = QStringLiteral("PEM block \"%1\" is not a private key").arg(QString::fromLatin1(block.label));
    } else {
        error = QStringLiteral("private key is neither DER nor PEM");
    }
    if (!key)
        return fail(errorString, error);

    auto shared = makeData(key.get(), errorString);
    return shared ? RsaPrivateKey(std::move(shared)) : RsaPrivateKey();
}

RsaPrivateKey RsaPrivateKey::loadFromFile(const QString &path, QString *errorString) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(errorString, QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    const QByteArray content = file.read(kMaxFileSize + 1);
    if (content.size() > kMaxFileSize)
        return fail(errorString, QStringLiteral("%1 is too large to be a private key").arg(path));
    QString error;
    RsaPrivateKey key = fromData(content, &error);
    if (key.isNull())
        return fail(errorString, QStringLiteral("%1: %2").arg(path, error));
    return key;
}

bool RsaPrivateKey::saveToFile(const QString &path, QString *errorString) const {
    if (isNull())
        return failed(errorString, QStringLiteral("cannot save a null private key"));
    return writeOwnerOnly(path, toPem(), errorString);
}

int RsaPrivateKey::bits() const {
    return d ? d->bits : 0;
}

RsaPublicKey RsaPrivateKey::publicKey() const {
    return d ? d->publicKey : RsaPublicKey();
}

QByteArray RsaPrivateKey::toPkcs1Der() const {
    return d ? d->pkcs1 : QByteArray();
}

QByteArray RsaPrivateKey::toPkcs8Der() const {
    return d ? d->pkcs8 : QByteArray();
}

QByteArray RsaPrivateKey::toPem() const {
    return d ? KeyEncoding::encodePem("RSA PRIVATE KEY", d->pkcs1) : QByteArray();
}
