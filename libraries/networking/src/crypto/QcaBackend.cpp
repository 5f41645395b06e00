#include "QcaBackend_p.h"

#include "CryptoKeyHandle_p.h"
#include "RsaPrivateKey.h"
#include "RsaPublicKey.h"

#include <QtCrypto>

#include <mutex>

namespace {

// QCA key objects carry per-operation state (startSign/update/...), so one handle is used by one
// thread at a time. The lock is per key: different keys still verify in parallel.
class QcaPublicKeyHandle final : public CryptoKeyHandle {
public:
    QcaPublicKeyHandle(std::shared_ptr<QCA::Initializer> init, const QCA::PublicKey &k)
        : initializer(std::move(init)), key(k) {}
    const std::shared_ptr<QCA::Initializer> initializer; // declared first: released after the key
    mutable std::mutex mutex;
    mutable QCA::PublicKey key;
};

class QcaPrivateKeyHandle final : public CryptoKeyHandle {
public:
    QcaPrivateKeyHandle(std::shared_ptr<QCA::Initializer> init, const QCA::PrivateKey &k)
        : initializer(std::move(init)), key(k) {}
    const std::shared_ptr<QCA::Initializer> initializer; // declared first: released after the key
    mutable std::mutex mutex;
    mutable QCA::PrivateKey key;
};

bool setError(QString *errorString, const QString &why) {
    if (errorString)
        *errorString = why;
    return false;
}

} // namespace

// QCA's init is reference-counted, so an application with its own QCA::Initializer is unaffected.
QcaBackend::QcaBackend() : m_initializer(std::make_shared<QCA::Initializer>()) {}

bool QcaBackend::checkSupported(QString *errorString) const {
    if (QCA::isSupported("pkey") && QCA::isSupported("rsa") && QCA::isSupported("sha256")
        && QCA::PKey::supportedIOTypes().contains(QCA::PKey::RSA)) {
        return true;
    }
    return setError(errorString, QStringLiteral("QCA has no RSA/SHA-256 provider; install the qca-ossl "
                                                "plugin (Debian: libqca-qt5-2-plugins)"));
}

CryptoBackend::KeyHandlePtr QcaBackend::preparePublicKey(const RsaPublicKey &key, QString *errorString) const {
    if (!checkSupported(errorString))
        return nullptr;
    QCA::ConvertResult result = QCA::ErrorDecode;
    const QCA::PublicKey qcaKey = QCA::PublicKey::fromDER(key.toSubjectPublicKeyInfoDer(), &result);
    if (result != QCA::ConvertGood || qcaKey.isNull() || !qcaKey.isRSA() || !qcaKey.canVerify()) {
        setError(errorString, QStringLiteral("QCA could not load the RSA public key"));
        return nullptr;
    }
    return std::make_shared<const QcaPublicKeyHandle>(m_initializer, qcaKey);
}

CryptoBackend::KeyHandlePtr QcaBackend::preparePrivateKey(const RsaPrivateKey &key, QString *errorString) const {
    if (!checkSupported(errorString))
        return nullptr;
    QCA::ConvertResult result = QCA::ErrorDecode;
    // QCA reads private keys as PKCS#8.
    const QCA::PrivateKey qcaKey = QCA::PrivateKey::fromDER(QCA::SecureArray(key.toPkcs8Der()), QCA::SecureArray(),
                                                            &result);
    if (result != QCA::ConvertGood || qcaKey.isNull() || !qcaKey.isRSA() || !qcaKey.canSign()) {
        setError(errorString, QStringLiteral("QCA could not load the RSA private key"));
        return nullptr;
    }
    return std::make_shared<const QcaPrivateKeyHandle>(m_initializer, qcaKey);
}

QByteArray QcaBackend::signPrepared(const CryptoKeyHandle &key, const QByteArray &data, QString *errorString) const {
    const auto &handle = static_cast<const QcaPrivateKeyHandle &>(key);
    std::lock_guard<std::mutex> lock(handle.mutex);
    const QByteArray signature = handle.key.signMessage(QCA::MemoryRegion(data), QCA::EMSA3_SHA256);
    if (signature.isEmpty())
        setError(errorString, QStringLiteral("QCA signMessage failed"));
    return signature;
}

bool QcaBackend::verifyPrepared(const CryptoKeyHandle &key, const QByteArray &data, const QByteArray &signature) const {
    const auto &handle = static_cast<const QcaPublicKeyHandle &>(key);
    std::lock_guard<std::mutex> lock(handle.mutex);
    return handle.key.verifyMessage(QCA::MemoryRegion(data), signature, QCA::EMSA3_SHA256);
}
