#include "CryptoBackend.h"

#include "OpenSslBackend_p.h"
#include "RsaKeyData_p.h"
#include "RsaPrivateKey.h"
#include "RsaPublicKey.h"
#ifdef ICEBREAKER_HAVE_QCA
#include "QcaBackend_p.h"
#endif

CryptoBackend::~CryptoBackend() = default;

QByteArray CryptoBackend::sign(const RsaPrivateKey &key, const QByteArray &data, QString *errorString) const {
    const auto fail = [&](const QString &why) {
        if (errorString)
            *errorString = QStringLiteral("%1: cannot sign: %2").arg(name(), why);
        return QByteArray();
    };
    if (key.isNull())
        return fail(QStringLiteral("the private key is null"));

    QString error;
    const KeyHandlePtr handle = key.d->handles.get(this, [&] { return preparePrivateKey(key, &error); });
    if (!handle)
        return fail(error);
    const QByteArray signature = signPrepared(*handle, data, &error);
    if (signature.isEmpty())
        return fail(error.isEmpty() ? QStringLiteral("unknown error") : error);
    const int expectedSize = (key.bits() + 7) / 8;
    if (signature.size() != expectedSize) // a backend that misbehaves must not put junk on the wire
        return fail(QStringLiteral("signature has %1 bytes, expected %2").arg(signature.size()).arg(expectedSize));
    return signature;
}

bool CryptoBackend::verify(const RsaPublicKey &key, const QByteArray &data, const QByteArray &signature) const {
    if (key.isNull() || signature.isEmpty())
        return false;
    const KeyHandlePtr handle = key.d->handles.get(this, [&] { return preparePublicKey(key, nullptr); });
    return handle && verifyPrepared(*handle, data, signature);
}

CryptoBackend *CryptoBackend::openSsl() {
    static OpenSslBackend backend;
    return &backend;
}

CryptoBackend *CryptoBackend::qca() {
#ifdef ICEBREAKER_HAVE_QCA
    static QcaBackend backend;
    return &backend;
#else
    return nullptr;
#endif
}

CryptoBackend *CryptoBackend::defaultBackend() {
#ifdef ICEBREAKER_DEFAULT_CRYPTO_QCA
    return qca();
#else
    return openSsl();
#endif
}

QList<CryptoBackend *> CryptoBackend::all() {
    QList<CryptoBackend *> backends { openSsl() };
    if (CryptoBackend *q = qca())
        backends.append(q);
    return backends;
}
